"""Files and invocations nobody listed: official files load, and every user error is one line, never a traceback.

The error contract (docs/errors.md): a user's mistake prints exactly one line `judgebench: error: ...`
naming the file (and row and field where there is one) and exits 2, 3 or 4; nothing half-written is left.
"""

from __future__ import annotations

import gzip
import json
import subprocess
from pathlib import Path

import pytest
from conftest import assert_one_line_error, judgebench_exe, run_cli

# -- the official files ----------------------------------------------------------------------------------


def _empty_candidate_outputs(path: Path) -> int:
    """Counted straight from the file, without judgebench's reader: the independent figure."""
    rows = json.loads(gzip.decompress(path.read_bytes()))
    return sum(1 for r in rows if not (r.get("output_2") or "").strip())


def test_every_official_file_loads_with_judged_empty_outputs_counted(
    alpaca_dir, official_board, tmp_path, capsys
):
    files = sorted((alpaca_dir / "annotations").glob("*.json.gz"))
    out = tmp_path / "board.csv"
    code, stdout, err = run_cli(
        [
            "leaderboard",
            "--annotations",
            str(alpaca_dir / "annotations"),
            "--out",
            str(out),
            "--n-boot",
            "0",
            "--workers",
            "2",
        ],
        capsys,
    )
    assert code == 0, err
    import pandas as pd

    board = pd.read_csv(out, index_col=0)
    assert len(board) == len(files)
    expected = {}
    for f in files:
        model = json.loads(gzip.decompress(f.read_bytes()))[0]["generator_2"]
        expected[model] = _empty_candidate_outputs(f)
    assert board["n_empty_outputs"].astype(int).to_dict() == expected
    # and the raw figures still equal the official leaderboard's, empty answers included
    common = board.index.intersection(official_board.index)
    assert len(common) >= 40
    for col in ("win_rate", "standard_error", "discrete_win_rate"):
        diff = (board.loc[common, col] - official_board.loc[common, col]).abs().max()
        assert diff < 1e-6, (col, diff)


@pytest.fixture
def judged_empty_file(alpaca_dir, tmp_path) -> Path:
    """A real annotation file in which 22 candidate answers are empty and judged, as in AlpacaEval's own
    gemma-2b-it file (not in the shared data): the judge's preferences stay as they were."""
    source = sorted((alpaca_dir / "annotations").glob("*.json.gz"))[0]
    rows = json.loads(gzip.decompress(source.read_bytes()))
    for r in rows[5:27]:
        r["output_2"], r["generator_2"] = "", "empty-answers"
    for r in rows:
        r["generator_2"] = "empty-answers"
    path = tmp_path / "empty-answers.json.gz"
    path.write_bytes(gzip.compress(json.dumps(rows).encode()))
    return path


def test_judged_empty_outputs_are_data_in_every_command(judged_empty_file, alpaca_dir, tmp_path, capsys):
    rows = json.loads(gzip.decompress(judged_empty_file.read_bytes()))
    prefs = [r["preference"] for r in rows if r["preference"] is not None]
    by_hand = 100 * sum(p - 1 for p in prefs) / len(prefs)  # AlpacaEval's win rate, by its definition
    out = tmp_path / "b.csv"
    code, stdout, err = run_cli(
        ["leaderboard", "--annotations", str(judged_empty_file), "--out", str(out), "--n-boot", "0"], capsys
    )
    assert code == 0, err
    import pandas as pd

    board = pd.read_csv(out, index_col=0)
    assert board.loc["empty-answers", "n_empty_outputs"] == 22
    assert board.loc["empty-answers", "n_total"] == len(prefs)
    assert abs(board.loc["empty-answers", "win_rate"] - by_hand) < 1e-9
    assert "empty-answers 22" in stdout
    other = sorted((alpaca_dir / "annotations").glob("*.json.gz"))[1]
    other_model = json.loads(gzip.decompress(other.read_bytes()))[0]["generator_2"]
    code, stdout, err = run_cli(
        [
            "compare",
            "--annotations",
            str(judged_empty_file),
            str(other),
            "--a",
            "empty-answers",
            "--b",
            other_model,
            "--n-boot",
            "50",
            "--json",
        ],
        capsys,
    )
    assert code == 0, err
    assert json.loads(stdout)["n_common"] > 700
    code, stdout, err = run_cli(
        ["audit", "--annotations", str(judged_empty_file), str(other), "--json"], capsys
    )
    assert code == 0, err
    store = tmp_path / "s.sqlite"
    code, stdout, err = run_cli(
        [
            "import-annotations",
            "--annotations",
            str(judged_empty_file),
            "--judge",
            "alpacaeval2",
            "--store",
            str(store),
        ],
        capsys,
    )
    assert code == 0, err


