"""How close judgebench's LC comes to the official AlpacaEval 2.0 LC, without AlpacaEval's hub files.

    python bench/lc_accuracy.py            (reads $JUDGEBENCH_DATA, default ../shared/data)

Prints, over the shared models whose annotation files hold all 805 rows:
- in-sample: the shipped difficulty (estimated with those same models' annotations) -> LC;
- leave-one-out: difficulty re-estimated without the model, then its LC (the honest figure for a
  model the estimate has never seen);
and, apart, the five files with missing rows: official LC, judgebench's LC (difficulty joined by
instruction) and judgebench's LC with AlpacaEval's row-position lookup imitated.
"""

import time

import pandas as pd
from scipy.stats import spearmanr

from judgebench.config import data_dir
from judgebench.io import load_annotations
from judgebench.leaderboard import resolve_lc_inputs
from judgebench.stats import alpacaeval_lc
from judgebench.stats.difficulty import estimate_difficulty, marginal_from_official
from judgebench.stats.lc import fit_lc


def summary(ours: pd.Series, official: pd.Series) -> dict:
    err = ours - official
    return {"n": len(err), "mae": err.abs().mean(), "max_abs": err.abs().max(), "bias": err.mean(),
            "spearman": spearmanr(ours, official)[0]}


def main() -> None:
    root = data_dir() / "alpacaeval"
    board = pd.read_csv(root / "leaderboard_official.csv", index_col=0)
    weights = alpacaeval_lc.read_official_weights(root / "lc_weights_official.csv")
    ann = load_annotations([root / "annotations"], keep_extra=False, workers=2)
    lc = resolve_lc_inputs(ann)
    canonical = pd.read_json(root / "eval_set.json.gz")["instruction"].tolist()
    sizes = ann.groupby("generator_2").size()
    models = [m for m in sizes.index if m != "gpt4_1106_preview"]
    full = [m for m in models if sizes[m] == 805]
    short = [m for m in models if sizes[m] < 805]
    official = board["length_controlled_winrate"]

    t = time.time()
    ins = pd.Series({m: fit_lc(ann[ann.generator_2 == m].reset_index(drop=True), lc.difficulty,
                               lc.gamed).length_controlled_winrate for m in full})
    print("in-sample      ", {k: round(v, 3) for k, v in summary(ins, official[full]).items()},
          f"({time.time() - t:.1f} s)")

    on_board = [m for m in weights.index if m in board.index and board.loc[m, "n_total"] == 805]
    prior = marginal_from_official(weights.loc[on_board], official[on_board])[:2]
    fitted_with = [m for m in full if m in weights.index]
    loo = {}
    t = time.time()
    for m in full:
        others = ann[ann.generator_2.isin([x for x in fitted_with if x != m])]
        d = estimate_difficulty(others, weights, prior)
        loo[m] = fit_lc(ann[ann.generator_2 == m].reset_index(drop=True), d, lc.gamed).length_controlled_winrate
    loo = pd.Series(loo)
    print("leave-one-out  ", {k: round(v, 3) for k, v in summary(loo, official[full]).items()},
          f"({time.time() - t:.1f} s)")
    print("(the gamed stand-ins keep the full-data difficulty in both figures)")

    print("\nfiles with missing rows: official | judgebench (by instruction) | imitating row-position lookup")
    by_position = pd.Series(lc.difficulty.loc[canonical].to_numpy())
    for m in short:
        part = ann[ann.generator_2 == m].reset_index(drop=True)
        ours = fit_lc(part, lc.difficulty, lc.gamed).length_controlled_winrate
        shifted = pd.Series(by_position.iloc[: len(part)].to_numpy(), index=part["instruction"])
        gamed_shifted = lc.gamed.copy()
        imitated = fit_lc(part, pd.concat([shifted, lc.difficulty[~lc.difficulty.index.isin(shifted.index)]]),
                          gamed_shifted).length_controlled_winrate
        print(f"  {m:24s} {official[m]:6.2f} | {ours:6.2f} | {imitated:6.2f}   ({sizes[m]} rows)")


if __name__ == "__main__":
    main()
