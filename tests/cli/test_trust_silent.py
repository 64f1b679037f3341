"""Class 5 of issue 24: nothing silently wrong. A candidate named like its baseline, an inconsistent tiny
file, a foreign SQLite file as --store: refused with one line (and left untouched). NFD vs NFC instructions
are matched with a notice; a .parquet without pyarrow names the extra; terminal escapes in model names are
shown escaped."""

from __future__ import annotations

import json
import math
import sqlite3
import sys
import unicodedata

import pytest
from conftest import assert_one_line_error, run_cli
from servers import annotate_argv, pair_files

from judgebench.annotation.pairs import pairs_from_files
from judgebench.errors import InputError
from judgebench.files.records import read_records
from judgebench.stats.difficulty import instruction_key
from judgebench.stats.irt import FORMAT_VERSION, TinyModel


def ann_rows(model, base="base", same_outputs=False, n=6):
    return [
        {
            "instruction": f"q{i}",
            "output_1": f"b{i}",
            "generator_1": base,
            "output_2": f"b{i}" if same_outputs else f"c{i}" * (i + 1),
            "generator_2": model,
            "preference": 1.0 + (i % 2),
        }
        for i in range(n)
    ]


def test_a_candidate_named_like_its_baseline_is_refused_in_annotations(tmp_path, capsys):
    path = tmp_path / "a.json"
    path.write_text(json.dumps(ann_rows("base")))
    code, _, err = run_cli(
        ["leaderboard", "--annotations", str(path), "--n-boot", "2", "--workers", "1"], capsys
    )
    assert_one_line_error(code, err, codes=(2,), names="named like its baseline")


def test_the_baseline_against_itself_is_still_read(tmp_path, capsys):
    path = tmp_path / "a.json"
    path.write_text(json.dumps(ann_rows("base", same_outputs=True)))
    code, out, err = run_cli(
        ["leaderboard", "--annotations", str(path), "--n-boot", "2", "--workers", "1"], capsys
    )
    assert code == 0, err


def test_annotate_refuses_a_candidate_named_like_the_baseline(tmp_path, capsys):
    cand, base = pair_files(tmp_path, 3)
    rows = json.loads(cand.read_text())
    cand.write_text(json.dumps([dict(r, generator="base") for r in rows]))
    before = cand.read_bytes(), base.read_bytes()
    code, _, err = run_cli(annotate_argv(cand, base, tmp_path / "s.sqlite", tmp_path / "a.json"), capsys)
    assert_one_line_error(code, err, codes=(2,), names="named like the baseline")
    assert (cand.read_bytes(), base.read_bytes()) == before and not (tmp_path / "a.json").exists()


def test_nfd_and_nfc_instructions_are_matched_with_a_notice(tmp_path, capsys):
    words = ["café au lait", "naïve résumé", "plain"]
    cand = [{"instruction": unicodedata.normalize("NFD", w), "output": "x", "generator": "c"} for w in words]
    base = [{"instruction": unicodedata.normalize("NFC", w), "output": "y", "generator": "b"} for w in words]
    (tmp_path / "c.json").write_text(json.dumps(cand))
    (tmp_path / "b.json").write_text(json.dumps(base))
    pairs = pairs_from_files(tmp_path / "c.json", tmp_path / "b.json", multi_turn=False)
    assert sorted(p.instruction for p in pairs) == sorted(unicodedata.normalize("NFC", w) for w in words)
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "notice" in err and "NFC" in err and "2 instructions" in err


def test_really_different_instructions_are_still_listed(tmp_path):
    (tmp_path / "c.json").write_text(json.dumps([{"instruction": "a", "output": "x", "generator": "c"}]))
    (tmp_path / "b.json").write_text(json.dumps([{"instruction": "b", "output": "y", "generator": "b"}]))
    with pytest.raises(InputError, match="have no output"):
        pairs_from_files(tmp_path / "c.json", tmp_path / "b.json", multi_turn=False)


