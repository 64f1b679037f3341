"""tinyBenchmarks on models the fit has never seen: nested leave-models-out on the shared AlpacaEval 2.0
annotations.

    python bench/tiny.py [--folds 5] [--seeds 0 1 2 3 4] [--n-anchors 100] [--draws 200] [--lc]
    python bench/tiny.py --far 7 [--seeds ...] [--n-anchors ...]    # the 7 strongest models held out together

For each seed and outer fold, `fit_tiny` runs on the other models only (the IRT fit, the anchor draw
picked by expected error and the interval's calibration all use them alone); every held-out model is
then estimated from its anchors alone and compared with its full 805-instruction win rate. Printed:
mean |error|, mean signed error and worst error per estimator, side by side with 100 instructions
drawn at random (expected error over 50 draws), all models and strong ones (raw win rate > 15%)
apart; the recommended 95% interval's coverage; the spread of the mean |error| over folds and over
seeds; the worst model; a simulated null model. With --lc also the LC from the anchors. With --far K the
K strongest models are held out together instead (models beyond the range of every fitted one), per seed.
Asserts nothing.
"""

import argparse
import time

import _data  # noqa: F401  (the shared data beside the checkout, unless JUDGEBENCH_DATA is set)
import numpy as np
import pandas as pd

from judgebench.files.records import load_annotations
from judgebench.settings import data_dir
from judgebench.stats.irt import (
    ESTIMATORS,
    estimate_from_annotations,
    fit_tiny,
    score_matrix,
)


