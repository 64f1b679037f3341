"""The paper's table in one run: several checkpoints x AlpacaEval 2.0, Arena-Hard and MT-Bench.

    models = parse_models(["ckpt-a.gguf", "sft@http://127.0.0.1:8000/v1", "runs.yaml"])  # runs/models.py
    estimate = plan_suite(models, SuiteConfig(out="suite"))    # the cost, no call made: runs/plan.py
    result = run_suite(models, SuiteConfig(out="suite", reference="sft"))  # table.csv/.md/.tex, report.html

Each (model, benchmark) is one `evaluate` run (generate, judge, store) in `out/runs/<model>/<benchmark>/`,
all on one store (`out/store.sqlite`), so a rerun pays for nothing twice. Each benchmark is then scored
by its own statistic, as its module in judgebench/benchmarks/ declares it (with the judges that fit it,
its table columns and its report section); nothing here knows one benchmark from another. With a
reference model, each model's difference from it on every benchmark is tested paired over instructions
and the p-values are Holm-adjusted across the table.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from judgebench.benchmarks.base import Results
from judgebench.benchmarks.registry import all_benchmarks, get
from judgebench.errors import CheckFailed, InputError
from judgebench.files.atomic import atomic_write, check_output_dir, write_json
from judgebench.files.records import read_json
from judgebench.judges.protocols import protocol_of
from judgebench.progress import Progress
from judgebench.runs.config import EvaluateConfig, SuiteConfig
from judgebench.runs.models import ModelSpec, model_manifest


def resolve_judges(benchmarks: list[str], judge: list[str] | None):
    """{benchmark: JudgeSpec}. Default: each benchmark's standard judge; `local`: the embedded judge
    that fits each; NAME for all; BENCH=NAME for one."""
    from judgebench.judges import load_judge

    declared = {b: get(b) for b in benchmarks}
    chosen = {b: declared[b].judge for b in benchmarks}
    for item in judge or []:
        bench, _, name = item.partition("=") if "=" in item else ("", "", item)
        targets = [bench] if bench else benchmarks
        if bench and bench not in chosen:
            raise InputError(f"--judge {item}: {bench} is not among the benchmarks run", field="--judge")
        for b in targets:
            chosen[b] = declared[b].local_judge if name == "local" else name
    judges = {b: load_judge(name) for b, name in chosen.items()}
    for b, spec in judges.items():  # checked before any run starts, not when the run reaches it
        if declared[b].multi_turn != protocol_of(spec).multi_turn:
            turns = "multi-turn" if declared[b].multi_turn else "single-turn"
            raise InputError(
                f"judge {spec.name} ({spec.protocol}) does not fit {b}",
                field="--judge",
                hint=f"{b} needs a {turns} judge (its standard one: {declared[b].judge}); "
                "multi-turn benchmarks need a multi-turn judge and only they do; "
                "choose one benchmark's judge with BENCH=NAME",
            )
    return judges


def resolve_protocols(benchmarks: list[str], protocol: list[str] | None) -> dict[str, str | None]:
    """{benchmark: version of its official statistic}, for the benchmarks that declare versions.
    Default: each one's first (the current official); VERSION for all that have it; BENCH=VERSION for one."""
    declared = {b: get(b) for b in benchmarks}
    versions = {b: d.official.protocols if d.official else () for b, d in declared.items()}
    chosen = {b: (v[0] if v else None) for b, v in versions.items()}
    for item in protocol or []:
        bench, _, name = item.partition("=") if "=" in item else ("", "", item)
        if bench:  # as the benchmarks were named (an alias such as arena-hard included)
            canonical = {d.name: b for b, d in declared.items()}
            bench = canonical.get(get(bench, where="--protocol").name, bench)
        if bench and bench not in chosen:
            raise InputError(
                f"--protocol {item}: {bench} is not among the benchmarks run", field="--protocol"
            )
        targets = [bench] if bench else [b for b in benchmarks if name in versions[b]]
        if not targets:
            raise InputError(
                f"--protocol {item}: no benchmark run has the version {name!r}",
                field="--protocol",
                hint="versions: "
                + ("; ".join(f"{b}: {', '.join(v)}" for b, v in versions.items() if v) or "none"),
            )
        for b in targets:
            if name not in versions[b]:
                raise InputError(
                    f"--protocol {item}: {b} has no version {name!r}",
                    field="--protocol",
                    hint="choose one of: " + (", ".join(versions[b]) or "none"),
                )
            chosen[b] = name
    return chosen


