"""tinyBenchmarks estimators on synthetic data with known parameters (a 2-dimensional 2PL world)."""

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from judgebench.io import InputError
from judgebench.stats.difficulty import instruction_key
from judgebench.stats.irt import estimate_from_annotations, fit_tiny

pytestmark = pytest.mark.slow


def _world(rng, n_models=40, n_items=400, dim=2):
    a = np.abs(rng.normal(1.0, 0.4, (n_items, dim)))
    b = rng.normal(1.5, 1.2, n_items)
    theta = rng.normal(0, 1, (n_models, dim))
    return a, b, theta


def _annotations(theta, a, b, rng, names, noise=0.6):
    rows = []
    for name, th in zip(names, theta, strict=True):
        p = expit(a @ th - b + rng.normal(0, noise, len(b)))
        rows += [{"instruction": f"item {j}", "generator_1": "base", "generator_2": name, "preference": 1 + p[j]}
                 for j in range(len(b))]
    return pd.DataFrame(rows)


def test_estimators_beat_random_sampling_on_new_models_and_catch_a_null_model():
    rng = np.random.default_rng(5)
    a, b, theta = _world(rng)
    train = _annotations(theta, a, b, rng, [f"m{i}" for i in range(len(theta))])
    tiny = fit_tiny(train, n_anchors=40, seed=0, dim=2, cv_folds=4)
    assert len(tiny.anchors) == 40 and abs(sum(tiny.weights) - 1) < 1e-9

    errors, random_errors, covered = {"anchor": [], "gp-irt": []}, [], 0
    new_theta = rng.normal(0, 1, (30, 2))
    for k, th in enumerate(new_theta):
        ann = _annotations(th[None], a, b, rng, [f"new{k}"])
        truth = 100 * (ann["preference"].mean() - 1)
        est = estimate_from_annotations(tiny, ann)
        for name in errors:
            errors[name].append(abs(est[name]["estimate"] - truth))
        covered += est["ci_low"] <= truth <= est["ci_high"]
        p = ann["preference"].to_numpy() - 1
        random_errors.append(np.mean([abs(100 * p[rng.choice(len(p), 40, replace=False)].mean() - truth)
                                      for _ in range(50)]))
    assert np.mean(errors["gp-irt"]) < np.mean(random_errors)
    assert np.mean(errors["anchor"]) < np.mean(random_errors)
    assert covered >= 25  # of 30

    # A null model: the same middling score on every item, whatever its difficulty.
    null = pd.DataFrame({"instruction": [f"item {j}" for j in range(len(b))], "generator_1": "base",
                         "generator_2": "null", "preference": 1.7})
    est = estimate_from_annotations(tiny, null)
    assert est["recommended"] == "anchor" and "warning" in est
    assert abs(est["estimate"] - 70.0) < 1e-6


def test_bad_input_is_clear():
    rng = np.random.default_rng(6)
    a, b, theta = _world(rng, n_models=5, n_items=60)
    with pytest.raises(InputError, match="too few to fit"):
        fit_tiny(_annotations(theta, a, b, rng, [f"m{i}" for i in range(5)]), n_anchors=10)
    a, b, theta = _world(rng, n_models=12, n_items=60)
    tiny = fit_tiny(_annotations(theta, a, b, rng, [f"m{i}" for i in range(12)]), n_anchors=10, dim=1, cv_folds=3)
    partial = _annotations(theta[:1], a, b, rng, ["x"])
    from judgebench.stats.difficulty import instruction_key

    partial = partial[~partial["instruction"].map(instruction_key).isin(tiny.anchor_keys[:3])]
    with pytest.raises(InputError, match="3 of the 10 anchors are not in the annotations"):
        estimate_from_annotations(tiny, partial)
    a2, b2, theta2 = _world(rng, n_models=12, n_items=60)
    mixed = pd.concat([_annotations(theta, a, b, rng, [f"m{i}" for i in range(12)]),
                       _annotations(theta2, a2, b2, rng, [f"n{i}" for i in range(12)]).assign(
                           instruction=lambda d: "set2 " + d["instruction"])])
    with pytest.raises(InputError, match="different eval sets are mixed"):
        fit_tiny(mixed, n_anchors=10, dim=1)
    other = partial.assign(instruction=lambda d: "other " + d["instruction"])
    with pytest.raises(InputError):
        estimate_from_annotations(tiny, other)


def test_failed_anchor_judgments_are_left_out_counted_and_bounded():
    rng = np.random.default_rng(11)
    a, b, theta = _world(rng, n_models=16, n_items=200, dim=1)
    tiny = fit_tiny(_annotations(theta, a, b, rng, [f"m{i}" for i in range(16)]), n_anchors=20, dim=1, cv_folds=3)
    new = _annotations(rng.normal(0, 1, (1, 1)), a, b, rng, ["new"])
    by_key = {instruction_key(t): t for t in new["instruction"]}
    anchor_items = [by_key[k] for k in tiny.anchor_keys]
    y = new.set_index("instruction").loc[anchor_items, "preference"].to_numpy() - 1
    w = np.array(tiny.weights)

    one_failed = new.copy()
    one_failed.loc[one_failed["instruction"] == anchor_items[0], "preference"] = np.nan
    est = estimate_from_annotations(tiny, one_failed)
    # hand calculation: the anchor estimator renormalises the weights over the 19 judged anchors
    assert est["n_anchors"] == 19 and est["n_anchors_failed"] == 1 and "failed" in est["warning"]
    assert est["anchor"]["estimate"] == pytest.approx(100 * (w[1:] @ y[1:]) / w[1:].sum())

    many_failed = new.copy()
    many_failed.loc[many_failed["instruction"].isin(anchor_items[:3]), "preference"] = np.nan
    with pytest.raises(InputError, match="3 of the 20 anchor judgments have no verdict"):
        estimate_from_annotations(tiny, many_failed)


def test_lc_from_anchors_equals_the_full_fit_when_every_instruction_is_an_anchor(all_annotations, official_board):
    """With all 805 rows the anchor LC must be the leaderboard's LC (itself checked against the official
    figures), and its interval must hold it; off the AlpacaEval set there is no LC estimate."""
    from judgebench.leaderboard import make_leaderboard
    from judgebench.stats.irt import lc_from_anchors

    claude = all_annotations[all_annotations["generator_2"] == "claude"]
    lc = lc_from_anchors(claude, n_boot=200)
    board, _ = make_leaderboard(claude, n_boot=0, workers=1, detect_cheating=False)
    assert lc["estimate"] == pytest.approx(board.loc["claude", "length_controlled_winrate"], abs=1e-6)
    assert abs(lc["estimate"] - official_board.loc["claude", "length_controlled_winrate"]) < 1.5
    assert lc["ci_low"] < lc["estimate"] < lc["ci_high"] and lc["ci_high"] - lc["ci_low"] < 8
    assert lc_from_anchors(claude.assign(instruction=claude["instruction"] + " (edited)"), n_boot=0) is None
