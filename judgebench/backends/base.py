"""The one contract every model backend meets: chat messages in, text and log-probs out.

Judging and generation are the same act, so one layer serves both. A backend implements
`_complete(request)`; `Backend.complete` wraps it with the machinery that lives here and nowhere
else: bounded concurrency, a requests- and tokens-per-minute limit, and retries with exponential
backoff and jitter on 429, 5xx, timeouts and dropped connections (honouring Retry-After). A 400,
401, 403 or 404 raises `FatalBackendError` at once: retrying cannot fix a wrong key or model name.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

from judgebench.errors import BackendError, FatalBackendError
from judgebench.files.redact import redact, scrub


@dataclass(frozen=True)
class CompletionRequest:
    messages: tuple[dict, ...]  # [{"role": ..., "content": ...}, ...]
    max_tokens: int
    temperature: float = 0.0
    top_p: float = 1.0
    logprobs: bool = False
    top_logprobs: int = 0
    seed: int | None = None
    stop: tuple[str, ...] = ()
    # The verdict labels (e.g. ("m", "M")) when the parser reads their first-token log-probs: an in-process
    # engine then reports each label's exact log-prob (summed over the tokens that decode to it), in or out
    # of the top k; an HTTP endpoint ignores it and the top k decide, as in AlpacaEval.
    labels: tuple[str, ...] = ()

    def estimated_tokens(self) -> int:
        """A cheap upper-bound guess for the tokens-per-minute limit (4 characters a token)."""
        return sum(len(m["content"]) for m in self.messages) // 4 + self.max_tokens


@dataclass
class CompletionResponse:
    text: str
    # per generated token: {token: logprob} of its top alternatives (empty when not asked for)
    top_logprobs: list[dict[str, float]] = field(default_factory=list)
    finish_reason: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def to_raw(self) -> dict:
        return {
            "text": self.text,
            "top_logprobs": self.top_logprobs,
            "finish_reason": self.finish_reason,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
        }

    def scrubbed(self) -> CompletionResponse:
        """This reply with every known secret masked in every field a server fills (text, log-prob tokens,
        finish_reason): a server echoing the key must not put it in the store or an annotation file."""
        self.text = scrub(self.text) if isinstance(self.text, str) else self.text
        self.top_logprobs = [
            {(scrub(t) if isinstance(t, str) else t): lp for t, lp in top.items()}
            for top in self.top_logprobs
        ]
        if isinstance(self.finish_reason, str):
            self.finish_reason = scrub(self.finish_reason)
        return self

    @classmethod
    def from_raw(cls, raw: dict) -> CompletionResponse:
        return cls(
            raw.get("text", ""),
            raw.get("top_logprobs") or [],
            raw.get("finish_reason"),
            raw.get("prompt_tokens", 0),
            raw.get("completion_tokens", 0),
        )


@dataclass
class Limits:
    concurrency: int = 16
    requests_per_minute: float | None = None
    tokens_per_minute: float | None = None
    max_retries: int = 6
    backoff_base: float = 0.5  # seconds; doubles per attempt, with full jitter
    backoff_max: float = 60.0
    timeout: float = 120.0  # seconds per request


class _Bucket:
    """Token bucket refilled continuously at `rate_per_minute`; `take(n)` waits until n are free."""

    def __init__(self, rate_per_minute: float):
        self.rate = rate_per_minute / 60.0
        self.capacity = max(rate_per_minute / 60.0, 1.0)  # at most one second's worth in a burst
        self.level = self.capacity
        self.stamp = time.monotonic()
        self.lock = asyncio.Lock()

    async def take(self, n: float) -> None:
        n = min(n, self.capacity)  # a request larger than a burst waits for a full bucket
        async with self.lock:
            while True:
                now = time.monotonic()
                self.level = min(self.capacity, self.level + (now - self.stamp) * self.rate)
                self.stamp = now
                if self.level >= n:
                    self.level -= n
                    return
                await asyncio.sleep((n - self.level) / self.rate)


class Backend:
    """Subclasses set `name` and implement `_complete`; callers use `complete`."""

    name = "abstract"

    def __init__(self, model: str, limits: Limits | None = None):
        self.model = model
        self.limits = limits or Limits()
        self._semaphore: asyncio.Semaphore | None = None
        self._requests = _Bucket(self.limits.requests_per_minute) if self.limits.requests_per_minute else None
        self._tokens = _Bucket(self.limits.tokens_per_minute) if self.limits.tokens_per_minute else None
        self.stats = {"requests": 0, "retries": 0}

    async def _complete(self, request: CompletionRequest) -> CompletionResponse:
        raise NotImplementedError

    async def complete(self, request: CompletionRequest) -> CompletionResponse:
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self.limits.concurrency)
        attempt = 0
        while True:
            async with self._semaphore:
                if self._requests:
                    await self._requests.take(1)
                if self._tokens:
                    await self._tokens.take(request.estimated_tokens())
                self.stats["requests"] += 1
                try:
                    return (await asyncio.wait_for(self._complete(request), self.limits.timeout)).scrubbed()
                except FatalBackendError:
                    raise
                except (asyncio.TimeoutError, BackendError, ConnectionError, OSError) as err:
                    retryable = getattr(err, "retryable", True)
                    retry_after = getattr(err, "retry_after", None)
                    if not retryable or attempt >= self.limits.max_retries:
                        raise BackendError(
                            redact(f"{type(err).__name__}: {err}") if str(err) else type(err).__name__,
                            retryable=False,
                        ) from err
            # Sleep outside the semaphore so a waiting retry does not block other requests.
            attempt += 1
            self.stats["retries"] += 1
            backoff = random.uniform(0, min(self.limits.backoff_max, self.limits.backoff_base * 2**attempt))
            await asyncio.sleep(max(backoff, retry_after or 0.0))

    async def close(self) -> None:
        """Release connections or models; a no-op where there are none."""


class BatchingBackend(Backend):
    """For in-process engines that are fastest on many prompts at once (vLLM, transformers).

    Requests arriving within `batch_window` seconds are gathered, up to `max_batch`, and handed to
    `run_batch` on the backend's one engine thread: the next batch is gathered while the engine
    runs, but never started until it returns, because these engines are not safe to call from two
    threads (vLLM's `_run_engine` collects whichever requests finish, so two overlapping `chat`
    calls can swap each other's outputs). A subclass implements `run_batch(requests) -> responses`,
    where a response may be a BackendError for a request that failed on its own; if `run_batch`
    raises, each request of the batch is run alone so that only the bad one fails.

    `max_batch`, not the HTTP-style `limits.concurrency`, sizes the batches: the concurrency is raised
    to 2 x `max_batch` so that a command's default concurrency (8 or 16) does not cap a 256-prompt batch
    and the next batch is already waiting when the engine finishes one.
    """

    def __init__(
        self, model: str, limits: Limits | None = None, batch_window: float = 0.01, max_batch: int = 64
    ):
        limits = limits or Limits(concurrency=max_batch)
        # twice max_batch in flight: the next batch is gathered while the engine runs this one
        super().__init__(model, replace(limits, concurrency=max(limits.concurrency, 2 * max_batch)))
        self.batch_window, self.max_batch = batch_window, max_batch
        self._engine = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"{self.name}-engine")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending: list[tuple[CompletionRequest, asyncio.Future]] = []
        self._feeder: asyncio.Task | None = None

    def run_batch(self, requests: list[CompletionRequest]) -> list[CompletionResponse | BackendError]:
        raise NotImplementedError

    def _run_each_alone(self, requests: list[CompletionRequest]) -> list[CompletionResponse | BackendError]:
        """On the engine thread: the batch; if the engine refuses it whole, each request on its own."""
        try:
            return self.run_batch(requests)
        except Exception as err:
            if len(requests) == 1:
                return [
                    BackendError(
                        f"{self.name} engine refused the request: {type(err).__name__}: {err}",
                        retryable=False,
                    )
                ]
        return [self._run_each_alone([r])[0] for r in requests]

    async def _feed(self) -> None:
        """The one consumer of the queue: gathers a batch, waits for the engine, repeats."""
        loop = asyncio.get_running_loop()
        while self._pending:
            if len(self._pending) < self.max_batch:
                await asyncio.sleep(self.batch_window)
            # a caller whose timeout fired has a cancelled future: its request is not run
            self._pending = [(r, f) for r, f in self._pending if not f.done()]
            batch, self._pending = self._pending[: self.max_batch], self._pending[self.max_batch :]
            if not batch:
                continue
            try:
                responses = await loop.run_in_executor(
                    self._engine, self._run_each_alone, [r for r, _ in batch]
                )
            except RuntimeError as err:  # the engine thread is gone (closed): nobody is left waiting in vain
                responses = [FatalBackendError(f"{self.name} engine is closed: {err}")] * len(batch)
            for (_, fut), resp in zip(batch, responses, strict=True):
                if fut.done():  # timed out (cancelled) while the engine ran: nobody waits for it
                    continue
                if isinstance(resp, BaseException):
                    fut.set_exception(resp)
                else:
                    fut.set_result(resp)

    async def _complete(self, request: CompletionRequest) -> CompletionResponse:
        loop = asyncio.get_running_loop()
        if (
            self._loop is not loop
        ):  # a new event loop (asyncio.run again): the old queue died with the old loop
            self._loop, self._pending, self._feeder = loop, [], None
        fut = loop.create_future()
        self._pending.append((request, fut))
        if self._feeder is None or self._feeder.done():
            self._feeder = loop.create_task(self._feed())
        return await fut

    async def close(self) -> None:
        self._engine.shutdown(wait=False)


def register_backend(
    name: str,
    *,
    extra: str | None,
    version_package: str | tuple[str, ...] | None,
    local: tuple[str, ...] = (),
    ray: tuple[str, ...] = (),
) -> Callable:
    """Declares a backend class (or factory) under `name`. The arguments must be literals: they are read
    from the source (judgebench.backends.REGISTRY). extra: the pyproject extra that installs it (None: a core dependency);
    version_package: the distribution whose version the manifest records as the engine's (several: the
    first installed, the order the backend picks its engine in); local / ray:
    the kinds of model reference (REFERENCE_KINDS) it is the default engine for, in this process / on Ray
    replicas. One engine per (purpose, kind); a user's --engine may name any backend."""

    def deco(factory):
        if getattr(factory, "name", name) != name:
            raise RuntimeError(
                f"{factory.__name__}.name is {factory.name!r} but it is registered as {name!r}"
            )
        return factory

    return deco
