"""`judgebench benchmarks`: every benchmark judgebench knows (built-in or a plug-in's), its eval set and judges."""

from __future__ import annotations

import argparse
import json

from judgebench.cli.options import add_json_option


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "benchmarks", help="list the benchmarks (built-in and plug-ins): eval set, judges, turns, source"
    )
    add_json_option(p)
    return p


def describe(bench) -> dict:
    """One benchmark as listed: where its eval set is (and its size, where the data is here)."""
    from judgebench.benchmarks.evalsets import load_named
    from judgebench.errors import InputError
    from judgebench.settings import data_dir

    local = data_dir() / bench.data
    if local.exists():
        source = str(local)
        try:
            size: int | None = len(load_named(bench))
        except InputError as err:  # present but damaged: listed, with what is wrong
            source, size = f"{local} (unreadable: {err})", None
    else:
        hub = f"hf:{':'.join(str(x or '') for x in bench.hub)}" if bench.hub else None
        source, size = (hub or f"missing: {local}"), None
    return {
        "name": bench.name,
        "title": bench.title,
        "eval_set": source,
        "instructions": size,
        "baseline": bench.baseline,
        "judge": bench.judge,
        "local_judge": bench.local_judge,
        "turns": "multi" if bench.multi_turn else "single",
        "source": bench.origin,
    }


def run(args: argparse.Namespace) -> int:
    from judgebench.benchmarks.registry import all_benchmarks

    rows = [describe(b) for b in all_benchmarks().values()]
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    head = ("name", "title", "n", "judge", "local judge", "turns", "source", "eval set")
    table = [
        (
            r["name"],
            r["title"],
            "-" if r["instructions"] is None else str(r["instructions"]),
            r["judge"],
            r["local_judge"],
            r["turns"],
            r["source"],
            r["eval_set"],
        )
        for r in rows
    ]
    widths = [max(len(x) for x in col) for col in zip(head, *table, strict=True)]
    for line in (head, *table):
        print("  ".join(x.ljust(w) for x, w in zip(line, widths, strict=True)).rstrip())
    return 0
