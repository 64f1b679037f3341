"""The settings of `evaluate` and `suite`, declared once: the commands' flags are made from them.

    evaluate(EvaluateConfig(model="ckpt.gguf", out="runs/ckpt"))
    run_suite(models, SuiteConfig(out="runs/suite", reference="sft"))

Kept apart from the runs themselves so that building the command line imports no engine, pandas or judge.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from judgebench.annotation.pipeline import CallLimits, KeyAccess, progress_option, store_option
from judgebench.backends.checkpoint import Checkpoint
from judgebench.generation.sampling import DEFAULT_SAMPLING, Sampling
from judgebench.settings import MAX_CONCURRENCY, MAX_N_BOOT, Checked, group, option

if TYPE_CHECKING:
    from judgebench.backends import Backend
    from judgebench.judges.spec import JudgeSpec

EMBEDDED_GENERATOR = "SmolLM2-135M-Instruct"


def backend_names() -> list[str]:
    """The backends a user can name, read from the registry so the choices never drift from it."""
    from judgebench.backends import REGISTRY

    return sorted(REGISTRY)


@dataclass(frozen=True, kw_only=True)
class EvaluateConfig(Checked):
    """Everything one evaluation depends on; `judgebench evaluate`'s flags are made from these declarations.

    limits: the generator's backend's (its concurrency too); the judge's backend has the same rate limits,
    timeout and retries, with judge_concurrency calls in flight. wrap_judge: backend -> backend, applied to
    the judge's backend (the suite's budget guard; the Python API's only)."""

    model: str | None = option(
        None,
        help="a .gguf file (llama.cpp), a Hugging Face folder (transformers), a served model name (with "
        "--base-url); default: the embedded SmolLM2",
    )
    outputs: str | Path | None = option(None, metavar="FILE", help="skip generation: judge these outputs")
    engine: str | None = option(
        None,
        choices=backend_names,
        help="default: chosen from --model (openai with --base-url, transformers for a model folder, "
        "llama.cpp for a .gguf or none; vllm for a folder or hub id on Ray)",
    )
    base_url: str | None = option(None, metavar="URL", help="OpenAI-compatible endpoint serving --model")
    name: str | None = option(None, help="generator name in the outputs and leaderboard")
    eval_set: str = option("alpaca_eval", help="alpaca_eval, arena-hard-v0.1, mt-bench, a file, hf:...")
    baseline: str | Path | None = option(
        None, metavar="FILE", help="baseline outputs file (default: the eval set's own)"
    )
    judge: str | JudgeSpec = option("local", help="judge spec (default: local, needs no key)")
    judge_base_url: tuple[str, ...] | str | None = option(
        None,
        several=True,
        metavar="URL",
        help="the judge's OpenAI-compatible endpoint (default: the spec's); several: replicas of one judge",
    )
    judge_model: str | None = option(
        None, metavar="MODEL", help="the judge's model name (default: the spec's)"
    )
    max_instances: int | None = option(None, kind=int, minimum=1, help="only the first N instructions")
    store: str | Path | None = store_option("OUT/store.sqlite")
    out: str | Path = option(
        "runs/latest",
        metavar="DIR",
        help="output folder: model_outputs, annotations, leaderboard.csv, summary.json (default runs/latest)",
    )
    leaderboard: str | Path | None = option(
        None, metavar="CSV", help="merge this model's row into a leaderboard CSV"
    )
    sampling: Sampling = group(lambda: DEFAULT_SAMPLING)
    checkpoint: Checkpoint = group(Checkpoint)
    chat_template: str | None = option(
        None, metavar="FILE", help="Jinja2 chat template replacing the model's own (the API takes its text)"
    )
    limits: CallLimits = group(CallLimits)
    judge_concurrency: int = option(
        16, minimum=1, maximum=MAX_CONCURRENCY, help="judge calls in flight at a time"
    )
    key: KeyAccess = group(KeyAccess)
    n_boot: int = option(
        1000,
        minimum=0,
        maximum=MAX_N_BOOT,
        help="bootstrap resamples for the intervals (default {default}; 0: none)",
    )
    tiny: str | Path | None = option(
        None,
        metavar="JSON",
        help="judge only this tiny file's anchors and report the estimated full win rate (judgebench tiny fit)",
    )
    gold_judge: str | None = option(
        None,
        metavar="SPEC",
        help="an expensive judge to judge --gold-budget random pairs too: the summary gets its win rate and LC "
        "estimated from both judges (PPI++)",
    )
    gold_budget: int | None = option(
        None, kind=int, minimum=2, metavar="N", help="pairs the gold judge judges, drawn at random"
    )
    gold_judge_base_url: str | None = option(
        None, metavar="URL", help="the gold judge's OpenAI-compatible endpoint (default: its spec's)"
    )
    gold_judge_model: str | None = option(
        None, metavar="MODEL", help="the gold judge's model name (default: its spec's)"
    )
    gold_seed: int = option(0, help="seed of the gold pairs' draw and of the LC bootstrap (default 0)")
    ray_replicas: int | None = option(
        None, kind=int, minimum=1, help="generate as a Ray Data job over N engine replicas"
    )
    ray_address: str | None = option(
        None, help="Ray cluster address (default: a local cluster; 'auto' inside one)"
    )
    progress: bool = progress_option()
    wrap_judge: Callable[[Backend], Backend] | None = option(None, cli=False, help="see the class's doc")

    @property
    def generator_name(self) -> str:
        return self.name or (Path(self.model).stem if self.model else EMBEDDED_GENERATOR)

    def judge_backend(self, spec: JudgeSpec, model: str | None, base_url: str | Sequence[str] | None):
        """(backend, url) for a judge of this run (the run's or the gold one): the run's rate limits, timeout
        and retries with judge_concurrency calls in flight, and its key options."""
        from judgebench.annotation.annotate import judge_backend

        return judge_backend(
            spec,
            self.limits.for_backend(self.judge_concurrency),
            model,
            base_url=base_url,
            api_key_env=self.key.api_key_env,
            allow_key_to=self.key.allow_key_to,
        )


