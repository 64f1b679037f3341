"""Juries: aggregation and kappas by hand and against independent implementations; bootstrap intervals
against a simulation whose kappa is known; AlpacaFarm's label noise."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from judgebench.errors import InputError
from judgebench.stats import jury as J


def _wide(columns: dict[str, list[float]]) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    index = pd.MultiIndex.from_arrays(
        [["m"] * n, [f"q{i}" for i in range(n)]], names=["model", "instruction"]
    )
    return pd.DataFrame(columns, index=index)


def test_aggregate_mean_and_majority():
    wide = _wide({"a": [1.0, 1.0, 2.0, 1.2], "b": [1.0, 1.5, 2.0, 1.9], "c": [2.0, 2.0, 1.5, 1.7]})
    assert J.aggregate(wide, "mean").tolist() == pytest.approx([4 / 3, 1.5, 5.5 / 3, 4.8 / 3])
    # votes: (1,1,2) -> 1; (1,1.5,2) no majority -> tie; (2,2,1.5) -> 2; (1,2,2) -> 2
    assert J.aggregate(wide, "majority").tolist() == [1.0, 1.5, 2.0, 2.0]


def test_cohen_kappa_by_hand_and_against_sklearn_and_statsmodels(statsmodels):
    from sklearn.metrics import cohen_kappa_score
    from statsmodels.stats.inter_rater import cohens_kappa

    a = [1, 1, 2, 2, 1.5, 1]
    b = [1, 2, 2, 2, 1.5, 1]
    # p_o = 5/6, p_e = (3*2 + 1*1 + 2*3) / 36 = 13/36 -> kappa = (30 - 13) / (36 - 13) = 17/23
    assert J.cohen_kappa(a, b) == pytest.approx(17 / 23)
    table = pd.crosstab(J.hard(a), J.hard(b)).to_numpy()
    assert J.cohen_kappa(a, b) == pytest.approx(cohens_kappa(table).kappa)
    rng = np.random.default_rng(4)
    for _ in range(20):
        x, y = rng.choice([1.0, 1.5, 2.0], (2, 50), p=[0.45, 0.1, 0.45])
        y = np.where(rng.random(50) < 0.6, x, y)
        assert J.cohen_kappa(x, y) == pytest.approx(
            cohen_kappa_score((2 * x).astype(int), (2 * y).astype(int))
        )
    assert J.cohen_kappa([1.2, 1.9], [1.1, 1.6]) == pytest.approx(1.0)  # soft preferences count as verdicts


def test_fleiss_kappa_by_hand(statsmodels):
    # counts per pair (baseline, tie, model): (3,0,0) (0,0,3) (2,0,1) (1,1,1); P-bar = 7/12,
    # P_e = (6/12)^2 + (1/12)^2 + (5/12)^2 = 62/144 -> kappa = (84 - 62) / (144 - 62) = 11/41
    labels = np.array([[1, 1, 1], [2, 2, 2], [1, 1, 2], [1, 1.5, 2]])
    assert J.fleiss_kappa(labels) == pytest.approx(11 / 41)


def test_kappa_intervals_cover_the_known_kappa(statsmodels):
    """Two judges each reverse a balanced truth with probability q: kappa = (1 - 2q)^2 (0.36 at q = 0.2)."""
    rng = np.random.default_rng(0)
    q, hits = 0.2, []
    for _ in range(30):
        truth = np.where(rng.random(300) < 0.5, 1.0, 2.0)
        wide = _wide({name: J.flip_labels(truth, q, rng) for name in ("a", "b")})
        stats = J.jury_statistics(wide, n_boot=200, seed=int(rng.integers(1 << 30)))
        c = stats["cohen_kappa"]["a ~ b"]
        hits.append(c["ci_low"] <= (1 - 2 * q) ** 2 <= c["ci_high"])
    assert np.mean(hits) >= 0.85, np.mean(hits)


def test_bootstrap_resamples_instructions_not_rows(statsmodels):
    """Two models' pairs of one instruction always travel together: with every instruction's two rows
    identical, the interval equals the one from a single row an instruction."""
    rng = np.random.default_rng(1)
    a, b = np.where(rng.random(200) < 0.5, 1.0, 2.0), np.where(rng.random(200) < 0.5, 1.0, 2.0)
    b[:140] = a[:140]
    one = _wide({"a": a, "b": b})
    index = pd.MultiIndex.from_arrays(
        [["m1"] * 200 + ["m2"] * 200, [f"q{i}" for i in range(200)] * 2], names=["model", "instruction"]
    )
    two = pd.DataFrame({"a": np.r_[a, a], "b": np.r_[b, b]}, index=index)
    s1 = J.jury_statistics(one, n_boot=300, seed=5)["cohen_kappa"]["a ~ b"]
    s2 = J.jury_statistics(two, n_boot=300, seed=5)["cohen_kappa"]["a ~ b"]
    assert s2["kappa"] == pytest.approx(s1["kappa"])
    assert (s2["ci_low"], s2["ci_high"]) == pytest.approx((s1["ci_low"], s1["ci_high"]))


def test_label_noise_flips_at_the_given_rate():
    rng = np.random.default_rng(2)
    p = np.full(20000, 1.2)
    noisy = J.flip_labels(p, 0.25, rng)
    assert set(np.round(noisy, 6)) == {1.2, 1.8}
    assert abs(np.mean(noisy == 1.8) - 0.25) < 0.015  # 5 standard errors
    assert J.flip_labels(p, 1.0, rng).tolist() == pytest.approx((3 - p).tolist())


def test_human_agreement_by_hand(statsmodels):
    wide = _wide({"a": [1.0, 2.0, 1.5], "b": [1.0, 1.0, 2.0]})
    humans = pd.Series([[1.0], [2.0, 1.0], [2.0]], index=wide.index)
    out = J.jury_statistics(wide, how="majority", n_boot=0, humans=humans)["human_agreement"]
    # a: 1 vs 1 -> 1; 2 vs (2, 1) -> 0.5; tie vs 2 -> 0.5  => 2/3
    # b: 1; 1 vs (2, 1) -> 0.5; 2 vs 2 -> 1  => 5/6 ; jury (majority): 1, tie -> 0.5, tie -> 0.5 => 2/3
    assert out["a"] == pytest.approx(2 / 3) and out["b"] == pytest.approx(5 / 6)
    assert out["jury"] == pytest.approx(2 / 3) and out["n_pairs"] == 3


def _frame(prefs, outputs=None):
    n = len(prefs)
    return pd.DataFrame(
        {
            "instruction": [f"q{i}" for i in range(n)],
            "generator_2": "m",
            "output_2": outputs or [f"answer {i}" for i in range(n)],
            "preference": prefs,
        }
    )


def test_align_counts_missing_and_refuses_other_answers():
    wide, notes = J.align({"a": _frame([1.0, 2.0, np.nan]), "b": _frame([1.0, 1.5, 2.0])})
    assert len(wide) == 2 and notes["missing_by_member"] == {"a": 1, "b": 0} and notes["n_pairs_any"] == 3
    with pytest.raises(InputError, match="another answer"):
        J.align({"a": _frame([1.0, 2.0]), "b": _frame([1.0, 2.0], ["answer 0", "something else"])})
    with pytest.raises(InputError, match="at least two"):
        J.align({"a": _frame([1.0])})


def test_mtbench_human_judgments_are_matched_by_question_turn_and_models(tmp_path):
    import json

    ann = pd.DataFrame(
        {
            "instruction": ["q81", "q81 (turn 2)", "q82"],
            "question_id": [81, 81, 82],
            "turn": [1, 2, 1],
            "generator_1": "gpt-4",
            "generator_2": "vicuna",
            "output_1": ["a", "b", "c"],
            "output_2": ["d", "e", "f"],
            "preference": [1.0, 2.0, 1.0],
        }
    )
    humans = [  # lmsys/mt_bench_human_judgments' fields; model order as the humans saw it
        {
            "question_id": 81,
            "model_a": "gpt-4",
            "model_b": "vicuna",
            "winner": "model_a",
            "judge": "expert_0",
            "turn": 1,
        },
        {
            "question_id": 81,
            "model_a": "vicuna",
            "model_b": "gpt-4",
            "winner": "model_a",
            "judge": "author_1",
            "turn": 1,
        },
        {
            "question_id": 81,
            "model_a": "vicuna",
            "model_b": "gpt-4",
            "winner": "tie",
            "judge": "expert_0",
            "turn": 2,
        },
        {
            "question_id": 99,
            "model_a": "vicuna",
            "model_b": "gpt-4",
            "winner": "tie",
            "judge": "expert_0",
            "turn": 1,
        },
    ]
    path = tmp_path / "human.jsonl"
    path.write_text("\n".join(json.dumps(h) for h in humans))
    labels = J.human_labels(path, ann)
    assert labels.loc[("vicuna", "q81")] == [1.0, 2.0]  # gpt-4 (the baseline) won, then vicuna won
    assert labels.loc[("vicuna", "q81 (turn 2)")] == [1.5]
    assert labels.attrs["n_unmatched"] == 1 and len(labels) == 2