# -- bad invocations: one line each --------------------------------------------------------------------------


def _annotation(i: int, model: str = "m", **over) -> dict:
    row = {
        "instruction": f"Question {i}?",
        "output_1": f"baseline answer {i}",
        "generator_1": "base",
        "output_2": f"candidate answer {i} " * (i % 4 + 1),
        "generator_2": model,
        "preference": [1.0, 2.0, 1.5, 2.0][i % 4],
    }
    row.update(over)
    return row


@pytest.fixture
def good_file(tmp_path) -> Path:
    path = tmp_path / "good.json"
    path.write_text(json.dumps([_annotation(i) for i in range(12)]))
    return path


BAD_FILES = {
    "invalid_utf8.json": b'[{"instruction": "\xff\xfe caf\xe9"}]',
    "object.json": b'{"instruction": "q", "output_1": "a"}',
    "scalar.json": b"42",
    "rows_not_objects.jsonl": b'[1, 2]\n"x"\n',
    "empty.json": b"",
    "empty_list.json": b"[]",
    "garbage.json.gz": gzip.compress(b"\x00\x01 not json at all"),
    "not_gzip.json.gz": b"\x1f\x8b\x08\x00 truncated",
    "deep.json": b"[" * 100_000 + b"]" * 100_000,
    "ragged.csv": b'instruction,output_1\n"q","a","extra"\n',
    "bad_quote.csv": b'instruction,output_1,generator_1,output_2,generator_2,preference\n"q,"a",b,c,m,1\n',
    "nan_preference.json": json.dumps([_annotation(0, preference="NaN-ish")]).encode(),
    "list_field.json": json.dumps([_annotation(0, instruction=["q"])]).encode(),
    "bool_preference.json": json.dumps([_annotation(0, preference=True)]).encode(),
    "weird.txt": b"hello",
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
@pytest.mark.parametrize("workers", ["1", "2"])
def test_bad_annotation_files_are_one_line_naming_the_file(name, workers, tmp_path, good_file, capsys):
    bad = tmp_path / name
    bad.write_bytes(BAD_FILES[name])
    out = tmp_path / "board.csv"
    out.write_text("previous board\n")
    # with a good file beside it, so the multi-file (worker process) path is taken too
    code, _, err = run_cli(
        [
            "leaderboard",
            "--annotations",
            str(good_file),
            str(bad),
            "--out",
            str(out),
            "--n-boot",
            "0",
            "--workers",
            workers,
        ],
        capsys,
    )
    assert_one_line_error(code, err, names=name)
    assert out.read_text() == "previous board\n"  # the existing --out is untouched


def test_a_folder_with_one_bad_file_among_good_ones(tmp_path, capsys):
    folder = tmp_path / "annotations"
    folder.mkdir()
    for m in ("a", "b", "c"):
        (folder / f"{m}.json").write_text(json.dumps([_annotation(i, m) for i in range(8)]))
    (folder / "d.json").write_text(json.dumps([_annotation(i, "d") for i in range(8)])[:-30])
    code, _, err = run_cli(
        ["leaderboard", "--annotations", str(folder), "--n-boot", "0", "--workers", "2"], capsys
    )
    assert_one_line_error(code, err, names="d.json")


def test_gzip_bomb_stops_at_the_cap_with_the_file_and_size(tmp_path, capsys, monkeypatch):
    bomb = tmp_path / "bomb.json.gz"
    with gzip.open(bomb, "wb") as f:
        for _ in range(64):
            f.write(b" " * (1 << 20))  # 64 MiB of whitespace in ~64 KB
    monkeypatch.setenv("JUDGEBENCH_MAX_INPUT_BYTES", str(16 << 20))
    code, _, err = run_cli(["leaderboard", "--annotations", str(bomb), "--n-boot", "0"], capsys)
    assert_one_line_error(code, err, names="bomb.json.gz")
    assert "16 MiB" in err and "--max-input-size" in err
    # the flag raises the cap: the same file then reads through, and is refused for what it is (no rows)
    code, _, err = run_cli(
        ["--max-input-size", "128M", "leaderboard", "--annotations", str(bomb), "--n-boot", "0"], capsys
    )
    assert_one_line_error(code, err, names="bomb.json.gz")
    assert "MiB" not in err


def test_a_csv_field_longer_than_the_csv_module_default(tmp_path, capsys):
    import csv

    path = tmp_path / "long.csv"
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(_annotation(0)))
        w.writeheader()
        for i in range(6):
            w.writerow(_annotation(i, output_2="x" * 200_000 if i == 0 else "short"))
    code, out, err = run_cli(["leaderboard", "--annotations", str(path), "--n-boot", "0"], capsys)
    assert code == 0, err


