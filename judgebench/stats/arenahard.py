"""judgebench's own Arena-Hard statistic (protocol "judgebench" of stats/arenahard_official.py) and the
paired comparison the suite draws against a reference model.

    table = arena_hard_scores(battles, n_boot=100)   # one row per model: score, CI, style-controlled score, CI
    paired_difference(battles, "a", "b")             # score(a) - score(b), resampled over instructions

`battles`: one row per judged game of a candidate against the baseline: model, instruction, the
candidate's score in [0, 1] (1 win, 0.5 tie, 0 loss), its weight (a strong verdict counts 3 times) and,
for style control, the style counts of candidate (c_*) and baseline (b_*). The Bradley-Terry fit is a
weighted logistic regression without intercept on model indicators (the baseline is the reference level,
strength 0); a tied game enters twice, as a win weighted by the score and a loss weighted by the rest. A
model's score is its predicted win rate against the baseline, 100 * sigmoid(beta); the interval the
2.5/97.5 percentiles of refits on games resampled with replacement (the official scripts resample
repeated battle rows, so their intervals are narrower: docs/accuracy.md).

Style control adds, per game, the normalised differences (c - b) / (c + b) of the style counts, each
divided by its standard deviation and not centred: zero means "same style as the baseline", so
sigmoid(beta) is the win rate the judge would give at equal style.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from judgebench.files.records import InputError
from judgebench.stats.lc import bootstrap_p_value

STYLE_FEATURES = ("length", "headers", "lists", "bold")


def style_differences(battles: pd.DataFrame) -> np.ndarray:
    """(c - b) / (c + b) per feature (0 where both are 0), scaled by each feature's standard deviation."""
    c = battles[[f"c_{f}" for f in STYLE_FEATURES]].to_numpy(float)
    b = battles[[f"b_{f}" for f in STYLE_FEATURES]].to_numpy(float)
    total = c + b
    diff = np.divide(c - b, total, out=np.zeros_like(total), where=total > 0)
    sd = diff.std(axis=0)
    return diff / np.where(sd > 0, sd, 1.0)


def _fit(x: np.ndarray, score: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Coefficients of the weighted Bradley-Terry logistic regression (no intercept, no penalty).
    Battles with the same covariates are pooled first (their win and loss weights add: the likelihood
    is the same), which turns the plain model's fit into one over a handful of rows."""
    from scipy.linalg import LinAlgWarning
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    rows, inverse = np.unique(x, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    wins = np.bincount(inverse, weights=weight * score, minlength=len(rows))
    losses = np.bincount(inverse, weights=weight * (1.0 - score), minlength=len(rows))
    xx = np.vstack([rows, rows])
    y = np.r_[np.ones(len(rows)), np.zeros(len(rows))]
    w = np.r_[wins, losses]
    keep = w > 0
    if len(np.unique(y[keep])) < 2:  # every game won (or lost): the strength is unbounded
        return np.where(np.abs(x).sum(0) > 0, np.inf if y[keep].mean() == 1 else -np.inf, 0.0)
    with warnings.catch_warnings():
        # separable or collinear resamples (tiny runs): the solver falls back or stops at large
        # coefficients, which is the right answer (a win rate near 0 or 100)
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", LinAlgWarning)
        lr = LogisticRegression(
            C=np.inf, fit_intercept=False, solver="newton-cholesky", tol=1e-10, max_iter=200
        )
        lr.fit(xx[keep], y[keep], sample_weight=w[keep])
    return lr.coef_[0]


def _design(battles: pd.DataFrame, models: list[str], style: bool) -> np.ndarray:
    index = {m: i for i, m in enumerate(models)}
    x = np.zeros((len(battles), len(models)))
    x[np.arange(len(battles)), battles["model"].map(index).to_numpy()] = 1.0
    return np.hstack([x, style_differences(battles)]) if style else x


def _win_rate(beta: np.ndarray) -> np.ndarray:
    return 100.0 / (1.0 + np.exp(-beta))


def bt_scores(battles: pd.DataFrame, style: bool = False) -> pd.Series:
    """Each model's score against the baseline (0-100); with style=True, at equal style."""
    models = sorted(battles["model"].unique())
    coef = _fit(
        _design(battles, models, style), battles["score"].to_numpy(float), battles["weight"].to_numpy(float)
    )
    return pd.Series(_win_rate(coef[: len(models)]), index=models)


def arena_hard_scores(
    battles: pd.DataFrame, n_boot: int = 100, seed: int = 0, style: bool = True
) -> pd.DataFrame:
    """score, ci_low, ci_high (and style_controlled, sc_ci_low, sc_ci_high) per model, plus n_battles."""
    if battles.empty:
        raise InputError("no judged battles against the baseline", hint="every Arena-Hard judgment failed")
    models = sorted(battles["model"].unique())
    score, weight = battles["score"].to_numpy(float), battles["weight"].to_numpy(float)
    designs = {"score": _design(battles, models, False)}
    if style:
        designs["style_controlled"] = _design(battles, models, True)
    rng = np.random.default_rng(seed)
    samples = [rng.integers(0, len(battles), len(battles)) for _ in range(n_boot)]
    out = pd.DataFrame(index=pd.Index(models, name="model"))
    for name, x in designs.items():
        out[name] = _win_rate(_fit(x, score, weight)[: len(models)])
        boot = np.array([_win_rate(_fit(x[i], score[i], weight[i])[: len(models)]) for i in samples])
        prefix = "" if name == "score" else "sc_"
        if n_boot:
            out[f"{prefix}ci_low"], out[f"{prefix}ci_high"] = np.nanpercentile(boot, [2.5, 97.5], axis=0)
    out["n_battles"] = battles.groupby("model").size().reindex(models).to_numpy()
    out["n_instructions"] = battles.groupby("model")["instruction"].nunique().reindex(models).to_numpy()
    return out


def paired_difference(
    battles: pd.DataFrame, model: str, reference: str, n_boot: int = 500, seed: int = 0, style: bool = False
) -> dict:
    """Score(model) - score(reference), both refitted on the same instructions resampled with
    replacement (paired over instructions); percentile interval and the p-value that inverts it."""
    both = battles[battles["model"].isin([model, reference])]
    shared = sorted(
        set(both.loc[both["model"] == model, "instruction"])
        & set(both.loc[both["model"] == reference, "instruction"])
    )
    if len(shared) < 2:
        raise InputError(
            f"only {len(shared)} Arena-Hard instructions are judged for both {model} and {reference}"
        )
    both = both[both["instruction"].isin(shared)].reset_index(drop=True)
    rows_of = both.groupby("instruction").indices
    estimate = bt_scores(both, style)
    rng = np.random.default_rng(seed)
    diffs: list[float] = []
    for _ in range(n_boot):
        picked = rng.integers(0, len(shared), len(shared))
        idx = np.concatenate([rows_of[shared[k]] for k in picked])
        s = bt_scores(both.iloc[idx], style)
        diffs.append(s[model] - s[reference])
    draws = np.array(diffs)
    lo, hi = np.nanpercentile(draws, [2.5, 97.5]) if n_boot else (np.nan, np.nan)
    return {
        "difference": float(estimate[model] - estimate[reference]),
        "ci_low": float(lo),
        "ci_high": float(hi),
        "p_value": bootstrap_p_value(draws),
        "n": len(shared),
        "method": f"paired bootstrap over instructions ({n_boot} resamples, Bradley-Terry refitted)",
    }
