"""`leaderboard --benchmark wildbench` against WildBench's own result script: the expected numbers are
leaderboard/data_dir/_create_tables.py's outputs on the synthetic files of tests/wildbench_synthetic.py
(fixtures/wildbench_official.json, made by scripts/wildbench_official_reference.py from a WildBench
checkout at the commit it records), shown x100 (WB-Reward) and x10 (WB-Score) as _merge_results.py shows
them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from wildbench_synthetic import REFERENCE, write_files

from judgebench.cli import main

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "wildbench_official.json").read_text())
TABLES = FIXTURE["tables"]
ROOT = Path(__file__).resolve().parents[2]
GROUPS = ["Creative Tasks", "Planning & Reasoning", "Math & Data Analysis", "Information/Advice seeking"]
GROUPS += ["Coding & Debugging"]


def _board(tmp_path, mode, *extra):
    eval_set, pairwise, score = write_files(tmp_path, seed=FIXTURE["seed"])
    out = tmp_path / f"{mode}.csv"
    judgments = pairwise if mode == "reward" else score
    argv = ["leaderboard", "--benchmark", "wildbench", "--judgments", str(judgments), "--mode", mode]
    assert main([*argv, "--eval-set", str(eval_set), "--out", str(out), *extra]) == 0
    return pd.read_csv(out, index_col="model")


@pytest.mark.parametrize("k", [-1, 0, 300, 500])
def test_wb_reward_is_the_official_scripts(tmp_path, k):
    board = _board(tmp_path, "reward", *([] if k == -1 else ["--length-penalty", str(k)]))
    want = TABLES[f"pairwise-haiku-K={k}"]
    assert sorted(board.index) == sorted(want)  # the reference's own file and the K=512 variant left out
    for model, row in want.items():
        got = board.loc[model]
        assert got["reward"] == pytest.approx(100 * row["reward"], abs=1e-3), model  # CSV: 4 decimals
        assert got["task_macro_reward"] == pytest.approx(100 * row["task_macro_reward"], abs=1e-3)
        for c in ("win_much", "win", "tie", "lose", "lose_much", "total"):
            assert got[c] == row[c], (model, c)
        assert got["avg_len"] == pytest.approx(row["avg_len"], abs=1e-3)
        for g, v in row["task_categorized_rewards"].items():
            assert got[f"reward.{g}"] == pytest.approx(100 * v, abs=1e-3), (model, g)
    assert list(board["reward"]) == sorted(board["reward"], reverse=True)


def test_the_length_penalty_moves_only_plain_wins_to_ties():
    plain, k0 = TABLES["pairwise-haiku-K=-1"], TABLES["pairwise-haiku-K=0"]
    assert any(plain[m]["tie"] < k0[m]["tie"] for m in plain)  # the fixture exercises it
    for m in plain:
        assert (plain[m]["win_much"], plain[m]["lose_much"]) == (k0[m]["win_much"], k0[m]["lose_much"])


def test_wb_score_is_the_official_scripts(tmp_path):
    board = _board(tmp_path, "score")
    want = TABLES["score"]
    assert sorted(board.index) == sorted(want)
    for model, row in want.items():
        got = board.loc[model]
        assert got["score"] == pytest.approx(row["score"], abs=1e-3)
        assert got["WB_score"] == pytest.approx(10 * row["adjusted_score"], abs=1e-3)  # (s - 5) * 2 * 10
        assert got["WB_score"] == pytest.approx((row["score"] - 5) * 20, abs=1e-3)
        assert got["WB_score.task_macro"] == pytest.approx(10 * row["adjusted_task_macro_score"], abs=1e-3)
        for g, v in row["task_categorized_scores"].items():
            assert got[f"WB_score.{g}"] == pytest.approx(10 * v, abs=1e-3), (model, g)
        assert got["avg_len"] == pytest.approx(row["avg_len"], abs=1e-3)


def _rewrite(path: Path, row: int, change) -> None:
    items = json.loads(path.read_text())
    change(items[row])
    path.write_text(json.dumps(items))


@pytest.mark.parametrize(
    ("mode", "change", "needle"),
    [
        ("reward", lambda r: r.update(winner="nobody"), "alpha-7b.json, row 2, field 'winner'"),
        ("reward", lambda r: r.update(session_id="s999"), "alpha-7b.json, row 2, field 'session_id'"),
        ("reward", lambda r: r.pop("model_outputs"), "alpha-7b.json, row 2, field 'model_outputs'"),
        ("score", lambda r: r.update(score="great"), "alpha-7b.json, row 2, field 'score'"),
    ],
)
def test_bad_rows_are_one_line(tmp_path, capsys, mode, change, needle):
    eval_set, pairwise, score = write_files(tmp_path, seed=0)
    folder = pairwise if mode == "reward" else score
    _rewrite(folder / "alpha-7b.json", 2, change)
    argv = ["leaderboard", "--benchmark", "wildbench", "--judgments", str(folder), "--mode", mode]
    assert main([*argv, "--eval-set", str(eval_set)]) == 2
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_the_reference_comes_from_the_folder_or_baseline(tmp_path, capsys):
    eval_set, pairwise, _ = write_files(tmp_path, seed=0)
    moved = pairwise.rename(tmp_path / "elsewhere")
    argv = ["leaderboard", "--benchmark", "wildbench", "--judgments", str(moved), "--eval-set", str(eval_set)]
    assert main(argv) == 2 and "--baseline" in capsys.readouterr().err
    assert main([*argv, "--baseline", REFERENCE]) == 0
    assert main([*argv, "--baseline", REFERENCE, "--model-list", "x"]) == 2  # not WildBench's option
    assert main([*argv[:5], "--baseline", REFERENCE]) == 2  # no eval set here: no task tags
    assert "--eval-set" in capsys.readouterr().err


def test_the_eval_set_loads_in_the_hf_schema(tmp_path):
    from judgebench.benchmarks.wildbench import BENCHMARK

    eval_set, _, _ = write_files(tmp_path / "wildbench", seed=0)
    eval_set.rename(tmp_path / "wildbench" / "test.jsonl")
    frame = BENCHMARK.load(tmp_path)
    assert len(frame) == 40 and frame["instruction"].iloc[5] == "task 5"
    assert frame["history"].iloc[5] == "USER: start 5\n\nASSISTANT: ok\n\n"  # as eval.py writes it
    assert frame["checklist"].iloc[0] == ["check 0.0", "check 0.1", "check 0.2"]


def test_suite_leaves_wildbench_out_unless_asked():
    from judgebench.benchmarks.registry import all_benchmarks

    assert not all_benchmarks()["wildbench"].suite_default
    assert [n for n, b in all_benchmarks().items() if b.suite_default] == [
        "alpaca_eval",
        "arena-hard-v0.1",
        "mt-bench",
    ]


@pytest.mark.official_copy
def test_against_a_checkout_of_the_official_code(tmp_path):
    """Runs WildBench's _create_tables.py from JUDGEBENCH_WILDBENCH_DIR and compares with the fixture."""
    repo = os.environ.get("JUDGEBENCH_WILDBENCH_DIR")
    if not repo or not (Path(repo) / "leaderboard" / "data_dir" / "_create_tables.py").is_file():
        pytest.skip("set JUDGEBENCH_WILDBENCH_DIR to a checkout of allenai/WildBench")
    out = tmp_path / "fresh.json"
    script = ROOT / "scripts" / "wildbench_official_reference.py"
    cmd = [sys.executable, str(script), "--wildbench", repo, "--out", str(out), "--commit", "x"]
    subprocess.run(cmd, check=True, capture_output=True, env={**os.environ, "PYTHONPATH": ""})
    fresh = json.loads(out.read_text())["tables"]
    # the script sums task groups in set order (string hashing differs per process): last-digit noise
    assert _close(fresh, TABLES)


