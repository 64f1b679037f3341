"""Bounded reading of one input file: a regular file unless asked, at most --max-input-size bytes
(gunzipped while counting, so a gzip bomb never sits in memory), UTF-8 or one line naming it. Standard library
only at import, so reading a judge spec works where judgebench's data dependencies are not installed
(scripts/gpu_check.py on a bare GPU machine)."""

from __future__ import annotations

import gzip
import io
import os
import stat
import zlib
from pathlib import Path

from judgebench.errors import InputError

GZIP_MAGIC = b"\x1f\x8b"


DEFAULT_MAX_INPUT_BYTES = 2 << 30  # 2 GiB of (decompressed) input a file; a gzip bomb stops here


def max_input_bytes() -> int:
    """The per-file cap on (decompressed) bytes: JUDGEBENCH_MAX_INPUT_BYTES (`--max-input-size`) or 2 GiB."""
    return parse_size(os.environ.get("JUDGEBENCH_MAX_INPUT_BYTES", "")) or DEFAULT_MAX_INPUT_BYTES


def parse_size(given: str) -> int | None:
    text = given.strip().upper().removesuffix("B")
    if not text:
        return None
    scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}.get(text[-1], 1)
    try:
        return int(float(text[:-1] if scale > 1 else text) * scale)
    except ValueError:
        raise InputError(f"not a size: {given!r}", field="max input size", hint="e.g. 500M or 8G") from None


def _too_big(path: Path, what: str, cap: int) -> InputError:
    return InputError(
        f"{what} more than {cap / (1 << 20):,.0f} MiB",
        path=path,
        hint="if the file is genuine, raise the cap with --max-input-size (or "
        "JUDGEBENCH_MAX_INPUT_BYTES), e.g. --max-input-size 8G",
    )


SPECIAL_FILES_ENV = "JUDGEBENCH_ALLOW_SPECIAL_FILES"  # `--allow-special-files`: FIFOs, devices, /dev/stdin
SPECIAL_FILE_IDLE_TIMEOUT = 30.0  # seconds without a byte from a FIFO or device before giving up
CHUNK = 4 << 20  # bytes read (or decompressed) at a time
KEEP_WHILE_DECOMPRESSING = 64 << 20  # past this, a gzip stream is first only measured, then read


def _check_regular(path: Path) -> os.stat_result:
    """The file's status; one line for a missing path, a folder, or (unless asked for) a device or FIFO."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise InputError(
            "file not found", path=path, hint="check the path (globs are expanded by the CLI)"
        ) from None
    except (OSError, ValueError) as err:  # a name too long, a NUL in it, a loop of links
        raise InputError(
            f"cannot be opened ({getattr(err, 'strerror', None) or err})", path=path, hint="check the path"
        ) from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(
            "is a folder, not a file",
            path=path,
            hint="name a file, or pass the folder where folders are accepted (--annotations)",
        )
    if not stat.S_ISREG(st.st_mode) and os.environ.get(SPECIAL_FILES_ENV, "") in ("", "0"):
        kind = (
            "a FIFO"
            if stat.S_ISFIFO(st.st_mode)
            else "a device"
            if stat.S_ISCHR(st.st_mode)
            else "not a regular file"
        )
        raise InputError(
            f"is {kind}, not a regular file (it may never end, or never answer)",
            path=path,
            hint="copy it into a file, or pass --allow-special-files to read it (bounded by --max-input-size)",
        )
    return st


def _read_capped(f, path: Path, cap: int, special: bool) -> bytes:
    """All of `f`, more than `cap` bytes refused while reading; a special file that stays silent for
    SPECIAL_FILE_IDLE_TIMEOUT seconds is refused too."""
    import select

    out: list[bytes] = []
    total = 0
    while True:
        if special:
            ready, _, _ = select.select([f], [], [], SPECIAL_FILE_IDLE_TIMEOUT)
            if not ready:
                raise InputError(
                    f"nothing to read for {SPECIAL_FILE_IDLE_TIMEOUT:.0f} s",
                    path=path,
                    hint="is anything writing to it?",
                )
        chunk = f.read(CHUNK) if not special else os.read(f.fileno(), CHUNK)
        if not chunk:
            return b"".join(out)
        total += len(chunk)
        if total > cap:
            raise _too_big(path, "file holds", cap)
        out.append(chunk)


def _gunzip(raw: bytes | None, path: Path, cap: int, keep: bool) -> tuple[bytes, int]:
    """(the decompressed bytes or b"" when not kept, their size); more than `cap` refused while
    decompressing, so a bomb never sits in memory. `raw`: the compressed bytes, or None to read `path`."""
    out, total = [], 0
    source = io.BytesIO(raw) if raw is not None else None
    try:
        from isal import igzip  # here, not at import: judge specs are read where isal is not installed

        with igzip.open(source if source is not None else path, "rb") as z:
            while chunk := z.read(CHUNK):
                total += len(chunk)
                if total > cap:
                    raise _too_big(path, "decompresses to", cap)
                if keep:
                    out.append(chunk)
    except (EOFError, gzip.BadGzipFile, zlib.error, OSError) as err:
        raise InputError(
            f"gzip stream is truncated or corrupt ({err})",
            path=path,
            hint="the file was probably cut off while copying; fetch or regenerate it",
        ) from None
    return b"".join(out), total


def _read_bytes(path: Path) -> bytes:
    st = _check_regular(path)
    special = not stat.S_ISREG(st.st_mode)
    cap = max_input_bytes()
    if not special and st.st_size > cap:
        with open(path, "rb") as f:
            if f.read(2) != GZIP_MAGIC:
                raise _too_big(path, "file holds", cap)
    try:
        flags = os.O_RDONLY | (os.O_NONBLOCK if special else 0)
        with os.fdopen(os.open(path, flags), "rb") as f:
            raw = _read_capped(f, path, cap, special)
    except OSError as err:
        raise InputError(
            f"cannot be read ({err.strerror or err})", path=path, hint="check its permissions"
        ) from None
    if raw[:2] != GZIP_MAGIC:
        return raw
    # A small file can expand to any size (gzip bomb). Kept while small; past KEEP_WHILE_DECOMPRESSING it
    # is first only measured (memory: one chunk), and read again once known to fit under the cap.
    if len(raw) * 1100 <= KEEP_WHILE_DECOMPRESSING:  # deflate expands at most ~1032x: it cannot grow past
        return _gunzip(raw, path, cap, keep=True)[0]
    _gunzip(raw, path, cap, keep=False)
    return _gunzip(raw, path, cap, keep=True)[0]


def read_text(path: str | Path) -> str:
    """A text file (a spec, a template, a tiny model, a run file) read as every input is: a regular
    file unless asked, bounded by --max-input-size, gunzipped when gzipped, UTF-8 or one line naming it."""
    path = Path(path)
    return _decode(_read_bytes(path), path)


def _decode(data: bytes, path: Path) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise InputError(
            f"bytes at offset {err.start} (line {line}) are not valid UTF-8",
            path=path,
            hint="re-save the file as UTF-8",
        ) from None
