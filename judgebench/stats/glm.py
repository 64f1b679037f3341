"""Batched L1-penalised logistic regression with soft targets.

The LC GLM has three features and a few thousand rows, and a leaderboard needs it thousands of
times (10 penalties x 5 folds per model, then 1,000 bootstrap refits). scikit-learn's liblinear
solves one problem per call; here many problems that share a design matrix are solved at once,
each with its own row weights and penalty.

Objective for problem b (liblinear's form, no intercept):
    C_b * sum_i s_bi * [softplus(x_i'w) - p_i * x_i'w] + ||w||_1
solved by proximal Newton: a coordinate-descent step on the quadratic model, then a backtracking
line search. With three features the inner problem is tiny, so the cost is a few passes over X.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

# sklearn's LogisticRegressionCV(Cs=10) grid.
DEFAULT_CS = np.logspace(-4, 4, 10)


def _objective(w, X, p, S, C):
    eta = w @ X.T
    loss = np.logaddexp(0.0, eta) - p * eta
    return C * np.einsum("bn,bn->b", S, loss) + np.abs(w).sum(axis=1)


def fit_l1_logistic(X: np.ndarray, p: np.ndarray, S: np.ndarray, C: np.ndarray | float,
                    tol: float = 1e-9, max_iter: int = 100) -> np.ndarray:
    """Solve B problems at once. X: (n, k) design, p: (n,) targets in [0, 1],
    S: (B, n) non-negative row weights, C: (B,) inverse penalties. Returns W: (B, k)."""
    X = np.asarray(X, float)
    S = np.atleast_2d(np.asarray(S, float))
    B, k = S.shape[0], X.shape[1]
    C = np.broadcast_to(np.asarray(C, float), (B,)).copy()
    w = np.zeros((B, k))
    f = _objective(w, X, p, S, C)
    active = np.ones(B, bool)
    for _ in range(max_iter):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        wa, Sa, Ca = w[idx], S[idx], C[idx]
        q = expit(wa @ X.T)
        g = Ca[:, None] * ((Sa * (q - p)) @ X)
        h = Sa * q * (1.0 - q)
        H = Ca[:, None, None] * np.einsum("bn,nj,nk->bjk", h, X, X, optimize=True)
        H += 1e-12 * np.eye(k)
        d = np.zeros_like(wa)
        for _sweep in range(8):  # coordinate descent on g'd + d'Hd/2 + |w + d|_1
            for j in range(k):
                hjj = H[:, j, j]
                b = g[:, j] + np.einsum("bk,bk->b", H[:, j, :], d) - hjj * d[:, j]
                z = wa[:, j] - b / hjj
                u = np.sign(z) * np.maximum(np.abs(z) - 1.0 / hjj, 0.0)
                d[:, j] = u - wa[:, j]
        # Backtracking line search on the true objective (Armijo rule for composite objectives).
        decrease = np.einsum("bk,bk->b", g, d) + np.abs(wa + d).sum(1) - np.abs(wa).sum(1)
        t = np.ones(len(idx))
        fa = f[idx]
        for _ls in range(30):
            f_new = _objective(wa + t[:, None] * d, X, p, Sa, Ca)
            ok = f_new <= fa + 1e-4 * t * decrease
            if ok.all():
                break
            t = np.where(ok, t, t * 0.5)
        w[idx] = wa + t[:, None] * d
        f[idx] = f_new
        step = np.abs(t[:, None] * d).max(axis=1)
        active[idx] = step > tol
    return w


def cv_select_C(X: np.ndarray, p: np.ndarray, s: np.ndarray, folds: np.ndarray,
                Cs: np.ndarray = DEFAULT_CS) -> tuple[float, np.ndarray]:
    """Pick C by K-fold cross-validated weighted cross-entropy, as LogisticRegressionCV with a
    soft-label log-loss scorer does: mean over folds of the fold's mean of s_i * CE_i; first best wins."""
    n_folds = int(folds.max()) + 1
    train = np.stack([np.where(folds == f, 0.0, s) for f in range(n_folds)])  # (F, n)
    S = np.repeat(train, len(Cs), axis=0)  # fold-major, C-minor
    C = np.tile(Cs, n_folds)
    W = fit_l1_logistic(X, p, S, C)
    q = np.clip(expit(W @ X.T), 1e-15, 1 - 1e-15)
    ce = -(p * np.log(q) + (1 - p) * np.log(1 - q)) * s
    scores = np.empty((n_folds, len(Cs)))
    for f in range(n_folds):
        test = folds == f
        scores[f] = -ce[f * len(Cs):(f + 1) * len(Cs), test].mean(axis=1)
    mean = scores.mean(axis=0)
    return float(Cs[int(np.argmax(mean))]), mean
