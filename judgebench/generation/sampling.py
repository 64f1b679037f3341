"""How a candidate's answers are sampled: declared once, for the API and the flags of evaluate and suite."""

from __future__ import annotations

from dataclasses import dataclass

from judgebench.settings import MAX_SEED, TEMPERATURE_RANGE, TOP_P_RANGE, Checked, option


@dataclass(frozen=True)
class Sampling(Checked):
    """How the candidate's answers are sampled."""

    # required: engines' defaults (vLLM: 16) silently truncate
    max_tokens: int = option(minimum=1, kind=int, help="generation limit per answer")
    temperature: float = option(0.0, **TEMPERATURE_RANGE, help="sampling temperature (default 0: greedy)")
    top_p: float = option(1.0, **TOP_P_RANGE, help="nucleus sampling mass, in (0, 1] (1: all of it)")
    seed: int | None = option(0, minimum=0, maximum=MAX_SEED, help="sampling seed")
    system_prompt: str | None = option(None, metavar="TEXT", help="a system message before each instruction")
    n: int = option(
        1,
        minimum=1,
        help="samples per instruction (seeds seed..seed+n-1); the first is judged, all are kept in the outputs",
    )


DEFAULT_SAMPLING = Sampling(max_tokens=512)  # the commands' default: 512 tokens, greedy, seed 0
