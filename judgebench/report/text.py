"""The leaderboard for terminals (fixed width) and pull requests (GitHub Markdown)."""

from __future__ import annotations

import pandas as pd

from ..leaderboard import format_table as render_text  # noqa: F401  (the terminal rendering lives there)
from ..safetext import markdown_cell


def _rate(x, lo, hi) -> str:
    if pd.isna(x):
        return "-"
    return f"{x:.1f} [{lo:.1f}, {hi:.1f}]" if pd.notna(lo) else f"{x:.1f}"


def render_markdown(board: pd.DataFrame, limit: int | None = None) -> str:
    shown = board if limit is None else board.head(limit)
    lines = ["| # | model | LC win rate [95% CI] | win rate [95% CI] | discrete | n | missing | avg length | flags |",
             "|---:|---|---:|---:|---:|---:|---:|---:|---|"]
    for rank, (m, r) in enumerate(shown.iterrows(), 1):
        flags = r.get("cheating_flags")
        flags = f"**{markdown_cell(flags)}**" if isinstance(flags, str) and flags else ""
        missing = int(r["n_missing"]) if pd.notna(r.get("n_missing")) else 0
        lines.append(f"| {rank} | {markdown_cell(m)} | {_rate(r['length_controlled_winrate'], r['lc_ci_low'], r['lc_ci_high'])} | "
                     f"{_rate(r['win_rate'], r['win_rate_ci_low'], r['win_rate_ci_high'])} | "
                     f"{r['discrete_win_rate']:.1f} | {int(r['n_total'])} | {missing} | {int(r['avg_length'])} | {flags} |")
    return "\n".join(lines) + "\n"
