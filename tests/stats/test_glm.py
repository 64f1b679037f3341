"""The batched L1 logistic solver against scikit-learn, an independent implementation."""

import warnings

import numpy as np
import pytest

from judgebench.stats.glm import DEFAULT_CS, cv_select_C, fit_l1_logistic


def _problem(rng, n=600):
    X = np.column_stack(
        [np.tanh(rng.normal(size=n)), rng.normal(0, 1.5, n), (rng.random(n) < 0.7).astype(float)]
    )
    w_true = np.array([-1.2, 0.9, -0.8])
    p = 1 / (1 + np.exp(-(X @ w_true + rng.normal(0, 1, n))))
    s = np.where(X[:, 2] == 1, 1.0, 0.1)
    return X, p, s


def _objective(w, X, p, s, C):
    eta = X @ w
    return C * np.sum(s * (np.logaddexp(0, eta) - p * eta)) + np.abs(w).sum()


@pytest.mark.parametrize("C", [0.01, 0.3, 2.78, 1e4])
def test_matches_sklearn_liblinear(C):
    from sklearn.linear_model import LogisticRegression

    X, p, s = _problem(np.random.default_rng(7))
    ours = fit_l1_logistic(X, p, s[None, :], np.array([C]))[0]
    # sklearn wants hard labels: the soft label p becomes two weighted rows.
    Xd, y, sw = np.vstack([X, X]), np.r_[np.ones(len(p)), np.zeros(len(p))], np.r_[p * s, (1 - p) * s]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = (
            LogisticRegression(
                C=C, solver="liblinear", l1_ratio=1.0, fit_intercept=False, tol=1e-10, max_iter=10_000
            )
            .fit(Xd, y, sample_weight=sw)
            .coef_[0]
        )
    assert ours == pytest.approx(ref, abs=1e-4)
    f_ours, f_ref = _objective(ours, X, p, s, C), _objective(ref, X, p, s, C)
    assert f_ours <= f_ref + 1e-12 * abs(f_ref)
    assert (ours == 0).sum() == (np.abs(ref) < 1e-8).sum()  # the same coefficients are exactly zero


def test_batch_equals_one_at_a_time():
    rng = np.random.default_rng(8)
    X, p, s = _problem(rng)
    S = rng.uniform(0, 2, (6, len(p))) * s
    C = np.array([0.05, 0.5, 5, 50, 500, 5000])
    batch = fit_l1_logistic(X, p, S, C)
    single = np.array([fit_l1_logistic(X, p, S[i : i + 1], C[i : i + 1])[0] for i in range(6)])
    assert batch == pytest.approx(single, abs=1e-9)


def test_cv_prefers_weak_penalty_on_plentiful_data_and_zero_on_noise():
    rng = np.random.default_rng(9)
    X, p, s = _problem(rng, n=3000)
    folds = np.arange(len(p)) % 5
    C, scores = cv_select_C(X, p, s, folds)
    assert C >= 1 and scores.argmax() == list(DEFAULT_CS).index(C)
    noise = np.full(len(p), 0.5)  # no signal at all: p = 1/2 everywhere, best fit is w = 0
    assert fit_l1_logistic(X, noise, s[None, :], np.array([1.0]))[0] == pytest.approx(np.zeros(3), abs=1e-6)
