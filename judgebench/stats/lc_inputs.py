"""Where the LC GLM's inputs come from: per-instruction difficulty and the gamed baselines' rows.

In this order: the difficulty (and gamed annotations) the caller gives; AlpacaEval's own files (a folder
named by $JUDGEBENCH_ALPACAEVAL_LC_DIR, or the local Hugging Face cache); the AlpacaEval 2.0 estimates
shipped with judgebench when every instruction belongs to that set; a joint fit over the given models (any
eval set, at least two models); else none, and the LC column is left empty with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from judgebench.errors import InputError
from judgebench.files.records import numeric_columns, read_records
from judgebench.files.textforms import nfc_instructions
from judgebench.stats import alpacaeval_lc
from judgebench.stats.difficulty import estimate_difficulty, instruction_key


@dataclass
class LCInputs:
    difficulty: pd.Series | None  # indexed by instruction text
    gamed: pd.DataFrame | None  # generator, instruction, std_delta_len, preference
    source: str  # how the difficulty was obtained, for the report
    kind: str = (
        "estimated"  # the `lc_inputs` column: official, given, judgebench estimate (held-out error), ...
    )
    official: bool = False  # AlpacaEval's own files: the LC is exact with the liblinear solver
    correction: dict | None = None  # shipped estimate only: alpacaeval_lc.correct_lc undoes its attenuation
    # AlpacaEval 2.0's inputs (official or shipped), whose difficulty index is the eval set's canonical
    # order: AlpacaEval looks difficulty up by that row order (`alpacaeval_lc.row_position_difficulty`)
    canonical_order: bool = False

    @property
    def solver(self) -> str:
        """liblinear with AlpacaEval's own inputs (its LC exactly), else the fast exact optimum."""
        return "liblinear" if self.official else "fast"

    def corrected(self, lc_percent, win_rate_percent):
        """LC (percent; a number or an array of bootstrap values) as reported: through the shipped
        estimate's correction (`alpacaeval_lc.correct_lc`), unchanged for any other inputs."""
        if self.correction is None:
            return lc_percent
        return alpacaeval_lc.correct_lc(lc_percent, win_rate_percent, self.correction)


def read_difficulty(path: str | Path) -> pd.Series:
    """CSV with columns instruction, instruction_difficulty (or instruction_key, as judgebench ships)."""
    rows = pd.DataFrame(read_records(path))
    key = "instruction" if "instruction" in rows else "instruction_key" if "instruction_key" in rows else None
    if key is None or "instruction_difficulty" not in rows:
        raise InputError(
            "needs the columns instruction, instruction_difficulty",
            path=path,
            hint="one row per instruction of the eval set",
        )
    values = numeric_columns(rows, ["instruction_difficulty"], path, allow_missing=False)[
        "instruction_difficulty"
    ]
    index = rows[key].to_numpy()
    if key == "instruction":  # joined on text: in the form the annotations are joined in (NFC)
        index = nfc_instructions(rows[[key]], str(path))[key].to_numpy()
    return pd.Series(values.to_numpy(float), index=index)


def resolve_lc_inputs(
    annotations: pd.DataFrame, difficulty: pd.Series | None = None, gamed: pd.DataFrame | None = None
) -> LCInputs:
    """The LC inputs, in this order: the difficulty the caller gives; AlpacaEval's own files (a folder
    named by $JUDGEBENCH_ALPACAEVAL_LC_DIR, or the local Hugging Face cache); judgebench's shipped
    AlpacaEval 2.0 estimate; a joint fit over the given models."""
    instructions = annotations["instruction"]
    official = alpacaeval_lc.official_inputs_for(instructions) if difficulty is None else None
    if official is not None:
        return LCInputs(
            official[0],
            official[1] if gamed is None else gamed,
            official[2],
            "official",
            True,
            canonical_order=True,
        )
    shipped = alpacaeval_lc.inputs_for(instructions)
    correction, canonical = None, False
    if difficulty is not None:
        text_of = {instruction_key(t): t for t in pd.unique(instructions)}
        difficulty = difficulty.rename(index=lambda k: text_of.get(k, k))  # keyed files, as judgebench ships
        source, kind = "given", "given"
    elif shipped is not None:
        difficulty, canonical = shipped[0], True
        held_out = alpacaeval_lc.ESTIMATE_HELD_OUT
        kind = f"judgebench estimate (held-out MAE {held_out['mae']:.2f}, max {held_out['max']:.2f})"
        source = (
            f"judgebench's AlpacaEval 2.0 estimate (AlpacaEval's own files not found; expected error on a "
            f"new model by leave-models-out: MAE {held_out['mae']:.2f}, max {held_out['max']:.2f} LC "
            f"points; set {alpacaeval_lc.LC_DIR_ENV} for exact LC)"
        )
        if gamed is None:
            correction = alpacaeval_lc.load_correction()
        else:  # the held-out figure is for the shipped stand-ins with the correction
            kind = "judgebench difficulty estimate, given gamed rows (no held-out figure)"
    else:
        n_models = (
            (annotations["generator_1"] != annotations["generator_2"])
            .groupby(annotations["generator_2"])
            .any()
        )
        if n_models.sum() < 2:
            return LCInputs(
                None,
                None,
                "none: not the AlpacaEval set and fewer than 2 models to estimate from (pass --difficulty)",
                "none",
            )
        difficulty = estimate_difficulty(annotations)
        source = f"joint fit over the {int(n_models.sum())} given models"
        kind = "joint fit over the given models"
    if gamed is None and shipped is not None:
        gamed = shipped[1]
        source += "; gamed baselines: judgebench's stand-ins"
    return LCInputs(difficulty, gamed, source, kind, correction=correction, canonical_order=canonical)
