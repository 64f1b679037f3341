"""A benchmark from another package: a small plug-in is installed into a fresh venv (entry point
`judgebench.benchmarks`), listed by `judgebench benchmarks`, costed by `suite --dry-run` and run by `suite`
against a loopback stand-in judge whose verdicts the test sets, so the table's figures are known by hand.
A broken plug-in, or one that takes a built-in's name, is one error line naming it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from openai_standin import OpenAIStandIn, answer

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
RANK = {"GOOD": 2, "BASE": 1, "POOR": 0}  # the stand-in judge prefers GOOD to BASE to POOR


class RankingJudge(OpenAIStandIn):
    """Arena-Hard-style verdicts: the answer whose marker ranks higher is much better, in either order."""

    def _answer(self, body: dict) -> dict:
        out = answer(body)
        text = " ".join(m["content"] for m in body["messages"])
        first, second = [m.group() for m in re.finditer("|".join(RANK), text)][-2:]  # A's answer, then B's
        verdict = "[[A>>B]]" if RANK[first] > RANK[second] else "[[B>>A]]"
        out["choices"][0]["message"]["content"] = f"My final verdict is: {verdict}"
        return out


INSTRUCTIONS = ["Name a prime.", "Say hello.", "Count to three.", "Name a colour."]

PLUGIN_MODULE = '''
"""A made-up benchmark: four instructions, judged pairwise against a baseline with the Arena-Hard judge."""
from pathlib import Path

from judgebench.benchmarks.base import Benchmark, Column, Detail, Results, Scores, Section
from judgebench.benchmarks.evalsets import eval_frame
from judgebench.files.records import read_records

DATA = Path(__file__).parent / "tiny.json"


def load(root):
    return eval_frame(read_records(DATA), DATA)


def statistic(results: Results) -> Scores:
    def wins(records):
        return {r["instruction"]: r["preference"] - 1 for r in records if r.get("preference") is not None}

    rows = {}
    for model, records in results.records.items():
        w = wins(records)
        rows[model] = {"win_rate": 100 * sum(w.values()) / len(w), "wins": sum(v == 1 for v in w.values())}
    differences = {}
    if results.reference:
        ref = wins(results.records[results.reference])
        for model, records in results.records.items():
            if model != results.reference:
                w = wins(records)
                shared = set(w) & set(ref)
                diff = 100 * sum(w[i] - ref[i] for i in shared) / len(shared)
                differences[model] = {"difference": diff, "ci_low": None, "ci_high": None, "p_value": None}
    return Scores(rows, {m: dict(r) for m, r in rows.items()}, differences)


BENCHMARK = Benchmark(
    name="tiny",
    title="Tiny",
    load=load,
    data=str(DATA),
    baseline="base",
    judge="judgebench-arena-pair",
    local_judge="local",
    statistic=statistic,
    columns=(Column("Win (%)", "win_rate", headline=True), Column("Wins", "wins", "{:.0f}")),
    sections=(Section((Detail("win rate", "win_rate"), Detail("wins", "wins", "{:.0f}"))),),
)
'''


def write_package(root: Path, name: str, module: str, entry: str, files: dict | None = None) -> Path:
    pkg = root / name
    (pkg / name).mkdir(parents=True)
    (pkg / "pyproject.toml").write_text(
        textwrap.dedent(f"""\
        [build-system]
        requires = ["setuptools"]
        build-backend = "setuptools.build_meta"

        [project]
        name = "{name}"
        version = "0.1"

        [project.entry-points."judgebench.benchmarks"]
        {entry}

        [tool.setuptools]
        packages = ["{name}"]

        [tool.setuptools.package-data]
        {name} = ["*.json"]
        """)
    )
    (pkg / name / "__init__.py").write_text(module)
    for fname, text in (files or {}).items():
        (pkg / name / fname).write_text(text)
    return pkg


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> Path:
    """A venv that sees the shared venv's packages (a .pth file) and this tree's judgebench (PYTHONPATH)."""
    root = tmp_path_factory.mktemp("venv")
    shared_python = REPO.parent / "main" / ".venv" / "bin" / "python"
    python = shared_python if shared_python.exists() else Path(sys.executable)
    subprocess.run(
        [str(python), "-m", "venv", "--system-site-packages", "--without-pip", str(root)], check=True
    )
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    (next((root / "lib").glob("python3*")) / "site-packages" / "shared.pth").write_text(site + "\n")
    return root


def install(venv: Path, package: Path) -> None:
    """With pip, offline: no index, no build isolation, no dependencies."""
    cmd = [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "-q"]
    done = subprocess.run(
        [*cmd, "--no-deps", "--no-build-isolation", "--no-index", str(package)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr


def judgebench(venv: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [str(venv / "bin" / "python"), "-m", "judgebench.cli", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=venv)


def test_a_plugin_benchmark_is_listed_costed_and_run(tmp_path, venv, data_dir, monkeypatch):
    monkeypatch.setenv("JUDGEBENCH_DATA", str(data_dir))
    eval_set = [
        {"instruction": t, "output": f"BASE answer {i}", "generator": "base"}
        for i, t in enumerate(INSTRUCTIONS)
    ]
    install(
        venv,
        write_package(
            tmp_path, "tinybench", PLUGIN_MODULE, 'tiny = "tinybench"', {"tiny.json": json.dumps(eval_set)}
        ),
    )

    listed = judgebench(venv, "benchmarks", "--json")
    assert listed.returncode == 0, listed.stderr
    tiny = {b["name"]: b for b in json.loads(listed.stdout)}["tiny"]
    assert (
        tiny["instructions"] == 4
        and tiny["source"] == "plug-in tinybench"
        and tiny["judge"] == "judgebench-arena-pair"
    )
    assert "plug-in tinybench" in judgebench(venv, "benchmarks").stdout

    # model a answers well on three instructions of four, model b on one
    quality = {"a": ["GOOD", "GOOD", "GOOD", "POOR"], "b": ["GOOD", "POOR", "POOR", "POOR"]}
    models = []
    for name, marks in quality.items():
        path = tmp_path / f"{name}.json"
        rows = [
            {"instruction": t, "output": f"{m} answer by {name}", "generator": name}
            for t, m in zip(INSTRUCTIONS, marks, strict=True)
        ]
        path.write_text(json.dumps(rows))
        models.append(f"{name}={path}")
    with RankingJudge({"gpt-4-1106-preview": (10.0, 30.0), "gpt-4": (30.0, 60.0)}) as judge:
        common = ["suite", "--models", *models, "--benchmarks", "tiny", "--judge-base-url", judge.base_url]
        common += ["--out", str(tmp_path / "suite"), "--no-progress"]
        dry = judgebench(venv, *common, "--dry-run", "--json")
        assert dry.returncode == 0, dry.stderr
        assert json.loads(dry.stdout)["calls"] == 2 * 4 * 2  # two models, four pairs, both orders
        run = judgebench(venv, *common, "--reference", "a")
        assert run.returncode == 0, run.stderr
        assert judge.chat_requests == 16
    table = (tmp_path / "suite" / "table.md").read_text().splitlines()
    assert table[0] == "| model | Tiny: Win (%) | Tiny: Wins |"
    # by hand: a wins 3 of 4 pairs outright (75%), b 1 of 4 (25%); b - a = -50 points (no p-value: no dagger)
    assert table[2] == "| a (ref.) | 75.0 | 3 |" and table[3] == "| b | 25.0 | 1 |"
    import pandas as pd

    csv = pd.read_csv(tmp_path / "suite" / "table.csv", index_col="model")
    assert csv.loc["b", "tiny.diff"] == -50.0
    assert "<h2>Tiny</h2>" in (tmp_path / "suite" / "report.html").read_text()


def test_a_broken_or_clashing_plugin_is_one_error_line(tmp_path, venv, data_dir, monkeypatch):
    monkeypatch.setenv("JUDGEBENCH_DATA", str(data_dir))
    clash = PLUGIN_MODULE.replace('name="tiny"', 'name="alpaca_eval"')
    install(venv, write_package(tmp_path, "clashbench", clash, 'clash = "clashbench"', {"tiny.json": "[]"}))
    out = judgebench(venv, "benchmarks")
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and "Traceback" not in out.stderr
    assert "plug-in 'clash'" in out.stderr and "'alpaca_eval'" in out.stderr and "built-in" in out.stderr
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(venv / "bin" / "python"),
            "uninstall",
            "-y",
            "-q",
            "clashbench",
        ],
        check=True,
    )

    install(venv, write_package(tmp_path, "brokenbench", "import no_such_module\n", 'broken = "brokenbench"'))
    out = judgebench(venv, "suite", "--models", "embedded", "--dry-run")
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and "Traceback" not in out.stderr
    assert out.stderr.startswith(
        "judgebench: error: benchmark plug-in 'broken' (brokenbench, from brokenbench)"
    )
    assert "No module named 'no_such_module'" in out.stderr
