"""Run FastChat's own MT-Bench judges: read its `judge_prompts.jsonl` at run time from the user's copy.

    judgebench evaluate --eval-set mt-bench --judge fastchat:single ...     # or fastchat:pair

The prompt text is FastChat's and stays in their repository: it is read from a FastChat checkout named
by `$JUDGEBENCH_FASTCHAT_DIR` (the checkout, its fastchat/llm_judge/data folder, or the file itself), else
from an installed `fastchat` package that ships it; never copied here. The judge is FastChat's
gen_judgment.py: per turn, its "-v1" prompt for turn 1 and "-multi-turn" prompt for turn 2, the "math"
prompts where the question has reference answers (FastChat's math, reasoning and coding questions), a
system message then the prompt filled with Python's str.format, GPT-4 at temperature 0 with 2048 tokens,
and FastChat's parsers (parsers.rating, parsers.pair_label).
"""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

from judgebench.errors import ConfigError, InputError
from judgebench.judges.spec import JudgeSpec

ENV = "JUDGEBENCH_FASTCHAT_DIR"
RELATIVE = Path("fastchat") / "llm_judge" / "data" / "judge_prompts.jsonl"
WHERE = (
    f"clone https://github.com/lm-sys/FastChat and set {ENV} to the checkout (it reads {RELATIVE}), or "
    "pip install fschat where its package ships that file"
)
# kind -> (protocol, parser, output format, prompt names: general turn 1, turn 2, with reference turn 1, turn 2)
KINDS = {
    "single": (
        "mtbench-single",
        "rating",
        "[[rating]]",
        ("single-v1", "single-v1-multi-turn", "single-math-v1", "single-math-v1-multi-turn"),
    ),
    "pair": (
        "mtbench-pair",
        "pair_label",
        "[[A]]",
        ("pair-v2", "pair-v2-multi-turn", "pair-math-v1", "pair-math-v1-multi-turn"),
    ),
}


def prompts_file() -> Path:
    """FastChat's judge_prompts.jsonl: from $JUDGEBENCH_FASTCHAT_DIR, else an installed fastchat package."""
    given = os.environ.get(ENV)
    if given:
        base = Path(given).expanduser()
        for candidate in (
            base,
            base / "judge_prompts.jsonl",
            base / RELATIVE,
            base / "llm_judge/data/judge_prompts.jsonl",
        ):
            if candidate.is_file():
                return candidate
        raise InputError(f"no FastChat judge_prompts.jsonl under {base}", field=ENV, hint=WHERE)
    spec = importlib.util.find_spec("fastchat")  # located, not imported (it imports much)
    if spec is not None and spec.submodule_search_locations:
        found = Path(list(spec.submodule_search_locations)[0]) / "llm_judge" / "data" / "judge_prompts.jsonl"
        if found.is_file():
            return found
    raise InputError("FastChat's judge prompts are not on this machine", field=ENV, hint=WHERE)


def read_prompts(path: Path) -> dict[str, dict]:
    prompts = {}
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            prompts[row["name"]] = row
        except (json.JSONDecodeError, TypeError, KeyError):
            raise InputError(
                "not a FastChat judge prompt (a JSON object with a name)", path=path, row=i
            ) from None
    return prompts


def load_fastchat_judge(kind: str) -> JudgeSpec:
    if kind not in KINDS:
        raise ConfigError(f"unknown FastChat judge 'fastchat:{kind}' -> use fastchat:single or fastchat:pair")
    protocol, parser, output_format, names = KINDS[kind]
    path = prompts_file()
    prompts = read_prompts(path)
    chosen = []
    for name in names:
        p = prompts.get(name)
        if not isinstance(p, dict) or not all(
            k in p for k in ("system_prompt", "prompt_template", "output_format")
        ):
            raise InputError(f"no usable prompt {name!r}", path=path, hint=WHERE)
        if p["output_format"] != output_format:
            raise InputError(
                f"prompt {name!r} answers in {p['output_format']}, fastchat:{kind} reads {output_format}",
                path=path,
            )
        chosen.append(p)
    general_1, general_2, math_1, math_2 = chosen

    def prompt_for(turn: int, reference) -> dict:
        if reference:
            return math_1 if turn == 1 else math_2
        return general_1 if turn == 1 else general_2

    def fields(turn: int, turns: list[str], reference) -> dict:
        out = {"question": turns[0]} if turn == 1 else {"question_1": turns[0], "question_2": turns[1]}
        if reference:
            out["ref_answer_1"] = reference[0]
            if turn > 1:
                out["ref_answer_2"] = reference[1]
        return out

    def answers(conversation: list[dict]) -> list[str]:
        return [m["content"] for m in conversation if m["role"] == "assistant"]

    def messages(p: dict, user: str) -> list[dict]:  # as gen_judgment sends them to an OpenAI judge
        return [{"role": "system", "content": p["system_prompt"]}, {"role": "user", "content": user}]

    def render_single(
        turn: int, conversation: list[dict], turns: list[str], reference=None, **_
    ) -> list[dict]:
        p, given = prompt_for(turn, reference), answers(conversation)
        values = fields(turn, turns, reference)
        values.update({"answer": given[0]} if turn == 1 else {"answer_1": given[0], "answer_2": given[1]})
        return messages(p, p["prompt_template"].format(**values))

    def render_pair(turn, conversation_first, conversation_second, turns, reference=None, **_) -> list[dict]:
        p, a, b = prompt_for(turn, reference), answers(conversation_first), answers(conversation_second)
        values = fields(turn, turns, reference)
        if turn == 1:
            values.update({"answer_a": a[0], "answer_b": b[0]})
        else:
            values.update({"answer_a_1": a[0], "answer_b_1": b[0], "answer_a_2": a[1], "answer_b_2": b[1]})
        return messages(p, p["prompt_template"].format(**values))

    return JudgeSpec(
        name=f"fastchat:{kind}",
        protocol=protocol,
        parser=parser,
        template_source=json.dumps(chosen, sort_keys=True),
        model="gpt-4",
        backend="openai",
        base_url="https://api.openai.com/v1",
        decoding={"max_tokens": 2048, "temperature": 0.0},
        price={"input_per_mtok": 30.0, "output_per_mtok": 60.0},
        source=str(path),
        render_fn=render_single if kind == "single" else render_pair,
    )
