"""An expensive judge's win rate from a cheap judge's judgments of every pair plus the expensive ("gold")
judge's judgments of a random few: prediction-powered inference with a tuned weight (PPI++, Angelopoulos,
Duchi and Zrnic 2023, arXiv 2311.01453).

Notation: y = the gold judge's p (preference - 1) on the n pairs it judged, f = the cheap judge's p on the
same pairs, f_u = the cheap judge's p on the other N - n pairs (N pairs in all). The estimate

    theta = lam * mean(f_u) + mean(y - lam * f)

is unbiased for any lam when the n pairs are a random subset: the cheap judge's bias is measured on them
(the "rectifier") and removed. lam = 0 is the gold judge alone; lam = 1 is plain PPI. PPI++ picks

    lam = cov(y, f) / ((1 + n / (N - n)) * var(f over all N)),   clipped to [0, 1],

which minimises the variance, so the interval is never much wider than the gold judge's alone and is
narrower the better the cheap judge tracks the gold one. The standard error and the CLT interval are
ppi-python's (`ppi_mean_ci`) with two changes, both on by default: lam is cross-fitted (each gold pair
weighted by a lam fitted on the other folds of gold pairs), which removes the small-sample bias of a lam
fitted on the pairs it weighs; and the rectifier's variance carries a pseudo-win and a pseudo-loss (`_spread`),
which keeps the interval honest near win rates of 0 and 1. `folds=None, pseudo=False` gives ppi-python's
numbers exactly.

Two targets: "population" (default) is the gold judge's win rate on the population of instructions the pairs
were drawn from, what AlpacaEval's standard error refers to; "pairs" is the win rate the gold judge would give
on exactly these N pairs (a finite population: the n judged ones are a sample without replacement from them,
so the variance carries the finite-population correction 1 - n/N and lam = cov(y, f) / var(f)).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import norm
from scipy.stats import t as student_t

from judgebench.errors import InputError

TARGETS = ("population", "pairs")
PAIR_KEY = ["generator_2", "instruction"]


def _z(level: float, df: int | None = None) -> float:
    """The interval's multiplier: normal, or Student's t with df degrees of freedom (small samples)."""
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), not {level}")
    return float(norm.ppf(0.5 + level / 2) if df is None else student_t.ppf(0.5 + level / 2, df))


def ppi_lambda(y: np.ndarray, f: np.ndarray, f_unlabeled: np.ndarray, target: str = "population") -> float:
    """PPI++'s power-tuning weight for a mean, clipped to [0, 1] (ppi-python's `_calc_lam_glm` for a mean)."""
    n, n_u = len(y), len(f_unlabeled)
    if n < 2 or n_u == 0:
        return 0.0
    cov = float(np.mean((y - y.mean()) * (f - f.mean())))
    var_f = float(np.var(np.concatenate([f, f_unlabeled]), ddof=1))
    if var_f <= 0:
        return 0.0  # a constant cheap judge carries no information
    shrink = 1 + n / n_u if target == "population" else 1.0
    return float(np.clip(cov / (shrink * var_f), 0.0, 1.0))


def crossfit_lambdas(
    y: np.ndarray, f: np.ndarray, f_unlabeled: np.ndarray, folds: int, target: str
) -> np.ndarray:
    """Each gold pair's lambda, fitted on the other folds of the gold pairs (pair i in fold i % folds).
    Why: lambda fitted on the same pairs it weighs correlates with their rectifier, a bias of order 1/n that
    shows when preferences are skewed (-0.24 points at n = 100 and a 20% win rate in the tests' simulation,
    0.15 standard errors); fitted on the other folds it is independent of them, and the bias goes."""
    fold = np.arange(len(y)) % folds
    lam = np.empty(len(y))
    for k in range(folds):
        lam[fold == k] = ppi_lambda(y[fold != k], f[fold != k], f_unlabeled, target)
    return lam


def ppi_mean(
    y,
    f,
    f_unlabeled,
    level: float = 0.95,
    lam: float | None = None,
    target: str = "population",
    folds: int | None = 5,
    pseudo: bool = True,
) -> dict:
    """PPI++ estimate of the mean of y (fractions, not percent): estimate, standard_error, lower, upper, lam.
    y, f: gold and cheap values on the n gold-judged pairs; f_unlabeled: cheap values on the other pairs.
    lam: fixed weight (0 = gold alone, 1 = plain PPI); None tunes it: cross-fitted over `folds` folds of the
    gold pairs (default, unbiased), or with folds=None on all of them, exactly as ppi-python does.
    pseudo: the rectifier's variance with two pseudo-pairs (`_spread`) and a t multiplier (n - 1 degrees of
    freedom); False: ppi-python's variance and normal multiplier."""
    if target not in TARGETS:
        raise ValueError(f"target must be one of {TARGETS}, not {target!r}")
    y, f, f_u = (np.asarray(a, float) for a in (y, f, f_unlabeled))
    n, n_u = len(y), len(f_u)
    if lam is not None:
        lams = np.full(n, float(lam))
    elif folds and folds > 1 and n >= 2 * folds:
        lams = crossfit_lambdas(y, f, f_u, folds, target)
    else:
        lams = np.full(n, ppi_lambda(y, f, f_u, target))
    lam_bar = float(lams.mean())  # the weight the cheap judge's other pairs get
    rect = y - lams * f
    spread = _spread(rect, lam_bar) if pseudo else rect.var()
    if target == "population":
        est = lam_bar * (f_u.mean() if n_u else 0.0) + rect.mean()
        var = spread / n + (lam_bar**2 * f_u.var() / n_u if n_u else 0.0)
    else:
        N = n + n_u
        est = lam_bar * np.concatenate([f, f_u]).mean() + rect.mean()
        var = (1 - n / N) * spread / n
    se = float(np.sqrt(var))
    half = _z(level, n - 1 if pseudo else None) * se
    return {
        "estimate": float(est),
        "standard_error": se,
        "lower": float(est - half),
        "upper": float(est + half),
        "lam": lam_bar,
    }