def _close(a, b) -> bool:
    if isinstance(b, dict):
        assert sorted(a) == sorted(b)
        return all(_close(a[k], b[k]) for k in b)
    assert a == (pytest.approx(b, rel=1e-12) if isinstance(b, float) else b)
    return True


def test_the_eval_set_loads_from_the_hub_layout(tmp_path, monkeypatch):
    """`datasets.load_dataset("allenai/WildBench", "v2", split="test")` on a local folder in the hub's layout
    (no hub is reachable here): the rows become tasks as a local file's do, with the data folder's
    reference answers, whether the data folder has no wildbench folder or one with only references."""
    pytest.importorskip("datasets")
    from dataclasses import replace

    from wildbench_synthetic import eval_set

    import judgebench.benchmarks.wildbench as wb
    from judgebench.benchmarks.evalsets import load_named

    repo = tmp_path / "WildBench-hub"
    repo.mkdir()
    rows = eval_set(seed=0)
    (repo / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (repo / "README.md").write_text(
        "---\nconfigs:\n- config_name: v2\n  data_files:\n  - split: test\n    path: test.jsonl\n---\n"
    )
    monkeypatch.setenv("JUDGEBENCH_DATA", str(tmp_path / "data"))
    (tmp_path / "data").mkdir()
    hub = (str(repo), "v2", "test")
    frame = load_named(replace(wb.BENCHMARK, hub=hub))
    assert len(frame) == 40 and frame["history"].iloc[5] == "USER: start 5\n\nASSISTANT: ok\n\n"
    assert "references" not in frame
    refs = tmp_path / "data" / "wildbench" / "references"
    refs.mkdir(parents=True)
    lines = [json.dumps({"session_id": r["session_id"], "output": ["r"], "generator": "m"}) for r in rows]
    (refs / "m.jsonl").write_text("\n".join(lines) + "\n")
    monkeypatch.setattr(wb, "HUB", hub)
    frame = load_named(replace(wb.BENCHMARK, hub=hub))
    assert frame["references"].iloc[0] == {"m": "r"} and frame["generator"].iloc[0] == "m"
