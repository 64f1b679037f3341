"""Settings read from the command line and the environment, in one place.

The data folder (eval sets, baseline outputs, stored annotations; laid out like the project's
`shared/data/`: alpacaeval/, arenahard/, mtbench/) is, in this order: `judgebench --data DIR`, the
environment variable `JUDGEBENCH_DATA`, or a per-user folder, `$XDG_CACHE_HOME/judgebench/data`
(`~/.cache/judgebench/data`). Never a path relative to the current folder: a command gives the same
answer wherever it is run from.
"""

from __future__ import annotations

import os
from pathlib import Path

DATA_ENV = "JUDGEBENCH_DATA"
_data_flag: Path | None = None  # set once by the CLI from --data


def set_data_dir(path: str | Path | None) -> None:
    """`--data DIR`: wins over the environment for the rest of this process."""
    global _data_flag
    _data_flag = Path(path).expanduser().resolve() if path is not None else None


def user_data_dir() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache).expanduser() / "judgebench" / "data"


def data_source() -> tuple[Path, str]:
    """The data folder and where that choice came from, for messages ("--data", "JUDGEBENCH_DATA", ...)."""
    if _data_flag is not None:
        return _data_flag, "--data"
    env = os.environ.get(DATA_ENV, "")
    if env:
        return Path(env).expanduser().resolve(), f"${DATA_ENV}"
    return user_data_dir(), "the per-user data folder"


def data_dir() -> Path:
    """Folder laid out like `shared/data/` (alpacaeval/, mtbench/, arenahard/)."""
    return data_source()[0]


def missing_data_hint(relative: str) -> str:
    """What to do when `relative` (e.g. "alpacaeval/eval_set.json.gz") is not in the data folder."""
    root, source = data_source()
    return (
        f"looked in {root / relative} ({source}); point `judgebench --data DIR` or ${DATA_ENV} at a folder "
        f"laid out like the project's shared/data (alpacaeval/, arenahard/, mtbench/), or copy the files "
        f"into {user_data_dir()}"
    )
