"""PPI++ on the stored AlpacaEval 2.0 annotations: the stored GPT-4 Turbo judgments are the gold judge, a cheap
judge is simulated from them, and for every model with all 805 rows random gold subsets are drawn.

    python bench/ppi.py [--n-gold 100] [--reps 200] [--lc-reps 0]

Cheap judges: "flip" (each preference flipped, p -> 1 - p, on 10% of the pairs at random, ~90% agreement) and
"noisy" (the gold preference's logit plus N(0, 3^2) noise, also ~90% agreement: errors where the gold judge is unsure, as a real cheap
judge makes them). Printed per cheap judge: coverage of the 95% interval (target "pairs": the gold judge's win
rate over the 805 pairs, known exactly; and target "population" against the same number), mean signed error, and
the width ratio PPI / gold judge alone on the same pairs, over all models and over mid-range ones (win rate
15-85%). With --lc-reps R: the LC variant's coverage of the gold judge's full-data LC on the mid-range models
(R subsets each; slow). Asserts nothing.
"""

import argparse
import time

import _data  # noqa: F401  (the shared data beside the checkout, unless JUDGEBENCH_DATA is set)
import numpy as np
import pandas as pd
from scipy.special import expit, logit

from judgebench.files.records import load_annotations
from judgebench.settings import data_dir
from judgebench.stats.ppi import classical_mean, ppi_mean

NOISE = 3.0  # logit noise of the "noisy" cheap judge: ~90% agreement with the stored preferences


def cheap_judge(y, kind, rng):
    if kind == "flip":
        return np.where(rng.random(len(y)) < 0.1, 1 - y, y)
    return expit(logit(np.clip(y, 1e-4, 1 - 1e-4)) + rng.normal(0, NOISE, len(y)))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n-gold", type=int, default=100)
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--lc-reps", type=int, default=0)
    args = ap.parse_args()
    ann = load_annotations([data_dir() / "alpacaeval" / "annotations"], keep_extra=False, workers=2)
    ann = ann[ann["generator_1"] != ann["generator_2"]]
    M = ann.pivot_table(index="generator_2", columns="instruction", values="preference") - 1
    M = M[M.notna().all(axis=1)]
    rng = np.random.default_rng(0)
    t0 = time.time()
    rows = []
    for kind in ("flip", "noisy"):
        for model, row in M.iterrows():
            y_all = row.to_numpy(float)
            truth, N = y_all.mean(), len(y_all)
            for _ in range(args.reps):
                f_all = cheap_judge(y_all, kind, rng)
                gold = rng.permutation(N)[: args.n_gold]
                rest = np.setdiff1d(np.arange(N), gold)
                out = {"kind": kind, "model": model, "truth": 100 * truth}
                out["agree"] = np.mean((y_all > 0.5) == (f_all > 0.5))
                for target in ("pairs", "population"):
                    r = ppi_mean(y_all[gold], f_all[gold], f_all[rest], target=target)
                    g = classical_mean(y_all[gold], n_population=N if target == "pairs" else None)
                    out[f"cov_{target}"] = r["lower"] <= truth <= r["upper"]
                    out[f"ratio_{target}"] = (r["upper"] - r["lower"]) / max(g["upper"] - g["lower"], 1e-12)
                    out[f"gcov_{target}"] = g["lower"] <= truth <= g["upper"]
                out["err"] = 100 * (r["estimate"] - truth)
                out["lam"] = r["lam"]
                rows.append(out)
    df = pd.DataFrame(rows)
    print(f"{M.shape[0]} models x {args.reps} gold subsets of {args.n_gold} ({time.time() - t0:.0f} s)")
    for kind, part in df.groupby("kind"):
        for name, sub in (("all", part), ("mid (15-85%)", part[(part.truth > 15) & (part.truth < 85)])):
            print(
                f"{kind:6s} {name:13s} models {sub.model.nunique():2d} agree {sub.agree.mean():.3f} "
                f"coverage pairs {sub.cov_pairs.mean():.3f} population {sub.cov_population.mean():.3f} "
                f"(gold alone {sub.gcov_pairs.mean():.3f}) bias {sub.err.mean():+.3f} "
                f"width ratio pairs {sub.ratio_pairs.mean():.3f} population {sub.ratio_population.mean():.3f} "
                f"lambda {sub.lam.mean():.2f}"
            )
    if args.lc_reps:
        lc_coverage(ann, M, args, rng)


def lc_coverage(ann, M, args, rng) -> None:
    from judgebench.stats.lc import fit_lc
    from judgebench.stats.lc_inputs import resolve_lc_inputs
    from judgebench.stats.ppi import pair_judgments
    from judgebench.stats.ppi_lc import ppi_lc

    mid = [m for m in M.index if 15 < 100 * M.loc[m].mean() < 85]
    hits = ghits = 0
    widths, gwidths, errs = [], [], []
    t0 = time.time()
    for m in mid:
        part = ann[ann["generator_2"] == m].reset_index(drop=True)
        inputs = resolve_lc_inputs(part)
        fit = fit_lc(part, inputs.difficulty, inputs.gamed)
        wr = 100 * (part["preference"].mean() - 1)
        truth = float(inputs.corrected(fit.length_controlled_winrate, wr))
        for _ in range(args.lc_reps):
            y = part["preference"].to_numpy(float) - 1
            cheap = part.assign(preference=1 + cheap_judge(y, "noisy", rng))
            gold = part.iloc[rng.permutation(len(part))[: args.n_gold]]
            r = ppi_lc(pair_judgments(cheap, gold), inputs, n_boot=400, seed=int(rng.integers(1 << 30)))
            hits += r["lower"] <= truth <= r["upper"]
            ghits += r["gold_only"]["lower"] <= truth <= r["gold_only"]["upper"]
            widths.append(r["upper"] - r["lower"])
            gwidths.append(r["gold_only"]["upper"] - r["gold_only"]["lower"])
            errs.append(r["lc_win_rate"] - truth)
    n = len(errs)
    print(
        f"LC ({len(mid)} mid-range models x {args.lc_reps}, noisy cheap judge, {time.time() - t0:.0f} s): "
        f"coverage {hits / n:.3f} (gold alone {ghits / n:.3f}), bias {np.mean(errs):+.2f}, "
        f"width ratio {np.mean(widths) / np.mean(gwidths):.3f}"
    )


if __name__ == "__main__":
    main()
