"""The vLLM backend against a stand-in `vllm` (tests/fake_vllm) that is itself held to vLLM's real API.

vLLM cannot run here (no GPU, no CPU wheel). tests/data/vllm_api_snapshot.json holds the signatures and
fields of the pinned vLLM, read from its wheel by scripts/vllm_signatures.py; the first two tests hold the
stand-in and the backend's own calls against it, so neither can drift from the real API unnoticed."""

import asyncio
import dataclasses
import enum
import gc
import inspect
import json
import logging
import math
import sys
import time
from pathlib import Path

import pytest
import tomllib

from judgebench.backends import BackendError, CompletionRequest, Limits, make_backend
from judgebench.judges.parsers import logprob_labels

TESTS = Path(__file__).resolve().parents[1]
SNAPSHOT = json.loads((TESTS / "data" / "vllm_api_snapshot.json").read_text())
REAL = SNAPSHOT["classes"]


def ask(content: str, **kw) -> CompletionRequest:
    return CompletionRequest(({"role": "user", "content": content},), **{"max_tokens": 16, **kw})


def run_all(backend, requests, stagger: float = 0.0):
    async def one(i, r):
        await asyncio.sleep(i * stagger)
        return await backend.complete(r)

    async def go():
        return await asyncio.gather(*(one(i, r) for i, r in enumerate(requests)), return_exceptions=True)

    return asyncio.run(go())


def _real_params(cls: str, method: str) -> dict[str, dict]:
    return {p["name"]: p for p in REAL[cls]["methods"][method]}


def _check_signature(fake_fn, cls: str, method: str):
    real = _real_params(cls, method)
    kinds = {
        inspect.Parameter.POSITIONAL_OR_KEYWORD: "positional_or_keyword",
        inspect.Parameter.KEYWORD_ONLY: "keyword_only",
        inspect.Parameter.VAR_KEYWORD: "var_keyword",
        inspect.Parameter.VAR_POSITIONAL: "var_positional",
        inspect.Parameter.POSITIONAL_ONLY: "positional_only",
    }
    for name, p in inspect.signature(fake_fn).parameters.items():
        assert name in real, (
            f"stand-in {cls}.{method} takes {name!r}, which vLLM {SNAPSHOT['vllm_version']} lacks"
        )
        assert kinds[p.kind] == real[name]["kind"], f"{cls}.{method}({name}) is {real[name]['kind']} in vLLM"
        if p.default is not inspect.Parameter.empty:
            d = p.default
            source = f"{type(d).__name__}.{d.name}" if isinstance(d, enum.Enum) else repr(d)
            assert source == real[name].get("default"), f"{cls}.{method}({name}) default differs"
        else:
            assert "default" not in real[name] or p.kind == inspect.Parameter.VAR_KEYWORD


