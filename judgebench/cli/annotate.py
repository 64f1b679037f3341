"""`judgebench annotate`: judge a candidate's outputs against a baseline's (cached in a store, resumable)."""

from __future__ import annotations

import argparse

from judgebench.annotation.config import AnnotateConfig
from judgebench.cli.declared import add_options, config_from_args
from judgebench.cli.options import add_out_option


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "annotate", help="judge a candidate's outputs against a baseline's (cached, resumable)"
    )
    add_options(p, AnnotateConfig)
    add_out_option(
        p,
        "where to write the annotations (AlpacaEval format) and, beside them, the manifest",
        metavar="JSON",
        required=True,
    )
    return p


def run(args: argparse.Namespace) -> int:
    from judgebench.annotation.annotate import annotate_files
    from judgebench.runs.runfiles import annotation_files, write_annotation_files

    config = config_from_args(AnnotateConfig, args)
    out, manifest = annotation_files(args.out, store=config.store)  # before the first paid call
    result = annotate_files(config)
    write_annotation_files(result, out, manifest)
    s = result.summary
    reasons = ", ".join(f"{k} {v}" for k, v in s["failed_reasons"].items())
    print(
        f"{s['pairs']} pairs, {s['calls']} judge calls: {s['cached']} cached, {s['succeeded']} made, "
        f"{s['failed']} failed"
        + (f" ({reasons})" if reasons else "")
        + f"; {s['requests']} requests ({s['retries']} retried), {s['prompt_tokens'] + s['completion_tokens']} "
        f"tokens, ${s['cost']:.4f}"
    )
    if s["missing_preferences"]:
        print(
            f"{s['missing_preferences']} pairs have no verdict (see their 'failure' field); rerun to retry them"
        )
    print(f"wrote {out} and {manifest}")
    return 0
