"""`judgebench profile`: what a judge rewards, property by property (log-odds per list, per bold, ...)."""

from __future__ import annotations

import argparse
import json
import math

from judgebench.cli.options import add_annotations_option, add_json_option, add_out_option


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "profile",
        help="what a judge rewards: log-odds of its preference per answer property (lists, bold, length, ...)",
    )
    add_annotations_option(
        p, "annotation files or folders of one judge (both answers kept: AlpacaEval's format)", True
    )
    p.add_argument(
        "--pooled",
        action="store_true",
        help="one intercept for all models instead of one a model (then the properties also carry "
        "the models' differences in quality)",
    )
    add_json_option(p, "print {n_pairs, n_instructions, n_models, properties: [...]} as JSON")
    add_out_option(p, "also write the table as CSV", metavar="CSV")
    return p


def profile_table(paths, pooled: bool = False):
    from judgebench.files.records import load_annotations
    from judgebench.stats.properties import property_profile, require_statsmodels

    require_statsmodels()  # before reading the files: the missing extra is the first thing to say
    return property_profile(load_annotations(paths, keep_extra=True), model_effects=not pooled)


def _clean(value):
    return None if isinstance(value, float) and math.isnan(value) else value


def run(args: argparse.Namespace) -> int:
    if args.out:
        from judgebench.files.atomic import check_output_file

        check_output_file(args.out)  # a bad --out fails now, not after the fit
    table = profile_table(args.annotations, args.pooled)
    if args.out:
        from judgebench.files.atomic import atomic_write

        atomic_write(args.out, table.to_csv(index=False))
    if args.json:
        rows = [{k: _clean(v) for k, v in row.items()} for row in table.to_dict("records")]
        print(json.dumps({**table.attrs, "properties": rows}, indent=1))
        return 0
    a = table.attrs
    print(
        f"what the judge rewards: {a['n_pairs']} judged pairs, {a['n_instructions']} instructions, "
        f"{a['n_models']} models; log-odds of preferring the answer with the property "
        f"({a['level']:.0%} interval, clustered by instruction)"
    )
    print(f"  {'property':15s} {'log-odds':>8s} {'interval':>17s} {'pairs differ':>12s} {'P(prefer)':>9s}")
    for r in table.to_dict("records"):
        if _clean(r.get("log_odds")) is None:
            print(f"  {r['property']:15s} {'-':>8s} {'(never differs)':>17s} {r['n_differ']:12d}")
            continue
        pref = _clean(r.get("p_prefer_having"))
        print(
            f"  {r['property']:15s} {r['log_odds']:+8.2f} [{r['ci_low']:+6.2f}, {r['ci_high']:+6.2f}] "
            f"{r['n_differ']:12d} {'' if pref is None else f'{pref:9.2f}'}"
        )
    for note in a.get("warnings", []):
        print(f"  warning from the fit: {note}")
    if args.out:
        print(f"wrote {args.out}")
    return 0
