"""WildBench's judges: prompts read from a (fake) checkout, replies parsed as WildBench's eval code parses
them, and the suite's numbers from the same code as WildBench's own judgment files.

The synthetic official files (tests/wildbench_synthetic.py) give every verdict; a stand-in judge answers
each prompt with the verdict those files hold for that task and answer, so the records judgebench makes
must score exactly as `leaderboard --benchmark wildbench` scores the files, whose numbers are checked
against WildBench's own _create_tables.py in test_wildbench_official.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from openai_standin import OpenAIStandIn, answer
from wildbench_synthetic import MODELS, REFERENCE, eval_set, write_files

from judgebench.backends.base import CompletionResponse
from judgebench.benchmarks.base import OfficialRequest, Results
from judgebench.benchmarks.wildbench import BENCHMARK, leaderboard, statistic
from judgebench.errors import InputError
from judgebench.judges import load_judge
from judgebench.judges.parsers import PARSERS
from judgebench.judges.protocols import protocol_of

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "wildbench_official.json").read_text())
EMPTY = "[This model response is empty.]"

# templates written for the test, with the official templates' placeholders
PAIR_TEMPLATE = "H<{$history}>\nQ<{$user_query}>\nA<{$candidate_A}>\nB<{$candidate_B}>\nC<{$checklist}>\n"
SCORE_TEMPLATE = "H<{$history}>\nQ<{$user_query}>\nR<{$model_output}>\nC<{$checklist}>\n"


@pytest.fixture
def checkout(tmp_path, monkeypatch):
    folder = tmp_path / "WildBench" / "evaluation"
    folder.mkdir(parents=True)
    (folder / "eval_template.pairwise.v2.md").write_text(PAIR_TEMPLATE)
    (folder / "eval_template.score.v2.md").write_text(SCORE_TEMPLATE)
    monkeypatch.setenv("JUDGEBENCH_WILDBENCH_DIR", str(folder.parent))
    return folder.parent


def _parse(name: str, text: str):
    return PARSERS.pick(name, where="test")(CompletionResponse(text))


def test_choices_and_scores_parse_as_wildbench_reads_them():
    assert _parse("wildbench_choice", '{"analysis of A": "x", "choice": "B++"}') == (5.0, None)
    assert _parse("wildbench_choice", '{"choice": "A+"}')[0] == 2.0
    # not JSON (a trailing comma, as the template's own example has): the quoted value is read
    assert _parse("wildbench_choice", '```\n{"reason": "a", "choice": "A=B",\n}\n```')[0] == 3.0
    assert _parse("wildbench_score", '{"strengths": "s", "score": "7"}') == (7.0, None)
    assert _parse("wildbench_score", '{"score": 4}')[0] == 4.0
    for name, text in [
        ("wildbench_choice", '{"choice": "A>B"}'),  # not one of the five: a failure, never a tie
        ("wildbench_choice", "A is better"),
        ("wildbench_score", '{"score": "high"}'),
        ("wildbench_score", "Score: 7"),
    ]:
        verdict, reason = _parse(name, text)
        assert verdict is None and reason


def test_without_a_checkout_one_line_says_where_to_get_it(monkeypatch):
    monkeypatch.delenv("JUDGEBENCH_WILDBENCH_DIR", raising=False)
    with pytest.raises(InputError, match="github.com/allenai/WildBench"):
        load_judge("wildbench")


def test_the_prompt_is_filled_as_eval_py_fills_it(tmp_path, checkout):
    eval_set, _, _ = write_files(tmp_path / "data" / "wildbench", seed=0)
    eval_set.rename(eval_set.with_name("test.jsonl"))
    task = BENCHMARK.load(tmp_path / "data").iloc[5]  # a session with earlier turns
    spec = load_judge("wildbench-score")
    (message,) = spec.render(
        instruction=task["instruction"],
        history=task["history"],
        checklist=task["checklist"],
        model_output="ANS",
    )
    assert message["content"] == (
        "H<USER: start 5\n\nASSISTANT: ok\n\n>\nQ<task 5>\nR<ANS>\n"
        "C<- check 5.0\n- check 5.1\n- check 5.2\n>\n"
    )
    pair = load_judge("wildbench").render(instruction="q", candidate_A=" ", candidate_B="b")
    assert "A<[This model response is empty.]>" in pair[0]["content"]


def _official(folder: Path) -> dict:
    """(session, model) -> the official item, for the stand-in judge."""
    out = {}
    for path in folder.glob("*.json"):
        for item in json.loads(path.read_text()):
            out[(item["session_id"], path.stem)] = item
    return out


def _standin_reply(prompt: str, official: dict, pairwise: bool, model: str) -> str:
    """The official file's verdict on the task and answers shown, as a WildBench judge writes it (the
    model is named because empty answers read the same for every model)."""
    number = int(re.search(r"Q<task (\d+)>", prompt).group(1))
    session = f"s{number:03d}"
    if not pairwise:
        item = official[(session, model)]
        assert re.search(r"R<(.*?)>\nC<", prompt, re.DOTALL).group(1) == item["model_output"]
        return json.dumps({"strengths": "-", "score": str(item["score"])})
    a = re.search(r"A<(.*?)>\nB<", prompt, re.DOTALL).group(1)
    item = official[(session, model)]
    shown_a = model if item["model_outputs"][model] == a else REFERENCE
    if item["winner"] == "tie":
        return json.dumps({"reason": "-", "choice": "A=B"})
    return json.dumps({"choice": ("A" if item["winner"] == shown_a else "B") + "+" * item["extent"]})


def _raw(shown: str) -> str:
    """The answer a model gave, for an answer as WildBench's files show it: the empty marker was blank."""
    return "" if shown == EMPTY else shown


