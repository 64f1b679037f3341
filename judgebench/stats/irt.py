"""tinyBenchmarks for pairwise judges: a win rate from ~100 judgments instead of 805 (arXiv 2402.14992).

Model (multidimensional 2PL on the models x instructions matrix of p = preference - 1 in [0, 1]):
    P(candidate i wins item j) = sigmoid(theta_i . a_j - b_j),   theta_i, a_j in R^D
fitted on the continuous scores (fractional Bernoulli likelihood) with Gaussian priors, by L-BFGS,
D in {1, 2, 3} chosen by the estimates' error on held-out models (K-fold over models). Anchors: by
default the median item of each of n equal strata of items sorted by the fitted models' mean score;
or tinyBenchmarks' KMeans on the items' (a_j, b_j), the item nearest each centroid weighted by its
cluster's share of items (see pick_anchors for why the default differs).

Estimators of a new model's full win rate from its anchor scores y_k:
- anchor:  sum_k w_k y_k (stratified sampling; its standard error from the training models'
           within-cluster spread);
- p-IRT:   theta fitted to the anchors; (n/N) mean(y_k) + (1 - n/N) mean of predictions on the rest;
- gp-IRT:  lambda * anchor + (1 - lambda) * p-IRT, lambda = b^2 / (b^2 + v / (4n)), b the IRT
           estimator's cross-validated error, v the mean per-item variance of the scores.
Intervals: from the 95th percentile of each estimator's cross-validated absolute errors on the
training models, scaled by sqrt(e(1 - e)) of the estimate e (errors grow with a win rate's spread);
the anchor's never narrower than 1.96 times its stratified-sampling standard error. Where the anchors' own mean and the IRT
prediction disagree beyond what the anchor's standard error allows (a model whose wins do not
follow item difficulty: a null model that wins regardless of the instruction), the recommended
estimate falls back to the anchor estimator.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import expit

from ..io import InputError
from .difficulty import instruction_key

FORMAT_VERSION = 1
MAX_FAILED_ANCHORS = 0.1  # share of anchors that may lack a verdict before estimate refuses


def score_matrix(annotations: pd.DataFrame) -> pd.DataFrame:
    """Models x instructions frame of p = preference - 1 (NaN where absent); the baseline's self-
    comparison is left out."""
    df = annotations[annotations["generator_1"] != annotations["generator_2"]]
    return df.pivot_table(index="generator_2", columns="instruction", values="preference", aggfunc="first") - 1


def _unpack(x, n_models, n_items, dim):
    theta = x[: n_models * dim].reshape(n_models, dim)
    rest = x[n_models * dim:]
    a = rest[: n_items * dim].reshape(n_items, dim)
    b = rest[n_items * dim:]
    return theta, a, b


def fit_2pl(Y: np.ndarray, dim: int, seed: int = 0, prior: float = 1.0, max_iter: int = 500):
    """(theta, a, b) maximising the fractional-Bernoulli likelihood of Y (NaN = missing) under
    N(0, prior^-1) priors. Deterministic for a seed."""
    n_models, n_items = Y.shape
    has = ~np.isnan(Y)
    Yz = np.where(has, Y, 0.0)
    rng = np.random.default_rng(seed)
    mean = np.clip(np.nanmean(Y, axis=0), 0.01, 0.99)
    x0 = np.concatenate([0.1 * rng.standard_normal(n_models * dim), 0.1 * rng.standard_normal(n_items * dim),
                         -np.log(mean / (1 - mean))])

    def loss(x):
        theta, a, b = _unpack(x, n_models, n_items, dim)
        eta = theta @ a.T - b[None, :]
        q = expit(eta)
        ll = np.where(has, Yz * eta - np.logaddexp(0, eta), 0.0).sum()
        r = np.where(has, q - Yz, 0.0)  # d(-ll)/d eta
        g_theta = r @ a + prior * theta
        g_a = r.T @ theta + prior * a
        g_b = -r.sum(0) + prior * 0.1 * b
        f = -ll + 0.5 * prior * ((theta ** 2).sum() + (a ** 2).sum() + 0.1 * (b ** 2).sum())
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
    anchors: list[int]  # item indices
    anchor_keys: list[str]
    weights: list[float]
    anchor_se_per_model: float  # typical standard error of the anchor estimator (win-rate units, 0-1)
    irt_bias: float  # b in lambda: cross-validated RMS error of p-IRT
    item_variance: float  # v in lambda
    cv_abs_error_q95: dict = field(default_factory=dict)  # estimator -> 95th pct of CV |error| (0-1 units)
    # 95th pct of CV |error| / sqrt(e(1-e)), e the estimate: errors grow with the win rate's spread
    cv_scaled_error_q95: dict = field(default_factory=dict)
    fitted_on: list[str] = field(default_factory=list)
    excluded: dict = field(default_factory=dict)  # model -> why it was left out of the fit
    seed: int = 0
    anchor_method: str = "kmeans"  # files written before the strata method existed used KMeans

    def save(self, path: str | Path) -> None:
        from ..fsutil import atomic_write

        atomic_write(path, json.dumps({"format": "judgebench-tiny", **asdict(self)}, indent=1))

    @classmethod
    def load(cls, path: str | Path) -> TinyModel:
        data = json.loads(Path(path).read_text())
        if data.pop("format", None) != "judgebench-tiny" or data.get("version") != FORMAT_VERSION:
            raise InputError("not a judgebench tiny file of this version", path=path,
                             hint="refit with `judgebench tiny fit`")
        return cls(**data)


def _eval_set_hash(keys: list[str]) -> str:
    return hashlib.sha256("".join(sorted(keys)).encode()).hexdigest()[:16]


ANCHOR_METHODS = ("strata", "kmeans")


def pick_anchors(Y: np.ndarray, a: np.ndarray, b: np.ndarray, n_anchors: int, seed: int,
                 method: str = "strata") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(anchor item indices, weights, stratum of every item).

    strata: items sorted by the fitted models' mean score, cut into n_anchors strata of equal size,
            the median item of each; weights = stratum shares (all equal up to rounding).
    kmeans: tinyBenchmarks' choice, KMeans on the items' (a, b), the item nearest each centroid,
            weighted by its cluster's share.
    Equal strata keep the estimator's variance near stratified sampling's for every model; KMeans
    clusters fitted on mostly weak models give strong models a few heavy, unrepresentative anchors
    (bench/tiny.py shows both)."""
    if method == "strata":
        order = np.argsort(Y.mean(axis=0), kind="stable")
        strata = np.array_split(order, n_anchors)
        labels = np.empty(Y.shape[1], dtype=int)
        for c, members in enumerate(strata):
            labels[members] = c
        anchors = np.array([members[len(members) // 2] for members in strata])
        return anchors, np.array([len(m) / Y.shape[1] for m in strata]), labels
    if method != "kmeans":
        raise InputError(f"unknown anchor method {method!r}", hint=f"use one of {', '.join(ANCHOR_METHODS)}")
    from sklearn.cluster import KMeans

    X = np.column_stack([a, b])
    km = KMeans(n_clusters=n_anchors, n_init=10, random_state=seed).fit(X)
    anchors, weights = [], []
    for c in range(n_anchors):
        members = np.flatnonzero(km.labels_ == c)
        nearest = members[np.argmin(((X[members] - km.cluster_centers_[c]) ** 2).sum(1))]
        anchors.append(int(nearest))
        weights.append(len(members) / len(X))
    return np.array(anchors), np.array(weights), km.labels_


def estimates(tiny: TinyModel, y_anchor: np.ndarray) -> dict:
    """Each estimator's win rate (0-1) from the anchor scores (in the order of tiny.anchors; NaN = an
    anchor without a judgment, left out: the anchor weights are renormalised over the rest)."""
    a, b = np.array(tiny.a), np.array(tiny.b)
    have = ~np.isnan(y_anchor)
    anchors, y = np.array(tiny.anchors)[have], y_anchor[have]
    w = np.array(tiny.weights)[have]
    n, N = len(anchors), len(b)
    anchor_est = float(w @ y / w.sum())
    theta = fit_theta(y, a[anchors], b[anchors])
    rest = np.setdiff1d(np.arange(N), anchors)
    pred_rest = expit(a[rest] @ theta - b[rest])
    pirt = float(n / N * y.mean() + (1 - n / N) * pred_rest.mean())
    lam = tiny.irt_bias ** 2 / (tiny.irt_bias ** 2 + tiny.item_variance / (4 * n))
    gpirt = float(lam * anchor_est + (1 - lam) * pirt)
    return {"anchor": anchor_est, "p-irt": pirt, "gp-irt": gpirt, "lambda": lam}


def fit_tiny(annotations: pd.DataFrame, n_anchors: int = 100, seed: int = 0, dim: int | None = None,
             cv_folds: int = 5, anchor_method: str = "strata") -> TinyModel:
    M = score_matrix(annotations)
    per_model = M.notna().sum(axis=1)
    if per_model.median() < 0.67 * M.shape[1]:
        raise InputError(f"the models cover {M.shape[1]} instructions between them but each only about "
                         f"{int(per_model.median())}: annotation files of different eval sets are mixed",
                         hint="fit one tiny model per eval set")
    complete = M.notna().all(axis=1)
    excluded = {m: f"{int(M.shape[1] - n)} instructions not annotated" for m, n in per_model[~complete].items()}
    M = M[complete]  # a model missing items would bias the item parameters: left out, and listed
    if len(M) < 8:
        raise InputError(f"only {len(M)} models have every instruction annotated: too few to fit an IRT model",
                         hint="annotate at least 8 models on the full eval set (the shared set has 40)")
    if n_anchors >= M.shape[1]:
        raise InputError(f"{n_anchors} anchors for {M.shape[1]} instructions", hint="use fewer anchors")
    Y = M.to_numpy(float)
    # Anchor estimator's standard error: stratified sampling with one item per stratum (KMeans clusters
    # of a one-dimensional fit; the spread hardly depends on the dimension).
    a1 = b1 = None
    if anchor_method == "kmeans":
        _, a1, b1 = fit_2pl(Y, 1, seed)
    _, weights, labels = pick_anchors(Y, a1, b1, n_anchors, seed, anchor_method)
    se2 = []
    for i in range(len(Y)):
        var = 0.0
        for c in range(n_anchors):
            members = labels == c
            if members.sum() > 1:
                var += weights[c] ** 2 * Y[i, members].var(ddof=1)
        se2.append(var)
    anchor_se = float(np.sqrt(np.mean(se2)))
    item_variance = float(np.mean(Y.var(axis=0)))

    if dim is None:  # the dimension whose estimates are best on held-out models
        trials = {d: _cross_validate(Y, d, n_anchors, seed, cv_folds, anchor_se, item_variance, anchor_method)
                  for d in (1, 2, 3)}
        dim = min(trials, key=lambda d: np.mean(np.abs(trials[d]["gp-irt"])))
        errors = trials[dim]
    else:
        errors = _cross_validate(Y, dim, n_anchors, seed, cv_folds, anchor_se, item_variance, anchor_method)
    theta, a, b = fit_2pl(Y, dim, seed)
    anchors, weights, _ = pick_anchors(Y, a, b, n_anchors, seed, anchor_method)
    irt_bias = float(np.sqrt(np.mean(np.square(errors["p-irt"]))))
    keys = [instruction_key(t) for t in M.columns]
    tiny = TinyModel(FORMAT_VERSION, _eval_set_hash(keys), keys, dim, a.tolist(), b.tolist(), anchors.tolist(),
                     [keys[j] for j in anchors], weights.tolist(), anchor_se, irt_bias, item_variance,
                     fitted_on=list(M.index), excluded=excluded, seed=seed, anchor_method=anchor_method)
    tiny.cv_abs_error_q95 = {k: float(np.quantile(np.abs(v), 0.95)) for k, v in errors.items() if k != "scale"}
    tiny.cv_scaled_error_q95 = {k: float(np.quantile(np.abs(np.array(v)) / np.array(errors["scale"][k]), 0.95))
                                for k, v in errors.items() if k != "scale"}
    return tiny


def _cross_validate(Y, dim, n_anchors, seed, folds, anchor_se, item_variance, anchor_method) -> dict:
    """Signed errors (estimate - full win rate, 0-1 units) of each estimator on held-out models:
    refit without a fold of models, estimate each of its models from the anchors alone."""
    fold_of = np.random.default_rng(seed).permutation(len(Y)) % folds
    errors = {"anchor": [], "p-irt": []}
    estimates_made = {"anchor": [], "p-irt": []}
    for f in range(folds):
        tr, te = fold_of != f, fold_of == f
        _, a_f, b_f = fit_2pl(Y[tr], dim, seed)
        anc, w, _ = pick_anchors(Y[tr], a_f, b_f, n_anchors, seed, anchor_method)
        partial = TinyModel(FORMAT_VERSION, "", [], dim, a_f.tolist(), b_f.tolist(), anc.tolist(), [], w.tolist(),
                            anchor_se, 0.0, item_variance)
        for i in np.flatnonzero(te):
            est = estimates(partial, Y[i, anc])
            for k in ("anchor", "p-irt"):
                errors[k].append(est[k] - Y[i].mean())
                estimates_made[k].append(est[k])
    bias = np.sqrt(np.mean(np.square(errors["p-irt"])))
    lam = bias ** 2 / (bias ** 2 + item_variance / (4 * n_anchors))
    errors["gp-irt"] = list(lam * np.array(errors["anchor"]) + (1 - lam) * np.array(errors["p-irt"]))
    estimates_made["gp-irt"] = list(lam * np.array(estimates_made["anchor"]) + (1 - lam) * np.array(
        estimates_made["p-irt"]))
    errors["scale"] = {k: [_spread(e) for e in v] for k, v in estimates_made.items()}
    return errors


def _spread(p: float) -> float:
    """sqrt(p (1 - p)), kept away from 0 so a near-zero estimate still gets an interval."""
    p = min(max(p, 0.02), 0.98)
    return float(np.sqrt(p * (1 - p)))


def lc_from_anchors(rows: pd.DataFrame, n_boot: int = 1000, seed: int = 0) -> dict | None:
    """LC win rate (percent) from the anchors' judgments alone: AlpacaEval's GLM fitted on the anchor
    rows (with the shipped gamed-baseline rows, as for a full fit), its length-free prediction
    averaged over every instruction of the eval set; 95% interval from refitting on resampled anchor
    rows. AlpacaEval 2.0 only (it needs the difficulty of all 805 instructions); None elsewhere."""
    from . import alpacaeval_lc
    from .lc import bootstrap_lc, fit_lc, percentile_ci, predict_lc, resample_counts

    rows = rows[rows["preference"].notna()].reset_index(drop=True)
    shipped = alpacaeval_lc.inputs_for(rows["instruction"]) if {"len_1", "len_2"} <= set(rows) and len(rows) else None
    if shipped is None:
        return None
    difficulty, gamed = shipped
    every = difficulty.to_numpy(float)
    fit = fit_lc(rows, difficulty, gamed)
    estimate = 100 * float(predict_lc(np.array(list(fit.weights.values())), every)[0].mean())
    if n_boot == 0:
        return {"estimate": estimate, "ci_low": None, "ci_high": None}
    counts = resample_counts(len(rows), n_boot, np.random.default_rng(seed))
    low, high = percentile_ci(bootstrap_lc(fit, counts, predict_on=every))
    return {"estimate": estimate, "ci_low": float(low), "ci_high": float(high)}


def estimate_from_annotations(tiny: TinyModel, annotations: pd.DataFrame, level_z: float = 1.96) -> dict:
    """Estimates in percent, each with an interval, and the recommended one as `estimate`."""
    rows = annotations[annotations["generator_1"] != annotations["generator_2"]]
    models = rows["generator_2"].unique()
    if len(models) != 1:
        raise InputError(f"annotations hold {len(models)} models; estimate takes one", hint="pass one model's file")
    # rows without a verdict stay in (NaN): a failed anchor judgment is not a missing anchor
    keys = rows["instruction"].map(instruction_key)
    by_key = dict(zip(keys, rows["preference"].astype(float) - 1, strict=True))
    unjudged = [k for k in tiny.anchor_keys if k not in by_key]
    if unjudged:
        raise InputError(f"{len(unjudged)} of the {len(tiny.anchor_keys)} anchors are not in the annotations",
                         hint="annotate the anchor instructions listed by `judgebench tiny anchors` "
                              "(or the whole eval set)")
    foreign = [k for k in by_key if k not in set(tiny.item_keys)]
    if foreign:
        raise InputError(f"{len(foreign)} instructions are not in the eval set this tiny model was fitted on",
                         hint="use a tiny file fitted on the same eval set")
    y = np.array([by_key[k] for k in tiny.anchor_keys])
    failed = int(np.isnan(y).sum())  # judged, but no verdict: estimated from the others, and said so
    if failed > MAX_FAILED_ANCHORS * len(y):
        raise InputError(f"{failed} of the {len(y)} anchor judgments have no verdict: too few left for an estimate",
                         hint="look at the failures in the annotation file, fix the judge and re-annotate them")
    est = estimates(tiny, y)
    out = {"model": models[0], "n_anchors": len(y) - failed, "n_anchors_failed": failed, "lambda": est["lambda"]}
    half = {"anchor": max(level_z * tiny.anchor_se_per_model, tiny.cv_scaled_error_q95["anchor"] * _spread(est["anchor"])),
            **{k: tiny.cv_scaled_error_q95[k] * _spread(est[k]) for k in ("p-irt", "gp-irt")}}
    for k in ("anchor", "p-irt", "gp-irt"):
        out[k] = {"estimate": 100 * est[k], "ci_low": 100 * (est[k] - half[k]), "ci_high": 100 * (est[k] + half[k])}
    # Wins that do not follow item difficulty: the IRT prediction and the anchors' own mean disagree.
    disagreement = abs(est["anchor"] - est["p-irt"])
    out["disagreement"] = 100 * disagreement
    flagged = disagreement > 3 * tiny.anchor_se_per_model
    recommended = "anchor" if flagged else "gp-irt"
    out["recommended"] = recommended
    out["estimate"] = out[recommended]["estimate"]
    out["ci_low"], out["ci_high"] = out[recommended]["ci_low"], out[recommended]["ci_high"]
    if flagged:
        out["warning"] = ("the anchors' scores do not follow the items' difficulty as fitted models' do; the IRT "
                          "estimators are unreliable for this model, so the anchor estimator is recommended")
    if failed:
        out["warning"] = (out.get("warning", "") + f"; {failed} anchor judgments failed and were left out "
                          "(anchor weights renormalised)").lstrip("; ")
    lc = lc_from_anchors(rows[keys.isin(set(tiny.anchor_keys))])
    if lc is not None:
        out["lc"] = lc
    if len(by_key) == len(tiny.item_keys):
        out["full_win_rate"] = 100 * float(np.nanmean(list(by_key.values())))
    return out
