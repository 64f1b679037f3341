import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _data_dir() -> Path:
    return Path(os.environ.get("JUDGEBENCH_DATA", REPO.parent / "shared" / "data")).resolve()


@pytest.fixture(scope="session")
def data_dir() -> Path:
    d = _data_dir()
    if not (d / "alpacaeval").is_dir():
        pytest.skip(f"shared data not found at {d}: set JUDGEBENCH_DATA to a folder laid out like shared/data")
    return d


@pytest.fixture(scope="session")
def alpaca_dir(data_dir) -> Path:
    return data_dir / "alpacaeval"


@pytest.fixture(scope="session")
def all_annotations(alpaca_dir):
    from judgebench.io import load_annotations

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


def judgebench_exe() -> str:
    return shutil.which("judgebench") or str(REPO / ".venv" / "bin" / "judgebench")