def _run_dir(out: Path, model: str, benchmark: str) -> Path:
    return out / "runs" / model / benchmark


# -- the run -------------------------------------------------------------------------------------


def run_suite(models: list[ModelSpec], config: SuiteConfig | None = None) -> dict:
    """Each (model, benchmark) through `evaluate` on one store, then the table. The rate limits, timeout
    and retries apply to every run's calls, as `evaluate` applies them."""
    config = config or SuiteConfig()
    benchmarks: list[str] = list(config.benchmarks or ())  # none: every benchmark
    judge = list(config.judge) if config.judge else None
    judge_base_url = config.judge_base_url
    judge_model, out, max_instances = config.judge_model, config.out, config.max_instances
    reference, max_cost, batch, n_boot = config.reference, config.max_cost, config.batch, config.n_boot
    batch_poll_seconds, progress = config.batch_poll_seconds, config.progress
    from judgebench.annotation.cost import BATCH_DISCOUNT, BudgetExhausted, BudgetGuard, judge_tokenizer
    from judgebench.runs.evaluate import evaluate

    benchmarks = list(benchmarks or [n for n, b in all_benchmarks().items() if b.suite_default])
    judges = resolve_judges(benchmarks, judge)
    protocols = resolve_protocols(benchmarks, list(config.protocol) if config.protocol else None)
    if reference is not None and reference not in {m.name for m in models}:
        raise InputError(
            f"--reference {reference!r} is not one of the models",
            hint=f"models: {', '.join(m.name for m in models)}",
        )
    if batch:
        for b, spec in judges.items():
            if spec.backend != "openai":
                raise InputError(
                    f"--batch needs OpenAI-compatible judges; {b}'s judge {spec.name} is {spec.backend}"
                )
            judges[b] = replace(spec, price={k: v * BATCH_DISCOUNT for k, v in spec.price.items()})
    if config.gold_judge is not None and max_cost is not None:
        raise InputError(
            "--gold-judge with --max-cost is not supported: the budget guard prices the run's judge only",
            hint="drop --max-cost, or cap the gold judge's spend with --gold-budget",
        )
    _check_inputs(models, benchmarks, config)
    out = check_output_dir(out)  # after the inputs, before any paid call
    manifest: dict[str, Any] = {
        "models": [model_manifest(m) for m in models],
        "benchmarks": benchmarks,
        "judges": {
            b: {
                "name": s.name,
                "source": s.source,
                "model": judge_model or s.model,
                "base_url": judge_base_url or s.base_url,
                "price": s.price,
            }
            for b, s in judges.items()
        },
        "protocols": {b: p for b, p in protocols.items() if p},
        "length_penalty": config.length_penalty,
        "max_instances": max_instances,
        "max_cost": max_cost,
        "batch": batch,
        "reference": reference,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "runs": {},
        "spent_usd": 0.0,
        "requests": 0,
        "status": "running",
    }
    tokenizers: dict[str, object] = {}
    units = [(m, b) for b in benchmarks for m in models]
    bar = Progress(len(units), "run", progress)

    def wrap_for(spec):
        def wrap(backend):
            if batch:
                from judgebench.backends.openai_batch import OpenAIBatchBackend

                backend = OpenAIBatchBackend(
                    backend.model,
                    base_url=getattr(backend, "base_url", None) or judge_base_url or spec.base_url,
                    api_key_env=config.key.api_key_env,
                    poll_seconds=batch_poll_seconds,
                    allow_key_to=config.key.allow_key_to,
                )
            if max_cost is None:
                return backend
            if spec.name not in tokenizers:
                tokenizers[spec.name] = judge_tokenizer(spec, judge_model)
            guard = BudgetGuard(backend, spec, max_cost, tokenizers[spec.name], spent=manifest["spent_usd"])
            guards.append(guard)
            return guard

        return wrap

    try:
        for m, b in units:
            bar.describe(f"{m.name} x {b}")
            guards: list = []
            run_out = _run_dir(out, m.name, b)
            try:
                s = evaluate(
                    EvaluateConfig(
                        model=m.model,
                        outputs=m.outputs_for(b),
                        eval_set=b,
                        judge=judges[b],
                        judge_base_url=judge_base_url,
                        judge_model=judge_model,
                        engine=m.engine,
                        base_url=m.base_url,
                        name=m.name,
                        max_instances=max_instances,
                        store=out / "store.sqlite",
                        out=run_out,
                        sampling=m.sampling,
                        limits=config.limits,
                        judge_concurrency=config.judge_concurrency,
                        key=config.key,
                        n_boot=n_boot,
                        progress=False,
                        chat_template=m.chat_template,
                        wrap_judge=wrap_for(judges[b]),
                        **_gold_options(config, judges[b]),
                    )
                )
            except BudgetExhausted as err:
                for g in guards:  # the guard started from what earlier runs spent
                    manifest["spent_usd"] = g.spent
                    manifest["requests"] += g.stats["requests"]
                manifest.update(status="stopped: budget", stopped_at=f"{m.name}/{b}", message=str(err))
                write_json(out / "suite.manifest.json", manifest)
                raise CheckFailed(f"stopped before going over: {err}") from None
            a = s["annotation"]
            manifest["spent_usd"] += s["cost"]  # the gold judge's calls included
            manifest["requests"] += a["requests"]
            manifest["runs"][f"{m.name}/{b}"] = {
                "out": str(run_out),
                "judge": s["judge"],
                "calls": a["calls"],
                "cached": a["cached"],
                "requests": a["requests"],
                "failed": a["failed"],
                "cost_usd": a["cost"],
                "generation": {k: v for k, v in (s.get("generation") or {}).items() if k != "problems"},
            }
            if "gold" in s:
                manifest["runs"][f"{m.name}/{b}"]["gold_cost_usd"] = s["gold"]["annotation"]["cost"]
            bar.step(note=f"${manifest['spent_usd']:.4f}, {manifest['requests']} judge requests")
    finally:
        bar.close()
    result = score_suite(
        models,
        benchmarks,
        judges,
        out,
        reference=reference,
        n_boot=n_boot,
        protocols=protocols,
        length_penalty=config.length_penalty,
    )
    manifest.update(status="complete", finished=time.strftime("%Y-%m-%dT%H:%M:%S%z"))
    write_json(out / "suite.manifest.json", manifest)
    result["manifest"] = manifest
    return result


