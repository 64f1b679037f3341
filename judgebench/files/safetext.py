"""Names from other people's files, made safe to show: model names, datasets, labels.

A model called `llama-$\\foo$-7b` must not crash a chart (matplotlib reads `$...$` as maths) and one
holding terminal escapes (`\\x1b]0;title\\x07`, `\\x1b[2J`) must not rewrite the user's screen; a pipe
or a newline must not break a Markdown table.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def printable(text: object) -> str:
    """Control characters (escapes, bidi overrides, newlines) shown as \\xNN / \\uNNNN, never emitted."""
    text = str(text).replace("\n", "\\n").replace("\t", "\\t")
    return _CONTROL.sub(lambda m: repr(m.group(0))[1:-1], text)


def markdown_cell(text: object) -> str:
    """One table cell of GitHub Markdown: printable, pipes and markup characters escaped."""
    return re.sub(r"([\\|`*_\[\]<>#])", r"\\\1", printable(text))


_TERMINAL_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


class EscapingStream:
    """A text stream that shows control characters (terminal escapes, bidi overrides) escaped and passes
    newlines and tabs: whatever a command prints about other people's names cannot drive the terminal."""

    def __init__(self, inner):
        self._inner = inner

    def write(self, text: str) -> int:
        self._inner.write(_TERMINAL_CONTROL.sub(lambda m: repr(m.group(0))[1:-1], text))
        return len(text)

    def __getattr__(self, name: str):
        return getattr(self._inner, name)
