"""WildBench's own judge prompts, read at run time from the user's WildBench checkout.

    judgebench evaluate --eval-set wildbench --judge wildbench ...        # pairwise (WB-Reward)
    judgebench evaluate --eval-set wildbench --judge wildbench-score ...  # graded alone (WB-Score)

The templates stay in WildBench's repository (evaluation/eval_template.pairwise.v2.md and
eval_template.score.v2.md): judgebench never ships them. They are filled as WildBench's src/eval.py
fills them: {$history} (the earlier turns as "USER: ...\n\n" / "ASSISTANT: ...\n\n"), {$user_query},
{$candidate_A}/{$candidate_B} or {$model_output}, and {$checklist} ("- item\n" per item); each text
cut at MAX_WORDS words as its run scripts cut them (--max_words_to_eval 1000), a blank pairwise answer
shown as EMPTY. Blank answers get no call (BLANK_RULE, in judges/protocols.py).
"""

from __future__ import annotations

import os
from pathlib import Path

from judgebench.errors import InputError
from judgebench.judges.spec import JudgeSpec

ENV = "JUDGEBENCH_WILDBENCH_DIR"
NAMES = ("wildbench", "wildbench-score")
GET_IT = f"git clone https://github.com/allenai/WildBench and set {ENV}=DIR"
TEMPLATES = {
    "wildbench": (
        "evaluation/eval_template.pairwise.v2.md",
        ("history", "user_query", "candidate_A", "candidate_B", "checklist"),
    ),
    "wildbench-score": (
        "evaluation/eval_template.score.v2.md",
        ("history", "user_query", "model_output", "checklist"),
    ),
}
EMPTY = "[This model response is empty.]"  # what eval.py shows for a blank answer
TRUNCATED = "... (truncated)"  # what eval.py appends to a text it cuts
MAX_WORDS = 1000  # evaluation/run_eval_v2_*.sh: --max_words_to_eval 1000


def cut(text: str, words: int = MAX_WORDS) -> str:
    """The text as the prompt shows it: past `words` space-separated words, cut and marked."""
    parts = text.split(" ")  # split on single spaces, as eval.py's shorten does
    return " ".join(parts[:words]) + TRUNCATED if len(parts) > words else text


def shown(answer: str, pairwise: bool) -> str:
    """An answer as WildBench's judgment files keep it (the text between the prompt's markers,
    stripped): cut, and in pairwise prompts a blank one replaced by EMPTY."""
    text = cut(answer)
    return EMPTY if pairwise and not text.strip() else text.strip()


def checkout_dir(given: str | Path | None = None) -> Path:
    folder = given or os.environ.get(ENV)
    if not folder:
        raise InputError(
            "the judge wildbench reads WildBench's prompts from a checkout, and none is set",
            field=ENV,
            hint=GET_IT,
        )
    path = Path(folder)
    if not path.is_dir():
        raise InputError(f"{path}: no such folder", field=ENV, hint=GET_IT)
    return path


def history_text(turns: list[dict]) -> str:
    """The turns before the last, as eval.py's compose_eval_item writes them."""
    prefix = {"user": "USER: ", "assistant": "ASSISTANT: "}
    return "".join(prefix[t["role"]] + t["content"] + "\n\n" for t in turns if t.get("role") in prefix)


def fill(template: str, values: dict[str, str]) -> str:
    """Each {$name} replaced in turn, in the order eval.py replaces them."""
    for key, value in values.items():
        template = template.replace("{$" + key + "}", value)
    return template


def load_wildbench_judge(name: str, folder: str | Path | None = None) -> JudgeSpec:
    root = checkout_dir(folder)
    relative, keys = TEMPLATES[name]
    path = root / relative
    if not path.is_file():
        raise InputError(f"{root} has no {relative} (a WildBench checkout)", field=ENV, hint=GET_IT)
    template = path.read_text(encoding="utf-8")
    for key in keys:
        if "{$" + key + "}" not in template:
            raise InputError(f"the official template lacks {{${key}}}", path=path, hint=GET_IT)

    def render(instruction: str, history: str = "", checklist=(), **answers) -> list[dict]:
        values = {"history": cut(history), "user_query": cut(instruction)}
        for key in keys[2:-1]:  # eval.py marks a blank answer in pairwise prompts only
            text = cut(answers[key])
            values[key] = text if text.strip() or key == "model_output" else EMPTY
        values["checklist"] = "".join(f"- {item}\n" for item in checklist)
        return [{"role": "user", "content": fill(template, values)}]

    pairwise = name == "wildbench"
    return JudgeSpec(
        name=name,
        protocol="wildbench-pair" if pairwise else "wildbench-score",
        parser="wildbench_choice" if pairwise else "wildbench_score",
        template_source=template,
        model="gpt-4o-2024-05-13",  # the judge of WildBench v2's leaderboard
        decoding={"temperature": 0.0, "max_tokens": 4096},
        source=f"WildBench's own prompt, read from {path}",
        render_fn=render,
    )
