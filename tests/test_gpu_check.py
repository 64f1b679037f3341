"""scripts/gpu_check.py runs where a lent GPU is: with torch, transformers (and what they need) and this
repository on the path, nothing of judgebench's own dependencies (msgspec, isal, aiohttp, pandas, ...).

The bare environment is made in seconds: `python -S` (no site-packages) and one folder of links to the
installed distributions of torch and transformers and their requirements, closed over recursively."""

import importlib.metadata as md
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytest.importorskip("torch", reason="torch is not installed (scripts/setup --test installs it)")
pytest.importorskip("transformers", reason="transformers is not installed (scripts/setup --test installs it)")

pytestmark = pytest.mark.slow  # a CPU-sized run of the GPU checks: about a minute


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def bare_site(folder: Path, roots=("torch", "transformers")) -> set[str]:
    """Links in `folder` to every top-level entry of `roots`' distributions and of their requirements
    (extras left out); returns the distributions' names."""
    folder.mkdir()
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        name = _norm(todo.pop())
        if name in seen:
            continue
        try:
            dist = md.distribution(name)
        except md.PackageNotFoundError:  # a requirement for another platform or Python
            continue
        seen.add(name)
        todo += [re.match(r"[A-Za-z0-9_.\-]+", r)[0] for r in dist.requires or [] if "extra ==" not in r]
        for top in {f.parts[0] for f in dist.files or []} - {"..", "__pycache__"}:
            src, dst = Path(dist.locate_file(top)), folder / top
            if src.exists() and not dst.exists() and not top.endswith(".pth"):
                dst.symlink_to(src)
    return seen


def test_gpu_check_small_runs_with_only_torch_and_transformers(tmp_path):
    site = tmp_path / "site"
    dists = bare_site(site)
    heavy = {"msgspec", "isal", "aiohttp", "pandas", "scipy", "scikit-learn", "matplotlib"}
    assert not heavy & dists, "torch/transformers require one of judgebench's own dependencies now"
    env = {**os.environ, "PYTHONPATH": f"{site}{os.pathsep}{ROOT}", "TOKENIZERS_PARALLELISM": "false"}
    env.pop("OUT", None)
    # the environment is bare indeed: none of judgebench's own dependencies can be imported
    modules = sorted({"msgspec", "isal", "aiohttp", "pandas", "scipy", "sklearn", "matplotlib"})
    probe = f"import importlib.util as u; print([m for m in {modules!r} if u.find_spec(m)])"
    seen = subprocess.run([sys.executable, "-S", "-c", probe], capture_output=True, text=True, env=env)
    assert seen.stdout.strip() == "[]", seen.stdout + seen.stderr
    proc = subprocess.run(
        [sys.executable, "-S", str(ROOT / "scripts" / "gpu_check.py"), "--small"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=600,
    )
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    lines = {ln.split("  ")[0]: ln for ln in proc.stdout.splitlines()}
    # the judge's real prompt was rendered (not the fallback for a machine without judgebench's deps)
    assert "pairs judged (prompts/alpacaeval2 prompt, m/M)" in lines, proc.stdout
    assert lines["same tokens generated"].rstrip().endswith("yes"), proc.stdout
    assert lines["max |label log-prob - forward pass|"].rstrip().endswith("yes"), proc.stdout
