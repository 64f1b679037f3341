"""Annotation: judge each (baseline, candidate) pair, paying for each judge call once.

    result = annotate_files(AnnotateConfig(outputs="outputs.json", baseline="baseline.json", judge="alpacaeval2",
                                           store="judge.sqlite"))

For every pair the protocol lists its calls; each call's key (judge, model, decoding, rendered
messages) is looked up in the store; only missing ones are sent, at most `concurrency` at a time,
each committed as it arrives. An unparsable reply is asked again up to `max_parse_retries` times
and then recorded as failed with its reason; a failed call is never a tie and never vanishes: its
pair's preference is None and the summary counts it. A rerun retries failed calls.
"""

from __future__ import annotations

import asyncio
import collections
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from judgebench.annotation.calls import judge_calls
from judgebench.annotation.config import AnnotateConfig
from judgebench.annotation.pairs import pairs_from_files
from judgebench.annotation.pipeline import closing
from judgebench.backends import (
    Backend,
    BackendError,
    CompletionRequest,
    CompletionResponse,
    FatalBackendError,
    build_backend,
)
from judgebench.errors import ConfigError
from judgebench.files.records import InputError
from judgebench.judges import load_judge
from judgebench.judges.parsers import PARSERS
from judgebench.judges.protocols import Pair, Protocol, protocol_of
from judgebench.judges.spec import JudgeSpec
from judgebench.progress import Progress, run_versions
from judgebench.store import Judgment, Store

LEASE_BATCH_MAX = 512  # keys leased in one transaction, at most (at least 2 x concurrency, and 32)


@dataclass
class AnnotationRun:
    records: list[dict]
    summary: dict
    manifest: dict = field(default_factory=dict)
    first_call_at: float | None = None  # time.time() when the first judge call left; None: no call made


def request_for(spec: JudgeSpec, messages: list[dict]) -> CompletionRequest:
    d = spec.decoding
    if "max_tokens" not in d:
        raise InputError(
            "judge spec sets no max_tokens",
            path=spec.source,
            field="decoding.max_tokens",
            hint="set it explicitly: engines' defaults (vLLM: 16) silently truncate",
        )
    return CompletionRequest(
        messages=tuple(messages),
        max_tokens=int(d["max_tokens"]),
        temperature=float(d.get("temperature", 0.0)),
        top_p=float(d.get("top_p", 1.0)),
        logprobs=bool(d.get("logprobs", False)),
        top_logprobs=int(d.get("top_logprobs", 0)),
        seed=d.get("seed"),
        labels=tuple(spec.labels) if spec.parser.startswith("logprob") else (),
    )


def parse(spec: JudgeSpec, response: CompletionResponse) -> tuple[float | None, str | None]:
    return PARSERS.pick(spec.parser, where=spec.source)(response, labels=spec.labels, **spec.parser_kwargs)


async def _judge_one(
    spec: JudgeSpec,
    backend: Backend,
    store: Store,
    key: str,
    instruction: str,
    slot: str,
    messages: list[dict],
    progress: Progress,
    counts: dict,
    first_call: list[float],
) -> None:
    request = request_for(spec, messages)
    raws, reason, verdict = [], None, None
    prompt_tokens = completion_tokens = 0
    if not first_call:  # a wall-clock fact of the run, kept out of its counts
        first_call.append(time.time())
    for attempt in range(1 + spec.max_parse_retries):
        try:
            response = await backend.complete(request)
        except FatalBackendError:
            raise
        except BackendError as err:
            reason = f"backend: {err}"
            break
        raws.append(response.to_raw())
        prompt_tokens += response.prompt_tokens
        completion_tokens += response.completion_tokens
        verdict, reason = parse(spec, response)
        if verdict is not None:
            break
        counts["parse_retries"] += attempt < spec.max_parse_retries
    cost = spec.cost(prompt_tokens, completion_tokens)
    status = "ok" if verdict is not None else "failed"
    await store.aput(
        Judgment(
            key,
            spec.name,
            spec.hash,
            backend.model,
            instruction,
            slot,
            status,
            verdict,
            reason,
            raws,
            len(raws),
            prompt_tokens,
            completion_tokens,
            cost,
        )
    )
    counts["succeeded" if status == "ok" else "failed"] += 1
    if status == "failed":
        kind = reason.split(":")[0] if reason else "unknown"
        counts["failed_reasons"][kind] = counts["failed_reasons"].get(kind, 0) + 1
    counts["prompt_tokens"] += prompt_tokens
    counts["completion_tokens"] += completion_tokens
    counts["cost"] += cost
    progress.step(cost=cost)


