"""`judgebench import-annotations`: put AlpacaEval annotation files' judge calls into a store."""

from __future__ import annotations

import argparse

from judgebench.cli.options import add_annotations_option, add_store_option


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("import-annotations", help="put AlpacaEval annotation files' judge calls into a store")
    add_annotations_option(p, "AlpacaEval annotation files (with their raw_completion)", required=True)
    p.add_argument("--judge", required=True, help="the judge that made them (its template decides the keys)")
    p.add_argument("--model", help="the judge model, if not the spec's")
    add_store_option(p, required=True)
    return p


def run(args: argparse.Namespace) -> int:
    from judgebench.annotation.importing import import_annotations

    counts = import_annotations(args.annotations, args.judge, args.store, model=args.model)
    skipped = counts["skipped_no_raw_completion"]
    print(
        f"imported {counts['imported']} judge calls from {counts['records']} records into {args.store}"
        + (f"; {skipped} records have no raw completion and were not imported" if skipped else "")
    )
    return 0
