"""The suite's dry run: what `run_suite(models, config)` would cost (calls, tokens, USD, time) before any
call is made, counted with the same judge-call recipe the run uses (annotation.calls) and nothing written.

    estimate = plan_suite(models, SuiteConfig(out="suite"))
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from judgebench.benchmarks.registry import all_benchmarks, get
from judgebench.runs.config import SuiteConfig
from judgebench.runs.models import ModelSpec, generation_model_key
from judgebench.runs.suite import resolve_judges


def _benchmark_data(benchmark: str, max_instances: int | None) -> pd.DataFrame:
    from judgebench.benchmarks.evalsets import load_named

    data = load_named(get(benchmark))
    return data.head(max_instances) if max_instances is not None else data


def _candidate_records(m: ModelSpec, benchmark: str, data: pd.DataFrame, store) -> list[dict | None]:
    """Per instruction, the record `evaluate` will judge when it is known already (an outputs file, or
    generations in the store), else None."""
    from judgebench.files.records import load_outputs
    from judgebench.generation.generate import _messages, generation_key

    multi = "turns" in data.columns
    outputs = m.outputs_for(benchmark)
    if outputs is not None:
        cand = load_outputs(outputs)
        by = {r["instruction"]: r for r in cand.to_dict("records")}
        return [by.get(i) for i in data["instruction"]]
    model_key = generation_model_key(m)
    records: list[dict | None] = []
    for r in data.to_dict("records"):
        turns = r["turns"] if multi else [r["instruction"]]
        answers: list[str] = []
        for t in range(len(turns)):
            key = generation_key(model_key, m.sampling, _messages(m.sampling, turns[: t + 1], answers))
            g = store.get_generations([key]).get(key)
            if not g or g["status"] != "ok":
                break
            answers.append(g["output"])
        if len(answers) < len(turns):
            records.append(None)
            continue
        rec: dict[str, Any] = {
            "instruction": r["instruction"],
            "output": answers if multi else answers[0],
            "generator": m.name,
            "dataset": r.get("dataset"),
        }
        if multi:
            rec["turns"] = turns
            if r.get("reference"):
                rec["reference"] = r["reference"]
        records.append(rec)
    return records


def estimate_run(
    m: ModelSpec,
    benchmark: str,
    spec,
    data: pd.DataFrame,
    store,
    tokenizer,
    judge_model: str | None,
    concurrency: int,
    limits: dict,
    batch: bool,
    seen: set | None = None,
):
    """The judge calls this (model, benchmark) still needs, their tokens and price. Exact where the
    candidate's outputs are known; else each answer is assumed to run to the generation's max_tokens.
    `seen`: call keys already counted for another model (two models with the same generator and sampling
    write the same answers, and their judge calls are made once)."""
    from judgebench.annotation.calls import judge_model_name
    from judgebench.annotation.cost import estimate_calls
    from judgebench.annotation.pairs import pairs_from_records, with_task_fields

    multi = "turns" in data.columns
    base_by = None if "output" not in data.columns else {r["instruction"]: r for r in data.to_dict("records")}
    known = _candidate_records(m, benchmark, data, store)
    # About one token a word: the longest answer allowed; tagged with the generator and its sampling, so
    # that only models bound to write the same answers share judge calls.
    from judgebench.generation.generate import generation_key

    tag = (
        generation_key(generation_model_key(m), m.sampling, [])[:8]
        if m.outputs_for(benchmark) is None
        else ""
    )
    placeholder = f"[{tag}]" + " word" * m.sampling.max_tokens
    records, exact, generations = [], [], 0
    for r, k in zip(data.to_dict("records"), known, strict=True):
        if k is not None:
            records.append(k)
            exact.append(True)
            continue
        turns = r["turns"] if multi else [r["instruction"]]
        if m.outputs_for(benchmark) is None:  # an answer the model has yet to write, one per turn
            generations += len(turns)
        rec = {
            "instruction": r["instruction"],
            "output": [placeholder] * len(turns) if multi else placeholder,
            "generator": m.name,
            "dataset": r.get("dataset"),
            "turns": turns,
            "reference": r.get("reference"),
        }
        records.append(rec)
        exact.append(False)
    # the eval set's task fields too (WildBench: history, checklist, reference models' answers)
    pairs = pairs_from_records(with_task_fields(records, data), base_by, multi)
    # the calls the run would send for these pairs (annotation.calls: the run's own recipe)
    est = estimate_calls(
        spec,
        pairs,
        judge_model_name(spec, judge_model),
        store,
        tokenizer,
        exact,
        seen,
        batch,
        concurrency,
        limits,
    )
    est.generations = generations
    if not all(exact):
        est.notes.insert(0, "outputs not generated yet: their judge prompts assume answers of max_tokens")
    return est


def plan_suite(models: list[ModelSpec], config: SuiteConfig | None = None) -> dict:
    """The dry run of `run_suite(models, config)`: no call is made, nothing is written.
    {"calls", "input_tokens", "output_tokens", "usd", "per_benchmark", ...}; the rate limits and
    judge_concurrency shape only the time estimate."""
    from judgebench.annotation.calls import judge_model_name
    from judgebench.annotation.cost import Estimate, judge_tokenizer
    from judgebench.store import Store

    config = config or SuiteConfig()
    judge = list(config.judge) if config.judge else None
    judge_model, max_instances, batch = config.judge_model, config.max_instances, config.batch
    concurrency = config.judge_concurrency
    limits = {
        "requests_per_minute": config.limits.requests_per_minute,
        "tokens_per_minute": config.limits.tokens_per_minute,
    }
    benchmarks = list(config.benchmarks or [n for n, b in all_benchmarks().items() if b.suite_default])
    judges = resolve_judges(benchmarks, judge)
    out = Path(config.out)
    store_path = out / "store.sqlite"
    # Reading a store that is not there would create it: a dry run on a fresh folder writes nothing.
    store = Store(store_path) if store_path.exists() else _EmptyStore()
    total, per_benchmark, per_run = Estimate(), {}, {}
    try:
        for b in benchmarks:
            spec = judges[b]
            tokenizer = judge_tokenizer(spec, judge_model)
            data = _benchmark_data(b, max_instances)
            est_b, seen = Estimate(), set[str]()
            for m in models:
                est = estimate_run(
                    m, b, spec, data, store, tokenizer, judge_model, concurrency, limits, batch, seen
                )
                per_run[f"{m.name}/{b}"] = est.as_dict()
                est_b.add(est)
            d = est_b.as_dict()
            d.update(
                judge=spec.name,
                judge_model=judge_model_name(spec, judge_model),
                tokenizer=tokenizer.name,
                price=spec.price,
                batch=batch,
            )
            per_benchmark[b] = d
            total.add(est_b)
    finally:
        store.close()
    result = total.as_dict()
    result.update(per_benchmark=per_benchmark, per_run=per_run)
    if config.gold_judge is not None:  # its pairs are drawn from the run's own judgments: not priced here
        result["notes"] = [
            *result["notes"],
            f"not counted: up to {config.gold_budget} calls of the gold judge {config.gold_judge} per pairwise run",
        ]
    return result


class _EmptyStore:
    def get_many(self, keys):
        return {}

    def get_generations(self, keys):
        return {}

    def close(self):
        pass


def format_plan(plan: dict) -> str:
    lines = [
        f"{'benchmark':<18} {'judge':<16} {'calls':>7} {'cached':>7} {'input tok':>11} {'output tok':>11} "
        f"{'USD':>10} {'time':>9}"
    ]
    for b, d in plan["per_benchmark"].items():
        lines.append(
            f"{b:<18} {d['judge']:<16} {d['calls']:>7} {d['cached_calls']:>7} {d['input_tokens']:>11} "
            f"{d['output_tokens']:>11} {d['usd']:>10.4f} {_duration(d['expected_seconds']):>9}"
        )
    lines.append(
        f"{'total':<18} {'':<16} {plan['calls']:>7} {plan['cached_calls']:>7} {plan['input_tokens']:>11} "
        f"{plan['output_tokens']:>11} {plan['usd']:>10.4f} {_duration(plan['expected_seconds']):>9}"
    )
    lines.append(f"generations still to make: {plan['generations']} (not judge calls; not priced)")
    lines.append("output tokens and USD are upper bounds (every judge reply at its max_tokens)")
    lines += [f"note: {n}" for n in plan["notes"]]
    return "\n".join(lines)


def _duration(seconds: float) -> str:
    return (
        f"{seconds:.0f}s"
        if seconds < 120
        else f"{seconds / 60:.0f}min"
        if seconds < 7200
        else f"{seconds / 3600:.1f}h"
    )
