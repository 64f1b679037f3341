"""The paired comparison's pieces against independent values, fast (scripts/mutation reruns these for every
mutant of stats/paired.py): the paired t-test against scipy's own ttest_rel and its confidence interval,
the rows compared worked out by hand, each model's LC against the leaderboard's on the same rows."""

import gzip
import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.special import expit

from judgebench.stats.paired import paired_comparison, paired_t


@pytest.mark.parametrize("level", [0.95, 0.8])
def test_paired_t_is_scipys_ttest_rel_and_its_interval(level):
    rng = np.random.default_rng(11)
    a = rng.normal(0, 1, 9)
    b = a + rng.normal(0.4, 0.7, 9)
    res = stats.ttest_rel(b, a)
    ci = res.confidence_interval(level)
    mean, low, high, p = paired_t(a, b, level)
    assert mean == pytest.approx(float(np.mean(b - a)), abs=1e-12)
    assert (low, high) == pytest.approx((ci.low, ci.high), abs=1e-12)
    assert p == pytest.approx(res.pvalue, abs=1e-12)


def test_paired_t_with_every_difference_equal_is_that_point():
    assert paired_t([1.0, 2.0, 4.0], [1.5, 2.5, 4.5]) == (0.5, 0.5, 0.5, 0.0)
    assert paired_t([1.0, 2.0], [1.0, 2.0]) == (0.0, 0.0, 0.0, 1.0)


def _frame(rows: dict[str, dict[str, float]], baseline="base") -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "instruction": q,
                "generator_1": baseline,
                "generator_2": m,
                "preference": p,
                "len_1": 100,
                "len_2": 90,
            }
            for m, prefs in rows.items()
            for q, p in prefs.items()
        ]
    )


def test_raw_comparison_uses_the_rows_both_models_have_judged():
    # a: q0..q8 with q3 unjudged; b: q1..q9 with q7 unjudged -> both: q1, q2, q4, q5, q6, q8
    pa = dict(zip([f"q{i}" for i in range(9)], [1.2, 1.0, 1.5, np.nan, 1.9, 1.1, 1.4, 1.3, 2.0], strict=True))
    pb = dict(
        zip([f"q{i}" for i in range(1, 10)], [1.6, 1.5, 1.7, 2.0, 1.3, 1.8, np.nan, 1.9, 1.0], strict=True)
    )
    common = ["q1", "q2", "q4", "q5", "q6", "q8"]
    a = np.array([pa[q] for q in common])  # 1.0, 1.5, 1.9, 1.1, 1.4, 2.0
    b = np.array([pb[q] for q in common])  # 1.6, 1.5, 2.0, 1.3, 1.8, 1.9
    r = paired_comparison(_frame({"a": pa, "b": pb}), "a", "b", level=0.9, length_controlled=False)
    assert (r["model_a"], r["model_b"], r["n_common"], r["level"]) == ("a", "b", 6, 0.9)
    wr = r["win_rate"]
    assert wr["a"] == pytest.approx(100 * (8.9 / 6 - 1)) and wr["b"] == pytest.approx(100 * (10.1 / 6 - 1))
    assert wr["difference"] == pytest.approx(100 * 1.2 / 6)
    ci = stats.ttest_rel(b, a).confidence_interval(0.9)
    assert (wr["ci_low"], wr["ci_high"]) == pytest.approx((100 * ci.low, 100 * ci.high))
    assert wr["p_value"] == pytest.approx(stats.ttest_rel(b, a).pvalue)
    assert wr["method"] == "paired t-test" and "length_controlled_winrate" not in r


def test_errors_name_what_is_wrong():
    from judgebench.files.records import InputError

    two = _frame({"a": {"q0": 1.0, "q1": 2.0}})
    other = _frame({"b": {"q0": 1.0, "q1": 2.0}}, baseline="other")
    with pytest.raises(InputError) as err:
        paired_comparison(pd.concat([two, other]), "a", "b")
    assert str(err.value) == (
        "field 'generator_1': 'a' and 'b' were judged against different baselines -> a paired comparison "
        "needs the same baseline"
    )
    only = "only 1 instructions are judged for both models -> annotate the same instructions"
    for rows in (
        {"a": {"q0": 1.0, "q1": 2.0}, "b": {"q1": 1.0, "q2": 2.0}},
        {"a": {"q1": 1.0}, "b": {"q0": 1.0, "q1": 2.0}},  # a model with one row: the same line
        {"a": {"q0": 1.0, "q1": 2.0}, "b": {"q1": 1.0}},
    ):
        with pytest.raises(InputError) as err:
            paired_comparison(_frame(rows), "a", "b")
        assert str(err.value) == only


