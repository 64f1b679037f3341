"""With CI set, a test that cannot run fails and names what is missing; locally it skips, and the run ends
with one line of skip reasons; tests marked `allowed_skip_in_ci` may still skip in CI."""

import os
import re
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent
DATA_TEST = "stats/test_winrate_official.py::test_every_shared_model_matches_the_official_row"


def _pytest(args, cwd, **env):
    full = {k: v for k, v in os.environ.items() if k != "CI"} | env
    res = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=cwd,
        env=full,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return res.returncode, res.stdout + res.stderr


def _counts(out: str) -> dict[str, int]:
    last = out.strip().splitlines()[-1]
    return {
        kind.rstrip("s"): int(n) for n, kind in re.findall(r"(\d+) (passed|failed|skipped|errors?)", last)
    }


def test_missing_data_fails_in_ci_naming_the_folder():
    code, out = _pytest([DATA_TEST], TESTS, JUDGEBENCH_DATA="/nonexistent", CI="true")
    assert code == 1, out
    assert _counts(out) == {"error": 1}, out  # a skip at setup (the data fixture) reads as an error
    assert "skipped in CI" in out and "shared data not found at /nonexistent" in out, out


def test_missing_data_skips_locally_with_one_summary_line():
    code, out = _pytest([DATA_TEST], TESTS, JUDGEBENCH_DATA="/nonexistent")
    assert code == 0, out
    summary = [line for line in out.splitlines() if line.startswith("skips: ")]
    assert len(summary) == 1 and "1x shared data not found at /nonexistent" in summary[0], out


def test_only_marked_tests_may_skip_in_ci(tmp_path):
    # this repository's hooks on a folder of its own: the marked skips pass, the unmarked ones fail
    (tmp_path / "conftest.py").write_text(
        f"exec(compile(open({str(TESTS / 'conftest.py')!r}).read(), 'tests/conftest.py', 'exec'))\n"
    )
    (tmp_path / "test_some.py").write_text(
        "import pytest\n"
        "@pytest.mark.allowed_skip_in_ci(reason='needs a GPU')\n"
        "def test_allowed(): pytest.skip('no GPU here')\n"
        "@pytest.mark.official_copy\n"
        "def test_official(): pytest.skip('no FastChat checkout')\n"
        "def test_unmarked(): pytest.skip('no widget installed')\n"
        "@pytest.mark.skipif(True, reason='never here')\n"
        "def test_skipif(): pass\n"
    )
    (tmp_path / "test_module_allowed.py").write_text(
        "import pytest\npytestmark = pytest.mark.allowed_skip_in_ci(reason='GPU only')\n"
        "pytest.skip('no GPU', allow_module_level=True)\n"
    )
    quiet = ["-rA", "-W", "ignore::pytest.PytestUnknownMarkWarning"]
    code, out = _pytest([*quiet, "."], tmp_path, CI="1")
    assert code == 1, out
    assert _counts(out) == {"failed": 1, "error": 1, "skipped": 3}, out
    assert "FAILED test_some.py::test_unmarked - skipped in CI (CI=1): no widget installed" in out, out
    assert "ERROR test_some.py::test_skipif - skipped in CI (CI=1): never here" in out, out
    code, out = _pytest([*quiet, "."], tmp_path)
    assert code == 0 and _counts(out) == {"skipped": 5}, out
    # a module that skips while importing fails the collection, naming the missing module
    (tmp_path / "test_module_skip.py").write_text(
        "import pytest\npytest.importorskip('no_such_module_anywhere')\n"
    )
    code, out = _pytest([*quiet, "test_module_skip.py"], tmp_path, CI="1")
    assert code == 2 and "skipped in CI (CI=1): could not import 'no_such_module_anywhere'" in out, out
