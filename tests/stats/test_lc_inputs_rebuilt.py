"""The LC inputs the package ships (judgebench/data/alpacaeval2_*) are what their script makes of the shared
data, byte for byte: nobody edited them by hand, and the estimate did not drift from the code."""

import runpy
import sys

import pytest

from judgebench.stats import alpacaeval_lc

pytestmark = pytest.mark.slow
SHIPPED = (alpacaeval_lc.DIFFICULTY_FILE, alpacaeval_lc.GAMED_FILE, alpacaeval_lc.CORRECTION_FILE)
SCRIPT = alpacaeval_lc.PACKAGE_DATA.parents[1] / "scripts" / "build_alpacaeval_lc_inputs.py"


def test_the_script_rebuilds_the_shipped_files_byte_for_byte(data_dir, tmp_path, monkeypatch, capsys):
    shipped = {p.name: p.read_bytes() for p in SHIPPED}
    # the script writes where alpacaeval_lc says the package data is: a folder of this test's own
    monkeypatch.setattr(alpacaeval_lc, "PACKAGE_DATA", tmp_path)
    for name in ("DIFFICULTY_FILE", "GAMED_FILE", "CORRECTION_FILE"):
        monkeypatch.setattr(alpacaeval_lc, name, tmp_path / getattr(alpacaeval_lc, name).name)
    monkeypatch.setattr(sys, "argv", [str(SCRIPT), str(data_dir)])
    runpy.run_path(str(SCRIPT), run_name="__main__")
    assert '"n_models"' in capsys.readouterr().out
    for name, content in shipped.items():
        rebuilt = (tmp_path / name).read_bytes()
        assert rebuilt == content, f"{name}: the rebuilt file differs (scripts/build_alpacaeval_lc_inputs.py)"
