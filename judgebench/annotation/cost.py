"""What a judge run will cost before it runs, and a budget it cannot overrun.

- A judge's prompt tokens are counted with the judge's own tokenizer (judgebench.backends.tokens).
- `Estimate`: calls, input and output tokens (output: the judge's max_tokens, an upper bound), USD from
  the judge spec's price (half with the Batch API) and the expected time at the set limits.
  `estimate_calls` makes one from pairs, with the calls the run would send (annotation.calls).
- `BudgetGuard`: wraps a judge backend; before each call it reserves the call's upper-bound cost and
  refuses to start one that could take the run past `max_usd`. In-flight calls finish and are stored
  first, then `BudgetExhausted` stops the run; a rerun goes on from the store.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from judgebench.annotation.calls import judge_calls
from judgebench.backends import reference_kind
from judgebench.backends.base import Backend, CompletionRequest, CompletionResponse
from judgebench.backends.tokens import Tokenizer, hf_tokenizer, llama_tokenizer, openai_tokenizer
from judgebench.errors import FatalBackendError
from judgebench.judges.protocols import Pair
from judgebench.judges.spec import JudgeSpec

BATCH_DISCOUNT = 0.5  # OpenAI's Batch API: half the price of the synchronous API


def judge_tokenizer(spec: JudgeSpec, judge_model: str | None = None, backend: str | None = None) -> Tokenizer:
    """The judge's own tokenizer where it can be had: a GGUF's (llama.cpp; the embedded default when no
    model is given), a Hugging Face folder's (transformers, vLLM); else tiktoken's approximation. What the
    model reference is comes from backends.reference_kind, as for choosing an engine."""
    name = backend or spec.backend
    if name == "llamacpp":  # the spec's model name is a label there; a given model is a GGUF path
        from judgebench.backends.llamacpp import default_gguf

        return llama_tokenizer(judge_model or default_gguf())
    model = judge_model or spec.model
    if name in ("transformers", "vllm") and reference_kind(model) == "hf-folder":
        return hf_tokenizer(model)
    return openai_tokenizer(model)


@dataclass
class Estimate:
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    usd: float = 0.0
    seconds: float = 0.0
    generations: int = 0  # candidate answers still to generate (not judge calls)
    cached_calls: int = 0
    notes: list[str] = field(default_factory=list)

    def add(self, other: Estimate) -> None:
        for name in (
            "calls",
            "input_tokens",
            "output_tokens",
            "usd",
            "seconds",
            "generations",
            "cached_calls",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.notes += [n for n in other.notes if n not in self.notes]

    def as_dict(self) -> dict:
        return {
            "calls": self.calls,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "usd": round(self.usd, 6),
            "expected_seconds": round(self.seconds, 1),
            "generations": self.generations,
            "cached_calls": self.cached_calls,
            "notes": self.notes,
        }


def expected_seconds(
    calls: int,
    tokens: int,
    concurrency: int,
    requests_per_minute: float | None,
    tokens_per_minute: float | None,
    seconds_per_call: float,
) -> float:
    """The slowest of: the request limit, the token limit, and calls at `seconds_per_call` each,
    `concurrency` at a time."""
    bounds = [calls * seconds_per_call / max(1, concurrency)]
    if requests_per_minute:
        bounds.append(60.0 * calls / requests_per_minute)
    if tokens_per_minute:
        bounds.append(60.0 * tokens / tokens_per_minute)
    return max(bounds)


def estimate_calls(
    spec: JudgeSpec,
    pairs: list[Pair],
    model: str,
    store,
    tokenizer: Tokenizer,
    exact: list[bool] | None = None,
    seen: set[str] | None = None,
    batch: bool = False,
    concurrency: int = 16,
    limits: dict | None = None,
) -> Estimate:
    """The judge calls `pairs` still need (those the run would send: same recipe, same keys), their tokens,
    price and time. model: the name the judge's backend reports (annotation.calls.judge_model_name).
    exact: per pair, whether its answers are the real ones; a pair of placeholder answers is never in the
    store. seen: keys counted already elsewhere (counted once, then skipped)."""
    keyed: dict[str, tuple[list[dict], bool]] = {}
    for pair, is_exact in zip(pairs, exact or [True] * len(pairs), strict=True):
        for call in judge_calls(spec, pair, model):
            keyed.setdefault(call.key, (call.messages, is_exact))
    stored = store.get_many([k for k, (_, is_exact) in keyed.items() if is_exact])
    max_out = int(spec.decoding.get("max_tokens", 0))
    seen = set() if seen is None else seen
    est = Estimate()
    for key, (messages, _) in keyed.items():
        if key in seen:
            continue
        seen.add(key)
        if key in stored and stored[key].status == "ok":
            est.cached_calls += 1
            continue
        est.calls += 1
        est.input_tokens += tokenizer.count_messages(messages)
        est.output_tokens += max_out
    est.usd = spec.cost(est.input_tokens, est.output_tokens) * (BATCH_DISCOUNT if batch else 1.0)
    remote = spec.backend == "openai"
    per_call = (1.0 + max_out / 50.0) if remote else 0.5  # assumed: 50 tokens/s remote; 0.5 s a local call
    limits = limits or {}
    est.seconds = expected_seconds(
        est.calls,
        est.input_tokens + est.output_tokens,
        concurrency if remote else 1,
        limits.get("requests_per_minute"),
        limits.get("tokens_per_minute"),
        per_call,
    )
    if not tokenizer.exact:
        est.notes.append(f"tokens: {tokenizer.name}")
    return est


class BudgetExhausted(FatalBackendError):
    """The next judge call could take the run past --max-cost; everything completed is in the store."""

    exit_code = 1


class BudgetGuard(Backend):
    """A judge backend that never starts a call whose upper-bound cost would exceed the budget."""

    def __init__(
        self, inner: Backend, spec: JudgeSpec, max_usd: float, tokenizer: Tokenizer, spent: float = 0.0
    ):
        super().__init__(inner.model, inner.limits)
        self.name = inner.name
        self.inner, self.spec, self.max_usd, self.tokenizer = inner, spec, max_usd, tokenizer
        self.spent, self.reserved, self.in_flight = spent, 0.0, 0
        self.exhausted = False
        self._idle = asyncio.Event()

    @property
    def stats(self):
        return self.inner.stats

    @stats.setter
    def stats(self, value):  # Backend.__init__ sets it; the inner backend's counts are the real ones
        pass

    def bound(self, request: CompletionRequest) -> float:
        """Upper-bound cost: the prompt's tokens with a margin for framing (wide where the count is
        approximate) and every token the judge may write."""
        prompt = self.tokenizer.count_messages(list(request.messages))
        prompt = prompt + 16 if self.tokenizer.exact else int(prompt * 1.5) + 16
        return self.spec.cost(prompt, request.max_tokens)

    async def complete(self, request: CompletionRequest) -> CompletionResponse:
        bound = self.bound(request)
        if self.exhausted or self.spent + self.reserved + bound > self.max_usd:
            self.exhausted = True
            while self.in_flight:  # let the calls already paid for finish and be stored
                self._idle.clear()
                await self._idle.wait()
            raise BudgetExhausted(
                f"--max-cost ${self.max_usd:.4f} reached: ${self.spent:.4f} spent, the next "
                f"call could cost up to ${bound:.4f}; completed calls are in the store, "
                "rerun with a higher --max-cost to go on"
            )
        self.reserved += bound
        self.in_flight += 1
        try:
            response = await self.inner.complete(request)
            self.spent += self.spec.cost(response.prompt_tokens, response.completion_tokens)
            return response
        finally:
            self.reserved -= bound
            self.in_flight -= 1
            if not self.in_flight:
                self._idle.set()

    async def close(self) -> None:
        await self.inner.close()
