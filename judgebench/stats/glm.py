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


def _smooth_part(eta, p, S, C):
    """C * sum_i s_i * cross-entropy_i, from the linear predictor eta (B, n).
    softplus written out: 8x faster than np.logaddexp on these arrays."""
    loss = np.log1p(np.exp(-np.abs(eta))) + np.maximum(eta, 0.0) - p * eta
    return C * np.einsum("bn,bn->b", S, loss)


def _sigmoid(eta):
    z = np.exp(-np.abs(eta))
    return np.where(eta >= 0, 1.0, z) / (1.0 + z)


def fit_l1_logistic(
    X: np.ndarray,
    p: np.ndarray,
    S: np.ndarray,
    C: np.ndarray | float,
    w0: np.ndarray | None = None,
    tol: float = 1e-12,
    max_iter: int = 100,
) -> np.ndarray:
    """Solve B problems at once. X: (n, k) design, p: (n,) targets in [0, 1],
    S: (B, n) non-negative row weights, C: (B,) inverse penalties, w0: optional (B, k) start
    (the problems are convex: a start only changes the number of steps). Returns W: (B, k)."""
    X = np.asarray(X, float)
    S = np.atleast_2d(np.asarray(S, float))
    B, k = S.shape[0], X.shape[1]
    C = np.broadcast_to(np.asarray(C, float), (B,)).copy()
    w = np.zeros((B, k)) if w0 is None else np.array(np.broadcast_to(w0, (B, k)), float)
    eta = w @ X.T
    # Hessians as one matrix product: column (j, k) of XX holds x_ij * x_ik.
    iu = np.triu_indices(k)
    XX = X[:, iu[0]] * X[:, iu[1]]
    pair_index = np.zeros((k, k), int)
    pair_index[iu] = np.arange(len(iu[0]))
    pair_index[(iu[1], iu[0])] = np.arange(len(iu[0]))
    f = _smooth_part(eta, p, S, C)
    idx = np.arange(B)
    for _ in range(max_iter):
        wa, Sa, Ca, ea = w[idx], S[idx], C[idx], eta[idx]
        q = _sigmoid(ea)
        g = Ca[:, None] * ((Sa * (q - p)) @ X)
        H = (Ca[:, None] * ((Sa * q * (1.0 - q)) @ XX))[:, pair_index] + 1e-12 * np.eye(k)
        d = np.zeros_like(wa)
        for _sweep in range(6):  # coordinate descent on g'd + d'Hd/2 + |w + d|_1
            for j in range(k):
                hjj = H[:, j, j]
                b = g[:, j] + np.einsum("bk,bk->b", H[:, j, :], d) - hjj * d[:, j]
                z = wa[:, j] - b / hjj
                d[:, j] = np.sign(z) * np.maximum(np.abs(z) - 1.0 / hjj, 0.0) - wa[:, j]
        # Backtracking line search on the true objective (Armijo rule for composite objectives);
        # only the problems whose step was refused are evaluated again.
        l1 = np.abs(wa).sum(1)
        fa = f[idx] + l1
        decrease = np.einsum("bk,bk->b", g, d) + np.abs(wa + d).sum(1) - l1
        # A predicted decrease at rounding level means converged: stepping on would only thrash.
        moving = -decrease > tol * np.maximum(1.0, np.abs(fa))
        idx, wa, Sa, Ca, ea, d, fa, decrease = (a[moving] for a in (idx, wa, Sa, Ca, ea, d, fa, decrease))
        if idx.size == 0:
            break
        ed = d @ X.T
        t = np.ones(len(idx))
        e_new = ea + ed
        f_new = _smooth_part(e_new, p, Sa, Ca)
        for _ls in range(30):
            bad = np.flatnonzero(f_new + np.abs(wa + t[:, None] * d).sum(1) > fa + 1e-4 * t * decrease)
            if bad.size == 0:
                break
            t[bad] *= 0.5
            e_new[bad] = ea[bad] + t[bad, None] * ed[bad]
            f_new[bad] = _smooth_part(e_new[bad], p, Sa[bad], Ca[bad])
        w[idx] = wa + t[:, None] * d
        eta[idx] = e_new
        f[idx] = f_new
    return w


