"""The LC inputs AlpacaEval keeps on the Hugging Face hub, rebuilt from public files.

AlpacaEval 2.0's LC needs a frozen per-instruction difficulty and the judge's annotations of the
baseline prompted to be verbose and concise (`df_gamed`). Neither is published outside the hub, so
judgebench ships estimates, keyed by a hash of the instruction (no eval-set text in the repo):

- difficulty: MAP per instruction with AlpacaEval's published per-model weights held fixed, over the
  shared annotation files that hold all 805 rows, under a normal prior whose mean and spread make
  the published weights reproduce the published LC of every leaderboard model (`difficulty.py`);
- gamed stand-ins: for each gamed variant, the real length difference of its outputs against the
  baseline's, and as preference the probability its published weights give at that length and
  difficulty (a soft label, which is what the GLM consumes).

`build()` makes both from a data folder laid out like `shared/data/`; `scripts/build_alpacaeval_lc_inputs.py`
writes them to `judgebench/data/`, where `load()` finds them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import expit

from ..io import load_annotations, load_outputs
from .difficulty import estimate_difficulty, instruction_key, marginal_from_official
from .lc import standardized_delta_len

PACKAGE_DATA = Path(__file__).resolve().parent.parent / "data"
DIFFICULTY_FILE = PACKAGE_DATA / "alpacaeval2_difficulty.csv"
GAMED_FILE = PACKAGE_DATA / "alpacaeval2_gamed_standin.csv"
GAMED_MODELS = ("gpt4_1106_preview_verbose", "gpt4_1106_preview_concise")
N_INSTRUCTIONS = 805


def read_official_weights(path: str | Path) -> pd.DataFrame:
    """AlpacaEval's weights CSV, columns renamed to (len, diff, not_gamed)."""
    w = pd.read_csv(path, index_col=0)
    w.columns = ["len", "diff", "not_gamed"]
    return w


def build(data_dir: str | Path) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """(difficulty, gamed stand-in, facts about the fit) from `data_dir/alpacaeval/`."""
    root = Path(data_dir) / "alpacaeval"
    weights = read_official_weights(root / "lc_weights_official.csv")
    board = pd.read_csv(root / "leaderboard_official.csv", index_col=0)
    annotations = load_annotations([root / "annotations"], keep_extra=False, workers=2)
    rows = annotations.groupby("generator_2").size()
    # Files with missing rows were fitted by AlpacaEval against row-shifted difficulties: leave them out.
    used = [m for m in rows.index if rows[m] == N_INSTRUCTIONS and m in weights.index]
    on_board = [m for m in weights.index if m in board.index and board.loc[m, "n_total"] == N_INSTRUCTIONS]
    mu, tau, rms = marginal_from_official(weights.loc[on_board], board.loc[on_board, "length_controlled_winrate"])
    difficulty = estimate_difficulty(annotations[annotations["generator_2"].isin(used)], weights, (mu, tau))

    eval_set = load_outputs(root / "eval_set.json.gz")
    base_len = eval_set.set_index("instruction")["output"].str.len()
    gamed = []
    for g in GAMED_MODELS:
        out = load_outputs(root / "model_outputs" / f"{g}.json.gz").set_index("instruction")["output"]
        inst = out.index.intersection(base_len.index)
        sdl = standardized_delta_len(base_len.loc[inst], out.loc[inst].str.len())
        w = weights.loc[g]
        p = expit(w["len"] * np.tanh(sdl) + w["diff"] * difficulty.loc[inst].to_numpy() + w["not_gamed"])
        gamed.append(pd.DataFrame({"generator": g, "instruction_key": [instruction_key(i) for i in inst],
                                   "std_delta_len": sdl, "preference": 1 + p}))
    diff_frame = pd.DataFrame({"instruction_key": [instruction_key(i) for i in difficulty.index],
                               "instruction_difficulty": difficulty.to_numpy()})
    facts = {"models_used": used, "prior_mean": mu, "prior_sd": tau, "prior_rms_lc_residual": rms,
             "models_for_prior": len(on_board)}
    return diff_frame, pd.concat(gamed, ignore_index=True), facts


def load() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The shipped difficulty and gamed stand-in, keyed by `instruction_key`."""
    return pd.read_csv(DIFFICULTY_FILE), pd.read_csv(GAMED_FILE)


def inputs_for(instructions: pd.Series | list[str]) -> tuple[pd.Series, pd.DataFrame] | None:
    """Shipped difficulty (indexed by instruction text) and gamed rows, if every instruction is
    in the AlpacaEval 2.0 set; None otherwise."""
    if not DIFFICULTY_FILE.exists():
        return None
    diff, gamed = load()
    text_of = {instruction_key(t): t for t in pd.unique(pd.Series(instructions))}
    if not set(text_of) <= set(diff["instruction_key"]):
        return None
    # Rows of instructions the caller does not have keep their key as a stand-in for the text.
    name = lambda keys: [text_of.get(k, k) for k in keys]  # noqa: E731
    difficulty = pd.Series(diff["instruction_difficulty"].to_numpy(), index=name(diff["instruction_key"]))
    gamed = gamed.assign(instruction=name(gamed["instruction_key"])).drop(columns="instruction_key")
    return difficulty, gamed


def to_hub_layout(order: list[str], difficulty: pd.Series, gamed: pd.DataFrame) -> pd.DataFrame:
    """Difficulty and gamed rows as AlpacaEval's hub file `df_gamed.csv` (for running the reference
    package on the same inputs). AlpacaEval reads the difficulty of its j-th annotation row from
    row j of this file, so the first gamed block follows `order`: the annotations' instructions."""
    pos = {t: i for i, t in enumerate(order)}
    blocks = []
    for _, g in gamed.groupby("generator", sort=False):
        g = g.assign(rank=g["instruction"].map(pos)).sort_values("rank", kind="stable")
        blocks.append(pd.DataFrame({"model": g["generator"].to_numpy(), "index": g["rank"].to_numpy(),
                                    "preference": g["preference"].to_numpy() - 1,
                                    "std_delta_len": g["std_delta_len"].to_numpy(),
                                    "instruction_difficulty": g["instruction"].map(difficulty).to_numpy(),
                                    "not_gamed_baseline": False}))
    return pd.concat(blocks, ignore_index=True)
