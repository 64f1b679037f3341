"""Instruction difficulty: recovery on synthetic data with known difficulties, and the shipped estimate."""

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from judgebench.files.records import InputError
from judgebench.stats.difficulty import estimate_difficulty, marginal_from_official
from judgebench.stats.lc import fit_lc


def _world(rng, n_models=25, n_inst=300):
    d = rng.normal(0, 1.5, n_inst)
    inst = [f"q{i}" for i in range(n_inst)]
    w = np.column_stack(
        [rng.normal(-1.5, 0.3, n_models), rng.uniform(0.6, 1.2, n_models), rng.normal(-1.5, 1.2, n_models)]
    )
    rows = []
    for m in range(n_models):
        u = rng.normal(0.3, 1, n_inst)
        p = expit(w[m, 0] * np.tanh(u) + w[m, 1] * d + w[m, 2] + rng.normal(0, 0.7, n_inst))
        rows.append(
            pd.DataFrame(
                {
                    "instruction": inst,
                    "generator_1": "base",
                    "generator_2": f"m{m}",
                    "len_1": 1000 + 300 * u,
                    "len_2": 1000.0,
                    "preference": 1 + p,
                }
            )
        )
    weights = pd.DataFrame(w, index=[f"m{m}" for m in range(n_models)], columns=["len", "diff", "not_gamed"])
    return pd.concat(rows, ignore_index=True), pd.Series(d, index=inst), weights


def test_joint_fit_recovers_known_difficulties():
    ann, d, _ = _world(np.random.default_rng(11))
    est = estimate_difficulty(ann)
    assert np.corrcoef(est.loc[d.index], d)[0, 1] > 0.9


def test_with_known_weights_recovery_is_better_still_and_on_the_right_scale():
    rng = np.random.default_rng(12)
    ann, d, weights = _world(rng)
    lc = pd.Series(
        {
            m: 100 * expit(weights.loc[m, "diff"] * d + weights.loc[m, "not_gamed"]).mean()
            for m in weights.index
        }
    )
    mu, tau, rms = marginal_from_official(weights, lc)
    assert mu == pytest.approx(d.mean(), abs=0.25) and tau == pytest.approx(d.std(), rel=0.15)
    est = estimate_difficulty(ann, weights, (mu, tau))
    assert np.corrcoef(est.loc[d.index], d)[0, 1] > 0.93
    # What LC needs: fitted with the estimate, each model's LC is close to its LC with the truth.
    gap = [
        fit_lc(part, est, None).length_controlled_winrate - fit_lc(part, d, None).length_controlled_winrate
        for _, part in ann.groupby("generator_2")
    ]
    assert np.mean(np.abs(gap)) < 0.5 and np.max(np.abs(gap)) < 1.5


def test_too_little_to_estimate_is_a_clear_error():
    ann, _, _ = _world(np.random.default_rng(13), n_models=1)
    with pytest.raises(InputError, match="at least 2 models"):
        estimate_difficulty(ann)