def cv_select_C(
    X: np.ndarray, p: np.ndarray, s: np.ndarray, folds: np.ndarray, Cs: np.ndarray = DEFAULT_CS
) -> tuple[float, np.ndarray]:
    """Pick C by K-fold cross-validated weighted cross-entropy, as LogisticRegressionCV with a
    soft-label log-loss scorer does: mean over folds of the fold's mean of s_i * CE_i; first best wins."""
    n_folds = int(folds.max()) + 1
    train = np.stack([np.where(folds == f, 0.0, s) for f in range(n_folds)])  # (F, n)
    S = np.repeat(train, len(Cs), axis=0)  # fold-major, C-minor
    C = np.tile(Cs, n_folds)
    # Every problem starts from the full-data fit at the weakest penalty: fewer Newton steps.
    start = fit_l1_logistic(X, p, s[None, :], Cs.max())
    W = fit_l1_logistic(X, p, S, C, w0=start)
    q = np.clip(expit(W @ X.T), 1e-15, 1 - 1e-15)
    ce = -(p * np.log(q) + (1 - p) * np.log(1 - q)) * s
    scores = np.empty((n_folds, len(Cs)))
    for f in range(n_folds):
        test = folds == f
        scores[f] = -ce[f * len(Cs) : (f + 1) * len(Cs), test].mean(axis=1)
    mean = scores.mean(axis=0)
    return float(Cs[int(np.argmax(mean))]), mean


def liblinear_cv_fit(
    X: np.ndarray,
    p: np.ndarray,
    s: np.ndarray,
    folds: np.ndarray,
    Cs: np.ndarray = DEFAULT_CS,
    random_state: int = 123,
) -> tuple[float, np.ndarray]:
    """(C, w) exactly as AlpacaEval's LogisticRegressionCV(liblinear) computes them, ~10x slower.

    Soft labels become two rows each (label 1 with weight p*s, label 0 with weight (1-p)*s), and
    each (fold, C) fit gets the liblinear seed that LogisticRegressionCV would hand it: the k-th
    draw of RandomState(random_state) for the k-th C, in every fold; the refit gets the first.
    liblinear stops at a loose tolerance, so its CV scores carry noise of about 1e-6; where two
    penalties score within that noise this is the only way to make AlpacaEval's choice."""
    from sklearn.linear_model import LogisticRegression  # heavy (about 1 s): only on request

    n = len(p)
    Xd = np.vstack([X, X])
    y = np.r_[np.ones(n), np.zeros(n)]
    sw = np.r_[p * s, (1 - p) * s]
    fold_d = np.r_[folds, folds]

    def fit(rows, C, k):
        rs = np.random.RandomState(random_state)
        for _ in range(k):
            rs.randint(np.iinfo("i").max)
        model = LogisticRegression(
            C=C, solver="liblinear", l1_ratio=1.0, fit_intercept=False, random_state=rs
        )
        return model.fit(Xd[rows], y[rows], sample_weight=sw[rows]).coef_[0]

    scores = np.zeros(len(Cs))
    for f in range(int(folds.max()) + 1):
        train = np.flatnonzero(fold_d != f)
        test = folds == f
        for k, C in enumerate(Cs):
            q = np.clip(expit(X[test] @ fit(train, C, k)), 1e-15, 1 - 1e-15)
            ce = -(p[test] * np.log(q) + (1 - p[test]) * np.log(1 - q)) * s[test]
            scores[k] += -ce.mean()
    best = float(Cs[int(np.argmax(scores))])
    return best, fit(np.arange(2 * n), best, 0)
