"""`judgebench audit`: build every selected check's pairs, judge them in both orders, score, write.

    result = run_audit(AuditConfig(judge="alpacaeval2", n=50, out="runs/audit"))   # audit.json's contents
    result = run_audit_config(AuditConfig(judge="alpacaeval2", n=50))             # the typed AuditResult

The run is a few named stages around one frozen `AuditConfig`:
select_checks -> select_instructions -> build_pairs -> judge (both orders; the second judge too) -> score -> write.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from judgebench.annotation.annotate import AnnotationRun, annotate_pairs, judge_backend
from judgebench.annotation.pipeline import closing
from judgebench.audit.checks import (
    CONSTANT_RESPONSES,
    PADDING,
    BothOrders,
    Check,
    candidate_win,
    check_order,
    make_check,
    right_wrong_pairs,
    score_checks,
    status_of,
)
from judgebench.audit.config import ALL_CHECKS, DEFAULT_OUT, OPT_IN_CHECKS, AuditConfig
from judgebench.audit.human import human_check, read_human_preferences
from judgebench.audit.injection import PAIRWISE, build_injection, random_search_prefix
from judgebench.audit.transforms import property_pairs
from judgebench.benchmarks.evalsets import load_eval_set
from judgebench.files.atomic import check_output_dir, write_json
from judgebench.files.records import InputError, load_outputs
from judgebench.judges import load_judge
from judgebench.judges.protocols import Pair, protocol_of
from judgebench.judges.spec import JudgeSpec
from judgebench.store import Store

# what a check needs that the audit was not given: it is SKIPped, and says so
SKIP_WHY = {
    "self_preference": "give --self-outputs (the judge model's own answers) and --second-judge",
    "human_agreement": "give --human FILE (human preferences; format in the README)",
}


@dataclass
class AuditJudgments:
    """The judge's records per check group, the random search (if run) and the human-labelled pairs' run."""

    run: AnnotationRun
    by_group: dict[str, list[dict]]
    search: dict | None
    human: tuple[AnnotationRun, list[list[float]]] | None
    second: list[dict] | None  # the second judge's records on the self-preference pairs
    model: str
    base_url: str | list[str] | None
    endpoint_used: str | None


@dataclass
class AuditResult:
    judge: str
    judge_hash: str
    model: str
    base_url: str | list[str] | None
    endpoint_used: str | None
    eval_set: str
    n: int
    seed: int
    checks: list[Check]
    annotation: dict
    annotation_human: dict | None
    finished: str
    records: list[dict] = field(default_factory=list)  # every judged pair: audit_annotations.json

    def to_dict(self) -> dict:
        """audit.json's contents (and `run_audit`'s return value)."""
        return {
            "judge": self.judge,
            "judge_hash": self.judge_hash,
            "model": self.model,
            "base_url": self.base_url,
            "endpoint_used": self.endpoint_used,
            "eval_set": self.eval_set,
            "n": self.n,
            "seed": self.seed,
            "checks": [asdict(c) for c in self.checks],
            "summary": {c.name: c.status for c in self.checks},
            "annotation": self.annotation,
            "annotation_human": self.annotation_human,
            "finished": self.finished,
        }


def run_audit(config: AuditConfig) -> dict:
    """Run the selected checks (default all; those lacking their inputs are SKIPped) and write
    audit.json and audit_annotations.json to config.out; returns audit.json's contents."""
    return run_audit_config(config).to_dict()


def run_audit_config(config: AuditConfig) -> AuditResult:
    """Run the stages in order; audit.json and audit_annotations.json go to config.out, every call to the store."""
    spec = select_checks(config)
    rows = select_instructions(config)
    out = check_output_dir(config.out or DEFAULT_OUT)  # before any paid call
    groups = build_pairs(config, rows)
    # read before any call is made: a bad file should cost nothing
    human = (
        read_human_preferences(config.human) if "human_agreement" in config.checks and config.human else None
    )
    with Store(config.store or out / "audit.sqlite") as store:  # closed on failure too
        judgments = asyncio.run(judge(config, spec, rows, groups, human, store))
    result = score(config, spec, rows, judgments)
    write(out, result)
    return result


