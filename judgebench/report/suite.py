"""The suite's table as papers print it (Markdown, LaTeX booktabs) and its one-page HTML report.

Columns per benchmark: AlpacaEval 2.0 LC and raw win rate and average length; Arena-Hard score with its
95% interval and the style-controlled score; MT-Bench score (1-10) or, pairwise, win/tie/loss. With a
reference model, a benchmark's headline figure carries a dagger where the difference from the reference
is significant at 5% after Holm's adjustment across the whole table.
"""

from __future__ import annotations

import html
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from judgebench.files.atomic import atomic_write
from judgebench.files.safetext import markdown_cell
from judgebench.report.html import _num, ci_bar
from judgebench.runs.suite import BENCHMARKS

MARK_MD, MARK_TEX = "†", r"$^\dagger$"


def _ci(row, lo, hi) -> str:
    a, b = row.get(lo), row.get(hi)
    return "" if a is None or pd.isna(a) else f" ({a:.1f}, {b:.1f})"


def _sig(row, bench) -> bool:
    s = row.get(f"{bench}.significant")
    return bool(s) and not pd.isna(s)


def _columns(table: pd.DataFrame, bench: str) -> list[tuple[str, Callable[[dict], str], bool]]:
    """(heading, row -> cell text, headline?) for one benchmark."""
    if bench == "alpaca_eval":
        return [
            ("LC (%)", lambda r: _num(r.get(f"{bench}.lc_win_rate")), True),
            ("WR (%)", lambda r: _num(r.get(f"{bench}.win_rate")), False),
            ("Len.", lambda r: _num(r.get(f"{bench}.avg_length"), "{:.0f}"), False),
        ]
    if bench.startswith("arena-hard"):
        return [
            (
                "Score (95% CI)",
                lambda r: _num(r.get(f"{bench}.score")) + _ci(r, f"{bench}.ci_low", f"{bench}.ci_high"),
                True,
            ),
            (
                "Style ctrl.",
                lambda r: (
                    _num(r.get(f"{bench}.style_controlled"))
                    + _ci(r, f"{bench}.sc_ci_low", f"{bench}.sc_ci_high")
                ),
                False,
            ),
        ]
    if f"{bench}.score" in table:
        return [("Score", lambda r: _num(r.get(f"{bench}.score"), "{:.2f}"), True)]
    return [
        (
            "W/T/L",
            lambda r: "/".join(_num(r.get(f"{bench}.{k}"), "{:.0f}") for k in ("win", "tie", "loss")),
            True,
        )
    ]


def _title(bench: str) -> str:
    """The benchmark's name as papers head its column."""
    return BENCHMARKS[bench].title if bench in BENCHMARKS else bench


def _cells(table, benchmarks, reference, mark):
    head, body = [], []
    for bench in benchmarks:
        head.append((_title(bench), [h for h, _, _ in _columns(table, bench)]))
    for model, row in table.iterrows():
        r = row.to_dict()
        cells = []
        for bench in benchmarks:
            for _, fn, headline in _columns(table, bench):
                cells.append(fn(r) + (mark if headline and _sig(r, bench) else ""))
        body.append((f"{model} (ref.)" if model == reference else str(model), cells))
    return head, body


def markdown_table(table: pd.DataFrame, benchmarks: list[str], reference: str | None = None) -> str:
    head, body = _cells(table, benchmarks, reference, MARK_MD)
    headings = [f"{t}: {h}" for t, hs in head for h in hs]
    lines = ["| model | " + " | ".join(headings) + " |", "|---|" + "---:|" * len(headings)]
    lines += [f"| {markdown_cell(m)} | " + " | ".join(cells) + " |" for m, cells in body]
    if reference:
        lines.append(
            f"\n{MARK_MD} differs from {markdown_cell(reference)} at 5% (paired over instructions, "
            "Holm-adjusted across the table)."
        )
    return "\n".join(lines) + "\n"


_TEX = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "_": r"\_",
    "#": r"\#",
    "$": r"\$",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "–": "--",
}


