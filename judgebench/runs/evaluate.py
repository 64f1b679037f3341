"""Evaluate a checkpoint against a baseline: generate, judge, score; resumable at every step.

    summary = evaluate(EvaluateConfig(eval_set="alpaca_eval", judge="local", out="runs/smollm2", max_instances=10))
    result = run_evaluation(EvaluateConfig(out="runs/smollm2", max_instances=10))  # the typed result

With no model and no outputs file, the embedded SmolLM2 generates (llama.cpp in-process) and the
`local` judge (the same model, AlpacaEval 2.0's protocol) judges: the whole pipeline runs offline.
Writes to `out`: model_outputs.json (+ .manifest.json), annotations.json (+ .manifest.json),
leaderboard.csv (one row) and summary.json; generations and judgments live in the store, so a rerun
makes no call that was already made.

The run is a few named stages around one frozen `EvaluateConfig`:
select_instructions -> load_baseline -> get_outputs (a file, an engine, or Ray) -> judge -> score -> write.
`evaluate(config)` returns `EvaluationResult.summary()`, the contents of summary.json; `run_evaluation(config)`
the typed result.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import pandas as pd

from judgebench.annotation.annotate import AnnotationRun, annotate_pairs
from judgebench.annotation.annotate import manifest as annotation_manifest
from judgebench.annotation.pairs import pairs_from_records, with_task_fields
from judgebench.annotation.pipeline import closing
from judgebench.backends import Backend, choose_engine, engine_version, make_backend
from judgebench.backends.checkpoint import resolve, with_adapter
from judgebench.backends.urls import check_base_urls
from judgebench.benchmarks.evalsets import load_eval_set
from judgebench.files.atomic import check_output_dir, check_output_file, write_json, write_together
from judgebench.files.records import InputError, annotations_frame, count_empty, load_outputs
from judgebench.generation.generate import generate_async
from judgebench.judges import load_judge
from judgebench.judges.protocols import Protocol, protocol_of
from judgebench.judges.spec import JudgeSpec
from judgebench.leaderboard.board import make_leaderboard, read_leaderboard, sort_board, write_leaderboard
from judgebench.progress import run_versions
from judgebench.runs import gold as gold_run
from judgebench.runs.config import EvaluateConfig
from judgebench.runs.judge_note import is_embedded, judge_note
from judgebench.stats.cheating import detect, flag_summary
from judgebench.store import Store


@dataclass(frozen=True)
class Selection:
    """The instructions evaluated, and (with --tiny) the anchor model that turns their verdicts into an estimate."""

    data: pd.DataFrame
    multi_turn: bool
    tiny_model: Any = None  # stats.irt.TinyModel


@dataclass
class GenerationCounts:
    """What the generation stage did, per instruction (and per turn for multi-turn sets)."""

    instructions: int
    generated: int
    cached: int
    failed: int
    empty: int
    truncated: int
    problems: list[dict] = field(default_factory=list)

    @classmethod
    def from_dict(cls, counts: dict) -> GenerationCounts:
        return cls(**{f.name: counts[f.name] for f in fields(cls)})

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass
class Outputs:
    """The candidate's outputs, one row per instruction in the selection's order (output None = failed)."""

    frame: pd.DataFrame
    counts: GenerationCounts | None = None  # None when read from a file
    reusable_judge: Backend | None = None  # the embedded SmolLM2, which the local judge may reuse as it is

    @property
    def generator(self) -> str | None:
        return self.frame["generator"].iloc[0] if len(self.frame) else None


@dataclass
class Judgments:
    """Every judged pair plus one failed record per output that could not be generated."""

    run: AnnotationRun  # run.manifest: the judge, its backend and limits, versions
    records: list[dict]
    judged: pd.DataFrame  # the outputs that were judged (generated, or read from the file)


@dataclass
class WinRates:
    """The leaderboard's row for the candidate (its columns are the leaderboard's) and the LC fit's difficulty."""

    board: pd.DataFrame
    lc_difficulty: Any = None

    @property
    def row(self) -> dict:
        return {k: _plain(v) for k, v in self.board.iloc[0].to_dict().items()}

    @property
    def win_rate(self) -> float:
        return self.row["win_rate"]

    def to_dict(self) -> dict:
        return {**self.row, "lc_difficulty": self.lc_difficulty}


