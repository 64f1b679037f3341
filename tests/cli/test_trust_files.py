"""Class 4 of issue 24: odd files. Regular files only unless asked (a device or FIFO never hangs a run),
the byte cap enforced while streaming (a gzip bomb stops at the cap with memory near one chunk), and parse
limits (nesting, integer size, lone surrogates, NUL in names, over-long names): each one line naming the
file, row and field, exit 2, never 70."""

from __future__ import annotations

import json
import os
import threading
import time
import tracemalloc

import pytest
from conftest import assert_one_line_error, run_cli
from isal import igzip

from judgebench.errors import InputError
from judgebench.files import bounded
from judgebench.files.records import read_records

ROW = {
    "instruction": "q",
    "output_1": "a",
    "generator_1": "b",
    "output_2": "c",
    "generator_2": "m",
    "preference": 2,
}


def board(capsys, *paths, extra=(), pre=()):
    argv = [
        *pre,
        "leaderboard",
        "--annotations",
        *map(str, paths),
        "--n-boot",
        "2",
        "--no-detect",
        "--workers",
        "1",
        *extra,
    ]
    return run_cli(argv, capsys)


def test_a_device_behind_a_json_name_is_refused_at_once(tmp_path, capsys):
    (tmp_path / "zero.json").symlink_to("/dev/zero")
    start = time.monotonic()
    code, _, err = board(capsys, tmp_path / "zero.json")
    assert_one_line_error(code, err, codes=(2,), names="zero.json")
    assert "not a regular file" in err and time.monotonic() - start < 10


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path, capsys):
    fifo = tmp_path / "a.json"
    os.mkfifo(fifo)
    code, _, err = board(capsys, fifo)
    assert_one_line_error(code, err, codes=(2,), names="FIFO")


def test_asked_for_a_device_is_read_but_bounded(tmp_path, capsys, monkeypatch):
    # main() sets these for the process; monkeypatch puts them back as they were afterwards
    monkeypatch.setenv(bounded.SPECIAL_FILES_ENV, "")
    monkeypatch.setenv("JUDGEBENCH_MAX_INPUT_BYTES", "")
    (tmp_path / "zero.json").symlink_to("/dev/zero")
    code, _, err = board(
        capsys, tmp_path / "zero.json", pre=("--allow-special-files", "--max-input-size", "1M")
    )
    assert_one_line_error(code, err, codes=(2,), names="more than 1 MiB")


def test_asked_for_a_fifo_is_read_when_something_writes_it(tmp_path, monkeypatch):
    monkeypatch.setenv(bounded.SPECIAL_FILES_ENV, "1")
    fifo = tmp_path / "a.json"
    os.mkfifo(fifo)

    def writer():
        with open(fifo, "w") as f:
            f.write(json.dumps([ROW]))

    t = threading.Thread(target=writer)
    t.start()
    time.sleep(0.2)  # the writer is waiting in open(): the reader's open lets it in
    rows = read_records(fifo)
    t.join(5)
    assert rows == [ROW]


def _bomb(path, size, members=1):
    zeros = b"\0" * (1 << 20)
    with open(path, "wb") as raw:
        for _ in range(members):
            with igzip.open(raw, "wb", compresslevel=1) as z:
                for _ in range(size // members >> 20):
                    z.write(zeros)
    return path


@pytest.mark.parametrize("members", [1, 8])
def test_a_gzip_bomb_stops_at_the_cap_with_memory_near_one_chunk(tmp_path, monkeypatch, members):
    bomb = _bomb(tmp_path / "bomb.json.gz", 400 << 20, members)
    monkeypatch.setenv("JUDGEBENCH_MAX_INPUT_BYTES", str(200 << 20))
    tracemalloc.start()
    try:
        with pytest.raises(InputError, match="decompresses to more than 200 MiB"):
            read_records(bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 3 * bounded.CHUNK + bomb.stat().st_size + (8 << 20), peak


def test_a_gzipped_file_under_the_cap_is_read_whole(tmp_path):
    rows = [dict(ROW, instruction=f"q{i}", output_2="x" * 1000) for i in range(3000)]
    path = tmp_path / "a.json.gz"
    with igzip.open(path, "wb") as z:
        z.write(json.dumps(rows).encode())
    assert read_records(path) == rows


def _json(rows):
    return json.dumps(rows)


DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize(
    "name, text, says",
    [
        ("bigint.json", _json([ROW])[:-3] + " 1" + "0" * 400 + "}]", "field 'preference'"),
        ("surrogate.json", _json([ROW]).replace('"q"', '"q\\ud800"'), "field 'instruction'"),
        ("surrogate.jsonl", _json(ROW).replace('"q"', '"q\\udfff"') + "\n", "field 'instruction'"),
        ("deep.json", DEEP, "nested"),
        ("deep.jsonl", DEEP + "\n", "nested"),
        ("nul.json", _json([dict(ROW, generator_2="m\u0000x")]), "field 'generator_2'"),
        (
            "nul.csv",
            "instruction,output_1,generator_1,output_2,generator_2,preference\nq,a,b,c,m\0x,2\n",
            "field 'generator_2'",
        ),
    ],
)
def test_parse_limits_are_one_line_naming_file_row_and_field(tmp_path, capsys, name, text, says):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    code, _, err = board(capsys, path)
    line = assert_one_line_error(code, err, codes=(2,), names=says)
    assert name in line


def test_a_deeply_nested_field_is_refused_where_fields_are_kept(tmp_path):
    path = tmp_path / "deep_row.json"
    path.write_text(_json([dict(ROW, extra=json.loads("[" * 40 + "]" * 40))]))
    with pytest.raises(InputError, match="row 0, field 'extra': nested more than"):
        read_records(path)
    path.write_text(_json([dict(ROW, id=7)]).replace(": 7", ": 1" + "0" * 400))
    with pytest.raises(InputError, match="row 0, field 'id': a number of 401 digits"):
        read_records(path)


def test_a_300_character_model_name_is_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.json").write_text(json.dumps([{"instruction": "q", "output": "a", "generator": "g"}]))
    code, _, err = run_cli(["suite", "--models", "n" * 300 + "=x.json", "--out", "o"], capsys)
    assert_one_line_error(code, err, codes=(2,), names="300 characters")
    code, _, err = run_cli(["leaderboard", "--annotations", "n" * 300 + ".json"], capsys)
    assert_one_line_error(code, err, codes=(2,), names="File name too long")


@pytest.mark.parametrize("name", ["a\x00b=x.json", "a/b=x.json", ".hidden=x.json"])
def test_odd_characters_in_a_model_name_are_one_line(tmp_path, capsys, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.json").write_text(json.dumps([{"instruction": "q", "output": "a", "generator": "g"}]))
    code, _, err = run_cli(["suite", "--models", name, "--out", "o"], capsys)
    line = assert_one_line_error(code, err, codes=(2,))
    assert "\x1b" not in line and "\x00" not in line


def test_a_judge_spec_that_is_a_fifo_is_refused(tmp_path):
    from judgebench.judges.spec import load_spec

    fifo = tmp_path / "j.yaml"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="FIFO"):
        load_spec(fifo)