def _tex(s: str) -> str:
    return "".join(_TEX.get(ch, ch) for ch in s)


def latex_table(table: pd.DataFrame, benchmarks: list[str], reference: str | None = None) -> str:
    head, body = _cells(table, benchmarks, reference, "\x00")
    n = sum(len(hs) for _, hs in head)
    lines = [r"\begin{table}[t]", r"\centering", r"\begin{tabular}{l" + "r" * n + "}", r"\toprule"]
    groups, rules, col = [], [], 2
    for title, hs in head:
        groups.append(rf"\multicolumn{{{len(hs)}}}{{c}}{{{_tex(title)}}}")
        rules.append(rf"\cmidrule(lr){{{col}-{col + len(hs) - 1}}}")
        col += len(hs)
    lines.append(" & " + " & ".join(groups) + r" \\")
    lines.append(" ".join(rules))
    lines.append("Model & " + " & ".join(_tex(h) for _, hs in head for h in hs) + r" \\")
    lines.append(r"\midrule")
    for model, cells in body:
        lines.append(
            _tex(model) + " & " + " & ".join(_tex(c).replace("\x00", MARK_TEX) for c in cells) + r" \\"
        )
    lines += [r"\bottomrule", r"\end{tabular}"]
    caption = "judgebench suite."
    if reference:
        caption += (
            rf" {MARK_TEX}: differs from {_tex(reference)} at 5\% (paired over instructions, "
            "Holm-adjusted across the table)."
        )
    lines += [rf"\caption{{{caption}}}", r"\end{table}"]
    return "\n".join(lines) + "\n"


PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: Georgia, serif; max-width: 1100px; margin: 2em auto; padding: 0 1.5em; color: #222; }}
h2 {{ font-weight: normal; border-bottom: 1px solid #ccc; margin-top: 2em; }}
table {{ border-collapse: collapse; font-size: 0.88em; font-variant-numeric: tabular-nums; margin: 0.6em 0; }}
table.booktabs {{ border-top: 2px solid #222; border-bottom: 2px solid #222; }}
thead th {{ border-bottom: 1px solid #222; }}
th, td {{ padding: 0.25em 0.6em; text-align: right; }} td:first-child, th:first-child {{ text-align: left; }}
.sub {{ color: #777; }} .sig {{ color: #b03a2e; font-weight: bold; }} pre {{ background: #f5f5f2; padding: 0.6em; }}
</style></head><body>
<h1>{title}</h1><p class="sub">generated {generated}; judges: {judges}</p>
{body}
</body></html>
"""


def _html_table(headings: list[str], rows: list[list[str]], caption: str = "") -> str:
    out = ['<table class="booktabs">']
    if caption:
        out.append(f"<caption>{caption}</caption>")
    out.append("<thead><tr>" + "".join(f"<th>{h}</th>" for h in headings) + "</tr></thead><tbody>")
    out += ["<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows]
    out.append("</tbody></table>")
    return "\n".join(out)


def build_suite_report(result: dict, inputs: list[str] | None = None) -> str:
    table, benchmarks, reference = result["table"], result["benchmarks"], result["reference"]
    parts = ["<h2>Table</h2>"]
    head, body = _cells(table, benchmarks, reference, "\x00")
    headings = ["model"] + [html.escape(f"{t}: {h}") for t, hs in head for h in hs]
    parts.append(
        _html_table(
            headings,
            [
                [html.escape(m)]
                + [html.escape(c).replace("\x00", '<span class="sig">†</span>') for c in cells]
                for m, cells in body
            ],
        )
    )
    if reference:
        parts.append(
            f'<p class="sub">† differs from {html.escape(reference)} at 5% (paired over instructions, '
            "Holm-adjusted across the table).</p>"
        )
    details = result["details"]
    for bench in benchmarks:
        parts.append(f"<h2>{html.escape(_title(bench))}</h2>")
        if bench.startswith("arena-hard"):
            rows = []
            for m, d in details[bench].items():
                rows.append(
                    [
                        html.escape(m),
                        _num(d.get("score")),
                        f"[{_num(d.get('ci_low'))}, {_num(d.get('ci_high'))}]"
                        + ci_bar(d.get("score"), d.get("ci_low"), d.get("ci_high")),
                        _num(d.get("style_controlled")),
                        f"[{_num(d.get('sc_ci_low'))}, {_num(d.get('sc_ci_high'))}]"
                        + ci_bar(d.get("style_controlled"), d.get("sc_ci_low"), d.get("sc_ci_high")),
                        _num(d.get("n_battles"), "{:.0f}"),
                    ]
                )
            parts.append(
                _html_table(
                    ["model", "score", "95% CI", "style-controlled", "95% CI", "battles"],
                    rows,
                    "Bradley-Terry win rate against the baseline; bootstrap over battles",
                )
            )
        elif bench == "alpaca_eval":
            rows = [
                [
                    html.escape(m),
                    _num(d.get("length_controlled_winrate")),
                    _num(d.get("win_rate")),
                    _num(d.get("avg_length"), "{:.0f}"),
                    _num(d.get("n_total"), "{:.0f}"),
                    _num(d.get("n_missing"), "{:.0f}"),
                    html.escape(str(d.get("lc_difficulty"))),
                ]
                for m, d in details[bench].items()
            ]
            parts.append(
                _html_table(
                    ["model", "LC win rate", "win rate", "avg length", "n", "failures", "LC difficulty"], rows
                )
            )
        else:
            cats = sorted({c for d in details[bench].values() for c in (d.get("per_category") or {})})
            rows = [
                [
                    html.escape(m),
                    _num(d.get("score"), "{:.2f}"),
                    _num(d.get("turn_1"), "{:.2f}"),
                    _num(d.get("turn_2"), "{:.2f}"),
                ]
                + [_num((d.get("per_category") or {}).get(c), "{:.2f}") for c in cats]
                for m, d in details[bench].items()
                if "score" in d
            ]
            if rows:
                parts.append(
                    _html_table(
                        ["model", "overall", "turn 1", "turn 2", *map(html.escape, cats)],
                        rows,
                        "mean rating per turn and per category",
                    )
                )
            rows = [
                [
                    html.escape(m),
                    str(d["win"]),
                    str(d["tie"]),
                    str(d["loss"]),
                    _num(d.get("win_rate_adjusted")),
                ]
                for m, d in details[bench].items()
                if "win" in d
            ]
            if rows:
                parts.append(_html_table(["model", "win", "tie", "loss", "win rate (tie = ½)"], rows))
    if result["comparisons"]:
        parts.append(f"<h2>Against {html.escape(reference)}</h2>")
        rows = [
            [
                html.escape(c["model"]),
                html.escape(_title(c["benchmark"])),
                _num(c.get("difference"), "{:+.2f}"),
                f"[{_num(c.get('ci_low'), '{:+.2f}')}, {_num(c.get('ci_high'), '{:+.2f}')}]",
                _num(c.get("p_value"), "{:.4f}"),
                _num(c.get("p_holm"), "{:.4f}"),
                '<span class="sig">yes</span>' if c.get("significant") else "no",
                html.escape(c.get("method") or c.get("note") or ""),
            ]
            for c in result["comparisons"]
        ]
        parts.append(
            _html_table(
                ["model", "benchmark", "difference", "95% CI", "p", "p (Holm)", "significant", "method"],
                rows,
                "model minus reference, paired over instructions",
            )
        )
    if inputs:
        parts.append("<h2>Files</h2><pre>" + html.escape("\n".join(inputs)) + "</pre>")
    judges = ", ".join(f"{_title(b)}: {j}" for b, j in result["judges"].items())
    return PAGE.format(
        title="judgebench suite",
        generated=time.strftime("%Y-%m-%d %H:%M %Z"),
        judges=html.escape(judges),
        body="\n".join(parts),
    )


def write_suite_report(path: str | Path, result: dict, inputs: list[str] | None = None) -> Path:
    path = Path(path)
    atomic_write(path, build_suite_report(result, inputs))
    return path
