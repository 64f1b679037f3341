"""Charts as inline SVG strings (matplotlib, Agg): no network, no files beside the page.

Text stays text in the SVG (svg.fonttype none), so the page can be searched and the charts are small;
a fixed hash salt keeps the output byte-stable between runs.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from judgebench.files.safetext import (
    printable,  # names are shown as written: no maths ($), no control characters
)

INK, MUTED, ACCENT, WARN = "#222222", "#8a8a8a", "#1f5f99", "#b03a2e"


def _figure(width: float, height: float):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update(
        {
            "svg.fonttype": "none",
            "svg.hashsalt": "judgebench",
            "font.family": "serif",
            "font.size": 9,
            "axes.edgecolor": INK,
            "axes.linewidth": 0.6,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "xtick.major.width": 0.6,
            "ytick.major.width": 0.6,
        }
    )
    return plt.subplots(figsize=(width, height))


def _svg(fig) -> str:
    import matplotlib.pyplot as plt

    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg") :]  # drop the XML prologue and doctype: the page inlines it


def win_rate_intervals(board: pd.DataFrame) -> str:
    """LC and raw win rate with their 95% intervals, one row per model (board order)."""
    n = len(board)
    fig, ax = _figure(6.4, 0.9 + 0.2 * n)
    y = np.arange(n)[::-1]
    for offset, col, lo, hi, color, label in (
        (0.15, "length_controlled_winrate", "lc_ci_low", "lc_ci_high", ACCENT, "LC win rate"),
        (-0.15, "win_rate", "win_rate_ci_low", "win_rate_ci_high", MUTED, "win rate"),
    ):
        x = board[col].to_numpy(float)
        if np.all(np.isnan(x)):
            continue
        err = np.vstack([x - board[lo].to_numpy(float), board[hi].to_numpy(float) - x])
        ax.errorbar(
            x,
            y + offset,
            xerr=np.nan_to_num(err),
            fmt="o",
            ms=3,
            color=color,
            ecolor=color,
            elinewidth=0.8,
            capsize=1.5,
            label=label,
        )
    ax.set_yticks(y, [printable(m) for m in board.index], fontsize=7.5, parse_math=False)
    ax.set_xlabel("% preferred over the baseline (95% interval)")
    ax.axvline(50, color=MUTED, lw=0.5, ls=":")
    ax.set_ylim(-0.7, n - 0.3)
    ax.legend(frameon=False, loc="lower right", fontsize=8)
    ax.grid(axis="x", color="#e6e6e6", lw=0.5)
    return _svg(fig)


def length_versus_win_rate(board: pd.DataFrame, label: int = 8) -> str:
    """Average length against win rate; an arrow from each model's raw rate to its LC rate."""
    fig, ax = _figure(6.4, 4.0)
    x = board["avg_length"].to_numpy(float)
    raw = board["win_rate"].to_numpy(float)
    lc = board["length_controlled_winrate"].to_numpy(float)
    flags = (
        board["cheating_flags"]
        if "cheating_flags" in board
        else pd.Series(None, index=board.index, dtype=object)
    )
    flagged = np.array([isinstance(f, str) and bool(f) for f in flags])
    ax.scatter(x, raw, s=12, color=MUTED, zorder=3, label="win rate")
    if not np.all(np.isnan(lc)):
        ax.scatter(x, lc, s=14, color=ACCENT, zorder=3, label="LC win rate")
        for xi, a, b in zip(x, raw, lc, strict=True):
            if not np.isnan(b):
                ax.annotate(
                    "",
                    xy=(xi, b),
                    xytext=(xi, a),
                    arrowprops={"arrowstyle": "->", "color": ACCENT, "lw": 0.6, "alpha": 0.7},
                )
    if flagged.any():
        ax.scatter(
            x[flagged],
            raw[flagged],
            s=60,
            facecolors="none",
            edgecolors=WARN,
            lw=1,
            zorder=4,
            label="flagged by the cheating checks",
        )
    top = board.head(label).index
    for m in top:
        r = board.loc[m]
        ax.annotate(
            printable(m),
            (
                r["avg_length"],
                r["length_controlled_winrate"] if pd.notna(r["length_controlled_winrate"]) else r["win_rate"],
            ),
            fontsize=6.5,
            xytext=(3, 2),
            textcoords="offset points",
            color=INK,
            parse_math=False,
        )
    ax.set_xlabel("average output length (characters)")
    ax.set_ylabel("% preferred over the baseline")
    ax.legend(frameon=False, fontsize=8, loc="upper left")
    ax.grid(color="#eeeeee", lw=0.5)
    return _svg(fig)