def _records(tmp_path: Path, name: str) -> tuple[dict, Path, Path]:
    """The synthetic tasks judged by the WildBench judge `name` through its protocol and parser."""
    from judgebench.annotation.pairs import pairs_from_records, with_task_fields

    eval_set, pairwise_dir, score_dir = write_files(tmp_path / "files", seed=0)
    data_root = tmp_path / "data"
    (data_root / "wildbench").mkdir(parents=True)
    (data_root / "wildbench" / "test.jsonl").write_text(eval_set.read_text())
    tasks = BENCHMARK.load(data_root)
    spec = load_judge(name)
    protocol = protocol_of(spec)
    official = _official(pairwise_dir if protocol.pairwise else score_dir)
    by_session = tasks.set_index("session_id")
    records = {}
    for model in MODELS:
        cand, base = [], {}
        for (session, m), item in official.items():
            if m != model:
                continue
            q = by_session.loc[session, "instruction"]
            if protocol.pairwise:
                cand.append(
                    {"instruction": q, "output": _raw(item["model_outputs"][model]), "generator": model}
                )
                base[q] = {
                    "instruction": q,
                    "output": _raw(item["model_outputs"][REFERENCE]),
                    "generator": REFERENCE,
                }
            else:
                cand.append({"instruction": q, "output": item["model_output"], "generator": model})
        pairs = pairs_from_records(with_task_fields(cand, tasks), base or None, multi_turn=False)
        records[model] = []
        for pair in pairs:
            verdicts = {}
            for call in protocol.calls(spec, pair):
                reply = _standin_reply(call.messages[-1]["content"], official, protocol.pairwise, model)
                verdicts[call.slot] = PARSERS.pick(spec.parser, where="test")(CompletionResponse(reply))[0]
            records[model].append(
                {
                    "instruction": pair.instruction,
                    "output_1": pair.baseline,
                    "generator_1": pair.generator_1,
                    "output_2": pair.candidate,
                    "generator_2": pair.generator_2,
                    **protocol.combine(pair, verdicts),
                }
            )
    return records, eval_set, pairwise_dir if protocol.pairwise else score_dir


def _results(records, spec, k=None) -> Results:
    return Results(records, spec, None, 0, lambda m: {}, length_penalty=k)