def test_without_lc_inputs_the_lc_is_none_and_says_why():
    # the baseline against itself and one candidate, not the AlpacaEval set, no difficulty: nothing to fit
    prefs = {"q0": 1.5, "q1": 1.5, "q2": 1.5}
    frame = _frame({"base": prefs, "c": {"q0": 2.0, "q1": 1.0, "q2": 1.75}})
    r = paired_comparison(frame, "base", "c")
    assert r["length_controlled_winrate"] is None and r["lc_note"].startswith("none: not the AlpacaEval set")
    assert r["win_rate"]["a"] == 50.0 and r["win_rate"]["b"] == pytest.approx(100 * 1.75 / 3)  # p 1, 0, 0.75
    assert "lc_difficulty" not in r


@pytest.fixture(scope="module")
def two_models(data_dir):
    """Two simulated candidates on 300 of AlpacaEval's instructions (the shipped LC estimate applies, with
    its correction): b is better and longer."""
    with gzip.open(data_dir / "alpacaeval" / "eval_set.json.gz") as f:
        instructions = [r["instruction"] for r in json.load(f)][:300]
    rng = np.random.default_rng(4)
    n = len(instructions)
    frames = []
    for name, shift, extra in (("a", -0.3, 0), ("b", 0.5, 300)):
        len_2 = rng.normal(900 + extra, 200, n).clip(50)
        len_1 = rng.normal(1000, 200, n).clip(50)
        eta = shift + 0.8 * np.tanh((len_2 - len_1) / 300) + rng.normal(0, 1, n)
        frames.append(
            pd.DataFrame(
                {
                    "instruction": instructions,
                    "generator_1": "gpt4_1106_preview",
                    "generator_2": name,
                    "len_1": len_1,
                    "len_2": len_2,
                    "preference": 1 + expit(eta),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def test_each_models_lc_is_the_leaderboards_and_the_bootstrap_is_consistent(two_models):
    from judgebench.leaderboard.board import make_leaderboard

    board, info = make_leaderboard(
        two_models, n_boot=0, workers=1, detect_cheating=False, lc_alignment="instruction"
    )
    r = paired_comparison(two_models, "a", "b", n_boot=60, seed=3)
    lc = r["length_controlled_winrate"]
    assert lc["a"] == pytest.approx(board.loc["a", "length_controlled_winrate"], abs=1e-9)
    assert lc["b"] == pytest.approx(board.loc["b", "length_controlled_winrate"], abs=1e-9)
    assert lc["difference"] == pytest.approx(lc["b"] - lc["a"], abs=1e-12)
    assert r["lc_difficulty"] == info["lc_difficulty"]
    assert lc["method"] == "paired bootstrap over instructions (60 resamples, GLM refitted)"
    assert lc["ci_low"] < lc["difference"] < lc["ci_high"] and lc["ci_low"] > 0  # b is clearly better
    assert 0 < lc["p_value"] < 0.05
    # a narrower level: an interval inside; the same seed: the same draws; another seed: others
    narrow = paired_comparison(two_models, "a", "b", n_boot=60, seed=3, level=0.5)
    assert lc["ci_low"] < narrow["length_controlled_winrate"]["ci_low"]
    assert narrow["length_controlled_winrate"]["ci_high"] < lc["ci_high"]
    other = paired_comparison(two_models, "a", "b", n_boot=60, seed=4)["length_controlled_winrate"]
    assert other["difference"] == lc["difference"] and other["ci_low"] != lc["ci_low"]
    # the report calls it without a seed: seed 0, so a report's interval is the one `compare` gives
    unseeded = paired_comparison(two_models, "a", "b", n_boot=60)["length_controlled_winrate"]
    assert unseeded == paired_comparison(two_models, "a", "b", n_boot=60, seed=0)["length_controlled_winrate"]
