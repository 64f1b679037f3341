import glob
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _data_dir() -> Path:
    return Path(os.environ.get("JUDGEBENCH_DATA", REPO.parent / "shared" / "data")).resolve()


# The package never guesses the data folder from the current one; the tests' default (the shared data
# beside the checkout) is handed to every command they run, in-process or as a child process.
os.environ.setdefault("JUDGEBENCH_DATA", str(_data_dir()))


@pytest.fixture(scope="session")
def data_dir() -> Path:
    d = _data_dir()
    if not (d / "alpacaeval").is_dir():
        pytest.skip(
            f"shared data not found at {d}: set JUDGEBENCH_DATA to a folder laid out like shared/data"
        )
    return d


@pytest.fixture(scope="session")
def alpaca_dir(data_dir) -> Path:
    return data_dir / "alpacaeval"


@pytest.fixture(scope="session")
def all_annotations(alpaca_dir):
    from judgebench.files.records import load_annotations

    return load_annotations([alpaca_dir / "annotations"], keep_extra=False, workers=2)


@pytest.fixture(scope="session")
def official_board(alpaca_dir):
    import pandas as pd

    return pd.read_csv(alpaca_dir / "leaderboard_official.csv", index_col=0)


@pytest.fixture(scope="session")
def reference_python() -> Path:
    """The reference package alpaca-eval==0.6.6 lives in its own venv (scripts/setup-reference)."""
    py = Path(os.environ.get("JUDGEBENCH_REFERENCE_PYTHON", REPO / ".venv-ref" / "bin" / "python"))
    if not py.exists():
        if os.environ.get("CI"):
            pytest.fail(f"reference python {py} missing in CI: .ci/run must install alpaca-eval==0.6.6")
        pytest.skip(f"reference package not installed ({py}); run scripts/setup-reference")
    return py


@pytest.fixture
def cli_env(data_dir):
    env = dict(os.environ)
    env["JUDGEBENCH_DATA"] = str(data_dir)
    return env


# -- a real PostgreSQL server for the store tests --------------------------------------------------------


@pytest.fixture(scope="session")
def pg_server():
    url = os.environ.get("JUDGEBENCH_TEST_POSTGRES")
    in_ci = os.environ.get("CI", "").lower() not in ("", "0", "false")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        if in_ci:
            pytest.fail("psycopg missing in CI: scripts/setup installs judgebench[postgres]")
        pytest.skip("psycopg not installed (pip install 'judgebench[postgres]')")
    if url:
        yield url
        return
    if in_ci:
        pytest.fail("JUDGEBENCH_TEST_POSTGRES is not set in CI: .ci/run starts PostgreSQL and sets it")
    if not glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        pytest.skip(
            "no PostgreSQL: set JUDGEBENCH_TEST_POSTGRES=postgresql://USER@HOST:PORT/DB, or install "
            "Debian's postgresql (scripts/setup --test)"
        )
    # a folder of its own under /tmp: as root the server runs as `postgres`, which pytest's 0700 folders would shut out
    folder = Path(tempfile.mkdtemp(prefix="judgebench-pg-"))
    res = subprocess.run(
        [str(REPO / "scripts" / "test-postgres"), "start", str(folder)], capture_output=True, text=True
    )
    if res.returncode != 0:
        pytest.skip(f"could not start a PostgreSQL server: {res.stderr.strip()[-300:]}")
    try:
        yield res.stdout.strip()
    finally:
        subprocess.run([str(REPO / "scripts" / "test-postgres"), "stop", str(folder)], check=False)


@pytest.fixture
def pg_url(pg_server):
    """A fresh database on the server, dropped afterwards."""
    import psycopg

    name = f"jb_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server, autocommit=True) as con:
        con.execute(f"CREATE DATABASE {name}")
    yield pg_server.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(pg_server, autocommit=True) as con:
        con.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def run_cli(argv: list[str], capsys) -> tuple[int, str, str]:
    """`judgebench ARGV` in this process, through cli.main (the one error boundary): (exit code, out, err)."""
    from judgebench.cli import main

    try:
        code = main(argv)
    except SystemExit as stop:  # argparse's own exits (bad flags) go through _Parser.error
        code = stop.code
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code, err, *, codes=(2,), names: str | None = None) -> str:
    """The error contract: one of `codes`, no traceback, exactly one line `judgebench: error: ...` on stderr
    (naming `names` where given); returns that line."""
    assert code in codes, err
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("judgebench: error: "), err
    if names:
        assert names in lines[0], err
    return lines[0]


