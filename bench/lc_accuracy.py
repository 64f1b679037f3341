"""How close judgebench's offline LC (its own difficulty estimate, no AlpacaEval hub files) comes to the
official AlpacaEval 2.0 LC on models it has never seen: leave-one-model-out on the shared files.

    python bench/lc_accuracy.py [--methods prior recalibrated]     (reads $JUDGEBENCH_DATA)

For each shared model whose file holds all 805 rows and that has an official LC: the difficulty is
re-estimated without that model's annotations AND without its official LC/weights (prior and monotone
recalibration fitted on the other leaderboard models), the gamed stand-ins are rebuilt from that
difficulty, and the model's LC is fitted and compared with the official figure. Methods:
- prior: MAP difficulty under a normal prior fitted to the official LC values (judgebench <= 0.x);
- recalibrated: the same MAP, then the monotone map that makes the official weights reproduce the
  official LC of the other leaderboard models (what ships).
Also the five files with missing rows (official LC carries AlpacaEval's row-position lookup there).
Asserts nothing.
"""

import argparse
import time

import pandas as pd
from scipy.stats import spearmanr

from judgebench.config import data_dir
from judgebench.io import load_annotations
from judgebench.stats import alpacaeval_lc
from judgebench.stats.lc import fit_lc


def summary(errors: pd.Series, ours: pd.Series, official: pd.Series) -> str:
    worst = errors.abs().sort_values().tail(3)
    return (f"n {len(errors):2d}  MAE {errors.abs().mean():.3f}  max {errors.abs().max():.2f}  bias {errors.mean():+.3f}"
            f"  spearman {spearmanr(ours, official)[0]:.4f}  worst: "
            + ", ".join(f"{m} {errors[m]:+.2f}" for m in worst.index[::-1]))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--methods", nargs="+", default=["prior", "recalibrated"])
    args = ap.parse_args()
    root = data_dir() / "alpacaeval"
    board = pd.read_csv(root / "leaderboard_official.csv", index_col=0)
    weights = alpacaeval_lc.read_official_weights(root / "lc_weights_official.csv")
    ann = load_annotations([root / "annotations"], keep_extra=False, workers=2)
    lengths = alpacaeval_lc.gamed_lengths(root)
    sizes = ann.groupby("generator_2").size()
    models = [m for m in sizes.index if m != "gpt4_1106_preview" and sizes[m] == 805 and m in board.index]
    official = board["length_controlled_winrate"]
    by_model = {m: part.reset_index(drop=True) for m, part in ann.groupby("generator_2")}

    for method in args.methods:
        recal = method == "recalibrated"
        t = time.time()
        held_out = {}
        for m in models:
            d, _ = alpacaeval_lc.fit_difficulty(ann, weights, board, exclude={m}, recalibrate=recal)
            gamed = alpacaeval_lc.gamed_standin(lengths, d, weights)
            held_out[m] = fit_lc(by_model[m], d, gamed).length_controlled_winrate
        held_out = pd.Series(held_out)
        print(f"{method:13s} leave-one-model-out  {summary(held_out - official[models], held_out, official[models])}"
              f"  ({time.time() - t:.0f} s)")
        d, facts = alpacaeval_lc.fit_difficulty(ann, weights, board, recalibrate=recal)
        gamed = alpacaeval_lc.gamed_standin(lengths, d, weights)
        ins = pd.Series({m: fit_lc(by_model[m], d, gamed).length_controlled_winrate for m in models})
        print(f"{method:13s} in-sample (reference) {summary(ins - official[models], ins, official[models])}")
        short = [m for m in sizes.index if sizes[m] < 805 and m in board.index]
        err = pd.Series({m: fit_lc(by_model[m], d, gamed).length_controlled_winrate - official[m] for m in short})
        print(f"{'':13s} files with missing rows (official LC used row-shifted difficulties): "
              + ", ".join(f"{m} {e:+.2f}" for m, e in err.items()))


if __name__ == "__main__":
    main()
