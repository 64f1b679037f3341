"""Paired comparison of two candidates against the same baseline."""

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit
from simulation import simulate

from judgebench.files.records import InputError
from judgebench.stats.paired import paired_comparison


def _two_models(rng, n=400, shift=0.0):
    ann, d, gamed = simulate(n, rng)
    b = ann.copy()
    b["generator_2"] = "cand_b"
    logit = np.log((ann["preference"] - 1) / (2 - ann["preference"]))
    b["preference"] = 1 + expit(logit + shift + rng.normal(0, 0.5, n))
    return pd.concat([ann, b], ignore_index=True), d, gamed


def test_identical_models_differ_by_nothing():
    ann, d, gamed = simulate(300, np.random.default_rng(1))
    twin = ann.assign(generator_2="twin")
    r = paired_comparison(pd.concat([ann, twin]), "cand", "twin", difficulty=d, gamed=gamed, n_boot=200)
    assert r["win_rate"]["difference"] == 0 and r["win_rate"]["p_value"] == 1.0
    assert r["length_controlled_winrate"]["difference"] == pytest.approx(0, abs=1e-9)
    assert r["length_controlled_winrate"]["ci_low"] == pytest.approx(0, abs=1e-9)


def test_a_clear_improvement_is_detected_and_its_sign_is_right():
    ann, d, gamed = _two_models(np.random.default_rng(2), shift=0.6)
    r = paired_comparison(ann, "cand", "cand_b", difficulty=d, gamed=gamed, n_boot=500)
    for metric in ("win_rate", "length_controlled_winrate"):
        assert r[metric]["difference"] > 3
        assert r[metric]["ci_low"] > 0 and r[metric]["p_value"] < 0.01
    # pairing removes the instruction-difficulty variance: far narrower than the unpaired interval
    wr = r["win_rate"]
    unpaired_half = (
        1.96
        * np.sqrt(
            sum((ann[ann.generator_2 == m].preference - 1).var(ddof=1) / 400 for m in ("cand", "cand_b"))
        )
        * 100
    )
    assert (wr["ci_high"] - wr["ci_low"]) / 2 < 0.6 * unpaired_half


def test_paired_interval_coverage_for_the_win_rate_difference():
    # Truth: the difference of the two population win rates, computed on a very large sample.
    rng = np.random.default_rng(3)
    big, _, _ = _two_models(rng, n=200_000, shift=0.3)
    truth = 100 * (
        big[big.generator_2 == "cand_b"].preference.mean() - big[big.generator_2 == "cand"].preference.mean()
    )
    hits, reps = 0, 1000
    for _ in range(reps):
        ann, _, _ = _two_models(rng, n=200, shift=0.3)
        r = paired_comparison(ann, "cand", "cand_b", length_controlled=False)["win_rate"]
        hits += r["ci_low"] <= truth <= r["ci_high"]
    assert 0.93 <= hits / reps <= 0.97


def test_unknown_model_and_different_baselines_are_clear_errors():
    ann, d, gamed = simulate(50, np.random.default_rng(4))
    with pytest.raises(InputError, match="no annotations for model 'nope'"):
        paired_comparison(ann, "cand", "nope", difficulty=d)
    other = ann.assign(generator_2="x", generator_1="another-baseline")
    with pytest.raises(InputError, match="different baselines"):
        paired_comparison(pd.concat([ann, other]), "cand", "x", difficulty=d)


def test_compare_reports_each_models_lc_as_the_leaderboard_does(all_annotations, official_board):
    """On the AlpacaEval set with judgebench's estimate, the leaderboard's LC goes through the estimate's
    correction; `compare` must report the same figures (it used to skip the correction: claude 28.65
    against the leaderboard's 27.42), so both stay near the official LC."""
    from judgebench.leaderboard.board import make_leaderboard

    pair = all_annotations[all_annotations.generator_2.isin(["claude", "vicuna-7b"])]
    board, _ = make_leaderboard(pair, n_boot=0, workers=1, detect_cheating=False)
    out = paired_comparison(pair, "vicuna-7b", "claude", n_boot=50)["length_controlled_winrate"]
    assert out["a"] == pytest.approx(board.loc["vicuna-7b", "length_controlled_winrate"], abs=1e-9)
    assert out["b"] == pytest.approx(board.loc["claude", "length_controlled_winrate"], abs=1e-9)
    official = official_board.loc[["vicuna-7b", "claude"], "length_controlled_winrate"].to_numpy()
    assert np.abs(np.array([out["a"], out["b"]]) - official).max() < 1.0
    assert out["ci_low"] < out["difference"] < out["ci_high"]


def test_paired_t_by_hand():
    """d = (1, 2, 2): mean 5/3, sd sqrt(1/3), se 1/3; t(0.975, 2) = 4.303 (tables); t = 5 on 2 df, whose
    two-sided p is 1 - t / sqrt(2 + t^2) = 1 - 5 / sqrt(27) = 0.0377. All differences equal: p 0 (1 at 0)."""
    from judgebench.stats.paired import paired_t

    mean, low, high, p = paired_t([1, 2, 3], [2, 4, 5])
    assert mean == pytest.approx(5 / 3)
    assert (high - mean) == pytest.approx(4.303 / 3, abs=1e-3) and (mean - low) == pytest.approx(high - mean)
    assert p == pytest.approx(0.0377, abs=1e-4)
    assert paired_t([1, 2], [2, 3])[3] == 0.0 and paired_t([1, 2], [1, 2])[3] == 1.0


def test_bootstrap_p_value_by_hand():
    from judgebench.stats.lc import bootstrap_p_value

    assert bootstrap_p_value(np.array([1.0, 2.0, 3.0, -1.0])) == 0.5  # 2 x min(1/4, 3/4)
    assert bootstrap_p_value(np.arange(1.0, 101.0)) == 0.01  # none at or below 0: the floor 1/100
    assert np.isnan(bootstrap_p_value(np.array([])))