@pytest.mark.parametrize("k", [-1, 0, 300, 500])
def test_wb_reward_from_the_judge_equals_the_official_script(tmp_path, checkout, k):
    """The suite's statistic on the replayed verdicts against WildBench's _create_tables.py's own output
    on the same verdicts (the fixture), with and without the length penalty K."""
    records, eval_set, folder = _records(tmp_path, "wildbench")
    scores = statistic(_results(records, load_judge("wildbench"), None if k == -1 else k))
    official = FIXTURE["tables"][f"pairwise-haiku-K={k}"]
    board = leaderboard(OfficialRequest(judgments=folder, eval_set=eval_set, mode="reward", length_penalty=k))
    for model in MODELS:
        assert scores.rows[model]["wb_reward"] == pytest.approx(100 * official[model]["reward"], abs=1e-9)
        assert scores.details[model]["task_macro_reward"] == pytest.approx(
            100 * official[model]["task_macro_reward"], abs=1e-9
        )
        assert scores.rows[model]["wb_reward"] == pytest.approx(board.loc[model, "reward"], abs=1e-9)
        assert scores.details[model]["length_penalty"] == k
    # blank answers (the files' empty marker) got WildBench's verdict without a call, and are counted
    blank = sum(
        "" in map(_raw, it["model_outputs"].values())
        for it in json.loads((folder / "alpha-7b.json").read_text())
    )
    assert blank and scores.rows["alpha-7b"]["n_blank"] == blank
    if k != -1:
        return
    # by hand for one model, K = -1: +100 / +50 / 0 / -50 / -100 per verdict over every item, skipping none
    # of the items whose answers are truncated or empty (they count in the denominator only)
    items = json.loads((folder / "alpha-7b.json").read_text())
    points = {("alpha-7b", 2): 100, ("alpha-7b", 1): 50, (REFERENCE, 1): -50, (REFERENCE, 2): -100}
    total = 0
    for it in items:
        outs = list(it["model_outputs"].values())
        if any(o.endswith("... (truncated)") or o == "[This model response is empty.]" for o in outs):
            continue
        total += 0 if it["winner"] == "tie" else points[(it["winner"], it["extent"])]
    assert scores.rows["alpha-7b"]["wb_reward"] == pytest.approx(total / len(items))


def test_wb_score_from_the_judge_equals_the_official_script(tmp_path, checkout):
    records, eval_set, folder = _records(tmp_path, "wildbench-score")
    scores = statistic(_results(records, load_judge("wildbench-score")))
    official = FIXTURE["tables"]["score"]
    board = leaderboard(OfficialRequest(judgments=folder, eval_set=eval_set, mode="score"))
    for model in MODELS:
        assert scores.rows[model]["wb_score"] == pytest.approx(
            10 * official[model]["adjusted_score"], abs=1e-9
        )
        assert scores.details[model]["task_macro_score"] == pytest.approx(
            10 * official[model]["adjusted_task_macro_score"], abs=1e-9
        )
        assert scores.rows[model]["wb_score"] == pytest.approx(board.loc[model, "WB_score"], abs=1e-9)
        by_hand = [float(it["score"]) for it in json.loads((folder / f"{model}.json").read_text())]
        assert scores.rows[model]["wb_score"] == pytest.approx((sum(by_hand) / len(by_hand) - 5) * 20)


def test_a_failed_judgment_is_left_out_never_a_tie(tmp_path, checkout):
    from judgebench.annotation.pairs import pairs_from_records

    records, _, _ = _records(tmp_path, "wildbench")
    spec = load_judge("wildbench")
    before = statistic(_results(records, spec)).rows["beta-chat"]
    i, won = next(
        (i, r) for i, r in enumerate(records["beta-chat"]) if r["winner"] == "candidate" and r["extent"] == 1
    )
    (pair,) = pairs_from_records(
        [{**won, "output": won["output_2"], "generator": "beta-chat"}],
        {won["instruction"]: {"output": won["output_1"], "generator": REFERENCE}},
        multi_turn=False,
    )
    (call,) = protocol_of(spec).calls(spec, pair)
    failed = protocol_of(spec).combine(pair, {call.slot: None})  # the reply did not parse
    assert failed["preference"] is None and failed["winner"] is None
    records["beta-chat"][i] = {**won, **failed}
    after = statistic(_results(records, spec)).rows["beta-chat"]
    n = len(records["beta-chat"])
    assert after["n_failed"] == 1 and before["n_failed"] == 0
    # the item leaves both the sum and the denominator (a tie would keep it in the denominator)
    longer = "... (truncated)" in won["output_2"] or "... (truncated)" in won["output_1"]
    assert not longer
    assert after["wb_reward"] == pytest.approx((before["wb_reward"] * n - 50) / (n - 1))


