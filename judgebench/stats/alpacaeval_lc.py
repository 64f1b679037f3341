"""The LC inputs AlpacaEval keeps on the Hugging Face hub, rebuilt from public files.

AlpacaEval 2.0's LC needs a frozen per-instruction difficulty and the judge's annotations of the
baseline prompted to be verbose and concise (`df_gamed`). Neither is published outside the hub, so
judgebench ships estimates, keyed by a hash of the instruction (no eval-set text in the repo):

- difficulty: MAP per instruction with AlpacaEval's published per-model weights held fixed, over the
  shared annotation files that hold all 805 rows, under a normal prior whose mean and spread make
  the published weights reproduce the published LC of every leaderboard model (`difficulty.py`);
- gamed stand-ins: for each gamed variant, the real length difference of its outputs against the
  baseline's, and as preference the probability its published weights give at that length and
  difficulty (a soft label, which is what the GLM consumes);
- an LC correction for these estimated inputs (`lc_correction`), fitted leave-models-out against the
  official LC: the leaderboard applies it to LC made with the shipped inputs.

`build()` makes all three from a data folder laid out like `shared/data/`;
`scripts/build_alpacaeval_lc_inputs.py` writes them to `judgebench/data/`, where `load()` finds them.
When AlpacaEval's own files are at hand (`find_official_files`: a folder named by
$JUDGEBENCH_ALPACAEVAL_LC_DIR, or the local Hugging Face cache), they are used instead and the LC is
exact (`official_inputs_for`).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import expit

from judgebench.files.records import InputError, load_annotations, load_outputs, numeric_columns, read_records
from judgebench.stats.difficulty import estimate_difficulty, instruction_key, marginal_from_official
from judgebench.stats.lc import standardized_delta_len

PACKAGE_DATA = Path(__file__).resolve().parent.parent / "data"
DIFFICULTY_FILE = PACKAGE_DATA / "alpacaeval2_difficulty.csv"
GAMED_FILE = PACKAGE_DATA / "alpacaeval2_gamed_standin.csv"
CORRECTION_FILE = PACKAGE_DATA / "alpacaeval2_lc_correction.json"
GAMED_MODELS = ("gpt4_1106_preview_verbose", "gpt4_1106_preview_concise")
N_INSTRUCTIONS = 805
# AlpacaEval's own LC inputs: files of this Hugging Face dataset, rows in the eval set's canonical order.
HUB_REPO = "tatsu-lab/alpaca_eval"
HUB_DIFFICULTY, HUB_GAMED = "instruction_difficulty.csv", "df_gamed.csv"
LC_DIR_ENV = "JUDGEBENCH_ALPACAEVAL_LC_DIR"
# Expected error of the LC with the shipped (estimated) inputs on a model they have never seen:
# leave-models-out over the shared files (5-fold x 3 seeds), `python bench/lc_accuracy.py --seeds 0 1 2`.
ESTIMATE_HELD_OUT = {"mae": 0.22, "max": 0.93, "n_models": 39}  # 5-fold x 3 seeds, estimate + correction


def read_official_weights(path: str | Path) -> pd.DataFrame:
    """AlpacaEval's weights CSV (model, then the length, difficulty and not-gamed weights), renamed to
    (len, diff, not_gamed)."""
    rows = read_records(path)  # a missing, binary or malformed file is one clear error
    if not rows or len(rows[0]) != 4:
        raise InputError(
            "expected 4 columns: model and the GLM's length, difficulty and not-gamed weights",
            path=path,
            hint="AlpacaEval's lc weights CSV (lc_weights_official.csv) has that layout",
        )
    w = pd.read_csv(path, index_col=0)
    w.columns = ["len", "diff", "not_gamed"]
    return numeric_columns(w, w.columns, path)


def fit_difficulty(
    annotations: pd.DataFrame,
    weights: pd.DataFrame,
    board: pd.DataFrame,
    exclude: frozenset | set = frozenset(),
) -> tuple[pd.Series, dict]:
    """Difficulty per instruction (indexed by text) from the annotations of models with published
    weights, and facts about the fit. `exclude`: models whose annotations and published LC take no
    part (leave-models-out). (A monotone recalibration of these difficulties so that the official
    weights reproduce the official LC of all 188 leaderboard models was tried: it fits that marginal
    to 0.02 points RMS, but a left-out model's refitted LC got worse, MAE 0.67 against 0.48.)"""
    rows = annotations.groupby("generator_2").size()
    # Files with missing rows were fitted by AlpacaEval against row-shifted difficulties: leave them out.
    used = [m for m in rows.index if rows[m] == N_INSTRUCTIONS and m in weights.index and m not in exclude]
    on_board = [
        m
        for m in weights.index
        if m in board.index and board.loc[m, "n_total"] == N_INSTRUCTIONS and m not in exclude
    ]
    official = board.loc[on_board, "length_controlled_winrate"]
    mu, tau, rms = marginal_from_official(weights.loc[on_board], official)
    difficulty = estimate_difficulty(annotations[annotations["generator_2"].isin(used)], weights, (mu, tau))
    facts = {
        "models_used": used,
        "prior_mean": mu,
        "prior_sd": tau,
        "prior_rms_lc_residual": rms,
        "models_for_prior": len(on_board),
    }
    return difficulty, facts


CORRECTION_FORMS = ("shift", "adjustment", "level")


def held_out_lc(
    annotations: pd.DataFrame,
    weights: pd.DataFrame,
    board: pd.DataFrame,
    lengths: pd.DataFrame,
    exclude: frozenset | set = frozenset(),
    folds: int = 5,
    seed: int = 0,
) -> pd.DataFrame:
    """What `lc_correction` is fitted on: per shared model (full file, published weights and LC, not in
    `exclude`), its LC with estimated inputs that left it out (K-fold over models), its raw win rate and
    its official LC (columns lc, win_rate, official)."""
    from judgebench.stats.lc import fit_lc

    sizes = annotations.groupby("generator_2").size()
    models = [
        m
        for m in sizes.index
        if sizes[m] == N_INSTRUCTIONS
        and m in board.index
        and m not in exclude
        and m in weights.index
        and weights.loc[m].abs().sum() > 0
    ]
    fold_of = dict(zip(models, np.random.default_rng(seed).permutation(len(models)) % folds, strict=True))
    rows = {}
    for k in range(folds):
        left_out = {m for m in models if fold_of[m] == k}
        d, _ = fit_difficulty(annotations, weights, board, exclude=set(exclude) | left_out)
        gamed = gamed_standin(lengths, d, weights)
        for m in left_out:
            part = annotations[annotations["generator_2"] == m].reset_index(drop=True)
            rows[m] = (
                fit_lc(part, d, gamed).length_controlled_winrate,
                100 * float(np.nanmean(part["preference"].to_numpy(float) - 1)),
                float(board.loc[m, "length_controlled_winrate"]),
            )
    return pd.DataFrame.from_dict(rows, orient="index", columns=["lc", "win_rate", "official"]).loc[models]


def fit_correction(held_out: pd.DataFrame, form: str = "level") -> dict:
    """The correction `correct_lc` applies to LC made with estimated inputs, fitted by least squares on
    `held_out_lc`'s table. With z = logit(LC) and a = z - logit(WR), the length adjustment in logits:

        logit(official LC) = z + alpha + a * (gamma + delta * clip(z, z_lo, z_hi))

    form "shift": alpha only; "adjustment": alpha and gamma; "level" (shipped): all three, z clipped to
    the range of the fitted models so that it never extrapolates.

    Why: with estimated inputs every shared model came out too high when left out (+0.47 points on
    average), the more so the larger its length adjustment and the higher its LC (claude, claude-2.1 and
    Mixtral's concise variant the most): the estimated inputs overstate the length effect. Held out
    (`bench/lc_accuracy.py`), "level" cut the worst model's error from 1.70 ("adjustment") to 0.93."""
    if form not in CORRECTION_FORMS:
        raise ValueError(f"form must be one of {CORRECTION_FORMS}, not {form!r}")
    z = _logit(held_out["lc"])
    adjustment = z - _logit(held_out["win_rate"])
    y = _logit(held_out["official"]) - z
    columns = {"alpha": np.ones_like(z), "gamma": adjustment, "delta": adjustment * z}
    used = {"shift": ["alpha"], "adjustment": ["alpha", "gamma"], "level": ["alpha", "gamma", "delta"]}[form]
    coef = np.linalg.lstsq(np.column_stack([columns[c] for c in used]), y, rcond=None)[0]
    fitted = dict.fromkeys(("alpha", "gamma", "delta"), 0.0) | {
        c: float(v) for c, v in zip(used, coef, strict=True)
    }
    return {
        **fitted,
        "logit_lc_range": [float(z.min()), float(z.max())],
        "form": form,
        "n_models": len(held_out),
    }


def lc_correction(
    annotations: pd.DataFrame,
    weights: pd.DataFrame,
    board: pd.DataFrame,
    lengths: pd.DataFrame,
    exclude: frozenset | set = frozenset(),
    folds: int = 5,
    seed: int = 0,
    form: str = "level",
) -> dict:
    """`fit_correction` on `held_out_lc` (see both)."""
    return fit_correction(held_out_lc(annotations, weights, board, lengths, exclude, folds, seed), form)


def _logit(lc_percent):
    p = np.clip(np.asarray(lc_percent, float) / 100, 1e-4, 1 - 1e-4)
    return np.log(p / (1 - p))


def correct_lc(lc_percent, win_rate_percent, correction: dict):
    """LC (percent) with the estimated-inputs correction of `lc_correction` applied."""
    z = _logit(lc_percent)
    adjustment = z - _logit(win_rate_percent)
    lo, hi = correction.get("logit_lc_range", (-np.inf, np.inf))
    slope = correction["gamma"] + correction.get("delta", 0.0) * np.clip(z, lo, hi)
    return 100 / (1 + np.exp(-(z + correction["alpha"] + adjustment * slope)))


def row_position_difficulty(instructions: pd.Series | list[str], difficulty: pd.Series) -> np.ndarray | None:
    """The difficulty AlpacaEval gives each row of one model's annotations, `difficulty` being indexed by
    the eval set's instructions in their canonical order: it looks difficulty up by row position (row j
    gets the eval set's j-th instruction's), so in a file with rows missing every row
    after a gap gets another instruction's difficulty, and the official leaderboard's LC of such files
    carries that shift. Returned only for what those files are, rows in the eval set's order with some
    missing; None where the lookup agrees with joining by instruction or the rows follow another order."""
    pos = difficulty.index.get_indexer(pd.Series(instructions))
    n = len(pos)
    if (
        n == 0
        or n >= len(difficulty)
        or (pos < 0).any()
        or (np.diff(pos) <= 0).any()
        or (pos == np.arange(n)).all()
    ):
        return None
    return difficulty.to_numpy(float)[:n]


def gamed_lengths(root: str | Path) -> pd.DataFrame:
    """(generator, instruction, std_delta_len) of the gamed baselines' outputs against the baseline's."""
    root = Path(root)
    eval_set = load_outputs(root / "eval_set.json.gz")
    base_len = eval_set.set_index("instruction")["output"].str.len()
    parts = []
    for g in GAMED_MODELS:
        out = load_outputs(root / "model_outputs" / f"{g}.json.gz").set_index("instruction")["output"]
        inst = out.index.intersection(base_len.index)
        parts.append(
            pd.DataFrame(
                {
                    "generator": g,
                    "instruction": inst,
                    "std_delta_len": standardized_delta_len(base_len.loc[inst], out.loc[inst].str.len()),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def gamed_standin(lengths: pd.DataFrame, difficulty: pd.Series, weights: pd.DataFrame) -> pd.DataFrame:
    """Gamed rows with, as preference, 1 + the probability their published weights give (a soft label)."""
    w = weights.loc[lengths["generator"]].to_numpy(float)
    x = np.column_stack(
        [
            np.tanh(lengths["std_delta_len"].to_numpy(float)),
            lengths["instruction"].map(difficulty).to_numpy(float),
        ]
    )
    return lengths.assign(preference=1 + expit(w[:, 0] * x[:, 0] + w[:, 1] * x[:, 1] + w[:, 2]))


def build(data_dir: str | Path) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """(difficulty, gamed stand-in, facts about the fit, with the LC correction) from `data_dir/alpacaeval/`."""
    root = Path(data_dir) / "alpacaeval"
    weights = read_official_weights(root / "lc_weights_official.csv")
    board = pd.read_csv(root / "leaderboard_official.csv", index_col=0)
    annotations = load_annotations([root / "annotations"], keep_extra=False, workers=2)
    difficulty, facts = fit_difficulty(annotations, weights, board)
    lengths = gamed_lengths(root)
    gamed = gamed_standin(lengths, difficulty, weights)
    facts["lc_correction"] = lc_correction(annotations, weights, board, lengths)
    gamed = gamed.assign(instruction_key=gamed["instruction"].map(instruction_key))
    diff_frame = pd.DataFrame(
        {
            "instruction_key": [instruction_key(i) for i in difficulty.index],
            "instruction_difficulty": difficulty.to_numpy(),
        }
    )
    return diff_frame, gamed[["generator", "instruction_key", "std_delta_len", "preference"]], facts


def load_correction() -> dict | None:
    """The shipped LC correction for estimated inputs (`lc_correction`), if present."""
    import json

    return json.loads(CORRECTION_FILE.read_text()) if CORRECTION_FILE.exists() else None


def load() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The shipped difficulty and gamed stand-in, keyed by `instruction_key`."""
    return pd.read_csv(DIFFICULTY_FILE), pd.read_csv(GAMED_FILE)


def _names(instructions: pd.Series | list[str], keys) -> list[str] | None:
    """`keys` (instruction keys of the AlpacaEval 2.0 set) as the caller's instruction texts, if every
    instruction given is in the set; None otherwise. Instructions the caller does not have keep their key
    as a stand-in for the text."""
    text_of = {instruction_key(t): t for t in pd.unique(pd.Series(instructions))}
    keys = list(keys)
    if not set(text_of) <= set(keys):
        return None
    return [text_of.get(k, k) for k in keys]


def inputs_for(instructions: pd.Series | list[str]) -> tuple[pd.Series, pd.DataFrame] | None:
    """Shipped difficulty (indexed by instruction text, in the canonical order) and gamed rows, if every
    instruction is in the AlpacaEval 2.0 set; None otherwise."""
    if not DIFFICULTY_FILE.exists():
        return None
    diff, gamed = load()
    names = _names(instructions, diff["instruction_key"])
    if names is None:
        return None
    name_of = dict(zip(diff["instruction_key"], names, strict=True))
    difficulty = pd.Series(diff["instruction_difficulty"].to_numpy(), index=names)
    gamed = gamed.assign(instruction=gamed["instruction_key"].map(name_of)).drop(columns="instruction_key")
    return difficulty, gamed


def find_official_files(folder: str | Path | None = None) -> tuple[Path, Path, str] | None:
    """AlpacaEval's (instruction_difficulty.csv, df_gamed.csv) and where they were found: the folder
    given (or named by $JUDGEBENCH_ALPACAEVAL_LC_DIR), else the local Hugging Face cache (hub layout,
    $HF_HUB_CACHE / $HF_HOME honoured). Nothing is downloaded, so HF_HUB_OFFLINE always holds."""
    folder = folder or os.environ.get(LC_DIR_ENV)
    if folder:
        paths = Path(folder) / HUB_DIFFICULTY, Path(folder) / HUB_GAMED
        missing = [p.name for p in paths if not p.is_file()]
        if missing:
            raise InputError(
                f"{', '.join(missing)} not found",
                path=folder,
                hint=f"put AlpacaEval's {HUB_DIFFICULTY} and {HUB_GAMED} there, or unset {LC_DIR_ENV}",
            )
        return paths[0], paths[1], f"folder {folder}"
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return None
    cache_dir = os.environ.get("HF_HUB_CACHE") or (
        str(Path(os.environ["HF_HOME"]) / "hub") if os.environ.get("HF_HOME") else None
    )
    found = [
        try_to_load_from_cache(HUB_REPO, name, cache_dir=cache_dir, repo_type="dataset")
        for name in (HUB_DIFFICULTY, HUB_GAMED)
    ]
    first, second = found
    if isinstance(first, str) and isinstance(second, str):
        return Path(first), Path(second), f"Hugging Face cache ({HUB_REPO})"
    return None


def official_inputs_for(
    instructions: pd.Series | list[str], folder: str | Path | None = None
) -> tuple[pd.Series, pd.DataFrame, str] | None:
    """AlpacaEval's own difficulty (indexed by instruction text) and gamed rows, when its files are
    found and every instruction is in the AlpacaEval 2.0 set; None otherwise. Row j of its files is
    the j-th instruction of the canonical order, which the shipped difficulty file keeps (by key)."""
    found = find_official_files(folder)
    if found is None or not DIFFICULTY_FILE.exists():
        return None
    diff_path, gamed_path, where = found
    names = _names(instructions, pd.read_csv(DIFFICULTY_FILE)["instruction_key"])
    if names is None:
        return None
    try:
        diff = pd.read_csv(diff_path, index_col=0).squeeze("columns")
        gamed = pd.read_csv(gamed_path)
        difficulty = pd.Series(diff.to_numpy(float), index=[names[int(i)] for i in diff.index])
        rows = pd.DataFrame(
            {
                "generator": gamed["model"].to_numpy(),
                "instruction": [names[int(i)] for i in gamed["index"]],
                "std_delta_len": gamed["std_delta_len"].to_numpy(float),
                "preference": gamed["preference"].to_numpy(float) + 1,
            }
        )
    except (KeyError, ValueError, IndexError) as e:
        raise InputError(
            f"not AlpacaEval's LC inputs ({type(e).__name__}: {e})",
            path=diff_path.parent,
            hint=f"{HUB_DIFFICULTY}: index, instruction_difficulty by canonical row; {HUB_GAMED}: "
            "model, index, preference, std_delta_len, ...",
        ) from None
    if len(difficulty) != len(names):
        raise InputError(
            f"{len(difficulty)} difficulties for the {len(names)} instructions",
            path=diff_path,
            hint="use AlpacaEval 2.0's instruction_difficulty.csv",
        )
    return difficulty, rows, f"AlpacaEval's official inputs ({where})"


def to_hub_layout(order: list[str], difficulty: pd.Series, gamed: pd.DataFrame) -> pd.DataFrame:
    """Difficulty and gamed rows as AlpacaEval's hub file `df_gamed.csv` (for running the reference
    package on the same inputs). AlpacaEval reads the difficulty of its j-th annotation row from
    row j of this file, so the first gamed block follows `order`: the annotations' instructions."""
    pos = {t: i for i, t in enumerate(order)}
    blocks = []
    for _, g in gamed.groupby("generator", sort=False):
        g = g.assign(rank=g["instruction"].map(pos)).sort_values("rank", kind="stable")
        blocks.append(
            pd.DataFrame(
                {
                    "model": g["generator"].to_numpy(),
                    "index": g["rank"].to_numpy(),
                    "preference": g["preference"].to_numpy() - 1,
                    "std_delta_len": g["std_delta_len"].to_numpy(),
                    "instruction_difficulty": g["instruction"].map(difficulty).to_numpy(),
                    "not_gamed_baseline": False,
                }
            )
        )
    return pd.concat(blocks, ignore_index=True)
