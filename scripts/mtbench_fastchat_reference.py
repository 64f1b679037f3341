#!/usr/bin/env python
"""Regenerate tests/benchmarks/fixtures/mtbench/ from a FastChat checkout: synthetic judgments written by
FastChat's own code, and what FastChat's show_result.py computes from them.

    python scripts/mtbench_fastchat_reference.py --fastchat PATH/TO/FastChat [--out tests/benchmarks/fixtures/mtbench]

The judge's replies are made up here (seeded; position bias, failed ratings and verdicts, ties, swaps that
disagree, ratings only the single-bracket fallback finds, several ratings in one reply); everything else
is FastChat's: fastchat/llm_judge/common.py's play_a_match_single / play_a_match_pair parse the replies and
write gpt-4_single.jsonl / gpt-4_pair.jsonl (the API call is replaced by the made-up reply), and
fastchat/llm_judge/show_result.py's display functions compute every mode's table (its printed DataFrames
are caught). Needs only pandas. The judge prompt passed to FastChat is a placeholder of ours, so the
fixture holds none of FastChat's prompt text.
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import json
import random
import subprocess
import sys
import types
from pathlib import Path

MODELS = {"gpt-3.5-turbo": 6.5, "vicuna-13b-v1.3": 6.0, "llama-13b": 2.5, "alpaca-13b": 4.5, "claude-v1": 7.5}
BASELINE = "gpt-3.5-turbo"
MODEL_LIST = ["vicuna-13b-v1.3", "claude-v1"]  # show_result.py --model-list (tables "MODE --model-list")
QUESTIONS = range(81, 93)  # 12 two-turn questions


def _stub_modules() -> None:
    """common.py imports the API clients and FastChat's conversation templates; none is called here."""

    class Conv:
        roles = ("USER", "ASSISTANT")

        def __init__(self):
            self.messages: list = []

        def set_system_message(self, text):
            self.system = text

        def append_message(self, role, text):
            self.messages.append([role, text])

    adapter = types.ModuleType("fastchat.model.model_adapter")
    adapter.get_conversation_template = lambda model: Conv()  # type: ignore[attr-defined]
    adapter.ANTHROPIC_MODEL_LIST = []  # type: ignore[attr-defined]
    adapter.OPENAI_MODEL_LIST = ["gpt-4"]  # type: ignore[attr-defined]
    for name in ("openai", "anthropic", "fastchat", "fastchat.model"):
        sys.modules.setdefault(name, types.ModuleType(name))
    sys.modules["fastchat.model.model_adapter"] = adapter


def _load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _rating_reply(rng: random.Random, quality: float) -> str:
    r = max(1, min(10, round(quality + rng.gauss(0, 1.5))))
    kind = rng.random()
    if kind < 0.08:
        return "The answer is off topic; I cannot rate it."  # no rating: FastChat records -1
    if kind < 0.16:
        return f"Rating: [{r}]"  # only the single-bracket fallback finds it
    if kind < 0.24:
        return f"First impression [[{r}]], on reflection [[{max(1, r - 2)}]]."  # the first one counts
    if kind < 0.30:
        return f"See [2]. Overall a fair answer. Rating: [[{r}.5]]" if r < 10 else "Rating: [[10]]"
    return f"The assistant's answer is adequate.\n\nRating: [[{r}]]"


def _verdict_reply(rng: random.Random, first: float, second: float) -> str:
    kind = rng.random()
    if kind < 0.06:
        return "Both answers have merit and I will not choose."  # no verdict: "error"
    if kind < 0.10:
        return "Tentatively [[B]], but on balance [[A]]."  # FastChat looks for [[A]] first
    margin = first - second + 0.8 + rng.gauss(0, 2.0)  # +0.8: the first shown is favoured
    if abs(margin) < 0.7:
        return "They are equally good. [[C]]"
    return "Final verdict: [[A]]" if margin > 0 else "Final verdict: [[B]]"