def _spread(rect: np.ndarray, lam: float) -> float:
    """The variance of the rectifier y - lam f with two pseudo-pairs added on which the judges agree, a win
    (1 - lam) and a loss (0), ddof 1: for the gold judge alone (lam 0) Agresti and Coull's pseudo-win and
    pseudo-loss. Why: near a win rate of 0 or 1 the sample variance of 100 pairs is most often too small, and
    the CLT interval too narrow where the estimate is low (coverage 0.91 on the stored models with win rates
    under 10%); the better the cheap judge (lam near 1), the less the pseudo-pairs add."""
    return float(np.var(np.concatenate([rect, [1 - lam, 0.0]]), ddof=1))


def classical_mean(y, level: float = 0.95, n_population: int | None = None, pseudo: bool = True) -> dict:
    """The gold judge alone on its n pairs: CLT interval, its variance with the same pseudo-values as
    `ppi_mean`'s (pseudo=False: ppi-python's `classical_mean_ci`); with n_population, the finite-population
    correction for the target "pairs"."""
    y = np.asarray(y, float)
    n = len(y)
    fpc = 1 - n / n_population if n_population else 1.0
    spread = _spread(y, 0.0) if pseudo else y.var()
    se = float(np.sqrt(fpc * spread / n)) if n else float("nan")
    est = float(y.mean()) if n else float("nan")
    half = _z(level, n - 1 if pseudo and n > 1 else None) * se
    return {"estimate": est, "standard_error": se, "lower": est - half, "upper": est + half}


def _clipped(r: dict) -> dict:
    return {**r, "lower": max(r["lower"], 0.0), "upper": min(r["upper"], 1.0)}


