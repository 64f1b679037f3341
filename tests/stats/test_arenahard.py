"""Arena-Hard's score, interval and style control in simulations with known truth; MT-Bench's figures and
Holm's adjustment by hand calculation."""

import numpy as np
import pandas as pd
import pytest

from judgebench.stats import arenahard, mtbench
from judgebench.stats.multiple import holm


def words(n: int, rng, markdown: bool = False) -> str:
    text = " ".join("w" for _ in range(n))
    if markdown:  # style that varies within every model, independent of its quality
        extra = rng.integers(0, 3)
        text = (
            "## Heading\n" * extra + "- item\n" * rng.integers(0, 3) + "**bold** " * rng.integers(0, 2) + text
        )
    return text


def count_words(text: str) -> int:
    return len(text.split())


def style(text: str) -> tuple[int, int, int, int]:
    """length in words and the markdown words() writes: headers, list items, bold spans"""
    return count_words(text), text.count("## "), text.count("- item"), text.count("**bold**")


def battles_of(records: list[dict]) -> pd.DataFrame:
    """One row per judged game (stats/arenahard.py's battles), with both answers' style counts."""
    rows = []
    for r in records:
        if r.get("preference") is None:
            continue
        c, b = style(r["output_2"]), style(r["output_1"])
        for score, weight in r["games"]:
            rows.append(
                {
                    "model": r["generator_2"],
                    "instruction": r["instruction"],
                    "score": float(score),
                    "weight": float(weight),
                    **{f"c_{f}": v for f, v in zip(arenahard.STYLE_FEATURES, c, strict=True)},
                    **{f"b_{f}": v for f, v in zip(arenahard.STYLE_FEATURES, b, strict=True)},
                }
            )
    return pd.DataFrame(rows)


def simulate(models: dict, n_prompts: int, length_effect: float, seed: int, games: int = 2) -> list[dict]:
    """models: name -> (true strength q, (low, high) length ratio to the baseline). The judge's log-odds
    that the candidate wins are q + length_effect * (c - b) / (c + b), with c, b the lengths in words."""
    rng = np.random.default_rng(seed)
    records = []
    for i in range(n_prompts):
        base_len = int(rng.integers(100, 300))
        baseline = words(base_len, rng, markdown=True)
        for name, (q, (lo, hi)) in models.items():
            cand = words(int(base_len * rng.uniform(lo, hi)), rng, markdown=True)
            c, b = count_words(cand), count_words(baseline)
            p = 1 / (1 + np.exp(-(q + length_effect * (c - b) / (c + b))))
            outcomes = [(float(rng.random() < p), 1) for _ in range(games)]
            records.append(
                {
                    "instruction": f"prompt {i}",
                    "output_1": baseline,
                    "output_2": cand,
                    "generator_2": name,
                    "preference": 1 + np.mean([s for s, _ in outcomes]),
                    "games": outcomes,
                }
            )
    return records


def test_score_is_the_weighted_win_rate_against_the_baseline_by_hand():
    # one model, no style: the Bradley-Terry MLE solves sigmoid(beta) = sum(w * s) / sum(w)
    records = [
        {
            "instruction": "a",
            "output_1": "x",
            "output_2": "y",
            "generator_2": "m",
            "preference": 1.75,
            "games": [(1.0, 3), (0.5, 1)],
        },
        {
            "instruction": "b",
            "output_1": "x",
            "output_2": "y",
            "generator_2": "m",
            "preference": 1.0,
            "games": [(0.0, 1), (1.0, 1)],
        },
        {"instruction": "c", "output_1": "x", "output_2": "y", "generator_2": "m", "preference": None},
    ]
    battles = battles_of(records)
    assert len(battles) == 4  # the failed judgment is not a battle
    expected = 100 * (3 * 1 + 1 * 0.5 + 0 + 1) / 6
    assert arenahard.bt_scores(battles)["m"] == pytest.approx(expected, abs=1e-4)


