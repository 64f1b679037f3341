"""Agreement of a judge with human preferences, and AlpacaEval's evaluator figures beside it."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from judgebench.audit.checks import Check, make_check
from judgebench.files.records import InputError
from judgebench.judges.protocols import Pair

HUMAN_FIELDS = ("instruction", "output_1", "output_2", "preference")
_LIST_ITEM = re.compile(r"^\s*(?:[-*\u2022]|\d+[.)])\s+\S", re.MULTILINE)


def read_human_preferences(path) -> tuple[list[Pair], list[list[float]]]:
    """Human preferences: JSON, JSON Lines, CSV or Parquet records with instruction, output_1, output_2 and
    preference (1 = output_1 better, 2 = output_2 better, 1.5 = tie; AlpacaEval's convention), one row per
    human judgment; several rows for the same pair are several humans. Returns the unique pairs and each
    pair's human labels."""
    from judgebench.files.records import _require_fields, parse_preference, read_records

    rows = read_records(path)
    if not rows:
        raise InputError("no rows", path=path, hint="the human preference file is empty")
    _require_fields(rows, HUMAN_FIELDS, path)
    prefs = parse_preference(pd.Series([r["preference"] for r in rows]), path)
    missing = np.flatnonzero(prefs.isna().to_numpy())
    if len(missing):
        raise InputError(
            f"{len(missing)} rows have no preference",
            path=path,
            row=int(missing[0]),
            field="preference",
            hint="drop rows without a human judgment, or fill them in",
        )
    labels: dict[tuple, list[float]] = {}
    for r, pref in zip(rows, prefs, strict=True):
        labels.setdefault((r["instruction"], r["output_1"], r["output_2"]), []).append(float(pref))
    pairs = [Pair(i, o1, o2, "output_1", "output_2") for i, o1, o2 in labels]
    return pairs, list(labels.values())


def _hard(pref: float) -> float:
    return 1.0 if pref < 1.5 else 2.0 if pref > 1.5 else 1.5


def _agree(a: float, b: float) -> float:
    """1 when two verdicts match, 0 when opposite, 0.5 when one of them is a tie."""
    a, b = _hard(a), _hard(b)
    return 1.0 if a == b else 0.5 if 1.5 in (a, b) else 0.0


def human_check(run, labels: list[list[float]], concurrency: int) -> Check:
    """AlpacaEval's evaluator figures: agreement with each human label, the humans' own agreement
    (each against the others, where a pair has several), P(prefer longer / lists / first shown),
    price and time per 1,000 comparisons."""
    per_pair, ceiling, longer, lists, first = [], [], [], [], []
    for r, humans in zip(run.records, labels, strict=True):
        if len(humans) > 1:
            ceiling += [_agree(h, o) for i, h in enumerate(humans) for j, o in enumerate(humans) if i != j]
        if r.get("preference") is None:
            per_pair.append(np.nan)
            continue
        per_pair.append(float(np.mean([_agree(r["preference"], h) for h in humans])))
        r["human_labels"], r["agreement"] = humans, per_pair[-1]
        p2 = r["preference"] - 1  # P(output_2 better)
        if len(r["output_1"]) != len(r["output_2"]):
            longer.append(p2 if len(r["output_2"]) > len(r["output_1"]) else 1 - p2)
        has = [len(_LIST_ITEM.findall(o)) >= 2 for o in (r["output_1"], r["output_2"])]
        if has[0] != has[1]:
            lists.append(p2 if has[1] else 1 - p2)
        shown = set(r.get("raw_completion") or {})
        if shown in ({"plain"}, {"swapped"}):  # AlpacaEval's protocol: one order per pair
            first.append(1 - p2 if shown == {"plain"} else p2)
    n_calls = max(run.summary["calls"] - run.summary["cached"], 1)
    details = {
        "n_pairs": len(labels),
        "n_human_labels": int(sum(len(h) for h in labels)),
        "human_human_agreement": float(np.mean(ceiling)) if ceiling else None,
        "p_prefer_longer": float(np.mean(longer)) if longer else None,
        "p_prefer_lists": float(np.mean(lists)) if lists else None,
        "p_prefer_first": float(np.mean(first)) if first else None,
        "price_per_1000": 1000
        * float(np.nansum([r.get("price_per_example") or 0.0 for r in run.records]))
        / max(len(run.records), 1),
        "seconds_per_1000": 1000 * run.summary["seconds"] / n_calls
        if run.summary["calls"] > run.summary["cached"]
        else None,
        "concurrency": concurrency,
    }
    return make_check(
        "human_agreement", per_pair, run.records, details, worst_key=lambda r: -r.get("agreement", 1.0)
    )
