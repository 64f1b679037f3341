"""evaluate --gold-judge SPEC --gold-budget N: a random N of the pairs judged again by the gold judge through
the same pipeline and store (a rerun calls nobody), the PPI estimate in the summary. Both judges are the
loopback stand-in of OpenAI's API (tests/openai_standin.py) under two model names, so their calls differ."""

import json

import numpy as np
import pytest
from conftest import run_cli
from openai_standin import OpenAIStandIn

from judgebench.errors import InputError
from judgebench.runs.evaluate import EvaluateConfig, evaluate
from judgebench.runs.gold import draw_gold_pairs

PRICES = {"gpt-4-1106-preview": (10.0, 30.0), "cheap-judge": (0.1, 0.2)}


def two_judges(standin: OpenAIStandIn, budget: int) -> dict:
    """The run's (cheap) judge and the gold one, both alpacaeval2 on the stand-in under two model names."""
    return {
        "judge_model": "cheap-judge",
        "judge_base_url": standin.base_url,
        "gold_judge": "alpacaeval2",
        "gold_budget": budget,
        "gold_judge_base_url": standin.base_url,
    }


def test_the_gold_pairs_are_a_seeded_uniform_draw():
    a, b = draw_gold_pairs(805, 100, 0), draw_gold_pairs(805, 100, 0)
    assert (a == b).all() and len(set(a)) == 100 and a.max() < 805
    assert not (draw_gold_pairs(805, 100, 1) == a).all()
    hits = np.bincount(np.concatenate([draw_gold_pairs(50, 10, s) for s in range(2000)]), minlength=50)
    assert abs(hits / 2000 - 0.2).max() < 0.04  # every pair equally likely: 10/50
    assert len(draw_gold_pairs(5, 100, 0)) == 5  # a budget beyond the pairs judges them all


def test_evaluate_with_a_gold_judge(tmp_path, alpaca_dir, monkeypatch, capsys):
    monkeypatch.setenv("JUDGEBENCH_DATA", str(alpaca_dir.parent))
    with OpenAIStandIn(PRICES) as standin:
        config = EvaluateConfig(
            outputs=alpaca_dir / "model_outputs" / "Mistral-7B-Instruct-v0.2.json.gz",
            judge="alpacaeval2",
            **two_judges(standin, 12),
            max_instances=40,
            n_boot=50,
            out=tmp_path / "run",
            progress=False,
        )
        s = evaluate(config)
        assert standin.chat_requests == 40 + 12
        g = s["gold"]
        assert (g["n_gold"], g["n_cheap"], g["budget"], g["drawn_from"]) == (12, 40, 12, 40)
        assert g["lower"] <= g["win_rate"] <= g["upper"] and 0 <= g["lambda"] <= 1
        gold_records = json.loads((tmp_path / "run" / "gold_annotations.json").read_text())
        assert len(gold_records) == 12 and s["cost"] > s["annotation"]["cost"]
        cheap = {r["instruction"]: r for r in json.loads((tmp_path / "run" / "annotations.json").read_text())}
        assert all(r["instruction"] in cheap for r in gold_records)

        again = evaluate(config)  # the same draw, every call from the store
        assert standin.chat_requests == 40 + 12 and again["gold"]["win_rate"] == g["win_rate"]
        capsys.readouterr()
        code, out, err = run_cli(
            [
                "evaluate",
                "--outputs", str(config.outputs),
                "--judge", "alpacaeval2",
                "--judge-model", "cheap-judge",
                "--judge-base-url", standin.base_url,
                "--gold-judge", "alpacaeval2",
                "--gold-budget", "12",
                "--gold-judge-base-url", standin.base_url,
                "--max-instances", "40",
                "--n-boot", "50",
                "--out", str(tmp_path / "run"),
                "--no-progress",
            ],
            capsys,
        )  # fmt: skip
        assert code == 0, err
        assert f"gold judge alpacaeval2's win rate {g['win_rate']:.1f}" in out
        assert "PPI++ from 12 gold and 40 cheap judgments" in out and "gold judge alone on the same 12" in out
        assert standin.chat_requests == 40 + 12

        page = tmp_path / "r.html"  # the report shows the run's estimate
        code, _, err = run_cli(
            ["report", "--ppi", str(tmp_path / "run" / "summary.json"), "--out", str(page)], capsys
        )
        assert code == 0, err
        row = page.read_text().split('id="ppi-table"')[1].split("</tr>")[1]
        assert f"<td>{g['win_rate']:.1f}</td>" in row and "<td>12 / 40</td>" in row and "alpacaeval2" in row

    with pytest.raises(InputError, match="--gold-judge needs --gold-budget"):
        evaluate(
            EvaluateConfig(judge="alpacaeval2", gold_judge="alpacaeval2", out=tmp_path / "x", progress=False)
        )
    with pytest.raises(InputError, match="does not give a pairwise preference"):
        evaluate(
            EvaluateConfig(
                judge="alpacaeval2",
                gold_judge="judgebench-mt-single",
                gold_budget=5,
                out=tmp_path / "y",
                progress=False,
            )
        )


def test_suite_with_a_gold_judge_puts_its_estimate_in_the_table(tmp_path, alpaca_dir, monkeypatch):
    from judgebench.runs.config import SuiteConfig
    from judgebench.runs.models import ModelSpec
    from judgebench.runs.suite import run_suite

    monkeypatch.setenv("JUDGEBENCH_DATA", str(alpaca_dir.parent))
    outputs = alpaca_dir / "model_outputs"
    models = [
        ModelSpec("mistral", outputs={"alpaca_eval": str(outputs / "Mistral-7B-Instruct-v0.2.json.gz")}),
        ModelSpec("null", outputs={"alpaca_eval": str(outputs / "NullModel.json.gz")}),
    ]
    with OpenAIStandIn(PRICES) as standin:
        config = SuiteConfig(
            benchmarks=("alpaca_eval",),
            judge=("alpacaeval2",),
            **two_judges(standin, 8),
            max_instances=20,
            n_boot=20,
            out=tmp_path / "suite",
            progress=False,
        )
        result = run_suite(models, config)
        assert standin.chat_requests == 2 * (20 + 8)
        manifest = result["manifest"]
        runs = manifest["runs"].values()
        assert all(r["gold_cost_usd"] > 0 for r in runs)  # the gold calls are counted in the spend
        assert manifest["spent_usd"] == pytest.approx(sum(r["cost_usd"] + r["gold_cost_usd"] for r in runs))
    table = result["table"]
    for m in ("mistral", "null"):
        assert table.loc[m, "alpaca_eval.gold_n"] == 8
        assert table.loc[m, "alpaca_eval.gold_ci_low"] <= table.loc[m, "alpaca_eval.gold_win_rate"]
    report = (tmp_path / "suite" / "report.html").read_text()
    gold_table = report[report.index("the expensive (gold) judge") :].split("</table>")[0]
    for m in ("mistral", "null"):
        wr = table.loc[m, "alpaca_eval.gold_win_rate"]
        assert f"<tr><td>{m}</td><td>{wr:.1f}</td>" in gold_table
    with pytest.raises(InputError, match="--max-cost"):
        run_suite(
            models, SuiteConfig(gold_judge="alpacaeval2", gold_budget=5, max_cost=1.0, out=tmp_path / "z")
        )
