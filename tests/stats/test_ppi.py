"""PPI++: the expensive judge's win rate from a cheap judge plus a few expensive judgments.

Expected values come from ppi-python 0.2.3 (the paper's authors' package, run on the data written out below)
and from simulations whose truth is known: coverage, bias and width against the gold judge alone."""

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from judgebench.errors import InputError
from judgebench.stats.ppi import classical_mean, pair_judgments, ppi_mean, ppi_winrate

# The fixture: gold labels, cheap labels on the same pairs (every 9th flipped), cheap labels elsewhere.
Y = np.array([(7 * i) % 10 < 3 for i in range(40)], float)
F = np.where(np.arange(40) % 9 == 0, 1 - Y, Y)
F_U = np.array([(3 * i) % 7 < 2 for i in range(200)], float)


def test_equals_ppi_python_on_a_fixed_sample():
    """ppi_py.ppi_mean_pointestimate / ppi_mean_ci(alpha=0.05) (tuned lambda) and ppi_mean_ci(alpha=0.1, lam=1)
    on Y, F, F_U, printed by ppi-python 0.2.3."""
    r = ppi_mean(Y, F, F_U, level=0.95, folds=None, pseudo=False)
    assert r["estimate"] == pytest.approx(0.2754974789915966, abs=1e-12)
    assert (r["lower"], r["upper"]) == pytest.approx((0.16779850257729884, 0.38319645540589437), abs=1e-12)
    assert 0 < r["lam"] < 1
    plain = ppi_mean(Y, F, F_U, level=0.90, lam=1.0, pseudo=False)
    assert (plain["lower"], plain["upper"]) == pytest.approx(
        (0.1543157544173712, 0.3656842455826287), abs=1e-12
    )


@pytest.mark.allowed_skip_in_ci(
    reason="ppi-python (numba) is not installed by setup; the stored fixture above checks the same numbers"
)
def test_equals_ppi_python_live():
    ppi_py = pytest.importorskip("ppi_py", reason="ppi-python not installed (optional reference)")
    rng = np.random.default_rng(3)
    for _ in range(5):
        y = expit(rng.normal(-1, 2, 80))
        f = np.clip(y + rng.normal(0, 0.2, 80), 0, 1)
        f_u = expit(rng.normal(-1, 2, 600))
        lo, hi = ppi_py.ppi_mean_ci(y, f, f_u, alpha=0.05)
        r = ppi_mean(y, f, f_u, folds=None, pseudo=False)
        assert (r["lower"], r["upper"]) == pytest.approx((float(lo[0]), float(hi[0])), abs=1e-10)


def _world(n, mu, noise, rng):
    """Soft preferences as a log-prob judge gives them; the cheap judge sees the same signal plus noise, so
    it errs most on near-ties, as real judges do."""
    z = rng.normal(mu, 2.5, n)
    return expit(z), expit(z + rng.normal(0, noise, n))


def _replicate(reps, world, truth, rng, n_gold=100):
    """PPI++ on `reps` draws of world() -> (gold, cheap) values of every pair, n_gold of them gold-judged at
    random: how many intervals cover `truth`, the errors, and the widths over the gold judge's alone."""
    hits, errors, ratios = 0, [], []
    for _ in range(reps):
        y, f = world()
        gold = rng.permutation(len(y))[:n_gold]
        rest = np.setdiff1d(np.arange(len(y)), gold)
        r = ppi_mean(y[gold], f[gold], f[rest])
        g = classical_mean(y[gold])
        hits += r["lower"] <= truth <= r["upper"]
        errors.append(r["estimate"] - truth)
        ratios.append((r["upper"] - r["lower"]) / (g["upper"] - g["lower"]))
    return hits, np.array(errors), ratios


@pytest.mark.slow
@pytest.mark.parametrize("mu", [-2.0, 0.0])
def test_covers_the_truth_without_bias_and_narrower_than_gold_alone(mu):
    """A cheap judge that agrees ~90% with the gold one, 805 pairs, 100 gold judgments: the 95% interval covers
    the gold judge's population win rate 93-97% of the time, without bias, at most 0.75x as wide as the
    gold judge's alone on the same 100 pairs."""
    rng = np.random.default_rng(11)
    big_y, big_f = _world(1_000_000, mu, 1.0, rng)
    truth = big_y.mean()
    assert 0.87 <= np.mean((big_y > 0.5) == (big_f > 0.5)) <= 0.93  # the cheap judge agrees ~90%
    reps = 2000
    hits, errors, ratios = _replicate(reps, lambda: _world(805, mu, 1.0, rng), truth, rng)
    print(
        f"mu {mu}: coverage {hits / reps:.3f}, bias {100 * errors.mean():+.3f}, width ratio {np.mean(ratios):.3f}"
    )
    assert 0.93 <= hits / reps <= 0.97
    assert abs(errors.mean()) < 3 * errors.std() / np.sqrt(reps)
    assert np.mean(ratios) <= 0.75


