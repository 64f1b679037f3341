"""One self-contained HTML page: leaderboard, charts, breakdowns, a paired comparison, the audit and
the manifest. No network: CSS, the sorting script and the SVG charts are all inline."""

from __future__ import annotations

import hashlib
import html
import json
import time
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from judgebench.files.records import InputError
from judgebench.leaderboard import columns as schema
from judgebench.progress import run_versions
from judgebench.report import charts


def _num(x, fmt="{:.1f}") -> str:
    return "–" if x is None or pd.isna(x) else fmt.format(x)


def ci_bar(x, lo, hi, width: int = 90) -> str:
    """A tiny inline SVG: the interval as a line, the estimate as a dot, on a 0-100 scale."""
    if pd.isna(x):
        return ""

    def px(v):
        return 2 + (width - 4) * min(max(float(v), 0.0), 100.0) / 100

    line = (
        ""
        if pd.isna(lo)
        else (
            f'<line x1="{px(lo):.1f}" x2="{px(hi):.1f}" y1="6" y2="6" stroke="#1f5f99" stroke-width="1.6"/>'
        )
    )
    return (
        f'<svg class="cibar" width="{width}" height="12" role="img" aria-label="interval">'
        f'<line x1="2" x2="{width - 2}" y1="6" y2="6" stroke="#e3e3e3"/>'
        f'<line x1="{px(50):.1f}" x2="{px(50):.1f}" y1="1" y2="11" stroke="#c8c8c8" stroke-dasharray="1,1"/>'
        f'{line}<circle cx="{px(x):.1f}" cy="6" r="2.4" fill="#1f5f99"/></svg>'
    )


def leaderboard_headings() -> list[dict]:
    """The leaderboard table's headings: rank and model, then the schema's HTML columns (each interval in its
    own column after its value)."""
    heads = [
        {"key": "rank", "heading": "#", "text": False, "about": ""},
        {"key": "model", "heading": "model", "text": True, "about": ""},
    ]
    for c in schema.shown("html"):
        heads.append({"key": c.html_key, "heading": c.heading, "text": c.kind == "text", "about": c.about})
        if c.ci is not None:
            heads.append(
                {
                    "key": f"{c.html_key}_ci",
                    "heading": f"{c.short_heading} 95% CI",
                    "text": False,
                    "about": f"95% bootstrap interval of the {c.heading}",
                }
            )
    return heads


def _cells(c: schema.Column, r: pd.Series) -> list[tuple[str, object, str]]:
    """(key, sort value, html) for one column of one row, and its interval's cell where it has one."""
    value = r.get(c.name)
    cells: list[tuple[str, object, str]]
    if c.kind == "text":
        text = value if isinstance(value, str) else ""
        shown = html.escape(text)
        cells = [(c.html_key, text, f'<span class="flag">{shown}</span>' if c.alert and text else shown)]
    else:
        cells = [(c.html_key, value, c.text(value, missing="–"))]
    if c.ci is not None:
        interval = c.interval(r, missing="–")
        low, high = r.get(c.ci[0]), r.get(c.ci[1])
        cells.append(
            (
                f"{c.html_key}_ci",
                low,
                f'<span class="ci">{interval}</span> ' + ci_bar(value, low, high) if interval else "–",
            )
        )
    return cells


def leaderboard_rows(board: pd.DataFrame) -> list[dict]:
    cols = schema.shown("html")
    alerts = [c.name for c in schema.COLUMNS if c.alert]
    rows = []
    for rank, (m, r) in enumerate(board.iterrows(), 1):
        cells = [("rank", rank, str(rank)), ("model", str(m), html.escape(str(m)))]
        for c in cols:
            cells += _cells(c, r)
        flagged = any(isinstance(r.get(a), str) and r.get(a) for a in alerts)
        rows.append(
            {
                "model": str(m),
                "flagged": flagged,
                "cells": [{"key": key, "sort": _sort_value(v), "html": text} for key, v, text in cells],
            }
        )
    return rows


def _sort_value(v) -> str:
    if isinstance(v, str):
        return v
    return "" if v is None or pd.isna(v) else repr(float(v))


def dataset_breakdown(annotations: pd.DataFrame, model: str, column: str = "dataset") -> pd.DataFrame | None:
    """Win rate per dataset (or category) for one model, with a normal 95% interval."""
    part = annotations[(annotations["generator_2"] == model) & annotations["preference"].notna()]
    if column not in part or part[column].isna().all():
        return None
    rows = []
    for group, g in part.groupby(column):
        p = g["preference"].to_numpy(float) - 1
        se = p.std(ddof=1) / np.sqrt(len(p)) if len(p) > 1 else np.nan
        rows.append(
            {
                "group": group,
                "n": len(p),
                "win_rate": 100 * p.mean(),
                "ci_low": 100 * (p.mean() - 1.96 * se),
                "ci_high": 100 * (p.mean() + 1.96 * se),
            }
        )
    return pd.DataFrame(rows).sort_values("win_rate", ascending=False)


