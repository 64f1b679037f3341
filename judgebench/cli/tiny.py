"""`judgebench tiny fit|anchors|estimate`: tinyBenchmarks, a full win rate estimated from ~100 anchors."""

from __future__ import annotations

import argparse
import json

from judgebench.cli.declared import number
from judgebench.cli.options import add_annotations_option, add_json_option, add_out_option, add_seed_option
from judgebench.files.safetext import printable

TINY_HELP = "a tiny file written by `judgebench tiny fit`"


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("tiny", help="tinyBenchmarks: estimate the full win rate from ~100 anchor judgments")
    actions = p.add_subparsers(dest="tiny_command", required=True, metavar="ACTION")

    fit = actions.add_parser("fit", help="fit the IRT model and pick anchors from many models' annotations")
    add_annotations_option(fit, "annotation files of many models on one eval set, against one baseline", True)
    add_out_option(fit, "where to write the tiny file", metavar="JSON", required=True)
    fit.add_argument(
        "--n-anchors",
        type=number(int, minimum=1),
        default=100,
        help="anchor instructions to pick (default 100)",
    )
    fit.add_argument(
        "--dim",
        type=number(int, minimum=1),
        default=1,
        help="IRT dimension of the control variate (default 1)",
    )
    fit.add_argument(
        "--draws",
        type=number(int, minimum=1),
        default=200,
        help="stratified random anchor draws to choose from by leave-models-out expected error (default 200)",
    )
    add_seed_option(fit, "seed of the IRT fit and the anchor draws (default 0)")

    anchors = actions.add_parser("anchors", help="write the anchor instructions as an eval-set file")
    anchors.add_argument("--tiny", required=True, metavar="JSON", help=TINY_HELP)
    anchors.add_argument(
        "--eval-set",
        default="alpaca_eval",
        help="the eval set the tiny file was fitted on (default alpaca_eval)",
    )
    add_out_option(anchors, "where to write the anchors' eval-set file", metavar="JSON", required=True)

    estimate = actions.add_parser(
        "estimate", help="estimate a model's full win rate from its anchor annotations"
    )
    estimate.add_argument("--tiny", required=True, metavar="JSON", help=TINY_HELP)
    add_annotations_option(estimate, "one model's annotations, covering the anchors", required=True)
    add_json_option(estimate)
    return p


def run(args: argparse.Namespace) -> int:
    return {"fit": _fit, "anchors": _anchors, "estimate": _estimate}[args.tiny_command](args)


def _fit(args: argparse.Namespace) -> int:
    from judgebench.files.records import load_annotations
    from judgebench.stats.irt import fit_tiny

    annotations = load_annotations(args.annotations, keep_extra=False)
    tiny = fit_tiny(annotations, n_anchors=args.n_anchors, seed=args.seed, dim=args.dim, n_draws=args.draws)
    tiny.save(args.out)
    e = tiny.expected_error
    print(
        f"wrote {args.out}: {len(tiny.anchors)} anchors of {len(tiny.item_keys)} instructions (one drawn at random "
        f"per stratum, best of {tiny.n_draws} draws), fitted on {len(tiny.fitted_on)} models; this draw's error "
        f"on the fitted models, each left out of the IRT fit: {e['chosen_draw']:.2f} points RMS (a typical draw "
        f"{e['typical_draw']:.2f}; bench/tiny.py measures it on models outside the fit)"
    )
    if tiny.excluded:
        print(
            "left out of the fit: " + "; ".join(f"{printable(m)} ({why})" for m, why in tiny.excluded.items())
        )
    return 0


def _anchors(args: argparse.Namespace) -> int:
    from judgebench.benchmarks.evalsets import load_eval_set
    from judgebench.files.atomic import atomic_write
    from judgebench.stats.irt import TinyModel, anchor_rows

    subset = anchor_rows(TinyModel.load(args.tiny), load_eval_set(args.eval_set), args.eval_set)
    atomic_write(args.out, subset.to_json(orient="records", indent=1, force_ascii=False))
    print(f"wrote {args.out}: the {len(subset)} anchor instructions (use as --eval-set FILE)")
    return 0


def _estimate(args: argparse.Namespace) -> int:
    from judgebench.files.records import load_annotations
    from judgebench.stats.irt import TinyModel, estimate_from_annotations

    result = estimate_from_annotations(
        TinyModel.load(args.tiny), load_annotations(args.annotations, keep_extra=False)
    )
    if args.json:
        print(json.dumps(result, indent=1))
        return 0
    print(
        f"{printable(result['model'])}: ESTIMATED win rate {result['estimate']:.1f} "
        f"[{result['ci_low']:.1f}, {result['ci_high']:.1f}] ({result['recommended']}, from "
        f"{result['n_anchors']} anchors)"
    )
    for k in ("difference", "stratified", "p-irt", "lc"):
        if k in result:
            r = result[k]
            ci = (
                f" [{r['ci_low']:.1f}, {r['ci_high']:.1f}]"
                if r.get("ci_low") is not None
                else " (no interval)"
            )
            note = ""
            if k == "lc":
                e = r.get("held_out_error") or {}
                note = "  (length-controlled" + (
                    f"; rough: held-out MAE {e['mae']:.1f}, bias {e['bias']:+.1f} against the official LC)"
                    if e
                    else ")"
                )
            print(f"  {k:10s} {r['estimate']:5.1f}{ci}{note}")
    if "warning" in result:
        print(f"  warning: {result['warning']}")
    return 0
