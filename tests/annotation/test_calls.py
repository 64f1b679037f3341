"""One recipe for judge calls: what the cost estimate counts before a run is what the run then sends,
and after it nothing is left; on a pairwise judge, a judge of both orders and a multi-turn grader."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from judgebench.annotation.annotate import annotate_pairs
from judgebench.annotation.cost import estimate_calls
from judgebench.backends.base import Backend, CompletionResponse
from judgebench.backends.tokens import _approximate
from judgebench.judges import load_judge
from judgebench.judges.protocols import Pair
from judgebench.store import Store


class Agreeable(Backend):
    """Answers every judge in a form its parser reads (a log-prob label, a verdict, a rating)."""

    async def _complete(self, request):
        return CompletionResponse("m [[A>B]] Rating: [[7]]", [{"m": -0.1, "M": -2.5}], "stop")


def pairs(multi_turn: bool) -> list[Pair]:
    out = []
    for i in range(3):
        if multi_turn:
            turns = [f"question {i}", f"follow-up {i}"]
            out.append(
                Pair(turns[0], "", "a\nb", "none", "m", "writing", turns=turns, candidate_turns=["a", "b"])
            )
        else:
            out.append(Pair(f"instruction {i}", f"base {i}", f"cand {i}", "base", "m", None))
    return out


# calls a pair needs, by each protocol's definition: one; both orders; one a turn (two turns)
@pytest.mark.parametrize(
    ("judge", "per_pair", "multi"),
    [("alpacaeval2", 1, False), ("judgebench-arena-pair", 2, False), ("judgebench-mt-single", 2, True)],
)
def test_the_estimate_counts_what_the_run_sends(tmp_path, judge, per_pair, multi):
    spec = replace(load_judge(judge), max_parse_retries=0)
    backend = Agreeable(spec.model)
    tokenizer = _approximate("test")
    with Store(tmp_path / "s.sqlite") as store:
        before = estimate_calls(spec, pairs(multi), backend.model, store, tokenizer)
        assert before.calls == 3 * per_pair and before.cached_calls == 0
        run = asyncio.run(annotate_pairs(pairs(multi), spec, backend, store, progress=False))
        assert backend.stats["requests"] == before.calls and run.summary["failed"] == 0
        after = estimate_calls(spec, pairs(multi), backend.model, store, tokenizer)
        assert after.calls == 0 and after.cached_calls == before.calls