def judging_summary(annotations: pd.DataFrame) -> dict:
    """Who judged the annotations shown and what their judgments cost, as the files record it."""
    out: dict[str, object] = {
        "annotation rows": int(len(annotations)),
        "models": int(annotations["generator_2"].nunique()),
        "rows without a verdict": int(annotations["preference"].isna().sum()),
    }
    if "annotator" in annotations and annotations["annotator"].notna().any():
        out["judges (annotator field)"] = {
            str(k): int(v) for k, v in annotations["annotator"].value_counts().items()
        }
    if "price_per_example" in annotations:
        price = pd.to_numeric(annotations["price_per_example"], errors="coerce")
        if price.notna().any():
            out["judging cost recorded (USD)"] = round(float(price.sum()), 2)
            out["rows with a recorded price"] = int(price.notna().sum())
    return out


def ppi_results(data, path) -> list[dict]:
    """The PPI estimates in one file: `judgebench ppi --json`'s output (one result or a list) or an `evaluate
    --gold-judge` run's summary.json (its `gold` part, named by its generator); an InputError otherwise."""
    if isinstance(data, dict) and isinstance(data.get("gold"), dict):  # summary.json
        return [{"model": data.get("generator"), **data["gold"]}]
    items = data if isinstance(data, list) else [data]
    if items and all(isinstance(r, dict) and {"win_rate", "n_gold", "gold_only"} <= set(r) for r in items):
        return items
    raise InputError(
        "holds no PPI estimate",
        path=path,
        hint="give `judgebench ppi --json` output or the summary.json of an `evaluate --gold-judge` run",
    )


def _file_entry(path) -> dict:
    p = Path(path)
    if not p.is_file():
        return {"path": str(p)}
    return {
        "path": str(p),
        "sha256": hashlib.sha256(p.read_bytes()).hexdigest()[:16],
        "bytes": p.stat().st_size,
    }


def build_report(
    board: pd.DataFrame | None = None,
    annotations: pd.DataFrame | None = None,
    audit: dict | None = None,
    manifests: list[dict] | None = None,
    model: str | None = None,
    compare: tuple[str, str] | None = None,
    title: str = "judgebench report",
    inputs: list[str] | None = None,
    n_boot: int = 1000,
    profile: pd.DataFrame | None = None,
    ppi: list[dict] | None = None,
) -> str:
    import jinja2

    ctx: dict = {
        "title": title,
        "columns": leaderboard_headings(),
        "generated": time.strftime("%Y-%m-%d %H:%M %Z"),
    }
    annotated = []
    if annotations is not None:  # candidates with judged rows (the baseline against itself is not one)
        judged = set(annotations.loc[annotations["generator_1"] != annotations["generator_2"], "generator_2"])
        order = board.index if board is not None else pd.unique(annotations["generator_2"])
        annotated = [m for m in order if m in judged]
    if board is not None and len(board):
        board = schema.conform(board)  # a board from AlpacaEval's CSV lacks our columns: they show empty
        ctx["rows"] = leaderboard_rows(board)
        ctx["n_models"] = len(board)
        ctx["flagged"] = [r["model"] for r in ctx["rows"] if r["flagged"]]
        ctx["chart_intervals"] = charts.win_rate_intervals(board)
        ctx["chart_length"] = charts.length_versus_win_rate(board)
    if annotated:
        model = model or annotated[0]
        if model not in annotated:
            raise InputError(
                f"model {model!r} has no annotations here",
                field="model",
                hint=f"choose one of: {', '.join(annotated[:10])}",
            )
        bd = dataset_breakdown(annotations, model)
        if bd is not None:
            ctx["breakdown"] = {
                "model": model,
                "chart": charts.breakdown(bd, model),
                "rows": bd.to_dict("records"),
            }
        if compare is None and len(annotated) >= 2:
            compare = (annotated[1], annotated[0])
        if compare is not None:
            from judgebench.stats.paired import paired_comparison

            result = paired_comparison(annotations, compare[0], compare[1], n_boot=n_boot)
            ctx["comparison"] = {**result, "chart": charts.differences(result)}
    if audit is not None:
        ctx["audit"] = audit
        ctx["audit_json"] = {
            c["name"]: json.dumps(c["details"], indent=1, default=str) for c in audit["checks"]
        }
    if profile is not None:  # stats.properties.property_profile's table
        ctx["profile"] = {
            "chart": charts.property_profile(profile),
            "rows": profile.to_dict("records"),
            **profile.attrs,
        }
    if ppi:  # ppi_results' entries: PPI++ estimates of an expensive judge's figures
        ctx["ppi"] = [{**r, "bar": ci_bar(r.get("win_rate"), r.get("lower"), r.get("upper"))} for r in ppi]
        ctx["ppi_level"] = " / ".join(sorted({f"{100 * r.get('level', 0.95):g}" for r in ppi}))
    manifests = list(manifests or [])
    if annotations is not None:
        manifests.insert(0, judging_summary(annotations))
    ctx["manifests"] = [json.dumps(m, indent=1, default=str) for m in manifests]
    ctx["has_judging_summary"] = annotations is not None
    ctx["environment"] = run_versions("pandas", "numpy", "matplotlib")
    ctx["inputs"] = [_file_entry(p) for p in (inputs or [])]
    source = resources.files("judgebench.report").joinpath("page.html.j2").read_text(encoding="utf-8")
    env = jinja2.Environment(
        autoescape=jinja2.select_autoescape(default=True), trim_blocks=True, lstrip_blocks=True
    )
    env.filters["num"] = _num
    return env.from_string(source).render(**ctx)


def write_report(path: str | Path, **kwargs) -> Path:
    from judgebench.files.atomic import atomic_write

    return atomic_write(path, build_report(**kwargs))