async def _call_leased(
    keys: list[str],
    spec: JudgeSpec,
    backend: Backend,
    store: Store,
    todo: dict,
    bar: Progress,
    counts: dict,
    first_call: list[float],
) -> list[str]:
    """Lease and judge `keys`; returns those another process holds. Every worker takes the next leased
    key the moment it is free, so no worker idles while another has a queue (no batch tails); leases
    are taken in big batches in the store's writer thread, the next batch while the current one is
    still being judged, so the event loop never waits on the database."""
    concurrency = max(1, backend.limits.concurrency)
    batch = min(LEASE_BATCH_MAX, max(2 * concurrency, 32))
    start = random.randrange(len(keys)) if keys else 0  # processes sharing a store start at different places
    pending = collections.deque(keys[start:] + keys[:start])
    ready: collections.deque[str] = collections.deque()
    held_elsewhere: list[str] = []
    leasing: asyncio.Task | None = None

    async def lease_more() -> None:
        nonlocal leasing
        try:
            while pending and len(ready) < concurrency:
                wanted = [pending.popleft() for _ in range(min(batch, len(pending)))]
                mine = await store.alease(wanted)
                taken = set(mine)
                held_elsewhere.extend(k for k in wanted if k not in taken)
                ready.extend(mine)
        finally:
            leasing = None

    async def worker() -> None:
        nonlocal leasing
        while True:
            if len(ready) < concurrency and pending and leasing is None:
                leasing = asyncio.ensure_future(lease_more())
            if not ready:
                if leasing is None:
                    return
                await asyncio.shield(leasing)
                continue
            key = ready.popleft()
            instruction, slot, messages = todo[key]
            await _judge_one(spec, backend, store, key, instruction, slot, messages, bar, counts, first_call)

    workers = [asyncio.ensure_future(worker()) for _ in range(concurrency)]
    try:
        await asyncio.gather(*workers)
    except BaseException:
        for w in workers:
            w.cancel()
        if leasing is not None:
            leasing.cancel()
        await asyncio.gather(*workers, *([leasing] if leasing else []), return_exceptions=True)
        raise
    return held_elsewhere


