"""`judgebench detect`: the cheating checks on a submission's outputs (null models, prompt injection)."""

from __future__ import annotations

import argparse
import json

from judgebench.cli.options import add_json_option
from judgebench.files.safetext import printable


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "detect", help="cheating checks on a submission's outputs (null models, prompt injection)"
    )
    p.add_argument(
        "--outputs", required=True, metavar="FILE", help="model outputs (instruction, output, generator)"
    )
    add_json_option(p, "print {flagged, reasons, checks with evidence} as JSON")
    return p


def run(args: argparse.Namespace) -> int:
    from judgebench.files.records import load_outputs
    from judgebench.stats.cheating import detect

    result = detect(load_outputs(args.outputs))
    if args.json:
        print(json.dumps(result, indent=1, ensure_ascii=False))
        return 0
    print(
        f"{printable(result['model'])}: {'FLAGGED' if result['flagged'] else 'not flagged'} ({result['n']} outputs)"
    )
    for name, c in result["checks"].items():
        metric = "skipped" if c["metric"] is None else f"{c['metric']:.3f}"
        print(f"  {name:19s} {metric:>8}  threshold {c['threshold']}  {'FLAG' if c['flagged'] else 'ok'}")
    for name, c in result["checks"].items():
        if c["flagged"]:
            print(f"  evidence for {name}: {printable(json.dumps(c['evidence'], ensure_ascii=False)[:600])}")
    return 0