@pytest.mark.parametrize(
    "argv, names, codes",
    [
        (["leaderboard", "--n-boot", "many"], "--n-boot", (2,)),
        (["leaderboard", "--annotations", "/nonexistent/x.json"], "/nonexistent/x.json", (2,)),
        (["nonsense-command"], "nonsense-command", (2,)),
        (
            [
                "annotate",
                "--outputs",
                "{good}",
                "--baseline",
                "{good_out}",
                "--judge",
                "no-such-judge",
                "--store",
                "{tmp}/s.sqlite",
                "--out",
                "{tmp}/a.json",
            ],
            "no-such-judge",
            (2,),
        ),
        (
            ["evaluate", "--outputs", "{good_out}", "--eval-set", "no-such-set", "--out", "{tmp}/run"],
            "no-such-set",
            (2,),
        ),
        pytest.param(
            ["evaluate", "--model", "{tmp}/not-a-model.gguf", "--max-instances", "2", "--out", "{tmp}/run"],
            "not-a-model.gguf",
            (2, 3),
            marks=pytest.mark.engine,  # llama.cpp is loaded in this process to read the file
        ),
        (["report", "--format", "markdown"], "--leaderboard", (2,)),
        (["audit"], "--judge", (2,)),
        (
            ["tiny", "estimate", "--tiny", "{tmp}/missing-tiny.json", "--annotations", "{good}"],
            "missing-tiny.json",
            (2, 4),
        ),
        (["--max-input-size", "lots", "leaderboard"], "lots", (2,)),
        (
            ["difficulty", "--annotations", "{good}", "--official-weights", "{good}", "--out", "{tmp}/d.csv"],
            "good.json",
            (2,),
        ),
        (["report", "--leaderboard", "{good}", "--out", "{tmp}/r.html"], "good.json", (2,)),
        (["tiny", "estimate", "--tiny", "{good}", "--annotations", "{good}"], "good.json", (2,)),
        (
            ["leaderboard", "--annotations", "{good}", "--n-boot", "0", "--out", "/proc/no/such/board.csv"],
            "/proc/no/such/board.csv",
            (4,),
        ),
        (["leaderboard", "--annotations", "{good}", "--n-boot", "-1"], "--n-boot", (2,)),
        (
            [
                "annotate",
                "--outputs",
                "{good_out}",
                "--baseline",
                "{good_out}",
                "--judge",
                "local",
                "--store",
                "{tmp}/s.sqlite",
                "--out",
                "{tmp}/a.json",
                "--concurrency",
                "0",
            ],
            "--concurrency",
            (2,),
        ),
        (
            [
                "annotate",
                "--outputs",
                "{good_out}",
                "--baseline",
                "{good_out}",
                "--judge",
                "local",
                "--store",
                "{good}",
                "--out",
                "{tmp}/a.json",
                "--offline",
            ],
            "good.json",
            (4,),
        ),
    ],
)
def test_bad_invocations_are_one_line(argv, names, codes, tmp_path, good_file, capsys, monkeypatch, data_dir):
    monkeypatch.setenv("JUDGEBENCH_DATA", str(data_dir))
    monkeypatch.setenv(
        "HF_HUB_OFFLINE", "1"
    )  # an unknown eval set must not be looked for on the network here
    good_out = tmp_path / "outputs.json"
    good_out.write_text(
        json.dumps([{"instruction": f"Question {i}?", "output": "x", "generator": "m"} for i in range(3)])
    )
    (tmp_path / "not-a-model.gguf").write_bytes(b"GGUF" + b"\x00" * 64)
    argv = [a.format(good=good_file, good_out=good_out, tmp=tmp_path) for a in argv]
    code, _, err = run_cli(argv, capsys)
    assert_one_line_error(code, err, codes=codes, names=names)


