"""`judgebench audit`: audit a judge (constant answers, injection, position, verbosity, sanity, humans),
or measure the biases behind existing annotations."""

from __future__ import annotations

import argparse
import json

from judgebench.cli.options import (
    add_annotations_option,
    add_json_option,
    add_judge_endpoint_options,
    add_key_options,
    add_limits_options,
    add_out_option,
    add_progress_option,
    add_seed_option,
    add_store_option,
    limits_kwargs,
)
from judgebench.errors import CheckFailed, ConfigError
from judgebench.files.safetext import printable

DEFAULT_OUT = "runs/audit"


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "audit", help="audit a judge: constant answers, injection, position, verbosity, sanity"
    )
    p.add_argument("--judge", help="judge name or YAML (as for annotate)")
    add_judge_endpoint_options(p, url_flags=("--base-url", "--judge-base-url"))
    p.add_argument(
        "--eval-set",
        default="alpaca_eval",
        help="instructions and baseline answers to audit with (default alpaca_eval)",
    )
    p.add_argument(
        "--n",
        type=int,
        default=50,
        help="instructions sampled (each check judges n pairs x 2 orders; default 50)",
    )
    p.add_argument(
        "--outputs",
        metavar="FILE",
        help="a real model's outputs: position bias and the LC length coefficient are measured on them against "
        "the baseline",
    )
    p.add_argument("--self-outputs", metavar="FILE", help="the judge model's own outputs (self-preference)")
    p.add_argument("--second-judge", metavar="JUDGE", help="the judge to compare self-preference against")
    p.add_argument(
        "--second-base-url", metavar="URL", help="the second judge's endpoint (default: its spec's)"
    )
    p.add_argument("--second-model", metavar="MODEL", help="the second judge's model (default: its spec's)")
    add_key_options(p, key_env=False)
    p.add_argument(
        "--human",
        metavar="FILE",
        help="human preferences (instruction, output_1, output_2, preference; one row per human): agreement and "
        "AlpacaEval's evaluator figures",
    )
    p.add_argument(
        "--checks",
        nargs="+",
        metavar="CHECK",
        help="run only these: constant injection position verbosity self_preference sanity_identical "
        "sanity_right_wrong human_agreement (default: all; those lacking inputs are skipped)",
    )
    p.add_argument(
        "--random-search",
        type=int,
        default=0,
        metavar="STEPS",
        help="optimise an injection prefix for this many steps (needs top log-probs)",
    )
    p.add_argument(
        "--random-search-seconds",
        type=float,
        default=120.0,
        metavar="SECONDS",
        help="time limit of the random search (default 120)",
    )
    add_annotations_option(
        p,
        "instead: P(prefer longer), P(prefer first) and variant shifts of existing annotations (no new call)",
    )
    add_out_option(p, f"audit.json and audit_annotations.json go here (default {DEFAULT_OUT})", metavar="DIR")
    add_store_option(p, default="DIR/audit.sqlite")
    add_limits_options(p, concurrency=8, concurrency_help="judge calls in flight at a time")
    add_seed_option(p, "seed of the instruction sample (default 0)")
    p.add_argument("--strict", action="store_true", help="exit 1 when a check FAILs")
    add_json_option(p)
    add_progress_option(p)
    p.add_argument("--report", metavar="HTML", help="also write the audit as an HTML page")
    return p


def run(args: argparse.Namespace) -> int:
    if args.annotations:
        return _annotation_biases(args)
    if not args.judge:
        raise ConfigError("give --judge NAME (or --annotations PATH... for existing annotations)")
    from judgebench.audit import run_audit

    if args.report:  # before the first paid call
        from judgebench.files.atomic import check_output_file

        check_output_file(args.report, "--report")
    out = args.out or DEFAULT_OUT
    result = run_audit(
        args.judge,
        eval_set=args.eval_set,
        n=args.n,
        out=out,
        base_url=args.base_url,
        model=args.model,
        outputs=args.outputs,
        self_outputs=args.self_outputs,
        second_judge=args.second_judge,
        second_base_url=args.second_base_url,
        second_model=args.second_model,
        random_search=args.random_search,
        random_search_seconds=args.random_search_seconds,
        store=args.store,
        concurrency=args.concurrency,
        seed=args.seed,
        progress=not args.no_progress,
        human=args.human,
        checks=args.checks,
        allow_key_to=tuple(args.allow_key_to or ()),
        **limits_kwargs(args, run_audit),
    )
    if args.json:
        print(json.dumps(result, indent=1, default=str))
    else:
        print(
            f"audit of judge {printable(result['judge'])} ({printable(result['model'])}) on {result['n']} "
            f"{result['eval_set']} instructions, every pair in both orders"
        )
        for c in result["checks"]:
            metric = "-" if c["metric"] is None else f"{c['metric']:.3f}"
            ci = "" if c["ci_low"] is None else f"[{c['ci_low']:.3f}, {c['ci_high']:.3f}]"
            print(f"  {c['status']:4s}  {c['name']:18s} {metric:>6} {ci:16s} n={c['n']:<4d} {c['threshold']}")
        print(f"wrote {out}/audit.json")
    if args.report:
        from judgebench.report import write_report

        write_report(args.report, audit=result, title=f"judgebench audit of {result['judge']}")
        print(f"wrote {args.report}")
    failed = [c["name"] for c in result["checks"] if c["status"] == "FAIL"]
    if args.strict and failed:
        raise CheckFailed(f"--strict: FAIL in {', '.join(failed)} (see the table above or audit.json)")
    return 0


def _annotation_biases(args: argparse.Namespace) -> int:
    from judgebench.runs.runfiles import audit_annotations

    biases = audit_annotations(args.annotations, out=args.out)
    if args.json:
        print(json.dumps(biases, indent=1))
        return 0
    print(f"{biases['n_rows']} judged rows of {biases['n_models']} models")
    lo, hi = biases["p_prefer_longer_ci"]
    print(f"P(prefer longer) {biases['p_prefer_longer']:.3f} [{lo:.3f}, {hi:.3f}]")
    lo, hi = biases["first_slot_rate_ci"]
    print(
        f"first-slot rate {biases['first_slot_rate']:.3f} [{lo:.3f}, {hi:.3f}] (candidates win "
        f"{100 * biases['win_rate_shown_first']:.1f}% shown first, {100 * biases['win_rate_shown_second']:.1f}% "
        "shown second)"
    )
    for v in biases["variant_shifts"]:
        print(
            f"{printable(v['model'])} {printable(v['variant'])}: length x{v['length_ratio']:.2f}, "
            f"raw {v['raw_shift']:+.1f}, LC {v['lc_shift']:+.1f} points"
        )
    return 0
