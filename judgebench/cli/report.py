"""`judgebench report`: the HTML report (or a text/Markdown table) of a leaderboard and/or an audit."""

from __future__ import annotations

import argparse
from pathlib import Path

from judgebench.cli.options import add_annotations_option, add_out_option, add_paths_option
from judgebench.errors import ConfigError, InputError


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "report", help="the HTML report (or a text/Markdown table) of a leaderboard and/or an audit"
    )
    p.add_argument("--leaderboard", metavar="CSV", help="a leaderboard CSV (judgebench leaderboard --out)")
    add_annotations_option(p, "for the per-dataset breakdown and the paired comparison")
    p.add_argument("--audit", metavar="DIR", help="a `judgebench audit` output folder")
    p.add_argument(
        "--manifest", nargs="+", metavar="JSON", help="run manifests to show (annotations.manifest.json)"
    )
    p.add_argument("--model", help="the model for the breakdown (default: the top annotated one)")
    p.add_argument(
        "--compare", nargs=2, metavar=("A", "B"), help="paired comparison B - A (default: the top two)"
    )
    p.add_argument(
        "--profile",
        action="store_true",
        help="add what the judge of --annotations rewards: log-odds per answer property, table and chart "
        "(needs the stats extra)",
    )
    add_paths_option(
        p,
        "--ppi",
        "add an expensive judge's PPI++ estimates: `judgebench ppi --json` output or the summary.json of an "
        "`evaluate --gold-judge` run",
    )
    p.add_argument("--format", choices=["html", "markdown", "text"], default="html", help="default html")
    p.add_argument("--title", default="judgebench report", help="the page's title (html)")
    add_out_option(p, "default: report.html (html) or stdout", metavar="PATH")
    return p


def run(args: argparse.Namespace) -> int:
    from judgebench.files.records import read_json
    from judgebench.leaderboard.board import read_leaderboard
    from judgebench.report import render_markdown, render_text, write_report
    from judgebench.report.html import ppi_results

    for path in [
        args.leaderboard,
        args.audit and str(Path(args.audit) / "audit.json"),
        *(args.manifest or []),
        *(args.ppi or []),
    ]:
        if path and not Path(path).is_file():
            raise InputError(
                "file not found", path=path, hint="check the path (--audit takes the audit's --out folder)"
            )
    board = read_leaderboard(args.leaderboard) if args.leaderboard else None
    if args.format != "html":
        if board is None:
            raise ConfigError("--format text/markdown needs --leaderboard")
        text = render_markdown(board) if args.format == "markdown" else render_text(board) + "\n"
        if args.out:
            from judgebench.files.atomic import atomic_write

            atomic_write(args.out, text)
        else:
            print(text, end="")
        return 0
    annotations = profile = None
    if args.profile and not args.annotations:
        raise ConfigError("--profile measures the judge behind --annotations -> give --annotations FILE...")
    if args.annotations:
        from judgebench.files.records import load_annotations

        annotations = load_annotations(args.annotations, keep_extra=args.profile)
    if args.profile:
        from judgebench.stats.properties import property_profile, require_statsmodels

        require_statsmodels()
        profile = property_profile(annotations)
    audit = read_json(Path(args.audit) / "audit.json") if args.audit else None
    manifests = [read_json(m) for m in args.manifest or []]
    ppi = [r for path in args.ppi or [] for r in ppi_results(read_json(path), path)]
    if board is None and audit is None and profile is None and not ppi:
        raise ConfigError("give --leaderboard, --audit, --ppi and/or --annotations with --profile")
    out = write_report(
        args.out or "report.html",
        board=board,
        annotations=annotations,
        audit=audit,
        manifests=manifests,
        model=args.model,
        compare=tuple(args.compare) if args.compare else None,
        title=args.title,
        inputs=[p for p in [args.leaderboard, *(args.manifest or []), *(args.ppi or [])] if p],
        profile=profile,
        ppi=ppi,
    )
    print(f"wrote {out}")
    return 0
