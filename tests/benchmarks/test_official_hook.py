"""`leaderboard --benchmark` and `import-annotations --benchmark` hand a benchmark's official judgment files
to that benchmark's own reader (Benchmark.official): the CLI checks what it was given and writes what the
reader computed; a benchmark without one, an unknown version or mode, or a missing file is one line."""

from __future__ import annotations

import pandas as pd
import pytest

from judgebench.benchmarks import registry
from judgebench.benchmarks.base import Benchmark, OfficialFiles, OfficialRequest, Scores
from judgebench.cli import main

SEEN: list[OfficialRequest] = []


def _board(request: OfficialRequest) -> pd.DataFrame:
    SEEN.append(request)
    scores = pd.read_csv(request.judgments)  # model,score: the "official" file of this made-up benchmark
    return scores.groupby("model")["score"].mean().mul(10).to_frame("score")


def _import(request: OfficialRequest, store: str) -> dict:
    SEEN.append(request)
    return {"imported": 3, "skipped_unparsed": 1}


def _toy(name, official=None, aliases=()):
    return Benchmark(
        name=name,
        title=name,
        load=lambda root: pd.DataFrame(),
        data="toy",
        baseline=None,
        judge="toy-judge",
        local_judge="local",
        statistic=lambda results: Scores({}, {}),
        columns=(),
        official=official,
        aliases=aliases,
    )


@pytest.fixture
def toys(monkeypatch):
    official = OfficialFiles(
        leaderboard=_board,
        what="toy judgments: a CSV of model,score",
        protocols=("v2", "v1"),
        modes=("single", "pair"),
        import_calls=_import,
    )
    found = registry.all_benchmarks()
    found["toy-bench"] = _toy("toy-bench", official, aliases=("toy",))
    found["plain-bench"] = _toy("plain-bench")
    monkeypatch.setattr(registry, "_found", found)
    SEEN.clear()


def test_the_benchmark_reader_computes_and_the_cli_writes(toys, tmp_path, capsys):
    judgments = tmp_path / "j.csv"
    judgments.write_text("model,score\na,1\na,3\nb,5\n")
    out = tmp_path / "board.csv"
    assert main(["leaderboard", "--benchmark", "toy", "--judgments", str(judgments), "--out", str(out)]) == 0
    board = pd.read_csv(out, index_col=0)
    assert board["score"].to_dict() == {"a": 20.0, "b": 50.0}  # means by hand: (1+3)/2*10, 5*10
    (request,) = SEEN
    assert (request.protocol, request.mode, request.style_control) == (
        "v2",
        "single",
        False,
    )  # defaults: first


def test_version_mode_and_style_control_reach_the_reader(toys, tmp_path):
    judgments = tmp_path / "j.csv"
    judgments.write_text("model,score\na,1\n")
    argv = ["leaderboard", "--benchmark", "toy-bench", "--judgments", str(judgments)]
    assert main([*argv, "--protocol", "v1", "--mode", "pair", "--style-control", "--baseline", "b"]) == 0
    assert (SEEN[0].protocol, SEEN[0].mode, SEEN[0].style_control, SEEN[0].baseline) == (
        "v1",
        "pair",
        True,
        "b",
    )


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--benchmark", "toy", "--protocol", "v9"], "--protocol 'v9' is not one of toy-bench's"),
        (["--benchmark", "toy", "--mode", "trio"], "choose one of: single, pair"),
        (["--benchmark", "plain-bench"], "does not read plain-bench's official files"),
        (["--benchmark", "nope"], "unknown benchmark 'nope'"),
        (["--benchmark", "toy"], "needs --judgments"),
    ],
)
def test_what_the_reader_cannot_take_is_one_line(toys, tmp_path, capsys, extra, needle):
    judgments = tmp_path / "j.csv"
    judgments.write_text("model,score\na,1\n")
    out = tmp_path / "board.csv"
    argv = ["leaderboard", *extra, "--out", str(out)]
    if extra != ["--benchmark", "toy"]:
        argv += ["--judgments", str(judgments)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err
    assert not out.exists() and not SEEN


def test_a_missing_judgments_file_says_what_is_expected(toys, tmp_path, capsys):
    assert main(["leaderboard", "--benchmark", "toy", "--judgments", str(tmp_path / "absent.csv")]) == 2
    assert "toy judgments: a CSV of model,score" in capsys.readouterr().err


def test_import_annotations_hands_the_files_to_the_benchmark(toys, tmp_path, capsys):
    judgments = tmp_path / "j.csv"
    judgments.write_text("model,score\na,1\n")
    store = str(tmp_path / "store.sqlite")
    argv = ["import-annotations", "--benchmark", "toy", "--judgments", str(judgments), "--store", store]
    assert main([*argv, "--mode", "pair"]) == 0
    assert SEEN[0].mode == "pair"
    assert "imported 3 judge calls" in capsys.readouterr().out


def test_alpacaeval_import_still_needs_its_judge(tmp_path, capsys):
    argv = ["import-annotations", "--annotations", str(tmp_path / "a.json"), "--store", str(tmp_path / "s")]
    assert main(argv) == 2
    assert "--judge is required" in capsys.readouterr().err
