"""winrate_metrics on small inputs worked out by hand (and with the standard library's statistics): each
count, the rounding of the discrete rate, the edge cases of no row and one row, the truncated mean length.
Fast on purpose: scripts/mutation reruns these for every mutant of stats/winrate.py."""

import math
import statistics
import warnings

import numpy as np
import pandas as pd
import pytest

from judgebench.stats.winrate import winrate_metrics


def test_counts_rates_and_standard_error_by_hand():
    # preferences -> p = pref - 1: 0, 1, 0.5, 0.75, 0.25, 0.9, 0.1 (one missing row)
    pref = pd.Series([1.0, 2.0, 1.5, 1.75, None, 1.25, 1.9, 1.1])
    p = [0.0, 1.0, 0.5, 0.75, 0.25, 0.9, 0.1]
    m = winrate_metrics(pref)
    assert m["win_rate"] == pytest.approx(100 * sum(p) / 7)  # 3.5 / 7 = 50
    assert m["standard_error"] == pytest.approx(100 * statistics.stdev(p) / math.sqrt(7))
    assert (m["n_wins"], m["n_wins_base"], m["n_draws"]) == (3, 3, 1)  # > .5: 1, .75, .9; < .5: 0, .25, .1
    assert (m["n_total"], m["n_missing"]) == (7, 1)
    # discrete: 0, 1, 1/2 (an exact tie stays a tie), 1, 0, 1, 0 -> 3.5 / 7
    assert m["discrete_win_rate"] == pytest.approx(50.0)
    assert "avg_length" not in m


def test_discrete_rate_rounds_each_preference_and_keeps_exact_ties():
    m = winrate_metrics(np.array([1.5, 1.5, 1.6, 1.6]))  # 1/2, 1/2, 1, 1 -> 3 / 4
    assert m["discrete_win_rate"] == pytest.approx(75.0)
    assert m["win_rate"] == pytest.approx(55.0)
    assert (m["n_wins"], m["n_wins_base"], m["n_draws"]) == (2, 0, 2)
    m = winrate_metrics([1.4, 1.4, 1.0])  # 0, 0, 0
    assert m["discrete_win_rate"] == 0.0 and m["win_rate"] == pytest.approx(100 * 0.8 / 3)
    assert (m["n_wins"], m["n_wins_base"], m["n_draws"]) == (0, 3, 0)


def test_no_row_and_one_row_give_nan_where_undefined_and_no_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy warns on the spread of one value; the rule must not ask for it
        none = winrate_metrics([None, None], candidate_outputs=pd.Series(["ab", "abcd"]))
        one = winrate_metrics([1.75])
    assert math.isnan(none["win_rate"]) and math.isnan(none["standard_error"])
    assert math.isnan(none["discrete_win_rate"])
    assert (none["n_total"], none["n_missing"], none["n_wins"], none["n_draws"]) == (0, 2, 0, 0)
    assert none["avg_length"] == 3
    assert one["win_rate"] == pytest.approx(75.0) and math.isnan(one["standard_error"])
    assert one["discrete_win_rate"] == 100.0 and (one["n_total"], one["n_missing"]) == (1, 0)


def test_two_rows_have_a_standard_error():
    m = winrate_metrics([1.0, 2.0])  # p 0 and 1: sd sqrt(1/2), se sqrt(1/2) / sqrt(2) = 1/2
    assert m["standard_error"] == pytest.approx(50.0)
    assert m["win_rate"] == pytest.approx(50.0) and m["discrete_win_rate"] == pytest.approx(50.0)


def test_average_length_is_the_truncated_mean_in_characters():
    # AlpacaEval: int(mean of len(output)): (2 + 4 + 5) / 3 = 3.67 -> 3; "é" is one character
    m = winrate_metrics([1.0, 2.0, 1.5], candidate_outputs=pd.Series(["ab", "abcd", "abcdé"]))
    assert m["avg_length"] == 3 and isinstance(m["avg_length"], int)
    assert winrate_metrics([2.0], candidate_outputs=["x" * 9, "y" * 10])["avg_length"] == 9
