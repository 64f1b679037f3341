"""A lock around a read-modify-write of a shared file (a leaderboard CSV that two runs update at once).

`fcntl.flock` on a lock file beside the target (`.NAME.lock`; never the target itself, which is
replaced by an atomic rename and so is a different inode afterwards). The lock is released when the
block ends or the process dies. Waiting is bounded: after LOCK_TIMEOUT seconds, one line naming the
file and what holds it up.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

from judgebench.errors import StoreError

LOCK_TIMEOUT = 1800.0  # seconds; a leaderboard refit of many models takes minutes, not hours
_POLL = 0.05


def lock_path(path: str | Path) -> Path:
    path = Path(path)
    return path.with_name(f".{path.name}.lock")


@contextlib.contextmanager
def locked(path: str | Path, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
    """Hold the exclusive lock of `path` for the block (waits for another holder, at most `timeout`)."""
    import fcntl

    lock = lock_path(path)
    try:
        lock.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o666)
    except OSError as err:
        raise StoreError(f"{path}: cannot create its lock file {lock} ({err.strerror or err})") from None
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise StoreError(
                        f"{path}: another judgebench process has held its lock ({lock}) for over "
                        f"{timeout:.0f} s -> wait for it to finish, or remove {lock} if no such process runs"
                    ) from None
                time.sleep(_POLL)
        yield
    finally:
        os.close(fd)  # closing releases the lock
