"""`--judge fastchat:single|pair`: FastChat's judge prompts read at run time from the user's copy, never
shipped; the renamed judgebench judges point to their new names; `import-annotations --benchmark mt-bench`
stores FastChat's judgments under the keys those judges compute, so a run finds them cached."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from judgebench.annotation.calls import judge_calls
from judgebench.cli import main
from judgebench.errors import InputError
from judgebench.judges.loader import load_judge
from judgebench.judges.protocols import Pair
from judgebench.store import Store

FIXTURES = Path(__file__).parents[1] / "benchmarks" / "fixtures" / "mtbench"
# Our own placeholders under FastChat's prompt names and fields (the ones the fixture's generator used).
PLACEHOLDERS = {
    "single-v1": ("{question}|{answer}", "[[rating]]"),
    "single-v1-multi-turn": ("{question_2}|{answer_2}", "[[rating]]"),
    "single-math-v1": ("REF {ref_answer_1} {question}|{answer}", "[[rating]]"),
    "single-math-v1-multi-turn": ("REF {ref_answer_2} {question_2}|{answer_1}|{answer_2}", "[[rating]]"),
    "pair-v2": ("{question}|{answer_a}|{answer_b}", "[[A]]"),
    "pair-v2-multi-turn": ("{question_2}|{answer_a_2}|{answer_b_2}", "[[A]]"),
    "pair-math-v1": ("REF {ref_answer_1} {question}|{answer_a}|{answer_b}", "[[A]]"),
    "pair-math-v1-multi-turn": ("REF {ref_answer_2} {question_2}|{answer_a_2}|{answer_b_2}", "[[A]]"),
}


@pytest.fixture
def placeholder_prompts(tmp_path, monkeypatch):
    path = tmp_path / "judge_prompts.jsonl"
    path.write_text(
        "".join(
            json.dumps({"name": n, "system_prompt": "placeholder", "prompt_template": t, "output_format": f})
            + "\n"
            for n, (t, f) in PLACEHOLDERS.items()
        )
    )
    monkeypatch.setenv("JUDGEBENCH_FASTCHAT_DIR", str(path))
    return path


def _conversation(question: int, model: str) -> tuple[list[str], list[str]]:
    """The fixture generator's question and answer texts."""
    return [f"question {question} turn 1", f"question {question} turn 2"], [
        f"{model} on {question}.{t}" for t in (1, 2)
    ]


def test_without_a_copy_one_line_says_where_to_get_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("JUDGEBENCH_FASTCHAT_DIR", str(tmp_path))
    with pytest.raises(InputError, match="github.com/lm-sys/FastChat"):
        load_judge("fastchat:single")
    assert main(["judges", "show", "fastchat:pair"]) == 2
    err = capsys.readouterr().err
    assert "JUDGEBENCH_FASTCHAT_DIR" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("old", "new"), [("mtbench-single", "judgebench-mt-single"), ("mtbench-pair", "judgebench-mt-pair")]
)
def test_the_old_names_say_the_new_one(old, new, capsys):
    assert main(["judges", "show", old]) == 2
    err = capsys.readouterr().err
    assert f"is now {new!r}" in err and "fastchat:" in err and len(err.strip().splitlines()) == 1
    assert load_judge(new).protocol == old  # the protocol keeps MT-Bench's name: it is MT-Bench's protocol


def test_fastchat_judges_render_fastchats_prompt_for_each_turn(placeholder_prompts):
    single, pair = load_judge("fastchat:single"), load_judge("fastchat:pair")
    assert (single.protocol, single.parser, pair.protocol, pair.parser) == (
        "mtbench-single",
        "rating",
        "mtbench-pair",
        "pair_label",
    )
    turns = ["Q1 {not a field}", "Q2"]
    p = Pair("Q1", "b", "c", turns=turns, baseline_turns=["b1", "b2"], candidate_turns=["c1 {x}", "c2"])
    calls = judge_calls(single, p, "gpt-4")
    assert [c.messages for c in calls] == [
        [
            {"role": "system", "content": "placeholder"},
            {"role": "user", "content": "Q1 {not a field}|c1 {x}"},
        ],
        [{"role": "system", "content": "placeholder"}, {"role": "user", "content": "Q2|c2"}],
    ]
    p.reference = ["R1", "R2"]  # a question with reference answers gets the math prompts
    assert [c.messages[1]["content"] for c in judge_calls(pair, p, "gpt-4")] == [
        "REF R1 Q1 {not a field}|b1|c1 {x}",
        "REF R1 Q1 {not a field}|c1 {x}|b1",
        "REF R2 Q2|b2|c2",
        "REF R2 Q2|c2|b2",
    ]


def imported(tmp_path: Path, fixture: str, *flags: str) -> tuple[Path, list[dict]]:
    """`judgebench import-annotations` of an MT-Bench judgment fixture into a new store: (store, its rows)."""
    store = tmp_path / "s.sqlite"
    argv = ["import-annotations", "--benchmark", "mt-bench", "--judgments", str(FIXTURES / fixture), *flags]
    assert main([*argv, "--store", str(store)]) == 0
    return store, [json.loads(line) for line in (FIXTURES / fixture).read_text().splitlines()]


