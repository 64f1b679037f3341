"""`judgebench store`: manage judgment stores (SQLite files, PostgreSQL databases)."""

from __future__ import annotations

import argparse


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("store", help="manage judgment stores (SQLite files, PostgreSQL databases)")
    actions = p.add_subparsers(dest="store_command", required=True, metavar="ACTION")
    copy = actions.add_parser(
        "copy",
        help="copy every judgment and generation from SRC into DST (merged: an ok judgment is never "
        "replaced), e.g. a SQLite file into a team's PostgreSQL",
    )
    copy.add_argument("src", metavar="SRC", help="SQLite file or postgresql://USER@HOST:PORT/DB")
    copy.add_argument("dst", metavar="DST", help="SQLite file (created if absent) or postgresql:// URL")
    return p


def run(args: argparse.Namespace) -> int:
    from judgebench.files.redact import redact
    from judgebench.store import copy_store

    counts = copy_store(args.src, args.dst)  # the only action so far: `store copy`
    print(
        f"copied {counts['judgments']} judgments and {counts['generations']} generations from "
        f"{redact(str(args.src))} to {redact(str(args.dst))}"
    )
    return 0