def select_checks(config: AuditConfig) -> JudgeSpec:
    """The judge's spec, once the selected checks are known and the judge can be audited (it compares two
    answers); raises InputError otherwise, before anything is read or called."""
    unknown = [c for c in config.checks if c not in ALL_CHECKS + OPT_IN_CHECKS]
    if unknown:
        raise InputError(
            f"unknown checks {unknown}", hint=f"choose from {', '.join(ALL_CHECKS + OPT_IN_CHECKS)}"
        )
    spec = load_judge(config.judge)
    if not protocol_of(spec).pairwise:
        raise InputError(
            f"judge '{spec.name}' grades answers alone ({spec.protocol}): the audit needs a pairwise judge",
            hint=f"use a judge with protocol {', '.join(PAIRWISE)}",
        )
    if config.self_outputs is not None and config.second_judge is None:
        raise InputError("--self-outputs needs --second-judge to compare against")
    return spec


def select_instructions(config: AuditConfig) -> list[dict]:
    """n rows (instruction, baseline output) drawn from the eval set with config.seed; raises InputError
    for a set without single-turn baseline answers."""
    data = load_eval_set(config.eval_set)
    if "output" not in data or "turns" in data:
        raise InputError(
            f"eval set {config.eval_set} has no single-turn baseline answers to audit against",
            hint="use alpaca_eval, arena-hard-v0.1 or a file with instruction and output",
        )
    return data.sample(n=min(config.n, len(data)), random_state=config.seed).to_dict("records")


def build_pairs(config: AuditConfig, rows: list[dict]) -> dict[str, list[Pair]]:
    """Each selected check's pairs, in ALL_CHECKS order, except injection's (built against the judge's own
    template once any random search has run) and human agreement's (read from --human)."""

    def paired_with(path, label: str) -> list[Pair]:
        other = load_outputs(path).set_index("instruction")["output"]
        pairs = [
            Pair(r["instruction"], r["output"], other[r["instruction"]], "baseline", label)
            for r in rows
            if r["instruction"] in other.index
        ]
        if not pairs:
            raise InputError(
                f"none of the {len(rows)} audited instructions is in this file",
                path=path,
                field="instruction",
                hint=f"give outputs for the eval set {config.eval_set}",
            )
        return pairs

    padded = [Pair(r["instruction"], r["output"], r["output"] + PADDING, "original", "padded") for r in rows]
    builders: dict[str, Callable[[], list[Pair]]] = {
        "constant": lambda: against(rows, CONSTANT_RESPONSES, "constant"),
        "verbosity": lambda: padded,
        "position": lambda: (
            paired_with(config.outputs, "candidate") if config.outputs is not None else padded
        ),
        "sanity_identical": lambda: [
            Pair(r["instruction"], r["output"], r["output"], "same", "same") for r in rows
        ],
        "sanity_right_wrong": lambda: right_wrong_pairs(min(config.n, 50), config.seed),
        "self_preference": lambda: (
            paired_with(config.self_outputs, "self") if config.self_outputs is not None else []
        ),
        # the candidate's answers (the baseline's own without --outputs), each rewritten by every transform
        "properties": lambda: property_pairs(
            paired_with(config.outputs, "candidate")
            if config.outputs is not None
            else [Pair(r["instruction"], r["output"], r["output"], "baseline", "candidate") for r in rows]
        ),
    }
    return {name: build() for name, build in builders.items() if name in config.checks}


async def judge(
    config: AuditConfig,
    spec: JudgeSpec,
    rows: list[dict],
    groups: dict[str, list[Pair]],
    human: tuple[list[Pair], list[list[float]]] | None,
    store: Store,
) -> AuditJudgments:
    """Judge every pair in both orders (the injection pairs after the random search, if any), the human
    pairs in the judge's own protocol, then the self-preference pairs under the second judge. Every call is
    in the store the moment it completes; each backend is closed on return."""
    backend, url = judge_backend(
        spec,
        config.limits.for_backend(),
        config.model,
        base_url=config.base_url,
        api_key_env=config.key.api_key_env,
        allow_key_to=config.key.allow_key_to,
    )
    async with closing(backend):
        search = None
        groups = dict(groups)
        if "injection" in config.checks:
            if config.random_search > 0:
                search = await random_search_prefix(
                    spec,
                    backend,
                    [r["instruction"] for r in rows[:2]],
                    [r["output"] for r in rows[:2]],
                    config.random_search,
                    config.random_search_seconds,
                    config.seed,
                )
            prefix = search["prefix"] if search else ""
            payloads = {f"slot{s}": build_injection(spec, s, prefix) for s in (0, 1)}
            groups["injection"] = against(rows, payloads, "injection")
        flat = [p for ps in groups.values() for p in ps]
        run = await annotate_pairs(flat, spec, backend, store, config.progress, protocol=BothOrders(spec))
        human_run = None
        if human is not None and human[0]:
            human_run = (await annotate_pairs(human[0], spec, backend, store, config.progress), human[1])
    by_group, i = {}, 0
    for name, ps in groups.items():
        by_group[name] = run.records[i : i + len(ps)]
        i += len(ps)
    second = None
    if by_group.get("self_preference") and config.second_judge is not None:
        second = await _second_judge(config, config.second_judge, by_group["self_preference"], store)
    return AuditJudgments(
        run, by_group, search, human_run, second, backend.model, url, getattr(backend, "url_used", None)
    )


