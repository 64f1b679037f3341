"""`judgebench profile` and `judgebench jury` on small files: their output, and bad input as one line."""

from __future__ import annotations

import json
import os
import sys

import numpy as np
import pytest
from conftest import assert_one_line_error, run_cli


@pytest.fixture(scope="module")
def statsmodels():
    try:
        import statsmodels.api as sm
    except ImportError:
        if os.environ.get("CI", "").lower() not in ("", "0", "false"):
            pytest.fail("statsmodels missing in CI: scripts/setup installs judgebench[dev]")
        pytest.skip("statsmodels not installed (pip install 'judgebench[stats]')")
    return sm


def _annotations(n=400, seed=0, bold_effect=2.0):
    """A judge that prefers bold answers by `bold_effect` log-odds, nothing else."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        bold = rng.random(2) < 0.5
        texts = [  # lengths vary apart from the bold marks, or length and bold could not be told apart
            f"Answer {k} to question {i} is {'**' if b else ''}plain{'**' if b else ''} text." + " more" * m
            for k, (b, m) in enumerate(zip(bold, rng.integers(0, 30, 2), strict=True))
        ]
        p = 1 / (1 + np.exp(-bold_effect * (int(bold[1]) - int(bold[0]))))
        rows.append(
            {
                "instruction": f"Question {i}?",
                "output_1": texts[0],
                "generator_1": "base",
                "output_2": texts[1],
                "generator_2": "model",
                "preference": 1 + float(p),
            }
        )
    return rows


def test_profile_json_and_csv(tmp_path, capsys, statsmodels):
    path = tmp_path / "a.json"
    path.write_text(json.dumps(_annotations()))
    out = tmp_path / "profile.csv"
    code, stdout, err = run_cli(["profile", "--annotations", str(path), "--json", "--out", str(out)], capsys)
    assert code == 0, err
    result = json.loads(stdout)
    bold = next(r for r in result["properties"] if r["property"] == "bold")
    assert bold["log_odds"] == pytest.approx(2.0, abs=0.05)
    assert result["n_pairs"] == 400 and result["n_models"] == 1
    assert out.read_text().startswith("property,")
    code, stdout, err = run_cli(["profile", "--annotations", str(path)], capsys)
    assert code == 0 and "bold" in stdout and "+2.00" in stdout


def test_profile_bad_input_is_one_line(tmp_path, capsys, statsmodels):
    rows = _annotations(5)
    rows[3]["preference"] = 7
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(rows))
    code, _, err = run_cli(["profile", "--annotations", str(path)], capsys)
    assert "row 3" in assert_one_line_error(code, err, names="bad.json")
    path.write_text(json.dumps(_annotations(3)))  # fewer pairs than coefficients
    code, _, err = run_cli(["profile", "--annotations", str(path)], capsys)
    assert_one_line_error(code, err, names="judged pairs")
    code, _, err = run_cli(["profile", "--annotations", str(tmp_path / "none.json")], capsys)
    assert_one_line_error(code, err, names="none.json")


def test_profile_without_statsmodels_names_the_extra(tmp_path, capsys, monkeypatch):
    path = tmp_path / "a.json"
    path.write_text(json.dumps(_annotations(20)))
    monkeypatch.setitem(sys.modules, "statsmodels.api", None)  # import fails as if not installed
    code, _, err = run_cli(["profile", "--annotations", str(path)], capsys)
    assert_one_line_error(code, err, names="judgebench[stats]")