def judgebench_exe() -> str:
    return shutil.which("judgebench") or str(REPO / ".venv" / "bin" / "judgebench")


# Tests that load a native engine (llama.cpp) in this process carry the `engine` marker. The engine is first
# tried once in a child process: if it crashes there (a build for another CPU), each such test fails with
# the diagnosis instead of the whole run dying with it, and pytest still prints its summary.
_engine_check: tuple[bool, str] | None = None


def pytest_addoption(parser):
    parser.addoption(
        "--all",
        action="store_true",
        help="also run the slow and reference tests (CI and README's test command do)",
    )


def pytest_collection_modifyitems(config, items):
    """A plain `pytest` is the quick loop (no slow or reference tests); `pytest --all` runs everything."""
    if config.getoption("--all") or config.option.markexpr or any("::" in a for a in config.args):
        return
    quick = [i for i in items if not (i.get_closest_marker("slow") or i.get_closest_marker("reference"))]
    if len(quick) < len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in quick])
        items[:] = quick


def pytest_runtest_setup(item):
    global _engine_check
    if item.get_closest_marker("engine") is None:
        return
    from servers import require_llama

    require_llama()
    if _engine_check is None:
        from judgebench.backends.smoke import check

        _engine_check = check()
    ok, message = _engine_check
    if not ok:
        pytest.fail(message, pytrace=False)


# -- in CI nothing skips silently -------------------------------------------------------------------------
# With CI set (.ci/run exports CI=true), a test that skips because something it needs is missing (data,
# a package, a server, a browser) fails instead, naming what is missing; only tests marked
# `allowed_skip_in_ci` (a reason is required) or `official_copy` may skip there. Locally the quick loop may
# skip, and the run ends with one line that counts the skips by reason.
ALLOWED_IN_CI = ("allowed_skip_in_ci", "official_copy")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false")


def _skip_reason(report) -> str:
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    return reason.removeprefix("Skipped: ")


def _module_allows_skip(path: str) -> bool:
    """A module skipped while importing never got its markers applied: read its `pytestmark` from the source."""
    import ast

    try:
        tree = ast.parse(Path(path).read_text())
    except (OSError, SyntaxError, ValueError):
        return False
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "pytestmark" for t in node.targets):
            names = {n.attr for n in ast.walk(node.value) if isinstance(n, ast.Attribute)}
            return bool(names & set(ALLOWED_IN_CI))
    return False


def _ci_failure(report, reason: str) -> None:
    report.outcome = "failed"
    report.longrepr = (
        f"skipped in CI (CI={os.environ.get('CI')}): {reason}\n"
        "CI must provide what this test needs; a test that may legitimately skip there carries "
        "@pytest.mark.allowed_skip_in_ci(reason=...)"
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not (report.skipped and in_ci()) or hasattr(report, "wasxfail"):
        return
    if any(item.get_closest_marker(name) for name in ALLOWED_IN_CI):
        return
    _ci_failure(report, _skip_reason(report))


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    report = outcome.get_result()
    if not (report.skipped and in_ci()):
        return
    path = str(getattr(collector, "path", ""))
    if path.endswith(".py") and _module_allows_skip(path):
        return
    _ci_failure(report, _skip_reason(report))


def pytest_terminal_summary(terminalreporter):
    skipped = terminalreporter.stats.get("skipped", [])
    if not skipped:
        return
    from collections import Counter

    reasons = Counter(_skip_reason(r) for r in skipped)
    terminalreporter.write_line(
        f"skips: {len(skipped)} (" + "; ".join(f"{n}x {why}" for why, n in reasons.most_common()) + ")"
    )


@pytest.fixture(scope="module")
def statsmodels():
    """statsmodels.api, for the tests of the `stats` extra (profile, jury); a skip, which fails under CI."""
    sm = pytest.importorskip(
        "statsmodels.api", reason="statsmodels not installed (pip install 'judgebench[stats]')"
    )
    return sm


@pytest.fixture
def vllm(monkeypatch):
    """The stand-in vllm package (tests/fake_vllm), imported fresh: its engine settings are module globals."""
    for name in [m for m in sys.modules if m == "vllm" or m.startswith("vllm.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.syspath_prepend(str(REPO / "tests" / "fake_vllm"))
    import vllm

    yield vllm
    for name in [m for m in sys.modules if m == "vllm" or m.startswith("vllm.")]:
        del sys.modules[name]
