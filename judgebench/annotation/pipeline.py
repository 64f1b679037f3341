"""What the commands that call a model share: their limits on calls, and how their stages write and clean up.

`evaluate` (judgebench.runs.evaluate) and `audit` (judgebench.audit.run) are each a short sequence of named
stages around one frozen config; this module holds the pieces both use:

- `CallLimits`: requests and tokens per minute, the per-request timeout and the retries, the same on
  every command; `limits.for_backend(concurrency)` is the backend's `Limits`.
- `closing(backend)`: an async context that closes a backend however the stage ends.
- `write_json` (from fsutil): one JSON file, written atomically.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from judgebench.backends import Backend, Limits
from judgebench.errors import ConfigError


@dataclass(frozen=True)
class CallLimits:
    """How hard a command may call a model. None = no rate limit; concurrency is set per backend."""

    requests_per_minute: float | None = None
    tokens_per_minute: float | None = None
    timeout: float = 120.0  # seconds per request
    max_retries: int = 6

    def __post_init__(self) -> None:
        for name in ("requests_per_minute", "tokens_per_minute"):
            value = getattr(self, name)
            if value is not None and not (value > 0 and math.isfinite(value)):
                raise ConfigError(
                    f"{name} must be a positive number, got {value!r} (leave it unset for no limit)"
                )
        if not (self.timeout > 0 and math.isfinite(self.timeout)):
            raise ConfigError(f"timeout must be a positive number of seconds, got {self.timeout!r}")
        if (
            isinstance(self.max_retries, bool)
            or not isinstance(self.max_retries, int)
            or self.max_retries < 0
        ):
            raise ConfigError(f"max_retries must be a whole number >= 0, got {self.max_retries!r}")

    def for_backend(self, concurrency: int) -> Limits:
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
            raise ConfigError(f"concurrency must be a whole number >= 1, got {concurrency!r}")
        return Limits(
            concurrency=concurrency,
            requests_per_minute=self.requests_per_minute,
            tokens_per_minute=self.tokens_per_minute,
            max_retries=self.max_retries,
            timeout=self.timeout,
        )


@asynccontextmanager
async def closing(backend: Backend) -> AsyncIterator[Backend]:
    """The backend, closed when the block ends, whether it returned or raised."""
    try:
        yield backend
    finally:
        await backend.close()