@dataclass
class TinyEstimate:
    """--tiny: an estimate of the full set's win rate from the anchors' verdicts, or why there is none."""

    eval_set: str
    estimate: dict | None = None
    error: str | None = None

    def to_dict(self) -> dict:
        if self.estimate is None:
            return {"tiny_error": self.error}
        return {
            "tiny_estimate": self.estimate,
            "estimated_win_rate": self.estimate["estimate"],
            "note": f"ESTIMATE of the full {self.eval_set} win rate from {self.estimate['n_anchors']} anchor "
            f"judgments ({self.estimate['recommended']}); not a measured win rate",
        }


@dataclass
class MeanScore:
    """A grading judge (MT-Bench single): the mean grade over the answers that got one."""

    mean: float | None
    n_scored: int

    def to_dict(self) -> dict:
        return {"mt_bench_score": self.mean, "n_scored": self.n_scored}


Score = WinRates | TinyEstimate | MeanScore


@dataclass
class EvaluationResult:
    eval_set: str
    n: int
    generator: str | None
    judge: str
    generation: GenerationCounts | None
    annotation: dict  # annotate's counts: calls, cached, failed, tokens, cost, seconds...
    score: Score
    cheating: dict | None = None
    cost: float = 0.0
    finished: str = ""
    gold: dict | None = None  # --gold-judge: the gold judge's PPI estimates (runs/gold.py)
    judge_note: str | None = None  # the embedded judge's warning: its numbers are no measurement
    benchmark: dict | None = None  # the benchmark's own figures, where it asks (Benchmark.evaluate_statistic)

    def summary(self) -> dict:
        """summary.json's contents (and `evaluate`'s return value)."""
        s: dict[str, Any] = {
            "eval_set": self.eval_set,
            "n": self.n,
            "generator": self.generator,
            "judge": self.judge,
            **({"judge_note": self.judge_note} if self.judge_note else {}),
            "generation": None if self.generation is None else self.generation.to_dict(),
            "annotation": self.annotation,
        }
        if self.cheating is not None:
            s["cheating"] = self.cheating
        s.update(self.score.to_dict())
        if self.benchmark is not None:
            s["benchmark"] = self.benchmark
        if self.gold is not None:
            s["gold"] = self.gold
        s["cost"] = self.cost
        s["finished"] = self.finished
        return s

    to_dict = summary


def evaluate(config: EvaluateConfig) -> dict:
    """Run the evaluation; returns summary.json's contents (`run_evaluation` returns the typed result)."""
    return run_evaluation(config).summary()


