"""Issue 24's hostile-input table: every command that reads files x every kind of odd file. Each cell: one
line `judgebench: error: ...` naming the file, exit 2 or 4 (never 70, never a traceback), the inputs byte
for byte as they were, and no output written."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import assert_one_line_error, run_cli

ROW = {
    "instruction": "q",
    "output_1": "a",
    "generator_1": "b",
    "output_2": "c",
    "generator_2": "m",
    "preference": 2,
}
OUTPUT_ROW = {"instruction": "q", "output": "x", "generator": "g"}

ODD = {
    "device.json": "device",
    "fifo.json": "fifo",
    "bigint.json": json.dumps([ROW]).replace('"preference": 2', '"preference": 1' + "0" * 400),
    "surrogate.json": json.dumps([ROW]).replace('"q"', '"q\\ud800"'),
    "deep.json": "[" * 100_000 + "]" * 100_000,
    "nul.json": json.dumps([dict(ROW, generator_2="m\u0000")]),
    "truncated.json.gz": b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\x8b\xae",
    "empty.json": "",
    "object.json": '{"a": 1}',
    "n" * 300 + ".json": "toolong",
}

COMMANDS = {
    "leaderboard": "leaderboard --annotations {f} --n-boot 2 --workers 1 --out {d}/out.csv",
    "compare": "compare --annotations {f} --a m --b n",
    "annotate outputs": "annotate --outputs {f} --baseline {ok} --store {d}/s.sqlite --out {d}/o.json --offline",
    "annotate baseline": "annotate --outputs {ok} --baseline {f} --store {d}/s.sqlite --out {d}/o.json --offline",
    "detect": "detect --outputs {f}",
    "tiny fit": "tiny fit --annotations {f} --out {d}/t.json",
    "tiny estimate": "tiny estimate --tiny {f} --annotations {oka}",
    "report leaderboard": "report --leaderboard {f} --out {d}/r.html",
    "report annotations": "report --annotations {f} --out {d}/r.html",
    "report manifest": "report --manifest {f} --annotations {oka} --out {d}/r.html",
    "difficulty": "difficulty --annotations {f} --out {d}/d.csv",
    "import-annotations": "import-annotations --annotations {f} --store {d}/s2.sqlite --judge alpacaeval2",
    "leaderboard difficulty": "leaderboard --annotations {oka} --difficulty {f} --n-boot 2 --workers 1",
    "audit": "audit --annotations {f} --out {d}/au",
    "suite": "suite --models {f} --out {d}/su --dry-run",
}


def _make(folder: Path, name: str) -> Path:
    path = folder / name
    content = ODD[name]
    if content == "device":
        path.symlink_to("/dev/zero")
    elif content == "fifo":
        os.mkfifo(path)
    elif content == "toolong":
        pass  # the name alone is the test
    elif isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8", errors="surrogatepass")
    return path


def _snapshot(folder: Path) -> dict:
    return {
        p.name: p.read_bytes()
        for p in folder.iterdir()
        if p.is_file() and not p.is_symlink() and not p.is_fifo()
    }


VALID = {("report manifest", "object.json")}  # a JSON object is what a manifest is
CELLS = [(c, o) for c in COMMANDS for o in ODD if (c, o) not in VALID]


@pytest.mark.parametrize("command, odd", CELLS, ids=[f"{c}-{o[:20]}" for c, o in CELLS])
def test_every_command_gives_one_line_for_every_odd_file(tmp_path, capsys, command, odd):
    f = _make(tmp_path, odd)
    ok, oka = tmp_path / "ok_outputs.json", tmp_path / "ok_annotations.json"
    ok.write_text(json.dumps([OUTPUT_ROW]))
    oka.write_text(json.dumps([ROW]))
    before = _snapshot(tmp_path)
    argv = COMMANDS[command].format(f=f, ok=ok, oka=oka, d=tmp_path).split()
    code, _, err = run_cli(argv, capsys)
    line = assert_one_line_error(code, err, codes=(2, 4))
    assert odd[:40] in line, line
    assert _snapshot(tmp_path) == before  # inputs as they were, and no output written
