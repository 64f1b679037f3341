"""`judgebench profile` and `judgebench jury` on small files: their output, and bad input as one line."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
from conftest import assert_one_line_error, run_cli


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


def _member(tmp_path, name, prefs, annotator):
    rows = [
        {
            "instruction": f"Question {i}?",
            "output_1": f"baseline answer {i}",
            "generator_1": "base",
            "output_2": f"model answer {i}" + " longer" * (i % 3),
            "generator_2": "model",
            "annotator": annotator,
            "preference": float(p),
        }
        for i, p in enumerate(prefs)
    ]
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(rows))
    return path, rows


def test_jury_command(tmp_path, capsys, statsmodels):
    rng = np.random.default_rng(0)
    truth = np.where(rng.random(120) < 0.5, 1.0, 2.0)
    paths = []
    for k, name in enumerate(("a", "b", "c")):
        noisy = np.where(rng.random(120) < 0.2, 3 - truth, truth)
        paths.append(_member(tmp_path, name, noisy, f"judge-{k}")[0])
    # humans in AlpacaEval's schema; two rows given in the other order (their labels reversed)
    humans = [
        {
            "instruction": f"Question {i}?",
            "output_1": f"baseline answer {i}",
            "output_2": f"model answer {i}" + " longer" * (i % 3),
            "preference": float(truth[i]),
        }
        for i in range(40)
    ]
    for h in humans[:2]:
        h["output_1"], h["output_2"], h["preference"] = h["output_2"], h["output_1"], 3 - h["preference"]
    (tmp_path / "humans.json").write_text(json.dumps(humans))
    out = tmp_path / "jury.json"
    argv = ["jury", "--annotations", *map(str, paths), "--aggregate", "majority", "--n-boot", "50"]
    code, stdout, err = run_cli(
        [*argv, "--humans", str(tmp_path / "humans.json"), "--json", "--out", str(out)], capsys
    )
    assert code == 0, err
    result = json.loads(stdout[stdout.index("{") :])
    assert result["members"] == ["judge-0", "judge-1", "judge-2"] and result["n_pairs"] == 120
    assert set(result["cohen_kappa"]) == {"judge-0 ~ judge-1", "judge-0 ~ judge-2", "judge-1 ~ judge-2"}
    # each member agrees with the truth ~80%, the majority of three ~90% (0.8^3 + 3 * 0.8^2 * 0.2 = 0.896)
    h = result["human_agreement"]
    assert h["n_pairs"] == 40 and h["jury"] >= max(h[m] for m in result["members"]) - 0.05
    written = json.loads(out.read_text())
    assert len(written) == 120 and written[0]["annotator"].startswith("jury:majority:")
    code, stdout, err = run_cli(argv, capsys)
    assert code == 0 and "Fleiss' kappa" in stdout and "judge-1" in stdout


def test_jury_bad_input_is_one_line(tmp_path, capsys, statsmodels):
    a, rows = _member(tmp_path, "a", [1.0, 2.0, 1.0], "x")
    code, _, err = run_cli(["jury", "--annotations", str(a)], capsys)
    assert_one_line_error(code, err, names="at least two")
    rows[1]["output_2"] = "another answer"
    b = tmp_path / "b.json"
    b.write_text(json.dumps(rows))
    code, _, err = run_cli(["jury", "--annotations", str(a), str(b)], capsys)
    assert_one_line_error(code, err, names="same pairs")
    code, _, err = run_cli(["jury", "--annotations", str(a), str(a), "--flip-prob", "0.2"], capsys)
    assert_one_line_error(code, err, names="--out")
    code, _, err = run_cli(["jury", "--annotations", str(a), str(a), "--flip-prob", "2"], capsys)
    assert_one_line_error(code, err, names="--flip-prob")
    bad_humans = tmp_path / "h.json"
    bad_humans.write_text(
        json.dumps([{"question_id": 1, "model_a": "x", "model_b": "y", "winner": "model_a"}])
    )
    code, _, err = run_cli(["jury", "--annotations", str(a), str(a), "--humans", str(bad_humans)], capsys)
    assert_one_line_error(code, err, names="question_id")


def test_report_profile_adds_table_and_chart(tmp_path, capsys, statsmodels):
    path = tmp_path / "a.json"
    path.write_text(json.dumps(_annotations()))
    page = tmp_path / "r.html"
    code, _, err = run_cli(["report", "--annotations", str(path), "--profile", "--out", str(page)], capsys)
    assert code == 0, err
    html = page.read_text()
    section = html[html.index('<h2 id="profile">') :]
    assert "<svg" in section and 'id="profile-table"' in section
    row = section[section.index('data-property="bold"') :].split("</tr>")[0]
    assert "+2.00" in row  # the simulated judge's +2 log-odds for bold
    code, _, err = run_cli(["report", "--profile", "--out", str(page)], capsys)
    assert_one_line_error(code, err, names="--annotations")
