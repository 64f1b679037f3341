"""Pairs to judge: a candidate's records beside the baseline's, matched by instruction (single turn) or by
first turn (multi-turn conversations, one answer per turn), as `annotate_files`, `evaluate` and the
suite's dry run build them."""

from __future__ import annotations

from pathlib import Path

from judgebench.files.records import (
    InputError,
    check_not_the_baseline,
    check_same_instructions,
    load_outputs,
    normalise_instructions,
    read_records,
)
from judgebench.judges.protocols import Pair

# what an eval set's rows may add to a pair beyond the instruction (WildBench's prompt and statistic)
TASK_FIELDS = ("history", "checklist", "session_id", "groups", "references")
TASK_META = ("session_id", "groups", "references")  # the protocol's, and copied into each record


def with_task_fields(records: list[dict], data) -> list[dict]:
    """The candidate's records with the eval set's task fields (by instruction), where it has any."""
    extra = [c for c in TASK_FIELDS if c in data.columns]
    if not extra:
        return records
    by = data.drop_duplicates("instruction").set_index("instruction")[extra].to_dict("index")
    return [{**by.get(r["instruction"], {}), **r} for r in records]


def pairs_from_records(cand: list[dict], base_by: dict[str, dict] | None, multi_turn: bool) -> list[Pair]:
    """Pairs from candidate records and the baseline's records by instruction (None: no baseline,
    for single-answer grading). Multi-turn records carry `turns` and one answer per turn in `output`."""
    pairs = []
    for r in cand:
        b = (base_by or {}).get(r["instruction"], {})
        if multi_turn:
            c_out, b_out = list(r["output"] or []), list(b.get("output") or [])
            pairs.append(
                Pair(
                    r["instruction"],
                    "\n".join(b_out),
                    "\n".join(c_out),
                    b.get("generator", "none"),
                    r.get("generator", "candidate"),
                    r.get("dataset") or r.get("category"),
                    turns=r.get("turns") or [r["instruction"]],
                    baseline_turns=b_out,
                    candidate_turns=c_out,
                    reference=r.get("reference"),
                )
            )
        else:
            dataset = r.get("dataset") if isinstance(r.get("dataset"), str) else b.get("dataset")
            pairs.append(
                Pair(
                    r["instruction"],
                    b.get("output", "") if base_by is None else b["output"],  # None: graded alone
                    r["output"] or "",
                    b.get("generator", "none") if base_by is None else b["generator"],
                    r["generator"],
                    dataset,
                    history=r.get("history") or "",
                    checklist=list(r.get("checklist") or []),
                    meta={k: r[k] for k in TASK_META if k in r},
                )
            )
    return pairs


def pairs_from_files(outputs: str | Path, baseline: str | Path, multi_turn: bool) -> list[Pair]:
    if multi_turn:
        cand, base = _multi_turn_records(outputs), _multi_turn_records(baseline)
        missing = sorted(set(base) - set(cand))
        if missing:
            raise InputError(
                f"{len(missing)} questions of {baseline} have no answer in {outputs}: {missing[:3]}"
            )
        return pairs_from_records(list(cand.values()), base, multi_turn=True)
    cand, base = load_outputs(outputs), load_outputs(baseline)
    cand, base = normalise_instructions(cand, base, outputs, baseline)
    check_same_instructions(cand, base, str(outputs), str(baseline))
    check_not_the_baseline(cand, base, outputs, baseline)
    return pairs_from_records(
        cand.to_dict("records"), {r["instruction"]: r for r in base.to_dict("records")}, multi_turn=False
    )


def _multi_turn_records(path) -> dict[str, dict]:
    """Records with `turns` (the user's turns) and `output` as a list, one answer per turn; by first turn."""
    rows = read_records(path)
    for i, r in enumerate(rows):
        if (
            not isinstance(r.get("turns"), list)
            or not isinstance(r.get("output"), list)
            or len(r["turns"]) != len(r["output"])
        ):
            raise InputError(
                "multi-turn records need `turns` and `output` as lists of equal length",
                path=path,
                row=i,
                field="output",
            )
    return {r["turns"][0]: {**r, "instruction": r["turns"][0]} for r in rows}