def run_evaluation(config: EvaluateConfig) -> EvaluationResult:
    """Run the stages in order; every file is written under config.out, every call kept in the store."""
    # Every input and setting checked before anything is written (the folder, the store) or called
    check_base_urls(
        {
            "--base-url": config.base_url,
            "--judge-base-url": config.judge_base_url,
            "--gold-judge-base-url": config.gold_judge_base_url,
        }
    )
    spec = config.judge if isinstance(config.judge, JudgeSpec) else load_judge(config.judge)
    protocol = protocol_of(spec)
    selection = select_instructions(config, spec)
    baseline = load_baseline(config, protocol, selection)
    gold_spec = gold_run.gold_spec(config)
    if gold_spec is not None and (not protocol.pairwise or selection.multi_turn or baseline is None):
        raise InputError(f"--gold-judge needs a pairwise judge on a single-turn set, not {spec.name}")
    given = None if config.outputs is None else _outputs_from_file(config, selection, config.outputs)
    out = check_output_dir(config.out)
    if config.leaderboard is not None:
        check_output_file(config.leaderboard, "--leaderboard")

    async def calls(store: Store) -> tuple[Outputs, Judgments, gold_run.GoldJudgments | None]:
        outputs = given if given is not None else await get_outputs(config, selection, store, out)
        judgments = await judge(config, spec, selection, outputs, baseline, store)
        if gold_spec is None or baseline is None:
            return outputs, judgments, None
        write_judgments(out, judgments)  # the cheap judgments on disk before the gold calls
        return (
            outputs,
            judgments,
            await gold_run.judge_gold(config, gold_spec, judgments.judged, baseline, store),
        )

    with Store(config.store or out / "store.sqlite") as store:  # closed on failure too
        outputs, judgments, gold = asyncio.run(calls(store))
    write_judgments(out, judgments)  # on disk before anything that scoring might raise
    if gold is not None:
        gold_run.write_gold(out, gold)
    cheating = detect(judgments.judged) if not selection.multi_turn and len(judgments.judged) else None
    result = EvaluationResult(
        eval_set=config.eval_set,
        n=len(selection.data),
        generator=outputs.generator,
        judge=spec.name,
        generation=outputs.counts,
        annotation=judgments.run.summary,
        cheating=cheating,
        score=score(config, protocol, selection, judgments, cheating, out),
        cost=judgments.run.summary["cost"] + (gold.run.summary["cost"] if gold is not None else 0.0),
        finished=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        gold=None
        if gold is None
        else gold_run.gold_estimate(judgments.records, gold, out, config.n_boot, config.gold_seed),
        judge_note=judge_note(
            config.eval_set, config.model, None if config.outputs is None else str(config.outputs)
        )
        if is_embedded(spec, config.judge_model)
        else None,
        benchmark=benchmark_figures(config, spec, judgments.records, outputs.generator),
    )
    write_result(config, out, result)
    return result


def select_instructions(config: EvaluateConfig, spec: JudgeSpec) -> Selection:
    """The eval set's instructions to evaluate: with --tiny only its anchors, then the first max_instances.
    Raises InputError when the tiny file's anchors are not in the set, or the judge does not fit the set
    (multi-turn sets need a multi-turn judge, and only they do)."""
    data = load_eval_set(config.eval_set)
    tiny_model = None
    if config.tiny is not None:  # judge only the anchors; the result is an estimate, and labelled so
        from judgebench.stats.difficulty import instruction_key
        from judgebench.stats.irt import TinyModel

        tiny_model = TinyModel.load(config.tiny)
        keys = data["instruction"].map(instruction_key)
        missing = set(tiny_model.anchor_keys) - set(keys)
        if missing:
            raise InputError(
                f"{len(missing)} anchors of {config.tiny} are not in eval set {config.eval_set}",
                hint="use the eval set the tiny file was fitted on",
            )
        data = data[keys.isin(set(tiny_model.anchor_keys))]
    if config.max_instances is not None:
        data = data.head(config.max_instances)
    multi_turn = "turns" in data.columns
    if multi_turn != protocol_of(spec).multi_turn:
        raise InputError(
            f"judge {spec.name} ({spec.protocol}) does not fit eval set {config.eval_set}",
            hint="multi-turn sets (mt-bench) need a multi-turn judge (judgebench-mt-single or "
            "judgebench-mt-pair, fastchat:single or fastchat:pair), and only they do",
        )
    return Selection(data, multi_turn, tiny_model)


