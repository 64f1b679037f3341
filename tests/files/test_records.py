"""Bad input gets an error naming the file, the row and the field, and saying what to do."""

import gzip
import json

import pandas as pd
import pytest

from judgebench.files.records import (
    InputError,
    check_same_instructions,
    load_annotations,
    load_outputs,
    read_records,
)


def _ann(i, **over):
    row = {
        "instruction": f"q{i}",
        "output_1": f"base {i}",
        "generator_1": "base",
        "output_2": f"cand {i}",
        "generator_2": "cand",
        "preference": 1.25,
    }
    row.update(over)
    return row


def _write(path, rows):
    path.write_text(json.dumps(rows))
    return path


@pytest.mark.parametrize("suffix", ["json", "jsonl", "csv", "parquet", "json.gz", "jsonl.gz"])
def test_every_format_reads_the_same_rows(tmp_path, suffix):
    rows = [_ann(i) for i in range(3)]
    path = tmp_path / f"a.{suffix}"
    base = suffix.removesuffix(".gz")
    if base == "json":
        data = json.dumps(rows).encode()
    elif base == "jsonl":
        data = "\n".join(json.dumps(r) for r in rows).encode()
    elif base == "csv":
        data = pd.DataFrame(rows).to_csv(index=False).encode()
    if base == "parquet":
        pd.DataFrame(rows).to_parquet(path)
    else:
        path.write_bytes(gzip.compress(data) if suffix.endswith(".gz") else data)
    df = load_annotations([path])
    assert df["instruction"].tolist() == ["q0", "q1", "q2"]
    assert df["preference"].tolist() == [1.25] * 3
    assert df["len_2"].tolist() == [len("cand 0")] * 3


def test_gzip_is_detected_by_content_not_name(tmp_path):
    path = tmp_path / "a.json"
    path.write_bytes(gzip.compress(json.dumps([_ann(0)]).encode()))
    assert read_records(path)[0]["instruction"] == "q0"


@pytest.fixture(params=[True, False], ids=["full", "fast-path"])
def keep_extra(request):
    """keep_extra=False reads JSON through the fast decoder: it must fail the same way."""
    return request.param


def test_fast_and_full_paths_read_the_same_values(alpaca_dir):
    path = alpaca_dir / "annotations" / "claude.json.gz"
    full = load_annotations([path], keep_extra=True)
    fast = load_annotations([path], keep_extra=False)
    for col in fast.columns:
        assert fast[col].tolist() == full[col].tolist(), col


def test_misspelt_field_names_the_row_and_the_fix(tmp_path, keep_extra):
    rows = [_ann(0), {k if k != "preference" else "prefrence": v for k, v in _ann(1).items()}]
    with pytest.raises(InputError) as e:
        load_annotations([_write(tmp_path / "a.json", rows)], keep_extra=keep_extra)
    msg = str(e.value)
    assert "a.json" in msg and "row 1" in msg and "'preference'" in msg and "rename 'prefrence'" in msg


def test_duplicate_instruction(tmp_path, keep_extra):
    with pytest.raises(InputError, match=r"row 0.*duplicate instruction in rows \[0, 2\]"):
        load_annotations([_write(tmp_path / "a.json", [_ann(0), _ann(1), _ann(0)])], keep_extra=keep_extra)


@pytest.mark.parametrize("value", [2.5, 0.5, -1, "high"])
def test_preference_outside_range_or_not_a_number(tmp_path, value, keep_extra):
    with pytest.raises(InputError, match=r"row 1, field 'preference'"):
        load_annotations(
            [_write(tmp_path / "a.json", [_ann(0), _ann(1, preference=value)])], keep_extra=keep_extra
        )


def test_missing_preferences_are_kept_and_legacy_zero_is_a_tie(tmp_path, keep_extra):
    rows = [_ann(0, preference=None), _ann(1, preference=0), _ann(2)]
    df = load_annotations([_write(tmp_path / "a.json", rows)], keep_extra=keep_extra)
    assert df["preference"].isna().tolist() == [True, False, False]
    assert df["preference"].iloc[1] == 1.5