def one_anchor_missing(tiny, part, rng, truth) -> dict:
    """The same model with one random anchor row taken out of its file: estimated anyway, interval wider."""
    from judgebench.stats.difficulty import instruction_key

    drop = tiny.anchor_keys[int(rng.integers(len(tiny.anchor_keys)))]
    est = estimate_from_annotations(tiny, part[part["instruction"].map(instruction_key) != drop])
    return {
        "missing1_err": est["estimate"] - truth,
        "missing1_covered": est["ci_low"] <= truth <= est["ci_high"],
        "missing1_width": est["ci_high"] - est["ci_low"],
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    ap.add_argument("--n-anchors", type=int, default=100)
    ap.add_argument("--draws", type=int, default=200)
    ap.add_argument("--save", metavar="CSV", help="write the per-model errors here")
    ap.add_argument("--lc", action="store_true", help="also the LC from the anchors, against the official LC")
    ap.add_argument("--far", type=int, metavar="K", help="hold out the K strongest models together instead")
    args = ap.parse_args()
    ann = load_annotations([data_dir() / "alpacaeval" / "annotations"], keep_extra=False, workers=2)
    M = score_matrix(ann)
    models = list(M.index[M.notna().all(axis=1)])
    truth = (M.loc[models].mean(axis=1) * 100).to_dict()
    # without --lc the output lengths go: estimate then skips the LC from the anchors (a 1,000-refit bootstrap)
    lean = ann if args.lc else ann.drop(columns=["len_1", "len_2"])
    by_model = {m: part for m, part in lean.groupby("generator_2") if m in truth}
    full_lc = {}
    if args.lc:
        # the target: the official LC (a full file's LC comes within held-out MAE 0.22, bench/lc_accuracy.py)
        board = pd.read_csv(data_dir() / "alpacaeval" / "leaderboard_official.csv", index_col=0)
        full_lc = board["length_controlled_winrate"].reindex(models).to_dict()

    rows, t0 = [], time.time()
    for seed in args.seeds:
        fold_of = np.random.default_rng(seed).permutation(len(models)) % args.folds
        if args.far:  # one fold: the K strongest
            strongest = set(sorted(models, key=truth.get)[-args.far :])
            fold_of = np.array([0 if m in strongest else 1 for m in models])
        for f in range(1 if args.far else args.folds):
            train = [m for m, k in zip(models, fold_of, strict=True) if k != f]
            test = [m for m, k in zip(models, fold_of, strict=True) if k == f]
            tiny = fit_tiny(
                ann[ann["generator_2"].isin(train)], n_anchors=args.n_anchors, seed=seed, n_draws=args.draws
            )
            rng = np.random.default_rng(1000 + seed)
            for m in test:
                est = estimate_from_annotations(tiny, by_model[m])
                p = M.loc[m].to_numpy()
                rand = np.mean(
                    [
                        abs(100 * p[rng.choice(len(p), args.n_anchors, replace=False)].mean() - truth[m])
                        for _ in range(50)
                    ]
                )
                row = {
                    "model": m,
                    "seed": seed,
                    "fold": f,
                    "truth": truth[m],
                    "strong": truth[m] > 15,
                    "random": rand,
                    "covered": est["ci_low"] <= truth[m] <= est["ci_high"],
                    "outside": est["interval_z"] != tiny.interval_z,
                    "width": est["ci_high"] - est["ci_low"],
                    "se": est["difference"]["standard_error"],
                    "z": tiny.interval_z,
                    # the multiplier calibrated on random draws over the fitted models alone (before nesting)
                    "covered_design_z": abs(est["estimate"] - truth[m])
                    <= tiny.calibration["design"] * est["difference"]["standard_error"],
                    "covered_nested_z": abs(est["estimate"] - truth[m])
                    <= tiny.calibration["nested"] * est["difference"]["standard_error"],
                    "z_design": tiny.calibration["design"],
                    "z_nested": tiny.calibration["nested"],
                    **one_anchor_missing(tiny, by_model[m], rng, truth[m]),
                    **{k: est[k]["estimate"] - truth[m] for k in ESTIMATORS},
                }
                if args.lc:  # estimate_from_annotations makes it from the anchor rows alone
                    row["lc"] = est["lc"]["estimate"] - full_lc[m]
                rows.append(row)
    df = pd.DataFrame(rows)
    if args.save:
        df.to_csv(args.save, index=False)
    print(
        f"{len(models)} models (all 805 rows), {args.folds}-fold x {len(args.seeds)} seeds, {args.n_anchors} "
        f"anchors, best of {args.draws} stratified random draws ({time.time() - t0:.0f} s)"
    )
    print(
        "error = estimate - full win rate, points; held-out models only (outside the fit, the anchor choice "
        "and the interval's calibration)"
    )
    header = f"{'':24s} {'n':>4s} " + " ".join(f"{k:>22s}" for k in (*ESTIMATORS, "100 at random"))
    print(header + "\n" + " " * 30 + "  ".join(["MAE  bias  worst".rjust(21)] * 3 + ["MAE".rjust(21)]))
    for name, part in (("all", df), ("strong (raw WR > 15%)", df[df.strong]), ("weak", df[~df.strong])):
        cells = [
            f"{part[k].abs().mean():6.2f} {part[k].mean():+5.2f} {part[k].abs().max():6.1f}"
            for k in ESTIMATORS
        ]
        print(
            f"{name:24s} {len(part):4d} "
            + " ".join(f"{c:>22s}" for c in cells)
            + f" {part['random'].mean():22.2f}"
        )
    gain = 1 - df["difference"].abs().mean() / df["random"].mean()
    print(f"recommended (difference): {100 * gain:.0f}% below 100 at random")
    print(
        f"coverage of the recommended 95% interval: {df['covered'].mean():.3f} (strong: "
        f"{df[df.strong]['covered'].mean():.3f}); mean width {df['width'].mean():.2f} points"
    )
    far = df[df.outside]
    if len(far):
        print(
            f"estimates outside the fitted models' range: {len(far)}, coverage {far['covered'].mean():.3f} (with "
            f"the inside multiplier {(far['difference'].abs() <= far['z'] * far['se']).mean():.3f})"
        )
    print(
        f"coverage with the multiplier calibrated on the fitted models' random draws alone (before nesting): "
        f"{df['covered_design_z'].mean():.3f}, with the nested one alone {df['covered_nested_z'].mean():.3f}; "
        f"multipliers (mean over fits): shipped {df['z'].mean():.2f}, design {df['z_design'].mean():.2f}, "
        f"nested {df['z_nested'].mean():.2f}"
    )
    print(
        f"one anchor row missing: MAE {df['missing1_err'].abs().mean():.2f}, bias {df['missing1_err'].mean():+.2f}, "
        f"coverage {df['missing1_covered'].mean():.3f}, mean width {df['missing1_width'].mean():.2f}"
    )
    per_fold = df.groupby(["seed", "fold"])["difference"].apply(lambda e: e.abs().mean())
    per_seed = df.groupby("seed")["difference"].apply(lambda e: e.abs().mean())
    print(
        f"MAE over the {len(per_fold)} folds: min {per_fold.min():.2f}, median {per_fold.median():.2f}, max "
        f"{per_fold.max():.2f}; over seeds: " + ", ".join(f"{v:.2f}" for v in per_seed)
    )
    worst = df.assign(err=df["difference"].abs()).groupby("model")["err"].mean().sort_values()
    print(
        "worst models (mean |error| over seeds): "
        + ", ".join(f"{m} {v:.2f}" for m, v in worst.tail(3).items())
    )
    if args.lc:
        print(
            f"LC from the anchors against the official LC: MAE {df['lc'].abs().mean():.2f}, bias {df['lc'].mean():+.2f}, "
            f"worst {df['lc'].abs().max():.1f}"
        )

    tiny = fit_tiny(
        ann[ann["generator_2"].isin(models)], n_anchors=args.n_anchors, seed=0, n_draws=args.draws
    )
    null = pd.DataFrame(
        {
            "instruction": M.columns,
            "generator_1": "gpt4_1106_preview",
            "generator_2": "null",
            "preference": 1.769,
        }
    )
    est = estimate_from_annotations(tiny, null)
    print(
        f"simulated null model (76.9 on every instruction): {est['recommended']} {est['estimate']:.1f} "
        f"[{est['ci_low']:.1f}, {est['ci_high']:.1f}]; p-IRT alone {est['p-irt']['estimate']:.1f}"
    )


if __name__ == "__main__":
    main()