def test_style_control_recovers_the_true_order_when_the_judge_prefers_length():
    truth = {"concise-better": (0.5, (0.4, 0.9)), "verbose-worse": (0.0, (1.3, 3.0))}
    battles = battles_of(simulate(truth, 500, length_effect=4.0, seed=7))
    table = arenahard.arena_hard_scores(battles, n_boot=60, seed=1)
    raw, sc = table["score"], table["style_controlled"]
    assert raw["verbose-worse"] > raw["concise-better"] + 5  # the length-loving judge inverts the raw order
    assert sc["concise-better"] > sc["verbose-worse"]  # style control puts it back
    for name, (q, _) in truth.items():  # and lands on the true win rate at equal style
        true_rate = 100 / (1 + np.exp(-q))
        assert table.loc[name, "sc_ci_low"] <= true_rate <= table.loc[name, "sc_ci_high"], name
        assert not table.loc[name, "ci_low"] <= true_rate <= table.loc[name, "ci_high"], name


def test_bootstrap_interval_covers_the_true_score_at_about_its_level():
    q = 0.3
    true_rate = 100 / (1 + np.exp(-q))
    covered, widths = 0, []
    for rep in range(30):
        battles = battles_of(simulate({"m": (q, (0.8, 1.2))}, 150, 0.0, seed=100 + rep, games=1))
        t = arenahard.arena_hard_scores(battles, n_boot=80, seed=rep, style=False)
        covered += t.loc["m", "ci_low"] <= true_rate <= t.loc["m", "ci_high"]
        widths.append(t.loc["m", "ci_high"] - t.loc["m", "ci_low"])
    assert covered >= 25  # nominal 95%: 28.5 of 30 expected; 25 or more with probability > 0.99
    # the binomial standard error of a 57% rate over 150 games is 4.0 points: a 95% interval about 16 wide
    assert 11 < np.mean(widths) < 21


def test_paired_difference_detects_a_real_gap_and_not_a_null_one():
    battles = battles_of(
        simulate({"a": (0.0, (0.9, 1.1)), "b": (1.0, (0.9, 1.1)), "c": (0.0, (0.9, 1.1))}, 200, 0.0, seed=3)
    )
    real = arenahard.paired_difference(battles, "b", "a", n_boot=200)
    assert real["difference"] > 0 and real["ci_low"] > 0 and real["p_value"] < 0.05
    null = arenahard.paired_difference(battles, "c", "a", n_boot=200)
    assert null["ci_low"] < 0 < null["ci_high"] and null["p_value"] > 0.05


def test_holm_by_hand():
    # sorted: 0.01*4 = 0.04; 0.03*3 = 0.09; 0.04*2 = 0.08 -> running max 0.09; 0.20*1 = 0.20
    assert holm([0.01, 0.04, 0.03, 0.20]) == pytest.approx([0.04, 0.09, 0.09, 0.20])
    assert holm([0.5, None, 0.01]) == [pytest.approx(0.5), None, pytest.approx(0.02)]  # m = 2
    assert holm([0.4, 0.6]) == pytest.approx([0.8, 0.8])
    assert holm([0.9, 0.8, 0.7]) == pytest.approx([1.0, 1.0, 1.0])  # capped at 1


def test_mt_bench_single_and_pairwise_by_hand():
    records = [
        {"instruction": "q1", "dataset": "writing", "per_turn": [8, 6]},
        {"instruction": "q2", "dataset": "writing", "per_turn": [None, 4]},
        {"instruction": "q3", "dataset": "math", "per_turn": [10, 9]},
    ]
    s = mtbench.single_summary(records)
    assert s["score"] == pytest.approx(37 / 5) and s["turn_1"] == pytest.approx(9.0)
    assert s["turn_2"] == pytest.approx(19 / 3) and s["n_turns_failed"] == 1
    assert s["per_category"] == pytest.approx({"writing": 6.0, "math": 9.5})
    pairs = [{"instruction": "q1", "per_turn": [2.0, 1.5]}, {"instruction": "q2", "per_turn": [1.0, 2.0]}]
    assert mtbench.pairwise_summary(pairs) == {
        "win": 2,
        "tie": 1,
        "loss": 1,
        "win_rate": 50.0,
        "win_rate_adjusted": 62.5,
    }
    # paired over questions: differences 1, -1, 3 -> mean 1
    d = mtbench.paired_difference(
        pd.Series({"q1": 5.0, "q2": 6.0, "q3": 4.0}), pd.Series({"q1": 6.0, "q2": 5.0, "q3": 7.0, "q4": 1.0})
    )
    assert d["difference"] == pytest.approx(1.0) and d["n"] == 3 and d["ci_low"] < 1.0 < d["ci_high"]
