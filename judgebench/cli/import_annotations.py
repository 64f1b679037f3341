"""`judgebench import-annotations`: put AlpacaEval annotation files' judge calls into a store."""

from __future__ import annotations

import argparse

from judgebench.cli.options import add_annotations_option, add_official_files_options, add_store_option


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("import-annotations", help="put AlpacaEval annotation files' judge calls into a store")
    add_annotations_option(p, "AlpacaEval annotation files (with their raw_completion)")
    p.add_argument("--judge", help="the judge that made them (its template decides the keys)")
    p.add_argument("--model", help="the judge model, if not the spec's")
    add_store_option(p, required=True)
    add_official_files_options(p, statistic=False)
    return p


def run(args: argparse.Namespace) -> int:
    from judgebench.annotation.importing import import_annotations
    from judgebench.cli.leaderboard import _is_alpacaeval, official_request
    from judgebench.errors import InputError

    if not _is_alpacaeval(args.benchmark):
        bench, request = official_request(args, "import-annotations")
        if bench.official.import_calls is None:
            raise InputError(
                f"import-annotations does not read {bench.name}'s judgment files yet",
                field="--benchmark",
                hint="`judgebench leaderboard --benchmark` computes its numbers from them",
            )
        counts = bench.official.import_calls(request, args.store)
        print(
            f"imported {counts['imported']} judge calls from {request.judgments} into {args.store}"
            + "".join(f"; {k.replace('_', ' ')} {v}" for k, v in counts.items() if k != "imported" and v)
        )
        return 0
    for dest in ("annotations", "judge"):
        if not getattr(args, dest):
            raise InputError(f"--{dest} is required for AlpacaEval annotation files", field=f"--{dest}")

    counts = import_annotations(args.annotations, args.judge, args.store, model=args.model)
    skipped = counts["skipped_no_raw_completion"]
    print(
        f"imported {counts['imported']} judge calls from {counts['records']} records into {args.store}"
        + (f"; {skipped} records have no raw completion and were not imported" if skipped else "")
    )
    return 0
