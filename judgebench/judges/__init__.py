"""Judges as data: specs (YAML + Jinja template), protocols that turn a pair into calls, parsers of replies.

`load_judge` is imported on first use, so that `judgebench.judges.parsers` (and scripts/gpu_check.py on a
machine with only torch and transformers) does not pull in the file readers' msgspec and isal."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from judgebench.judges.loader import load_judge

__all__ = ["load_judge"]


def __getattr__(name: str):
    if name == "load_judge":
        from judgebench.judges.loader import load_judge

        return load_judge
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