class ScoringJudge(OpenAIStandIn):
    """A loopback stand-in WildBench judge: the score an answer asks for ("SCORE=k"), as WildBench's
    JSON; "SCORE=?" gets a reply without a score (a failed judgment). Pairwise: a "GOOD" answer is much
    better than the reference's, a "BAD" one worse, in whichever place it is shown."""

    def _answer(self, body: dict) -> dict:
        out = answer(body)
        prompt = body["messages"][-1]["content"]
        if "R<" in prompt:
            asked = re.search(r"SCORE=([^>]+)>", prompt).group(1)
            reply = json.dumps({"strengths": "-", "score": asked}) if asked != "?" else "It is fine."
        else:
            a = re.search(r"A<(.*?)>\nB<", prompt, re.DOTALL).group(1)
            b = re.search(r"B<(.*?)>\nC<", prompt, re.DOTALL).group(1)
            marks = {("GOOD", a): "A++", ("GOOD", b): "B++", ("BAD", a): "B+", ("BAD", b): "A+"}
            reply = json.dumps({"choice": next(c for (m, text), c in marks.items() if m in text)})
        out["choices"][0]["message"]["content"] = reply
        return out


def test_suite_shows_wb_score_and_wb_reward(tmp_path, checkout, monkeypatch, capsys):
    from judgebench.cli import main

    tasks = eval_set(seed=1)[:6]
    for t in tasks:  # the reference model's answers, carried in the local eval set file
        t.update(output=f"reference answer to {t['session_id']}", generator="ref-model")
    (tmp_path / "data" / "wildbench").mkdir(parents=True)
    (tmp_path / "data" / "wildbench" / "test.jsonl").write_text("".join(json.dumps(t) + "\n" for t in tasks))
    monkeypatch.setenv("JUDGEBENCH_DATA", str(tmp_path / "data"))
    scores = {"a": ["9", "8", "7", "6", "?", "10"], "b": ["3", "4", "5", "5", "2", "1"]}
    models = []
    for name, asked in scores.items():
        rows = [
            {
                "instruction": t["conversation_input"][-1]["content"],
                "output": f"{'GOOD' if name == 'a' else 'BAD'} answer by {name} SCORE={k}",
                "generator": name,
            }
            for t, k in zip(tasks, asked, strict=True)
        ]
        (tmp_path / f"{name}.json").write_text(json.dumps(rows))
        models.append(f"{name}={tmp_path / f'{name}.json'}")
    with ScoringJudge({"gpt-4o-2024-05-13": (5.0, 15.0)}) as judge:
        common = [
            "suite",
            "--models",
            *models,
            "--benchmarks",
            "wildbench",
            "--judge-base-url",
            judge.base_url,
        ]
        assert main([*common, "--out", str(tmp_path / "score"), "--no-progress"]) == 0, (
            capsys.readouterr().err
        )
        argv = [*common, "--judge", "wildbench=wildbench", "--out", str(tmp_path / "reward"), "--no-progress"]
        assert main(argv) == 0, capsys.readouterr().err
    import pandas as pd

    graded = pd.read_csv(tmp_path / "score" / "table.csv", index_col="model")
    # by hand: a's five scores (the unparsed reply left out) 9 8 7 6 10 -> mean 8 -> (8 - 5) * 20 = 60;
    # b: 3 4 5 5 2 1 -> mean 10/3 -> (10/3 - 5) * 20 = -33.33
    assert graded.loc["a", "wildbench.wb_score"] == pytest.approx(60.0)
    assert graded.loc["b", "wildbench.wb_score"] == pytest.approx(-100 / 3)
    # the unparsed reply is counted as failed, never scored
    assert graded.loc["a", "wildbench.n_failed"] == 1 and graded.loc["b", "wildbench.n_failed"] == 0
    paired = pd.read_csv(tmp_path / "reward" / "table.csv", index_col="model")
    # by hand: a's answers always much better (+100), b's always worse (-50), shown first or second
    assert paired.loc["a", "wildbench.wb_reward"] == pytest.approx(100.0)
    assert paired.loc["b", "wildbench.wb_reward"] == pytest.approx(-50.0)


