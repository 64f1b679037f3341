"""The warning an evaluation judged by the embedded model carries: its numbers prove the pipeline, not quality.

The embedded judge is SmolLM2-135M (llama.cpp in process): it makes the first run work offline, but a
135M model judging (often its own) answers is no measurement. Its agreement with GPT-4-Turbo's stored
AlpacaEval 2.0 verdicts is measured by bench/local_judge_agreement.py (docs/accuracy.md); the figure below
is that script's output, copied by hand when it is rerun.
"""

from __future__ import annotations

from judgebench.judges.spec import JudgeSpec

# bench/local_judge_agreement.py: share of pairs where the local judge picks the output GPT-4-Turbo picked
# (seed 0, the first 178 of 300 drawn pairs judged on the xllamacpp engine; docs/accuracy.md has the rest)
LOCAL_AGREEMENT: str | None = (
    "57.9% [50.5, 64.9] of 178 pairs, where always naming the baseline would agree on 90.4%"
)

# the judge that gives a reportable number, per eval set (the benchmark's standard judge)
_STANDARD_JUDGE = {"alpaca_eval": "alpacaeval2", "arena-hard-v0.1": "arenahard", "mt-bench": "mtbench-single"}


def is_embedded(spec: JudgeSpec, judge_model: str | None) -> bool:
    """The judge runs on the embedded SmolLM2 (a llama.cpp spec with no other model named)."""
    return spec.backend == "llamacpp" and judge_model is None


def reportable_command(eval_set: str, model: str | None, outputs: str | None) -> str:
    """The same evaluation with a real judge behind an OpenAI-compatible endpoint."""
    what = f"--outputs {outputs}" if outputs else f"--model {model or 'CKPT'}"
    judge = _STANDARD_JUDGE.get(eval_set, "alpacaeval2")
    set_flag = "" if eval_set == "alpaca_eval" else f" --eval-set {eval_set}"
    return (
        f"judgebench evaluate {what}{set_flag} --judge {judge} --judge-base-url URL/v1 --judge-model JUDGE "
        "--out runs/real (any OpenAI-compatible server, e.g. vllm serve; for OpenAI itself drop the two "
        "--judge-* flags and set OPENAI_API_KEY)"
    )


def judge_note(eval_set: str, model: str | None, outputs: str | None) -> str:
    """One line, starting `NOT A MEASUREMENT:`."""
    own = " judging its own answers" if model is None and outputs is None else ""
    agreement = (
        f"; it agrees with GPT-4-Turbo's AlpacaEval 2.0 verdicts on {LOCAL_AGREEMENT}, docs/accuracy.md"
        if LOCAL_AGREEMENT
        else ""
    )
    return (
        f"NOT A MEASUREMENT: the judge is the embedded SmolLM2-135M{own}, so these numbers prove the "
        f"pipeline works, not the model's quality{agreement}. For a reportable number: "
        + reportable_command(eval_set, model, outputs)
    )