def pair_judgments(cheap: pd.DataFrame, gold: pd.DataFrame) -> pd.DataFrame:
    """One row per pair the cheap judge saw (annotation frames: instruction, generator_1, generator_2,
    preference, len_1, len_2): its preference as `cheap`, the gold judge's as `gold`, `in_gold` whether the
    gold file holds the pair (its preference NaN where that judgment failed). Every gold pair must be among
    the cheap pairs, with the same baseline."""
    keep = [*PAIR_KEY, "generator_1", "preference", *(c for c in ("len_1", "len_2") if c in cheap)]
    c = cheap[keep].rename(columns={"preference": "cheap"})
    g = gold[[*PAIR_KEY, "generator_1", "preference"]].rename(
        columns={"preference": "gold", "generator_1": "gold_baseline"}
    )
    merged = c.merge(g, on=PAIR_KEY, how="outer", indicator=True, validate="one_to_one")
    orphans = merged[merged["_merge"] == "right_only"]
    if len(orphans):
        first = orphans.iloc[0]
        raise InputError(
            f"{len(orphans)} pairs judged by the gold judge have no cheap judgment (first: model "
            f"{first['generator_2']!r}, instruction {first['instruction'][:50]!r})",
            field="instruction, generator_2",
            hint="give the cheap judge's annotations of every pair (the gold pairs are a random subset of them)",
        )
    both = merged[merged["_merge"] == "both"]
    clash = both[both["generator_1"] != both["gold_baseline"]]
    if len(clash):
        first = clash.iloc[0]
        raise InputError(
            f"{len(clash)} pairs have another baseline in the gold file (model {first['generator_2']!r}: "
            f"{first['generator_1']!r} in the cheap file, {first['gold_baseline']!r} in the gold file)",
            field="generator_1",
            hint="both files must compare the same outputs with the same baseline",
        )
    merged["in_gold"] = merged["_merge"] == "both"
    return merged.drop(columns=["_merge", "gold_baseline"]).reset_index(drop=True)


def ppi_winrate(pairs: pd.DataFrame, level: float = 0.95, target: str = "population") -> dict:
    """The gold judge's win rate (percent) from `pair_judgments` of one model: PPI++ with the cheap judge,
    and the gold judge alone on the same pairs. Pairs without a cheap verdict take no part, pairs with a
    cheap but no gold verdict (a failed gold call) count as not gold-judged; both are counted."""
    has_cheap = pairs["cheap"].notna()
    judged = pairs["in_gold"] & pairs["gold"].notna() & has_cheap
    y = pairs.loc[judged, "gold"].to_numpy(float) - 1
    f = pairs.loc[judged, "cheap"].to_numpy(float) - 1
    f_u = pairs.loc[has_cheap & ~judged, "cheap"].to_numpy(float) - 1
    n, N = len(y), int(has_cheap.sum())
    if n < 2:
        raise InputError(
            f"{n} pairs judged by both judges: too few for an interval",
            hint="judge at least 2 (better 50 or more) randomly chosen pairs with the gold judge",
        )
    ppi = ppi_mean(y, f, f_u, level, target=target)
    gold_only = classical_mean(y, level, N if target == "pairs" else None)
    width_ratio = (
        (ppi["upper"] - ppi["lower"]) / (gold_only["upper"] - gold_only["lower"])
        if gold_only["upper"] > gold_only["lower"]
        else float("nan")
    )
    ppi, gold_only = _clipped(ppi), _clipped(gold_only)  # a win rate lies in [0, 100]: so do its bounds
    pct = {k: 100 * v for k, v in ppi.items() if k != "lam"}
    return {
        "win_rate": pct["estimate"],
        "standard_error": pct["standard_error"],
        "lower": pct["lower"],
        "upper": pct["upper"],
        "lambda": ppi["lam"],
        "n_gold": n,
        "n_cheap": N,
        "n_gold_failed": int((pairs["in_gold"] & pairs["gold"].isna()).sum()),
        "n_cheap_missing": int((~has_cheap).sum()),
        "level": level,
        "target": target,
        "gold_only": {
            "win_rate": 100 * gold_only["estimate"],
            "standard_error": 100 * gold_only["standard_error"],
            "lower": 100 * gold_only["lower"],
            "upper": 100 * gold_only["upper"],
        },
        "cheap_only": {"win_rate": 100 * float(np.mean(np.concatenate([f, f_u])))},
        "width_ratio": width_ratio,
        "agreement": float(np.mean(np.sign(y - 0.5) == np.sign(f - 0.5))),
        "correlation": float(np.corrcoef(y, f)[0, 1]) if y.std() > 0 and f.std() > 0 else float("nan"),
    }
