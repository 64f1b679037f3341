"""Class 2 of issue 24: no data lost. Outputs never overwrite inputs (or each other), two runs updating one
leaderboard keep both rows, --update refits a model whose annotations changed, data and manifest are
written as one unit, and an I/O error names its file."""

from __future__ import annotations

import errno
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import assert_one_line_error, run_cli
from servers import annotate_argv, pair_files

from judgebench.errors import StoreError
from judgebench.files.atomic import write_together
from judgebench.files.locks import locked

REPO = Path(__file__).resolve().parents[2]


def annotations(path: Path, model: str, p_win: float, n: int = 40, seed: int = 0) -> Path:
    rng = random.Random(seed)
    rows = [
        {
            "instruction": f"q{i}",
            "output_1": "b" * (10 + i % 7),
            "generator_1": "base",
            "output_2": "c" * (5 + i % 13),
            "generator_2": model,
            "preference": 2.0 if rng.random() < p_win else 1.0,
        }
        for i in range(n)
    ]
    path.write_text(json.dumps(rows))
    return path


def board_argv(out, *files, extra=()):
    return [
        "leaderboard",
        "--annotations",
        *map(str, files),
        "--out",
        str(out),
        "--n-boot",
        "5",
        "--no-detect",
        "--workers",
        "1",
        *extra,
    ]


def _snapshot(folder: Path) -> dict:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


@pytest.mark.parametrize("spelling", ["same", "dot", "symlink", "hardlink"])
def test_leaderboard_out_equal_to_an_input_is_refused_untouched(tmp_path, capsys, monkeypatch, spelling):
    a1 = annotations(tmp_path / "a1.json", "m1", 0.6)
    monkeypatch.chdir(tmp_path)
    out = {
        "same": a1,
        "dot": Path("./sub/../a1.json"),
        "symlink": tmp_path / "ln.json",
        "hardlink": tmp_path / "hard.json",
    }[spelling]
    (tmp_path / "sub").mkdir()
    if spelling == "symlink":
        out.symlink_to(a1)
    if spelling == "hardlink":
        os.link(a1, out)
    before = _snapshot(tmp_path)
    code, _, err = run_cli(board_argv(out, "a1.json"), capsys)
    assert_one_line_error(code, err, codes=(2,), names="--out")
    assert "--annotations" in err
    assert _snapshot(tmp_path) == before


def test_report_equal_to_out_is_refused(tmp_path, capsys):
    a1 = annotations(tmp_path / "a1.json", "m1", 0.6)
    out = tmp_path / "b.csv"
    code, _, err = run_cli(board_argv(out, a1, extra=("--report", str(out))), capsys)
    assert_one_line_error(code, err, codes=(2,), names="--report")
    assert not out.exists()


def test_annotate_out_equal_to_outputs_or_store_equal_to_baseline_is_refused(tmp_path, capsys):
    cand, base = pair_files(tmp_path, 2)
    before = _snapshot(tmp_path)
    for argv in (
        annotate_argv(cand, base, tmp_path / "s.sqlite", cand, extra=("--offline",)),
        annotate_argv(cand, base, base, tmp_path / "a.json", extra=("--offline",)),
    ):
        code, _, err = run_cli(argv, capsys)
        assert_one_line_error(code, err, codes=(2,))
        assert _snapshot(tmp_path) == before


def test_report_command_out_equal_to_its_leaderboard_is_refused(tmp_path, capsys):
    a1 = annotations(tmp_path / "a1.json", "m1", 0.6)
    board = tmp_path / "b.csv"
    assert run_cli(board_argv(board, a1), capsys)[0] == 0
    before = board.read_bytes()
    code, _, err = run_cli(["report", "--leaderboard", str(board), "--out", str(board)], capsys)
    assert_one_line_error(code, err, codes=(2,), names="--leaderboard")
    assert board.read_bytes() == before


