"""The suite's table as papers print it (Markdown, LaTeX booktabs) and its one-page HTML report.

Each benchmark declares its columns and its report section (judgebench/benchmarks/); this module only
renders them, whichever benchmark they come from. With a reference model, a benchmark's headline
figures carry a dagger where the difference from the reference is significant at 5% after Holm's
adjustment across the whole table.
"""

from __future__ import annotations

import html
import time
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from judgebench.benchmarks.base import Benchmark, Column, Section
from judgebench.benchmarks.registry import get
from judgebench.files.atomic import atomic_write
from judgebench.files.safetext import markdown_cell
from judgebench.report.html import _num, ci_bar

MARK_MD, MARK_TEX = "†", r"$^\dagger$"


def _ci(row, lo, hi) -> str:
    a, b = row.get(lo), row.get(hi)
    return "" if a is None or pd.isna(a) else f" ({a:.1f}, {b:.1f})"


def _sig(row, bench) -> bool:
    s = row.get(f"{bench}.significant")
    return bool(s) and not pd.isna(s)


def _declared(benchmarks: Sequence[Benchmark | str]) -> list[Benchmark]:
    return [b if isinstance(b, Benchmark) else get(b) for b in benchmarks]


def _shown(table: pd.DataFrame, bench: Benchmark) -> list[Column]:
    return [c for c in bench.columns if not c.optional or f"{bench.name}.{c.fields[0]}" in table]


def _cell(row: dict, bench: str, column: Column) -> str:
    text = "/".join(_num(row.get(f"{bench}.{f}"), column.fmt) for f in column.fields)
    if column.interval:
        text += _ci(row, *(f"{bench}.{f}" for f in column.interval))
    return text


def _cells(table, benchmarks: list[Benchmark], reference, mark):
    head, body = [], []
    for bench in benchmarks:
        head.append((bench.title, [c.heading for c in _shown(table, bench)]))
    for model, row in table.iterrows():
        r = row.to_dict()
        cells = []
        for bench in benchmarks:
            for c in _shown(table, bench):
                cells.append(_cell(r, bench.name, c) + (mark if c.headline and _sig(r, bench.name) else ""))
        body.append((f"{model} (ref.)" if model == reference else str(model), cells))
    return head, body


def markdown_table(
    table: pd.DataFrame, benchmarks: Sequence[Benchmark | str], reference: str | None = None
) -> str:
    head, body = _cells(table, _declared(benchmarks), reference, MARK_MD)
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


def latex_table(
    table: pd.DataFrame, benchmarks: Sequence[Benchmark | str], reference: str | None = None
) -> str:
    head, body = _cells(table, _declared(benchmarks), reference, "\x00")
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


def _section_table(section: Section, details: dict[str, dict]) -> str:
    """One of a benchmark's report tables: a row per model, from each model's details."""
    shown = {m: d for m, d in details.items() if section.requires is None or section.requires in d}
    if not shown:
        return ""
    extra: list[str] = []
    if section.expand:
        extra = sorted({k for d in shown.values() for k in (d.get(section.expand[0]) or {})})
    rows = []
    for m, d in shown.items():
        row = [html.escape(m)]
        for c in section.columns:
            value = d.get(c.key)
            if c.interval:
                lo, hi = (d.get(k) for k in c.interval)
                row.append(f"[{_num(lo)}, {_num(hi)}]" + ci_bar(value, lo, hi))
            else:
                row.append(html.escape(str(value)) if c.fmt is None else _num(value, c.fmt))
        if section.expand:
            values = d.get(section.expand[0]) or {}
            row += [_num(values.get(k), section.expand[1]) for k in extra]
        rows.append(row)
    headings = ["model"] + [html.escape(c.heading) for c in section.columns] + [html.escape(k) for k in extra]
    return _html_table(headings, rows, html.escape(section.caption))


def _gold_table(table: pd.DataFrame, bench: str) -> str:
    """The gold judge's PPI++ estimates of one benchmark (`suite --gold-judge`), where the runs made them."""
    col = f"{bench}.gold_win_rate"
    if col not in table or table[col].isna().all():
        return ""
    rows = []
    for model, r in table[table[col].notna()].iterrows():
        g = {k.removeprefix(f"{bench}."): v for k, v in r.items() if k.startswith(f"{bench}.gold_")}
        rows.append(
            [
                html.escape(str(model)),
                _num(g["gold_win_rate"]),
                f"[{_num(g['gold_ci_low'])}, {_num(g['gold_ci_high'])}]"
                + ci_bar(g["gold_win_rate"], g["gold_ci_low"], g["gold_ci_high"]),
                _num(g["gold_n"], "{:.0f}"),
                _num(g.get("gold_lc")),
                f"[{_num(g.get('gold_lc_ci_low'))}, {_num(g.get('gold_lc_ci_high'))}]",
            ]
        )
    return _html_table(
        ["model", "gold win rate", "95% CI", "gold judgments", "gold LC", "LC 95% CI"],
        rows,
        "the expensive (gold) judge's figures, PPI++ from this judge's judgments and the gold judge's on a random few",
    )


def build_suite_report(
    result: dict, benchmarks: Sequence[Benchmark | str], inputs: list[str] | None = None
) -> str:
    """The page: the table, each benchmark's sections (as it declares them), the comparisons."""
    table, reference = result["table"], result["reference"]
    declared = _declared(benchmarks)
    titles = {b.name: b.title for b in declared}
    parts = ["<h2>Table</h2>"]
    head, body = _cells(table, declared, reference, "\x00")
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
    for bench in declared:
        parts.append(f"<h2>{html.escape(bench.title)}</h2>")
        parts += [t for t in (_section_table(s, details[bench.name]) for s in bench.sections) if t]
        parts += [t for t in (_gold_table(table, bench.name),) if t]
        if bench.notes:
            parts.append(f'<p class="sub">{html.escape(bench.notes)}</p>')
    if result["comparisons"]:
        parts.append(f"<h2>Against {html.escape(reference)}</h2>")
        rows = [
            [
                html.escape(c["model"]),
                html.escape(titles.get(c["benchmark"], c["benchmark"])),
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
    judges = ", ".join(f"{titles.get(b, b)}: {j}" for b, j in result["judges"].items())
    return PAGE.format(
        title="judgebench suite",
        generated=time.strftime("%Y-%m-%d %H:%M %Z"),
        judges=html.escape(judges),
        body="\n".join(parts),
    )


def write_suite_report(
    path: str | Path, result: dict, benchmarks: Sequence[Benchmark | str], inputs: list[str] | None = None
) -> Path:
    path = Path(path)
    atomic_write(path, build_suite_report(result, benchmarks, inputs))
    return path
