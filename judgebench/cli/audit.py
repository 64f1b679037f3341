"""`judgebench audit`: audit a judge (constant answers, injection, position, verbosity, sanity, humans),
or measure the biases behind existing annotations."""

from __future__ import annotations

import argparse
import json

from judgebench.cli.declared import add_options, config_from_args
from judgebench.cli.options import add_annotations_option, add_json_option
from judgebench.errors import CheckFailed
from judgebench.files.safetext import printable


def add_parser(sub) -> argparse.ArgumentParser:
    from judgebench.audit.config import AuditConfig

    p = sub.add_parser(
        "audit", help="audit a judge: constant answers, injection, position, verbosity, sanity"
    )
    add_options(p, AuditConfig)
    add_annotations_option(
        p,
        "instead: P(prefer longer), P(prefer first) and variant shifts of existing annotations (no new call)",
    )
    p.add_argument("--strict", action="store_true", help="exit 1 when a check FAILs")
    add_json_option(p)
    p.add_argument("--report", metavar="HTML", help="also write the audit as an HTML page")
    return p


def run(args: argparse.Namespace) -> int:
    if args.annotations:
        return _annotation_biases(args)
    from judgebench.audit import run_audit
    from judgebench.audit.config import DEFAULT_OUT, AuditConfig

    config = config_from_args(AuditConfig, args)  # no --judge: a one-line error, before anything runs
    if args.report:  # before the first paid call
        from judgebench.files.atomic import check_output_file

        check_output_file(args.report, "--report")
    result = run_audit(config)
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
        print(f"wrote {config.out or DEFAULT_OUT}/audit.json")
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