def test_audit_without_an_api_key_is_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    code, _, err = run_cli(
        ["audit", "--judge", "alpacaeval2", "--n", "2", "--out", str(tmp_path / "a")], capsys
    )
    assert_one_line_error(code, err, codes=(2,), names="OPENAI_API_KEY")


def test_unreachable_judge_server_is_a_recorded_failure(tmp_path, capsys):
    outputs = tmp_path / "o.json"
    outputs.write_text(json.dumps([{"instruction": "q?", "output": "a", "generator": "m"}]))
    base = tmp_path / "b.json"
    base.write_text(json.dumps([{"instruction": "q?", "output": "b", "generator": "base"}]))
    code, out, err = run_cli(
        [
            "annotate",
            "--outputs",
            str(outputs),
            "--baseline",
            str(base),
            "--judge",
            "local",
            "--backend",
            "openai",
            "--base-url",
            "http://127.0.0.1:9/v1",
            "--store",
            str(tmp_path / "s.sqlite"),
            "--out",
            str(tmp_path / "a.json"),
            "--max-retries",
            "0",
            "--no-progress",
        ],
        capsys,
    )
    # a judge that cannot be reached is a failed judgment, recorded as such with its reason (never a tie),
    # the run completes, and the user is told which pairs have no verdict: never a crash
    assert code == 0, err
    assert "Traceback" not in err
    record = json.loads((tmp_path / "a.json").read_text())[0]
    assert record["preference"] is None
    assert record["failure"].startswith("backend:") and "127.0.0.1:9" in record["failure"], record["failure"]
    assert "1 pairs have no verdict" in out, out


def test_debug_shows_the_traceback(tmp_path, capsys):
    code, _, err = run_cli(["--debug", "leaderboard", "--annotations", str(tmp_path / "nope.json")], capsys)
    assert (
        code == 2 and "Traceback" in err and err.rstrip().splitlines()[-1].startswith("judgebench: error: ")
    )


def test_worker_processes_print_nothing_of_their_own(tmp_path, good_file, cli_env):
    """Through the installed command, as a user runs it: the pool's workers add no traceback of theirs."""
    bad = tmp_path / "bad.json"
    bad.write_bytes(BAD_FILES["invalid_utf8.json"])
    res = subprocess.run(
        [
            judgebench_exe(),
            "leaderboard",
            "--annotations",
            str(good_file),
            str(bad),
            "--n-boot",
            "0",
            "--workers",
            "2",
        ],
        capture_output=True,
        text=True,
        env=cli_env,
        timeout=120,
    )
    assert res.returncode == 2
    assert res.stderr.strip().splitlines() == [res.stderr.strip()] and "bad.json" in res.stderr
