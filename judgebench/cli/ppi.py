"""`judgebench ppi`: an expensive judge's win rate from a cheap judge's annotations of every pair plus the
expensive judge's annotations of a random few (PPI++, `stats/ppi.py`)."""

from __future__ import annotations

import argparse
import json
import math

from judgebench.cli.declared import number
from judgebench.cli.options import add_json_option, add_n_boot_option, add_paths_option, add_seed_option
from judgebench.files.safetext import printable


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "ppi", help="an expensive judge's win rate from a cheap judge plus a few expensive judgments (PPI++)"
    )
    add_paths_option(p, "--cheap", "the cheap judge's annotations of every pair", required=True)
    add_paths_option(
        p, "--gold", "the expensive judge's annotations of a random subset of those pairs", required=True
    )
    p.add_argument(
        "--level",
        type=number(float, above=0, below=1),
        default=0.95,
        help="interval level, in (0, 1) (default 0.95)",
    )
    p.add_argument(
        "--target",
        choices=("population", "pairs"),
        default="population",
        help="population: the gold judge's win rate on the instructions' population (default, as AlpacaEval's "
        "standard error); pairs: its win rate on exactly these pairs (finite-population correction)",
    )
    p.add_argument("--no-lc", action="store_true", help="skip the LC win rate (its bootstrap takes seconds)")
    add_n_boot_option(p, 1000)
    add_seed_option(p, "seed of the LC bootstrap (default 0)")
    add_json_option(p)
    return p


def _finite(value):
    """NaN and infinities as JSON null."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def run(args: argparse.Namespace) -> int:
    from judgebench.files.records import load_annotations
    from judgebench.stats.ppi_lc import ppi_by_model

    cheap = load_annotations(args.cheap, keep_extra=False)
    gold = load_annotations(args.gold, keep_extra=False)
    results = [
        _finite(r)
        for r in ppi_by_model(
            cheap, gold, args.level, args.target, lc=not args.no_lc, n_boot=args.n_boot, seed=args.seed
        )
    ]
    if args.json:
        print(json.dumps(results[0] if len(results) == 1 else results, indent=1))
        return 0
    for r in results:
        print("\n".join(ppi_lines(r, f"{printable(r['model'])}: gold judge's")))
    return 0


def ppi_lines(r: dict, who: str) -> list[str]:
    """A PPI result (`ppi_by_model`'s, or summary.json's `gold`) as text: `who` starts the first line."""
    g = r["gold_only"]
    lines = [
        f"{who} win rate {r['win_rate']:.1f} [{r['lower']:.1f}, {r['upper']:.1f}] ({100 * r['level']:g}%, PPI++ "
        f"from {r['n_gold']} gold and {r['n_cheap']} cheap judgments, lambda {r['lambda']:.2f})",
        f"  gold judge alone on the same {r['n_gold']}: {g['win_rate']:.1f} [{g['lower']:.1f}, {g['upper']:.1f}]"
        f"; interval width ratio {r['width_ratio']:.2f}; cheap judge alone {r['cheap_only']['win_rate']:.1f}"
        f"; agreement {100 * r['agreement']:.0f}%",
    ]
    lc = r.get("lc") or {}
    if lc.get("lc_win_rate") is not None:
        lines.append(
            f"  LC win rate {lc['lc_win_rate']:.1f} [{lc['lower']:.1f}, {lc['upper']:.1f}] (gold alone "
            f"{lc['gold_only']['lc_win_rate']:.1f} [{lc['gold_only']['lower']:.1f}, {lc['gold_only']['upper']:.1f}])"
        )
    elif lc.get("reason"):
        lines.append(f"  no LC win rate: {lc['reason']}")
    if r["n_gold_failed"] or r["n_cheap_missing"]:
        lines.append(
            f"  {r['n_gold_failed']} gold and {r['n_cheap_missing']} cheap judgments without a verdict were "
            "left out of the gold sample and the cheap pairs respectively"
        )
    return lines
