"""Evaluate a checkpoint against a baseline: generate, judge, score; resumable at every step.

    summary = evaluate(model=None, eval_set="alpaca_eval", judge="local", out="runs/smollm2", max_instances=20)

With no model and no outputs file, the embedded SmolLM2 generates (llama.cpp in-process) and the
`local` judge (the same model, AlpacaEval 2.0's protocol) judges: the whole pipeline runs offline.
Writes to `out`: model_outputs.json (+ .manifest.json), annotations.json (+ .manifest.json),
leaderboard.csv (one row) and summary.json; generations and judgments live in the store, so a rerun
makes no call that was already made.
"""

from __future__ import annotations

import asyncio
import json
import platform
import time
from pathlib import Path

import pandas as pd

from . import __version__
from .annotate import annotate_pairs, judge_backend, pairs_from_records
from .annotate import manifest as annotation_manifest
from .backends import Limits, make_backend
from .detect import detect, flag_summary
from .evalsets import load_eval_set
from .fsutil import atomic_write, check_output_dir, check_output_file
from .generate import Sampling, generate_async
from .io import InputError, annotations_frame, load_outputs
from .judges import load_judge
from .judges.spec import JudgeSpec
from .leaderboard import make_leaderboard, read_leaderboard, write_leaderboard
from .store import Store


def _write_json(path: Path, data) -> None:
    atomic_write(path, json.dumps(data, indent=1, ensure_ascii=False, default=str))


def _generation_backend(model: str | None, engine: str | None, base_url: str | None, concurrency: int,
                        api_key_env: str | None, chat_template: str | None = None, allow_key_to: tuple = ()):
    if engine is None:  # a served name -> openai; a transformers folder -> transformers; else a GGUF
        engine = "openai" if base_url else "transformers" if model and (Path(model) / "config.json").exists() \
            else "llamacpp"
    limits = Limits(concurrency=concurrency)
    if engine == "openai":
        if not model:
            raise InputError("--base-url needs --model: the model name the endpoint serves")
        return make_backend("openai", model=model, base_url=base_url or "https://api.openai.com/v1",
                            api_key_env=api_key_env, limits=limits, allow_key_to=tuple(allow_key_to))
    if engine == "llamacpp":
        if model and not Path(model).exists():
            raise InputError(f"model file not found: {model}", field="--model",
                             hint="a .gguf path for llama.cpp; a served model needs --base-url; "
                                  "with no --model the embedded SmolLM2 is used")
        return make_backend("llamacpp", model=model, chat_template=chat_template)
    return make_backend(engine, model=model, limits=limits, chat_template=chat_template)