def test_imported_single_judgments_are_found_by_the_fastchat_judge(placeholder_prompts, tmp_path, capsys):
    store, rows = imported(tmp_path, "gpt-4_single.jsonl")
    failed = sum(r["score"] == -1 for r in rows)
    assert f"imported {len(rows) - failed} judge calls" in capsys.readouterr().out
    spec = load_judge("fastchat:single")
    with Store(store) as db:
        for model in ("claude-v1", "llama-13b"):
            for q in (81, 85, 91):
                turns, answers = _conversation(q, model)
                pair = Pair(turns[0], "", "", turns=turns, baseline_turns=["", ""], candidate_turns=answers)
                calls = judge_calls(spec, pair, "gpt-4")
                found = db.get_many([c.key for c in calls])
                for t, c in enumerate(calls, 1):
                    (row,) = [r for r in rows if (r["model"], r["question_id"], r["turn"]) == (model, q, t)]
                    if row["score"] == -1:
                        assert c.key not in found  # failed: a run asks again
                    else:
                        assert found[c.key].verdict == row["score"] and found[c.key].status == "ok"


def test_imported_pair_judgments_are_found_by_the_fastchat_judge(placeholder_prompts, tmp_path, capsys):
    store, rows = imported(tmp_path, "gpt-4_pair.jsonl", "--mode", "pairwise-baseline")
    spec = load_judge("fastchat:pair")
    shown = {"A": 1.0, "B": 2.0}
    checked = 0
    with Store(store) as db:
        for r in rows:
            if r["model_2"] != "gpt-3.5-turbo" or r["question_id"] > 84:
                continue
            turns, cand = _conversation(r["question_id"], r["model_1"])
            _, base = _conversation(r["question_id"], r["model_2"])
            pair = Pair(turns[0], "", "", turns=turns, baseline_turns=base, candidate_turns=cand)
            calls = {c.slot: c.key for c in judge_calls(spec, pair, "gpt-4")}
            found = db.get_many(list(calls.values()))
            t = r["turn"]
            for slot, winner, first in (
                ("candidate_first", r["g1_winner"], "model_1"),
                ("baseline_first", r["g2_winner"], "model_2"),
            ):
                key = calls[f"turn{t}:{slot}"]
                if winner == "error":
                    assert key not in found
                    continue
                want = 1.5 if winner == "tie" else shown["A" if winner == first else "B"]
                assert found[key].verdict == want
                checked += 1
    assert checked > 20


def test_an_edited_verdict_is_refused(placeholder_prompts, tmp_path, capsys):
    rows = [json.loads(line) for line in (FIXTURES / "gpt-4_single.jsonl").read_text().splitlines()]
    rows[5]["score"] = 9.5 if rows[5]["score"] != 9.5 else 3
    path = tmp_path / "gpt-4_single.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    store = tmp_path / "s.sqlite"
    assert (
        main(
            ["import-annotations", "--benchmark", "mt-bench", "--judgments", str(path), "--store", str(store)]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert "rows [5]" in err and len(err.strip().splitlines()) == 1


@pytest.mark.official_copy
def test_fastchats_own_template_renders(monkeypatch):
    """From a real FastChat checkout: each call is FastChat's system prompt and its template filled as
    gen_judgment fills it (str.format), the math prompts where there are reference answers."""
    found = os.environ.get("JUDGEBENCH_FASTCHAT_DIR")
    file = Path(found or "/nonexistent") / "fastchat" / "llm_judge" / "data" / "judge_prompts.jsonl"
    if not file.is_file():
        pytest.skip("no FastChat checkout: set JUDGEBENCH_FASTCHAT_DIR to one (github.com/lm-sys/FastChat)")
    official = {p["name"]: p for p in map(json.loads, file.read_text().splitlines()) if p}
    turns, cand, base = ["Q1", "Q2"], ["C1", "C2"], ["B1", "B2"]
    pair = Pair("Q1", "", "", turns=turns, baseline_turns=base, candidate_turns=cand)
    single = [c.messages for c in judge_calls(load_judge("fastchat:single"), pair, "gpt-4")]
    p1, p2 = official["single-v1"], official["single-v1-multi-turn"]
    assert single == [
        [
            {"role": "system", "content": p1["system_prompt"]},
            {"role": "user", "content": p1["prompt_template"].format(question="Q1", answer="C1")},
        ],
        [
            {"role": "system", "content": p2["system_prompt"]},
            {
                "role": "user",
                "content": p2["prompt_template"].format(
                    question_1="Q1", question_2="Q2", answer_1="C1", answer_2="C2"
                ),
            },
        ],
    ]
    pair.reference = ["R1", "R2"]
    calls = {c.slot: c.messages for c in judge_calls(load_judge("fastchat:pair"), pair, "gpt-4")}
    m = official["pair-math-v1-multi-turn"]
    want = m["prompt_template"].format(
        question_1="Q1",
        question_2="Q2",
        ref_answer_1="R1",
        ref_answer_2="R2",
        answer_a_1="C1",
        answer_b_1="B1",
        answer_a_2="C2",
        answer_b_2="B2",
    )
    assert calls["turn2:candidate_first"] == [
        {"role": "system", "content": m["system_prompt"]},
        {"role": "user", "content": want},
    ]


def test_the_judges_list_names_them_where_a_copy_is_found(placeholder_prompts, capsys):
    assert main(["judges"]) == 0
    out = capsys.readouterr().out
    assert "fastchat:single|pair" in out and str(placeholder_prompts) in out


def test_import_without_a_copy_is_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("JUDGEBENCH_FASTCHAT_DIR", str(tmp_path))
    argv = [
        "import-annotations",
        "--benchmark",
        "mt-bench",
        "--judgments",
        str(FIXTURES / "gpt-4_single.jsonl"),
    ]
    assert main([*argv, "--store", str(tmp_path / "s.sqlite")]) == 2
    err = capsys.readouterr().err
    assert "github.com/lm-sys/FastChat" in err and len(err.strip().splitlines()) == 1