@pytest.mark.official_copy
def test_the_official_templates_render_from_a_real_checkout():
    import os

    real = os.environ.get("JUDGEBENCH_WILDBENCH_DIR")
    if not real or not (Path(real) / "evaluation" / "eval_template.pairwise.v2.md").is_file():
        pytest.skip("set JUDGEBENCH_WILDBENCH_DIR to a checkout of allenai/WildBench")
    common = {"instruction": "QUERY-X", "history": "USER: hi\n\n", "checklist": ["CHECK-1"]}
    pair = load_judge("wildbench").render(candidate_A="ANS-A", candidate_B="ANS-B", **common)[0]["content"]
    single = load_judge("wildbench-score").render(model_output="ANS-M", **common)[0]["content"]
    for text in (pair, single):
        assert "{$" not in text and "QUERY-X" in text and "- CHECK-1\n" in text and "USER: hi" in text
    assert pair.index("ANS-A") < pair.index("ANS-B") and "ANS-M" in single


def _pair(candidate: str, references: dict[str, str] | None = None, baseline: str = "ref answer"):
    from judgebench.judges.protocols import Pair

    meta = {"session_id": "s1", "groups": ["Creative Tasks"]}
    if references is not None:
        meta["references"] = references
    return Pair("q", baseline, candidate, "ref-model", "cand", meta=meta)


def test_blank_answers_get_wildbenchs_verdict_without_a_call(checkout):
    """src/eval.py: a blank answer loses much (B++ / A++), both blank tie, a blank graded answer gets 1."""
    pair_spec, score_spec = load_judge("wildbench"), load_judge("wildbench-score")
    pairwise, graded = protocol_of(pair_spec), protocol_of(score_spec)
    for cand, ref, winner, extent in [
        ("  \n", "ref answer", "baseline", 2),
        ("an answer", "", "candidate", 2),
        ("", " ", "tie", 0),
    ]:
        pair = _pair(cand, baseline=ref)
        assert pairwise.calls(pair_spec, pair) == []
        got = pairwise.combine(pair, {})
        assert (got["winner"], got["extent"]) == (winner, extent)
        assert got["wildbench"]["ref-model"]["rule"] and got["preference"] is not None
    blank = _pair("")
    assert graded.calls(score_spec, blank) == []
    assert graded.combine(blank, {})["score"] == 1.0
    assert len(graded.calls(score_spec, _pair("text"))) == 1