def breakdown(rows: pd.DataFrame, title: str) -> str:
    """Win rate per group (rows: group, win_rate, ci_low, ci_high, n)."""
    n = len(rows)
    fig, ax = _figure(6.0, 0.8 + 0.28 * n)
    y = np.arange(n)[::-1]
    x = rows["win_rate"].to_numpy(float)
    err = np.vstack([x - rows["ci_low"].to_numpy(float), rows["ci_high"].to_numpy(float) - x])
    ax.barh(y, x, color="#dbe6f1", edgecolor=ACCENT, lw=0.6, height=0.6)
    ax.errorbar(x, y, xerr=err, fmt="none", ecolor=INK, elinewidth=0.8, capsize=2)
    ax.set_yticks(
        y,
        [f"{printable(g)} (n={k})" for g, k in zip(rows["group"], rows["n"], strict=True)],
        fontsize=8,
        parse_math=False,
    )
    ax.set_xlabel(f"% preferred over the baseline, {printable(title)} (95% interval)", parse_math=False)
    ax.grid(axis="x", color="#e6e6e6", lw=0.5)
    return _svg(fig)


def differences(result: dict) -> str:
    """A paired comparison's differences (B - A) with intervals, win rate and LC."""
    items = [(k, result[k]) for k in ("win_rate", "length_controlled_winrate") if result.get(k)]
    fig, ax = _figure(6.0, 0.7 + 0.45 * len(items))
    for i, (_, r) in enumerate(items):
        y = len(items) - 1 - i
        ax.errorbar(
            [r["difference"]],
            [y],
            xerr=[[r["difference"] - r["ci_low"]], [r["ci_high"] - r["difference"]]],
            fmt="o",
            color=ACCENT,
            ms=4,
            capsize=3,
            elinewidth=1,
        )
    ax.axvline(0, color=MUTED, lw=0.6, ls=":")
    ax.set_yticks(
        range(len(items))[::-1], ["win rate" if k == "win_rate" else "LC win rate" for k, _ in items]
    )
    ax.set_ylim(-0.6, len(items) - 0.4)
    ax.set_xlabel(
        f"{printable(result['model_b'])} minus {printable(result['model_a'])}, points (95% interval)",
        parse_math=False,
    )
    return _svg(fig)


def property_profile(table: pd.DataFrame) -> str:
    """A judge's log-odds per answer property with 95% intervals (stats.properties), largest reward on top."""
    rows = table.dropna(subset=["log_odds"]).sort_values("log_odds")
    n = len(rows)
    fig, ax = _figure(6.4, 0.9 + 0.22 * n)
    y = np.arange(n)
    x = rows["log_odds"].to_numpy(float)
    err = np.vstack([x - rows["ci_low"].to_numpy(float), rows["ci_high"].to_numpy(float) - x])
    colors = [
        ACCENT if lo > 0 else WARN if hi < 0 else MUTED
        for lo, hi in zip(rows["ci_low"], rows["ci_high"], strict=True)
    ]
    for yi, xi, e0, e1, c in zip(y, x, err[0], err[1], colors, strict=True):
        ax.errorbar(xi, yi, xerr=[[e0], [e1]], fmt="o", ms=3, color=c, ecolor=c, elinewidth=0.8, capsize=1.5)
    ax.set_yticks(y, [printable(p) for p in rows["property"]], fontsize=7.5, parse_math=False)
    ax.axvline(0, color=MUTED, lw=0.5, ls=":")
    ax.set_xlabel("log-odds of the judge preferring the answer with the property (95% interval)")
    ax.grid(axis="x", color="#e6e6e6", lw=0.5)
    return _svg(fig)
