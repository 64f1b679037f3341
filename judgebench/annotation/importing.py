"""`judgebench import-annotations`: AlpacaEval annotation files' judge calls put into a store, so that
annotating the same pairs with the same judge finds them cached (no call is paid twice)."""

from __future__ import annotations

from pathlib import Path

from judgebench.annotation.annotate import parse
from judgebench.annotation.calls import judge_calls
from judgebench.backends import (
    CompletionResponse,
)
from judgebench.files.records import InputError
from judgebench.judges import load_judge
from judgebench.judges.protocols import Pair, protocol_of
from judgebench.judges.spec import JudgeSpec
from judgebench.store import Judgment, Store


def import_annotations(paths, judge: str | JudgeSpec, store: str | Path, model: str | None = None) -> dict:
    """AlpacaEval annotation files (with `raw_completion`) -> judge calls in the store, so that
    annotating the same pairs with the same judge finds them cached. Each record's stored
    preference must come back from its raw completion under this judge, else nothing is imported."""
    from judgebench.files.records import load_annotations

    spec = judge if isinstance(judge, JudgeSpec) else load_judge(judge)
    protocol = protocol_of(spec)
    df = load_annotations(paths, keep_extra=True)
    model = model or spec.model
    rows, skipped, mismatched = [], 0, []
    for i, r in enumerate(df.to_dict("records")):
        raw = r.get("raw_completion")
        pair = Pair(
            r["instruction"],
            r["output_1"],
            r["output_2"],
            r["generator_1"],
            r["generator_2"],
            r.get("dataset"),
        )
        calls = judge_calls(spec, pair, model, protocol)
        if not calls:
            continue
        if not isinstance(raw, dict) or "logprobs" not in raw and "message" not in raw:
            skipped += 1
            continue
        top = [
            {t["token"]: t["logprob"] for t in c.get("top_logprobs") or []}
            for c in ((raw.get("logprobs") or {}).get("content") or [])
        ]
        response = CompletionResponse(
            (raw.get("message") or {}).get("content") or "", top, raw.get("finish_reason")
        )
        verdict, reason = parse(spec, response)
        combined = protocol.combine(pair, {calls[0].slot: verdict})
        if combined["preference"] is None or abs(combined["preference"] - r["preference"]) > 1e-6:
            mismatched.append(i)
            continue
        price = r.get("price_per_example")
        rows.append(
            Judgment(
                calls[0].key,
                spec.name,
                spec.hash,
                model,
                r["instruction"],
                calls[0].slot,
                "ok",
                verdict,
                None,
                [response.to_raw()],
                1,
                cost=float(price) if isinstance(price, int | float) and price == price else 0.0,
            )
        )
    if mismatched:
        raise InputError(
            f"{len(mismatched)} records' preferences do not follow from their raw completions under "
            f"judge {spec.name} (rows {mismatched[:10]})",
            field="raw_completion",
            hint="import them under the judge that made them (e.g. alpaca_eval:CONFIG)",
        )
    with Store(store) as db:
        db.put_many(rows)
    return {"imported": len(rows), "skipped_no_raw_completion": skipped, "records": len(df)}