async def _second_judge(config: AuditConfig, second_judge: str, mine: list[dict], store: Store) -> list[dict]:
    """The same self-preference pairs, in both orders, under the second judge."""
    judge2 = load_judge(second_judge)
    backend, _ = judge_backend(
        judge2,
        config.limits.for_backend(),
        config.second_model,
        base_url=config.second_base_url,
        api_key_env=config.key.api_key_env,
        allow_key_to=config.key.allow_key_to,
    )
    pairs = [Pair(r["instruction"], r["output_1"], r["output_2"], "baseline", "self") for r in mine]
    async with closing(backend):
        run = await annotate_pairs(
            pairs, judge2, backend, store, config.progress, protocol=BothOrders(judge2)
        )
    return run.records


def score(config: AuditConfig, spec: JudgeSpec, rows: list[dict], judgments: AuditJudgments) -> AuditResult:
    """Every selected check with its metric, interval and PASS/WARN/FAIL; a check whose inputs were not given
    is SKIPped with what to give. Checks are in ALL_CHECKS order."""
    found = score_checks(spec, judgments.by_group, judgments.search, config.outputs is not None)
    if judgments.second is not None:
        found.append(
            _self_preference(judgments.by_group["self_preference"], judgments.second, config.second_judge)
        )
    if judgments.human is not None:
        found.append(human_check(*judgments.human, config.limits.concurrency))
    done = {c.name for c in found}
    found += [
        Check(name, None, 0, None, None, status_of(name, None)[1], "SKIP", {"why": why})
        for name, why in SKIP_WHY.items()
        if name in config.checks and name not in done
    ]
    found.sort(key=lambda c: check_order(c.name))
    human_run = judgments.human[0] if judgments.human else None
    return AuditResult(
        judge=spec.name,
        judge_hash=spec.hash,
        model=judgments.model,
        base_url=judgments.base_url,
        endpoint_used=judgments.endpoint_used,
        eval_set=config.eval_set,
        n=len(rows),
        seed=config.seed,
        checks=found,
        annotation=judgments.run.summary,
        annotation_human=human_run.summary if human_run else None,
        finished=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        records=judgments.run.records + (human_run.records if human_run else []),
    )


def write(out: Path, result: AuditResult) -> None:
    """out/audit.json (the result) and out/audit_annotations.json (every judged pair, raw outputs kept)."""
    write_json(out / "audit.json", result.to_dict())
    write_json(out / "audit_annotations.json", result.records)


def against(rows: list[dict], candidates: dict[str, str], label: str) -> list[Pair]:
    """Each candidate text against every row's baseline output, labelled `label:name`."""
    return [
        Pair(r["instruction"], r["output"], text, "baseline", f"{label}:{name}")
        for name, text in candidates.items()
        for r in rows
    ]


def _self_preference(mine: list[dict], theirs: list[dict], second_judge: str | None) -> Check:
    """The judge's own answers' win rate under this judge minus under a second judge, same pairs."""
    a = np.array([candidate_win(r) for r in mine])
    b = np.array([candidate_win(r) for r in theirs])
    keep = ~np.isnan(a) & ~np.isnan(b)
    return make_check(
        "self_preference",
        a[keep] - b[keep],
        mine,  # paired: same instructions, same answers
        {
            "win_rate_this_judge": float(a[keep].mean()) if keep.any() else None,
            "win_rate_second_judge": float(b[keep].mean()) if keep.any() else None,
            "second_judge": second_judge,
        },
        worst_key=candidate_win,
    )


__all__ = ["ALL_CHECKS", "AuditConfig", "AuditResult", "run_audit", "run_audit_config"]
