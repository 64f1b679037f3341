"""The settings of an annotation run, declared once: `judgebench annotate`'s flags are made from them.

Kept apart from the run so that building the command line imports no judge.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from judgebench.annotation.pipeline import CallLimits, KeyAccess, progress_option, store_option
from judgebench.settings import Checked, group, option

if TYPE_CHECKING:
    from judgebench.judges.spec import JudgeSpec


def _backend_names() -> list[str]:
    from judgebench.backends import REGISTRY

    return sorted(REGISTRY)


@dataclass(frozen=True, kw_only=True)
class AnnotateConfig(Checked):
    """One annotation run: a candidate's outputs against a baseline's, by one judge, cached in a store.
    `judgebench annotate`'s flags are made from these declarations."""

    outputs: str | Path = option(metavar="FILE", help="candidate outputs (AlpacaEval model_outputs format)")
    baseline: str | Path = option(metavar="FILE", help="baseline outputs, same instructions")
    judge: str | JudgeSpec = option(
        "alpacaeval2",
        help="judge spec: a name in prompts/, a .yaml, or alpaca_eval:CONFIG; jury:A,B,C runs several as one "
        "(their mean preference; jury-majority:A,B,C their vote)",
    )
    base_url: tuple[str, ...] | str | None = option(
        None,
        several=True,
        metavar="URL",
        help="the judge's OpenAI-compatible endpoint (vllm serve, llama.cpp server, OpenAI; default: the "
        "spec's); several: replicas of one judge, each call to the least busy, a failing one rested",
    )
    model: str | None = option(
        None, metavar="MODEL", help="the judge's model name (default: the spec's; a GGUF path for llamacpp)"
    )
    backend: str | None = option(
        None, choices=_backend_names, help="the judge's backend (default: the spec's)"
    )
    store: str | Path = store_option(required=True)
    limits: CallLimits = group(lambda: CallLimits(concurrency=16))
    key: KeyAccess = group(KeyAccess)
    max_parse_retries: int | None = option(
        None, kind=int, minimum=0, help="asks again when a reply cannot be parsed (default: the spec's)"
    )
    max_tokens: int | None = option(
        None, kind=int, minimum=1, help="override the spec's max_tokens (part of each call's key)"
    )
    reparse: bool = option(False, help="re-derive verdicts from stored raw outputs first")
    offline: bool = option(
        False, help="make no call: export what the store holds (missing judgments are listed as failed)"
    )
    progress: bool = progress_option()