def evaluate(model: str | None = None, outputs: str | Path | None = None, eval_set: str = "alpaca_eval",
             baseline: str | Path | None = None, judge: str | JudgeSpec = "local", judge_base_url: str | None = None,
             judge_model: str | None = None, engine: str | None = None, base_url: str | None = None,
             name: str | None = None, max_instances: int | None = None, store: str | Path | None = None,
             out: str | Path = "runs/latest", leaderboard: str | Path | None = None,
             sampling: Sampling | None = None, concurrency: int = 8, judge_concurrency: int = 16,
             n_boot: int = 1000, api_key_env: str | None = None, progress: bool = True,
             ray_replicas: int | None = None, ray_address: str | None = None,
             chat_template: str | None = None, tiny: str | Path | None = None,
             allow_key_to: tuple[str, ...] = (), wrap_judge=None) -> dict:
    """wrap_judge: backend -> backend, applied to the judge's backend (the suite's budget guard)."""
    out = check_output_dir(out)  # before any paid call
    if leaderboard is not None:
        check_output_file(leaderboard, "--leaderboard")
    store = Store(store or out / "store.sqlite")
    spec = judge if isinstance(judge, JudgeSpec) else load_judge(judge)
    data = load_eval_set(eval_set)
    tiny_model = None
    if tiny is not None:  # judge only the anchors; the result is an estimate, and labelled so
        from .stats.difficulty import instruction_key
        from .stats.irt import TinyModel

        tiny_model = TinyModel.load(tiny)
        keys = data["instruction"].map(instruction_key)
        missing = set(tiny_model.anchor_keys) - set(keys)
        if missing:
            raise InputError(f"{len(missing)} anchors of {tiny} are not in eval set {eval_set}",
                             hint="use the eval set the tiny file was fitted on")
        data = data[keys.isin(set(tiny_model.anchor_keys))]
    if max_instances is not None:
        data = data.head(max_instances)
    multi_turn = "turns" in data.columns
    if multi_turn != spec.protocol.startswith("mtbench"):
        raise InputError(f"judge {spec.name} ({spec.protocol}) does not fit eval set {eval_set}",
                         hint="multi-turn sets (mt-bench) need mtbench-single or mtbench-pair, and only they do")

    # The baseline: the eval set's own outputs unless a file is given.
    if baseline is not None and Path(baseline).exists():
        base = load_outputs(baseline)
    elif baseline is None and "output" in data.columns:
        base = data[["instruction", "output", "generator", "dataset"]]
    elif baseline is None and spec.protocol == "mtbench-single":
        base = None
    else:
        raise InputError(f"baseline {baseline!r} is neither a file nor available in eval set {eval_set}",
                         hint="pass --baseline FILE with outputs for the same instructions")
    if base is not None:
        missing = sorted(set(data["instruction"]) - set(base["instruction"]))
        if missing:
            raise InputError(f"{len(missing)} instructions of {eval_set} have no baseline output: {missing[:3]}",
                             hint="the baseline must answer every instruction evaluated")

    sampling = sampling or Sampling(max_tokens=512)
    gen_summary, gen_manifest, reusable_llama = None, None, None
    if outputs is not None:
        cand = load_outputs(outputs)
        missing = sorted(set(data["instruction"]) - set(cand["instruction"]))
        if missing:
            raise InputError(f"{len(missing)} instructions of {eval_set} have no output in {outputs}: "
                             f"{[m[:50] for m in missing[:3]]}", hint="generate them, or lower --max-instances")
        cand = cand.set_index("instruction").loc[data["instruction"]].reset_index()
    elif ray_replicas:
        from .distributed import generate_with_ray

        ray_engine = engine or ("llamacpp" if model is None or model.endswith(".gguf") else "vllm")
        generator = name or (Path(model).stem if model else "SmolLM2-135M-Instruct")
        cand = generate_with_ray(data, ray_engine, model, sampling, generator, replicas=ray_replicas,
                                 ray_address=ray_address, store=store, chat_template=chat_template)
        gen_summary = {"instructions": len(data), "generated": int(cand["output"].notna().sum()), "cached": 0,
                       "failed": int(cand["output"].isna().sum()), "empty": 0, "truncated": 0, "problems": []}
        _write_json(out / "model_outputs.json", cand.to_dict("records"))
        _write_json(out / "model_outputs.manifest.json", {"engine": f"ray+{ray_engine}", "model": model,
                                                          "replicas": ray_replicas, "sampling": vars(sampling),
                                                          "eval_set": eval_set, "eval_set_hash": _hash_frame(data)})
    else:
        backend = _generation_backend(model, engine, base_url, concurrency, api_key_env, chat_template, allow_key_to)
        generator = name or (Path(model).stem if model else "SmolLM2-135M-Instruct")
        if backend.name == "llamacpp" and model is None and chat_template is None:
            reusable_llama = backend  # the embedded model: the local judge can use it as it is

        async def run_generation():
            try:
                return await generate_async(data, backend, store, sampling, generator, progress)
            finally:
                await backend.close()

        cand, gen_summary = asyncio.run(run_generation())
        gen_manifest = {"engine": backend.name, "engine_version": _engine_version(backend.name),
                        "model": backend.model, "generator": generator, "sampling": vars(sampling),
                        "chat_template": getattr(backend, "chat_template", None),
                        "eval_set": eval_set, "eval_set_hash": _hash_frame(data), "n": len(data),
                        "counts": gen_summary, "versions": {"judgebench": __version__,
                                                            "python": platform.python_version()}}
        _write_json(out / "model_outputs.json", cand.to_dict("records"))
        _write_json(out / "model_outputs.manifest.json", gen_manifest)

    # Judge. The embedded judge reuses the embedded generator's model when both are SmolLM2.
    if spec.backend == "llamacpp" and judge_model is None and reusable_llama is not None:
        judge_be, judge_url = reusable_llama, None
    else:
        judge_be, judge_url = judge_backend(spec, Limits(concurrency=judge_concurrency), judge_model,
                                            base_url=judge_base_url, api_key_env=api_key_env,
                                            allow_key_to=allow_key_to)
    if wrap_judge is not None:
        judge_be = wrap_judge(judge_be)
    judged = cand[cand["output"].notna()]
    failed_generation = cand[cand["output"].isna()]
    base_by = None if base is None else {r["instruction"]: r for r in base.to_dict("records")}

    async def run_annotation():
        try:
            pairs = pairs_from_records(judged.to_dict("records"), base_by, multi_turn)
            return await annotate_pairs(pairs, spec, judge_be, store, progress)
        finally:
            await judge_be.close()

    run = asyncio.run(run_annotation())
    records = run.records + [
        {"instruction": r["instruction"], "output_1": "" if base_by is None else
         base_by[r["instruction"]]["output"], "generator_1": "baseline",
         "output_2": "", "generator_2": r["generator"], "annotator": spec.name, "preference": None,
         "failure": f"generation failed: {r.get('failure')}"} for r in failed_generation.to_dict("records")]
    run.manifest = annotation_manifest(spec, judge_be, judge_url, run)
    _write_json(out / "annotations.json", records)
    _write_json(out / "annotations.manifest.json", run.manifest)

    summary = {"eval_set": eval_set, "n": len(data), "generator": cand["generator"].iloc[0] if len(cand) else None,
               "judge": spec.name, "generation": gen_summary, "annotation": run.summary}
    if not multi_turn and len(judged):
        summary["cheating"] = detect(judged)
    if tiny_model is not None:
        from .stats.irt import estimate_from_annotations

        frame = annotations_frame(records, out / "annotations.json", keep_extra=False)
        try:
            est = estimate_from_annotations(tiny_model, frame)
        except InputError as e:  # too many failed anchors: the judgments are saved; say so, claim nothing
            summary["tiny_error"] = str(e)
        else:
            summary["tiny_estimate"] = est
            summary["estimated_win_rate"] = est["estimate"]
            summary["note"] = (f"ESTIMATE of the full {eval_set} win rate from {est['n_anchors']} anchor judgments "
                               f"({est['recommended']}); not a measured win rate")
    elif spec.protocol == "mtbench-single":
        scores = [r["score"] for r in run.records if r.get("score") is not None]
        summary["mt_bench_score"] = sum(scores) / len(scores) if scores else None
        summary["n_scored"] = len(scores)
    else:
        frame = annotations_frame([r for r in records if not isinstance(r["output_1"], list)], out / "annotations.json",
                                  keep_extra=False)
        board, info = make_leaderboard(frame, n_boot=n_boot, workers=1, detect_cheating=False)
        if "cheating" in summary:
            board["cheating_flags"] = flag_summary(summary["cheating"])
        write_leaderboard(board, out / "leaderboard.csv")
        row = board.iloc[0].to_dict()
        summary.update({k: _plain(v) for k, v in row.items()})
        summary["lc_difficulty"] = info["lc_difficulty"]
        if leaderboard is not None:
            existing = read_leaderboard(leaderboard) if Path(leaderboard).exists() else None
            merged = board if existing is None else pd.concat([existing.drop(board.index, errors="ignore"), board])
            write_leaderboard(merged.sort_values("length_controlled_winrate" if merged[
                "length_controlled_winrate"].notna().any() else "win_rate", ascending=False), leaderboard)
    summary["cost"] = run.summary["cost"]
    summary["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    _write_json(out / "summary.json", summary)
    store.close()
    return summary


def _plain(v):
    try:
        return v.item()
    except AttributeError:
        return v


def _hash_frame(df: pd.DataFrame) -> str:
    import hashlib

    return hashlib.sha256("\x00".join(df["instruction"]).encode()).hexdigest()[:16]


def _engine_version(name: str) -> str | None:
    import importlib.metadata

    package = {"llamacpp": "llama-cpp-python", "vllm": "vllm", "openai": "aiohttp"}.get(name)
    try:
        return importlib.metadata.version(package) if package else None
    except importlib.metadata.PackageNotFoundError:
        return None
