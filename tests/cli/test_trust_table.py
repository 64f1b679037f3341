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
    "suite run": "suite --models {f} --benchmarks alpaca_eval --out {d}/su",
    "evaluate outputs": "evaluate --outputs {f} --eval-set {es} --baseline {ok} --out {d}/ev",
    "evaluate baseline": "evaluate --outputs {ok} --eval-set {es} --baseline {f} --out {d}/ev",
    "evaluate eval-set": "evaluate --outputs {ok} --eval-set {f} --baseline {ok} --out {d}/ev",
    "evaluate tiny": "evaluate --outputs {ok} --eval-set {es} --baseline {ok} --tiny {f} --out {d}/ev",
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
    """Every file's bytes, and every folder, under `folder`: an output folder or store made before the
    error counts as written."""
    return {
        str(p.relative_to(folder)): p.read_bytes() if p.is_file() else "folder"
        for p in folder.rglob("*")
        if not p.is_symlink() and not p.is_fifo() and (p.is_file() or p.is_dir())
    }


def _inputs(folder: Path) -> tuple[Path, Path, Path]:
    """Sound files beside the odd one: outputs, annotations, a one-instruction eval set."""
    ok, oka, es = folder / "ok_outputs.json", folder / "ok_annotations.json", folder / "es.json"
    ok.write_text(json.dumps([OUTPUT_ROW]))
    oka.write_text(json.dumps([ROW]))
    es.write_text(json.dumps([{"instruction": "q"}]))
    return ok, oka, es


VALID = {
    ("report manifest", "object.json"),  # a JSON object is what a manifest is
    ("evaluate eval-set", "nul.json"),  # an eval set reads the instruction, not generator_2
}
CELLS = [(c, o) for c in COMMANDS for o in ODD if (c, o) not in VALID]


@pytest.mark.parametrize("command, odd", CELLS, ids=[f"{c}-{o[:20]}" for c, o in CELLS])
def test_every_command_gives_one_line_for_every_odd_file(tmp_path, capsys, command, odd):
    f = _make(tmp_path, odd)
    ok, oka, es = _inputs(tmp_path)
    before = _snapshot(tmp_path)
    argv = COMMANDS[command].format(f=f, ok=ok, oka=oka, es=es, d=tmp_path).split()
    code, _, err = run_cli(argv, capsys)
    line = assert_one_line_error(code, err, codes=(2, 4))
    assert odd[:40] in line, line
    assert _snapshot(tmp_path) == before  # inputs as they were, and no output written


# evaluate and suite x what a user types: malformed URLs (every URL flag), non-finite or huge numbers, an
# output that is one of the inputs. Each: one line naming the flag, exit 2, no secret echoed, nothing written.
SECRET = "sk-tbl-0123456789abcdefghijkl"
BAD_URLS = {
    "port": "http://127.0.0.1:99999/v1",
    "port0": "http://127.0.0.1:0/v1",
    "ipv6": "http://[::1/v1",
    "punycode": "http://xn--zz/v1",
    "backslash": "http://h\\x/v1",
    "query": f"http://h/v1?api_key={SECRET}",
    "fragment": "http://h/v1#frag",
    "endpoint": "http://h/v1/chat/completions",
    "scheme": "ftp://h/v1",
    "userinfo": f"http://me:{SECRET}@h/v1",
}
EVALUATE = "evaluate --outputs {ok} --eval-set {es} --baseline {ok} --out {d}/ev"
SUITE = "suite --models {ok} --benchmarks alpaca_eval --out {d}/su"
URL_FLAGS = {
    "evaluate --judge-base-url": (EVALUATE + " --judge-base-url {url}", "--judge-base-url"),
    "evaluate --base-url": (
        "evaluate --model m --base-url {url} --eval-set {es} --baseline {ok} --out {d}/ev",
        "--base-url",
    ),
    "evaluate --gold-judge-base-url": (
        EVALUATE + " --gold-judge alpacaeval2 --gold-budget 2 --gold-judge-base-url {url}",
        "--gold-judge-base-url",
    ),
    "suite --judge-base-url": (SUITE + " --judge-base-url {url}", "--judge-base-url"),
    "suite --gold-judge-base-url": (
        SUITE + " --gold-judge alpacaeval2 --gold-budget 2 --gold-judge-base-url {url}",
        "--gold-judge-base-url",
    ),
    "suite --models NAME@URL": (
        "suite --models m@{url} --benchmarks alpaca_eval --out {d}/su",
        "--models",
    ),
}
SETTINGS = {
    "evaluate temperature nan": (EVALUATE + " --temperature nan", "--temperature"),
    "evaluate top-p 1e309": (EVALUATE + " --top-p 1e309", "--top-p"),
    "evaluate n-boot inf": (EVALUATE + " --n-boot inf", "--n-boot"),
    "evaluate timeout nan": (EVALUATE + " --timeout nan", "--timeout"),
    "evaluate gold-budget 1e400": (
        EVALUATE + " --gold-judge alpacaeval2 --gold-budget 1e400",
        "--gold-budget",
    ),
    "suite max-cost nan": (SUITE + " --max-cost nan", "--max-cost"),
    "suite max-cost inf": (SUITE + " --max-cost inf", "--max-cost"),
    "suite temperature -inf": (SUITE + " --temperature -inf", "--temperature"),
    "suite batch-poll-seconds inf": (SUITE + " --batch --batch-poll-seconds inf", "--batch-poll-seconds"),
    "evaluate out = outputs": (
        "evaluate --outputs {ok} --eval-set {es} --baseline {ok} --out {ok}",
        "--out",
    ),
    "evaluate leaderboard = baseline": (EVALUATE + " --leaderboard {ok}", "--leaderboard"),
    "evaluate report = eval set": (EVALUATE + " --report {es}", "--report"),
    "evaluate store = outputs": (EVALUATE + " --store {ok}", "--store"),
    "evaluate report = leaderboard": (EVALUATE + " --leaderboard {d}/lb.csv --report {d}/lb.csv", "--report"),
    "suite out = models": ("suite --models {ok} --benchmarks alpaca_eval --out {ok}", "--out"),
}
CASES = {
    **{
        f"{flag} {kind}": (argv.replace("{url}", url), names)
        for flag, (argv, names) in URL_FLAGS.items()
        for kind, url in BAD_URLS.items()
    },
    **SETTINGS,
}


@pytest.mark.parametrize("case", list(CASES))
def test_evaluate_and_suite_give_one_line_for_every_bad_setting(tmp_path, capsys, case):
    template, names = CASES[case]
    ok, oka, es = _inputs(tmp_path)
    before = _snapshot(tmp_path)
    argv = template.format(ok=ok, es=es, d=tmp_path).split()
    code, out, err = run_cli(argv, capsys)
    assert_one_line_error(code, err, codes=(2,), names=names)
    assert SECRET not in err + out
    assert _snapshot(tmp_path) == before  # inputs as they were, and no output written
