"""`--judge jury:A,B`: each member judges every pair as it would alone; the jury's preference is their mean."""

from __future__ import annotations

import json

import pytest
from openai_standin import OpenAIStandIn, answer
from servers import annotate_pair


class TwoKindsJudge(OpenAIStandIn):
    """Log-prob verdicts for alpacaeval2 (the stand-in's own), and always 'M' (the second shown) for the
    text-label judge alpacaeval2-labels."""

    def _answer(self, body):
        out = answer(body)
        if not body.get("logprobs"):
            out["choices"][0]["message"]["content"] = "M"
        return out


def test_jury_judge_pools_its_members(tmp_path):
    rows = [{"instruction": f"Say {w}.", "output": w, "generator": "x"} for w in ("hi", "yes", "no", "maybe")]
    base = tmp_path / "base.json"
    base.write_text(json.dumps([{**r, "generator": "base"} for r in rows]))
    cand = tmp_path / "cand.json"
    cand.write_text(json.dumps([{**r, "output": r["output"] + "!", "generator": "cand"} for r in rows]))
    store = tmp_path / "store.sqlite"
    with TwoKindsJudge({"gpt-4-1106-preview": (10.0, 30.0)}) as judge:
        alone = {
            j: annotate_pair(cand, base, store, judge=j, base_url=judge.base_url).records
            for j in ("alpacaeval2", "alpacaeval2-labels")
        }
        before = judge.chat_requests
        run = annotate_pair(
            cand, base, store, judge="jury:alpacaeval2,alpacaeval2-labels", base_url=judge.base_url
        )
        assert judge.chat_requests == before  # every member's call is already in the store
    assert len(run.records) == 4
    for k, r in enumerate(run.records):
        a, b = alone["alpacaeval2"][k]["preference"], alone["alpacaeval2-labels"][k]["preference"]
        assert r["jury_preferences"] == {"alpacaeval2": a, "alpacaeval2-labels": b}
        assert r["preference"] == pytest.approx((a + b) / 2)
        assert r["annotator"] == "jury:mean:alpacaeval2,alpacaeval2-labels"
    assert run.summary["pairs"] == 4 and set(run.manifest["jury"]["members"]) == {
        "alpacaeval2",
        "alpacaeval2-labels",
    }


def test_a_jury_of_one_is_refused(tmp_path):
    from judgebench.errors import ConfigError

    with pytest.raises(ConfigError, match="two or more"):
        annotate_pair(
            tmp_path / "c.json", tmp_path / "b.json", tmp_path / "s.sqlite", judge="jury:alpacaeval2"
        )
