"""How close judgebench's offline LC (its own difficulty estimate, no AlpacaEval hub files) comes to the
official AlpacaEval 2.0 LC on models it has never seen: leave-models-out on the shared files.

    python bench/lc_accuracy.py [--folds 5] [--seeds 0]      (reads $JUDGEBENCH_DATA)

The shared models whose files hold all 805 rows and that have official weights and LC are split
into folds. For each fold, its models' annotations AND official LC take no part: the difficulty is
estimated from the other models (prior fitted on the other leaderboard models), the gamed
stand-ins are rebuilt from it, the LC correction is fitted on the other models (its own inner
K-fold), and each held-out model's LC is fitted and compared with its official figure:
- estimate: the LC with the estimated inputs as they are;
- + correction (FORM): the same, through `alpacaeval_lc.fit_correction` of that form ("level" ships).
The five files with missing rows are shown apart: their official LC looked difficulty up by row
position, which the leaderboard imitates by default (`alpacaeval_lc.row_position_difficulty`).
Asserts nothing.
"""

import argparse
import time

import _data  # noqa: F401  (the shared data beside the checkout, unless JUDGEBENCH_DATA is set)
import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from judgebench.files.records import load_annotations
from judgebench.leaderboard.board import make_leaderboard
from judgebench.settings import data_dir
from judgebench.stats import alpacaeval_lc
from judgebench.stats.lc import fit_lc


def summary(name: str, errors: pd.Series, ours: pd.Series, official: pd.Series) -> str:
    per_model = errors.groupby(level=0).mean()
    worst = per_model.abs().sort_values().tail(3)
    return (
        f"{name:30s} n {len(errors):3d}  MAE {errors.abs().mean():.3f}  max {errors.abs().max():.2f}  bias "
        f"{errors.mean():+.3f}  spearman {spearmanr(ours, official)[0]:.4f}  worst: "
        + ", ".join(f"{m} {per_model[m]:+.2f}" for m in worst.index[::-1])
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--save", metavar="CSV", help="write the per-model held-out figures here")
    args = ap.parse_args()
    root = data_dir() / "alpacaeval"
    board = pd.read_csv(root / "leaderboard_official.csv", index_col=0)
    weights = alpacaeval_lc.read_official_weights(root / "lc_weights_official.csv")
    ann = load_annotations([root / "annotations"], keep_extra=False, workers=2)
    lengths = alpacaeval_lc.gamed_lengths(root)
    sizes = ann.groupby("generator_2").size()
    models = [
        m
        for m in sizes.index
        if sizes[m] == 805 and m in board.index and m in weights.index and weights.loc[m].abs().sum() > 0
    ]
    official = board["length_controlled_winrate"]
    by_model = {m: part.reset_index(drop=True) for m, part in ann.groupby("generator_2")}

    t = time.time()
    rows = []
    for seed in args.seeds:
        fold_of = np.random.default_rng(100 + seed).permutation(len(models)) % args.folds
        for k in range(args.folds):
            held_out = {m for m, f in zip(models, fold_of, strict=True) if f == k}
            d, _ = alpacaeval_lc.fit_difficulty(ann, weights, board, exclude=held_out)
            gamed = alpacaeval_lc.gamed_standin(lengths, d, weights)
            inner = alpacaeval_lc.held_out_lc(ann, weights, board, lengths, exclude=held_out, seed=seed)
            corrections = {
                form: alpacaeval_lc.fit_correction(inner, form) for form in alpacaeval_lc.CORRECTION_FORMS
            }
            for m in held_out:
                raw = fit_lc(by_model[m], d, gamed).length_controlled_winrate
                wr = 100 * float(np.nanmean(by_model[m]["preference"] - 1))
                rows.append(
                    {"wr": wr, "model": m, "seed": seed, "official": official[m], "estimate": raw}
                    | {
                        f"+ correction ({form})": float(alpacaeval_lc.correct_lc(raw, wr, corr))
                        for form, corr in corrections.items()
                    }
                    | {k: corrections["level"][k] for k in ("alpha", "gamma", "delta")}
                )
    df = pd.DataFrame(rows).set_index("model")
    if args.save:
        df.to_csv(args.save)
    print(
        f"{len(models)} shared models, {args.folds}-fold leave-models-out x {len(args.seeds)} seeds "
        f"({time.time() - t:.0f} s); error = judgebench LC - official LC, points"
    )
    for name in ["estimate", *(f"+ correction ({form})" for form in alpacaeval_lc.CORRECTION_FORMS)]:
        print(summary(name, df[name] - df["official"], df[name], df["official"]))
    print(
        "shipped correction (level) over folds: "
        + ", ".join(f"{k} {df[k].min():+.3f} to {df[k].max():+.3f}" for k in ("alpha", "gamma", "delta"))
    )

    # Files with missing rows: their official LC looked difficulty up by row position, as the leaderboard
    # does by default. The shipped inputs never saw them, so the leaderboard's own figures are held out.
    short = [m for m in sizes.index if sizes[m] < 805 and m in board.index]
    lb, _ = make_leaderboard(ann[ann["generator_2"].isin(short)], n_boot=0, workers=1, detect_cheating=False)
    err = lb[["length_controlled_winrate", "lc_by_instruction"]].sub(official.reindex(lb.index), axis=0)
    print(
        "files with missing rows, `leaderboard` (row-position lookup as AlpacaEval, the default): "
        + ", ".join(f"{m} {e.iloc[0]:+.2f} (by instruction {e.iloc[1]:+.2f})" for m, e in err.iterrows())
    )


if __name__ == "__main__":
    main()
