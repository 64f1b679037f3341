"""Is checkpoint B better than A? Paired comparison of two candidates against the same baseline.

Both are judged on the same instructions, so the question is about the per-instruction
differences, not two separate intervals (which overlap long after the difference is clear).
- raw win rate: paired t-interval and t-test on d_i = p_B,i - p_A,i;
- LC win rate: both GLMs refitted on the same bootstrap resamples of the shared instructions;
  percentile interval of LC_B - LC_A and the p-value that inverts it (p < 0.05 exactly when the
  95% interval excludes 0).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from judgebench.files.records import InputError
from judgebench.files.textforms import nfc_instructions
from judgebench.stats.lc import bootstrap_lc, bootstrap_p_value, fit_lc, percentile_ci, resample_counts
from judgebench.stats.lc_inputs import resolve_lc_inputs


def paired_t(a, b, level: float = 0.95) -> tuple[float, float, float, float]:
    """(mean of b - a, interval low, high, two-sided p) by the paired t-test; n >= 2 pairs. Every
    difference equal: the interval is that point, p 1 if it is 0, else 0."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    d = b - a
    n, mean = len(d), float(d.mean())
    se = d.std(ddof=1) / np.sqrt(n)
    half = float(stats.t.ppf(0.5 + level / 2, n - 1) * se)
    p = float(stats.ttest_rel(b, a).pvalue) if se > 0 else (1.0 if mean == 0 else 0.0)
    return mean, mean - half, mean + half, p


def _model(annotations: pd.DataFrame, name: str) -> pd.DataFrame:
    part = annotations[annotations["generator_2"] == name]
    if part.empty:
        known = ", ".join(sorted(annotations["generator_2"].unique())[:10])
        raise InputError(
            f"no annotations for model '{name}'", field="generator_2", hint=f"known models: {known}"
        )
    return part


def paired_comparison(
    annotations: pd.DataFrame,
    model_a: str,
    model_b: str,
    difficulty: pd.Series | None = None,
    gamed: pd.DataFrame | None = None,
    n_boot: int = 2000,
    seed: int = 0,
    level: float = 0.95,
    length_controlled: bool = True,
) -> dict:
    annotations = nfc_instructions(annotations)  # joined on instruction text, by the pairs and for LC
    a, b = _model(annotations, model_a), _model(annotations, model_b)
    if a["generator_1"].iloc[0] != b["generator_1"].iloc[0]:
        raise InputError(
            f"'{model_a}' and '{model_b}' were judged against different baselines",
            field="generator_1",
            hint="a paired comparison needs the same baseline",
        )
    both = a.dropna(subset=["preference"]).merge(
        b.dropna(subset=["preference"]), on="instruction", suffixes=("_a", "_b")
    )
    n = len(both)
    if n < 2:
        raise InputError(
            f"only {n} instructions are judged for both models", hint="annotate the same instructions"
        )
    mean, low, high, p_value = paired_t(both["preference_a"], both["preference_b"], level)
    out = {
        "model_a": model_a,
        "model_b": model_b,
        "n_common": n,
        "level": level,
        "win_rate": {
            "a": 100 * (both["preference_a"].mean() - 1),
            "b": 100 * (both["preference_b"].mean() - 1),
            "difference": 100 * mean,
            "ci_low": 100 * low,
            "ci_high": 100 * high,
            "p_value": p_value,
            "method": "paired t-test",
        },
    }

    if not length_controlled:
        return out
    common = both["instruction"]
    a_c = a.set_index("instruction").loc[common].reset_index()
    b_c = b.set_index("instruction").loc[common].reset_index()
    lc = resolve_lc_inputs(pd.concat([a_c, b_c]), difficulty, gamed)
    if lc.difficulty is None:
        out["length_controlled_winrate"] = None
        out["lc_note"] = lc.source
        return out
    # As the leaderboard reports them (`LCInputs.corrected`), each with its raw win rate on these rows.
    # Joined by instruction: a paired comparison needs the rows of both models aligned.
    wr_a, wr_b = 100 * (both["preference_a"].mean() - 1), 100 * (both["preference_b"].mean() - 1)
    fit_a = fit_lc(a_c, lc.difficulty, lc.gamed, solver=lc.solver)
    fit_b = fit_lc(b_c, lc.difficulty, lc.gamed, solver=lc.solver)

    def reported(fit, values, win_rate):  # the baseline against itself stays at 50
        return values if fit.design is None else lc.corrected(values, win_rate)

    lc_a = float(reported(fit_a, fit_a.length_controlled_winrate, wr_a))
    lc_b = float(reported(fit_b, fit_b.length_controlled_winrate, wr_b))
    counts = resample_counts(n, n_boot, np.random.default_rng(seed))
    diff = reported(fit_b, bootstrap_lc(fit_b, counts), wr_b) - reported(
        fit_a, bootstrap_lc(fit_a, counts), wr_a
    )
    lo, hi = percentile_ci(diff, level)
    out["length_controlled_winrate"] = {
        "a": lc_a,
        "b": lc_b,
        "difference": lc_b - lc_a,
        "ci_low": lo,
        "ci_high": hi,
        "p_value": bootstrap_p_value(diff),
        "method": f"paired bootstrap over instructions ({n_boot} resamples, GLM refitted)",
    }
    out["lc_difficulty"] = lc.source
    return out
