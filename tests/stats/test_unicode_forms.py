"""NFD and NFC spell the same instruction: the LC's difficulty join and the tiny anchors' join give the same
numbers for a file in either form (AlpacaEval's own instructions are NFC; 8 of the 805 change under NFD),
with one notice saying the texts were normalised."""

import gzip
import json
import unicodedata

import numpy as np
import pandas as pd
import pytest

from judgebench.files.records import load_annotations
from judgebench.leaderboard.board import make_leaderboard
from judgebench.stats.difficulty import instruction_key
from judgebench.stats.irt import FORMAT_VERSION, TinyModel, estimate_from_annotations
from judgebench.stats.lc_inputs import read_difficulty

MODELS = ("alpaca-7b", "OpenHermes-2.5-Mistral-7B")


def _nfd_copy(src, dst):
    rows = json.loads(gzip.decompress(src.read_bytes()))
    for r in rows:
        r["instruction"] = unicodedata.normalize("NFD", r["instruction"])
    dst.write_text(json.dumps(rows, ensure_ascii=False))
    return sum(r["instruction"] != unicodedata.normalize("NFC", r["instruction"]) for r in rows)


@pytest.fixture(scope="module")
def files(alpaca_dir, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("forms")
    nfc = [alpaca_dir / "annotations" / f"{m}.json.gz" for m in MODELS]
    nfd = [tmp / f"{m}.json" for m in MODELS]
    changed = [_nfd_copy(a, b) for a, b in zip(nfc, nfd, strict=True)]
    assert min(changed) >= 8  # the copies really differ from the originals (baseline rows included)
    return nfc, nfd


def _board(paths):
    board, _ = make_leaderboard(paths, n_boot=20, workers=1, detect_cheating=False)
    return board.sort_index()


def test_lc_of_nfd_files_equals_nfc_with_a_notice(files, capsys):
    nfc, nfd = files
    expected = _board(nfc)
    assert "notice" not in capsys.readouterr().err
    for paths in (nfd, [nfd[0], nfc[1]]):  # all NFD, and one model in each form
        got = _board(paths)
        err = capsys.readouterr().err
        assert err.count("judgebench: notice:") == 1 and "NFC" in err and nfd[0].name in err, err
        assert got["lc_inputs"].tolist() == expected["lc_inputs"].tolist()
        for column in ("win_rate", "length_controlled_winrate", "lc_ci_low", "lc_ci_high"):
            np.testing.assert_allclose(got[column], expected[column], rtol=0, atol=1e-9, err_msg=column)


def test_a_difficulty_file_in_nfd_joins_nfc_annotations(tmp_path, capsys):
    word = "café"
    path = tmp_path / "d.csv"
    path.write_text(
        f"instruction,instruction_difficulty\n{unicodedata.normalize('NFD', word)},0.5\nplain,1\n"
    )
    difficulty = read_difficulty(path)
    assert difficulty[word] == 0.5 and difficulty["plain"] == 1.0
    assert "1 instructions of" in capsys.readouterr().err


def _tiny_over(instructions, anchors):
    """A tiny file by hand over these items: each anchor stands for an equal share of them."""
    n, k = len(instructions), len(anchors)
    stratum_of = [i % k for i in range(n)]
    sizes = np.bincount(stratum_of, minlength=k)
    keys = [instruction_key(t) for t in instructions]
    return TinyModel(
        version=FORMAT_VERSION,
        eval_set_hash="by hand",
        item_keys=keys,
        dim=1,
        a=[[1.0]] * n,
        b=np.linspace(-1, 1, n).tolist(),
        anchors=list(anchors),
        anchor_keys=[keys[j] for j in anchors],
        weights=(sizes / n).tolist(),
        stratum_of=stratum_of,
        interval_z=2.0,
    )


def test_tiny_estimate_of_an_nfd_file_equals_nfc_with_a_notice(files, capsys):
    nfc, nfd = files
    reference = load_annotations([nfc[0]], keep_extra=False)
    instructions = reference["instruction"].tolist()  # AlpacaEval's, NFC
    changing = [i for i, t in enumerate(instructions) if unicodedata.normalize("NFD", t) != t]
    anchors = sorted(set(changing) | set(range(0, len(instructions), 40)))  # the changed ones are anchors
    tiny = _tiny_over(instructions, anchors)
    expected = estimate_from_annotations(tiny, reference)
    capsys.readouterr()
    got = estimate_from_annotations(tiny, load_annotations([nfd[0]], keep_extra=False))
    err = capsys.readouterr().err
    assert err.count("judgebench: notice:") == 1 and nfd[0].name in err, err
    assert expected["n_anchors"] == len(anchors) and "lc" in expected  # AlpacaEval's set: LC from anchors too
    assert got == expected


def test_ppi_pairs_an_nfd_gold_file_with_nfc_cheap_judgments(capsys):
    from judgebench.stats.ppi_lc import ppi_by_model

    rng = np.random.default_rng(0)
    words = [f"café crème n°{j} naïve" for j in range(60)]  # each changes under NFD

    def frame(texts, prefs):
        return pd.DataFrame(
            {"instruction": texts, "generator_1": "base", "generator_2": "m", "preference": prefs}
        )

    cheap = frame(words, 1 + rng.random(60))
    gold_prefs = 1 + rng.random(20)
    expected = ppi_by_model(cheap, frame(words[:20], gold_prefs), lc=False)
    assert "notice" not in capsys.readouterr().err
    nfd = [unicodedata.normalize("NFD", w) for w in words[:20]]
    got = ppi_by_model(cheap, frame(nfd, gold_prefs), lc=False)
    assert "20 instructions of the annotations" in capsys.readouterr().err
    assert got == expected and expected[0]["n_gold"] == 20


def test_a_jury_member_in_nfd_is_aligned_with_an_nfc_member(capsys):
    from judgebench.stats.jury import align

    words = ["café", "naïve", "plain"]

    def member(texts, prefs):
        return pd.DataFrame(
            {"instruction": texts, "generator_1": "base", "generator_2": "m", "preference": prefs}
        )

    nfd = [unicodedata.normalize("NFD", w) for w in words]
    wide, notes = align({"a": member(words, [1.0, 2.0, 1.5]), "b": member(nfd, [2.0, 2.0, 1.0])})
    assert len(wide) == 3 and wide["b"].tolist() == [2.0, 2.0, 1.0]
    assert "2 instructions of jury member 'b'" in capsys.readouterr().err