def _check_inputs(models: list[ModelSpec], benchmarks: list[str], config: SuiteConfig) -> None:
    """The URLs and the outputs files of every run, checked before the suite writes its folder or store:
    a bad one is one line now, not a failure at the run that first uses it."""
    from judgebench.backends.urls import check_base_urls
    from judgebench.files.records import load_outputs

    check_base_urls(
        {
            "--judge-base-url": config.judge_base_url,
            "--gold-judge-base-url": config.gold_judge_base_url,
            "--models": [m.base_url for m in models if m.base_url],
        }
    )
    for path in dict.fromkeys(p for m in models for b in benchmarks if (p := m.outputs_for(b))):
        load_outputs(path)


def _gold_options(config: SuiteConfig, spec) -> dict:
    """--gold-judge's settings for one run: only where the run's judge gives a pairwise preference."""
    from judgebench.judges.protocols import protocol_of

    protocol = protocol_of(spec)
    if (
        config.gold_judge is None
        or not protocol.pairwise
        or protocol.multi_turn
        or protocol.yields != "preference"
    ):
        return {}
    return {
        "gold_judge": config.gold_judge,
        "gold_budget": config.gold_budget,
        "gold_judge_base_url": config.gold_judge_base_url,
        "gold_judge_model": config.gold_judge_model,
    }