@pytest.mark.slow
def test_a_useless_cheap_judge_costs_nothing():
    """A cheap judge that is pure noise gets lambda near 0: the interval is the gold judge's alone, and holds."""
    rng = np.random.default_rng(5)
    reps, hits, ratios = 1000, 0, []
    for _ in range(reps):
        y = (rng.random(805) < 0.3).astype(float)
        f = rng.random(805)
        r = ppi_mean(y[:100], f[:100], f[100:])
        g = classical_mean(y[:100])
        hits += r["lower"] <= 0.3 <= r["upper"]
        ratios.append((r["upper"] - r["lower"]) / (g["upper"] - g["lower"]))
    assert 0.93 <= hits / reps <= 0.97
    assert np.mean(ratios) <= 1.02


def _frame(prefs, model="m", baseline="base"):
    return pd.DataFrame(
        {
            "instruction": [f"i{j}" for j in range(len(prefs))],
            "generator_1": baseline,
            "generator_2": model,
            "preference": prefs,
        }
    )


def test_pairing_counts_failures_and_refuses_strangers():
    rng = np.random.default_rng(0)
    cheap = _frame(1 + rng.random(50))
    cheap.loc[3, "preference"] = np.nan  # a cheap call that failed
    gold = _frame(1 + rng.random(50)).iloc[:20].copy()
    gold.loc[5, "preference"] = np.nan  # a gold call that failed
    pairs = pair_judgments(cheap, gold)
    r = ppi_winrate(pairs)
    assert (r["n_gold"], r["n_cheap"], r["n_gold_failed"], r["n_cheap_missing"]) == (18, 49, 1, 1)
    assert r["lower"] < r["win_rate"] < r["upper"] and 0 <= r["lambda"] <= 1

    stranger = pd.concat([gold, _frame([1.5], model="other")])
    with pytest.raises(InputError, match="1 pairs judged by the gold judge have no cheap judgment"):
        pair_judgments(cheap, stranger)
    with pytest.raises(InputError, match="another baseline"):
        pair_judgments(cheap, gold.assign(generator_1="other_base"))
    with pytest.raises(InputError, match="too few"):
        ppi_winrate(pair_judgments(cheap, gold.iloc[:1]))


@pytest.mark.slow
def test_on_stored_annotations_with_a_simulated_cheap_judge(all_annotations):
    """The stored GPT-4 Turbo preferences are the gold judge; the cheap judge is them with 10% of the pairs
    flipped (p -> 1 - p). Target "pairs": the gold judge's win rate over all 805 pairs is known exactly, so the
    interval's coverage of it is measured over random gold subsets of 100, for every model with all rows (most
    win under 10%, where a plain CLT interval is too narrow) and for the mid-range ones apart."""
    rng = np.random.default_rng(7)
    real = all_annotations[all_annotations["generator_1"] != all_annotations["generator_2"]]
    M = real.pivot_table(index="generator_2", columns="instruction", values="preference") - 1
    M = M[M.notna().all(axis=1)]
    reps, rows = 250, []
    for _, row in M.iterrows():
        y_all = row.to_numpy(float)
        truth = y_all.mean()
        for _ in range(reps):
            f_all = np.where(rng.random(len(y_all)) < 0.1, 1 - y_all, y_all)
            gold = rng.permutation(len(y_all))[:100]
            rest = np.setdiff1d(np.arange(len(y_all)), gold)
            r = ppi_mean(y_all[gold], f_all[gold], f_all[rest], target="pairs")
            g = classical_mean(y_all[gold], n_population=len(y_all))
            rows.append(
                (
                    truth,
                    r["lower"] <= truth <= r["upper"],
                    r["estimate"] - truth,
                    (r["upper"] - r["lower"]) / (g["upper"] - g["lower"]),
                )
            )
    df = pd.DataFrame(rows, columns=["truth", "covered", "error", "ratio"])
    mid = df[(df.truth > 0.1) & (df.truth < 0.9)]
    print(
        f"{len(M)} models: coverage {df.covered.mean():.3f} (win rate < 10%: {df[df.truth < 0.1].covered.mean():.3f}), "
        f"bias {100 * df.error.mean():+.3f}; mid-range: coverage {mid.covered.mean():.3f}, ratio {mid.ratio.mean():.3f}"
    )
    assert 0.93 <= df.covered.mean() <= 0.97 and 0.93 <= mid.covered.mean() <= 0.97
    assert abs(df.error.mean()) < 3 * df.error.std() / np.sqrt(len(df))
    assert mid.ratio.mean() <= 0.8