def test_empty_outputs_are_data_and_blank_names_are_not(tmp_path, keep_extra):
    df = load_annotations(
        [_write(tmp_path / "a.json", [_ann(0), _ann(1, output_2="  "), _ann(2, output_2=None)])],
        keep_extra=keep_extra,
    )
    assert df["empty_2"].tolist() == [False, True, True] and df["len_2"].tolist()[2] == 0
    with pytest.raises(InputError, match=r"row 1, field 'output_2': expected text, got int"):
        load_annotations([_write(tmp_path / "b.json", [_ann(0), _ann(1, output_2=3)])], keep_extra=keep_extra)
    with pytest.raises(InputError, match=r"row 1, field 'generator_2': empty text"):
        load_annotations(
            [_write(tmp_path / "c.json", [_ann(0), _ann(1, generator_2=" ")])], keep_extra=keep_extra
        )
    out = tmp_path / "o.json"
    out.write_text(json.dumps([{"instruction": "q", "output": "", "generator": "g"}]))
    assert load_outputs(out)["output"].tolist() == [""]
    out.write_text(json.dumps([{"instruction": "", "output": "a", "generator": "g"}]))
    with pytest.raises(InputError, match="field 'instruction': empty text"):
        load_outputs(out)


def test_undecodable_bytes(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_bytes(b'{"instruction": "q0"}\n{"instruction": "caf\xe9"}\n')
    with pytest.raises(InputError, match=r"a.jsonl.*\(line 2\) are not valid UTF-8.*re-save"):
        read_records(path)


def test_truncated_gzip_and_truncated_json(tmp_path, keep_extra):
    blob = gzip.compress(json.dumps([_ann(i) for i in range(50)]).encode())
    path = tmp_path / "a.json.gz"
    path.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(InputError, match=r"a.json.gz.*gzip stream is truncated"):
        load_annotations([path], keep_extra=keep_extra)
    cut = tmp_path / "b.json"
    cut.write_text(json.dumps([_ann(i) for i in range(5)])[:-40])
    with pytest.raises(InputError, match=r"b.json.*invalid JSON.*truncated"):
        load_annotations([cut], keep_extra=keep_extra)


def test_candidate_and_baseline_instruction_sets_are_listed(tmp_path):
    cand = pd.DataFrame({"instruction": ["a", "b", "c"]})
    base = pd.DataFrame({"instruction": ["a", "b", "d", "e"]})
    with pytest.raises(InputError) as e:
        check_same_instructions(cand, base, "mine.json", "baseline.json")
    msg = str(e.value)
    assert "2 instructions of baseline.json have no output in mine.json: 'd'; 'e'" in msg
    assert "1 instructions of mine.json are not in baseline.json: 'c'" in msg


def test_same_model_in_two_files_and_two_baselines(tmp_path):
    a = _write(tmp_path / "a.json", [_ann(0)])
    b = _write(tmp_path / "b.json", [_ann(0)])
    with pytest.raises(InputError, match="annotated in several files"):
        load_annotations([a, b])
    with pytest.raises(InputError, match="several baselines"):
        load_annotations([_write(tmp_path / "c.json", [_ann(0), _ann(1, generator_1="other")])])


def test_unknown_format_and_missing_file(tmp_path):
    with pytest.raises(InputError, match="unknown file type"):
        read_records(tmp_path / "x.txt")
    with pytest.raises(InputError, match="file not found"):
        read_records(tmp_path / "nope.json")


def test_numbers_in_leaderboard_weights_and_difficulty_files_are_checked_cell_by_cell(tmp_path):
    """One reader of numeric columns for the three CSVs: the first bad cell names file, row and column;
    an empty cell is allowed where a value may be missing (a board's CI), not in a difficulty file."""
    from judgebench.leaderboard.board import read_leaderboard
    from judgebench.stats.alpacaeval_lc import read_official_weights
    from judgebench.stats.lc_inputs import read_difficulty

    board = tmp_path / "board.csv"
    board.write_text(",win_rate,lc_ci_low\nm1,10.5,\nm2,abc,1\n")
    with pytest.raises(InputError) as err:
        read_leaderboard(board)
    assert err.value.row == 1 and err.value.field == "win_rate" and "'abc'" in str(err.value)
    board.write_text(",win_rate,lc_ci_low\nm1,10.5,\nm2,7,1\n")
    assert read_leaderboard(board)["win_rate"].tolist() == [10.5, 7.0]

    weights = tmp_path / "w.csv"
    weights.write_text(",a,b,c\nm1,-1.5,0.9,0.2\nm2,-1.5,x,0.2\n")
    with pytest.raises(InputError) as err:
        read_official_weights(weights)
    assert err.value.row == 1 and err.value.field == "diff"

    difficulty = tmp_path / "d.csv"
    difficulty.write_text("instruction,instruction_difficulty\nq1,0.5\nq2,\n")
    with pytest.raises(InputError) as err:
        read_difficulty(difficulty)
    assert err.value.row == 1 and err.value.field == "instruction_difficulty"