GOLD_COLUMNS = {
    "win_rate": "gold_win_rate",
    "lower": "gold_ci_low",
    "upper": "gold_ci_high",
    "n_gold": "gold_n",
}


def _gold_columns(summary: dict) -> dict:
    """A run's PPI estimate of the gold judge's figures as table columns (none without --gold-judge)."""
    g = summary.get("gold")
    if not g or "error" in g:
        return {}
    cols = {name: g[k] for k, name in GOLD_COLUMNS.items()}
    lc = g.get("lc") or {}
    if lc.get("lc_win_rate") is not None:
        cols.update(gold_lc=lc["lc_win_rate"], gold_lc_ci_low=lc["lower"], gold_lc_ci_high=lc["upper"])
    return cols


# -- scoring -------------------------------------------------------------------------------------


def _records(out: Path, model: str, benchmark: str) -> list[dict]:
    path = _run_dir(out, model, benchmark) / "annotations.json"
    if not path.exists():
        raise InputError(f"no annotations for {model} on {benchmark}", path=path, hint="run the suite first")
    records = read_json(path, expect=list, what="a JSON list of annotations")
    for r in records:
        r["generator_2"] = model  # the table's name, whatever the outputs file called it
    return records


def score_suite(
    models: list[ModelSpec],
    benchmarks: list[str],
    judges: dict,
    out: Path,
    reference: str | None = None,
    n_boot: int = 200,
    protocols: dict[str, str | None] | None = None,
    length_penalty: int | None = None,
) -> dict:
    """Every benchmark's statistics, the reference comparisons (Holm), and the table files.
    protocols: benchmark -> the version of its official statistic (default: each one's current);
    length_penalty: WildBench's K (default: its own)."""
    from judgebench.stats.multiple import holm

    names = [m.name for m in models]
    rows: dict[str, dict[str, Any]] = {n: {} for n in names}
    details: dict = {b: {} for b in benchmarks}
    comparisons = []
    records = {b: {n: _records(out, n, b) for n in names} for b in benchmarks}
    for b in benchmarks:

        def summary(model: str, b: str = b) -> dict:
            return read_json(_run_dir(out, model, b) / "summary.json")

        protocol = (protocols or {}).get(b)
        scores = get(b).statistic(
            Results(records[b], judges[b], reference, n_boot, summary, protocol, length_penalty)
        )
        for n in names:
            rows[n].update({f"{b}.{k}": v for k, v in scores.rows.get(n, {}).items()})
            if (_run_dir(out, n, b) / "summary.json").exists():
                rows[n].update({f"{b}.{k}": v for k, v in _gold_columns(summary(n)).items()})
            details[b][n] = scores.details.get(n, {})
            if n in scores.differences:
                comparisons.append({"model": n, "benchmark": b, **scores.differences[n]})
    if comparisons:
        for c, p in zip(comparisons, holm([c.get("p_value") for c in comparisons]), strict=True):
            c["p_holm"] = p
            c["significant"] = p is not None and p < 0.05
            rows[c["model"]].update(
                {
                    f"{c['benchmark']}.diff": c.get("difference"),
                    f"{c['benchmark']}.p_holm": p,
                    f"{c['benchmark']}.significant": c["significant"],
                }
            )
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "model"
    atomic_write(out / "table.csv", table.to_csv())
    from judgebench.report.suite import latex_table, markdown_table, write_suite_report

    declared = [get(b) for b in benchmarks]
    atomic_write(out / "table.md", markdown_table(table, declared, reference))
    atomic_write(out / "table.tex", latex_table(table, declared, reference))
    result = {
        "table": table,
        "details": details,
        "comparisons": comparisons,
        "reference": reference,
        "benchmarks": benchmarks,
        "judges": {b: s.name for b, s in judges.items()},
        "protocols": {b: p for b, p in (protocols or {}).items() if p},
    }
    write_json(out / "suite.json", {k: v for k, v in result.items() if k != "table"})
    write_suite_report(out / "report.html", result, declared, [str(out / "table.csv")])
    return result
