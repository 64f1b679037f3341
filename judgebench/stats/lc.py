"""Length-controlled win rate: AlpacaEval's `length_controlled_v1` GLM, fitted fast, with bootstrap CIs.

Model (per candidate, logistic, no intercept), target p = preference - 1 as a soft label:
    logit P(candidate wins) = w_len * tanh(std_delta_len) + w_diff * difficulty + w_ng * not_gamed
std_delta_len is (len(baseline) - len(candidate)) / std over the candidate's rows (characters, ddof 1).
The gamed baselines (the baseline prompted to be verbose / concise, judged against the plain
baseline) enter with not_gamed = 0 and weight 0.1 each, which anchors w_len on pure length effects.
LC = mean over the candidate's instructions of sigmoid(w_diff * d_i + w_ng): the predicted win rate
had both outputs been the same length.

Differences from AlpacaEval, each deliberate:
- difficulty is joined by instruction text unless the caller passes `row_difficulty`: AlpacaEval
  looks it up by row position, which misaligns files with fewer rows than the eval set; the
  leaderboard imitates that only to reproduce AlpacaEval's figures (`alpacaeval_lc.row_position_difficulty`);
- the fit is `glm.fit_l1_logistic`, the same objective as liblinear's, batched, so the bootstrap
  over instructions (GLM refitted per resample, C held at its cross-validated value) is affordable.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import expit

from judgebench.files.records import InputError
from judgebench.stats.glm import cv_select_C, fit_l1_logistic, liblinear_cv_fit

GAMED_WEIGHT = 0.1  # AlpacaEval: lambda 0.2 split over the two gamed baselines
N_FOLDS = 5
FEATURES = ("np.tanh(std_delta_len)", "instruction_difficulty", "not_gamed_baseline.astype(float)")


def standardized_delta_len(len_1, len_2) -> np.ndarray:
    """(len(baseline) - len(candidate)) / its standard deviation (ddof 1), lengths in characters."""
    delta = np.asarray(len_1, float) - np.asarray(len_2, float)
    sd = delta.std(ddof=1) if len(delta) > 1 else 0.0
    return delta / sd if sd > 0 else np.zeros_like(delta)


def gamed_rows_from_annotations(annotations: pd.DataFrame) -> pd.DataFrame:
    """Gamed-baseline annotations -> rows (generator, instruction, std_delta_len, preference),
    standardised per gamed generator as AlpacaEval's df_gamed is."""
    parts = []
    for gen, part in annotations.groupby("generator_2", sort=False):
        parts.append(
            pd.DataFrame(
                {
                    "generator": gen,
                    "instruction": part["instruction"].to_numpy(),
                    "std_delta_len": standardized_delta_len(part["len_1"], part["len_2"]),
                    "preference": part["preference"].to_numpy(float),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


@dataclass
class LCDesign:
    """Training rows (gamed first, then the candidate's rows with a preference) and prediction rows."""

    X: np.ndarray  # (n_train, 3)
    p: np.ndarray  # (n_train,) soft targets in [0, 1]
    s: np.ndarray  # (n_train,) row weights
    folds: np.ndarray  # (n_train,) CV fold of each row
    difficulty: np.ndarray  # (n_model,) difficulty of each candidate row, for prediction
    model_pref: np.ndarray  # (n_model,) candidate preferences in [1, 2], NaN = missing
    train_model_row: np.ndarray  # (n_train,) index into the candidate rows, -1 for gamed rows
    gamed_model_row: np.ndarray  # (n_train,) candidate row with the same instruction (gamed rows), else -1


def _lookup_difficulty(instructions: pd.Series, difficulty: pd.Series, what: str) -> np.ndarray:
    d = instructions.map(difficulty)
    missing = d.isna().to_numpy()
    if missing.any():
        examples = "; ".join(repr(s[:50]) for s in instructions[missing].head(3))
        raise InputError(
            f"{int(missing.sum())} {what} instructions have no difficulty ({examples})",
            field="instruction_difficulty",
            hint="pass --difficulty for this eval set, or estimate one with `judgebench difficulty`",
        )
    return d.to_numpy(float)


def build_design(
    model: pd.DataFrame,
    difficulty: pd.Series,
    gamed: pd.DataFrame | None,
    row_difficulty: np.ndarray | None = None,
) -> LCDesign:
    """model: one candidate's annotations (instruction, len_1, len_2, preference in [1, 2]).
    row_difficulty: the difficulty of each candidate row, where it is not looked up by instruction
    (AlpacaEval's row-position lookup, `alpacaeval_lc.row_position_difficulty`)."""
    if row_difficulty is None:
        d_model = _lookup_difficulty(model["instruction"], difficulty, "candidate")
    else:
        d_model = np.asarray(row_difficulty, float)
    sdl = standardized_delta_len(model["len_1"], model["len_2"])
    pref = model["preference"].to_numpy(float)
    has = ~np.isnan(pref)
    X_m = np.column_stack([np.tanh(sdl), d_model, np.ones_like(sdl)])[has]
    rows_m = np.flatnonzero(has)
    parts_X, parts_p, parts_s, parts_rm, parts_gm = [], [], [], [], []
    if gamed is not None and len(gamed):
        g = gamed[gamed["preference"].notna()]
        d_g = _lookup_difficulty(g["instruction"], difficulty, "gamed-baseline")
        parts_X.append(np.column_stack([np.tanh(g["std_delta_len"].to_numpy(float)), d_g, np.zeros(len(g))]))
        parts_p.append(g["preference"].to_numpy(float) - 1)
        parts_s.append(np.full(len(g), GAMED_WEIGHT))
        parts_rm.append(np.full(len(g), -1))
        pos = pd.Series(np.arange(len(model)), index=model["instruction"].to_numpy())
        parts_gm.append(g["instruction"].map(pos).fillna(-1).to_numpy(int))
    parts_X.append(X_m)
    parts_p.append(pref[has] - 1)
    parts_s.append(np.ones(len(rows_m)))
    parts_rm.append(rows_m)
    parts_gm.append(np.full(len(rows_m), -1))
    X = np.vstack(parts_X)
    n = len(X)
    # sklearn's GroupKFold on equal-sized groups deals rows out from the last: fold = (n - 1 - i) % 5.
    folds = (n - 1 - np.arange(n)) % N_FOLDS
    return LCDesign(
        X,
        np.concatenate(parts_p),
        np.concatenate(parts_s),
        folds,
        d_model,
        pref,
        np.concatenate(parts_rm),
        np.concatenate(parts_gm),
    )


@dataclass
class LCFit:
    length_controlled_winrate: float
    lc_standard_error: float  # AlpacaEval's figure: spread of the per-row predictions only
    weights: dict = field(default_factory=dict)
    C: float = np.nan
    design: LCDesign | None = None


def predict_lc(w: np.ndarray, difficulty: np.ndarray) -> np.ndarray:
    """Per-row win probability with the length term set to zero. w: (..., 3)."""
    w = np.atleast_2d(w)
    return expit(w[:, 1:2] * difficulty[None, :] + w[:, 2:3])


def fit_lc(
    model: pd.DataFrame,
    difficulty: pd.Series,
    gamed: pd.DataFrame | None,
    solver: str = "fast",
    row_difficulty: np.ndarray | None = None,
) -> LCFit:
    """AlpacaEval's LC for one candidate; the baseline against itself is 50 by construction.

    solver "fast": the exact optimum of each penalised fit (judgebench's default);
    "liblinear": scikit-learn's liblinear exactly as AlpacaEval calls it (slow; same C choice
    where AlpacaEval's cross-validation scores two penalties within its solver's noise)."""
    if (model["generator_1"] == model["generator_2"]).all():
        return LCFit(50.0, 0.0, dict.fromkeys(FEATURES, 0.0))
    design = build_design(model, difficulty, gamed, row_difficulty)
    if solver == "liblinear":
        C, w = liblinear_cv_fit(design.X, design.p, design.s, design.folds)
    elif solver == "fast":
        C, _ = cv_select_C(design.X, design.p, design.s, design.folds)
        w = fit_l1_logistic(design.X, design.p, design.s[None, :], np.array([C]))[0]
    else:
        raise ValueError(f"unknown LC solver {solver!r}: use 'fast' or 'liblinear'")
    pred = predict_lc(w, design.difficulty)[0]
    sem = pred.std(ddof=1) / np.sqrt(len(pred)) if len(pred) > 1 else np.nan
    return LCFit(100 * pred.mean(), 100 * sem, dict(zip(FEATURES, w, strict=True)), C, design)


def resample_counts(n: int, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """How often each of n instructions is drawn in each of n_boot bootstrap resamples."""
    return rng.multinomial(n, np.full(n, 1.0 / n), size=n_boot).astype(float)


def bootstrap_lc(
    fit: LCFit, counts: np.ndarray, chunk: int = 250, predict_on: np.ndarray | None = None
) -> np.ndarray:
    """LC (percent) refitted on each resample. counts: (B, n_model_rows) draws per candidate row;
    the gamed rows of a drawn instruction come along with it. predict_on: difficulties to average the
    length-free prediction over (default: the drawn rows'; tinyBenchmarks passes the whole eval set)."""
    if fit.design is None:  # baseline vs itself
        return np.full(len(counts), fit.length_controlled_winrate)
    d = fit.design
    out = np.empty(len(counts))
    for lo in range(0, len(counts), chunk):
        c = counts[lo : lo + chunk]
        mult = np.where(d.train_model_row >= 0, c[:, np.maximum(d.train_model_row, 0)], 1.0)
        mult = np.where(d.gamed_model_row >= 0, c[:, np.maximum(d.gamed_model_row, 0)], mult)
        w0 = np.array(list(fit.weights.values()))  # resamples stay close to the full-data fit
        W = fit_l1_logistic(d.X, d.p, d.s[None, :] * mult, np.full(len(c), fit.C), w0=w0)
        if predict_on is not None:
            out[lo : lo + chunk] = 100 * predict_lc(W, predict_on).mean(1)
            continue
        pred = predict_lc(W, d.difficulty)
        out[lo : lo + chunk] = 100 * (pred * c).sum(1) / c.sum(1)
    return out


def bootstrap_winrate(preference: np.ndarray, counts: np.ndarray) -> np.ndarray:
    has = ~np.isnan(preference)
    c = counts[:, has]
    return 100 * (c @ (preference[has] - 1)) / c.sum(1)


def bootstrap_p_value(draws: np.ndarray) -> float:
    """Two-sided p-value of "the difference is 0" that inverts the percentile interval of bootstrap draws
    (p < 0.05 exactly when the 95% interval excludes 0), at least 1 / draws; NaN without draws."""
    draws = np.asarray(draws, float)
    if not len(draws):
        return float("nan")
    p = min(1.0, 2 * min((draws <= 0).mean(), (draws >= 0).mean()))
    return float(max(p, 1.0 / len(draws)))


def percentile_ci(samples: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    a = (1 - level) / 2
    lo, hi = np.quantile(samples, [a, 1 - a])
    return float(lo), float(hi)
