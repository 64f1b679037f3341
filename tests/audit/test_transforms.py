"""Property injection transforms: by hand, then on every baseline answer of AlpacaEval's eval set:
idempotent, content kept word for word, the property present afterwards."""

from __future__ import annotations

import re

import pytest

from judgebench.audit import transforms as T
from judgebench.stats.properties import measure, tokens

WORD = re.compile(r"[^\W_]+", re.UNICODE)


def words(text: str) -> list[str]:
    return WORD.findall(text)


def test_by_hand():
    text = "Paris is the capital. It lies on the Seine. It is large."
    assert T.add_list(text) == "- Paris is the capital.\n- It lies on the Seine.\n- It is large."
    assert T.remove_lists("Intro:\n- one\n- two\n1. three") == "Intro:\none\ntwo\nthree"
    assert T.add_bold(text) == "**Paris is the capital.** It lies on the Seine. It is large."
    assert T.add_header(text) == "## Answer\n\n" + text
    assert T.add_flattery(text).endswith("\n\n" + text)
    assert T.add_emoji(text) == text + " \U0001f60a"
    assert T.add_list("One sentence only.") == "One sentence only."  # nothing to list
    filled = T.add_filler(100)(text)
    assert (
        filled.startswith(text) and 100 <= tokens(filled) - tokens(text) < 100 + tokens(T.FILLER_SENTENCE) + 1
    )


@pytest.fixture(scope="module")
def answers(alpaca_dir):
    from judgebench.files.records import read_records

    return [(r["output"], r["instruction"]) for r in read_records(alpaca_dir / "eval_set.json.gz")]


STRUCTURAL = ("add_list", "remove_lists", "add_bold")
ADDED = {"add_list": "list", "add_header": "header", "add_bold": "bold", "add_emoji": "emoji"}


@pytest.mark.parametrize("name", sorted(T.TRANSFORMS))
def test_on_every_baseline_answer(name, answers):
    transform = T.TRANSFORMS[name]
    changed = 0
    for answer, instruction in answers:
        once = transform(answer, instruction)
        if name != "add_filler_100":
            assert transform(once, instruction) == once, (name, answer[:80])  # idempotent
        if name in STRUCTURAL:  # every word kept, in order (a numbered list's numbers are markers, not words)
            assert words(T._LIST_MARK.sub("", once)) == words(T._LIST_MARK.sub("", answer)), (
                name,
                answer[:80],
            )
            if name != "remove_lists":
                assert words(once) == words(answer), (name, answer[:80])
        else:
            assert answer.rstrip() in once  # the answer itself verbatim, text only added
        if name in ADDED:
            assert measure(once)[ADDED[name]] == 1.0 or once == answer, (name, once[:200])
        if name == "remove_lists" and once != answer:
            assert measure(once)["list"] == 0.0, once[:300]
        changed += once != answer
    # each rewrite applies to a good share of the answers (a transform that never fires measures nothing)
    assert changed >= 0.2 * len(answers), (name, changed)
