"""The vLLM backend's calls, checked against vLLM's documented API with a stand-in `vllm` module.

A stand-in is used only because vLLM cannot run on these machines (no GPU, no CPU wheel on PyPI);
it records what it is called with and refuses anything outside the documented signatures."""

import asyncio
import sys
import types
from dataclasses import dataclass, field

import pytest

from judgebench.backends import CompletionRequest, make_backend


@dataclass
class Logprob:  # vllm.sequence.Logprob: logprob, rank, decoded_token
    logprob: float
    rank: int
    decoded_token: str


@dataclass
class CompletionOutput:
    text: str
    token_ids: list
    logprobs: list | None
    finish_reason: str = "length"


@dataclass
class RequestOutput:
    prompt_token_ids: list
    outputs: list = field(default_factory=list)


def _fake_vllm(calls):
    mod = types.ModuleType("vllm")

    class SamplingParams:
        def __init__(self, *, n=1, temperature=1.0, top_p=1.0, seed=None, max_tokens=16, logprobs=None, stop=None):
            self.kwargs = dict(n=n, temperature=temperature, top_p=top_p, seed=seed, max_tokens=max_tokens,
                               logprobs=logprobs, stop=stop)

    class LLM:
        def __init__(self, model, *, tensor_parallel_size=1, enable_prefix_caching=None, seed=0,
                     max_model_len=None, **kw):
            calls.append(("LLM", dict(model=model, tensor_parallel_size=tensor_parallel_size,
                                      enable_prefix_caching=enable_prefix_caching, seed=seed,
                                      max_model_len=max_model_len, **kw)))

        def get_tokenizer(self):
            class Tokenizer:  # one token per word, enough to check the length guard
                def apply_chat_template(self, conversation, tokenize=True, add_generation_prompt=False,
                                        chat_template=None):
                    return " ".join(m["content"] for m in conversation)

                def encode(self, text, add_special_tokens=True):
                    return text.split()
            return Tokenizer()

        def chat(self, messages, sampling_params=None, use_tqdm=True, chat_template=None, **kw):
            assert isinstance(messages, list) and all(isinstance(c, list) for c in messages)
            assert isinstance(sampling_params, list) and len(sampling_params) == len(messages)
            calls.append(("chat", len(messages), [p.kwargs for p in sampling_params]))
            out = []
            for conv, p in zip(messages, sampling_params, strict=True):
                top = {7: Logprob(-0.2, 1, "M"), 9: Logprob(-1.8, 2, "m")} if p.kwargs["logprobs"] else None
                out.append(RequestOutput(list(range(len(conv[-1]["content"]))),
                                         [CompletionOutput("M", [7], [top] if top else None)]))
            return out

    mod.LLM, mod.SamplingParams = LLM, SamplingParams
    return mod


def test_requests_are_batched_into_llm_chat_with_explicit_sampling(monkeypatch):
    calls = []
    monkeypatch.setitem(sys.modules, "vllm", _fake_vllm(calls))
    backend = make_backend("vllm", model="/models/judge", tensor_parallel_size=2, max_model_len=4096)
    assert calls[0] == ("LLM", {"model": "/models/judge", "tensor_parallel_size": 2, "enable_prefix_caching": True,
                                "seed": 0, "max_model_len": 4096})
    reqs = [CompletionRequest(({"role": "user", "content": f"q{i}"},), max_tokens=1, temperature=1.0, logprobs=True,
                              top_logprobs=5) for i in range(10)]

    async def go():
        return await asyncio.gather(*(backend.complete(r) for r in reqs))

    responses = asyncio.run(go())
    chats = [c for c in calls if c[0] == "chat"]
    assert sum(c[1] for c in chats) == 10 and len(chats) <= 2  # gathered into one or two batches
    params = chats[0][2][0]
    assert params["max_tokens"] == 1 and params["logprobs"] == 5 and params["temperature"] == 1.0
    assert responses[0].text == "M" and responses[0].top_logprobs == [{"M": -0.2, "m": -1.8}]
    assert responses[0].completion_tokens == 1


def test_a_prompt_too_long_fails_alone(monkeypatch):
    from judgebench.backends import BackendError

    calls = []
    monkeypatch.setitem(sys.modules, "vllm", _fake_vllm(calls))
    backend = make_backend("vllm", model="m", max_model_len=50)
    short = CompletionRequest(({"role": "user", "content": "hello there"},), max_tokens=8)
    long = CompletionRequest(({"role": "user", "content": "word " * 60},), max_tokens=8)

    async def go():
        return await asyncio.gather(backend.complete(short), backend.complete(long), return_exceptions=True)

    ok, failed = asyncio.run(go())
    assert ok.text == "M"
    assert isinstance(failed, BackendError) and "exceeds max_model_len 50" in str(failed)
    assert [c[1] for c in calls if c[0] == "chat"] == [1]  # only the short one reached the engine


def test_missing_vllm_is_a_clear_error(monkeypatch):
    from judgebench.backends import FatalBackendError

    monkeypatch.setitem(sys.modules, "vllm", None)
    with pytest.raises(FatalBackendError, match="judgebench\\[vllm\\]"):
        make_backend("vllm", model="x")
