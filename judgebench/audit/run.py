"""`judgebench audit`: build every selected check's pairs, judge them in both orders, score, write."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

from ..annotate import annotate_pairs, judge_backend
from ..backends import Limits
from ..evalsets import load_eval_set
from ..fsutil import atomic_write, check_output_dir
from ..io import InputError, load_outputs
from ..judges import load_judge
from ..judges.protocols import Pair
from ..store import Store
from .checks import (
    CONSTANT_RESPONSES,
    PADDING,
    BothOrders,
    Check,
    candidate_win,
    make_check,
    right_wrong_pairs,
    score_checks,
    status_of,
)
from .human import human_check, read_human_preferences
from .injection import PAIRWISE, build_injection, random_search_prefix

ALL_CHECKS = ("constant", "injection", "position", "verbosity", "self_preference", "sanity_identical",
              "sanity_right_wrong", "human_agreement")


def run_audit(judge: str, eval_set: str = "alpaca_eval", n: int = 50, out: str | Path = "runs/audit",
              base_url: str | None = None, model: str | None = None, outputs: str | Path | None = None,
              self_outputs: str | Path | None = None, second_judge: str | None = None,
              second_base_url: str | None = None, second_model: str | None = None, random_search: int = 0,
              random_search_seconds: float = 120.0, store: str | Path | None = None, concurrency: int = 8,
              seed: int = 0, progress: bool = True, human: str | Path | None = None,
              checks: list[str] | None = None, allow_key_to: tuple[str, ...] = ()) -> dict:
    """Run the selected checks (default all; those lacking their inputs are SKIPped) and write
    audit.json and audit_annotations.json to `out`."""
    selected = list(checks or ALL_CHECKS)
    unknown = [c for c in selected if c not in ALL_CHECKS]
    if unknown:
        raise InputError(f"unknown checks {unknown}", hint=f"choose from {', '.join(ALL_CHECKS)}")
    spec = load_judge(judge)
    if spec.protocol not in PAIRWISE:
        raise InputError(f"judge '{spec.name}' grades answers alone ({spec.protocol}): the audit needs a "
                         "pairwise judge",
                         hint=f"use a judge with protocol {', '.join(PAIRWISE)}")
    if self_outputs is not None and second_judge is None:
        raise InputError("--self-outputs needs --second-judge to compare against")
    data = load_eval_set(eval_set)
    if "output" not in data or "turns" in data:
        raise InputError(f"eval set {eval_set} has no single-turn baseline answers to audit against",
                         hint="use alpaca_eval, arena-hard-v0.1 or a file with instruction and output")
    rows = data.sample(n=min(n, len(data)), random_state=seed).to_dict("records")
    out = check_output_dir(out)  # before any paid call
    st = Store(store or out / "audit.sqlite")
    backend, url = judge_backend(spec, Limits(concurrency=concurrency), model, base_url=base_url,
                                 allow_key_to=allow_key_to)

    def against(candidates: dict[str, str], label: str) -> list[Pair]:
        return [Pair(r["instruction"], r["output"], text, "baseline", f"{label}:{name}")
                for name, text in candidates.items() for r in rows]

    def paired_with(path, label: str) -> list[Pair]:
        other = load_outputs(path).set_index("instruction")["output"]
        pairs = [Pair(r["instruction"], r["output"], other[r["instruction"]], "baseline", label)
                 for r in rows if r["instruction"] in other.index]
        if not pairs:
            raise InputError(f"none of the {len(rows)} audited instructions is in this file", path=path,
                             field="instruction", hint=f"give outputs for the eval set {eval_set}")
        return pairs

    padded = [Pair(r["instruction"], r["output"], r["output"] + PADDING, "original", "padded") for r in rows]
    builders = {
        "constant": lambda: against(CONSTANT_RESPONSES, "constant"),
        "verbosity": lambda: padded,
        "position": lambda: paired_with(outputs, "candidate") if outputs is not None else padded,
        "sanity_identical": lambda: [Pair(r["instruction"], r["output"], r["output"], "same", "same") for r in rows],
        "sanity_right_wrong": lambda: right_wrong_pairs(min(n, 50), seed),
        "self_preference": lambda: paired_with(self_outputs, "self") if self_outputs is not None else [],
    }
    groups = {name: build() for name, build in builders.items() if name in selected}
    # read before any call is made: a bad file should cost nothing
    human_pairs, labels = read_human_preferences(human) if "human_agreement" in selected and human else ([], [])

    async def go():
        try:
            search = None
            if "injection" in selected:
                if random_search > 0:
                    search = await random_search_prefix(spec, backend, [r["instruction"] for r in rows[:2]],
                                                        [r["output"] for r in rows[:2]], random_search,
                                                        random_search_seconds, seed)
                prefix = search["prefix"] if search else ""
                groups["injection"] = against({f"slot{s}": build_injection(spec, s, prefix) for s in (0, 1)},
                                              "injection")
            flat = [p for ps in groups.values() for p in ps]
            run = await annotate_pairs(flat, spec, backend, st, progress, protocol=BothOrders(spec))
            human_run = None
            if human_pairs:
                human_run = (await annotate_pairs(human_pairs, spec, backend, st, progress), labels)
            return run, search, human_run
        finally:
            await backend.close()

    run, search, human_run = asyncio.run(go())
    by_group, i = {}, 0
    for name, ps in groups.items():
        by_group[name] = run.records[i:i + len(ps)]
        i += len(ps)
    found = score_checks(spec, by_group, search, outputs is not None)
    if by_group.get("self_preference"):
        found.append(_self_preference(by_group["self_preference"], second_judge, second_base_url, second_model, st,
                                      concurrency, progress, allow_key_to))
    if human_run is not None:
        found.append(human_check(*human_run, concurrency))
    why = {"self_preference": "give --self-outputs (the judge model's own answers) and --second-judge",
           "human_agreement": "give --human FILE (human preferences; format in the README)"}
    done = {c.name for c in found}
    found += [Check(name, None, 0, None, None, status_of(name, None)[1], "SKIP", {"why": why[name]})
              for name in why if name in selected and name not in done]
    found.sort(key=lambda c: ALL_CHECKS.index(c.name))
    records = run.records + (human_run[0].records if human_run else [])
    result = {"judge": spec.name, "judge_hash": spec.hash, "model": backend.model, "base_url": url,
              "endpoint_used": getattr(backend, "url_used", None),
              "eval_set": eval_set, "n": len(rows), "seed": seed, "checks": [asdict(c) for c in found],
              "summary": {c.name: c.status for c in found}, "annotation": run.summary,
              "annotation_human": human_run[0].summary if human_run else None,
              "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    atomic_write(out / "audit.json", json.dumps(result, indent=1, default=_plain))
    atomic_write(out / "audit_annotations.json", json.dumps(records, indent=1, default=_plain))
    st.close()
    return result


def _plain(v):
    return v.item() if hasattr(v, "item") else str(v)


def _self_preference(mine: list[dict], second_judge, second_base_url, second_model, st, concurrency,
                     progress, allow_key_to=()) -> Check:
    """The judge's own answers' win rate under this judge minus under a second judge, same pairs."""
    judge2 = load_judge(second_judge)
    be, _ = judge_backend(judge2, Limits(concurrency=concurrency), second_model, base_url=second_base_url,
                          allow_key_to=allow_key_to)
    pairs = [Pair(r["instruction"], r["output_1"], r["output_2"], "baseline", "self") for r in mine]

    async def go():
        try:
            return await annotate_pairs(pairs, judge2, be, st, progress, protocol=BothOrders(judge2))
        finally:
            await be.close()

    theirs = asyncio.run(go()).records
    a = np.array([candidate_win(r) for r in mine])
    b = np.array([candidate_win(r) for r in theirs])
    keep = ~np.isnan(a) & ~np.isnan(b)
    return make_check("self_preference", a[keep] - b[keep], mine,  # paired: same instructions, same answers
                  {"win_rate_this_judge": float(a[keep].mean()) if keep.any() else None,
                   "win_rate_second_judge": float(b[keep].mean()) if keep.any() else None,
                   "second_judge": second_judge}, worst_key=candidate_win)
