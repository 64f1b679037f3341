"""The paired comparison against a simulation whose truth is known by construction (tests/simulation.py's
judge): two candidates of the same quality, one of them more verbose. The judge's length bias makes the
verbose one's raw win rate higher; the length-controlled difference must find no difference (truth 0)."""

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit
from simulation import TRUE, simulate

from judgebench.stats.paired import paired_comparison


def _same_quality_one_verbose(rng, n):
    ann, d, gamed = simulate(n, rng)
    # model b: the same judge and the same quality (b), its answers 450 characters longer than a's
    u_b = (ann["len_1"] - (ann["len_2"] + 450)) / 300
    eta = TRUE["w_len"] * np.tanh(u_b) + TRUE["a"] * d.to_numpy() + TRUE["b"] + rng.normal(0, 1.0, n)
    b = ann.assign(generator_2="verbose", len_2=ann["len_2"] + 450, preference=1 + expit(eta.to_numpy()))
    return pd.concat([ann, b], ignore_index=True), d, gamed


@pytest.mark.parametrize("seed", [5, 6])
def test_a_longer_answer_of_the_same_quality_wins_raw_but_not_length_controlled(seed):
    ann, d, gamed = _same_quality_one_verbose(np.random.default_rng(seed), 800)
    r = paired_comparison(ann, "cand", "verbose", difficulty=d, gamed=gamed, n_boot=300, seed=seed)
    raw, lc = r["win_rate"], r["length_controlled_winrate"]
    assert r["n_common"] == 800
    # by construction the verbose one wins more often raw: E[tanh] falls by ~0.7, w_len -1.2
    assert raw["difference"] > 5 and raw["ci_low"] > 0 and raw["p_value"] < 1e-6, raw
    # and the length-controlled difference is the truth, 0, within its interval
    assert lc["ci_low"] <= 0 <= lc["ci_high"], lc
    assert abs(lc["difference"]) < 2.5 and lc["ci_high"] - lc["ci_low"] < 8, lc
    assert lc["p_value"] > 0.05


def test_errors_name_the_models_and_what_to_do():
    from judgebench.files.records import InputError

    ann, d, _ = simulate(6, np.random.default_rng(8))
    many = pd.concat([ann.assign(generator_2=f"m{i:02d}") for i in range(12)], ignore_index=True)
    with pytest.raises(InputError) as err:
        paired_comparison(many, "m00", "nope", difficulty=d)
    known = ", ".join(f"m{i:02d}" for i in range(10))  # the first ten, sorted
    assert err.value.field == "generator_2" and err.value.hint == f"known models: {known}"
    assert str(err.value).startswith("field 'generator_2': no annotations for model 'nope'")
    # one instruction judged for both: no paired test
    one = pd.concat([ann.assign(generator_2="a"), ann.assign(generator_2="b")], ignore_index=True)
    one.loc[one.index[1:6], "preference"] = np.nan
    with pytest.raises(InputError, match=r"^only 1 instructions are judged for both models -> annotate"):
        paired_comparison(one, "a", "b", difficulty=d)
    two = one.copy()
    two.loc[two.index[1], "preference"] = 1.5
    r = paired_comparison(two, "a", "b", length_controlled=False)
    assert r["n_common"] == 2 and "length_controlled_winrate" not in r and r["level"] == 0.95
    assert r["win_rate"]["method"] == "paired t-test"
    assert (r["model_a"], r["model_b"]) == ("a", "b")
