"""Keep secrets out of every message judgebench prints or raises and every file it writes.

A server may echo the key it received (a 401 body that quotes the Authorization header, a log-prob token,
a `finish_reason`), a URL may carry one in its query or user-info, and an exception may quote a header.

Two functions, because messages and data differ:
- `redact(text)`: for messages (errors, warnings, tracebacks). Replaces the known secret values (below),
  bearer tokens, strings shaped like the common providers' keys, and secrets inside URLs.
- `scrub(text)`: for data written to files (model replies, manifests, reports). Replaces the known
  secret values and secrets inside URLs only: a reply that says "the bearer of bad news" stays intact.

The known secret values: every key a backend was given (`remember_secret`, whatever its length), every
`*_API_KEY` variable of the environment (any length), and the other key-like variables (`*_KEY`,
`*_TOKEN`, `*_SECRET`, `*PASSWORD*`) of at least MIN_ENV_SECRET characters (a 2-character `X_TOKEN=on`
would otherwise blank every "on" in a report).
"""

from __future__ import annotations

import logging
import os
import re
from typing import Any

MASK = "[REDACTED]"
MIN_ENV_SECRET = 6

_URL_SECRET = (
    r"(?<=://)[^/\s:@?#]+(?::[^/\s@]*)?(?=@)"  # user:password@ (or a bare token@) in a URL
    r"|(?<=[?&;])(?i:[a-z0-9_.-]*(?:key|token|secret|passw(?:or)?d|auth|sig(?:nature)?|credential)"
    r"[a-z0-9_.-]*)=[^&#\s\"'<>]+"  # a key in a query string
)
_KEY_SHAPED = re.compile(
    r"(?i:\bbearer)\s+[^\s\"',;]+"  # an Authorization header's value
    r"|\b(?:sk|pk|rk|gsk|xai|hf|ghp|gho|github_pat|glpat|r8)[-_][A-Za-z0-9_\-]{20,}"  # providers' key shapes
    r"|\b(?:AIza|AKIA)[A-Za-z0-9_\-]{16,}|" + _URL_SECRET
)
_URL_ONLY = re.compile(_URL_SECRET)
_SECRET_NAME = re.compile(r"(?i)(?:KEY|TOKEN|SECRET|PASSWORD|PASSWD)")
_remembered: set[str] = set()


def remember_secret(value: str | None) -> None:
    """A key judgebench was given (read from the environment for a backend): masked wherever it appears,
    whatever its length, for the rest of this process."""
    if value and value.strip():
        _remembered.add(value)
        _remembered.add(value.strip())


def secret_values(extra: tuple[str | None, ...] = ()) -> list[str]:
    values = {v for v in extra if v}
    values |= _remembered
    for name, value in os.environ.items():
        if not value.strip() or not _SECRET_NAME.search(name):
            continue
        if name.upper().endswith("API_KEY") or len(value) >= MIN_ENV_SECRET:
            values.add(value)
    return sorted(values, key=len, reverse=True)  # longest first: a key that contains another


def _replace_values(text: str, extra: tuple[str | None, ...]) -> str:
    for value in secret_values(extra):
        if value in text:
            text = text.replace(value, MASK)
    return text


def redact(text: object, extra: tuple[str | None, ...] = ()) -> str:
    """`text` (a message) with every secret it may contain replaced by [REDACTED]."""
    return _KEY_SHAPED.sub(_mask, _replace_values(str(text), extra))


def scrub(text: str, extra: tuple[str | None, ...] = ()) -> str:
    """`text` (data for a file) with the known secret values and secrets in URLs replaced."""
    text = _replace_values(text, extra)
    return _URL_ONLY.sub(_mask, text) if "://" in text or "=" in text else text


def scrub_tree(value: Any) -> Any:
    """A JSON-like value (a manifest, a raw reply) with `scrub` applied to every string, keys included."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {scrub_tree(k): scrub_tree(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub_tree(v) for v in value]
    return value


def _mask(match: re.Match) -> str:
    found = match.group(0)
    if found[:6].lower() == "bearer":
        return "Bearer " + MASK
    if "=" in found and "@" not in found:  # key=value in a query: keep the name
        return found.split("=", 1)[0] + "=" + MASK
    return MASK


class RedactingFilter(logging.Filter):
    """Masks secrets in every record it sees (message, arguments, traceback, stack): an engine's logs quote
    URLs, request headers and errors, and a handler may write them to a terminal or a file."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a record whose arguments do not fit its format: keep both as text
            message = f"{record.msg} {record.args}"
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


_FILTER = RedactingFilter()


def redact_logs(*names: str) -> None:
    """Install the filter on the named loggers, on their handlers and on the root's (a logger's own filter
    sees only records logged on it, a handler's every record it writes, children's included), and on
    logging's last-resort handler. Call it after the library that logs has configured its handlers."""
    loggers = [logging.getLogger(n) for n in names] + [logging.getLogger()]
    handlers = [h for lg in loggers for h in lg.handlers] + [logging.lastResort]
    for target in [*loggers, *handlers]:
        if target is not None and _FILTER not in target.filters:
            target.addFilter(_FILTER)
