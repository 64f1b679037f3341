"""Generation: a model's outputs on an eval set, through any backend, stored as they finish.

    outputs, summary = generate(eval_set, backend, store, Sampling(max_tokens=512), generator="my-ckpt")

Each generation is keyed by the model, the sampling settings and the exact messages sent, and
committed the moment it returns; a rerun generates only what is missing. Multi-turn sets (MT-Bench:
a `turns` column) are generated turn by turn, each turn's prompt holding the model's own earlier
answers. A prompt the engine refuses (too long for the context, say) is recorded per instruction
with its reason, not crashed on; empty and truncated (finish_reason "length") outputs are flagged.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from dataclasses import asdict, replace
from typing import Any

import pandas as pd

from judgebench.backends import Backend, BackendError, CompletionRequest, FatalBackendError
from judgebench.generation.sampling import Sampling
from judgebench.progress import Progress
from judgebench.store import Store


def generation_key(model: str, sampling: Sampling, messages: list[dict]) -> str:
    settings = asdict(sampling)
    settings.pop("n")  # a sample is keyed by its own seed: sample 0 of n=4 is the n=1 generation
    blob = json.dumps([model, settings, messages], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _messages(sampling: Sampling, turns: list[str], answers: list[str]) -> list[dict]:
    messages = [{"role": "system", "content": sampling.system_prompt}] if sampling.system_prompt else []
    for t, user in enumerate(turns):
        messages.append({"role": "user", "content": user})
        if t < len(answers):
            messages.append({"role": "assistant", "content": answers[t]})
    return messages


async def _one(
    backend: Backend, store: Store, sampling: Sampling, instruction: str, turns: list[str], counts: dict, bar
) -> list[dict]:
    """All turns of one instruction, in order; returns one stored generation per turn done."""
    answers: list[str] = []
    results: list[dict] = []
    for t in range(len(turns)):
        messages = _messages(sampling, turns[: t + 1], answers)
        key = generation_key(backend.model, sampling, messages)
        found = store.get_generations([key]).get(key)
        if found and found["status"] == "ok":
            counts["cached"] += 1
        else:
            request = CompletionRequest(
                tuple(messages), sampling.max_tokens, sampling.temperature, sampling.top_p, seed=sampling.seed
            )
            try:
                r = await backend.complete(request)
                found = {
                    "key": key,
                    "model": backend.model,
                    "instruction": instruction,
                    "turn": t + 1,
                    "status": "ok",
                    "output": r.text,
                    "finish_reason": r.finish_reason,
                    "prompt_tokens": r.prompt_tokens,
                    "completion_tokens": r.completion_tokens,
                }
                counts["generated"] += 1
            except FatalBackendError:
                raise
            except BackendError as err:
                found = {
                    "key": key,
                    "model": backend.model,
                    "instruction": instruction,
                    "turn": t + 1,
                    "status": "failed",
                    "reason": str(err),
                }
                counts["failed"] += 1
            await store.aput_generation(found)
            bar.step()
        results.append(found)
        if found["status"] != "ok":
            break  # a later turn needs this turn's answer
        answers.append(found["output"])
    return results


async def generate_async(
    eval_set: pd.DataFrame,
    backend: Backend,
    store: Store,
    sampling: Sampling,
    generator: str,
    progress: bool = False,
) -> tuple[pd.DataFrame, dict]:
    rows = eval_set.to_dict("records")
    turns_of = [r["turns"] if isinstance(r.get("turns"), list) else [r["instruction"]] for r in rows]
    counts: dict[str, Any] = {
        "instructions": len(rows),
        "generated": 0,
        "cached": 0,
        "failed": 0,
        "empty": 0,
        "truncated": 0,
        "prompt_tokens": 0,
        "completion_tokens": 0,
    }
    bar = Progress(sampling.n * sum(map(len, turns_of)), "gen", progress)
    t0 = time.perf_counter()
    samples = [sampling] + [replace(sampling, seed=(sampling.seed or 0) + k) for k in range(1, sampling.n)]
    try:
        per_sample = [
            await asyncio.gather(
                *(
                    _one(backend, store, s, r["instruction"], turns, counts, bar)
                    for r, turns in zip(rows, turns_of, strict=True)
                )
            )
            for s in samples
        ]
    finally:
        bar.close()
    results = per_sample[0]  # sample 0 is the output that is judged
    out, problems = [], []
    for i, (r, turns, res) in enumerate(zip(rows, turns_of, results, strict=True)):
        ok = len(res) == len(turns) and all(g["status"] == "ok" for g in res)
        texts = [g.get("output") for g in res]
        record = {
            "instruction": r["instruction"],
            "output": (texts if len(turns) > 1 else texts[0]) if ok else None,
            "generator": generator,
            "dataset": r.get("dataset"),
        }
        if sampling.n > 1:  # every sample, for best-of-n or pass@k downstream
            record["samples"] = [
                [g.get("output") for g in extra[i]] if len(turns) > 1 else extra[i][0].get("output")
                for extra in per_sample
            ]
        if len(turns) > 1:
            record["turns"] = turns
            if r.get("reference"):
                record["reference"] = r["reference"]
        for g in res:
            counts["prompt_tokens"] += g.get("prompt_tokens") or 0
            counts["completion_tokens"] += g.get("completion_tokens") or 0
            if g["status"] == "ok" and not (g["output"] or "").strip():
                counts["empty"] += 1
                problems.append({"instruction": r["instruction"][:80], "turn": g["turn"], "problem": "empty"})
            if g["status"] == "ok" and g.get("finish_reason") == "length":
                counts["truncated"] += 1
                problems.append(
                    {"instruction": r["instruction"][:80], "turn": g["turn"], "problem": "truncated"}
                )
            if g["status"] != "ok":
                problems.append(
                    {
                        "instruction": r["instruction"][:80],
                        "turn": g["turn"],
                        "problem": f"failed: {g.get('reason')}",
                    }
                )
                record["failure"] = g.get("reason")
        out.append(record)
    counts["seconds"] = time.perf_counter() - t0
    counts["problems"] = problems
    return pd.DataFrame(out), counts
