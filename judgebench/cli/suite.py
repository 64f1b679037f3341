"""`judgebench suite`: several models x the benchmarks (AlpacaEval 2.0, Arena-Hard, MT-Bench and any
plug-in's), the paper's table; or, with --dry-run, what it would cost."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from judgebench.cli.declared import add_options, config_from_args
from judgebench.cli.options import add_json_option
from judgebench.generation.sampling import DEFAULT_SAMPLING, Sampling
from judgebench.runs.config import SuiteConfig


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
    add_options(p, SuiteConfig)
    p.add_argument(
        "--dry-run", action="store_true", help="make no call: print the calls, tokens, USD and time"
    )
    add_json_option(p, "with --dry-run: print JSON")
    add_options(p.add_argument_group("sampling", "of the models given without their own"), DEFAULT_SAMPLING)
    return p


def run(args: argparse.Namespace) -> int:
    from judgebench.runs.models import parse_models
    from judgebench.runs.plan import format_plan, plan_suite
    from judgebench.runs.suite import run_suite

    config = config_from_args(SuiteConfig, args)
    models = parse_models(args.models, config_from_args(Sampling, args))
    if args.dry_run:
        plan = plan_suite(models, config)
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
    result = run_suite(models, config)
    print((Path(config.out) / "table.md").read_text(), end="")
    m = result["manifest"]
    print(
        f"spent ${m['spent_usd']:.4f} in {m['requests']} judge requests; wrote {config.out}/ (table.csv, table.md, "
        "table.tex, report.html, suite.manifest.json, runs/)"
    )
    return 0
