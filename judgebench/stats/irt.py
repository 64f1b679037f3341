"""tinyBenchmarks for pairwise judges: a win rate from ~100 judgments instead of 805 (arXiv 2402.14992),
as a design-based estimate that holds for models the fit has never seen.

Design. The items are sorted by the fitted models' mean score and cut into n strata, smaller where the
fitted models' residuals spread more (items everyone loses need few anchors); one anchor
is drawn at random inside each stratum, so every item's inclusion probability (1 / stratum size) is
known. Many such draws are made and the shipped one is the draw with the least expected error, that
is the mean squared error of its estimate over the fitted models when each is predicted by an IRT
fit that left it out (K-fold over models). A set picked for its luck on the fitted models would carry
that luck to every new model as a shared bias; the expected-error criterion picks among sets that are
each unbiased by construction.

Estimators of a new model's full win rate from its anchor scores y_h (h = stratum):
- difference (recommended): the IRT prediction f_j over all N items is a control variate,
      estimate = mean_j f_j + sum_h W_h (y_h - f_anchor(h)),   W_h = N_h / N;
  f uses the new model's ability fitted to its anchors (a rank-1 logistic, `fit_2pl` with dim 1 by
  default: P(win) = sigmoid(theta a_j - b_j)). Whatever the model (even one whose wins ignore item
  difficulty, like a null model), the residual term is a stratified estimate of the mean residual, so
  the estimate is design-unbiased; a good f only makes it more precise.
- stratified: sum_h W_h y_h, the same design without the control variate;
- p-irt: the IRT prediction alone (observed anchors + predictions elsewhere), for comparison: it is
  not design-unbiased and gets no interval.
Interval: from the design variance. With one draw per stratum the within-stratum variance is not
identifiable, so strata are collapsed in consecutive pairs (a standard, conservative estimator:
v = sum over pairs of (W_h r_h - W_k r_k)^2 for the residuals r); its multiplier is the 95th percentile
of |error| / sqrt(v) over random draws on the fitted models, each predicted by a fit that left it
out. bench/tiny.py checks the coverage on models outside the fit altogether.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import MISSING, asdict, dataclass, field
from dataclasses import fields as dataclasses_fields
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import expit

from judgebench.files.records import InputError
from judgebench.files.textforms import nfc_instructions
from judgebench.stats.difficulty import instruction_key

FORMAT_VERSION = 2
MAX_FAILED_ANCHORS = 0.1  # share of anchors that may lack a verdict before estimate refuses
ESTIMATORS = ("difference", "stratified", "p-irt")
RECOMMENDED = "difference"


def score_matrix(annotations: pd.DataFrame) -> pd.DataFrame:
    """Models x instructions frame of p = preference - 1 (NaN where absent); the baseline's self-
    comparison is left out."""
    df = nfc_instructions(annotations[annotations["generator_1"] != annotations["generator_2"]])
    return (
        df.pivot_table(index="generator_2", columns="instruction", values="preference", aggfunc="first") - 1
    )


def _unpack(x, n_models, n_items, dim):
    theta = x[: n_models * dim].reshape(n_models, dim)
    rest = x[n_models * dim :]
    a = rest[: n_items * dim].reshape(n_items, dim)
    b = rest[n_items * dim :]
    return theta, a, b


def fit_2pl(Y: np.ndarray, dim: int, seed: int = 0, prior: float = 1.0, max_iter: int = 500):
    """(theta, a, b) maximising the fractional-Bernoulli likelihood of Y (NaN = missing) under
    N(0, prior^-1) priors. Deterministic for a seed."""
    n_models, n_items = Y.shape
    has = ~np.isnan(Y)
    Yz = np.where(has, Y, 0.0)
    rng = np.random.default_rng(seed)
    mean = np.clip(np.nanmean(Y, axis=0), 0.01, 0.99)
    x0 = np.concatenate(
        [
            0.1 * rng.standard_normal(n_models * dim),
            0.1 * rng.standard_normal(n_items * dim),
            -np.log(mean / (1 - mean)),
        ]
    )

    def loss(x):
        theta, a, b = _unpack(x, n_models, n_items, dim)
        eta = theta @ a.T - b[None, :]
        q = expit(eta)
        ll = np.where(has, Yz * eta - np.logaddexp(0, eta), 0.0).sum()
        r = np.where(has, q - Yz, 0.0)  # d(-ll)/d eta
        g_theta = r @ a + prior * theta
        g_a = r.T @ theta + prior * a
        g_b = -r.sum(0) + prior * 0.1 * b
        f = -ll + 0.5 * prior * ((theta**2).sum() + (a**2).sum() + 0.1 * (b**2).sum())
        return f, np.concatenate([g_theta.ravel(), g_a.ravel(), g_b])

    res = minimize(loss, x0, jac=True, method="L-BFGS-B", options={"maxiter": max_iter})
    return _unpack(res.x, n_models, n_items, dim)


def fit_theta(y: np.ndarray, a: np.ndarray, b: np.ndarray, prior: float = 1.0) -> np.ndarray:
    """A new model's theta from its scores y on items (a, b): MAP by Newton's method."""
    theta = np.zeros(a.shape[1])
    for _ in range(50):
        q = expit(a @ theta - b)
        g = a.T @ (y - q) - prior * theta
        H = (a * (q * (1 - q))[:, None]).T @ a + prior * np.eye(len(theta))
        step = np.linalg.solve(H, g)
        theta += step
        if np.abs(step).max() < 1e-10:
            break
    return theta


@dataclass
class TinyModel:
    """What `tiny fit` writes: everything `tiny estimate` needs, as plain JSON."""

    version: int
    eval_set_hash: str
    item_keys: list[str]  # instruction_key of every item, in order
    dim: int
    a: list[list[float]]
    b: list[float]
    anchors: list[int]  # item index of each stratum's anchor, strata in order of mean score
    anchor_keys: list[str]
    weights: list[float]  # W_h = N_h / N of each anchor's stratum
    stratum_of: list[int]  # every item's stratum: its inclusion probability is 1 / its stratum's size
    interval_z: float  # multiplier of the design standard error for a 95% interval (calibrated)
    expected_error: dict = field(
        default_factory=dict
    )  # leave-models-out RMS error, points: chosen / typical draw
    fitted_on: list[str] = field(default_factory=list)
    excluded: dict = field(default_factory=dict)  # model -> why it was left out of the fit
    seed: int = 0
    n_draws: int = 0
    # how interval_z was set: the multiplier each calibration asked for (nested: models outside everything)
    calibration: dict = field(default_factory=dict)
    # the fitted models' lowest and highest win rate (0-1), and the multiplier for a model estimated outside
    # them, calibrated on the fitted models at either end each left out with its neighbours (None: as inside)
    fitted_range: list[float] | None = None
    interval_z_outside: float | None = None

    def save(self, path: str | Path) -> None:
        from judgebench.files.atomic import atomic_write

        atomic_write(path, json.dumps({"format": "judgebench-tiny", **asdict(self)}, indent=1))

    @classmethod
    def load(cls, path: str | Path) -> TinyModel:
        """A tiny file, its whole schema checked before any number is computed from it."""
        from judgebench.files.records import read_json

        data = read_json(path, dict, "a judgebench tiny file (a JSON object)")
        if data.pop("format", None) != "judgebench-tiny":
            raise InputError(
                "not a judgebench tiny file", path=path, hint="write one with `judgebench tiny fit`"
            )
        if data.get("version") != FORMAT_VERSION:
            raise InputError(
                f"tiny file of version {str(data.get('version'))[:20]}, this judgebench reads {FORMAT_VERSION}",
                path=path,
                hint="refit with `judgebench tiny fit`",
            )
        check_tiny(data, path)
        return cls(**data)


def _tiny_error(path, field: str, why: str) -> InputError:
    return InputError(
        why, path=path, field=field, hint="the file is damaged or edited; refit with `judgebench tiny fit`"
    )


def _numbers(data: dict, field: str, path, length: int | None, *, minimum: float | None = None) -> np.ndarray:
    values = data[field]
    if not isinstance(values, list) or any(
        isinstance(v, bool) or not isinstance(v, int | float) for v in values
    ):
        raise _tiny_error(path, field, "must be a list of numbers")
    if length is not None and len(values) != length:
        raise _tiny_error(path, field, f"has {len(values)} entries, expected {length}")
    arr = np.asarray(values, dtype=float)
    if not np.isfinite(arr).all():
        raise _tiny_error(
            path, field, f"entry {int(np.flatnonzero(~np.isfinite(arr))[0])} is not a finite number"
        )
    if minimum is not None and (arr < minimum).any():
        raise _tiny_error(path, field, f"entry {int(np.flatnonzero(arr < minimum)[0])} is below {minimum}")
    return arr


def _whole_numbers(data: dict, field: str, path, length: int | None, below: int) -> None:
    values = data[field]
    if not isinstance(values, list) or any(isinstance(v, bool) or not isinstance(v, int) for v in values):
        raise _tiny_error(path, field, "must be a list of whole numbers")
    if length is not None and len(values) != length:
        raise _tiny_error(path, field, f"has {len(values)} entries, expected {length}")
    bad = [i for i, v in enumerate(values) if not 0 <= v < below]
    if bad:
        raise _tiny_error(path, field, f"entry {bad[0]} ({values[bad[0]]}) is outside 0..{below - 1}")


def check_tiny(data: dict, path) -> None:
    """Every field of a tiny file present, of its type, consistent with the others and in range (one
    InputError naming the file and the field): a damaged file must not give numbers."""
    fields = {f.name: f for f in dataclasses_fields(TinyModel)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise _tiny_error(path, str(unknown[0])[:40], "is not a field of a tiny file")
    required = [n for n, f in fields.items() if f.default is MISSING and f.default_factory is MISSING]
    missing = [n for n in required if n not in data]
    if missing:
        raise _tiny_error(path, missing[0], "is missing")
    for name in ("eval_set_hash",):
        if not isinstance(data[name], str):
            raise _tiny_error(path, name, "must be text")
    for name in ("item_keys", "anchor_keys", "fitted_on"):
        if name in data and (
            not isinstance(data[name], list) or not all(isinstance(k, str) for k in data[name])
        ):
            raise _tiny_error(path, name, "must be a list of text")
    for name in ("expected_error", "excluded"):
        if name in data and not isinstance(data[name], dict):
            raise _tiny_error(path, name, "must be an object")
    for name, low in (("dim", 1), ("seed", 0), ("n_draws", 0)):
        v = data.get(name, low)
        if isinstance(v, bool) or not isinstance(v, int) or v < low:
            raise _tiny_error(path, name, f"must be a whole number of at least {low}")
    n, dim = len(data["item_keys"]), data["dim"]
    if n == 0:
        raise _tiny_error(path, "item_keys", "is empty")
    a = data["a"]
    if not isinstance(a, list) or len(a) != n:
        raise _tiny_error(path, "a", f"must hold one row per item ({n})")
    for i, row in enumerate(a):
        if not isinstance(row, list):
            raise _tiny_error(path, "a", f"row {i} is not a list of {dim} numbers")
        _numbers({"a": row}, "a", path, dim)
    _numbers(data, "b", path, n)  # item difficulties: NaN would silently poison every estimate
    n_anchors = len(data["anchors"]) if isinstance(data["anchors"], list) else 0
    if n_anchors == 0:
        raise _tiny_error(path, "anchors", "must be a non-empty list")
    _whole_numbers(data, "anchors", path, None, n)
    if len(data["anchor_keys"]) != n_anchors:
        raise _tiny_error(
            path, "anchor_keys", f"has {len(data['anchor_keys'])} entries, expected {n_anchors}"
        )
    weights = _numbers(data, "weights", path, n_anchors, minimum=0)
    if (weights <= 0).any() or abs(weights.sum() - 1) > 1e-6:
        raise _tiny_error(
            path, "weights", "must be positive and sum to 1 (each stratum's share of the items)"
        )
    _whole_numbers(data, "stratum_of", path, n, n_anchors)
    for name in ("interval_z", "interval_z_outside"):
        z = data.get(name, 1.0 if name == "interval_z_outside" else None)
        if name == "interval_z_outside" and z is None:
            continue
        if isinstance(z, bool) or not isinstance(z, int | float) or not np.isfinite(z) or z <= 0:
            raise _tiny_error(path, name, f"must be a positive number, got {str(z)[:30]}")
    if data.get("fitted_range") is not None:
        low, high = _numbers(data, "fitted_range", path, 2, minimum=0)
        if not low <= high <= 1:
            raise _tiny_error(path, "fitted_range", "must be [lowest, highest] win rate, within 0..1")


def _eval_set_hash(keys: list[str]) -> str:
    return hashlib.sha256("".join(sorted(keys)).encode()).hexdigest()[:16]


def make_strata(Y: np.ndarray, n_strata: int, residuals: np.ndarray) -> list[np.ndarray]:
    """Item indices of n strata of the items sorted by the models' mean score (lowest first).

    residuals: models x items, from fits that left each model out; a stratum is smaller where the residuals spread more, so that W_h times the residual spread
    is about the same in every stratum: with one draw per stratum that is what minimises
    sum_h W_h^2 S_h^2 (Dalenius-Hodges' cumulative rule)."""
    order = np.argsort(Y.mean(axis=0), kind="stable")
    spread = np.sqrt((residuals[:, order] ** 2).mean(axis=0))
    window = max(3, len(order) // n_strata) | 1
    smooth = np.convolve(np.pad(spread, window // 2, mode="edge"), np.ones(window) / window, mode="valid")
    cum = np.cumsum(smooth)
    cuts = np.searchsorted(cum, cum[-1] * np.arange(1, n_strata) / n_strata)
    # every stratum keeps at least one item: the cuts strictly increasing, in 1..len - 1 (cut k - k is
    # non-decreasing and in 1..len - n + 1); equal cuts left empty strata where the spread is concentrated
    k = np.arange(n_strata - 1)
    shifted = np.clip(cuts - k, 1, len(order) - n_strata + 1)
    return np.split(order, np.maximum.accumulate(shifted) + k)


def strata_of(tiny: TinyModel) -> list[np.ndarray]:
    """The tiny file's strata as item-index arrays, in order."""
    labels = np.array(tiny.stratum_of)
    return [np.flatnonzero(labels == h) for h in range(len(tiny.anchors))]


def draw_anchors(strata: list[np.ndarray], rng: np.random.Generator, n_draws: int) -> np.ndarray:
    """(n_draws, n_strata) item indices: one item uniformly at random inside each stratum, per draw."""
    sizes = np.array([len(s) for s in strata])
    pick = (rng.random((n_draws, len(strata))) * sizes).astype(int)
    return np.stack([s[pick[:, h]] for h, s in enumerate(strata)], axis=1)


def _pair_groups(n: int) -> list[slice]:
    """Consecutive strata collapsed in pairs (the last three together when n is odd)."""
    if n < 2:
        return []
    cuts = list(range(0, n - 1, 2))
    if n % 2:
        cuts = cuts[:-1]
    return [slice(c, c + 2) for c in cuts[:-1]] + [slice(cuts[-1], n)]


def collapsed_variance(t: np.ndarray) -> np.ndarray:
    """Collapsed-strata variance of sum_h t_h (t_h = W_h r_h, strata on the last axis, in order):
    sum over groups of G / (G - 1) * sum_h (t_h - mean_g t)^2."""
    v = np.zeros(t.shape[:-1])
    for g in _pair_groups(t.shape[-1]):
        part = t[..., g]
        G = part.shape[-1]
        v = v + G / (G - 1) * ((part - part.mean(-1, keepdims=True)) ** 2).sum(-1)
    return v


def estimates(tiny: TinyModel, y_anchor: np.ndarray) -> dict:
    """Each estimator's win rate (0-1) and the difference estimator's design standard error, from
    the anchor scores (in the order of tiny.anchors; NaN = an anchor without a judgment, or missing from
    the annotations: left out, the residual weights renormalised over the rest, and the standard error
    widened for the strata it stood for)."""
    return _estimates(
        np.array(tiny.a), np.array(tiny.b), np.array(tiny.anchors), np.array(tiny.weights), y_anchor
    )


def _estimates(
    a: np.ndarray, b: np.ndarray, anchors: np.ndarray, weights: np.ndarray, y_anchor: np.ndarray
) -> dict:
    have = ~np.isnan(y_anchor)
    anchors, y = anchors[have], y_anchor[have]
    w = weights[have] / weights[have].sum()
    theta = fit_theta(y, a[anchors], b[anchors])
    f = expit(a @ theta - b)
    residual = y - f[anchors]
    difference = float(f.mean() + w @ residual)
    stratified = float(w @ y)
    rest = np.setdiff1d(np.arange(len(b)), anchors)
    pirt = float((y.sum() + f[rest].sum()) / len(b))
    # An absent anchor's stratum is estimated by the others': its error is its weight times how far its
    # residual (its score) may lie from theirs, a spread the present anchors show.
    absent = float((weights[~have] ** 2).sum()) / weights.sum() ** 2
    extra_r = absent * (residual.var(ddof=1) if len(y) > 1 else 0.0)
    extra_y = absent * (y.var(ddof=1) if len(y) > 1 else 0.0)
    return {
        "difference": difference,
        "stratified": stratified,
        "p-irt": pirt,
        "se": {
            "difference": float(np.sqrt(collapsed_variance(w * residual) + extra_r)),
            "stratified": float(np.sqrt(collapsed_variance(w * y) + extra_y)),
        },
    }


def _oof_residuals(Y: np.ndarray, dim: int, seed: int, folds: int):
    """y - f for every fitted model, f from an IRT fit that left the model's fold out (the model's
    ability fitted on all its items: the draws' criterion needs residuals, not one anchor set's fit);
    also each model's fold and each fold's fit (a, b), for the nested calibration."""
    R = np.empty_like(Y)
    fold_of = np.random.default_rng(seed + 7).permutation(len(Y)) % folds
    fits = []
    for k in range(folds):
        _, a, b = fit_2pl(Y[fold_of != k], dim, seed)
        fits.append((a, b))
        for i in np.flatnonzero(fold_of == k):
            R[i] = Y[i] - expit(a @ fit_theta(Y[i], a, b) - b)
    return R, fold_of, fits


def _choose_draw(Y: np.ndarray, R: np.ndarray, n_strata: int, rng: np.random.Generator, n_draws: int):
    """Strata, their weights, the candidate draws, each draw's error on each model, and the chosen draw's
    index (least mean squared error over the models): the design `fit_tiny` ships."""
    strata = make_strata(Y, n_strata, R)
    W = np.array([len(s) for s in strata]) / Y.shape[1]
    draws = draw_anchors(strata, rng, n_draws)
    T = R[:, draws] * W  # (models, draws, strata)
    err = T.sum(-1) - R.mean(axis=1, keepdims=True)  # each draw's error on each model (0-1 units)
    return strata, W, draws, T, err, int(np.argmin((err**2).mean(axis=0)))


NESTED_RANDOM_DRAWS = 20  # random draws per held-out model in the nested calibration, beside the chosen one


def _nested_z(Y, R, fold_of, fits, n_anchors, n_draws, seed) -> dict:
    """|error| / standard error of the shipped estimator on models outside the IRT fit, the strata and the
    draw choice: per fold, the design is rebuilt (strata, best draw) from the other folds' models alone, and
    each left-out model is estimated from that draw's anchors (and from random draws of the same strata) with
    the fold's IRT fit that never saw it, its ability fitted to those anchors alone, as `estimate` does."""
    rng = np.random.default_rng(seed + 13)
    chosen: list[float] = []
    random_draws: list[float] = []
    for k, (a, b) in enumerate(fits):
        train, test = np.flatnonzero(fold_of != k), np.flatnonzero(fold_of == k)
        if len(train) < 2 or not len(test):
            continue
        strata, W, draws, _, _, best = _choose_draw(Y[train], R[train], n_anchors, rng, n_draws)
        extra = draw_anchors(strata, rng, NESTED_RANDOM_DRAWS)
        for i in test:
            truth = Y[i].mean()
            for anchors, out in [(draws[best], chosen)] + [(d, random_draws) for d in extra]:
                est = _estimates(a, b, anchors, W, Y[i, anchors])
                out.append(abs(est["difference"] - truth) / max(est["se"]["difference"], 1e-9))
    return {"chosen": np.array(chosen), "random": np.array(random_draws)}


OUTSIDE_SHARE = 0.15  # the models held out at each end for the outside-the-range multiplier
OUTSIDE_Z_FLOOR = 1.96  # outside the fitted range, never below the normal 95% multiplier


def _outside_se(est: dict, n: int) -> dict:
    """Standard errors for an estimate beyond the fitted models' range: at least simple random sampling's
    bound sqrt(p (1 - p) / n) (a preference in [0, 1] with mean p has variance at most p (1 - p)). Why: far from
    every fitted model the strata and the control variate no longer fit the model, the residuals are skewed, and
    the design variance from 50-100 anchors is then often too small: with the seven strongest shared models
    held out together, coverage 0.71 (100 anchors) with the design variance, 0.96 with this bound."""
    out = {}
    for k, se in est["se"].items():
        p = float(np.clip(est[k], 0.01, 0.99))
        out[k] = max(se, float(np.sqrt(p * (1 - p) / max(n, 1))))
    return out


def _outside_z(Y, R, dim, n_anchors, n_draws, seed) -> np.ndarray:
    """|error| / standard error for models beyond the fitted ones' range: the top and the bottom
    OUTSIDE_SHARE of the models by win rate each left out in turn, the IRT fit, strata and draw choice made on
    the rest, each left-out model estimated from the chosen and from random draws. Why: on models inside the
    range the design variance is calibrated by `_nested_z`; a model far from every fitted one (the seven
    strongest of the shared set left out together: coverage 0.71-0.82 with that multiplier) has residuals the
    IRT fit never saw, skewed, and an interval from 50-100 anchors that is then too narrow."""
    order = np.argsort(Y.mean(axis=1), kind="stable")
    k = max(2, int(round(OUTSIDE_SHARE * len(Y))))
    if len(Y) - k < 4:
        return np.array([])
    rng = np.random.default_rng(seed + 17)
    ratios: list[float] = []
    for test in (order[-k:], order[:k]):
        train = np.setdiff1d(np.arange(len(Y)), test)
        _, a, b = fit_2pl(Y[train], dim, seed)
        strata, W, draws, _, _, best = _choose_draw(Y[train], R[train], n_anchors, rng, n_draws)
        for anchors in [draws[best], *draw_anchors(strata, rng, NESTED_RANDOM_DRAWS)]:
            for i in test:
                est = _estimates(a, b, anchors, W, Y[i, anchors])
                ratios.append(abs(est["difference"] - Y[i].mean()) / max(est["se"]["difference"], 1e-9))
    return np.array(ratios)


def fit_tiny(
    annotations: pd.DataFrame,
    n_anchors: int = 100,
    seed: int = 0,
    dim: int = 1,
    cv_folds: int = 5,
    n_draws: int = 200,
) -> TinyModel:
    """IRT fit, strata, and the anchor draw with the least leave-models-out expected error."""
    M = score_matrix(annotations)
    per_model = M.notna().sum(axis=1)
    if per_model.median() < 0.67 * M.shape[1]:
        raise InputError(
            f"the models cover {M.shape[1]} instructions between them but each only about "
            f"{int(per_model.median())}: annotation files of different eval sets are mixed",
            hint="fit one tiny model per eval set",
        )
    complete = M.notna().all(axis=1)
    excluded = {
        m: f"{int(M.shape[1] - n)} instructions not annotated" for m, n in per_model[~complete].items()
    }
    M = M[complete]  # a model missing items would bias the item parameters: left out, and listed
    if len(M) < 8:
        raise InputError(
            f"only {len(M)} models have every instruction annotated: too few to fit an IRT model",
            hint="annotate at least 8 models on the full eval set (the shared set has 39)",
        )
    if not 2 <= n_anchors <= M.shape[1] // 2:
        raise InputError(
            f"{n_anchors} anchors for {M.shape[1]} instructions",
            hint="use at least 2 anchors and at most half the instructions (two items per stratum)",
        )
    Y = M.to_numpy(float)
    N = Y.shape[1]
    R, fold_of, fits = _oof_residuals(Y, dim, seed, min(cv_folds, len(Y)))
    strata, W, draws, T, err, best = _choose_draw(Y, R, n_anchors, np.random.default_rng(seed), n_draws)
    mse = (err**2).mean(axis=0)
    labels = np.empty(N, dtype=int)
    for h, members in enumerate(strata):
        labels[members] = h
    # The interval's multiplier: the 95th percentile of |error| / standard error, (1) over random draws on
    # the fitted models (residuals from fits that left each out, ability from all its items), and (2) nested:
    # models outside the fit, the strata and the draw choice, estimated as `estimate` does. (1) alone was too
    # small for models the fit never saw (bench/tiny.py): the larger one ships.
    z_design = float(np.quantile(np.abs(err) / np.sqrt(np.maximum(collapsed_variance(T), 1e-12)), 0.95))
    nested = _nested_z(Y, R, fold_of, fits, n_anchors, n_draws, seed)
    z_nested = float(np.quantile(np.concatenate([nested["chosen"], nested["random"]]), 0.95))
    outside = _outside_z(Y, R, dim, n_anchors, n_draws, seed)
    interval_z = max(z_design, z_nested)
    z_outside = max(interval_z, float(np.quantile(outside, 0.95))) if len(outside) else None
    _, a, b = fit_2pl(Y, dim, seed)
    anchors = draws[best]
    keys = [instruction_key(t) for t in M.columns]
    return TinyModel(
        FORMAT_VERSION,
        _eval_set_hash(keys),
        keys,
        dim,
        a.tolist(),
        b.tolist(),
        anchors.tolist(),
        [keys[j] for j in anchors],
        W.tolist(),
        labels.tolist(),
        interval_z=interval_z,
        expected_error={
            "chosen_draw": float(100 * np.sqrt(mse[best])),
            "typical_draw": float(100 * np.sqrt(np.median(mse))),
        },
        fitted_on=list(M.index),
        excluded=excluded,
        seed=seed,
        n_draws=n_draws,
        calibration={
            "design": z_design,
            "nested": z_nested,
            "nested_chosen_draw": float(np.quantile(nested["chosen"], 0.95))
            if len(nested["chosen"])
            else None,
            "n_nested": int(len(nested["chosen"]) + len(nested["random"])),
            "n_outside": int(len(outside)),
        },
        fitted_range=[float(Y.mean(axis=1).min()), float(Y.mean(axis=1).max())],
        interval_z_outside=z_outside,
    )


# The LC from the anchors against the official LC on models outside the fit (`bench/tiny.py --lc`, 39 shared
# models, 5 folds, seed 0): far rougher than the win rate, and high on average. Reported with every estimate.
ANCHOR_LC_HELD_OUT = {"mae": 2.39, "bias": 1.89, "max": 9.9}


def lc_from_anchors(rows: pd.DataFrame, n_boot: int = 1000, seed: int = 0) -> dict | None:
    """LC win rate (percent) from the anchors' judgments alone: AlpacaEval's GLM fitted on the anchor
    rows (with the shipped gamed-baseline rows, as for a full fit), its length-free prediction
    averaged over every instruction of the eval set; 95% interval from refitting on resampled anchor
    rows; reported as the leaderboard reports LC (`LCInputs.corrected`, the anchors' raw win rate as WR).
    AlpacaEval 2.0 only (it needs the difficulty of all 805 instructions: AlpacaEval's own files when
    found, else judgebench's estimate); None elsewhere."""
    from judgebench.stats.lc import bootstrap_lc, fit_lc, percentile_ci, predict_lc, resample_counts
    from judgebench.stats.lc_inputs import resolve_lc_inputs

    rows = rows[rows["preference"].notna()].reset_index(drop=True)
    if not ({"len_1", "len_2"} <= set(rows) and len(rows)):
        return None
    lc = resolve_lc_inputs(rows)
    if not lc.canonical_order or lc.difficulty is None:  # not the AlpacaEval 2.0 set
        return None
    every = lc.difficulty.to_numpy(float)
    fit = fit_lc(rows, lc.difficulty, lc.gamed)
    win_rate = 100 * float((rows["preference"] - 1).mean())
    estimate = float(
        lc.corrected(100 * float(predict_lc(np.array(list(fit.weights.values())), every)[0].mean()), win_rate)
    )
    # the held-out figure is the shipped estimate's; with AlpacaEval's own inputs it is not known
    error = {"held_out_error": ANCHOR_LC_HELD_OUT} if lc.correction is not None else {}
    if n_boot == 0:
        return {"estimate": estimate, "ci_low": None, "ci_high": None, **error}
    counts = resample_counts(len(rows), n_boot, np.random.default_rng(seed))
    low, high = percentile_ci(lc.corrected(bootstrap_lc(fit, counts, predict_on=every), win_rate))
    return {"estimate": estimate, "ci_low": float(low), "ci_high": float(high), **error}


def anchor_rows(tiny: TinyModel, data: pd.DataFrame, eval_set: str = "the eval set") -> pd.DataFrame:
    """The rows of an eval set (`instruction` column) that are the tiny file's anchors, in the set's
    order: what `judgebench tiny anchors` writes and `evaluate(EvaluateConfig(tiny=...))` judges."""
    keys = data["instruction"].map(instruction_key)
    anchors = set(tiny.anchor_keys)
    missing = anchors - set(keys)
    if missing:
        raise InputError(
            f"{len(missing)} anchors of the tiny file are not in eval set {eval_set}",
            hint="use the eval set the tiny file was fitted on",
        )
    return data[keys.isin(anchors)]


def estimate_from_annotations(tiny: TinyModel, annotations: pd.DataFrame) -> dict:
    """Estimates in percent, with the recommended (difference) estimator's fields at the top level:
    estimate, ci_low, ci_high (95%, from the design variance)."""
    rows = nfc_instructions(annotations[annotations["generator_1"] != annotations["generator_2"]])
    models = rows["generator_2"].unique()
    if len(models) != 1:
        raise InputError(
            f"annotations hold {len(models)} models; estimate takes one", hint="pass one model's file"
        )
    # rows without a verdict stay in (NaN): a failed anchor judgment is not a missing anchor
    keys = rows["instruction"].map(instruction_key)
    by_key = dict(zip(keys, rows["preference"].astype(float) - 1, strict=True))
    unjudged = [k for k in tiny.anchor_keys if k not in by_key]
    foreign = [k for k in by_key if k not in set(tiny.item_keys)]
    if foreign:
        raise InputError(
            f"{len(foreign)} instructions are not in the eval set this tiny model was fitted on",
            hint="use a tiny file fitted on the same eval set",
        )
    if len(unjudged) > MAX_FAILED_ANCHORS * len(tiny.anchor_keys):
        raise InputError(
            f"{len(unjudged)} of the {len(tiny.anchor_keys)} anchors are not in the annotations: too few left "
            "for an estimate",
            hint="annotate the anchor instructions listed by `judgebench tiny anchors` (or the whole eval set)",
        )
    # an anchor missing from the file is estimated from the others like a failed judgment, and said so
    y = np.array([by_key.get(k, np.nan) for k in tiny.anchor_keys])
    failed = int(np.isnan(y).sum()) - len(unjudged)  # judged, but no verdict
    if failed + len(unjudged) > MAX_FAILED_ANCHORS * len(y):
        raise InputError(
            f"{failed} of the {len(y)} anchor judgments have no verdict"
            + (f" and {len(unjudged)} are missing" if unjudged else "")
            + ": too few left for an estimate",
            hint="look at the failures in the annotation file, fix the judge and re-annotate them",
        )
    est = estimates(tiny, y)
    z, outside = tiny.interval_z, None
    if tiny.fitted_range is not None and tiny.interval_z_outside is not None:
        low, high = tiny.fitted_range
        if not low <= est[RECOMMENDED] <= high:
            z = max(z, tiny.interval_z_outside, OUTSIDE_Z_FLOOR)
            est["se"] = _outside_se(est, int((~np.isnan(y)).sum()))
            outside = (
                f"the estimate lies outside the fitted models' win rates ({100 * low:.1f}-{100 * high:.1f}), "
                "where the IRT fit extrapolates: the interval is widened to at least that of as many "
                "instructions drawn at random"
            )
    out = {
        "model": models[0],
        "n_anchors": len(y) - failed - len(unjudged),
        "n_anchors_failed": failed,
        "n_anchors_missing": len(unjudged),
        "expected_error": tiny.expected_error,
    }
    for k in ESTIMATORS:
        out[k] = {"estimate": 100 * est[k]}
        if k in est["se"]:
            half = z * est["se"][k]
            out[k].update(
                ci_low=100 * max(est[k] - half, 0.0),
                ci_high=100 * min(est[k] + half, 1.0),
                standard_error=100 * est["se"][k],
            )
    out["recommended"] = RECOMMENDED
    out.update({k: out[RECOMMENDED][k] for k in ("estimate", "ci_low", "ci_high")})
    warnings = []
    if failed:
        warnings.append(f"{failed} anchor judgments failed and were left out")
    if unjudged:
        warnings.append(f"{len(unjudged)} anchors are not in the annotations")
    if warnings:
        warnings = [
            "; ".join(warnings) + ": estimated from the other anchors (stratum weights renormalised, the "
            "interval widened for the strata they stood for)"
        ]
    if outside:
        warnings.append(outside)
    if warnings:
        out["warning"] = "; ".join(warnings)
    out["interval_z"] = z
    lc = lc_from_anchors(rows[keys.isin(set(tiny.anchor_keys))])
    if lc is not None:
        out["lc"] = lc
    if len(by_key) == len(tiny.item_keys):
        out["full_win_rate"] = 100 * float(np.nanmean(list(by_key.values())))
    return out
