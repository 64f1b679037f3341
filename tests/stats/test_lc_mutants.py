"""The LC GLM's pieces, quickly, against independent arithmetic: scikit-learn's liblinear on the same
design (AlpacaEval's own solver), hand-worked standardisation, design rows and bootstrap sums. Written to
kill the mutants of judgebench/stats/lc.py that the slower data tests let live (docs/testing.md)."""

import statistics

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit
from simulation import simulate

from judgebench.files.records import InputError
from judgebench.stats import lc


def test_standardized_delta_len_by_hand():
    # deltas (baseline - candidate) 100, -100, 300: mean 100, sd (ddof 1) sqrt((0 + 40000 + 40000) / 2) = 200
    assert lc.standardized_delta_len([200, 0, 400], [100, 100, 100]).tolist() == [0.5, -0.5, 1.5]
    assert lc.standardized_delta_len([5, 5], [1, 1]).tolist() == [0.0, 0.0]  # no spread: no length signal
    assert lc.standardized_delta_len([7], [1]).tolist() == [0.0]
    # deltas 1, 0: sd sqrt(1/2), below 1 and still a spread
    assert lc.standardized_delta_len([1, 0], [0, 0]) == pytest.approx([np.sqrt(2), 0.0])


def test_design_rows_weights_and_folds():
    ann, d, gamed = simulate(30, np.random.default_rng(1))
    ann.loc[3, "preference"] = np.nan
    design = lc.build_design(ann, d, gamed)
    n_g = len(gamed)
    assert design.X.shape == (n_g + 29, 3)
    g = design.X[:n_g]
    assert np.allclose(g[:, 0], np.tanh(gamed["std_delta_len"])) and np.allclose(
        g[:, 1], d[gamed["instruction"]]
    )
    assert (g[:, 2] == 0).all() and (design.X[n_g:, 2] == 1).all()  # not_gamed: 0 for gamed rows, 1 else
    sdl = lc.standardized_delta_len(ann["len_1"], ann["len_2"])
    has = ann["preference"].notna().to_numpy()
    assert np.allclose(design.X[n_g:, 0], np.tanh(sdl[has])) and np.allclose(
        design.X[n_g:, 1], d.to_numpy()[has]
    )
    assert np.allclose(design.p, np.concatenate([gamed["preference"] - 1, ann["preference"][has] - 1]))
    assert (design.s[:n_g] == 0.1).all() and (design.s[n_g:] == 1).all()
    n = len(design.X)
    assert design.folds.tolist() == [(n - 1 - i) % 5 for i in range(n)]
    assert design.train_model_row[:n_g].tolist() == [-1] * n_g
    assert design.train_model_row[n_g:].tolist() == np.flatnonzero(has).tolist()
    pos = {q: i for i, q in enumerate(ann["instruction"])}
    assert design.gamed_model_row[:n_g].tolist() == [pos[q] for q in gamed["instruction"]]
    assert (design.gamed_model_row[n_g:] == -1).all()
    assert np.isnan(design.model_pref[3]) and np.allclose(design.difficulty, d.to_numpy())


def test_missing_difficulty_is_an_input_error_naming_the_instructions():
    ann, d, gamed = simulate(10, np.random.default_rng(2))
    with pytest.raises(InputError, match=r"1 candidate instructions have no difficulty \('instruction 0"):
        lc.build_design(ann, d.drop(ann["instruction"][0]), gamed)
    with pytest.raises(InputError, match="gamed-baseline instructions have no difficulty"):
        lc.build_design(ann, d, gamed.assign(instruction="elsewhere"))
    long = [f"{'why ' * 15}{i}" for i in range(4)]  # 61 characters each, four of them
    ann = ann.iloc[:4].assign(instruction=long)
    with pytest.raises(InputError) as err:
        lc.build_design(ann, d, None)
    shown = "; ".join(repr(q[:50]) for q in long[:3])  # the first three, cut at 50 characters
    assert str(err.value) == (
        f"field 'instruction_difficulty': 4 candidate instructions have no difficulty ({shown}) -> pass "
        "--difficulty for this eval set, or estimate one with `judgebench difficulty`"
    )
    assert "'why why why why why why why why why why why why wh'; " in shown


def test_row_difficulty_replaces_the_lookup():
    ann, d, gamed = simulate(12, np.random.default_rng(7))
    rows = np.arange(12.0)
    design = lc.build_design(ann, d.drop(ann["instruction"][0]), None, row_difficulty=rows)
    assert design.difficulty.tolist() == rows.tolist() and design.X[:, 1].tolist() == rows.tolist()