def test_snapshot_is_of_the_pinned_vllm():
    extras = tomllib.loads((TESTS.parent / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert extras["vllm"] == [f"vllm=={SNAPSHOT['vllm_version']}"]


def test_stand_in_matches_the_real_vllm_api(vllm):
    for method in ("__init__", "chat", "generate", "get_tokenizer"):
        _check_signature(getattr(vllm.LLM, method), "LLM", method)
    _check_signature(vllm.outputs.RequestOutput.__init__, "RequestOutput", "__init__")
    # LLM(**kwargs) goes to EngineArgs: the stand-in accepts only real EngineArgs fields
    assert set(REAL["EngineArgs"]["fields"]) >= vllm.ENGINE_KWARGS
    # the async engine Ray Data's vLLM stage drives
    from vllm.v1.engine.async_llm import AsyncLLM

    for method in ("from_engine_args", "generate", "do_log_stats", "shutdown"):
        _check_signature(getattr(AsyncLLM, method), "AsyncLLM", method)
    assert vllm.AsyncLLMEngine is AsyncLLM
    assert (
        set(REAL["EngineArgs"]["fields"]) | set(REAL["AsyncEngineArgs"]["fields"])
        >= vllm.engine.arg_utils.ASYNC_ENGINE_KWARGS
    )
    # SamplingParams: every keyword the stand-in takes is a real field, with the real default
    fields = REAL["SamplingParams"]["fields"]
    for name, p in inspect.signature(vllm.SamplingParams).parameters.items():
        assert name in fields and repr(p.default) == fields[name], name
    # result types: the same fields (so reading one vLLM lacks fails here too), the same defaults
    for fake, cls in (
        (vllm.outputs.CompletionOutput, "CompletionOutput"),
        (vllm.logprobs.Logprob, "Logprob"),
    ):
        ours = {
            f.name: (None if f.default is dataclasses.MISSING else repr(f.default))
            for f in dataclasses.fields(fake)
        }
        assert ours == REAL[cls]["fields"], cls
    # the limits the backend reads from llm.model_config, with vLLM's defaults
    assert {"max_model_len", "max_logprobs"} <= set(REAL["ModelConfig"]["fields"])
    assert "default=20" in REAL["ModelConfig"]["fields"]["max_logprobs"]
    assert vllm.LLM("m").model_config.max_logprobs == 20
    assert SNAPSHOT["constants"]["MAX_LOGPROB_TOKEN_IDS"] == vllm.sampling_params.MAX_LOGPROB_TOKEN_IDS


def _outcome(call) -> dict:
    try:
        value = call()
    except Exception as err:
        return {"raises": type(err).__name__, "message": str(err)}
    return {"returns": value}


def _settings(params, names: list[str]) -> dict:
    return {k: getattr(params, k) for k in names}


def test_stand_in_refuses_what_vllm_refuses_with_its_texts(vllm):
    """Every probe that scripts/vllm_signatures.py ran through vLLM 0.29.0's own checks (the exception's type and
    text, or the settings after vLLM's adjustments) is answered the same by the stand-in."""
    checks = SNAPSHOT["checks"]
    assert any("_verify_args" in s for s in checks["sources"])
    for probe in checks["sampling_params"]:
        shown = list(probe.get("returns", {}))
        got = _outcome(lambda kw=probe["kwargs"], shown=shown: _settings(vllm.SamplingParams(**kw), shown))
        assert got == {k: probe[k] for k in ("raises", "message", "returns") if k in probe}, probe
    engine = checks["verify"]["engine"]
    for probe in checks["verify"]["probes"]:
        got = _outcome(
            lambda kw=probe["kwargs"]: vllm.SamplingParams(**kw).verify(
                engine["max_logprobs"], engine["vocab_size"]
            )
        )
        assert got == {k: probe[k] for k in ("raises", "message", "returns") if k in probe}, probe
    limit = checks["prompt_length"]["max_model_len"]
    for probe in checks["prompt_length"]["probes"]:
        got = _outcome(lambda n=probe["length"]: vllm.check_prompt_length(n, limit))
        assert got == {k: probe[k] for k in ("raises", "message", "returns") if k in probe}, probe
    # the probes cover the ranges the issue names
    refused = {tuple(p["kwargs"]) for p in checks["sampling_params"] if "raises" in p}
    for name in ("temperature", "top_p", "min_p", "stop", "max_tokens"):
        assert any(name in k for k in refused), name
    assert any(
        p["kwargs"].get("top_k") == 2.5 and "integer" in p["message"] for p in checks["sampling_params"]
    )


def test_the_engine_path_uses_the_recorded_checks(vllm):
    """The stand-in's engine refuses a prompt by the same rule (an exact fit is refused too) and the backend fails
    only that request, with vLLM's text."""
    llm = vllm.LLM("m", max_model_len=5)
    params = vllm.SamplingParams(max_tokens=1)
    with pytest.raises(
        vllm.exceptions.VLLMValidationError, match="plus the number of requested output tokens"
    ):
        llm.generate("the answer is yes yes", params)  # 5 tokens: no room for one more
    assert llm.generate("the answer is yes", params)[0].outputs[0].finish_reason == "length"


def test_the_backend_calls_only_what_vllm_has(vllm, monkeypatch):
    """Every keyword the backend passes to LLM(), SamplingParams() and LLM.chat() exists in the real API."""
    seen = {"LLM": set(), "SamplingParams": set(), "chat": set()}
    real_llm, real_params, real_chat = vllm.LLM, vllm.SamplingParams, vllm.LLM.chat

    def llm(*args, **kw):
        seen["LLM"] |= set(kw)
        return real_llm(*args, **kw)

    def params(**kw):
        seen["SamplingParams"] |= set(kw)
        return real_params(**kw)

    def chat(self, *args, **kw):
        seen["chat"] |= set(kw)
        return real_chat(self, *args, **kw)

    monkeypatch.setattr(vllm, "LLM", llm)
    monkeypatch.setattr(vllm, "SamplingParams", params)
    monkeypatch.setattr(real_llm, "chat", chat)
    backend = make_backend("vllm", model="/models/judge", max_model_len=60, tensor_parallel_size=2)
    run_all(
        backend,
        [
            ask("hi", logprobs=True, top_logprobs=3),
            ask("hi", logprobs=True, labels=("m", "M")),
            ask("hi", temperature=0.7, seed=3, stop=("yes",)),
        ],
    )
    assert seen["LLM"] <= set(_real_params("LLM", "__init__")) | set(REAL["EngineArgs"]["fields"])
    assert seen["SamplingParams"] <= set(REAL["SamplingParams"]["fields"])
    assert {"max_tokens", "logprobs", "logprob_token_ids", "top_k"} <= seen["SamplingParams"]
    assert seen["chat"] and seen["chat"] <= set(_real_params("LLM", "chat"))


def test_one_engine_call_at_a_time(vllm):
    """16 callers arriving a little apart: the stand-in engine fails loudly if two batches overlap
    (on the old code, the next batch started while one was still in its worker thread)."""
    vllm.STEP_SECONDS = 0.05
    backend = make_backend("vllm", model="m", batch_window=0.01)
    results = run_all(backend, [ask(f"q{i}") for i in range(16)], stagger=0.004)
    assert all(not isinstance(r, Exception) for r in results), results
    assert [r.text for r in results] == ["M the answer is yes"] * 16
    assert sum(backend.llm.engine.calls) == 16


def test_context_comes_from_the_engine_and_a_too_long_prompt_fails_alone(vllm):
    backend = make_backend("vllm", model="m")  # no max_model_len given: the engine's own (64) applies
    assert backend.max_model_len == vllm.NATIVE_CONTEXT == 64
    ok, long = run_all(backend, [ask("hello there"), ask("word " * 80)])
    assert ok.text == "M the answer is yes" and ok.finish_reason == "stop"
    assert isinstance(long, BackendError) and "context of 64" in str(long) and "82 tokens" in str(long)
    assert backend.llm.engine.calls == [1]  # only the short one reached the engine
    # a prompt that fits but leaves less than max_tokens: generated up to the context, finish "length"
    (cut,) = run_all(backend, [ask("word " * 58)])
    assert cut.finish_reason == "length" and cut.completion_tokens == 64 - 60


def test_an_engine_refusal_fails_only_the_request_it_concerns(vllm, monkeypatch):
    """If vLLM refuses a whole batch for one request, the others are still answered."""
    backend = make_backend("vllm", model="m")
    monkeypatch.setattr(
        backend, "prompt_length", lambda r: 1
    )  # the length guard misses it: the engine refuses
    results = run_all(backend, [ask("a"), ask("word " * 80), ask("b")])
    assert [r.text for r in (results[0], results[2])] == ["M the answer is yes"] * 2
    assert isinstance(results[1], BackendError) and "longer than the maximum model length" in str(results[1])


def test_label_logprobs_are_exact_and_tokens_that_decode_alike_are_combined(vllm):
    backend = make_backend("vllm", model="m")
    labelled, top5, top1 = run_all(
        backend,
        [
            ask("judge", max_tokens=1, temperature=1.0, logprobs=True, top_logprobs=5, labels=("m", "M")),
            ask("judge", max_tokens=1, logprobs=True, top_logprobs=5),
            ask("judge", max_tokens=1, logprobs=True, top_logprobs=1, labels=("m", "M")),
        ],
    )
    # the stand-in model: P(▁M)=.40, P(M)=.25, P(▁m)=.15, P(m)=.10; ▁M and M both read "M"
    assert labelled.top_logprobs[0]["M"] == pytest.approx(math.log(0.65))
    assert labelled.top_logprobs[0]["m"] == pytest.approx(math.log(0.25))
    assert logprob_labels(labelled, ("m", "M"))[0] == pytest.approx(2 - 0.25 / 0.90)
    # top-k without labels: combined by decoded string, not overwritten by the lower-ranked token
    assert top5.top_logprobs[0]["M"] == pytest.approx(math.log(0.65))
    assert list(top5.top_logprobs[0]) == ["M", "m", "the"]
    # with labels, a label outside the top k still counts
    assert top1.top_logprobs[0]["m"] == pytest.approx(math.log(0.25))


def test_top_logprobs_above_the_engines_max_are_capped_with_a_message(vllm, caplog):
    backend = make_backend("vllm", model="m", max_logprobs=3)
    with caplog.at_level(logging.WARNING):
        (r,) = run_all(backend, [ask("judge", max_tokens=1, logprobs=True, top_logprobs=5)])
    assert not isinstance(r, Exception), r
    assert list(r.top_logprobs[0]) == ["M", "m"]  # ▁M, M, ▁m: the engine's top 3, combined by string
    assert "max_logprobs 3" in caplog.text


def test_batches_are_sized_by_max_batch_not_by_the_commands_concurrency(vllm):
    backend = make_backend("vllm", model="m", limits=Limits(concurrency=8), max_batch=256, batch_window=0.05)
    run_all(backend, [ask(f"q{i}") for i in range(40)])
    assert backend.llm.engine.calls == [40]


def test_a_request_timeout_leaves_the_batch_and_the_next_requests_intact(vllm):
    vllm.STEP_SECONDS = 0.3
    backend = make_backend("vllm", model="m", limits=Limits(timeout=0.1, max_retries=0))
    errors = []

    async def go():
        asyncio.get_running_loop().set_exception_handler(lambda loop, ctx: errors.append(ctx))
        first = await asyncio.gather(
            *(backend.complete(ask(f"q{i}")) for i in range(3)), return_exceptions=True
        )
        await asyncio.sleep(0.4)  # the timed-out batch finishes on the engine meanwhile
        backend.limits.timeout = 5.0
        after = await backend.complete(ask("again"))
        gc.collect()  # a task that died with an exception reports it when collected
        return first, after

    first, after = asyncio.run(go())
    assert all(isinstance(e, BackendError) and "TimeoutError" in str(e) for e in first)
    assert after.text == "M the answer is yes"
    assert errors == []


def test_finish_reason_and_token_counts(vllm):
    backend = make_backend("vllm", model="m")
    short, full = run_all(backend, [ask("hi", max_tokens=2), ask("hi", max_tokens=16)])
    assert (short.text, short.finish_reason, short.completion_tokens) == ("M the", "length", 2)
    # "M the answer is yes" then the end-of-sequence token, which vLLM counts among the generated tokens
    assert (full.text, full.finish_reason, full.completion_tokens) == ("M the answer is yes", "stop", 6)
    assert full.prompt_tokens == 3  # "<user> hi <assistant>" in the stand-in's one-token-a-word tokenizer


def test_missing_vllm_is_a_clear_error(monkeypatch):
    from judgebench.backends import FatalBackendError

    monkeypatch.setitem(sys.modules, "vllm", None)
    with pytest.raises(FatalBackendError, match="judgebench\\[vllm\\]"):
        make_backend("vllm", model="x")


def test_stand_in_engine_refuses_concurrent_use(vllm):
    """The guard the concurrency test relies on: it can fail."""
    import threading

    vllm.STEP_SECONDS = 0.1
    llm = vllm.LLM("m")
    errors = []

    def call():
        try:
            llm.chat([[{"role": "user", "content": "x"}]], [vllm.SamplingParams(max_tokens=1)])
        except RuntimeError as err:
            errors.append(err)

    threads = [threading.Thread(target=call) for _ in range(2)]
    for t in threads:
        t.start()
        time.sleep(0.02)
    for t in threads:
        t.join()
    assert len(errors) == 1  # the second caller failed (a stand-in's guard: no text of vLLM's to match)


def test_the_signature_reader_reads_kinds_defaults_and_fields():
    """scripts/vllm_signatures.py on a snippet whose answer is known by reading it."""
    import ast
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "vllm_signatures", TESTS.parent / "scripts" / "vllm_signatures.py"
    )
    reader = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(reader)
    tree = ast.parse(
        "class A:\n"
        "    x: int\n"
        "    y: str | None = None\n"
        "    def f(self, a, b=1, *args, c, d='z', **kw): ...\n"
        "    async def g(self, /, e=2.5): ...\n"
    )
    cls = tree.body[0]
    assert reader._fields(cls) == {"x": None, "y": "None"}
    f, g = cls.body[2], cls.body[3]
    assert reader._signature(f) == [
        {"name": "self", "kind": "positional_or_keyword"},
        {"name": "a", "kind": "positional_or_keyword"},
        {"name": "b", "kind": "positional_or_keyword", "default": "1"},
        {"name": "args", "kind": "var_positional"},
        {"name": "c", "kind": "keyword_only"},
        {"name": "d", "kind": "keyword_only", "default": "'z'"},
        {"name": "kw", "kind": "var_keyword"},
    ]
    assert reader._signature(g) == [
        {"name": "self", "kind": "positional_only"},
        {"name": "e", "kind": "positional_or_keyword", "default": "2.5"},
    ]


def test_keys_in_records_logged_by_vllm_or_judgebench_are_masked(vllm, monkeypatch):
    """vLLM logs through python logging (its own handler on the `vllm` logger, set up on import); a key in
    a URL, a header or an error it (or judgebench) logs must not reach that handler's stream."""
    import io

    from judgebench.files.redact import remember_secret

    key = "zq7-short"  # a key of any length, given to judgebench
    remember_secret(key)
    monkeypatch.setenv("JUDGE_API_KEY", "env-key-4242")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)  # as vLLM's own logging config does
    handler.setFormatter(logging.Formatter("%(name)s %(message)s"))
    vllm_logger = logging.getLogger("vllm")
    monkeypatch.setattr(vllm_logger, "handlers", [handler])
    monkeypatch.setattr(vllm_logger, "propagate", False)
    make_backend("vllm", model="m")  # the engine is set up: the filter is installed
    try:
        raise RuntimeError(f"401 from server: Authorization: Bearer {key}")
    except RuntimeError:
        logging.getLogger("vllm.entrypoints.openai").exception(
            "request to %s failed with headers %s", f"http://u:{key}@h/v1?api_key={key}", {"x-api-key": key}
        )
    logging.getLogger("vllm.engine").warning("retrying with env-key-4242 in %s", "http://h/v1")
    text = stream.getvalue()
    assert "request to" in text and "retrying with" in text and "RuntimeError" in text  # logged, masked
    assert key not in text and "env-key-4242" not in text, text
    assert text.count("[REDACTED]") >= 5


def test_the_filter_masks_a_record_carrying_a_key():
    from judgebench.files.redact import RedactingFilter, remember_secret

    remember_secret("k3y-of-ours")
    record = logging.LogRecord(
        "judgebench.generation",
        logging.ERROR,
        __file__,
        1,
        "GET %s -> %r",
        ("http://h/?token=abc123", "k3y-of-ours"),
        None,
    )
    assert RedactingFilter().filter(record)  # masked, never dropped
    assert record.getMessage() == "GET http://h/?token=[REDACTED] -> '[REDACTED]'"