def test_wb_reward_against_three_references_is_their_mean(checkout):
    """One call per reference model; the table's WB-Reward is the mean of the three rewards
    (_merge_results.py's mixture), each computed as _create_tables.py computes it. By hand: task s1 wins
    much against r1 (+1), loses against r2 (-0.5), ties r3 (0); task s2 wins against r1 (+0.5), its reply
    against r2 fails (left out of r2's items), its r3 answer is blank (B++ for the candidate by rule, but
    an empty answer counts in the denominator only): r1 (1 + 0.5) / 2, r2 -0.5 / 1, r3 0 / 2."""
    spec = load_judge("wildbench")
    protocol = protocol_of(spec)
    refs = ("r1", "r2", "r3")
    verdicts = {"s1": {"r1": 5, "r2": 2, "r3": 3}, "s2": {"r1": 4, "r2": None, "r3": None}}
    records = []
    for sid, wanted in verdicts.items():
        answers = {r: f"{r} on {sid}" for r in refs}
        if sid == "s2":
            answers["r3"] = ""
        pair = _pair(f"cand on {sid}", answers)
        pair.meta["session_id"] = sid
        calls = protocol.calls(spec, pair)
        assert sorted(c.slot.split("|")[0] for c in calls) == sorted(r for r in refs if answers[r])
        got = {}
        for c in calls:  # the level as shown: the candidate's level when it is B, mirrored when it is A
            level = wanted[c.slot.split("|")[0]]
            got[c.slot] = None if level is None else level if c.slot.endswith("candidate_B") else 6 - level
        records.append({"instruction": sid, "output_2": pair.candidate, **protocol.combine(pair, got)})
    assert records[1]["preference"] is None  # a failed call against one reference: no preference
    scores = statistic(_results({"cand": records}, spec))
    assert scores.details["cand"]["reward_by_reference"] == pytest.approx(
        {"r1": 75.0, "r2": -50.0, "r3": 0.0}
    )
    assert scores.rows["cand"]["wb_reward"] == pytest.approx((75.0 - 50.0 + 0.0) / 3)
    assert scores.rows["cand"]["n_failed"] == 1 and scores.rows["cand"]["n_blank"] == 1
    assert scores.details["cand"]["failed_by_reference"] == {"r1": 0, "r2": 1, "r3": 0}


