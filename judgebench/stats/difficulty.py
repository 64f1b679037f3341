"""Instruction difficulty for the LC GLM, estimated from annotations.

AlpacaEval's frozen per-instruction difficulty comes from a joint fit over many models and is only
on the Hugging Face hub. judgebench estimates it from the annotations at hand, with the same
per-model model as the LC GLM:

    logit p_mi = w_len,m * tanh(std_delta_len_mi) + w_diff,m * d_i + w_ng,m,     d_i ~ N(mu, tau^2)

- `estimate_difficulty(..., weights=...)`: model weights fixed at known values (AlpacaEval's
  published `lc_weights_official.csv`), d_i by maximum a posteriori, each instruction on its own.
  The prior N(mu, tau^2) is fitted so the published weights reproduce the published LC values
  (`marginal_from_official`): LC_m = mean_i sigmoid(w_diff,m d_i + w_ng,m) pins the spread of d.
- without weights (any eval set, any models): the joint fit alternates that d-step with a
  per-model weight step (prior N(0, 1), which fixes the scale), a few dozen rounds.

The prior matters: a weak model loses nearly every instruction, so without it the d of an
instruction that no model wins runs off to minus infinity.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
from scipy.special import expit

from judgebench.files.records import InputError
from judgebench.files.textforms import nfc
from judgebench.stats.lc import standardized_delta_len


def instruction_key(instruction: str) -> str:
    """Stable key for an instruction, so shipped files need not carry the eval set's text. Of its NFC form:
    the same text in NFD (or mixed) gets the same key (AlpacaEval's instructions are all NFC already)."""
    return hashlib.sha256(nfc(instruction).encode("utf-8")).hexdigest()[:16]


def response_matrices(annotations: pd.DataFrame, instructions: pd.Index | None = None):
    """Models x instructions matrices of p = preference - 1 (NaN where absent) and tanh(std_delta_len)."""
    models = [
        m
        for m, part in annotations.groupby("generator_2", sort=False)
        if not (part["generator_1"] == part["generator_2"]).all()
    ]
    if instructions is None:
        instructions = pd.Index(annotations["instruction"].drop_duplicates())
    P = np.full((len(models), len(instructions)), np.nan)
    T = np.zeros_like(P)
    by_model = dict(tuple(annotations.groupby("generator_2", sort=False)))
    for k, m in enumerate(models):
        part = by_model[m]
        cols = instructions.get_indexer(part["instruction"])
        keep = cols >= 0
        P[k, cols[keep]] = part["preference"].to_numpy(float)[keep] - 1
        T[k, cols[keep]] = np.tanh(standardized_delta_len(part["len_1"], part["len_2"]))[keep]
    return models, instructions, P, T


def _d_step(P, T, w, mu, tau, d0, n_iter=60):
    """MAP of each instruction's d with model weights w (M, 3) fixed; damped Newton, concave problem."""
    has = ~np.isnan(P)
    Pz = np.where(has, P, 0.0)
    d = d0.copy()
    for _ in range(n_iter):
        q = expit(w[:, :1] * T + w[:, 1:2] * d[None, :] + w[:, 2:3])
        g = np.where(has, w[:, 1:2] * (Pz - q), 0).sum(0) - (d - mu) / tau**2
        h = np.where(has, w[:, 1:2] ** 2 * q * (1 - q), 0).sum(0) + 1 / tau**2
        step = np.clip(g / h, -1.0, 1.0)
        d += step
        if np.abs(step).max() < 1e-10:
            break
    return d


def _w_step(P, T, d, w0, ridge=1e-4, n_iter=30):
    """Each model's three weights by Newton's method (tiny ridge for models that never win)."""
    has = ~np.isnan(P)
    Pz = np.where(has, P, 0.0)
    X = np.stack([T, np.broadcast_to(d, T.shape), np.ones_like(T)], axis=-1)  # (M, N, 3)
    w = w0.copy()
    for _ in range(n_iter):
        q = expit(np.einsum("mnk,mk->mn", X, w))
        r = np.where(has, Pz - q, 0)
        h = np.where(has, q * (1 - q), 0)
        g = np.einsum("mn,mnk->mk", r, X) - ridge * w
        H = np.einsum("mn,mnj,mnk->mjk", h, X, X) + ridge * np.eye(3)
        step = np.linalg.solve(H, g[..., None])[..., 0]
        w += np.clip(step, -2, 2)
        if np.abs(step).max() < 1e-10:
            break
    return w


def marginal_from_official(weights: pd.DataFrame, official_lc: pd.Series) -> tuple[float, float, float]:
    """(mu, tau, rms residual) of a normal d such that mean_i sigmoid(w_diff d_i + w_ng) matches the
    published LC of every model that has both weights and an LC value."""
    from scipy.optimize import minimize  # imported here: scipy.optimize/stats cost 0.6 s at start-up
    from scipy.stats import norm

    common = weights.index.intersection(official_lc.dropna().index)
    if len(common) < 3:
        raise InputError(
            "fewer than 3 models have both published weights and a published LC",
            hint="pass the official weights file and leaderboard of the same judge",
        )
    a = weights.loc[common].iloc[:, 1].to_numpy(float)
    b = weights.loc[common].iloc[:, 2].to_numpy(float)
    lc = official_lc.loc[common].to_numpy(float)
    z = norm.ppf((np.arange(805) + 0.5) / 805)

    def loss(x):
        d = x[0] + np.exp(x[1]) * z
        return ((100 * expit(a[:, None] * d[None, :] + b[:, None]).mean(1) - lc) ** 2).mean()

    res = minimize(loss, [0.0, 0.0], method="Nelder-Mead", options={"xatol": 1e-6, "fatol": 1e-10})
    return float(res.x[0]), float(np.exp(res.x[1])), float(np.sqrt(res.fun))


def estimate_difficulty(
    annotations: pd.DataFrame,
    weights: pd.DataFrame | None = None,
    prior: tuple[float, float] = (0.0, 1.0),
    n_rounds: int = 30,
) -> pd.Series:
    """Per-instruction difficulty, indexed by instruction text.

    weights: per-model (len, diff, not_gamed) coefficients indexed by model name, in that column
    order (AlpacaEval's weights CSV); models listed there are held fixed, the rest are fitted.
    """
    models, instructions, P, T = response_matrices(annotations)
    if not models:
        raise InputError(
            "no candidate model besides the baseline in the annotations",
            hint="difficulty needs annotations of at least one model against the baseline",
        )
    mu, tau = prior
    fixed = np.zeros(len(models), bool)
    w = np.tile([0.0, 1.0, 0.0], (len(models), 1))
    if weights is not None:
        for k, m in enumerate(models):
            if m in weights.index:
                w[k] = weights.loc[m].to_numpy(float)[:3]
                fixed[k] = True
    if not fixed.any() and len(models) < 2:
        raise InputError(
            "difficulty from annotations alone needs at least 2 models",
            hint="annotate more models on this eval set, or pass published weights",
        )
    d = np.full(P.shape[1], mu)
    rounds = 1 if fixed.all() else n_rounds
    for _ in range(rounds):
        d = _d_step(P, T, w, mu, tau, d)
        if not fixed.any():
            # d and w_diff trade scale freely; pin d to the prior's mean and spread each round.
            loc, scale = d.mean(), d.std()
            d = mu + tau * (d - loc) / scale
            w[:, 2] += w[:, 1] * (loc - mu * scale / tau)
            w[:, 1] *= scale / tau
        if not fixed.all():
            w[~fixed] = _w_step(P[~fixed], T[~fixed], d, w[~fixed])
    return pd.Series(d, index=instructions, name="instruction_difficulty")