def load_baseline(config: EvaluateConfig, protocol: Protocol, selection: Selection) -> pd.DataFrame | None:
    """The baseline's outputs: --baseline FILE, else the eval set's own; None for a judge that grades the
    candidate alone. Raises InputError when there is none, or it misses an instruction of the selection."""
    data = selection.data
    if config.baseline is not None and Path(config.baseline).exists():
        base = load_outputs(config.baseline)
    elif config.baseline is None and "output" in data.columns:
        base = data[["instruction", "output", "generator", "dataset"]]
    elif config.baseline is None and not protocol.pairwise:
        return None
    else:
        raise InputError(
            f"baseline {config.baseline!r} is neither a file nor available in eval set {config.eval_set}",
            hint="pass --baseline FILE with outputs for the same instructions",
        )
    missing = sorted(set(data["instruction"]) - set(base["instruction"]))
    if missing:
        raise InputError(
            f"{len(missing)} instructions of {config.eval_set} have no baseline output: {missing[:3]}",
            hint="the baseline must answer every instruction evaluated",
        )
    return base


async def get_outputs(config: EvaluateConfig, selection: Selection, store: Store, out: Path) -> Outputs:
    """The candidate's outputs for the selection, in its order: read from --outputs, generated on Ray
    replicas, or generated by one engine (cached generations come from the store). Generated outputs are
    written to out/model_outputs.json with their manifest before this returns."""
    if config.outputs is not None:
        return _outputs_from_file(config, selection, config.outputs)
    if config.ray_replicas:
        # Ray drives its own workers and wants ray.init on the main thread: it blocks this loop, which has
        # nothing else to run until the outputs exist
        return _outputs_from_ray(config, selection, config.ray_replicas, store, out)
    return await _outputs_from_engine(config, selection, store, out)


def _outputs_from_file(config: EvaluateConfig, selection: Selection, path: str | Path) -> Outputs:
    data = selection.data
    cand = load_outputs(path)
    missing = sorted(set(data["instruction"]) - set(cand["instruction"]))
    if missing:
        raise InputError(
            f"{len(missing)} instructions of {config.eval_set} have no output in {config.outputs}: "
            f"{[m[:50] for m in missing[:3]]}",
            hint="generate them, or lower --max-instances",
        )
    return Outputs(cand.set_index("instruction").loc[data["instruction"]].reset_index())


def _outputs_from_ray(
    config: EvaluateConfig, selection: Selection, replicas: int, store: Store, out: Path
) -> Outputs:
    from judgebench.generation.distributed import generate_with_ray

    data = selection.data
    model, checkpoint = resolve(config.model, config.checkpoint)
    ray_engine = choose_engine(model, engine=config.engine, purpose="ray")
    options = checkpoint.for_engine(ray_engine)
    tensor_parallel = options.pop("tensor_parallel_size", 1)
    lora = options.pop("lora", None)
    cand = generate_with_ray(
        data,
        ray_engine,
        model,
        config.sampling,
        config.generator_name,
        replicas=replicas,
        ray_address=config.ray_address,
        store=store,
        chat_template=config.chat_template,
        tensor_parallel_size=tensor_parallel,
        engine_kwargs=options or None,
        lora=lora,
    )
    failed = int(cand["output"].isna().sum())
    counts = GenerationCounts(
        instructions=len(data),
        generated=len(cand) - failed,
        cached=0,
        failed=failed,
        empty=count_empty(cand["output"].dropna()),
        truncated=int(cand.attrs.get("truncated", 0)),  # cut at max_tokens or the context
    )
    write_together(  # outputs and manifest as one unit
        {
            out / "model_outputs.json": cand.to_dict("records"),
            out / "model_outputs.manifest.json": {
                "engine": f"ray+{ray_engine}",
                "model": with_adapter(str(model), lora),
                "replicas": replicas,
                "sampling": vars(config.sampling),
                "eval_set": config.eval_set,
                "eval_set_hash": _hash_frame(data),
            },
        }
    )
    return Outputs(cand, counts)


