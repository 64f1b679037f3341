"""The judge `arena-hard` reads Arena-Hard-Auto's prompt from the user's checkout (never shipped here);
judgebench's own wording is `judgebench-arena-pair`; an embedded judge on Arena-Hard uses its protocol."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from judgebench.backends.base import CompletionResponse
from judgebench.errors import InputError
from judgebench.judges import load_judge
from judgebench.judges.parsers import PARSERS
from judgebench.runs.suite import resolve_judges

SYSTEM = "Compare two answers and give a label."  # made-up stand-ins for the official texts
TEMPLATE = "Q: {QUESTION}\\n[A] {ANSWER_A}\\n[B] {ANSWER_B}"


def _v2_checkout(root: Path) -> Path:
    (root / "utils").mkdir(parents=True)
    (root / "config").mkdir()
    (root / "utils" / "judge_utils.py").write_text(
        f"OG_ARENA_HARD_PROMPT = {SYSTEM!r}\nJUDGE_SETTINGS = {{}}\n"
    )
    (root / "config" / "arena-hard-v2.0.yaml").write_text(
        f'judge_model: gpt-4.1\ntemperature: 0.0\nmax_tokens: 16000\nprompt_template: "{TEMPLATE}"\n'
    )
    return root


def test_the_official_prompt_is_read_from_the_checkout(tmp_path, monkeypatch):
    monkeypatch.setenv("JUDGEBENCH_ARENA_HARD_DIR", str(_v2_checkout(tmp_path)))
    spec = load_judge("arena-hard")
    assert (spec.protocol, spec.parser, spec.model) == ("arenahard", "arena_verdict_v2", "gpt-4.1")
    messages = spec.render(instruction="2+2?", output_first="four {ANSWER_B}", output_second="4")
    assert messages == [
        {"role": "system", "content": SYSTEM},
        {
            "role": "user",
            "content": "Q: 2+2?\n[A] four {ANSWER_B}\n[B] 4",
        },  # an answer's braces stay as written
    ]


def test_without_a_checkout_one_line_says_where_to_get_it(monkeypatch):
    monkeypatch.delenv("JUDGEBENCH_ARENA_HARD_DIR", raising=False)
    with pytest.raises(
        InputError, match="git clone https://github.com/lmarena/arena-hard-auto.*--arena-hard-dir"
    ):
        load_judge("arena-hard")


def test_the_old_name_says_the_new_one():
    with pytest.raises(InputError, match="'arenahard' is now 'judgebench-arena-pair'"):
        load_judge("arenahard")
    assert load_judge("judgebench-arena-pair").protocol == "arenahard"


def test_the_embedded_judge_on_arena_hard_is_arena_hard_s_protocol():
    judges = resolve_judges(["alpaca_eval", "arena-hard-v0.1"], ["local"])
    assert (
        judges["arena-hard-v0.1"].name == "local-arena" and judges["arena-hard-v0.1"].protocol == "arenahard"
    )
    assert judges["alpaca_eval"].protocol == "alpacaeval"


@pytest.mark.parametrize(
    ("text", "v01", "v2"),
    [
        ("verdict: [[B>>A]]", 5.0, 5.0),
        ("[[A>B]] no, [[A=B]]", None, 3.0),
        ("final: [a<<b]", None, 5.0),  # v2: single brackets, upper-cased; A<<B = B much better
    ],
)
def test_each_version_s_parser(text, v01, v2):
    response = CompletionResponse(text=text)
    assert PARSERS.pick("arena_verdict_v01")(response)[0] == v01
    assert PARSERS.pick("arena_verdict_v2")(response)[0] == v2


@pytest.mark.official_copy
def test_renders_the_official_template_from_a_checkout():
    folder = os.environ.get("JUDGEBENCH_ARENA_HARD_DIR")
    if not folder or not (Path(folder) / "utils" / "judge_utils.py").exists():
        pytest.skip("set JUDGEBENCH_ARENA_HARD_DIR to an arena-hard-auto v2 checkout")
    messages = load_judge("arena-hard").render(instruction="QQQ", output_first="AAA", output_second="BBB")
    assert messages[0]["role"] == "system" and "[[A>>B]]" in messages[0]["content"]
    user = messages[1]["content"]
    assert user.index("QQQ") < user.index("AAA") < user.index("BBB")
