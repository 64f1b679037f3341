"""Fuzzing the readers through the commands that read files (hypothesis): valid files corrupted at random.

Each example ends in a correct result or in one line naming the file, and an existing --out stays byte for
byte. Examples per test: JUDGEBENCH_FUZZ_EXAMPLES (CI runs the default, a bounded number).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os

import pandas as pd
import pytest

hypothesis = pytest.importorskip("hypothesis")
from conftest import run_cli  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from judgebench.cli import main  # noqa: E402

EXAMPLES = int(os.environ.get("JUDGEBENCH_FUZZ_EXAMPLES", "100"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=os.environ.get("JUDGEBENCH_FUZZ_RANDOM") is None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
FIELDS = ["instruction", "output_1", "generator_1", "output_2", "generator_2", "preference"]


def clean_rows(n: int = 10) -> list[dict]:
    return [
        {
            "instruction": f"Question {i}: what is {i} + {i}?",
            "output_1": f"It is {2 * i}.",
            "generator_1": "base",
            "output_2": f"The answer is {2 * i}. " * (i % 3 + 1),
            "generator_2": "cand",
            "preference": [1.0, 2.0, 1.5, 2.0, 1.0][i % 5],
        }
        for i in range(n)
    ]


def serialise(rows: list[dict], fmt: str, crlf: bool = False, bom: bool = False) -> bytes:
    if fmt == "json":
        data = json.dumps(rows, ensure_ascii=False)
    elif fmt == "jsonl":
        data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    else:
        buf = io.StringIO()
        w = csv.DictWriter(
            buf,
            fieldnames=list(dict.fromkeys(k for r in rows for k in r)),
            lineterminator="\r\n" if crlf else "\n",
        )
        w.writeheader()
        w.writerows(rows)
        data = buf.getvalue()
    return (b"\xef\xbb\xbf" if bom else b"") + data.encode()


odd_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)

corruption = st.one_of(
    st.tuples(st.just("truncate"), st.floats(0, 1)),
    st.tuples(st.just("field"), st.integers(0, 9), st.sampled_from(FIELDS), odd_values),
    st.tuples(
        st.just("preference"),
        st.integers(0, 9),
        st.sampled_from([float("nan"), float("inf"), -1.0, 0.0, 3, "2", "abc", "", None, 1.25]),
    ),
    st.tuples(st.just("drop_field"), st.integers(0, 9), st.sampled_from(FIELDS)),
    st.tuples(st.just("mixed_generators"), st.integers(0, 9)),
    st.tuples(st.just("second_baseline"), st.integers(0, 9)),
    st.tuples(st.just("zero_rows")),
    st.tuples(st.just("huge_row"), st.integers(0, 9)),
    st.tuples(st.just("garbage_gzip"), st.binary(max_size=64)),
    st.tuples(st.just("benign")),
)


def corrupt(kind: tuple, fmt: str, gz: bool, crlf: bool, bom: bool) -> tuple[bytes, bool]:
    """The file's bytes and whether it is still a valid file with the clean file's meaning."""
    rows, benign = clean_rows(), False
    name = kind[0]
    if name == "field":
        rows[kind[1]][kind[2]] = kind[3]
    elif name == "preference":
        rows[kind[1]]["preference"] = kind[2]
    elif name == "drop_field":
        del rows[kind[1]][kind[2]]
    elif name == "mixed_generators":
        rows[kind[1]]["generator_2"] = "another"
    elif name == "second_baseline":
        rows[kind[1]]["generator_1"] = "another-base"
    elif name == "zero_rows":
        rows = []
    elif name == "huge_row":
        rows[kind[1]]["output_2"] = "long " * 400_000
    elif name == "benign":
        benign = True
    data = serialise(rows, fmt, crlf=crlf, bom=bom)
    if name == "truncate":
        data = data[: int(len(data) * kind[1])]
    if name == "garbage_gzip":
        return gzip.compress(kind[1]), False
    return (gzip.compress(data) if gz else data), benign


@pytest.fixture(scope="module")
def clean_board(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clean")
    path = folder / "clean.json"
    path.write_bytes(serialise(clean_rows(), "json"))
    main(
        [
            "leaderboard",
            "--annotations",
            str(path),
            "--out",
            str(folder / "b.csv"),
            "--n-boot",
            "0",
            "--workers",
            "1",
        ]
    )
    return pd.read_csv(folder / "b.csv", index_col=0)


@FUZZ
@given(
    kind=corruption,
    fmt=st.sampled_from(["json", "jsonl", "csv"]),
    gz=st.booleans(),
    crlf=st.booleans(),
    bom=st.booleans(),
)
def test_leaderboard_on_corrupted_files(kind, fmt, gz, crlf, bom, tmp_path, capsys, clean_board):
    path = tmp_path / f"fuzz.{fmt}{'.gz' if gz else ''}"
    data, benign = corrupt(kind, fmt, gz, crlf, bom)
    path.write_bytes(data)
    out = tmp_path / "board.csv"
    out.write_bytes(b"the previous board\n")
    code, _, err = run_cli(
        ["leaderboard", "--annotations", str(path), "--out", str(out), "--n-boot", "0", "--workers", "1"],
        capsys,
    )
    assert "Traceback" not in err and "internal error" not in err, err
    verdict, detail = expected_outcome(data, fmt)
    if verdict == "board":  # the right numbers, for every model in the file
        assert code == 0, (kind, err)
        board = pd.read_csv(out, index_col=0)
        assert sorted(board.index) == sorted(detail), (kind, board)
        for model, want in detail.items():
            got = board.loc[model]
            for col in ("n_wins", "n_wins_base", "n_draws", "n_total", "n_missing", "avg_length"):
                assert got[col] == want[col], (kind, model, col, got[col], want[col])
            if want["n_total"]:
                assert got["win_rate"] == pytest.approx(want["win_rate"], abs=1e-9), (kind, model)
        if benign:  # BOM, CRLF, gzip and format change nothing
            cols = ["win_rate", "n_wins", "n_wins_base", "n_draws", "n_total", "avg_length"]
            pd.testing.assert_frame_equal(board[cols], clean_board[cols], check_dtype=False)
    else:  # one line naming the file (and the row where a row is at fault); the old board untouched
        assert not benign, err
        assert code == 2, (kind, err)
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("judgebench: error: ") and path.name in lines[0], err
        if detail is not None:
            assert f"row {detail}" in lines[0], (kind, err)
        assert out.read_bytes() == b"the previous board\n"


TEXT = ("instruction", "generator_1", "generator_2")


def _read_independently(data: bytes, fmt: str) -> list | None:
    """The rows of the file as Python's own gzip/json/csv modules read them; None where it is unreadable."""
    try:
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        text = data.decode("utf-8-sig")
        if fmt == "json":
            rows = json.loads(text)
        elif fmt == "jsonl":
            rows = [json.loads(line) for line in text.splitlines() if line.strip()]
        else:
            rows = list(csv.DictReader(io.StringIO(text, newline="")))
    except (OSError, EOFError, UnicodeDecodeError, ValueError, csv.Error):
        return None
    return rows if isinstance(rows, list) and all(isinstance(r, dict) for r in rows) else None