async def _outputs_from_engine(
    config: EvaluateConfig, selection: Selection, store: Store, out: Path
) -> Outputs:
    data = selection.data
    backend = generation_backend(config)
    async with closing(backend):
        cand, counts = await generate_async(
            data, backend, store, config.sampling, config.generator_name, config.progress
        )
    embedded = backend.name == "llamacpp" and config.model is None and config.chat_template is None
    write_together(  # outputs and manifest as one unit
        {
            out / "model_outputs.json": cand.to_dict("records"),
            out / "model_outputs.manifest.json": {
                "engine": backend.name,
                "engine_version": engine_version(backend.name),
                "model": backend.model,
                "generator": config.generator_name,
                "sampling": vars(config.sampling),
                "chat_template": getattr(backend, "chat_template", None),
                "eval_set": config.eval_set,
                "eval_set_hash": _hash_frame(data),
                "n": len(data),
                "counts": counts,
                "versions": run_versions(),
            },
        }
    )
    return Outputs(cand, GenerationCounts.from_dict(counts), backend if embedded else None)


def generation_backend(config: EvaluateConfig) -> Backend:
    """The generator's backend from --engine/--model/--base-url, with config.limits; loads nothing
    that is not needed. The engine: backends.choose_engine (a served name -> openai; a Hugging Face
    folder -> transformers; a .gguf file or none -> llama.cpp)."""
    model, checkpoint = resolve(config.model, config.checkpoint)
    engine = choose_engine(model, base_url=config.base_url, engine=config.engine)
    options = checkpoint.for_engine(engine)  # none for llama.cpp or a served model
    limits = config.limits.for_backend()
    if engine == "openai":
        if not model:
            raise InputError("--base-url needs --model: the model name the endpoint serves")
        return make_backend(
            "openai",
            model=model,
            base_url=config.base_url or "https://api.openai.com/v1",
            api_key_env=config.key.api_key_env,
            limits=limits,
            allow_key_to=config.key.allow_key_to,
        )
    if engine == "llamacpp":
        if model and not Path(model).exists():
            raise InputError(
                f"model file not found: {model}",
                field="--model",
                hint="a .gguf path for llama.cpp; a served model needs --base-url; "
                "with no --model the embedded SmolLM2 is used",
            )
        # in-process and one at a time: llama.cpp runs one prompt at once
        return make_backend(
            "llamacpp", model=model, chat_template=config.chat_template, limits=replace(limits, concurrency=1)
        )
    return make_backend(engine, model=model, limits=limits, chat_template=config.chat_template, **options)


async def judge(
    config: EvaluateConfig,
    spec: JudgeSpec,
    selection: Selection,
    outputs: Outputs,
    baseline: pd.DataFrame | None,
    store: Store,
) -> Judgments:
    """Judge every generated output against the baseline (or alone, for a grading judge); each call is in
    the store the moment it completes. An output that could not be generated becomes a failed record,
    never a tie. The judge's backend (the embedded generator's when both are SmolLM2) is closed on return."""
    if spec.backend == "llamacpp" and config.judge_model is None and outputs.reusable_judge is not None:
        backend, url = outputs.reusable_judge, None
    else:
        backend, url = config.judge_backend(spec, config.judge_model, config.judge_base_url)
    async with closing(backend):
        if config.wrap_judge is not None:
            backend = config.wrap_judge(backend)
        cand = outputs.frame
        judged = cand[cand["output"].notna()]
        base_by = None if baseline is None else {r["instruction"]: r for r in baseline.to_dict("records")}
        if baseline is not None and not selection.multi_turn and "generator" in baseline and len(judged):
            from judgebench.files.records import check_not_the_baseline

            check_not_the_baseline(judged, baseline, "the candidate's outputs (--name)", "the baseline")
        records = with_task_fields(judged.to_dict("records"), selection.data)
        pairs = pairs_from_records(records, base_by, selection.multi_turn)
        run = await annotate_pairs(pairs, spec, backend, store, config.progress)
    failed = [
        {
            "instruction": r["instruction"],
            "output_1": "" if base_by is None else base_by[r["instruction"]]["output"],
            "generator_1": "baseline",
            "output_2": "",
            "generator_2": r["generator"],
            "annotator": spec.name,
            "preference": None,
            "failure": f"generation failed: {r.get('failure')}",
        }
        for r in cand[cand["output"].isna()].to_dict("records")
    ]
    run.manifest = annotation_manifest(spec, backend, url, run)
    return Judgments(run, run.records + failed, judged)


