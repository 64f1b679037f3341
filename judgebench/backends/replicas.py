"""One judge served by several OpenAI-compatible endpoints (e.g. N `vllm serve` replicas), no load balancer needed.

    backend = ReplicaBackend("Qwen/Qwen2.5-7B-Instruct", ["http://gpu1:8000/v1", "http://gpu2:8000/v1"])

Each call goes to the replica with the fewest requests outstanding (ties: the one that has had fewest).
A replica whose call fails in a way a retry can fix (refused or dropped connection, timeout, 429, 5xx)
is rested, for a backoff that doubles with each failure in a row (0.5 s up to 30 s, or its Retry-After),
and the call goes at once to another replica; a rested replica gets calls again once its rest is over,
and a success ends its run of failures. Only when every replica is resting does a call wait. A fatal
answer (bad key, unknown model) stops the run as it does with one endpoint.

Each replica is an `OpenAICompatBackend` (its URL and API-key handling unchanged); this class only chooses
among them and keeps, per replica, the calls it got, answered and failed, for the manifest.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from judgebench.backends.base import (
    Backend,
    BackendError,
    CompletionRequest,
    CompletionResponse,
    FatalBackendError,
    Limits,
)
from judgebench.backends.openai_compat import OpenAICompatBackend

REST_BASE, REST_MAX = 0.5, 30.0  # seconds


@dataclass
class _Replica:
    backend: OpenAICompatBackend
    outstanding: int = 0
    calls: int = 0
    answered: int = 0
    failed: int = 0
    failures_in_a_row: int = 0
    rest_until: float = 0.0
    rests: int = 0

    def rest(self, err: BaseException) -> None:
        self.failed += 1
        self.failures_in_a_row += 1
        self.rests += 1
        backoff = min(REST_MAX, REST_BASE * 2 ** (self.failures_in_a_row - 1))
        self.rest_until = time.monotonic() + max(backoff, getattr(err, "retry_after", None) or 0.0)


class ReplicaBackend(Backend):
    name = "openai-replicas"

    def __init__(
        self,
        model: str,
        base_urls: list[str],
        api_key_env: str | None = None,
        limits: Limits | None = None,
        require_key: bool | None = None,
        allow_key_to: tuple[str, ...] = (),
    ):
        super().__init__(model, limits)
        if len(set(base_urls)) != len(base_urls):
            raise ValueError(f"the same base URL is given twice: {base_urls}")
        # each replica may take every call at once (the shared semaphore bounds the total)
        self.replicas = [
            _Replica(
                OpenAICompatBackend(
                    model,
                    base_url=url,
                    api_key_env=api_key_env,
                    limits=self.limits,
                    require_key=require_key,
                    allow_key_to=allow_key_to,
                )
            )
            for url in base_urls
        ]
        self.base_urls = [r.backend.base_url for r in self.replicas]

    def _pick(self) -> _Replica | None:
        now = time.monotonic()
        ready = [r for r in self.replicas if r.rest_until <= now]
        return min(ready, key=lambda r: (r.outstanding, r.calls)) if ready else None

    async def _wait_for_a_replica(self) -> None:
        await asyncio.sleep(max(0.0, min(r.rest_until for r in self.replicas) - time.monotonic()))

    async def complete(self, request: CompletionRequest) -> CompletionResponse:
        """Bounded concurrency and rate limits as every backend; the retry is another replica, now."""
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self.limits.concurrency)
        failures = 0
        while True:
            async with self._semaphore:
                replica = self._pick()
                if replica is not None:
                    if self._requests:
                        await self._requests.take(1)
                    if self._tokens:
                        await self._tokens.take(request.estimated_tokens())
                    self.stats["requests"] += 1
                    replica.calls += 1
                    replica.outstanding += 1
                    try:
                        response = await asyncio.wait_for(
                            replica.backend._complete(request), self.limits.timeout
                        )
                    except FatalBackendError:
                        raise
                    except (asyncio.TimeoutError, BackendError, ConnectionError, OSError) as err:
                        if not getattr(err, "retryable", True):  # this request fails on any replica
                            replica.answered += 1
                            raise BackendError(str(err) or type(err).__name__, retryable=False) from err
                        replica.rest(err)
                        failures += 1
                        if failures > self.limits.max_retries + len(self.replicas):
                            raise BackendError(
                                f"{type(err).__name__}: {err} (every replica failed; last: "
                                f"{replica.backend.base_url})",
                                retryable=False,
                            ) from err
                        self.stats["retries"] += 1
                        continue
                    else:
                        replica.answered += 1
                        replica.failures_in_a_row = 0
                        return response
                    finally:
                        replica.outstanding -= 1
            await self._wait_for_a_replica()  # every replica is resting: outside the semaphore

    def replica_stats(self) -> list[dict]:
        """Per replica: calls sent, answered (a response, parsable or not), failed, times rested."""
        return [
            {
                "base_url": r.backend.base_url,
                "calls": r.calls,
                "answered": r.answered,
                "failed": r.failed,
                "rested": r.rests,
            }
            for r in self.replicas
        ]

    async def close(self) -> None:
        for r in self.replicas:
            await r.backend.close()