def _preference(v):
    """The documented rule (README): 1..2, 0 = tie (1.5), null/empty = missing, anything else an error."""
    if v is None or v == "" or (isinstance(v, float) and v != v):
        return "missing"
    if isinstance(v, bool):
        return "error"
    try:
        x = float(v)
    except (TypeError, ValueError):
        return "error"
    return 1.5 if x == 0 else x if 1 <= x <= 2 else "error"


def expected_outcome(data: bytes, fmt: str):
    """What `leaderboard` must do with this file, worked out by hand from the file format and the
    documented rules, not by judgebench's reader: ("error", row or None) or ("board", {model: numbers})."""
    rows = _read_independently(data, fmt)
    if not rows:
        return "error", None
    for i, r in enumerate(rows):
        if any(f not in r or (fmt == "csv" and r[f] is None and f != "preference") for f in FIELDS):
            return "error", i
    for f in TEXT:  # names: text, not blank
        for i, r in enumerate(rows):
            if not isinstance(r[f], str) or not r[f].strip():
                return "error", i
    for f in ("output_1", "output_2"):  # answers: text; null is an empty answer
        for i, r in enumerate(rows):
            if r[f] is not None and not (isinstance(r[f], str) or (isinstance(r[f], float) and r[f] != r[f])):
                return "error", i
    prefs = [_preference(r["preference"]) for r in rows]
    if "error" in prefs:
        return "error", prefs.index("error")
    models: dict = {}
    for r, p in zip(rows, prefs, strict=True):
        models.setdefault(r["generator_2"], []).append((r, p))
    for part in models.values():
        if (
            len({r["instruction"] for r, _ in part}) < len(part)
            or len({r["generator_1"] for r, _ in part}) > 1
        ):
            return "error", None
    board = {}
    for model, part in models.items():
        judged = [p for _, p in part if p != "missing"]
        lengths = [len(r["output_2"]) if isinstance(r["output_2"], str) else 0 for r, _ in part]
        board[model] = {
            "n_wins": sum(p > 1.5 for p in judged),
            "n_wins_base": sum(p < 1.5 for p in judged),
            "n_draws": sum(p == 1.5 for p in judged),
            "n_total": len(judged),
            "n_missing": len(part) - len(judged),
            "win_rate": 100 * sum(p - 1 for p in judged) / len(judged) if judged else None,
            "avg_length": int(sum(lengths) / len(lengths)),
        }
    return "board", board


output_corruption = st.one_of(
    st.tuples(st.just("truncate"), st.floats(0, 1)),
    st.tuples(
        st.just("field"),
        st.integers(0, 9),
        st.sampled_from(["instruction", "output", "generator"]),
        odd_values,
    ),
    st.tuples(st.just("zero_rows")),
    st.tuples(st.just("garbage_gzip"), st.binary(max_size=64)),
    st.tuples(st.just("benign")),
)


@FUZZ
@given(kind=output_corruption, fmt=st.sampled_from(["json", "jsonl", "csv"]), gz=st.booleans())
def test_detect_on_corrupted_outputs(kind, fmt, gz, tmp_path, capsys):
    rows = [
        {"instruction": r["instruction"], "output": r["output_2"], "generator": "cand"} for r in clean_rows()
    ]
    if kind[0] == "field":
        rows[kind[1]][kind[2]] = kind[3]
    if kind[0] == "zero_rows":
        rows = []
    data = serialise(rows, fmt)
    if kind[0] == "truncate":
        data = data[: int(len(data) * kind[1])]
    data = gzip.compress(kind[1]) if kind[0] == "garbage_gzip" else gzip.compress(data) if gz else data
    path = tmp_path / f"outputs.{fmt}{'.gz' if gz else ''}"
    path.write_bytes(data)
    code, out, err = run_cli(["detect", "--outputs", str(path), "--json"], capsys)
    assert "Traceback" not in err and "internal error" not in err, err
    if code == 0:  # every row read: as many as Python's own parsers find in the file
        rows = _read_independently(data, fmt)
        assert rows and json.loads(out)["n"] == len(rows), (kind, out)
    else:
        assert kind[0] != "benign", err
        assert code == 2 and path.name in err and len(err.strip().splitlines()) == 1, err
