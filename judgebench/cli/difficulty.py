"""`judgebench difficulty`: per-instruction difficulty for the length-controlled GLM."""

from __future__ import annotations

import argparse

from judgebench.cli.options import add_annotations_option, add_out_option


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("difficulty", help="estimate per-instruction difficulty for the LC GLM")
    add_annotations_option(p, "annotation files of many models against one baseline", required=True)
    p.add_argument("--official-weights", metavar="CSV", help="hold these per-model GLM weights fixed")
    p.add_argument("--official-leaderboard", metavar="CSV", help="published LC values that set the prior")
    add_out_option(p, "where to write instruction,instruction_difficulty", metavar="CSV", required=True)
    return p


def run(args: argparse.Namespace) -> int:
    from judgebench.files.atomic import atomic_writer
    from judgebench.files.records import load_annotations
    from judgebench.stats.alpacaeval_lc import read_official_weights
    from judgebench.stats.difficulty import estimate_difficulty, marginal_from_official

    df = load_annotations(args.annotations, keep_extra=False)
    weights = read_official_weights(args.official_weights) if args.official_weights else None
    prior = (0.0, 1.0)
    if weights is not None and args.official_leaderboard:
        import pandas as pd

        board = pd.read_csv(args.official_leaderboard, index_col=0)
        prior = marginal_from_official(weights, board["length_controlled_winrate"])[:2]
    d = estimate_difficulty(df, weights=weights, prior=prior)
    with atomic_writer(args.out, newline="") as f:
        d.rename_axis("instruction").reset_index().to_csv(f, index=False)
    print(f"wrote {args.out}: {len(d)} instructions, mean {d.mean():.3f}, sd {d.std():.3f}")
    return 0