def _liblinear_lc(design, C):
    """AlpacaEval's fit: liblinear, L1, no intercept, soft labels as two weighted rows each."""
    from sklearn.linear_model import LogisticRegression

    X = np.vstack([design.X, design.X])
    y = np.r_[np.ones(len(design.X)), np.zeros(len(design.X))]
    w = np.r_[design.s * design.p, design.s * (1 - design.p)]
    m = LogisticRegression(
        penalty="l1", C=C, solver="liblinear", fit_intercept=False, tol=1e-10, max_iter=10000
    )
    m.fit(X, y, sample_weight=w)
    coef = m.coef_[0]
    return 100 * expit(coef[1] * design.difficulty + coef[2]).mean(), coef


@pytest.mark.parametrize("seed", [3, 4])
def test_fit_equals_liblinear_at_the_chosen_penalty(seed):
    ann, d, gamed = simulate(300, np.random.default_rng(seed))
    fit = lc.fit_lc(ann, d, gamed)
    want, coef = _liblinear_lc(fit.design, fit.C)
    assert fit.length_controlled_winrate == pytest.approx(want, abs=0.02)
    assert list(fit.weights) == list(lc.FEATURES)
    assert np.allclose(list(fit.weights.values()), coef, atol=0.01)
    # AlpacaEval's lc standard error: the spread (ddof 1) of the per-row predictions over sqrt(rows)
    w = fit.weights
    pred = [float(expit(w[lc.FEATURES[1]] * x + w[lc.FEATURES[2]])) for x in fit.design.difficulty]
    assert fit.lc_standard_error == pytest.approx(100 * statistics.stdev(pred) / len(pred) ** 0.5, rel=1e-9)
    assert fit.length_controlled_winrate == pytest.approx(100 * statistics.fmean(pred), rel=1e-9)
    # the simulated judge penalises the longer answer: w_len < 0, difficulty > 0, as the truth
    assert fit.weights[lc.FEATURES[0]] < 0 < fit.weights[lc.FEATURES[1]]


def test_the_baseline_against_itself_is_fifty_and_solvers_are_named():
    ann, d, gamed = simulate(20, np.random.default_rng(5))
    same = lc.fit_lc(ann.assign(generator_2="base"), d, gamed)
    assert same.length_controlled_winrate == 50.0 and same.lc_standard_error == 0.0 and same.design is None
    assert same.weights == dict.fromkeys(lc.FEATURES, 0.0) and np.isnan(same.C)
    assert lc.bootstrap_lc(same, np.ones((3, 20))).tolist() == [50.0] * 3
    with pytest.raises(ValueError) as err:
        lc.fit_lc(ann, d, gamed, solver="newton")
    assert str(err.value) == "unknown LC solver 'newton': use 'fast' or 'liblinear'"


def test_bootstrap_with_every_row_once_is_the_fit_and_predict_on_averages_there():
    ann, d, gamed = simulate(120, np.random.default_rng(6))
    fit = lc.fit_lc(ann, d, gamed)
    ones = np.ones((3, 120))
    assert lc.bootstrap_lc(fit, ones) == pytest.approx([fit.length_controlled_winrate] * 3, abs=1e-3)
    grid = np.array([-2.0, 0.0, 2.0])
    w = np.array(list(fit.weights.values()))
    by_hand = 100 * expit(w[1] * grid + w[2]).mean()
    assert lc.bootstrap_lc(fit, ones[:2], predict_on=grid) == pytest.approx([by_hand] * 2, abs=1e-3)
    assert lc.bootstrap_lc(fit, ones[:3], chunk=1, predict_on=grid) == pytest.approx([by_hand] * 3, abs=1e-3)


def test_bootstrap_sums_and_intervals_by_hand():
    counts = lc.resample_counts(7, 50, np.random.default_rng(0))
    assert counts.shape == (50, 7) and (counts.sum(1) == 7).all() and counts.dtype == float
    pref = np.array([1.0, 2.0, np.nan, 1.5])
    c = np.array([[1.0, 1.0, 5.0, 1.0], [2.0, 0.0, 1.0, 1.0]])
    # row 1: (0 + 1 + 0.5) / 3; row 2: (0 + 0 + 0.5) / 3 (the missing one counts nowhere)
    assert lc.bootstrap_winrate(pref, c) == pytest.approx([50.0, 100 * 0.5 / 3])
    assert lc.percentile_ci(np.arange(101.0)) == pytest.approx((2.5, 97.5))
    assert lc.percentile_ci(np.arange(101.0), 0.5) == pytest.approx((25.0, 75.0))


def test_gamed_rows_are_standardised_per_gamed_generator():
    ann = pd.DataFrame(
        {
            "generator_2": ["v", "v", "v", "c", "c"],
            "instruction": ["a", "b", "c", "a", "b"],
            "len_1": [200, 0, 400, 10, 30],
            "len_2": [100, 100, 100, 20, 20],
            "preference": [1.0, 2.0, 1.5, 1.2, 1.8],
        }
    )
    rows = lc.gamed_rows_from_annotations(ann)
    assert rows["generator"].tolist() == ["v", "v", "v", "c", "c"] and rows.index.tolist() == [0, 1, 2, 3, 4]
    assert rows["instruction"].tolist() == ["a", "b", "c", "a", "b"]
    assert rows["std_delta_len"].tolist() == pytest.approx(
        [0.5, -0.5, 1.5, -1 / np.sqrt(200) * 10, 10 / np.sqrt(200)]
    )
    assert rows["preference"].tolist() == [1.0, 2.0, 1.5, 1.2, 1.8]


