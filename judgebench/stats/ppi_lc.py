"""The expensive judge's length-controlled win rate from a cheap judge plus a few expensive judgments, and
both PPI win rates model by model (`ppi_by_model`, what `judgebench ppi` prints).

The LC is a fitted GLM's length-free prediction averaged over the instructions, not a mean of per-pair values,
so PPI's closed form does not apply. The same idea, a control variate, does: with the LC GLM (`stats/lc.py`)
fitted to the gold judge on its n pairs (g), to the cheap judge on the same n pairs (c_S) and to the cheap
judge on all N pairs (c_A), each averaged over all N instructions' difficulties,

    LC = g + lam * (c_A - c_S)

c_A - c_S has mean about zero (the same judge on a random subset and on everything), and it is correlated
with g's error as far as the two judges agree, so it cancels part of that error. lam minimises the variance
(-cov(g, c_A - c_S) / var(c_A - c_S), clipped to [0, 1]: 0 is the gold judge alone), estimated from a
bootstrap that resamples the gold pairs and the other pairs apart, as they were drawn, refitting all three
GLMs on every resample; the interval is the percentile interval of LC over those resamples. Reported as the
leaderboard reports LC (`LCInputs.corrected`, with the PPI win rate as the raw win rate).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from judgebench.errors import InputError
from judgebench.files.textforms import nfc_instructions
from judgebench.stats.lc import bootstrap_lc, fit_lc, percentile_ci, predict_lc, resample_counts
from judgebench.stats.lc_inputs import resolve_lc_inputs
from judgebench.stats.ppi import pair_judgments, ppi_lambda, ppi_winrate


def _frame(part: pd.DataFrame, column: str) -> pd.DataFrame:
    return part.assign(preference=part[column]).reset_index(drop=True)


def ppi_lc(
    pairs: pd.DataFrame, lc_inputs=None, level: float = 0.95, n_boot: int = 1000, seed: int = 0
) -> dict:
    """pairs: one model's `ppi.pair_judgments` rows (len_1 and len_2 needed); lc_inputs: `resolve_lc_inputs`
    of the cheap judge's annotations (resolved from these pairs when None). LC values in percent; without
    LC inputs, {"lc_win_rate": None, "reason": ...}."""
    if not {"len_1", "len_2"} <= set(pairs):
        return {"lc_win_rate": None, "reason": "the annotations carry no output lengths"}
    has_cheap = pairs["cheap"].notna()
    labeled = pairs["in_gold"] & pairs["gold"].notna() & has_cheap
    S = pairs[labeled]
    U = pairs[has_cheap & ~labeled]
    every = pd.concat([S, U], ignore_index=True)
    if lc_inputs is None:
        lc_inputs = resolve_lc_inputs(_frame(every, "cheap"))
    if lc_inputs.difficulty is None:
        return {"lc_win_rate": None, "reason": lc_inputs.source}
    if len(S) < 10:
        return {"lc_win_rate": None, "reason": f"{len(S)} gold judgments: too few to fit the LC GLM"}
    d_all = every["instruction"].map(lc_inputs.difficulty).to_numpy(float)
    if np.isnan(d_all).any():
        return {"lc_win_rate": None, "reason": "some instructions have no difficulty"}

    def fit(frame):
        return fit_lc(frame, lc_inputs.difficulty, lc_inputs.gamed, solver=lc_inputs.solver)

    def mean_pred(f):
        return 100 * float(predict_lc(np.array(list(f.weights.values())), d_all)[0].mean())

    fit_g, fit_cs, fit_ca = fit(_frame(S, "gold")), fit(_frame(S, "cheap")), fit(_frame(every, "cheap"))
    g, cs, ca = mean_pred(fit_g), mean_pred(fit_cs), mean_pred(fit_ca)
    rng = np.random.default_rng(seed)
    counts_s = resample_counts(len(S), n_boot, rng)
    counts_u = resample_counts(len(U), n_boot, rng) if len(U) else np.zeros((n_boot, 0))
    g_b = bootstrap_lc(fit_g, counts_s, predict_on=d_all)
    diff_b = bootstrap_lc(fit_ca, np.hstack([counts_s, counts_u]), predict_on=d_all) - bootstrap_lc(
        fit_cs, counts_s, predict_on=d_all
    )
    var = float(np.var(diff_b))
    lam = float(np.clip(-np.cov(g_b, diff_b)[0, 1] / var, 0.0, 1.0)) if var > 0 else 0.0

    # the raw win rates the shipped-estimate correction reads: PPI's (with the same lambda on every resample)
    y, f = S["gold"].to_numpy(float) - 1, S["cheap"].to_numpy(float) - 1
    f_all = np.concatenate([f, U["cheap"].to_numpy(float) - 1])
    lam_wr = ppi_lambda(y, f, f_all[len(f) :])
    both = np.hstack([counts_s, counts_u])
    wr_b = 100 * (
        (counts_s @ y) / counts_s.sum(1)
        + lam_wr * ((both @ f_all) / both.sum(1) - (counts_s @ f) / counts_s.sum(1))
    )
    wr = 100 * (y.mean() + lam_wr * (f_all.mean() - f.mean()))
    gold_wr_b = 100 * (counts_s @ y) / counts_s.sum(1)

    estimate = float(lc_inputs.corrected(g + lam * (ca - cs), wr))
    lower, upper = percentile_ci(lc_inputs.corrected(g_b + lam * diff_b, wr_b), level)
    g_low, g_high = percentile_ci(lc_inputs.corrected(g_b, gold_wr_b), level)
    return {
        "lc_win_rate": estimate,
        "lower": lower,
        "upper": upper,
        "lambda": lam,
        "gold_only": {
            "lc_win_rate": float(lc_inputs.corrected(g, 100 * y.mean())),
            "lower": g_low,
            "upper": g_high,
        },
        "cheap_only": {"lc_win_rate": float(lc_inputs.corrected(ca, 100 * f_all.mean()))},
        "lc_inputs": lc_inputs.kind,
        "n_boot": n_boot,
    }


def ppi_by_model(
    cheap: pd.DataFrame,
    gold: pd.DataFrame,
    level: float = 0.95,
    target: str = "population",
    lc: bool = True,
    n_boot: int = 1000,
    seed: int = 0,
) -> list[dict]:
    """`ppi_winrate` for each model the gold file judged (the baseline against itself left out), with the
    LC variant (`ppi_lc`) where the LC GLM's inputs can be found; each result names its `model`."""
    # paired on instruction text (and LC joins on it): one Unicode form for both judges' files
    cheap, gold = nfc_instructions(cheap), nfc_instructions(gold)
    pairs = pair_judgments(cheap, gold)
    pairs = pairs[pairs["generator_1"] != pairs["generator_2"]]
    models = list(pd.unique(pairs.loc[pairs["in_gold"], "generator_2"]))
    if not models:
        raise InputError(
            "the gold file judges no model other than the baseline", hint="give the gold judge's annotations"
        )
    lc_inputs = None
    if lc:
        lc_inputs = resolve_lc_inputs(cheap[cheap["generator_2"].isin(pairs["generator_2"])])
    results = []
    for model in models:
        part = pairs[pairs["generator_2"] == model].reset_index(drop=True)
        out = {"model": model, **ppi_winrate(part, level, target)}
        if lc_inputs is not None:
            out["lc"] = ppi_lc(part, lc_inputs, level=level, n_boot=n_boot, seed=seed)
        results.append(out)
    return results