async def annotate_pairs(
    pairs: list[Pair],
    spec: JudgeSpec,
    backend: Backend,
    store: Store,
    progress: bool = True,
    reparse: bool = False,
    poll_seconds: float = 0.5,
    offline: bool = False,
    protocol: Protocol | None = None,
) -> AnnotationRun:
    """offline: make no call; what the store lacks is reported as failed ("not in the store").
    protocol: overrides the spec's (the audit judges every pair in both orders)."""
    protocol = protocol or protocol_of(spec)
    plan = []  # (pair, [(slot, key)])
    todo: dict[str, tuple[str, str, list[dict]]] = {}
    for pair in pairs:
        calls = judge_calls(spec, pair, backend.model, protocol)
        plan.append((pair, [(c.slot, c.key) for c in calls]))
        for c in calls:
            todo.setdefault(c.key, (c.instruction, c.slot, c.messages))

    counts: dict[str, Any] = {
        "pairs": len(pairs),
        "calls": len(todo),
        "cached": 0,
        "succeeded": 0,
        "failed": 0,
        "reparsed": 0,
        "parse_retries": 0,
        "failed_reasons": {},
        "prompt_tokens": 0,
        "completion_tokens": 0,
        "cost": 0.0,
        "requests": 0,
        "retries": 0,
    }
    known = store.get_many(list(todo))
    if reparse:
        reparsed = []
        for key, j in known.items():
            verdict: float | None = None
            reason: str | None = "no response stored"
            for raw in reversed(j.raw):
                verdict, reason = parse(spec, CompletionResponse.from_raw(raw))
                if verdict is not None:
                    break
            reparsed.append((key, "ok" if verdict is not None else "failed", verdict, reason))
        store.update_verdicts(reparsed)  # one commit for all of them
        counts["reparsed"] = len(reparsed)
        known = store.get_many(list(todo))
    missing = [k for k in todo if k not in known or known[k].status != "ok"]
    counts["cached"] = len(todo) - len(missing)
    counts["retried_failed"] = sum(1 for k in missing if k in known)

    bar = Progress(0 if offline else len(missing), "call", progress)
    # The backend may have served other work before (the embedded generator doubles as the judge):
    # count only this run's requests.
    requests0, retries0 = backend.stats["requests"], backend.stats["retries"]
    t0, cpu0 = time.perf_counter(), time.process_time()
    pending = [] if offline else list(missing)
    first_call: list[float] = []
    try:
        while pending:
            held_elsewhere = await _call_leased(pending, spec, backend, store, todo, bar, counts, first_call)
            pending = []
            while held_elsewhere:  # another process holds these: wait for its results or its lease to lapse
                await asyncio.sleep(poll_seconds)
                # Leases first, results second: a holder commits its result before it releases the
                # lease, so a key whose lease is gone has its result visible by now (read the other
                # way round, a result committed between the two reads would be called again).
                lapsed = set(held_elsewhere) - store.leased_by_others(held_elsewhere)
                now = store.get_many(held_elsewhere)
                held_elsewhere = [k for k in held_elsewhere if not _settled(now.get(k), known.get(k))]
                pending += [k for k in held_elsewhere if k in lapsed]
                held_elsewhere = [k for k in held_elsewhere if k not in lapsed]
    finally:
        store.release_all()
        bar.close()
        counts["requests"] = backend.stats["requests"] - requests0
        counts["retries"] = backend.stats["retries"] - retries0
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - cpu0

    results = store.get_many(list(todo))
    records = []
    for pair, entries in plan:
        verdicts = {
            slot: (results[key].verdict if key in results and results[key].status == "ok" else None)
            for slot, key in entries
        }
        combined = protocol.combine(pair, verdicts)
        js = [results[key] for _, key in entries if key in results]
        record = {
            "instruction": pair.instruction,
            "output_1": pair.baseline,
            "generator_1": pair.generator_1,
            "dataset": pair.dataset,
            "output_2": pair.candidate,
            "generator_2": pair.generator_2,
            "annotator": spec.name,
            **combined,
            "price_per_example": sum(j.cost for j in js) if js else None,
            "raw_completion": {
                slot: results[key].raw[-1] if key in results and results[key].raw else None
                for slot, key in entries
            }
            or None,
        }
        failures = [
            results[key].reason for _, key in entries if key in results and results[key].status != "ok"
        ]
        failures += ["not in the store" for _, key in entries if offline and key not in results]
        if failures or (entries and combined.get(protocol.yields) is None):
            record["failure"] = "; ".join(r or "not judged" for r in failures) or "not judged"
        records.append(record)
    # A record without what its protocol yields (a preference, or a graded answer's score) is missing.
    counts["missing_preferences"] = sum(1 for r in records if r.get(protocol.yields) is None)
    counts["seconds"] = elapsed
    counts["cpu_seconds"] = cpu  # this process's CPU while calling: the client's own cost
    return AnnotationRun(records, counts, first_call_at=first_call[0] if first_call else None)


class _OfflineBackend(Backend):
    """Stands in for a backend that is not loaded because no call will be made (offline export)."""

    name = "offline"

    def __init__(self, model: str | None):
        super().__init__(model or "smollm2")


def _settled(now: Judgment | None, before: Judgment | None) -> bool:
    """Another process finished this call: it is ok now, or it failed again after we looked."""
    return now is not None and (now.status == "ok" or before is None or now.attempts > before.attempts)


