"""The paper's table in one run: several checkpoints x AlpacaEval 2.0, Arena-Hard and MT-Bench.

    models = parse_models(["ckpt-a.gguf", "sft@http://127.0.0.1:8000/v1", "runs.yaml"])
    estimate = plan_suite(models, SuiteConfig(out="suite"))    # the cost, no call made
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
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from judgebench.benchmarks.base import Results
from judgebench.benchmarks.registry import all_benchmarks, get
from judgebench.errors import CheckFailed, InputError
from judgebench.files.atomic import atomic_write, check_output_dir, write_json
from judgebench.files.records import read_json
from judgebench.generation.generate import Sampling
from judgebench.judges.protocols import protocol_of
from judgebench.progress import Progress
from judgebench.runs.config import EvaluateConfig, SuiteConfig


@dataclass
class ModelSpec:
    name: str
    model: str | None = None  # GGUF path, HF folder, served name; None: the embedded SmolLM2
    base_url: str | None = None
    engine: str | None = None
    outputs: str | dict | None = None  # one file for every benchmark, or {benchmark: file} (others generated)
    sampling: Sampling = field(default_factory=lambda: Sampling(max_tokens=512))
    chat_template: str | None = None

    def outputs_for(self, benchmark: str) -> str | None:
        """The outputs file to judge on this benchmark; None: generate them with the model."""
        if isinstance(self.outputs, dict):
            return self.outputs.get(benchmark)
        return self.outputs


# -- model specs ---------------------------------------------------------------------------------

OUTPUT_SUFFIXES = (".json", ".jsonl", ".json.gz", ".jsonl.gz", ".csv")


def _spec_from_string(text: str, sampling: Sampling) -> ModelSpec:
    name, _, rest = (
        text.partition("=") if "=" in text.split("@")[0] and not Path(text).exists() else ("", "", text)
    )
    if "@" in rest and not Path(rest).exists():  # NAME@URL: a served model
        served, url = rest.split("@", 1)
        if not url.startswith(("http://", "https://")):
            raise InputError(
                f"model spec {text!r}: the part after @ must be an http(s) URL", field="--models"
            )
        return ModelSpec(name or served, model=served, base_url=url, engine="openai", sampling=sampling)
    if rest == "embedded":
        from judgebench.runs.config import EMBEDDED_GENERATOR

        return ModelSpec(name or EMBEDDED_GENERATOR, sampling=sampling)
    path = Path(rest)
    if not path.exists():
        raise InputError(
            f"model spec {text!r} is neither a file, a folder nor NAME@URL",
            field="--models",
            hint="a .gguf file, a Hugging Face folder, NAME@http://host/v1, an outputs file, "
            "a .yaml run file, or 'embedded'",
        )
    if path.is_dir():
        if not (path / "config.json").exists():
            raise InputError("folder has no config.json (not a Hugging Face model folder)", path=path)
        return ModelSpec(name or path.name, model=str(path), engine="transformers", sampling=sampling)
    if path.suffix == ".gguf":
        return ModelSpec(name or path.stem, model=str(path), engine="llamacpp", sampling=sampling)
    if path.name.endswith(OUTPUT_SUFFIXES):
        return ModelSpec(name or path.name.split(".")[0], outputs=str(path), sampling=sampling)
    raise InputError(
        f"cannot tell what {path} is", path=path, hint="use .gguf, .json/.jsonl outputs or .yaml"
    )


def _specs_from_yaml(path: Path, sampling: Sampling) -> list[ModelSpec]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise InputError(f"cannot read run file: {err}", path=path) from None
    entries = data.get("models") if isinstance(data, dict) and "models" in data else [data]
    if not isinstance(entries, list) or not entries:
        raise InputError("a run file holds `models:`, a list of models", path=path, field="models")
    known = {"name", "model", "base_url", "engine", "outputs", "sampling", "chat_template"}
    specs = []
    for i, e in enumerate(entries):
        if not isinstance(e, dict) or "name" not in e:
            raise InputError("each model needs a `name`", path=path, row=i, field="name")
        unknown = set(e) - known
        if unknown:
            raise InputError(
                f"unknown keys {sorted(unknown)}", path=path, row=i, hint=f"known: {sorted(known)}"
            )
        try:
            s = replace(sampling, **(e.get("sampling") or {}))
        except TypeError as err:
            raise InputError(
                f"bad sampling: {err}",
                path=path,
                row=i,
                field="sampling",
                hint="max_tokens, temperature, top_p, seed, system_prompt",
            ) from None
        model = e.get("model")
        if model and model != "embedded" and not e.get("base_url") and not Path(model).exists():
            raise InputError(f"model {model} not found", path=path, row=i, field="model")
        engine = e.get("engine") or ("openai" if e.get("base_url") else None)
        outputs = e.get("outputs")
        if isinstance(outputs, dict):
            unknown = set(outputs) - set(all_benchmarks())
            if unknown:
                raise InputError(
                    f"outputs for unknown benchmarks {sorted(unknown)}",
                    path=path,
                    row=i,
                    field="outputs",
                    hint=f"benchmarks: {', '.join(all_benchmarks())}",
                )
        template = Path(e["chat_template"]).read_text(encoding="utf-8") if e.get("chat_template") else None
        specs.append(
            ModelSpec(
                str(e["name"]),
                None if model == "embedded" else model,
                e.get("base_url"),
                engine,
                outputs,
                s,
                template,
            )
        )
    return specs


def parse_models(specs: list[str], sampling: Sampling | None = None) -> list[ModelSpec]:
    """CLI model specs -> ModelSpecs; [NAME=]SPEC names a model explicitly."""
    sampling = sampling or Sampling(max_tokens=512)
    models: list[ModelSpec] = []
    for text in specs:
        path = Path(text)
        if path.suffix in (".yaml", ".yml") and path.exists():
            models += _specs_from_yaml(path, sampling)
        else:
            models.append(_spec_from_string(text, sampling))
    names = [m.name for m in models]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise InputError(f"two models are named {dup[0]!r}", field="--models", hint="name them: NAME=SPEC")
    for n in names:
        if "/" in n or n.startswith("."):
            raise InputError(f"model name {n!r} cannot be a folder name", field="--models")
    return models


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


def _run_dir(out: Path, model: str, benchmark: str) -> Path:
    return out / "runs" / model / benchmark


# -- cost first ----------------------------------------------------------------------------------


def _generation_model_key(m: ModelSpec) -> str:
    from judgebench.backends import choose_engine

    engine = choose_engine(m.model, base_url=m.base_url, engine=m.engine)
    if engine == "llamacpp":
        from judgebench.backends.llamacpp import default_gguf

        return str(Path(m.model)) if m.model else str(default_gguf())
    return str(m.model)


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
    model_key = _generation_model_key(m)
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
    from judgebench.annotation.annotate import pairs_from_records
    from judgebench.annotation.calls import judge_model_name
    from judgebench.annotation.cost import estimate_calls

    multi = "turns" in data.columns
    base_by = None if "output" not in data.columns else {r["instruction"]: r for r in data.to_dict("records")}
    known = _candidate_records(m, benchmark, data, store)
    # About one token a word: the longest answer allowed; tagged with the generator and its sampling, so
    # that only models bound to write the same answers share judge calls.
    from judgebench.generation.generate import generation_key

    tag = (
        generation_key(_generation_model_key(m), m.sampling, [])[:8]
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
    pairs = pairs_from_records(records, base_by, multi)
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
    benchmarks = list(config.benchmarks or all_benchmarks())
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

    benchmarks = list(benchmarks or all_benchmarks())
    judges = resolve_judges(benchmarks, judge)
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
    out = check_output_dir(out)  # before any paid call
    manifest: dict[str, Any] = {
        "models": [_model_manifest(m) for m in models],
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
            manifest["spent_usd"] += a["cost"]
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
            bar.step(note=f"${manifest['spent_usd']:.4f}, {manifest['requests']} judge requests")
    finally:
        bar.close()
    result = score_suite(models, benchmarks, judges, out, reference=reference, n_boot=n_boot)
    manifest.update(status="complete", finished=time.strftime("%Y-%m-%dT%H:%M:%S%z"))
    write_json(out / "suite.manifest.json", manifest)
    result["manifest"] = manifest
    return result


def _model_manifest(m: ModelSpec) -> dict:
    d = asdict(m)
    d["sampling"] = asdict(m.sampling)
    d.pop("chat_template")
    return d


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
) -> dict:
    """Every benchmark's statistics, the reference comparisons (Holm), and the table files."""
    from judgebench.stats.multiple import holm

    names = [m.name for m in models]
    rows: dict[str, dict[str, Any]] = {n: {} for n in names}
    details: dict = {b: {} for b in benchmarks}
    comparisons = []
    records = {b: {n: _records(out, n, b) for n in names} for b in benchmarks}
    for b in benchmarks:

        def summary(model: str, b: str = b) -> dict:
            return read_json(_run_dir(out, model, b) / "summary.json")

        scores = get(b).statistic(Results(records[b], judges[b], reference, n_boot, summary))
        for n in names:
            rows[n].update({f"{b}.{k}": v for k, v in scores.rows.get(n, {}).items()})
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
    }
    write_json(out / "suite.json", {k: v for k, v in result.items() if k != "table"})
    write_suite_report(out / "report.html", result, declared, [str(out / "table.csv")])
    return result
