"""`judgebench suite`: several models x the benchmarks (AlpacaEval 2.0, Arena-Hard, MT-Bench and any
plug-in's), the paper's table; or, with --dry-run, what it would cost."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from judgebench.cli.options import (
    add_json_option,
    add_judge_endpoint_options,
    add_key_options,
    add_limits_options,
    add_n_boot_option,
    add_out_option,
    add_progress_option,
    limits_kwargs,
)


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "suite", help="the paper's table: several models x AlpacaEval 2.0, Arena-Hard, MT-Bench"
    )
    p.add_argument(
        "--models",
        nargs="+",
        required=True,
        metavar="SPEC",
        help="[NAME=]SPEC: a .gguf file, a Hugging Face folder, NAME@URL (a served model), an outputs file, "
        "'embedded', or a .yaml run file listing models (name, model, base_url, outputs, sampling)",
    )
    p.add_argument(
        "--benchmarks",
        nargs="+",
        metavar="NAME",
        help="default: every benchmark `judgebench benchmarks` lists (built-in: alpaca_eval arena-hard-v0.1 "
        "mt-bench)",
    )
    p.add_argument(
        "--judge",
        nargs="+",
        metavar="JUDGE",
        help="default: each benchmark's standard judge; 'local': the embedded judge for all; NAME for all; "
        "BENCH=NAME for one",
    )
    add_judge_endpoint_options(p, url_flags=("--judge-base-url",), model_flag="--judge-model", several=False)
    add_key_options(p, allow_to=False)
    add_out_option(p, "output folder (default runs/suite)", metavar="DIR", default="runs/suite")
    p.add_argument("--max-instances", type=int, help="only the first N instructions of each benchmark")
    p.add_argument("--reference", metavar="NAME", help="test every model against this one (Holm-adjusted)")
    p.add_argument(
        "--dry-run", action="store_true", help="make no call: print the calls, tokens, USD and time"
    )
    add_json_option(p, "with --dry-run: print JSON")
    p.add_argument(
        "--max-cost", type=float, metavar="USD", help="stop before the judge spend could pass this"
    )
    p.add_argument("--batch", action="store_true", help="judge through the OpenAI Batch API (half price)")
    p.add_argument(
        "--batch-poll-seconds",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="how often a batch's status is asked (default 30)",
    )
    p.add_argument("--max-tokens", type=int, default=512, help="generation limit per answer (default 512)")
    p.add_argument("--temperature", type=float, default=0.0, help="sampling temperature (default 0: greedy)")
    p.add_argument("--seed", type=int, default=0, help="sampling seed (default 0)")
    add_limits_options(p, concurrency=8, concurrency_help="generation requests in flight at a time")
    p.add_argument(
        "--judge-concurrency", type=int, default=16, help="judge calls in flight at a time (default 16)"
    )
    add_n_boot_option(p, 200)
    add_progress_option(p)
    return p


def run(args: argparse.Namespace) -> int:
    from judgebench.generation.generate import Sampling
    from judgebench.runs.suite import format_plan, parse_models, plan_suite, run_suite

    models = parse_models(
        args.models, Sampling(max_tokens=args.max_tokens, temperature=args.temperature, seed=args.seed)
    )
    if args.dry_run:  # the rate limits only shape the time estimate here
        limits = {"requests_per_minute": args.rpm, "tokens_per_minute": args.tpm}
        plan = plan_suite(
            models,
            args.benchmarks,
            args.judge,
            args.judge_model,
            args.out,
            args.max_instances,
            batch=args.batch,
            concurrency=args.judge_concurrency,
            limits=limits,
        )
        if args.json:
            keys = (
                "calls",
                "input_tokens",
                "output_tokens",
                "usd",
                "per_benchmark",
                "generations",
                "expected_seconds",
                "notes",
            )
            print(json.dumps({k: plan[k] for k in keys}, indent=1))
        else:
            print(format_plan(plan))
        return 0
    optional = {"api_key_env": args.api_key_env} if args.api_key_env else {}
    result = run_suite(
        models,
        args.benchmarks,
        args.judge,
        args.judge_base_url,
        args.judge_model,
        args.out,
        args.max_instances,
        args.reference,
        args.max_cost,
        args.batch,
        args.batch_poll_seconds,
        args.concurrency,
        args.judge_concurrency,
        args.n_boot,
        progress=not args.no_progress,
        **optional,
        **limits_kwargs(args, run_suite),
    )
    print((Path(args.out) / "table.md").read_text(), end="")
    m = result["manifest"]
    print(
        f"spent ${m['spent_usd']:.4f} in {m['requests']} judge requests; wrote {args.out}/ (table.csv, table.md, "
        "table.tex, report.html, suite.manifest.json, runs/)"
    )
    return 0