def generate(common, out: Path, seed: int) -> None:
    rng = random.Random(seed)
    common.print = lambda *a, **k: None  # its per-match log line
    clock = iter(range(1_700_000_000, 1_800_000_000))
    common.time = types.SimpleNamespace(time=lambda: float(next(clock)))  # reproducible tstamp
    replies: list[str] = []
    common.chat_completion_openai = lambda model, conv, temperature, max_tokens, api_dict=None: replies.pop(0)
    template = {  # a placeholder of ours, not FastChat's prompt
        "type": "single",
        "output_format": "[[rating]]",
        "system_prompt": "placeholder",
        "prompt_template": "{question}|{answer}",
    }
    single_t = [
        common.Judge("gpt-4", {**template, "name": "single-v1"}),
        common.Judge(
            "gpt-4",
            {**template, "name": "single-v1-multi-turn", "prompt_template": "{question_2}|{answer_2}"},
            multi_turn=True,
        ),
    ]
    pair_t = [
        common.Judge(
            "gpt-4",
            {
                **template,
                "type": "pairwise",
                "output_format": "[[A]]",
                "name": "pair-v2",
                "prompt_template": "{question}|{answer_a}|{answer_b}",
            },
        ),
        common.Judge(
            "gpt-4",
            {
                **template,
                "type": "pairwise",
                "output_format": "[[A]]",
                "name": "pair-v2-multi-turn",
                "prompt_template": "{question_2}|{answer_a_2}|{answer_b_2}",
            },
            multi_turn=True,
        ),
    ]
    question = {
        q: {"question_id": q, "turns": [f"question {q} turn 1", f"question {q} turn 2"]} for q in QUESTIONS
    }
    answer = {
        m: {q: {"choices": [{"turns": [f"{m} on {q}.1", f"{m} on {q}.2"]}]} for q in QUESTIONS}
        for m in MODELS
    }
    single, pair = out / "gpt-4_single.jsonl", out / "gpt-4_pair.jsonl"
    for f in (single, pair):
        f.unlink(missing_ok=True)
    for m, q, turn in itertools.product(MODELS, QUESTIONS, (0, 1)):
        replies.append(_rating_reply(rng, MODELS[m] - 0.5 * turn))
        judge = single_t[turn]
        common.play_a_match_single(
            common.MatchSingle(question[q], m, answer[m][q], judge, multi_turn=judge.multi_turn), str(single)
        )
    pairs = [
        (a, b) if b == BASELINE or a != BASELINE else (b, a) for a, b in itertools.combinations(MODELS, 2)
    ]
    for (m1, m2), q, turn in itertools.product(pairs, QUESTIONS, (0, 1)):
        replies.append(_verdict_reply(rng, MODELS[m1], MODELS[m2]))
        replies.append(_verdict_reply(rng, MODELS[m2], MODELS[m1]))
        judge = pair_t[turn]
        match = common.MatchPair(
            question[q], m1, m2, answer[m1][q], answer[m2][q], judge, multi_turn=judge.multi_turn
        )
        common.play_a_match_pair(match, str(pair))


def _tables(show_result, path: Path, mode: str, model_list: list | None = None) -> list:
    """The DataFrames show_result prints for one mode (its own `print`, caught)."""
    import pandas as pd

    caught: list = []
    show_result.print = lambda *a, **k: caught.extend(x for x in a if isinstance(x, pd.DataFrame))
    args = argparse.Namespace(
        bench_name="mt_bench",
        input_file=str(path),
        judge_model="gpt-4",
        model_list=model_list,
        baseline_model=None if mode == "pairwise-all" else BASELINE,
        mode=mode,
    )
    (show_result.display_result_single if mode == "single" else show_result.display_result_pairwise)(args)
    return caught


def expected(show_result, out: Path) -> dict:
    """show_result's tables as {mode: {model: {column: value}}}; "MODE --model-list" with MODEL_LIST."""
    result = {}
    for suffix, model_list in (("", None), (" --model-list", MODEL_LIST)):
        turn_1, turn_2, average = _tables(show_result, out / "gpt-4_single.jsonl", "single", model_list)
        result["single" + suffix] = {
            m: {
                "score": float(average.loc[m, "score"]),
                "turn_1": float(turn_1.loc[(m, 1), "score"]),
                "turn_2": float(turn_2.loc[(m, 2), "score"]),
            }
            for m in average.index
        }
        for mode in ("pairwise-baseline", "pairwise-all"):
            (board,) = _tables(show_result, out / "gpt-4_pair.jsonl", mode, model_list)
            cols = ["win", "loss", "tie", "win_rate", "loss_rate", "win_rate_adjusted"]
            result[mode + suffix] = {m: {c: float(board.loc[m, c]) for c in cols} for m in board.index}
    return result


def _git_head(checkout: Path) -> str:
    try:
        return subprocess.run(
            ["git", "-C", str(checkout), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--fastchat", required=True, type=Path, help="a FastChat checkout")
    ap.add_argument(
        "--out", type=Path, default=Path(__file__).parents[1] / "tests/benchmarks/fixtures/mtbench"
    )
    ap.add_argument("--seed", type=int, default=23)
    ap.add_argument(
        "--commit", help="the checkout's commit, where it is not a git work tree (e.g. `git archive`)"
    )
    args = ap.parse_args()
    judge_dir = args.fastchat / "fastchat" / "llm_judge"
    _stub_modules()
    common = _load(judge_dir / "common.py", "fastchat_llm_judge_common")
    show_result = _load(judge_dir / "show_result.py", "fastchat_llm_judge_show_result")
    args.out.mkdir(parents=True, exist_ok=True)
    generate(common, args.out, args.seed)
    commit = args.commit or _git_head(args.fastchat)
    import pandas as pd

    record = {
        "fastchat_commit": commit,
        "pandas": pd.__version__,
        "command": f"python scripts/mtbench_fastchat_reference.py --fastchat FastChat --seed {args.seed}",
        "baseline": BASELINE,
        "model_list": MODEL_LIST,
        "tables": expected(show_result, args.out),
    }
    (args.out / "fastchat_expected.json").write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
    print(
        f"wrote {args.out}: gpt-4_single.jsonl, gpt-4_pair.jsonl, fastchat_expected.json (FastChat {commit})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
