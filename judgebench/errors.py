"""Every error a user can cause or meet, in one hierarchy; the CLI maps each class to one line and an exit code.

`JudgebenchError` and its subclasses are the user's to fix (a file, a flag, a key, a server): the CLI prints
`judgebench: error: <message>` and exits with the class's `exit_code`, no traceback (`--debug` shows it).
Anything else that escapes is a bug in judgebench and is reported as one (exit 70).
"""

from __future__ import annotations


class JudgebenchError(Exception):
    """Base of the errors a user can act on. `exit_code` is the CLI's exit status for it."""

    exit_code = 2


class InputError(JudgebenchError, ValueError):
    """Bad input, located precisely: which file, which row (0-based), which field, and what to do."""

    exit_code = 2

    def __init__(self, message: str, *, path=None, row=None, field=None, hint: str | None = None):
        self.path, self.row, self.field, self.hint = path, row, field, hint
        where = [str(p) for p in (path,) if p is not None]
        if row is not None:
            where.append(f"row {row}")
        if field is not None:
            where.append(f"field '{field}'")
        text = ": ".join([", ".join(where), message]) if where else message
        if hint:
            text += f" -> {hint}"
        super().__init__(text)


class ConfigError(JudgebenchError, ValueError):
    """A setting that cannot work: unknown judge, eval set or backend, a missing API key, a bad flag value."""

    exit_code = 2


class BackendError(JudgebenchError):
    """A model call that failed; `retryable` says whether trying again can help."""

    exit_code = 3

    def __init__(self, message: str, retryable: bool, retry_after: float | None = None):
        super().__init__(message)
        self.retryable, self.retry_after = retryable, retry_after


class FatalBackendError(BackendError):
    """Stops the whole run: bad request, bad key, unknown model or endpoint, unreachable server."""

    def __init__(self, message: str):
        super().__init__(message, retryable=False)


class StoreError(JudgebenchError):
    """The judgment store or an output folder cannot be used: not a database, read-only, disk full."""

    exit_code = 4


class CheckFailed(JudgebenchError):
    """A check the user asked to enforce did not pass (audit --strict, a flagged submission)."""

    exit_code = 1


# Exit codes, documented in docs/errors.md: 0 success, 1 a requested check failed, 2 bad input or
# setting, 3 a model/judge server failed, 4 store or output folder unusable, 70 internal error (a bug),
# 130 interrupted (Ctrl-C; completed judge calls are already in the store).
EXIT_INTERNAL = 70
EXIT_INTERRUPTED = 130
