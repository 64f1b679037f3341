"""MT-Bench exactly as FastChat computes it. The fixture (tests/benchmarks/fixtures/mtbench/) holds
synthetic judgments that FastChat's own common.py parsed and wrote, and the tables its show_result.py
computed from them (scripts/mtbench_fastchat_reference.py; commit and command in the JSON): failed
ratings (-1), failed verdicts ("error"), swaps that disagree, ties, ratings only the single-bracket
fallback finds, replies with several ratings or labels."""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
from pathlib import Path

import pandas as pd
import pytest

from judgebench.backends.base import CompletionResponse
from judgebench.benchmarks.base import OfficialRequest
from judgebench.benchmarks.mtbench_files import leaderboard, read_judgments
from judgebench.cli import main
from judgebench.judges.parsers import pair_label, rating
from judgebench.judges.protocols import PROTOCOLS, Pair
from judgebench.stats import mtbench

FIXTURES = Path(__file__).parent / "fixtures" / "mtbench"
SINGLE, PAIR = FIXTURES / "gpt-4_single.jsonl", FIXTURES / "gpt-4_pair.jsonl"
EXPECTED = json.loads((FIXTURES / "fastchat_expected.json").read_text())
TABLES = EXPECTED["tables"]
COLUMNS = {
    "single": ["score", "turn_1", "turn_2"],
    "pairwise-baseline": ["win", "loss", "tie", "win_rate", "win_rate_adjusted"],
    "pairwise-all": ["win", "loss", "tie", "win_rate", "win_rate_adjusted"],
}


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _assert_table(board: pd.DataFrame, expected: dict, columns: list[str], tol: float = 1e-9) -> None:
    assert sorted(board.index) == sorted(expected)
    for model, row in expected.items():
        for c in columns:
            assert board.loc[model, c] == pytest.approx(row[c], abs=tol), (model, c)


def test_the_fixture_exercises_every_rule():
    single, pair = _rows(SINGLE), _rows(PAIR)
    assert any(r["score"] == -1 for r in single) and any(
        "[[" not in r["judgment"] for r in single if r["score"] != -1
    )
    assert any(r["g1_winner"] == "error" and r["g2_winner"] != "error" for r in pair)
    assert any({r["g1_winner"], r["g2_winner"]} == {"model_1", "model_2"} for r in pair)  # swap disagrees
    assert any(r["g1_winner"] == r["g2_winner"] == "tie" for r in pair)


@pytest.mark.parametrize("mode", ["single", "pairwise-baseline", "pairwise-all"])
def test_each_mode_is_fastchats_table(mode):
    path = SINGLE if mode == "single" else PAIR
    board = leaderboard(OfficialRequest(judgments=path, mode=mode))
    assert list(board.columns) == COLUMNS[mode]
    _assert_table(board, TABLES[mode], COLUMNS[mode])
    key = board.columns[0] if mode == "single" else "win_rate_adjusted"
    assert list(board[key]) == sorted(board[key], reverse=True)  # best first, as show_result sorts


@pytest.mark.parametrize("mode", ["single", "pairwise-baseline", "pairwise-all"])
def test_the_cli_writes_fastchats_table(mode, tmp_path, capsys):
    out = tmp_path / "board.csv"
    path = SINGLE if mode == "single" else PAIR
    argv = ["leaderboard", "--benchmark", "mt-bench", "--judgments", str(path), "--mode", mode]
    assert main([*argv, "--out", str(out)]) == 0
    board = pd.read_csv(out, index_col="model")
    assert list(board.columns) == COLUMNS[mode]
    _assert_table(board, TABLES[mode], COLUMNS[mode], tol=5e-5)  # the CSV has 4 decimals


@pytest.mark.parametrize("mode", ["single", "pairwise-baseline", "pairwise-all"])
def test_model_list_filters_as_show_result_does(mode, tmp_path):
    # FastChat's --model-list keeps a model's ratings; pairwise, the games whose model_1 is listed, so
    # pairwise-all still shows the listed models' opponents (the fixture's "MODE --model-list" tables)
    path = SINGLE if mode == "single" else PAIR
    out = tmp_path / "board.csv"
    argv = ["leaderboard", "--benchmark", "mt-bench", "--judgments", str(path), "--mode", mode]
    assert main([*argv, "--model-list", *EXPECTED["model_list"], "--out", str(out)]) == 0
    want = TABLES[f"{mode} --model-list"]
    _assert_table(pd.read_csv(out, index_col="model"), want, COLUMNS[mode], tol=5e-5)
    if mode == "pairwise-all":  # the games the listed models play as model_2 are gone: numbers change
        assert want != {m: TABLES[mode][m] for m in want}
    else:  # their own ratings, their games against the baseline (always model_2): only fewer rows
        assert sorted(want) == sorted(EXPECTED["model_list"]) and len(TABLES[mode]) > len(want)


