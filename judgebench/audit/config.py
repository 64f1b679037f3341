"""The settings of an audit, declared once: `judgebench audit`'s flags are made from them.

Kept apart from the run so that building the command line imports no judge or statistics.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from judgebench.annotation.pipeline import CallLimits, KeyAccess, progress_option, store_option
from judgebench.errors import ConfigError
from judgebench.settings import MAX_SEED, Checked, group, option

DEFAULT_OUT = "runs/audit"
ALL_CHECKS = (
    "constant",
    "injection",
    "position",
    "verbosity",
    "self_preference",
    "sanity_identical",
    "sanity_right_wrong",
    "human_agreement",
)
# Run only when named (`--checks properties`): it judges every pair once more per transform.
OPT_IN_CHECKS = ("properties",)


@dataclass(frozen=True, kw_only=True)
class AuditConfig(Checked):
    """Everything one audit depends on; `judgebench audit`'s flags are made from these declarations.
    limits: for the judge's and the second judge's backends alike."""

    judge: str = option("", help="judge name or YAML (as for annotate)")
    base_url: tuple[str, ...] | str | None = option(
        None,
        flag=("--base-url", "--judge-base-url"),
        several=True,
        metavar="URL",
        help="the judge's OpenAI-compatible endpoint (vllm serve, llama.cpp server, OpenAI; default: the "
        "spec's); several: replicas of one judge, each call to the least busy, a failing one rested",
    )
    model: str | None = option(
        None, metavar="MODEL", help="the judge's model name (default: the spec's; a GGUF path for llamacpp)"
    )
    eval_set: str = option(
        "alpaca_eval", help="instructions and baseline answers to audit with (default alpaca_eval)"
    )
    n: int = option(50, minimum=1, help="instructions sampled (each check judges n pairs x 2 orders)")
    outputs: str | Path | None = option(
        None,
        metavar="FILE",
        help="a real model's outputs: position bias and the LC length coefficient are measured on them "
        "against the baseline",
    )
    self_outputs: str | Path | None = option(
        None, metavar="FILE", help="the judge model's own outputs (self-preference)"
    )
    second_judge: str | None = option(
        None, metavar="JUDGE", help="the judge to compare self-preference against"
    )
    second_base_url: str | None = option(
        None, metavar="URL", help="the second judge's endpoint (default: its spec's)"
    )
    second_model: str | None = option(
        None, metavar="MODEL", help="the second judge's model (default: its spec's)"
    )
    human: str | Path | None = option(
        None,
        metavar="FILE",
        help="human preferences (instruction, output_1, output_2, preference; one row per human): agreement "
        "and AlpacaEval's evaluator figures",
    )
    checks: tuple[str, ...] = option(
        ALL_CHECKS,
        several=True,
        metavar="CHECK",
        help="run only these: "
        + " ".join(ALL_CHECKS)
        + " (default: all; those lacking inputs are skipped); opt-in: properties (each answer rewritten to "
        "add or remove one property, content kept, re-judged: the win-rate shift)",
    )
    random_search: int = option(
        0,
        minimum=0,
        metavar="STEPS",
        help="optimise an injection prefix for this many steps (needs top log-probs)",
    )
    random_search_seconds: float = option(
        120.0, above=0, metavar="SECONDS", help="time limit of the random search"
    )
    out: str | Path | None = option(
        None, metavar="DIR", help=f"audit.json and audit_annotations.json go here (default {DEFAULT_OUT})"
    )
    store: str | Path | None = store_option("DIR/audit.sqlite")
    limits: CallLimits = group(CallLimits)
    key: KeyAccess = group(KeyAccess)
    seed: int = option(0, minimum=0, maximum=MAX_SEED, help="seed of the instruction sample")
    progress: bool = progress_option()

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.judge:
            raise ConfigError("give --judge NAME (or --annotations PATH... for existing annotations)")
