"""`--judge jury:A,B,C` (or `jury-majority:A,B,C`): several judges run as one (AlpacaFarm's annotator pools).

Each member judges every pair as it would alone (same endpoint settings, its own calls cached in the same
store under its own key), then the jury's preference per pair is the members' mean (or majority vote,
stats.jury.aggregate). The records keep each member's preference (`jury_preferences`), so `judgebench jury`
can measure their agreement from the written file's members as well.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from judgebench.errors import ConfigError

PREFIXES = {"jury:": "mean", "jury-majority:": "majority"}


def parse_jury(judge) -> tuple[str, list[str]] | None:
    """(aggregate, member judges) for a jury spec string, else None."""
    if not isinstance(judge, str):
        return None
    for prefix, how in PREFIXES.items():
        if judge.startswith(prefix):
            members = [m.strip() for m in judge[len(prefix) :].split(",") if m.strip()]
            if len(members) < 2:
                raise ConfigError(
                    f"judge {judge!r}: a jury needs two or more member judges -> e.g. jury:alpacaeval2,local"
                )
            return how, members
    return None


def annotate_jury(config, annotate_one) -> Any:  # an AnnotationRun (annotate.py imports this module)
    """Run `annotate_one(config with judge=member)` for every member, then pool. `annotate_one` is
    annotation.annotate.annotate_files (passed in: that module dispatches here)."""
    from judgebench.stats.jury import aggregate

    how, members = parse_jury(config.judge)  # type: ignore[misc]
    runs = [annotate_one(replace(config, judge=m)) for m in members]
    first = runs[0]
    names = [f"{m}#{k}" if members.count(m) > 1 else m for k, m in enumerate(members)]
    wide = pd.DataFrame(
        {n: [r.get("preference") for r in run.records] for n, run in zip(names, runs, strict=True)},
        dtype=float,
    )
    pooled = aggregate(wide.dropna(), how).reindex(wide.index)  # a pair some member could not judge: none
    records = []
    for k, rec in enumerate(first.records):
        p = pooled.iloc[k]
        records.append(
            {
                **{key: v for key, v in rec.items() if key not in ("raw_completion",)},
                "preference": None if np.isnan(p) else float(p),
                "annotator": f"jury:{how}:" + ",".join(names),
                "jury_preferences": {
                    n: (None if np.isnan(wide.iloc[k][n]) else float(wide.iloc[k][n])) for n in names
                },
                "raw_completion": {
                    n: run.records[k].get("raw_completion") for n, run in zip(names, runs, strict=True)
                },
            }
        )
    summary = _summed([run.summary for run in runs])
    summary["pairs"] = len(records)  # the calls, tokens and cost add up over members; the pairs do not
    summary["missing_preferences"] = int(pooled.isna().sum())
    first.records, first.summary = records, summary
    first.manifest = {
        "jury": {"aggregate": how, "members": dict(zip(names, (r.manifest for r in runs), strict=True))}
    }
    return first


def _summed(summaries: list[dict]) -> dict:
    out: dict = {}
    for s in summaries:
        for k, v in s.items():
            if isinstance(v, bool) or not isinstance(v, (int, float, dict)):
                out.setdefault(k, v)
            elif isinstance(v, dict):
                merged = out.setdefault(k, {})
                for kk, vv in v.items():
                    merged[kk] = merged.get(kk, 0) + vv if isinstance(vv, (int, float)) else vv
            else:
                out[k] = out.get(k, 0) + v
    return out
