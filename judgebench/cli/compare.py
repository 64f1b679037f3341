"""`judgebench compare`: is model B better than model A? A paired difference with its interval and p-value."""

from __future__ import annotations

import argparse
import json

from judgebench.cli.options import add_annotations_option, add_json_option, add_n_boot_option, add_seed_option


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "compare", help="is model B better than model A? paired difference with CI and p-value"
    )
    add_annotations_option(p, "annotation files holding both models' judgments", required=True)
    p.add_argument("--a", required=True, metavar="MODEL", help="model A (its generator_2 name)")
    p.add_argument("--b", required=True, metavar="MODEL", help="model B, compared with A")
    p.add_argument("--difficulty", metavar="CSV", help="instruction,instruction_difficulty for the LC GLM")
    add_n_boot_option(p, 2000)
    add_seed_option(p, "seed of the bootstrap (default 0)")
    add_json_option(p)
    return p


def run(args: argparse.Namespace) -> int:
    from judgebench.files.records import load_annotations
    from judgebench.leaderboard.board import read_difficulty
    from judgebench.stats.paired import paired_comparison

    df = load_annotations(args.annotations, keep_extra=False)
    difficulty = read_difficulty(args.difficulty) if args.difficulty else None
    result = paired_comparison(df, args.a, args.b, difficulty=difficulty, n_boot=args.n_boot, seed=args.seed)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    for metric in ("win_rate", "length_controlled_winrate"):
        r = result.get(metric)
        if r:
            print(
                f"{metric}: {args.b} - {args.a} = {r['difference']:+.2f} points "
                f"(95% CI {r['ci_low']:+.2f} to {r['ci_high']:+.2f}, p = {r['p_value']:.3g}, {r['method']})"
            )
    print(f"on {result['n_common']} instructions judged for both")
    return 0