def test_update_refits_a_model_whose_annotations_changed(tmp_path, capsys):
    board = tmp_path / "b.csv"
    assert run_cli(board_argv(board, annotations(tmp_path / "a.json", "m1", 0.2, seed=1)), capsys)[0] == 0
    old = pd.read_csv(board, index_col=0).loc["m1", "win_rate"]
    new_file = annotations(tmp_path / "a.json", "m1", 0.9, seed=2)  # new annotations, same model
    code, out, err = run_cli(board_argv(board, new_file, extra=("--update",)), capsys)
    assert code == 0, err
    rows = json.loads(new_file.read_text())
    expected = 100 * sum(r["preference"] - 1 for r in rows) / len(rows)  # by hand: mean of p - 1
    got = pd.read_csv(board, index_col=0).loc["m1", "win_rate"]
    assert got == pytest.approx(expected) and got != pytest.approx(old)
    assert "refitted" in out and "m1" in out


def test_update_keeps_an_unchanged_model_without_refitting(tmp_path, capsys):
    board = tmp_path / "b.csv"
    a = annotations(tmp_path / "a.json", "m1", 0.5)
    assert run_cli(board_argv(board, a), capsys)[0] == 0
    code, out, _ = run_cli(board_argv(board, a, extra=("--update",)), capsys)
    assert code == 0 and "0 fitted now" in out and "refitted" not in out


def test_two_concurrent_updates_keep_both_new_rows(tmp_path):
    board = tmp_path / "b.csv"
    files = [annotations(tmp_path / f"a{i}.json", f"m{i}", 0.3 + 0.1 * i, seed=i) for i in range(3)]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    run = [sys.executable, "-m", "judgebench.cli"]
    subprocess.run([*run, *board_argv(board, files[0])], check=True, env=env, capture_output=True)
    procs = [
        subprocess.Popen(
            [*run, *board_argv(board, f, extra=("--update",))],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for f in files[1:]
    ]
    for p in procs:
        assert p.wait(120) == 0, p.stderr.read()
    assert sorted(pd.read_csv(board, index_col=0).index) == ["m0", "m1", "m2"]


def test_a_held_lock_makes_the_second_writer_wait_then_give_up_with_a_line(tmp_path):
    target = tmp_path / "b.csv"
    with locked(target):
        code = f"from judgebench.files.locks import locked\nwith locked({str(target)!r}, timeout=0.3): pass\n"
        done = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
    lock = tmp_path / ".b.csv.lock"
    assert done.returncode == 1 and done.stderr.strip().splitlines()[-1] == (
        f"judgebench.errors.StoreError: {target}: another judgebench process has held its lock ({lock}) for "
        f"over 0 s -> wait for it to finish, or remove {lock} if no such process runs"
    ), done.stderr
    with locked(target, timeout=0.3):  # released: taken again at once
        pass


def test_a_full_disk_leaves_data_and_manifest_as_they_were_and_names_the_file(tmp_path, monkeypatch):
    data, manifest = tmp_path / "a.json", tmp_path / "a.manifest.json"
    data.write_text("old data")
    manifest.write_text("old manifest")
    real = os.fsync
    calls = []

    def fsync(fd):
        calls.append(fd)
        if len(calls) == 2:  # the second file of the set: the disk is full
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    with pytest.raises(StoreError, match="a.manifest.json.*No space left"):
        write_together({data: [{"x": 1}], manifest: {"m": 1}})
    assert data.read_text() == "old data" and manifest.read_text() == "old manifest"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "a.manifest.json"]  # no temp left


def test_a_full_disk_through_the_cli_is_one_line_naming_the_file(tmp_path, capsys, monkeypatch):
    a1 = annotations(tmp_path / "a1.json", "m1", 0.6)
    out = tmp_path / "b.csv"

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    code, _, err = run_cli(board_argv(out, a1), capsys)
    assert_one_line_error(code, err, codes=(4,), names=str(out))
    assert not out.exists()
