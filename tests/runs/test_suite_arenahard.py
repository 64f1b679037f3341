"""The suite's Arena-Hard column is `leaderboard --benchmark arena-hard` on the same judgments, and so the
official result script's numbers: the synthetic official files of tests/arenahard_synthetic.py become
the records the suite's runs write (each pair's two verdicts through the arenahard protocol's combine),
the suite scores them, and both are checked against the command and against the stored outputs of
arena-hard-auto's show_result.py (tests/benchmarks/fixtures/arenahard_official_seed0.json)."""

from __future__ import annotations

import json
import sys
import types
from dataclasses import replace
from pathlib import Path

import pytest
from arenahard_synthetic import LAYOUTS, leaderboard_board, write_files

from judgebench.judges import load_judge
from judgebench.judges.protocols import PROTOCOLS, Pair
from judgebench.runs.models import ModelSpec
from judgebench.runs.suite import resolve_protocols, score_suite

FIXTURE = json.loads(
    (Path(__file__).parents[1] / "benchmarks" / "fixtures" / "arenahard_official_seed0.json").read_text()
)
BENCH = "arena-hard-v0.1"
# a label of the official files -> the level 1..5 a judge's parser reads in the order shown (by hand)
LEVELS = {"A>>B": 1, "A>B": 2, "B<A": 2, "A=B": 3, "B=A": 3, "B>A": 4, "A<B": 4, "B>>A": 5}


def _text(meta: dict, model: str, q: str) -> str:
    """An answer whose markdown add_markdown_info.py counts as `meta` says (one line per element)."""
    lines = ["# h"] * sum(meta["header_count"].values())
    lines += ["- x"] * sum(meta["list_count"].values())
    lines += ["**b**"] * sum(meta["bold_count"].values())
    return "\n".join([*lines, f"answer of {model} to {q}"])


def _stand_in_tiktoken(monkeypatch, lengths: dict[str, int]) -> None:
    """Stands in for tiktoken, whose encoding files cannot be downloaded here: each answer encodes to
    as many tokens as its official metadata says (the fixture's inputs)."""

    class Encoding:
        def encode(self, text, disallowed_special=()):
            return [0] * lengths[text]

    fake = types.ModuleType("tiktoken")
    fake.encoding_for_model = lambda model: Encoding()
    monkeypatch.setitem(sys.modules, "tiktoken", fake)


def _suite_records(tmp_path: Path, layout: str, monkeypatch) -> tuple[Path, Path, Path, list[str]]:
    """The synthetic official files, and the same judgments as the suite's runs write them."""
    judgments, answers = write_files(tmp_path / "official", layout, seed=0)
    baseline = LAYOUTS[layout][1]
    texts, lengths = {}, {}
    for path in sorted(answers.glob("*.jsonl")):
        for line in path.read_text().splitlines():
            row = json.loads(line)
            model = row.get("model", row.get("model_id")).split("/")[-1]
            q = row.get("uid", row.get("question_id"))
            meta = row.get("metadata", row.get("conv_metadata"))
            texts[model, q] = _text(meta, model, q)
            lengths[texts[model, q]] = meta["token_len"]
    _stand_in_tiktoken(monkeypatch, lengths)
    protocol = PROTOCOLS["arenahard"]
    out = tmp_path / "suite"
    names = []
    for path in sorted(judgments.glob("*.jsonl")):
        records = []
        for line in path.read_text().splitlines():
            row = json.loads(line)
            model, q = row["model"].split("/")[-1], row.get("uid", row.get("question_id"))
            labels = [g["score"] for g in row["games"]]
            verdicts = {
                slot: None if label is None else float(LEVELS[label])
                for slot, label in zip(("baseline_first", "candidate_first"), labels, strict=True)
            }
            pair = Pair(q, texts[baseline, q], texts[model, q], baseline, model)
            records.append(
                {
                    "instruction": q,
                    "output_1": pair.baseline,
                    "generator_1": baseline,
                    "output_2": pair.candidate,
                    "generator_2": model,
                    **protocol.combine(pair, verdicts),
                    "raw_completion": {
                        slot: None if label is None else {"text": f"My final verdict is [[{label}]]."}
                        for slot, label in zip(("baseline_first", "candidate_first"), labels, strict=True)
                    },
                }
            )
        run = out / "runs" / model / BENCH
        run.mkdir(parents=True)
        (run / "annotations.json").write_text(json.dumps(records))
        names.append(model)
    return judgments, answers, out, names


@pytest.mark.parametrize(
    ("version", "tol"),
    [
        ("v2", 0.02),  # the fixture's style control: torch's float32 L-BFGS, replayed in numpy
        pytest.param("v0.1", 1e-4, marks=pytest.mark.slow),  # 200 sklearn fits: ~1 min
    ],
)
def test_the_suite_column_is_the_leaderboard_command_and_the_official_script(
    tmp_path, monkeypatch, version, tol
):
    judgments, answers, out, names = _suite_records(tmp_path, version, monkeypatch)
    # the judge the version's files come from: its parser keeps the labels v0.1 does not know ("B<A")
    judge = replace(load_judge("judgebench-arena-pair"), parser=f"arena_verdict_{version.replace('.', '')}")
    protocols = resolve_protocols([BENCH], None if version == "v2" else [version])  # v2: the default
    assert protocols == {BENCH: version}
    result = score_suite(
        [ModelSpec(n) for n in names],
        [BENCH],
        {BENCH: judge},
        out,
        n_boot=100,
        protocols=protocols,
        reference="zeta",
    )
    table = result["table"]
    # against the reference: paired over questions on the battles the version keeps
    diff = table[f"{BENCH}.diff"]
    assert diff["epsilon"] > 0 > diff["alpha-7b"]
    eps = next(c for c in result["comparisons"] if c["model"] == "epsilon")
    assert eps["ci_low"] > 0 and eps["p_holm"] is not None  # 100 resamples: p >= 0.01, Holm x 5
    for style, (score, low, high) in (
        (False, ("score", "ci_low", "ci_high")),
        (True, ("style_controlled", "sc_ci_low", "sc_ci_high")),
    ):
        board = leaderboard_board(
            tmp_path / f"board-{version}-{style}.csv", judgments, answers, version, style
        )
        board.index = board.index.str.split("/").str[-1]  # v0.1 shows org/delta-chat in full
        official = FIXTURE["results"][version + (" style-control" if style else "")]
        for name in names:
            got = table.loc[name, [f"{BENCH}.{c}" for c in (score, low, high)]].to_numpy(float)
            # the command's CSV keeps 4 decimals: the same code on the same judgments, to its rounding
            assert got == pytest.approx(
                board.loc[name, ["score", "lower", "upper"]].to_numpy(float), abs=6e-5
            )
            want = next(v for m, v in official.items() if m.split("/")[-1] == name)
            assert got == pytest.approx(want, abs=tol), (name, style)
            assert table.loc[name, f"{BENCH}.failed_games"] == board.loc[name, "failed_games"]
    assert result["details"][BENCH][names[0]]["protocol"] == version


def test_an_unknown_protocol_is_refused_before_any_run():
    from judgebench.errors import InputError

    with pytest.raises(InputError, match="has no version 'v3'"):
        resolve_protocols([BENCH, "alpaca_eval"], ["arena-hard=v3"])
    with pytest.raises(InputError, match="no benchmark run has the version 'v9'"):
        resolve_protocols([BENCH], ["v9"])
    assert resolve_protocols(["arena-hard", "alpaca_eval"], ["arena-hard=v0.1"]) == {
        "arena-hard": "v0.1",
        "alpaca_eval": None,
    }
