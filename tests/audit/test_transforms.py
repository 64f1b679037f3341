"""Property injection transforms: by hand, then on every baseline answer of AlpacaEval's eval set:
idempotent, content kept word for word, the property present afterwards."""

from __future__ import annotations

import re

import numpy as np
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


def test_property_audit_against_a_judge_that_rewards_bold(tmp_path):
    """A stand-in judge (log-prob labels, AlpacaEval's m/M) that gives bold text +3 log-odds and looks at
    nothing else: `audit --checks properties` finds the bold rewrite's shift and FAILs it, and passes the
    rewrites the judge ignores."""
    import json

    from openai_standin import OpenAIStandIn, answer

    from judgebench.audit.config import AuditConfig
    from judgebench.audit.run import run_audit

    class BoldJudge(OpenAIStandIn):
        def _answer(self, body):
            out = answer(body)
            text = body["messages"][-1]["content"]
            score = {
                m.group(1): 3.0 * ("**" in m.group(2))
                for m in re.finditer(r'<answer id="(m|M)">\n(.*?)\n</answer>', text, re.S)
            }
            lp_m = -float(np.log1p(np.exp(score["M"] - score["m"])))  # log P(m)
            lp_M = -float(np.log1p(np.exp(score["m"] - score["M"])))
            top = [{"token": "m", "logprob": lp_m}, {"token": "M", "logprob": lp_M}]
            out["choices"][0]["logprobs"] = {
                "content": [{"token": "m", "logprob": lp_m, "top_logprobs": top}]
            }
            return out

    rows = [
        {
            "instruction": f"Tell me about topic {i}.",
            "output": f"Topic {i} is interesting. It has a long history. Many people study it.",
            "generator": "base",
        }
        for i in range(12)
    ]
    (tmp_path / "set.json").write_text(json.dumps(rows))
    with BoldJudge({"gpt-4-1106-preview": (10.0, 30.0)}) as judge:
        result = run_audit(
            AuditConfig(
                judge="alpacaeval2",
                base_url=judge.base_url,
                eval_set=str(tmp_path / "set.json"),
                n=12,
                checks=("properties",),
                out=str(tmp_path / "audit"),
                progress=False,
            )
        )
    checks = {c["name"]: c for c in result["checks"]}
    assert set(checks) == {f"property_{name}" for name in T.TRANSFORMS}
    bold = checks["property_add_bold"]
    # original: identical answers, P = 0.5; bold: sigmoid(3) = 0.953 in both orders -> shift 0.453
    assert bold["metric"] == pytest.approx(1 / (1 + np.exp(-3)) - 0.5, abs=1e-6)
    assert bold["status"] == "FAIL" and bold["n"] == 12
    for name in ("add_list", "add_header", "add_flattery", "add_emoji", "add_filler_100"):
        assert (
            checks[f"property_{name}"]["status"] == "PASS"
            and abs(checks[f"property_{name}"]["metric"]) < 1e-9
        )
    assert checks["property_remove_lists"]["n"] == 0  # no answer had a list to remove
