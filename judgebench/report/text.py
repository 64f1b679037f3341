"""The leaderboard for terminals (fixed width) and pull requests (GitHub Markdown).

Both read the column schema (judgebench/leaderboard/columns.py): which columns a view shows, their headings, formats
and intervals. A board read from another tool's CSV may lack some columns; they show as empty.
"""

from __future__ import annotations

import pandas as pd

from judgebench.files.safetext import markdown_cell, printable
from judgebench.leaderboard import columns as schema


def _shown(board: pd.DataFrame, limit: int | None) -> pd.DataFrame:
    return board if limit is None else board.head(limit)


def render_text(board: pd.DataFrame, limit: int | None = None) -> str:
    """A fixed-width table for terminals: model names made printable, numbers right-aligned."""
    shown = _shown(board, limit)
    rows = [r for _, r in shown.iterrows()]
    # (heading, right-aligned, cells); a model name must not rewrite the user's terminal
    table: list[tuple[str, bool, list[str]]] = [("model", False, [printable(m) for m in shown.index])]
    for c in schema.shown("terminal"):
        cells = [c.text(r.get(c.name)) for r in rows]
        table.append(
            (c.short_heading, c.kind != "text", [printable(x) if c.kind == "text" else x for x in cells])
        )
        if c.ci is not None:
            intervals = [c.interval(r) or "" for r in rows]
            if any(intervals):  # no interval column for a board without bootstrap
                table.append((f"{c.short_heading} 95% CI", True, intervals))
    widths = [max([len(head), *map(len, cells)]) for head, _, cells in table]

    def line(values: list[str]) -> str:
        parts = [
            f"{v:>{w}}" if right else f"{v:<{w}}"
            for v, w, (_, right, _) in zip(values, widths, table, strict=True)
        ]
        return "  ".join(parts).rstrip()

    head = line([h for h, _, _ in table])
    return "\n".join(
        [head, "-" * len(head)] + [line([cells[i] for _, _, cells in table]) for i in range(len(rows))]
    )


def _markdown_cell(c: schema.Column, row: pd.Series) -> str:
    value = row.get(c.name)
    if c.kind == "text":
        text = markdown_cell(c.text(value))
        return f"**{text}**" if c.alert and text else text
    if c.ci is None:
        return c.text(value)
    interval = c.interval(row)  # the value at its interval's precision, in one cell with it
    return c.text(value, fmt=c.ci_fmt) + (f" {interval}" if interval and pd.notna(value) else "")


def render_markdown(board: pd.DataFrame, limit: int | None = None) -> str:
    """A GitHub Markdown table: rank, model, then the schema's Markdown columns ("value [95% CI]")."""
    cols = schema.shown("markdown")
    heads = ["#", "model"] + [c.heading + (" [95% CI]" if c.ci else "") for c in cols]
    rules = ["---:", "---"] + ["---" if c.kind == "text" else "---:" for c in cols]
    lines = ["| " + " | ".join(heads) + " |", "|" + "|".join(rules) + "|"]
    for rank, (m, r) in enumerate(_shown(board, limit).iterrows(), 1):
        cells = [str(rank), markdown_cell(m)] + [_markdown_cell(c, r) for c in cols]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
