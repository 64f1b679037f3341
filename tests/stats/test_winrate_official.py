"""Win-rate metrics against the official AlpacaEval 2.0 leaderboard CSV, for every shared model."""

import numpy as np
import pytest

from judgebench.stats.winrate import winrate_metrics


def test_every_shared_model_matches_the_official_row(all_annotations, official_board, alpaca_dir):
    import pandas as pd

    from judgebench.files.records import load_outputs

    models = all_annotations["generator_2"].unique()
    assert len(models) == 45
    checked = 0
    for model, part in all_annotations.groupby("generator_2"):
        official = official_board.loc[model]
        ours = winrate_metrics(part["preference"])
        for col in ("win_rate", "standard_error", "discrete_win_rate"):
            assert ours[col] == pytest.approx(official[col], abs=1e-6), (model, col)
        for col in ("n_wins", "n_wins_base", "n_draws", "n_total"):
            assert ours[col] == official[col], (model, col)
        assert ours["n_missing"] == 0
        # AlpacaEval truncates the mean output length (in characters) over the model's outputs file.
        # Where the annotation file lacks rows (4 files here) that file held outputs we don't have:
        # the mean over what we have may differ by a few characters.
        if len(part) == 805:
            assert int(part["len_2"].mean()) == official["avg_length"], model
        else:
            assert abs(int(part["len_2"].mean()) - official["avg_length"]) <= 3, model
        checked += 1
    assert checked == 45
    # and the same rule on a raw model_outputs file that has no annotations here
    outs = load_outputs(alpaca_dir / "model_outputs" / "gpt-4o-2024-05-13.json.gz")
    assert (
        int(pd.Series(outs["output"]).str.len().mean())
        == official_board.loc["gpt-4o-2024-05-13", "avg_length"]
    )


def test_hand_calculation_with_missing_and_ties():
    pref = [1.0, 2.0, 1.5, 1.75, np.nan, 1.25]
    m = winrate_metrics(pref)
    p = np.array([0, 1, 0.5, 0.75, 0.25])
    assert m["win_rate"] == pytest.approx(100 * p.mean())
    assert m["standard_error"] == pytest.approx(100 * p.std(ddof=1) / np.sqrt(5))
    assert (m["n_wins"], m["n_wins_base"], m["n_draws"], m["n_total"], m["n_missing"]) == (2, 2, 1, 5, 1)
    # discrete: 0, 1, 1/2, 1, 0 -> 2.5 / 5
    assert m["discrete_win_rate"] == pytest.approx(50.0)
