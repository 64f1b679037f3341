"""What the commands that call a model share: their limits on calls, and how their stages write and clean up.

`evaluate` (judgebench.runs.evaluate) and `audit` (judgebench.audit.run) are each a short sequence of named
stages around one frozen config; this module holds the pieces both use:

- `CallLimits`: concurrency, requests and tokens per minute, the per-request timeout and the retries, the
  same flags on every command; `limits.for_backend()` is the backend's `Limits`.
- `KeyAccess`: the API key's variable and the hosts it may go to; `store_option`, `progress_option`.
  These groups are declared once (judgebench.settings.option) and every command's flags are made from them.
- `closing(backend)`: an async context that closes a backend however the stage ends.
- `write_json` (from fsutil): one JSON file, written atomically.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from judgebench.backends import Backend, Limits
from judgebench.errors import ConfigError
from judgebench.settings import MAX_CONCURRENCY, Checked, Option, option


@dataclass(frozen=True)
class CallLimits(Checked):
    """Limits on model calls: how many at once, per minute, how long each may take, how often it is retried.

    The same flags on every command that calls a model. None = no rate limit. `concurrency` is each
    backend's own (evaluate's judge may have another: its judge_concurrency)."""

    concurrency: int = option(8, minimum=1, maximum=MAX_CONCURRENCY, help="model calls in flight at a time")
    requests_per_minute: float | None = option(
        None,
        kind=float,
        above=0,
        flag=("--rpm", "--requests-per-minute"),
        metavar="N",
        help="requests per minute limit",
    )
    tokens_per_minute: float | None = option(
        None,
        kind=float,
        above=0,
        flag=("--tpm", "--tokens-per-minute"),
        metavar="N",
        help="tokens per minute limit",
    )
    timeout: float = option(
        120.0, above=0, metavar="SECONDS", help="seconds per request before it is retried"
    )
    max_retries: int = option(
        6, minimum=0, metavar="N", help="retries on 429/5xx/timeouts/dropped connections"
    )

    def for_backend(self, concurrency: int | None = None) -> Limits:
        """The backend's Limits; `concurrency` instead of this config's own (a second backend's)."""
        concurrency = self.concurrency if concurrency is None else concurrency
        why = CONCURRENCY.problem(concurrency)
        if why:
            raise ConfigError(f"concurrency {why}")
        return Limits(
            concurrency=concurrency,
            requests_per_minute=self.requests_per_minute,
            tokens_per_minute=self.tokens_per_minute,
            max_retries=self.max_retries,
            timeout=self.timeout,
        )


CONCURRENCY = Option("calls in flight", int, minimum=1)

ALLOW_KEY_HELP = (
    "send the API key to these hosts too (it goes, unasked, only over https to its provider's "
    "documented host, e.g. api.openai.com); a judge spec's base_url cannot do this for you"
)


@dataclass(frozen=True)
class KeyAccess(Checked):
    """The API key: which environment variable holds it and which hosts beyond its provider's may get it."""

    api_key_env: str | None = option(
        None,
        metavar="VAR",
        help="environment variable holding the API key (default OPENAI_API_KEY, which servers on this "
        "machine are not sent)",
    )
    allow_key_to: tuple[str, ...] = option((), several=True, metavar="HOST", help=ALLOW_KEY_HELP)


STORE_HELP = "judgment store: a SQLite file (created if absent) or postgresql://USER@HOST:PORT/DB"


def store_option(default_words: str | None = None, required: bool = False):
    """The judgment store's field. `default_words`: where the run puts it when not given, for the help."""
    return option(
        dataclasses.MISSING if required else None,
        metavar="DB",
        help=STORE_HELP + (f" (default: {default_words})" if default_words else ""),
    )


def progress_option():
    return option(True, flag="--no-progress", help="no progress bar on stderr")


@asynccontextmanager
async def closing(backend: Backend) -> AsyncIterator[Backend]:
    """The backend, closed when the block ends, whether it returned or raised."""
    try:
        yield backend
    finally:
        await backend.close()
