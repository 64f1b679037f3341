"""Leaderboard from annotations: AlpacaEval's columns, plus bootstrap CIs and missing counts.

    board, info = make_leaderboard(["results/"], n_boot=1000)
    write_leaderboard(board, "leaderboards/alpaca_eval_2.csv")

LC inputs are resolved by `stats.lc_inputs.resolve_lc_inputs` (re-exported here with `read_difficulty`).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from judgebench.files.records import InputError, load_annotations, numeric_columns, read_records
from judgebench.files.textforms import nfc_instructions
from judgebench.leaderboard import columns as schema
from judgebench.stats import alpacaeval_lc
from judgebench.stats.lc import (
    bootstrap_lc,
    bootstrap_winrate,
    fit_lc,
    gamed_rows_from_annotations,
    percentile_ci,
    resample_counts,
)
from judgebench.stats.lc_inputs import LCInputs, read_difficulty, resolve_lc_inputs
from judgebench.stats.winrate import winrate_metrics

__all__ = [
    "LCInputs",
    "make_leaderboard",
    "read_difficulty",
    "read_leaderboard",
    "resolve_lc_inputs",
    "sort_board",
    "write_leaderboard",
]

# The columns are declared in judgebench/leaderboard/columns.py; these names stay for the callers that import them.
ALPACAEVAL_COLUMNS = schema.alpaca_eval_names()
EXTRA_COLUMNS = schema.extra_names()
sort_board = schema.sort_board
MIN_ROWS_FOR_LC = 2  # with fewer judged rows there is no length effect to fit: LC is left empty


def _seed_for(model: str, seed: int) -> int:
    digest = hashlib.sha256(f"{seed}:{model}".encode()).digest()
    return int.from_bytes(digest[:8], "little")


LC_ALIGNMENTS = ("alpacaeval", "instruction")


def _lc_of(fit, win_rate: float, lc: LCInputs) -> tuple[float, float]:
    """(LC, its standard error) of a fit as reported (`LCInputs.corrected`)."""
    value, se = fit.length_controlled_winrate, fit.lc_standard_error
    if lc.correction is None or fit.design is None:  # the baseline's 50 stays as it is
        return value, se
    corrected = float(lc.corrected(value, win_rate))
    slope = (lc.corrected(value + 1e-4, win_rate) - corrected) / 1e-4
    return corrected, float(se * slope)


def model_row(
    model: pd.DataFrame,
    lc: LCInputs,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
    lc_solver: str | None = None,
    lc_alignment: str = "alpacaeval",
) -> dict:
    """One leaderboard row for one candidate's annotations (len_1/len_2 columns, preference in [1, 2]).

    lc_alignment "alpacaeval": where AlpacaEval's row-position difficulty lookup differs from the join by
    instruction (a file in the eval set's order with rows missing), the LC follows AlpacaEval, as the
    official leaderboard does, and `lc_by_instruction` holds the LC joined by instruction;
    "instruction": always joined by instruction."""
    name = model["generator_2"].iloc[0]
    row = winrate_metrics(model["preference"])
    fit = None
    if lc.difficulty is not None and model["preference"].notna().sum() >= MIN_ROWS_FOR_LC:
        solver = lc_solver or lc.solver
        by_position = None
        if lc_alignment == "alpacaeval" and lc.canonical_order:
            by_position = alpacaeval_lc.row_position_difficulty(model["instruction"], lc.difficulty)
        fit = fit_lc(model, lc.difficulty, lc.gamed, solver=solver, row_difficulty=by_position)
        row["lc_inputs"] = lc.kind
        row["length_controlled_winrate"], row["lc_standard_error"] = _lc_of(fit, row["win_rate"], lc)
        if by_position is not None:
            aligned = fit_lc(model, lc.difficulty, lc.gamed, solver=solver)
            row["lc_by_instruction"] = _lc_of(aligned, row["win_rate"], lc)[0]
            row["lc_inputs"] = f"{lc.kind}; AlpacaEval's row-position difficulty ({len(model)} rows)"
    row["n_bootstrap"] = n_boot
    if n_boot > 0:
        counts = resample_counts(len(model), n_boot, np.random.default_rng(_seed_for(name, seed)))
        row["win_rate_ci_low"], row["win_rate_ci_high"] = percentile_ci(
            bootstrap_winrate(model["preference"].to_numpy(float), counts), level
        )
        if fit is not None:
            samples = bootstrap_lc(fit, counts)
            if fit.design is not None:  # not the baseline's 50
                samples = lc.corrected(samples, row["win_rate"])
            row["lc_ci_low"], row["lc_ci_high"] = percentile_ci(samples, level)
    schema.fill_row(model, row)  # the statistics the schema declares with a `fill` (lengths, flags, ...)
    return {"model": name, **row}


def _rows_for(
    models: list[pd.DataFrame],
    lc: LCInputs,
    n_boot: int,
    seed: int,
    lc_solver: str | None,
    lc_alignment: str = "alpacaeval",
) -> list[dict]:
    return [model_row(m, lc, n_boot, seed, lc_solver=lc_solver, lc_alignment=lc_alignment) for m in models]


def _stale(row: pd.Series, annotations: pd.DataFrame) -> bool:
    """Whether a board's row no longer describes these annotations (counts or raw win rate differ)."""
    now = winrate_metrics(annotations["preference"])
    for column in ("n_total", "n_missing", "n_wins", "n_draws", "win_rate"):
        if column not in row.index or column not in now:
            continue
        old, new = row[column], now[column]
        if pd.isna(old) and pd.isna(new):
            continue
        if pd.isna(old) or pd.isna(new) or abs(float(old) - float(new)) > 1e-6 * max(1.0, abs(float(new))):
            return True
    return False


def default_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def make_leaderboard(
    annotations: Iterable[str | Path] | pd.DataFrame,
    difficulty: pd.Series | None = None,
    gamed: Iterable[str | Path] | pd.DataFrame | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    workers: int | None = None,
    existing: pd.DataFrame | None = None,
    lc_solver: str | None = None,
    detect_cheating: bool = True,
    lc_alignment: str = "alpacaeval",
) -> tuple[pd.DataFrame, dict]:
    """Leaderboard (index = model) sorted by LC, and info about the LC inputs and missing data.

    detect_cheating: run judgebench.stats.cheating on each candidate's outputs (when the frame has them) and
    fill `cheating_flags`; info["flagged"] lists the flagged models.

    existing: a leaderboard already computed; its rows are kept as they are and only models not
    in it are fitted (adding a model never refits the others), except a model whose annotations no
    longer match its row (counts, raw win rate): it is refitted and named in info["refitted"].

    lc_alignment: "alpacaeval" (AlpacaEval's row-position difficulty where a file misses rows, as the
    official leaderboard; info["row_position_lc"] names those models) or "instruction" (see model_row)."""
    if lc_alignment not in LC_ALIGNMENTS:
        raise ValueError(f"lc_alignment must be one of {LC_ALIGNMENTS}, not {lc_alignment!r}")
    workers = default_workers() if workers is None else workers
    # One pool serves both the reading and the fitting: each costs about a second on one core.
    pool = ProcessPoolExecutor(workers) if workers > 1 else None
    try:
        if isinstance(annotations, pd.DataFrame):
            df = annotations
        else:
            df = load_annotations(annotations, keep_extra=False, executor=pool, keep_outputs=detect_cheating)
        if gamed is not None and not isinstance(gamed, pd.DataFrame):
            gamed = gamed_rows_from_annotations(load_annotations(gamed, keep_extra=False))
        # LC joins difficulty (and the gamed rows) on instruction text: one Unicode form for all of them
        df = nfc_instructions(df)
        gamed = None if gamed is None else nfc_instructions(gamed, "the gamed-baseline rows")
        lc = resolve_lc_inputs(df, difficulty, gamed)
        if not detect_cheating and "output_2" in df:
            df = df.drop(columns=["output_2"])
        groups = [part.reset_index(drop=True) for _, part in df.groupby("generator_2", sort=False)]
        refitted: list[str] = []
        if existing is not None:
            # a model already on the board is kept only while its annotations still give its row's counts
            # and win rate; new annotations for it refit it (and its stale row goes)
            refitted = [
                g["generator_2"].iloc[0]
                for g in groups
                if g["generator_2"].iloc[0] in existing.index
                and _stale(existing.loc[g["generator_2"].iloc[0]], g)
            ]
            existing = existing.drop(index=refitted)
            groups = [g for g in groups if g["generator_2"].iloc[0] not in existing.index]
        if pool is not None and len(groups) > 1:
            chunks = [groups[i::workers] for i in range(workers)]
            rows = [
                r
                for part in pool.map(
                    _rows_for,
                    chunks,
                    [lc] * workers,
                    [n_boot] * workers,
                    [seed] * workers,
                    [lc_solver] * workers,
                    [lc_alignment] * workers,
                )
                for r in part
            ]
        else:
            rows = _rows_for(groups, lc, n_boot, seed, lc_solver, lc_alignment)
    finally:
        if pool is not None:
            pool.shutdown()
    names = schema.csv_names()
    board = (pd.DataFrame(rows).set_index("model") if rows else pd.DataFrame(columns=names)).reindex(
        columns=names
    )
    if existing is not None:
        board = pd.concat([existing.reindex(columns=board.columns), board]) if len(board) else existing
    board = schema.sort_board(board)
    info = {
        "lc_difficulty": lc.source,
        "lc_inputs": lc.kind,
        "n_models": len(board),
        "n_fitted": len(rows),
        "refitted": refitted,
        "missing_preferences": {m: int(n) for m, n in board["n_missing"].items() if n and n > 0},
        "empty_outputs": {m: int(n) for m, n in board["n_empty_outputs"].items() if n and n > 0},
        "flagged": [m for m, f in board["cheating_flags"].items() if isinstance(f, str) and f],
        # model: (rows, LC joined by instruction) where the LC follows AlpacaEval's row-position lookup
        "row_position_lc": {
            m: (int(board.loc[m, "n_total"] + board.loc[m, "n_missing"]), float(v))
            for m, v in board["lc_by_instruction"].items()
            if pd.notna(v)
        },
    }
    return board, info


def read_leaderboard(path: str | Path) -> pd.DataFrame:
    """A leaderboard CSV as written by write_leaderboard (or AlpacaEval): model index, at least win_rate."""
    rows = read_records(path)
    if not rows or "win_rate" not in rows[0]:
        raise InputError(
            "not a leaderboard CSV (no win_rate column)",
            path=path,
            hint="pass a CSV written by `judgebench leaderboard --out` or AlpacaEval",
        )
    board = pd.read_csv(path, index_col=0)
    return numeric_columns(board, [c for c in schema.numeric_names() if c in board], path)


def write_leaderboard(board: pd.DataFrame, path: str | Path) -> None:
    from judgebench.files.atomic import atomic_writer

    board = schema.conform(board)  # the schema's columns in its order, then any others the frame carries
    with atomic_writer(path, newline="") as f:  # never leave a half-written leaderboard behind
        board.rename_axis(None).to_csv(f)  # AlpacaEval leaves the index column unnamed