def test_reference_answers_load_from_the_data_folder_and_a_missing_one_is_one_line(
    tmp_path, capsys, monkeypatch, checkout
):
    from judgebench.cli import main

    tasks = eval_set(seed=2)[:4]
    root = tmp_path / "data" / "wildbench"
    (root / "references").mkdir(parents=True)
    (root / "test.jsonl").write_text("".join(json.dumps(t) + "\n" for t in tasks))
    for ref in ("claude-3-haiku-20240307", "Llama-2-70b-chat-hf"):  # the hub keeps each answer as [text]
        rows = [
            {"session_id": t["session_id"], "output": [f"{ref} {t['session_id']}"], "generator": ref}
            for t in tasks
        ]
        (root / "references" / f"{ref}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    frame = BENCHMARK.load(tmp_path / "data")
    assert frame["references"].iloc[1] == {
        "Llama-2-70b-chat-hf": f"Llama-2-70b-chat-hf {tasks[1]['session_id']}",
        "claude-3-haiku-20240307": f"claude-3-haiku-20240307 {tasks[1]['session_id']}",
    }
    rows = rows[:2] + rows[3:]  # Llama's answer to the third task is missing
    (root / "references" / "Llama-2-70b-chat-hf.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in rows)
    )
    outputs = tmp_path / "a.json"
    outputs.write_text(
        json.dumps(
            [
                {"instruction": t["conversation_input"][-1]["content"], "output": "x", "generator": "a"}
                for t in tasks
            ]
        )
    )
    monkeypatch.setenv("JUDGEBENCH_DATA", str(tmp_path / "data"))  # (--data would outlive the test)
    argv = [
        "evaluate",
        "--eval-set",
        "wildbench",
        "--outputs",
        str(outputs),
    ]
    assert main([*argv, "--judge", "wildbench", "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert (
        "Llama-2-70b-chat-hf.jsonl" in err
        and tasks[2]["session_id"] in err
        and "WildBench-V2-Model-Outputs" in err
    )


def test_suite_against_three_references_with_k_and_evaluate_prints_wb(
    tmp_path, checkout, monkeypatch, capsys
):
    """The suite judges each answer against every reference model's answer (DATA/wildbench/references/),
    applies --length-penalty, and `evaluate` prints the same WB-Reward. By hand: the stand-in judge
    finds b's answers slightly worse than every reference's (-50 each), except where K turns the
    reference's win into a tie (its answer more than K characters longer than b's), and a blank answer
    of b is judged by WildBench's rule without a call (counted, in the denominator only)."""
    from judgebench.cli import main

    tasks = eval_set(seed=3)[:5]
    root = tmp_path / "data" / "wildbench"
    (root / "references").mkdir(parents=True)
    (root / "test.jsonl").write_text("".join(json.dumps(t) + "\n" for t in tasks))
    refs = {"r-short": 10, "r-mid": 30, "r-long": 60}  # the reference answers' lengths
    for ref, size in refs.items():
        rows = [{"session_id": t["session_id"], "output": "y" * size, "generator": ref} for t in tasks]
        (root / "references" / f"{ref}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    monkeypatch.setenv("JUDGEBENCH_DATA", str(tmp_path / "data"))
    b_answers = [
        "BAD " + "z" * 16,
        "BAD " + "z" * 36,
        "",
        "BAD " + "z" * 6,
        "BAD " + "z" * 46,
    ]  # 20, 40, -, 10, 50
    rows = [
        {"instruction": t["conversation_input"][-1]["content"], "output": o, "generator": "b"}
        for t, o in zip(tasks, b_answers, strict=True)
    ]
    (tmp_path / "b.json").write_text(json.dumps(rows))
    k = 15
    expected = {}
    for ref, size in refs.items():
        points = [0.0 if size > len(o) + k else -50.0 for o in b_answers if o]  # K: a tie instead of -50
        expected[ref] = sum(points) / len(b_answers)  # the blank answer: in the denominator only
    # the dry run counts the calls the run makes: one per reference and answer, none for the blank one
    plan = ["suite", "--models", f"b={tmp_path / 'b.json'}", "--benchmarks", "wildbench", "--judge"]
    assert main([*plan, "wildbench=wildbench", "--dry-run", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["per_benchmark"]["wildbench"]["calls"] == 3 * 4
    with ScoringJudge({"gpt-4o-2024-05-13": (5.0, 15.0)}) as judge:
        argv = ["suite", "--models", f"b={tmp_path / 'b.json'}", "--benchmarks", "wildbench", "--judge"]
        argv += ["wildbench=wildbench", "--judge-base-url", judge.base_url, "--length-penalty", str(k)]
        assert main([*argv, "--out", str(tmp_path / "suite"), "--no-progress"]) == 0, capsys.readouterr().err
        capsys.readouterr()
        argv = ["evaluate", "--eval-set", "wildbench", "--outputs", str(tmp_path / "b.json"), "--judge"]
        argv += [
            "wildbench",
            "--judge-base-url",
            judge.base_url,
            "--out",
            str(tmp_path / "run"),
            "--no-progress",
        ]
        assert main(argv) == 0, capsys.readouterr().err
        printed = capsys.readouterr().out
    suite = json.loads((tmp_path / "suite" / "suite.json").read_text())["details"]["wildbench"]["b"]
    assert suite["reward_by_reference"] == pytest.approx(expected)
    assert suite["n_blank"] == 1 and suite["n_failed"] == 0 and suite["length_penalty"] == k
    import pandas as pd

    table = pd.read_csv(tmp_path / "suite" / "table.csv", index_col="model")
    assert table.loc["b", "wildbench.wb_reward"] == pytest.approx(sum(expected.values()) / 3)
    # evaluate: WildBench's default K (-1, no penalty): -50 against every reference on the 4 answers
    assert (
        f"WildBench: WB-Reward {-50 * 4 / 5:.2f}" in printed and "1 blank answers judged by rule" in printed
    )


@pytest.mark.parametrize("where", [None, "nowhere", "empty"])
def test_suite_without_a_checkout_is_one_line(tmp_path, monkeypatch, capsys, where):
    from judgebench.cli import main

    monkeypatch.delenv("JUDGEBENCH_WILDBENCH_DIR", raising=False)
    if where == "nowhere":
        monkeypatch.setenv("JUDGEBENCH_WILDBENCH_DIR", str(tmp_path / "nowhere"))
    elif where == "empty":  # a folder that is not a WildBench checkout
        monkeypatch.setenv("JUDGEBENCH_WILDBENCH_DIR", str(tmp_path))
    (tmp_path / "a.json").write_text("[]")
    argv = ["suite", "--models", f"a={tmp_path / 'a.json'}", "--benchmarks", "wildbench"]
    assert main([*argv, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert "JUDGEBENCH_WILDBENCH_DIR" in err and "github.com/allenai/WildBench" in err
    assert not (tmp_path / "out").exists()  # refused before anything is written or called