@dataclass(frozen=True, kw_only=True)
class SuiteConfig(Checked):
    """Every model x benchmark through `evaluate` on one store, then the table. limits: every run's
    generator's (its concurrency too); the judges have the same rate limits with judge_concurrency."""

    benchmarks: tuple[str, ...] | None = option(
        None,
        several=True,
        metavar="NAME",
        help="default: every benchmark `judgebench benchmarks` lists but WildBench (built-in: alpaca_eval "
        "arena-hard-v0.1 mt-bench)",
    )
    judge: tuple[str, ...] | None = option(
        None,
        several=True,
        metavar="JUDGE",
        help="default: each benchmark's standard judge; 'local': the embedded judge for all; NAME for all; "
        "BENCH=NAME for one",
    )
    judge_base_url: str | None = option(
        None, metavar="URL", help="the judge's OpenAI-compatible endpoint (default: the spec's)"
    )
    judge_model: str | None = option(
        None, metavar="MODEL", help="the judge's model name (default: the spec's; a GGUF path for llamacpp)"
    )
    protocol: tuple[str, ...] | None = option(
        None,
        several=True,
        metavar="VERSION",
        help="the version of the official result script that scores the benchmarks that have versions "
        "(Arena-Hard: v2, v0.1, judgebench); default: each one's current official; BENCH=VERSION for one",
    )
    out: str | Path = option("runs/suite", metavar="DIR", help="output folder")
    max_instances: int | None = option(
        None, kind=int, minimum=1, help="only the first N instructions of each benchmark"
    )
    length_penalty: int | None = option(
        None,
        kind=int,
        minimum=-1,
        metavar="CHARS",
        help="WildBench's K: a plain win by an answer more than K characters longer counts as a tie "
        "(default -1, WildBench's: none)",
    )
    reference: str | None = option(
        None, metavar="NAME", help="test every model against this one (Holm-adjusted)"
    )
    max_cost: float | None = option(
        None, kind=float, minimum=0, metavar="USD", help="stop before the judge spend could pass this"
    )
    batch: bool = option(False, help="judge through the OpenAI Batch API (half price)")
    batch_poll_seconds: float = option(
        30.0, above=0, metavar="SECONDS", help="how often a batch's status is asked"
    )
    gold_judge: str | None = option(
        None,
        metavar="SPEC",
        help="an expensive judge to judge --gold-budget random pairs of every pairwise run too (PPI++ estimates "
        "of its win rate and LC in the table; not with --max-cost)",
    )
    gold_budget: int | None = option(
        None, kind=int, minimum=2, metavar="N", help="pairs the gold judge judges per run, drawn at random"
    )
    gold_judge_base_url: str | None = option(
        None, metavar="URL", help="the gold judge's OpenAI-compatible endpoint (default: its spec's)"
    )
    gold_judge_model: str | None = option(
        None, metavar="MODEL", help="the gold judge's model name (default: its spec's)"
    )
    limits: CallLimits = group(CallLimits)
    judge_concurrency: int = option(
        16, minimum=1, maximum=MAX_CONCURRENCY, help="judge calls in flight at a time"
    )
    key: KeyAccess = group(KeyAccess)
    n_boot: int = option(
        200,
        minimum=0,
        maximum=MAX_N_BOOT,
        help="bootstrap resamples for the intervals (default {default}; 0: none)",
    )
    progress: bool = progress_option()
