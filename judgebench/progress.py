"""The one progress display (a tqdm bar on stderr, or nothing) and the one record of versions a run keeps."""

from __future__ import annotations

import platform
import sys
from importlib import metadata
from typing import Any


class Progress:
    """`Progress(total, unit, enabled)`: a bar on stderr when enabled (and there is work), else a no-op.
    `step(n, cost=...)` advances it; a running cost shows beside the bar when one is given."""

    def __init__(self, total: int, unit: str, enabled: bool = True):
        self.bar: Any = None
        self.cost = 0.0
        if enabled and total:
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit=unit, file=sys.stderr, dynamic_ncols=True)

    def step(self, n: int = 1, cost: float | None = None, note: str | None = None) -> None:
        if cost is not None:
            self.cost += cost
        if self.bar is not None:
            self.bar.update(n)
            if note is not None or cost is not None:
                self.bar.set_postfix_str(note if note is not None else f"${self.cost:.4f}", refresh=False)

    def describe(self, text: str) -> None:
        """What is being worked on now, shown before the bar."""
        if self.bar is not None:
            self.bar.set_description_str(text)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def run_versions(*packages: str) -> dict[str, str | None]:
    """judgebench's and Python's versions, and each named package's (None when it is not installed)."""
    from judgebench import __version__

    found: dict[str, str | None] = {"judgebench": __version__, "python": platform.python_version()}
    for name in packages:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found
