"""A graded (single-answer) record without a score is missing, as a pairwise record without a preference is:
the run's `missing_preferences` counts it and the record says why."""

import asyncio

from aiohttp import web
from servers import LoopbackApp, _answer

from judgebench.annotation.annotate import annotate_pairs, judge_backend
from judgebench.annotation.pairs import pairs_from_records
from judgebench.backends import Limits
from judgebench.judges import load_judge
from judgebench.store import Store


class RatingServer(LoopbackApp):
    """Grades every turn 7, except Q1's second turn: a reply with no rating in it (a parse failure)."""

    async def _chat(self, request):
        text = " ".join(m["content"] for m in (await request.json())["messages"])
        unrated = "Q1 first" in text and "Q1 second" in text
        reply = "I cannot grade this." if unrated else "Fine. Rating: [[7]]"
        return web.json_response(_answer(logprobs=False, text=reply))

    def routes(self, app):
        app.router.add_post("/v1/chat/completions", self._chat)


def test_a_graded_record_without_a_score_counts_as_missing(tmp_path):
    cand = [
        {
            "instruction": f"Q{i} first",
            "turns": [f"Q{i} first", f"Q{i} second"],
            "output": [f"answer {i}a", f"answer {i}b"],
            "generator": "m",
        }
        for i in range(3)
    ]
    spec = load_judge("judgebench-mt-single")
    with RatingServer() as server, Store(tmp_path / "s.sqlite") as store:
        backend, _ = judge_backend(spec, Limits(concurrency=2), base_url=server.base_url)

        async def run():
            try:
                return await annotate_pairs(
                    pairs_from_records(cand, None, multi_turn=True), spec, backend, store, progress=False
                )
            finally:
                await backend.close()

        made = asyncio.run(run())
    by_q = {r["instruction"]: r for r in made.records}
    assert [by_q[f"Q{i} first"]["score"] for i in (0, 2)] == [7.0, 7.0]
    assert by_q["Q1 first"]["score"] is None and by_q["Q1 first"]["per_turn"] == [7.0, None]
    assert by_q["Q1 first"]["failure"]  # the parser's reason, not silence
    assert made.summary["missing_preferences"] == 1  # Q1 only: the two graded records are not missing