def test_model_list_is_refused_where_the_script_has_none(tmp_path, capsys):
    argv = ["leaderboard", "--benchmark", "arena-hard", "--judgments", str(tmp_path), "--model-list", "x"]
    assert main(argv) == 2
    assert "--model-list" in capsys.readouterr().err
    argv = ["leaderboard", "--benchmark", "mt-bench", "--judgments", str(SINGLE), "--model-list", "nobody"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "no judgment of a model in --model-list" in err and len(err.strip().splitlines()) == 1


def test_a_folder_and_another_baseline(tmp_path):
    board = leaderboard(OfficialRequest(judgments=FIXTURES, mode="pairwise-baseline", baseline="claude-v1"))
    assert "claude-v1" not in board.index and len(board) == 4
    # by hand from the same rows: only games with claude-v1, a turn with an error left out
    rows = [
        r
        for r in _rows(PAIR)
        if "claude-v1" in (r["model_1"], r["model_2"]) and "error" not in (r["g1_winner"], r["g2_winner"])
    ]
    llama = [r for r in rows if "llama-13b" in (r["model_1"], r["model_2"])]
    assert board.loc["llama-13b", ["win", "loss", "tie"]].sum() == len(llama)


def test_fastchats_parsers_read_every_reply_as_fastchat_did():
    for r in _rows(SINGLE):
        got, _ = rating(CompletionResponse(r["judgment"]))
        assert (-1 if got is None else got) == r["score"], r["judgment"]
    shown = {1.0: "A", 2.0: "B", 1.5: "tie", None: "error"}
    for r in _rows(PAIR):
        g1, _ = pair_label(CompletionResponse(r["g1_judgment"]))
        g2, _ = pair_label(CompletionResponse(r["g2_judgment"]))
        assert {"A": "model_1", "B": "model_2"}.get(shown[g1], shown[g1]) == r["g1_winner"]
        assert {"A": "model_2", "B": "model_1"}.get(shown[g2], shown[g2]) == r["g2_winner"]


def _pairs_against(baseline: str) -> dict[str, list[dict]]:
    """judgebench's own path: each candidate's records from its protocol's combine, the baseline shown
    first in game 2 as FastChat shows it (model_2 = the baseline)."""
    by_question: dict[tuple, dict] = {}
    verdict = {"model_1": 1.0, "model_2": 2.0, "tie": 1.5, "error": None}  # game 1: model_1 shown first
    flipped = {"model_1": 2.0, "model_2": 1.0, "tie": 1.5, "error": None}  # game 2: model_2 shown first
    for r in _rows(PAIR):
        if r["model_2"] != baseline:
            continue
        t = r["turn"]
        slots = by_question.setdefault((r["model_1"], r["question_id"]), {})
        slots[f"turn{t}:candidate_first"] = verdict[r["g1_winner"]]
        slots[f"turn{t}:baseline_first"] = flipped[r["g2_winner"]]
    protocol = PROTOCOLS["mtbench-pair"]
    records: dict[str, list[dict]] = {}
    for (model, q), slots in by_question.items():
        pair = Pair(
            str(q), "b", "c", turns=["t1", "t2"], baseline_turns=["b1", "b2"], candidate_turns=["c1", "c2"]
        )
        records.setdefault(model, []).append({"instruction": str(q), **protocol.combine(pair, slots)})
    return records


def test_judgebench_annotations_follow_fastchats_rules():
    """The suite's statistic (protocol combine -> stats) gives FastChat's numbers on the same verdicts:
    a failed order drops its turn only."""
    for model, records in _pairs_against(EXPECTED["baseline"]).items():
        s = mtbench.pairwise_summary(records)
        want = TABLES["pairwise-baseline"][model]
        assert (s["win"], s["loss"], s["tie"]) == (want["win"], want["loss"], want["tie"])
        assert s["win_rate_adjusted"] == pytest.approx(100 * want["win_rate_adjusted"], abs=1e-9)
    protocol = PROTOCOLS["mtbench-single"]
    by_model: dict[str, dict] = {}
    for r in _rows(SINGLE):
        by_model.setdefault(r["model"], {}).setdefault(r["question_id"], {})[f"turn{r['turn']}"] = (
            None if r["score"] == -1 else float(r["score"])
        )
    for model, questions in by_model.items():
        pair = Pair(
            "q", "b", "c", turns=["t1", "t2"], baseline_turns=["b1", "b2"], candidate_turns=["c1", "c2"]
        )
        records = [{"instruction": str(q), **protocol.combine(pair, v)} for q, v in questions.items()]
        s = mtbench.single_summary(records)
        for c in COLUMNS["single"]:
            assert s[c] == pytest.approx(TABLES["single"][model][c], abs=1e-9), (model, c)


def _write(tmp_path, rows, name="j.jsonl"):
    path = tmp_path / name
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


SINGLE_ROW = {"question_id": 81, "model": "m", "judge": ["gpt-4", "single-v1"], "score": 7, "turn": 1}
PAIR_ROW = {
    "question_id": 81,
    "model_1": "m",
    "model_2": "gpt-3.5-turbo",
    "g1_winner": "tie",
    "g2_winner": "tie",
    "turn": 1,
}


@pytest.mark.parametrize(
    ("mode", "rows", "needle"),
    [
        ("single", [SINGLE_ROW, {**SINGLE_ROW, "score": "7"}], "row 1, field 'score': '7' is not a rating"),
        (
            "single",
            [SINGLE_ROW, {k: v for k, v in SINGLE_ROW.items() if k != "turn"}],
            "row 1, field 'turn': missing",
        ),
        ("single", [{**SINGLE_ROW, "model": ""}], "row 0, field 'model'"),
        (
            "pairwise-all",
            [PAIR_ROW, {**PAIR_ROW, "g2_winner": "A"}],
            "row 1, field 'g2_winner': 'A' is not a FastChat verdict",
        ),
        ("pairwise-all", [SINGLE_ROW], "row 0 is a single judgment, not a pairwise-all one"),
        ("single", [PAIR_ROW], "row 0 is a pairwise judgment, not a single one"),
        (
            "pairwise-baseline",
            [{**PAIR_ROW, "model_2": "x"}],
            "no judgment against the baseline 'gpt-3.5-turbo'",
        ),
        ("single", [], "no judgments in the file"),
    ],
)
def test_bad_rows_are_one_line(tmp_path, capsys, mode, rows, needle):
    path = _write(tmp_path, rows)
    out = tmp_path / "board.csv"
    argv = [
        "leaderboard",
        "--benchmark",
        "mt-bench",
        "--judgments",
        str(path),
        "--mode",
        mode,
        "--out",
        str(out),
    ]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert (
        needle in err and str(path) in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    )
    assert not out.exists()


def _fastchat_dir() -> Path:
    found = os.environ.get("JUDGEBENCH_FASTCHAT_DIR")
    if not found or not (Path(found) / "fastchat" / "llm_judge" / "show_result.py").is_file():
        pytest.skip("no FastChat checkout: set JUDGEBENCH_FASTCHAT_DIR to one (github.com/lm-sys/FastChat)")
    return Path(found)


@pytest.mark.official_copy
@pytest.mark.parametrize("mode", ["single", "pairwise-baseline", "pairwise-all"])
def test_fastchats_own_script_agrees(mode, tmp_path):
    """show_result.py itself, loaded from the checkout, on the fixture and on a copy with more failures."""
    spec = importlib.util.spec_from_file_location(
        "fastchat_show_result", _fastchat_dir() / "fastchat" / "llm_judge" / "show_result.py"
    )
    show_result = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(show_result)
    source = SINGLE if mode == "single" else PAIR
    rows = _rows(source)
    for i, r in enumerate(rows):  # every 7th row fails as well
        if i % 7 == 3:
            r.update({"score": -1} if mode == "single" else {"g2_winner": "error"})
    caught: list = []
    show_result.print = lambda *a, **k: caught.extend(x for x in a if isinstance(x, pd.DataFrame))
    for path in (source, _write(tmp_path, rows, source.name)):
        caught.clear()
        args = argparse.Namespace(
            bench_name="mt_bench",
            input_file=str(path),
            judge_model="gpt-4",
            model_list=None,
            baseline_model=None if mode == "pairwise-all" else "gpt-3.5-turbo",
            mode=mode,
        )
        if mode == "single":
            show_result.display_result_single(args)
            turn_1, turn_2, average = caught
            theirs = {
                m: {
                    "score": average.loc[m, "score"],
                    "turn_1": turn_1.loc[(m, 1), "score"],
                    "turn_2": turn_2.loc[(m, 2), "score"],
                }
                for m in average.index
            }
        else:
            show_result.display_result_pairwise(args)
            (board,) = caught
            theirs = {m: board.loc[m].to_dict() for m in board.index}
        ours = leaderboard(OfficialRequest(judgments=path, mode=mode))
        _assert_table(ours, theirs, COLUMNS[mode])


def test_read_judgments_keeps_the_columns_show_result_reads():
    frame = read_judgments(PAIR, "pairwise-all")
    assert list(frame.columns) == ["model_1", "model_2", "g1_winner", "g2_winner"]
    assert len(frame) == len(_rows(PAIR))  # repeats and failures are all kept; the statistic drops failures


def test_only_what_show_result_reads_is_required(tmp_path):
    """show_result.py reads model_1, model_2, g1_winner, g2_winner of a pair row; nothing else is needed."""
    rows = [
        {
            "model_1": "m",
            "model_2": "gpt-3.5-turbo",
            "g1_winner": "model_1",
            "g2_winner": "model_1",
        },  # m wins
        {"model_1": "m", "model_2": "gpt-3.5-turbo", "g1_winner": "model_1", "g2_winner": "model_2"},  # tie
        {
            "model_1": "m",
            "model_2": "gpt-3.5-turbo",
            "g1_winner": "error",
            "g2_winner": "model_2",
        },  # left out
    ]
    board = leaderboard(OfficialRequest(judgments=_write(tmp_path, rows), mode="pairwise-baseline"))
    assert board.loc["m"].to_dict() == {
        "win": 1,
        "loss": 0,
        "tie": 1,
        "win_rate": 0.5,
        "win_rate_adjusted": 0.75,
    }
