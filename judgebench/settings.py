"""Settings read from the environment, in one place."""

from __future__ import annotations

import os
from pathlib import Path


def data_dir() -> Path:
    """Folder laid out like `shared/data/` (alpacaeval/, mtbench/, arenahard/): `JUDGEBENCH_DATA`."""
    return Path(os.environ.get("JUDGEBENCH_DATA", "../shared/data")).expanduser()
