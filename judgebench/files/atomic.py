"""Every file judgebench writes goes through `atomic_write`: all of it or none of it, never through a link.

A reader (or a crash, or a full disk) sees either the old file or the whole new one: the bytes go to a
temporary file in the destination's own folder (an unpredictable name made with O_EXCL, so a planted
`OUT.tmp` symlink is never followed), are fsynced, then renamed over the destination. A symlink at the
destination is refused rather than written through or silently replaced.

`check_output_file` / `check_output_dir` run before a command makes its first paid call, so a bad
`--out` fails in a second rather than after an hour of judging.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import tempfile
from pathlib import Path
from typing import IO, Any

from judgebench.errors import StoreError
from judgebench.files.redact import scrub, scrub_tree


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _refuse_link(path: Path) -> None:
    if path.is_symlink():
        raise StoreError(
            f"{path}: is a symbolic link; refusing to write through it -> remove the link or "
            "choose another output path"
        )
    if path.is_dir():
        raise StoreError(f"{path}: is a folder, a file is expected here -> choose a file name")


def _prepare(path: Path) -> None:
    """The destination's folder exists and the destination is not a link or a folder."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise StoreError(
            f"{path.parent}: is a file, a folder is expected here -> choose another path"
        ) from None
    except OSError as err:
        raise StoreError(
            f"{path}: cannot create its folder ({err.strerror or err}: {err.filename}) -> "
            "choose a writable path"
        ) from None
    _refuse_link(path)


@contextlib.contextmanager
def atomic_writer(
    path: str | Path, mode: str = "w", encoding: str | None = "utf-8", newline: str | None = None
):
    """A file object whose contents replace `path` atomically when the block ends without error."""
    path = Path(path)
    _prepare(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as err:  # name the file the user asked for, not our temporary one
        raise StoreError(
            f"{path}: cannot write here ({err.strerror or err}) -> check the folder exists, "
            "is writable and has free space"
        ) from None
    try:
        binary = "b" in mode
        f: IO[Any]
        with os.fdopen(
            fd, mode, encoding=None if binary else encoding, newline=None if binary else newline
        ) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the permissions open() would
        _refuse_link(path)  # again, right before the rename: rename replaces a link, it never follows one
        os.replace(tmp, path)
    except OSError as err:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if err.filename not in (None, tmp):  # another file's error, raised inside the block: its own name
            raise
        raise StoreError(
            f"{path}: could not be written ({err.strerror or err}); the previous version, if any, is intact "
            "-> free some disk space or choose another path"
        ) from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def atomic_write(path: str | Path, data: str | bytes, encoding: str = "utf-8") -> Path:
    """Write `data` (text or bytes) to `path` atomically, known secrets masked in text; returns the path."""
    return _write(path, scrub(data) if isinstance(data, str) else data, encoding)


def write_together(files: dict[Path, Any]) -> None:
    """Several files as one unit (data and its manifest): each is written to a temporary file and
    fsynced first; only when all are complete are they renamed into place. A full disk leaves the old
    set, never new data beside an old manifest. Values: text, bytes, or data to write as JSON."""
    staged: list[tuple[Path, str]] = []
    try:
        for path, data in files.items():
            if not isinstance(data, str | bytes):
                data = _json_text(data)
            staged.append((Path(path), _stage(Path(path), data.encode() if isinstance(data, str) else data)))
    except BaseException:
        for _, tmp in staged:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        raise
    for path, tmp in staged:  # all complete: now the renames, which need no space
        _refuse_link(path)
        os.replace(tmp, path)
    for folder in {path.parent for path, _ in staged}:
        _fsync_dir(folder)


def _stage(path: Path, data: bytes) -> str:
    """`data` in a fsynced temporary file beside `path`; its name. An I/O error names `path`."""
    _prepare(path)
    tmp = ""
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
    except OSError as err:
        with contextlib.suppress(OSError):
            if tmp:
                os.unlink(tmp)
        raise StoreError(
            f"{path}: could not be written ({err.strerror or err}); nothing of this set was replaced "
            "-> free some disk space or choose another path"
        ) from None
    return tmp


def _json_text(data: Any) -> str:
    return json.dumps(scrub_tree(data), indent=1, ensure_ascii=False, default=_plain)


def _write(path: str | Path, data: str | bytes, encoding: str = "utf-8") -> Path:
    with atomic_writer(path, "wb" if isinstance(data, bytes) else "w", encoding=encoding) as f:
        f.write(data)
    return Path(path)


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def manifest_path(out: str | Path) -> Path:
    """The manifest beside an output file; never the output itself and never another output's:
    run.v1.json -> run.v1.manifest.json, x.manifest.json -> x.manifest.manifest.json, out -> out.manifest.json."""
    out = Path(out)
    stem = out.name[: -len(".json")] if out.name.endswith(".json") else out.name
    return out.with_name(f"{stem}.manifest.json")


def _check_writable_folder(folder: Path, what: str) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise StoreError(
            f"{folder}: is a file, but {what} needs a folder here -> choose another path"
        ) from None
    except OSError as err:
        raise StoreError(
            f"{folder}: cannot create the folder ({err.strerror}) -> choose a writable path"
        ) from None
    try:  # the real test: can a file be created here (permissions, read-only mounts, ACLs)?
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".judgebench-probe.")
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        raise StoreError(
            f"{folder}: cannot write here ({err.strerror}) -> choose a writable folder"
        ) from None


def check_output_file(path: str | Path, what: str = "--out") -> Path:
    """Fail now (before any paid call) if `path` cannot receive a file."""
    path = Path(path)
    if path.is_symlink():
        raise StoreError(
            f"{what} {path}: is a symbolic link; refusing to write through it -> choose another path"
        )
    if path.is_dir():
        raise StoreError(
            f"{what} {path}: is an existing folder, a file name is expected -> e.g. {path / 'annotations.json'}"
        )
    if path.exists() and not stat.S_ISREG(path.stat().st_mode):
        raise StoreError(f"{what} {path}: is not a regular file -> choose another path")
    _check_writable_folder(path.parent, what)
    return path


def check_output_dir(path: str | Path, what: str = "--out") -> Path:
    """Fail now (before any paid call) if `path` cannot be (or become) a writable folder."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise StoreError(f"{what} {path}: is an existing file, a folder is expected -> choose a folder name")
    _check_writable_folder(path, what)
    return path


def write_json(path: str | Path, data: Any) -> Path:
    """JSON as judgebench writes it (indented, UTF-8 as is; numpy scalars as numbers, anything else JSON
    cannot write as text), atomically."""
    return _write(path, json.dumps(scrub_tree(data), indent=1, ensure_ascii=False, default=_plain))


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else str(value)
