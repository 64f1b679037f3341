"""The code stays formatted and type-checks: `ruff format --check`, `ruff check` and mypy, as CI runs them."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def _tool(name: str) -> str:
    exe = Path(sys.executable).parent / name
    found = str(exe) if exe.exists() else shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed (scripts/setup installs it with .[dev])")
    return found


@pytest.mark.parametrize("args", [["format", "--check"], ["check"]], ids=["format", "lint"])
def test_ruff(args):
    res = subprocess.run(
        [_tool("ruff"), *args, "judgebench", "tests", "bench", "scripts"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]


def test_mypy():
    res = subprocess.run([_tool("mypy")], cwd=REPO, capture_output=True, text=True, timeout=900)
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]


def test_one_conftest_for_the_tests():
    """Tests import helpers with `from conftest import ...`; a second conftest.py below tests/ takes that module name
    first for a whole run and every such import fails at collection (it emptied a CI run once)."""
    extra = sorted(
        str(p.relative_to(REPO)) for p in (REPO / "tests").rglob("conftest.py") if p.parent != REPO / "tests"
    )
    assert not extra, f"put these fixtures in tests/conftest.py instead: {extra}"