def judge_backend(
    spec: JudgeSpec,
    limits,
    model: str | None = None,
    backend: str | None = None,
    base_url: str | Sequence[str] | None = None,
    api_key_env: str | None = None,
    offline: bool = False,
    allow_key_to: tuple[str, ...] = (),
) -> tuple[Backend, str | list[str] | None]:
    """The backend a judge spec runs on, with the caller's overrides; (backend, base_url(s) or None).
    Several base URLs: replicas of one judge, each call to the least busy (backends.replicas)."""
    name = backend or spec.backend
    urls = [base_url] if isinstance(base_url, str) else list(base_url or [])
    if offline and name != "openai":
        return _OfflineBackend(model or spec.model), None
    if name == "openai":
        be = build_backend(
            name,
            model=model or spec.model,
            limits=limits,
            api_key_env=api_key_env,
            base_url=urls if len(urls) > 1 else (urls[0] if urls else None) or spec.base_url,
            allow_key_to=allow_key_to,
            require_key=False if offline else None,  # offline: no call is made, so no key is needed
        )
        return be, getattr(be, "base_urls", None) or getattr(be, "base_url", None)
    if len(urls) > 1:
        raise ConfigError(
            f"several base URLs need an OpenAI-compatible judge; judge {spec.name} runs on {name}"
        )
    # llama.cpp: the spec's model name is a label; a path given here is a GGUF file
    return build_backend(
        name, model=model if name == "llamacpp" else model or spec.model, limits=limits
    ), None


def manifest(spec: JudgeSpec, backend: Backend, base_url: str | list[str] | None, run: AnnotationRun) -> dict:

    return {
        "judge": spec.name,
        "judge_hash": spec.hash,
        "judge_source": spec.source,
        "protocol": spec.protocol,
        "parser": spec.parser,
        "model": backend.model,
        "backend": backend.name,
        "base_url": base_url,
        "endpoint_used": getattr(backend, "url_used", None),  # after any same-origin redirect
        "decoding": spec.decoding,
        "price": spec.price,
        "limits": vars(backend.limits),
        "versions": run_versions("aiohttp"),
        **({"replicas": backend.replica_stats()} if hasattr(backend, "replica_stats") else {}),
        "counts": run.summary,
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def annotate_files(config: AnnotateConfig) -> AnnotationRun:
    """Judge every pair of config.outputs x config.baseline; the calls are cached in config.store."""
    from judgebench.annotation.jury import annotate_jury, parse_jury

    if parse_jury(config.judge) is not None:  # several judges as one: each member runs as below
        return annotate_jury(config, annotate_files)
    outputs, baseline, judge, store = config.outputs, config.baseline, config.judge, config.store
    progress, reparse, offline = config.progress, config.reparse, config.offline
    max_parse_retries, max_tokens = config.max_parse_retries, config.max_tokens
    started = time.time()
    spec = judge if isinstance(judge, JudgeSpec) else load_judge(judge)
    # the caller's spec stays as it was: the overrides apply to this run's copy
    if max_parse_retries is not None:
        spec = replace(spec, max_parse_retries=max_parse_retries)
    if max_tokens is not None:
        spec = replace(spec, decoding={**spec.decoding, "max_tokens": max_tokens})
    pairs = pairs_from_files(outputs, baseline, multi_turn=protocol_of(spec).multi_turn)
    be, url = judge_backend(
        spec,
        config.limits.for_backend(),
        config.model,
        config.backend,
        config.base_url,
        config.key.api_key_env,
        offline,
        config.key.allow_key_to,
    )

    async def run(db: Store) -> AnnotationRun:
        async with closing(be):
            return await annotate_pairs(
                pairs, spec, be, db, progress=progress, reparse=reparse, offline=offline
            )

    with Store(store) as db:  # closed on failure too
        result = asyncio.run(run(db))
    first = result.first_call_at
    # how long before the first call left (reading files, keys, store, leases), and the whole call's time
    result.summary["first_call_after_s"] = None if first is None else round(first - started, 4)
    result.summary["total_seconds"] = round(time.time() - started, 4)
    result.manifest = manifest(spec, be, url, result)
    # empty answers are judged as they are (a model may say nothing); the manifest says how many there were
    result.manifest["empty_outputs"] = {
        "candidate": sum(not p.candidate.strip() for p in pairs),
        "baseline": sum(not p.baseline.strip() for p in pairs),
    }
    return result
