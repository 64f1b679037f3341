"""The wheel carries everything the package reads at run time: the judges' specs and templates (from the
top-level prompts/), the shipped LC inputs (judgebench/data/) and the report's template. The expected
lists come from the source tree, the actual ones from a wheel built here from the committed files; CI
also installs that wheel into a fresh venv and runs it from an empty folder (scripts/wheel-check)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import REPO


def clean_copy(dest: Path) -> Path:
    """The tracked files (links kept as links) without a build/ folder an earlier build left behind:
    setuptools would copy its stale files into the wheel and hide a file the package data misses."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, check=True, capture_output=True).stdout
    for name in filter(None, listed.decode().split("\0")):
        source, target = REPO / name, dest / name
        if not source.exists() and not source.is_symlink():
            continue  # deleted in the work tree, not yet committed
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            target.symlink_to(source.readlink())
        else:
            shutil.copy2(source, target)
    return dest


@pytest.mark.slow
def test_the_wheel_holds_every_file_read_at_run_time(tmp_path):
    source = clean_copy(tmp_path / "src")
    build = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation"]
    subprocess.run([*build, str(source), "-w", str(tmp_path)], check=True, capture_output=True)
    (wheel,) = tmp_path.glob("judgebench-*.whl")
    inside = set(zipfile.ZipFile(wheel).namelist())
    prompts = {
        f"judgebench/prompts/{p.name}"
        for p in (REPO / "prompts").iterdir()
        if p.suffix in (".yaml", ".jinja")
    }
    data = {f"judgebench/data/{p.name}" for p in (REPO / "judgebench" / "data").iterdir() if p.is_file()}
    templates = {f"judgebench/report/{p.name}" for p in (REPO / "judgebench" / "report").glob("*.j2")}
    expected = prompts | data | templates
    assert len(prompts) >= 10 and len(data) >= 3 and templates
    assert not expected - inside, f"missing from the wheel: {sorted(expected - inside)}"
    modules = {str(p.relative_to(REPO)) for p in (REPO / "judgebench").rglob("*.py")}
    assert not modules - inside, f"modules missing from the wheel: {sorted(modules - inside)}"


def test_the_package_finds_its_prompts_beside_its_code():
    """Built-in judges are read from the package (a link to prompts/ in a checkout, files in a wheel),
    never from the current folder or a path outside the package."""
    import judgebench
    from judgebench.judges.spec import prompts_dir

    assert prompts_dir() == Path(judgebench.__file__).resolve().parent / "prompts"
    assert prompts_dir().resolve() == (REPO / "prompts").resolve()