@pytest.mark.slow
def test_lc_variant_on_stored_annotations(all_annotations, official_board):
    """The LC variant on claude's stored judgments (gold) with 150 gold pairs: a cheap judge identical to the
    gold one gets a weight near 1 and comes close to the LC of all 805 gold judgments, with a much narrower
    interval than the gold pairs alone; a cheap judge of pure noise gets a weight near 0 and the gold judge's
    own LC; both intervals hold the full-data LC."""
    from judgebench.stats.lc_inputs import resolve_lc_inputs
    from judgebench.stats.ppi import pair_judgments
    from judgebench.stats.ppi_lc import ppi_lc

    claude = all_annotations[all_annotations["generator_2"] == "claude"].reset_index(drop=True)
    inputs = resolve_lc_inputs(claude)
    rng = np.random.default_rng(1)
    gold = claude.iloc[rng.permutation(len(claude))[:150]]
    same = ppi_lc(pair_judgments(claude, gold), inputs, n_boot=200)
    from judgebench.leaderboard.board import make_leaderboard

    board, _ = make_leaderboard(
        claude, n_boot=0, workers=1, detect_cheating=False, lc_alignment="instruction"
    )
    full = board.loc["claude", "length_controlled_winrate"]
    assert (
        abs(official_board.loc["claude", "length_controlled_winrate"] - full) < 0.5
    )  # LC as the leaderboard makes it
    assert same["lambda"] > 0.8
    assert same["lc_win_rate"] == pytest.approx(full, abs=1.0)
    assert same["upper"] - same["lower"] < 0.7 * (same["gold_only"]["upper"] - same["gold_only"]["lower"])
    noise = claude.assign(preference=1 + rng.random(len(claude)))
    useless = ppi_lc(pair_judgments(noise, gold), inputs, n_boot=200)
    assert useless["lambda"] < 0.3
    assert abs(useless["lc_win_rate"] - useless["gold_only"]["lc_win_rate"]) < 1.5
    assert useless["cheap_only"]["lc_win_rate"] > 50  # the noise judge alone is far off; PPI is not
    for r in (same, useless):
        assert r["lower"] <= full <= r["upper"]


def test_bounds_stay_within_0_and_100():
    """A gold judge that prefers the model on every judged pair (and one that never does): the CLT interval
    runs past 100 (below 0); a win rate cannot, so neither do the reported bounds."""
    rng = np.random.default_rng(2)
    for value in (2.0, 1.0):
        cheap = _frame(np.where(rng.random(300) < 0.9, value, 3 - value))
        r = ppi_winrate(pair_judgments(cheap, _frame(np.full(60, value))))
        for lo, hi in ((r["lower"], r["upper"]), (r["gold_only"]["lower"], r["gold_only"]["upper"])):
            assert 0 <= lo <= hi <= 100 and (hi - lo) > 1  # clipped, not collapsed
        assert (r["upper"] == 100) if value == 2.0 else (r["lower"] == 0)


@pytest.mark.slow
@pytest.mark.parametrize("agree", [0.7, 0.9])
@pytest.mark.parametrize("win_rate", [0.05, 0.2, 0.5, 0.8])
def test_coverage_with_hard_labels_across_win_rates_and_agreements(win_rate, agree):
    """Hard verdicts (1 or 2, a tenth of them ties 1.5), a cheap judge that flips each verdict with probability
    1 - agree, 805 pairs, 100 gold: the truth is known (0.9 win_rate + 0.05), the interval covers it 93-97% of
    2,000 draws without bias, and is never wider than the gold judge's alone by more than its pseudo-pairs."""
    rng = np.random.default_rng(int(100 * win_rate + 10 * agree))
    truth = 0.9 * win_rate + 0.05

    def world():
        y = (rng.random(805) < win_rate).astype(float)
        y[rng.random(805) < 0.1] = 0.5
        return y, np.where(rng.random(805) < agree, y, 1 - y)

    reps = 2000
    hits, errors, ratios = _replicate(reps, world, truth, rng)
    print(f"win rate {win_rate}, agreement {agree}: coverage {hits / reps:.3f}, ratio {np.mean(ratios):.2f}")
    assert 0.93 <= hits / reps <= 0.97
    assert abs(errors.mean()) < 3.5 * errors.std() / np.sqrt(reps)
    assert np.mean(ratios) <= 1.02
    if agree == 0.9 and 0.2 <= win_rate <= 0.8:
        assert np.mean(ratios) <= 0.75  # a 90%-agreeing judge halves the gold calls for the same width
