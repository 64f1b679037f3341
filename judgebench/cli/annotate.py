"""`judgebench annotate`: judge a candidate's outputs against a baseline's (cached in a store, resumable)."""

from __future__ import annotations

import argparse

from judgebench.cli.options import (
    add_judge_endpoint_options,
    add_key_options,
    add_limits_options,
    add_out_option,
    add_progress_option,
    add_store_option,
    backend_names,
    limits_kwargs,
)


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "annotate", help="judge a candidate's outputs against a baseline's (cached, resumable)"
    )
    p.add_argument(
        "--outputs", required=True, metavar="FILE", help="candidate outputs (AlpacaEval model_outputs format)"
    )
    p.add_argument("--baseline", required=True, metavar="FILE", help="baseline outputs, same instructions")
    p.add_argument(
        "--judge",
        default="alpacaeval2",
        help="judge spec: a name in prompts/, a .yaml, or alpaca_eval:CONFIG",
    )
    add_judge_endpoint_options(p)
    p.add_argument("--backend", choices=backend_names(), help="the judge's backend (default: the spec's)")
    add_key_options(p)
    add_store_option(p, required=True)
    add_out_option(
        p,
        "where to write the annotations (AlpacaEval format) and, beside them, the manifest",
        metavar="JSON",
        required=True,
    )
    add_limits_options(p, concurrency=16, concurrency_help="judge calls in flight at a time")
    p.add_argument(
        "--max-parse-retries", type=int, help="asks again when a reply cannot be parsed (default: the spec's)"
    )
    p.add_argument("--max-tokens", type=int, help="override the spec's max_tokens (part of each call's key)")
    p.add_argument("--reparse", action="store_true", help="re-derive verdicts from stored raw outputs first")
    p.add_argument(
        "--offline",
        action="store_true",
        help="make no call: export what the store holds (missing judgments are listed as failed)",
    )
    add_progress_option(p)
    return p


def run(args: argparse.Namespace) -> int:
    from judgebench.annotation.annotate import annotate_files
    from judgebench.runs.runfiles import annotation_files, write_annotation_files

    out, manifest = annotation_files(args.out, store=args.store)  # before the first paid call
    result = annotate_files(
        args.outputs,
        args.baseline,
        args.judge,
        args.store,
        base_url=args.base_url,
        model=args.model,
        backend=args.backend,
        concurrency=args.concurrency,
        api_key_env=args.api_key_env,
        progress=not args.no_progress,
        reparse=args.reparse,
        max_parse_retries=args.max_parse_retries,
        max_tokens=args.max_tokens,
        offline=args.offline,
        allow_key_to=tuple(args.allow_key_to or ()),
        **limits_kwargs(args, annotate_files),
    )
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