def test_weight_names_are_alpacaevals_columns(alpaca_dir):
    """The fitted weights carry the names AlpacaEval's published weights file uses for its columns."""
    header = (alpaca_dir / "lc_weights_official.csv").read_text().splitlines()[0].split(",")[1:]
    ann, d, gamed = simulate(40, np.random.default_rng(9))
    assert list(lc.fit_lc(ann, d, gamed).weights) == header
    assert list(lc.fit_lc(ann.assign(generator_2="base"), d, gamed).weights) == header


def test_a_bootstrap_resample_is_liblinear_on_the_rows_drawn():
    """One resample by weights equals AlpacaEval's solver on the design with each drawn row repeated as often
    as drawn (a gamed row comes along with its instruction's candidate row; a gamed row whose instruction the
    candidate lacks stays once), at the full fit's penalty; the LC averages the drawn rows. Both are solved
    to 1e-6 (liblinear at tol 1e-10), so one row weighed wrongly shows."""
    ann, d, gamed = simulate(60, np.random.default_rng(12))
    ann.loc[4, "preference"] = np.nan
    fit = lc.fit_lc(ann.iloc[:50], d, gamed)  # 10 gamed instructions have no candidate row
    design = fit.design
    counts = lc.resample_counts(50, 2, np.random.default_rng(1))
    counts[0, :2] = (6, 0)  # the first rows drawn unlike once: a shifted index or a dropped multiplier shows
    counts[0, 2:] = counts[0, 2:] * (44 / counts[0, 2:].sum())
    counts[0] = np.round(counts[0])
    got = lc.bootstrap_lc(fit, counts, chunk=1)
    for b in range(2):
        c = counts[b]
        repeat = []
        for i in range(len(design.X)):
            model_row, gamed_row = design.train_model_row[i], design.gamed_model_row[i]
            times = c[model_row] if model_row >= 0 else c[gamed_row] if gamed_row >= 0 else 1
            repeat += [i] * int(times)
        drawn = lc.LCDesign(
            design.X[repeat], design.p[repeat], design.s[repeat], design.folds[repeat], design.difficulty,
            design.model_pref, design.train_model_row[repeat], design.gamed_model_row[repeat],
        )  # fmt: skip
        _, coef = _liblinear_lc(drawn, fit.C)
        want = 100 * (expit(coef[1] * design.difficulty + coef[2]) * c).sum() / c.sum()
        assert got[b] == pytest.approx(want, abs=1e-4)
    assert abs(got[0] - got[1]) > 0.1  # two different resamples


def test_the_liblinear_solver_is_alpacaevals_fit():
    ann, d, gamed = simulate(30, np.random.default_rng(13))
    fit = lc.fit_lc(ann, d, gamed, solver="liblinear")
    want, coef = _liblinear_lc(fit.design, fit.C)
    assert fit.length_controlled_winrate == pytest.approx(want, abs=0.05)
    assert np.allclose(list(fit.weights.values()), coef, atol=0.02)
    assert fit.C == lc.fit_lc(ann, d, gamed).C  # the same cross-validated choice as the fast solver


def test_edge_cases_ask_numpy_for_no_undefined_spread():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy warns on a ddof-1 spread of one value: the code must not ask
        assert lc.standardized_delta_len([7], [1]).tolist() == [0.0]
    assert lc.bootstrap_p_value(np.zeros(4)) == 1.0  # every draw at 0: no evidence, p capped at 1
    # a gamed row whose instruction the candidate lacks points at no candidate row (-1)
    ann, d, gamed = simulate(20, np.random.default_rng(14))
    design = lc.build_design(ann.iloc[:15], d, gamed)
    lacking = ~gamed["instruction"].isin(ann["instruction"].iloc[:15]).to_numpy()
    assert lacking.sum() == 10 and (design.gamed_model_row[: len(gamed)][lacking] == -1).all()


def test_two_rows_have_a_standard_error():
    ann, d, gamed = simulate(20, np.random.default_rng(15))
    fit = lc.fit_lc(ann.iloc[:2], d, gamed)
    w = fit.weights
    pred = [float(expit(w[lc.FEATURES[1]] * x + w[lc.FEATURES[2]])) for x in fit.design.difficulty]
    assert fit.lc_standard_error == pytest.approx(100 * statistics.stdev(pred) / 2**0.5, rel=1e-9)
