"""tinyBenchmarks on the shared AlpacaEval 2.0 annotations: K-fold cross-validation over models.

    python bench/tiny.py [--folds 5] [--seeds 0 1 2] [--n-anchors 100]

For each fold and seed: `fit_tiny` on the other models (its own inner cross-validation sets the
intervals), then every held-out model is estimated from its anchors alone and compared with its
full 805-instruction win rate (and the LC estimate with the full LC). Prints mean and worst absolute error
per estimator, side by side
with 100 instructions drawn at random (50 draws per model), apart for strong models (raw win rate
above 15%), the coverage of the recommended interval, and a simulated null model (the same score on
every instruction). Asserts nothing.
"""

import argparse
import time

import numpy as np
import pandas as pd

from judgebench.config import data_dir
from judgebench.io import load_annotations
from judgebench.leaderboard import resolve_lc_inputs
from judgebench.stats.irt import (
    ANCHOR_METHODS,
    estimate_from_annotations,
    fit_tiny,
    lc_from_anchors,
    score_matrix,
)
from judgebench.stats.lc import fit_lc


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--n-anchors", type=int, default=100)
    ap.add_argument("--anchor-methods", nargs="+", default=list(ANCHOR_METHODS))
    args = ap.parse_args()
    ann = load_annotations([data_dir() / "alpacaeval" / "annotations"], keep_extra=False, workers=2)
    M = score_matrix(ann)
    models = list(M.index[M.notna().all(axis=1)])
    truth = (M.loc[models].mean(axis=1) * 100).to_dict()
    lc_inputs = resolve_lc_inputs(ann)
    full_lc = {m: fit_lc(ann[ann["generator_2"] == m], lc_inputs.difficulty, lc_inputs.gamed).length_controlled_winrate
               for m in models}
    args.full_lc = full_lc
    for method in args.anchor_methods:
        run(ann, M, models, truth, args, method)


def run(ann, M, models, truth, args, method) -> None:
    rows = []
    t0 = time.time()
    for seed in args.seeds:
        order = np.random.default_rng(seed).permutation(len(models)) % args.folds
        for f in range(args.folds):
            train = [m for m, k in zip(models, order, strict=True) if k != f]
            test = [m for m, k in zip(models, order, strict=True) if k == f]
            tiny = fit_tiny(ann[ann["generator_2"].isin(train)], n_anchors=args.n_anchors, seed=seed,
                            anchor_method=method)
            rng = np.random.default_rng(1000 + seed)
            for m in test:
                est = estimate_from_annotations(tiny, ann[ann["generator_2"] == m])
                p = M.loc[m].to_numpy()
                rand = np.mean([abs(100 * p[rng.choice(len(p), args.n_anchors, replace=False)].mean() - truth[m])
                                for _ in range(50)])
                mine = ann[ann["generator_2"] == m]
                lc_truth = args.full_lc[m]
                lc_rand = np.mean([abs(lc_from_anchors(mine.sample(args.n_anchors, random_state=int(rng.integers(2**31))),
                                                       n_boot=0)["estimate"] - lc_truth) for _ in range(5)])
                rows.append({"model": m, "seed": seed, "strong": truth[m] > 15, "random": rand,
                             "lc": abs(est["lc"]["estimate"] - lc_truth), "lc random": lc_rand,
                             "lc covered": est["lc"]["ci_low"] <= lc_truth <= est["lc"]["ci_high"],
                             **{k: abs(est[k]["estimate"] - truth[m]) for k in ("anchor", "p-irt", "gp-irt")},
                             "recommended": abs(est["estimate"] - truth[m]),
                             "covered": est["ci_low"] <= truth[m] <= est["ci_high"]})
    df = pd.DataFrame(rows)
    cols = ["anchor", "p-irt", "gp-irt", "recommended", "random"]
    print(f"\n{method} anchors: {len(models)} models, {args.folds}-fold x {len(args.seeds)} seeds, "
          f"{args.n_anchors} anchors ({time.time() - t0:.0f} s)")
    for name, part in (("all", df), ("strong (raw WR > 15%)", df[df.strong]), ("weak", df[~df.strong])):
        n_models = part["model"].nunique()
        print(f"{name:22s} n={n_models:2d}  mean |error|: " + "  ".join(f"{c} {part[c].mean():.2f}" for c in cols)
              + "   worst: " + "  ".join(f"{c} {part[c].max():.1f}" for c in cols))
    print(f"coverage of the recommended 95% interval: {df['covered'].mean():.3f}")
    for name, part in (("all", df), ("strong (raw WR > 15%)", df[df.strong])):
        print(f"LC from the anchors, {name:22s} mean |error| {part['lc'].mean():.2f} (100 at random "
              f"{part['lc random'].mean():.2f}), worst {part['lc'].max():.1f}")
    print(f"coverage of the LC estimate's 95% interval: {df['lc covered'].mean():.3f}")

    tiny = fit_tiny(ann[ann["generator_2"].isin(models)], n_anchors=args.n_anchors, seed=0, anchor_method=method)
    instructions = M.columns
    null = pd.DataFrame({"instruction": instructions, "generator_1": "gpt4_1106_preview", "generator_2": "null",
                         "preference": 1.769})
    est = estimate_from_annotations(tiny, null)
    print(f"simulated null model (76.9% on every instruction): recommended {est['recommended']} "
          f"{est['estimate']:.1f} [{est['ci_low']:.1f}, {est['ci_high']:.1f}]; p-IRT said {est['p-irt']['estimate']:.1f},"
          f" gp-IRT {est['gp-irt']['estimate']:.1f}; flagged: {'warning' in est}")


if __name__ == "__main__":
    main()