def write_judgments(out: Path, judgments: Judgments) -> None:
    """out/annotations.json and its manifest."""
    write_together(
        {
            out / "annotations.json": judgments.records,
            out / "annotations.manifest.json": judgments.run.manifest,
        }
    )


def score(
    config: EvaluateConfig,
    protocol: Protocol,
    selection: Selection,
    judgments: Judgments,
    cheating: dict | None,
    out: Path,
) -> Score:
    """The verdicts as a figure: with --tiny an estimate (or why there is none); for a grading judge the
    mean grade; else the leaderboard row (win rate, LC win rate, intervals, the cheating flags) over the
    pairwise records."""
    path = out / "annotations.json"  # named in errors about the records
    if selection.tiny_model is not None:
        from judgebench.stats.irt import estimate_from_annotations

        frame = annotations_frame(judgments.records, path, keep_extra=False)
        try:
            return TinyEstimate(config.eval_set, estimate_from_annotations(selection.tiny_model, frame))
        except InputError as e:  # too many failed anchors: the judgments are saved; say so, claim nothing
            return TinyEstimate(config.eval_set, error=str(e))
    if protocol.yields == "score":
        scores = [r["score"] for r in judgments.run.records if r.get("score") is not None]
        return MeanScore(sum(scores) / len(scores) if scores else None, len(scores))
    frame = annotations_frame(
        [r for r in judgments.records if not isinstance(r["output_1"], list)], path, keep_extra=False
    )
    board, info = make_leaderboard(frame, n_boot=config.n_boot, workers=1, detect_cheating=False)
    if cheating is not None:
        board["cheating_flags"] = flag_summary(cheating)
    return WinRates(board, info["lc_difficulty"])


def benchmark_figures(config: EvaluateConfig, spec: JudgeSpec, records: list[dict], name) -> dict | None:
    """The run scored by its benchmark's own statistic (the suite's code), where the benchmark asks for
    it: {title, figures (column heading -> value), details}; None otherwise."""
    from judgebench.benchmarks.base import Results
    from judgebench.benchmarks.registry import all_benchmarks

    bench = all_benchmarks().get(str(config.eval_set))
    if bench is None or not bench.evaluate_statistic or config.tiny is not None:
        return None
    name = str(name or "candidate")
    scores = bench.statistic(Results({name: records}, spec, None, config.n_boot, lambda _: {}))
    row = scores.rows.get(name, {})
    figures = {c.heading: row.get(c.field) for c in bench.columns if isinstance(c.field, str)}
    return {"title": bench.title, "figures": figures, "details": scores.details.get(name, {})}


def write_result(config: EvaluateConfig, out: Path, result: EvaluationResult) -> None:
    """out/leaderboard.csv (for win rates) merged into --leaderboard when given,
    then out/summary.json."""
    if isinstance(result.score, WinRates):
        board = result.score.board
        write_leaderboard(board, out / "leaderboard.csv")
        if config.leaderboard is not None:
            from judgebench.files.locks import locked

            with locked(config.leaderboard):  # another run may be merging its row into the same board
                existing = read_leaderboard(config.leaderboard) if Path(config.leaderboard).exists() else None
                merged = (
                    board
                    if existing is None
                    else pd.concat([existing.drop(board.index, errors="ignore"), board])
                )
                write_leaderboard(sort_board(merged), config.leaderboard)
    write_json(out / "summary.json", result.summary())


def _plain(v):
    try:
        return v.item()
    except AttributeError:
        return v


def _hash_frame(df: pd.DataFrame) -> str:
    return hashlib.sha256("\x00".join(df["instruction"]).encode()).hexdigest()[:16]