def _tiny(tmp_path, **changes):
    keys = [instruction_key(f"question {i}?") for i in range(4)]
    tiny = TinyModel(
        version=FORMAT_VERSION,
        item_keys=keys,
        dim=1,
        a=[[1.0]] * 4,
        b=[0.0] * 4,
        anchors=[3, 1],
        anchor_keys=[keys[3], keys[1]],
        weights=[0.5, 0.5],
        stratum_of=[1, 1, 0, 0],
        interval_z=2.0,
        eval_set_hash="by hand",
    )
    path = tmp_path / "tiny.json"
    tiny.save(path)
    data = json.loads(path.read_text())
    for k, v in changes.items():
        if v is KeyError:
            del data[k]
        else:
            data[k] = v
    path.write_text(json.dumps(data))  # NaN written as the literal NaN, as Python's json does
    return path


def test_a_sound_tiny_file_loads(tmp_path):
    assert TinyModel.load(_tiny(tmp_path)).interval_z == 2.0


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"interval_z": -1.96}, "interval_z"),
        ({"interval_z": 0}, "interval_z"),
        ({"weights": [0.0, 1.0]}, "weights"),
        ({"weights": [0.0, 0.0]}, "weights"),
        ({"weights": [0.5]}, "weights"),
        ({"anchors": [3, 9]}, "anchors"),
        ({"anchors": [-1, 1]}, "anchors"),
        ({"b": [math.nan, 0.0, 0.0, 0.0]}, "b"),
        ({"b": [0.0, 0.0]}, "b"),
        ({"a": [[1.0]] * 3}, "a"),
        ({"a": [[math.inf]] * 4}, "a"),
        ({"stratum_of": [1, 1, 0, 5]}, "stratum_of"),
        ({"dim": 0}, "dim"),
        ({"item_keys": KeyError}, "item_keys"),
        ({"surprise": 1}, "surprise"),
        ({"anchor_keys": ["x"]}, "anchor_keys"),
        ({"version": "1" + "0" * 400}, None),
    ],
)
def test_an_inconsistent_tiny_file_is_one_line_naming_the_field(tmp_path, capsys, changes, field):
    path = _tiny(tmp_path, **changes)
    with pytest.raises(InputError) as err:
        TinyModel.load(path)
    assert "tiny.json" in str(err.value) and (field is None or f"field '{field}'" in str(err.value))
    annotations = tmp_path / "a.json"
    annotations.write_text(json.dumps(ann_rows("m")))
    code, _, err_text = run_cli(
        ["tiny", "estimate", "--tiny", str(path), "--annotations", str(annotations)], capsys
    )
    assert_one_line_error(code, err_text, codes=(2,), names="tiny.json")


@pytest.mark.parametrize(
    "schema",
    [
        "CREATE TABLE notes (id INTEGER, body TEXT); INSERT INTO notes VALUES (1, 'precious')",
        "CREATE TABLE judgments (id INTEGER, body TEXT); INSERT INTO judgments VALUES (1, 'precious')",
    ],
)
def test_a_foreign_sqlite_file_as_store_is_refused_untouched(tmp_path, capsys, schema):
    store = tmp_path / "theirs.sqlite"
    db = sqlite3.connect(store)
    db.executescript(schema)
    db.commit()
    db.close()
    before = store.read_bytes()
    cand, base = pair_files(tmp_path, 2)
    code, _, err = run_cli(
        annotate_argv(cand, base, store, tmp_path / "a.json", extra=("--offline",)), capsys
    )
    assert_one_line_error(code, err, codes=(4,), names="another program's SQLite database")
    assert store.read_bytes() == before
    assert sorted(p.name for p in tmp_path.glob("theirs.sqlite*")) == ["theirs.sqlite"]  # no -wal, -shm


def test_parquet_without_pyarrow_names_the_extra(tmp_path, monkeypatch):
    path = tmp_path / "a.parquet"
    path.write_bytes(b"PAR1")
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow now raises ImportError
    with pytest.raises(InputError, match=r"judgebench\[parquet\]"):
        read_records(path)


def test_terminal_escapes_in_model_names_are_shown_escaped(tmp_path, capsys):
    path = tmp_path / "a.json"
    path.write_text(json.dumps(ann_rows("m\x1b]0;pwned\x07\x1b[2J\u202e")))
    code, out, err = run_cli(
        ["leaderboard", "--annotations", str(path), "--n-boot", "2", "--workers", "1"], capsys
    )
    assert code == 0, err
    assert "\x1b" not in out + err and "\x07" not in out and "\u202e" not in out
    assert "m\\x1b]0;pwned" in out
