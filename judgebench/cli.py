"""Command line: parses arguments, calls the Python API, and is the one error boundary."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .errors import ConfigError, InputError
from .io import read_json
from .safetext import printable


def _cmd_leaderboard(args) -> int:
    from .leaderboard import (
        format_table,
        make_leaderboard,
        read_difficulty,
        read_leaderboard,
        write_leaderboard,
    )

    paths = args.annotations or [str(_default_annotations())]
    existing = read_leaderboard(args.out) if args.update and args.out and Path(args.out).exists() else None
    difficulty = read_difficulty(args.difficulty) if args.difficulty else None
    source = paths
    if args.report:  # read once: the report's breakdowns need the same rows
        from .io import load_annotations
        from .leaderboard import default_workers

        source = load_annotations(paths, keep_extra=False, workers=args.workers or default_workers(),
                                  keep_outputs=not args.no_detect)
    board, info = make_leaderboard(source, difficulty=difficulty, gamed=args.gamed, n_boot=args.n_boot,
                                   seed=args.seed, workers=args.workers, existing=existing,
                                   lc_solver=args.lc_solver, detect_cheating=not args.no_detect)
    if args.out:
        write_leaderboard(board, args.out)
    if args.format == "markdown":
        from .report import render_markdown

        print(render_markdown(board))
    else:
        print(format_table(board))
    if args.report:
        from .report import write_report

        write_report(args.report, board=board, annotations=source,
                     inputs=[args.out] if args.out else None, title="judgebench leaderboard")
        print(f"wrote {args.report}")
    print(f"\nLC inputs: {info['lc_difficulty']}")
    if info["missing_preferences"]:
        print("rows without a preference (excluded from the rates, counted here): "
              + ", ".join(f"{printable(m)} {n}" for m, n in info["missing_preferences"].items()))
    if info["empty_outputs"]:
        print("empty outputs (judged as they are, counted in the rates): "
              + ", ".join(f"{printable(m)} {n}" for m, n in info["empty_outputs"].items()))
    for m in info["flagged"]:
        print(f"FLAGGED {printable(m)}: its outputs fail the cheating checks ({board.loc[m, 'cheating_flags']}); "
              f"run `judgebench detect --outputs FILE` on them for the evidence")
    if args.out:
        print(f"wrote {args.out} ({info['n_models']} models, {info['n_fitted']} fitted now)")
    return 0


def _cmd_compare(args) -> int:
    from .io import load_annotations
    from .leaderboard import read_difficulty
    from .stats.paired import paired_comparison

    df = load_annotations(args.annotations, keep_extra=False)
    difficulty = read_difficulty(args.difficulty) if args.difficulty else None
    result = paired_comparison(df, args.a, args.b, difficulty=difficulty, n_boot=args.n_boot, seed=args.seed)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for metric in ("win_rate", "length_controlled_winrate"):
            r = result.get(metric)
            if r:
                print(f"{metric}: {args.b} - {args.a} = {r['difference']:+.2f} points "
                      f"(95% CI {r['ci_low']:+.2f} to {r['ci_high']:+.2f}, p = {r['p_value']:.3g}, "
                      f"{r['method']})")
        print(f"on {result['n_common']} instructions judged for both")
    return 0


def _cmd_difficulty(args) -> int:
    from .io import load_annotations
    from .stats.alpacaeval_lc import read_official_weights
    from .stats.difficulty import estimate_difficulty, marginal_from_official

    df = load_annotations(args.annotations, keep_extra=False)
    weights = read_official_weights(args.official_weights) if args.official_weights else None
    prior = (0.0, 1.0)
    if weights is not None and args.official_leaderboard:
        import pandas as pd

        board = pd.read_csv(args.official_leaderboard, index_col=0)
        prior = marginal_from_official(weights, board["length_controlled_winrate"])[:2]
    d = estimate_difficulty(df, weights=weights, prior=prior)
    from .fsutil import atomic_writer

    with atomic_writer(args.out, newline="") as f:
        d.rename_axis("instruction").reset_index().to_csv(f, index=False)
    print(f"wrote {args.out}: {len(d)} instructions, mean {d.mean():.3f}, sd {d.std():.3f}")
    return 0


def _cmd_annotate(args) -> int:
    from .annotate import annotate_files
    from .fsutil import atomic_write, check_output_file, manifest_path

    out = check_output_file(args.out)  # before the first paid call
    manifest = manifest_path(out)
    check_output_file(manifest, "the manifest")
    if Path(args.store).resolve() in (out.resolve(), manifest.resolve()):
        raise InputError("--out (or its manifest) is the --store: writing it would destroy the judgments",
                         field="--out", hint="give the annotations another file name")
    run = annotate_files(args.outputs, args.baseline, args.judge, args.store, base_url=args.base_url,
                             model=args.model, backend=args.backend, concurrency=args.concurrency,
                             requests_per_minute=args.rpm, tokens_per_minute=args.tpm, timeout=args.timeout,
                             max_retries=args.max_retries, api_key_env=args.api_key_env,
                             progress=not args.no_progress, reparse=args.reparse,
                             max_parse_retries=args.max_parse_retries, max_tokens=args.max_tokens,
                             offline=args.offline, allow_key_to=tuple(args.allow_key_to or ()))
    atomic_write(out, json.dumps(run.records, indent=1, ensure_ascii=False))
    atomic_write(manifest, json.dumps(run.manifest, indent=1))
    s = run.summary
    print(f"{s['pairs']} pairs, {s['calls']} judge calls: {s['cached']} cached, {s['succeeded']} made, "
          f"{s['failed']} failed" + (f" ({', '.join(f'{k} {v}' for k, v in s['failed_reasons'].items())})"
                                      if s["failed_reasons"] else "")
          + f"; {s['requests']} requests ({s['retries']} retried), {s['prompt_tokens'] + s['completion_tokens']} "
          f"tokens, ${s['cost']:.4f}")
    if s["missing_preferences"]:
        print(f"{s['missing_preferences']} pairs have no verdict (see their 'failure' field); rerun to retry them")
    print(f"wrote {out} and {manifest}")
    return 0


def _cmd_import(args) -> int:
    from .annotate import import_annotations

    counts = import_annotations(args.annotations, args.judge, args.store, model=args.model)
    print(f"imported {counts['imported']} judge calls from {counts['records']} records into {args.store}"
          + (f"; {counts['skipped_no_raw_completion']} records have no raw completion and were not imported"
             if counts["skipped_no_raw_completion"] else ""))
    return 0


def _cmd_evaluate(args) -> int:
    from .evaluate import evaluate
    from .generate import Sampling

    if args.report:  # before the first paid call
        from .fsutil import check_output_file

        check_output_file(args.report, "--report")
    sampling = Sampling(max_tokens=args.max_tokens, temperature=args.temperature, top_p=args.top_p, seed=args.seed,
                        system_prompt=args.system_prompt, n=args.n)
    chat_template = Path(args.chat_template).read_text() if args.chat_template else None
    s = evaluate(model=args.model, outputs=args.outputs, eval_set=args.eval_set, baseline=args.baseline,
                     judge=args.judge, judge_base_url=args.judge_base_url, judge_model=args.judge_model,
                     engine=args.engine, base_url=args.base_url, name=args.name, max_instances=args.max_instances,
                     store=args.store, out=args.out, leaderboard=args.leaderboard, sampling=sampling,
                     concurrency=args.concurrency, n_boot=args.n_boot, progress=not args.no_progress,
                     ray_replicas=args.ray_replicas, ray_address=args.ray_address, chat_template=chat_template,
                     tiny=args.tiny, allow_key_to=tuple(args.allow_key_to or ()))
    g, a = s.get("generation") or {}, s["annotation"]
    print(f"{printable(s['generator'])} on {s['eval_set']} ({s['n']} instructions), judge {s['judge']}")
    if g:
        print(f"  generation: {g['generated']} generated, {g['cached']} cached, {g['failed']} failed, "
              f"{g['empty']} empty, {g['truncated']} truncated (max_tokens {args.max_tokens})")
    print(f"  judging: {a['succeeded']} judged, {a['cached']} cached, {a['failed']} failed; "
          f"{a['prompt_tokens'] + a['completion_tokens']} tokens, ${a['cost']:.4f}")
    if s.get("cheating", {}).get("flagged"):
        print("  FLAGGED by the cheating checks: " + "; ".join(s["cheating"]["reasons"])
              + " (evidence in summary.json)")
    if "tiny_error" in s:
        print(f"judgebench: error: no estimate: {s['tiny_error']}\n(judgments saved in {args.out}/annotations.json)",
              file=sys.stderr)
        return 1
    if "tiny_estimate" in s:
        e = s["tiny_estimate"]
        print(f"  ESTIMATED win rate {e['estimate']:.1f} [{e['ci_low']:.1f}, {e['ci_high']:.1f}] from "
              f"{e['n_anchors']} anchors ({e['recommended']}): an estimate, not a measured win rate")
        if "lc" in e:
            print(f"  ESTIMATED LC win rate {e['lc']['estimate']:.1f} [{e['lc']['ci_low']:.1f}, "
                  f"{e['lc']['ci_high']:.1f}] from the same anchors")
        if "warning" in e:
            print(f"  warning: {e['warning']}")
    elif "mt_bench_score" in s:
        print(f"  MT-Bench score: {s['mt_bench_score']} over {s['n_scored']} questions")
    else:
        def ci(lo, hi):
            return f"[{lo:.1f}, {hi:.1f}]" if lo == lo and lo is not None else ""
        print(f"  win rate {s['win_rate']:.2f} {ci(s['win_rate_ci_low'], s['win_rate_ci_high'])}; "
              f"LC {s['length_controlled_winrate']:.2f} {ci(s['lc_ci_low'], s['lc_ci_high'])} "
              f"(difficulty: {s['lc_difficulty']}); {s['n_missing']} without a verdict")
    if args.report and "length_controlled_winrate" in s:
        from .io import annotations_frame, read_records
        from .leaderboard import read_leaderboard
        from .report import write_report

        out = Path(args.out)
        frame = annotations_frame(read_records(out / "annotations.json"), out / "annotations.json", keep_extra=False)
        write_report(args.report, board=read_leaderboard(args.leaderboard or out / "leaderboard.csv"),
                     annotations=frame, manifests=[read_json(out / "annotations.manifest.json")],
                     title=f"judgebench evaluation of {s['generator']}", inputs=[str(out / "annotations.json")])
        print(f"wrote {args.report}")
    written = "annotations, summary.json" if "tiny_estimate" in s else "annotations, leaderboard.csv, summary.json"
    print(f"wrote {args.out}/ ({'model_outputs, ' if s.get('generation') else ''}{written})")
    return 0


def _cmd_suite(args) -> int:
    """Several models x AlpacaEval 2.0, Arena-Hard and MT-Bench: the table, or first its cost."""
    from .generate import Sampling
    from .suite import format_plan, parse_models, plan_suite, run_suite

    models = parse_models(args.models, Sampling(max_tokens=args.max_tokens, temperature=args.temperature,
                                                seed=args.seed))
    limits = {"requests_per_minute": args.requests_per_minute, "tokens_per_minute": args.tokens_per_minute}
    if args.dry_run:
        plan = plan_suite(models, args.benchmarks, args.judge, args.judge_model, args.out, args.max_instances,
                          batch=args.batch, concurrency=args.judge_concurrency, limits=limits)
        if args.json:
            print(json.dumps({k: plan[k] for k in ("calls", "input_tokens", "output_tokens", "usd", "per_benchmark",
                                                   "generations", "expected_seconds", "notes")}, indent=1))
        else:
            print(format_plan(plan))
        return 0
    result = run_suite(models, args.benchmarks, args.judge, args.judge_base_url, args.judge_model, args.out,
                       args.max_instances, args.reference, args.max_cost, args.batch, args.batch_poll_seconds,
                       args.concurrency, args.judge_concurrency, args.n_boot, progress=not args.no_progress)
    print((Path(args.out) / "table.md").read_text(), end="")
    m = result["manifest"]
    print(f"spent ${m['spent_usd']:.4f} in {m['requests']} judge requests; wrote {args.out}/ (table.csv, table.md, "
          "table.tex, report.html, suite.manifest.json, runs/)")
    return 0


def _cmd_audit(args) -> int:
    from . import audit

    if args.annotations:  # biases of the judge behind existing annotations: no new calls
        from .io import load_annotations
        from .leaderboard import make_leaderboard

        df = load_annotations(args.annotations, keep_extra=False)
        biases = audit.annotation_biases(df)
        board, _ = make_leaderboard(df, n_boot=0, detect_cheating=False)
        biases["variant_shifts"] = audit.variant_shifts(board)
        if args.out:
            from .fsutil import atomic_write

            atomic_write(Path(args.out) / "annotation_biases.json", json.dumps(biases, indent=1))
        if args.json:
            print(json.dumps(biases, indent=1))
            return 0
        lo, hi = biases["p_prefer_longer_ci"]
        print(f"{biases['n_rows']} judged rows of {biases['n_models']} models")
        print(f"P(prefer longer) {biases['p_prefer_longer']:.3f} [{lo:.3f}, {hi:.3f}]")
        lo, hi = biases["first_slot_rate_ci"]
        print(f"first-slot rate {biases['first_slot_rate']:.3f} [{lo:.3f}, {hi:.3f}] (candidates win "
              f"{100 * biases['win_rate_shown_first']:.1f}% shown first, {100 * biases['win_rate_shown_second']:.1f}% "
              "shown second)")
        for v in biases["variant_shifts"]:
            print(f"{printable(v['model'])} {printable(v['variant'])}: length x{v['length_ratio']:.2f}, raw {v['raw_shift']:+.1f}, "
                  f"LC {v['lc_shift']:+.1f} points")
        return 0
    if not args.judge:
        raise ConfigError("give --judge NAME (or --annotations PATH... for existing annotations)")
    if args.report:  # before the first paid call
        from .fsutil import check_output_file

        check_output_file(args.report, "--report")
    result = audit.run_audit(args.judge, eval_set=args.eval_set, n=args.n, out=args.out or "runs/audit",
                             base_url=args.base_url, model=args.model, outputs=args.outputs,
                             self_outputs=args.self_outputs, second_judge=args.second_judge,
                             second_base_url=args.second_base_url, second_model=args.second_model,
                             random_search=args.random_search, random_search_seconds=args.random_search_seconds,
                             store=args.store, concurrency=args.concurrency, seed=args.seed,
                             progress=not args.no_progress, human=args.human, checks=args.checks,
                             allow_key_to=tuple(args.allow_key_to or ()))
    if args.json:
        print(json.dumps(result, indent=1, default=str))
    else:
        print(f"audit of judge {printable(result['judge'])} ({printable(result['model'])}) on {result['n']} {result['eval_set']} "
              "instructions, every pair in both orders")
        for c in result["checks"]:
            metric = "-" if c["metric"] is None else f"{c['metric']:.3f}"
            ci = "" if c["ci_low"] is None else f"[{c['ci_low']:.3f}, {c['ci_high']:.3f}]"
            print(f"  {c['status']:4s}  {c['name']:18s} {metric:>6} {ci:16s} n={c['n']:<4d} {c['threshold']}")
        print(f"wrote {args.out or 'runs/audit'}/audit.json")
    if args.report:
        from .report import write_report

        write_report(args.report, audit=result, title=f"judgebench audit of {result['judge']}")
        print(f"wrote {args.report}")
    failed = [c["name"] for c in result["checks"] if c["status"] == "FAIL"]
    return 1 if args.strict and failed else 0


def _cmd_report(args) -> int:
    from .leaderboard import read_leaderboard
    from .report import render_markdown, render_text, write_report

    for path in [args.leaderboard, args.audit and str(Path(args.audit) / "audit.json"), *(args.manifest or [])]:
        if path and not Path(path).is_file():
            raise InputError("file not found", path=path, hint="check the path (--audit takes the audit's --out folder)")
    board = read_leaderboard(args.leaderboard) if args.leaderboard else None
    if args.format != "html":
        if board is None:
            raise ConfigError("--format text/markdown needs --leaderboard")
        text = render_markdown(board) if args.format == "markdown" else render_text(board) + "\n"
        if args.out:
            from .fsutil import atomic_write

            atomic_write(args.out, text)
        else:
            print(text, end="")
        return 0
    annotations = None
    if args.annotations:
        from .io import load_annotations

        annotations = load_annotations(args.annotations, keep_extra=False)
    audit = read_json(Path(args.audit) / "audit.json") if args.audit else None
    manifests = [read_json(m) for m in args.manifest or []]
    if board is None and audit is None:
        raise ConfigError("give --leaderboard and/or --audit")
    out = write_report(args.out or "report.html", board=board, annotations=annotations, audit=audit,
                       manifests=manifests, model=args.model, compare=tuple(args.compare) if args.compare else None,
                       title=args.title, inputs=[p for p in [args.leaderboard, *(args.manifest or [])] if p])
    print(f"wrote {out}")
    return 0


def _cmd_detect(args) -> int:
    from .detect import detect
    from .io import load_outputs

    result = detect(load_outputs(args.outputs))
    if args.json:
        print(json.dumps(result, indent=1, ensure_ascii=False))
        return 0
    print(f"{printable(result['model'])}: {'FLAGGED' if result['flagged'] else 'not flagged'} ({result['n']} outputs)")
    for name, c in result["checks"].items():
        metric = "skipped" if c["metric"] is None else f"{c['metric']:.3f}"
        print(f"  {name:19s} {metric:>8}  threshold {c['threshold']}  {'FLAG' if c['flagged'] else 'ok'}")
    for name, c in result["checks"].items():
        if c["flagged"]:
            print(f"  evidence for {name}: {printable(json.dumps(c['evidence'], ensure_ascii=False)[:600])}")
    return 0


def _cmd_store(args) -> int:
    from .store import copy_store
    from .store_postgres import redact

    counts = copy_store(args.src, args.dst)
    print(f"copied {counts['judgments']} judgments and {counts['generations']} generations from "
          f"{redact(str(args.src))} to {redact(str(args.dst))}")
    return 0


def _cmd_tiny(args) -> int:
    from .io import load_annotations
    from .stats.irt import TinyModel, estimate_from_annotations, fit_tiny

    if args.tiny_command == "fit":
        tiny = fit_tiny(load_annotations(args.annotations, keep_extra=False), n_anchors=args.n_anchors, seed=args.seed,
                        dim=args.dim, n_draws=args.draws)
        tiny.save(args.out)
        e = tiny.expected_error
        print(f"wrote {args.out}: {len(tiny.anchors)} anchors of {len(tiny.item_keys)} instructions (one drawn at random "
              f"per stratum, best of {tiny.n_draws} draws), fitted on {len(tiny.fitted_on)} models; this draw's error "
              f"on the fitted models, each left out of the IRT fit: {e['chosen_draw']:.2f} points RMS (a typical draw "
              f"{e['typical_draw']:.2f}; bench/tiny.py measures it on models outside the fit)")
        if tiny.excluded:
            print("left out of the fit: " + "; ".join(f"{printable(m)} ({why})" for m, why in tiny.excluded.items()))
        return 0
    tiny = TinyModel.load(args.tiny)
    if args.tiny_command == "anchors":
        from .evalsets import load_eval_set
        from .stats.difficulty import instruction_key

        data = load_eval_set(args.eval_set)
        keep = set(tiny.anchor_keys)
        subset = data[data["instruction"].map(instruction_key).isin(keep)]
        if len(subset) != len(keep):
            print(f"judgebench: error: {len(keep) - len(subset)} anchors are not in {args.eval_set}", file=sys.stderr)
            return 2
        from .fsutil import atomic_write

        atomic_write(args.out, subset.to_json(orient="records", indent=1, force_ascii=False))
        print(f"wrote {args.out}: the {len(subset)} anchor instructions (use as --eval-set FILE)")
        return 0
    result = estimate_from_annotations(tiny, load_annotations(args.annotations, keep_extra=False))
    if args.json:
        print(json.dumps(result, indent=1))
    else:
        print(f"{printable(result['model'])}: ESTIMATED win rate {result['estimate']:.1f} "
              f"[{result['ci_low']:.1f}, {result['ci_high']:.1f}] ({result['recommended']}, from "
              f"{result['n_anchors']} anchors)")
        for k in ("difference", "stratified", "p-irt", "lc"):
            if k in result:
                r = result[k]
                ci = f" [{r['ci_low']:.1f}, {r['ci_high']:.1f}]" if r.get("ci_low") is not None else " (no interval)"
                print(f"  {k:10s} {r['estimate']:5.1f}{ci}" + ("  (length-controlled)" if k == "lc" else ""))
        if "warning" in result:
            print(f"  warning: {result['warning']}")
    return 0


def _default_annotations() -> Path:
    from .config import data_dir

    return data_dir() / "alpacaeval" / "annotations"


DESCRIPTION = """judgebench: an LLM-judge evaluation harness in the style of AlpacaEval 2.0.

Generate a model's answers, have a judge compare them with a baseline's (every call cached in a store),
and report win rates, length-controlled win rates and honest intervals; regenerate leaderboards from
stored annotations; audit judges for length, position and adversarial bias."""

EPILOG = """exit codes: 0 success, 1 a check asked for failed (--strict, flagged), 2 bad input or setting,
3 a model or judge server failed, 4 store, disk or output folder unusable, 70 internal error (a bug),
130 interrupted (judge calls already made are kept)."""


ALLOW_KEY_HELP = ("send the API key to these hosts too (it goes, unasked, only over https to its provider's "
                  "documented host, e.g. api.openai.com); a judge spec's base_url cannot do this for you")


def build_parser() -> argparse.ArgumentParser:
    ap = _Parser(prog="judgebench", description=DESCRIPTION, epilog=EPILOG,
                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--debug", action="store_true",
                    help="show the traceback behind an error (also JUDGEBENCH_DEBUG=1; accepted anywhere)")
    ap.add_argument("--max-input-size", metavar="SIZE",
                    help="largest (decompressed) input file read, e.g. 8G (default 2G; a gzip bomb stops there; "
                         "also JUDGEBENCH_MAX_INPUT_BYTES)")
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")

    lb = sub.add_parser("leaderboard", help="leaderboard CSV (AlpacaEval columns + CIs) from annotation files")
    lb.add_argument("--annotations", nargs="+", metavar="PATH",
                    help="annotation files, folders or globs (default: $JUDGEBENCH_DATA/alpacaeval/annotations)")
    lb.add_argument("--out", metavar="CSV", help="where to write the leaderboard")
    lb.add_argument("--difficulty", metavar="CSV", help="instruction,instruction_difficulty for the LC GLM")
    lb.add_argument("--gamed", nargs="+", metavar="PATH", help="annotation files of the gamed (verbose/concise) baselines")
    lb.add_argument("--update", action="store_true", help="keep the rows already in --out; fit only new models")
    lb.add_argument("--n-boot", type=int, default=1000, help="bootstrap resamples for the CIs (0: none)")
    lb.add_argument("--seed", type=int, default=0)
    lb.add_argument("--workers", type=int, default=None, help="processes (default: up to 4, one per core)")
    lb.add_argument("--lc-solver", choices=["fast", "liblinear"], default=None,
                    help="fast: exact optimum; liblinear: AlpacaEval's own solver, bit for bit, ~10x slower (default: "
                         "liblinear with AlpacaEval's own LC inputs, else fast)")
    lb.add_argument("--no-detect", action="store_true", help="skip the cheating checks on the outputs (~0.14 s a model)")
    lb.add_argument("--format", choices=["text", "markdown"], default="text", help="how to print the table")
    lb.add_argument("--report", metavar="HTML", help="also write the HTML report (leaderboard, charts, breakdowns)")
    lb.set_defaults(func=_cmd_leaderboard)

    cp = sub.add_parser("compare", help="is model B better than model A? paired difference with CI and p-value")
    cp.add_argument("--annotations", nargs="+", required=True, metavar="PATH")
    cp.add_argument("--a", required=True, metavar="MODEL", help="model A (its generator_2 name)")
    cp.add_argument("--b", required=True, metavar="MODEL", help="model B, compared with A")
    cp.add_argument("--difficulty", metavar="CSV")
    cp.add_argument("--n-boot", type=int, default=2000)
    cp.add_argument("--seed", type=int, default=0)
    cp.add_argument("--json", action="store_true")
    cp.set_defaults(func=_cmd_compare)

    an = sub.add_parser("annotate", help="judge a candidate's outputs against a baseline's (cached, resumable)")
    an.add_argument("--outputs", required=True, metavar="FILE", help="candidate outputs (AlpacaEval model_outputs format)")
    an.add_argument("--baseline", required=True, metavar="FILE", help="baseline outputs, same instructions")
    an.add_argument("--judge", default="alpacaeval2", help="judge spec: a name in prompts/, a .yaml, or alpaca_eval:CONFIG")
    an.add_argument("--base-url", nargs="+", metavar="URL",
                    help="OpenAI-compatible endpoint (vllm serve, llama.cpp server, OpenAI); several: replicas of "
                         "one judge, each call to the least busy, a failing one rested")
    an.add_argument("--model", help="judge model name (default: the spec's)")
    an.add_argument("--backend", choices=["openai", "llamacpp", "vllm"], help="default: the spec's")
    an.add_argument("--api-key-env", help="environment variable holding the API key (default OPENAI_API_KEY, "
                                          "which servers on this machine are not sent)")
    an.add_argument("--allow-key-to", nargs="+", metavar="HOST", help=ALLOW_KEY_HELP)
    an.add_argument("--store", required=True, metavar="DB",
                    help="store of judge calls: a SQLite file (created if absent) or postgresql://USER@HOST:PORT/DB")
    an.add_argument("--out", required=True, metavar="JSON", help="annotations, AlpacaEval format")
    an.add_argument("--concurrency", type=int, default=16)
    an.add_argument("--rpm", type=float, help="requests per minute limit")
    an.add_argument("--tpm", type=float, help="tokens per minute limit")
    an.add_argument("--timeout", type=float, default=120.0, help="seconds per request")
    an.add_argument("--max-retries", type=int, default=6, help="retries on 429/5xx/timeouts/dropped connections")
    an.add_argument("--max-parse-retries", type=int, help="asks again when a reply cannot be parsed (default: spec)")
    an.add_argument("--max-tokens", type=int, help="override the spec's max_tokens (part of each call's key)")
    an.add_argument("--reparse", action="store_true", help="re-derive verdicts from stored raw outputs first")
    an.add_argument("--offline", action="store_true",
                    help="make no call: export what the store holds (missing judgments are listed as failed)")
    an.add_argument("--no-progress", action="store_true")
    an.set_defaults(func=_cmd_annotate)

    ev = sub.add_parser("evaluate", help="generate, judge and score a model against a baseline (resumable)")
    ev.add_argument("--model", help="a .gguf file (llama.cpp), a served model name (with --base-url), or a "
                                    "vLLM model; default: the embedded SmolLM2")
    ev.add_argument("--outputs", metavar="FILE", help="skip generation: judge these outputs")
    ev.add_argument("--engine", choices=["llamacpp", "openai", "vllm", "transformers"],
                    help="default: openai with --base-url, transformers for a model folder, else llama.cpp (GGUF)")
    ev.add_argument("--base-url", help="OpenAI-compatible endpoint serving --model")
    ev.add_argument("--name", help="generator name in the outputs and leaderboard")
    ev.add_argument("--eval-set", default="alpaca_eval", help="alpaca_eval, arena-hard-v0.1, mt-bench, a file, hf:...")
    ev.add_argument("--baseline", help="baseline outputs file (default: the eval set's own)")
    ev.add_argument("--judge", default="local", help="judge spec (default: local, needs no key)")
    ev.add_argument("--judge-base-url", nargs="+", metavar="URL", help="the judge's endpoint(s); several: replicas")
    ev.add_argument("--allow-key-to", nargs="+", metavar="HOST", help=ALLOW_KEY_HELP)
    ev.add_argument("--judge-model")
    ev.add_argument("--max-instances", type=int, help="only the first N instructions")
    ev.add_argument("--store", metavar="DB", help="SQLite file or postgresql:// URL (default: OUT/store.sqlite)")
    ev.add_argument("--out", default="runs/latest", metavar="DIR")
    ev.add_argument("--leaderboard", metavar="CSV", help="merge this model's row into a leaderboard CSV")
    ev.add_argument("--max-tokens", type=int, default=512)
    ev.add_argument("--temperature", type=float, default=0.0)
    ev.add_argument("--top-p", type=float, default=1.0)
    ev.add_argument("--seed", type=int, default=0)
    ev.add_argument("--system-prompt")
    ev.add_argument("--n", type=int, default=1, help="samples per instruction (seeds seed..seed+n-1); "
                                                    "the first is judged, all are kept in the outputs")
    ev.add_argument("--chat-template", metavar="FILE", help="Jinja2 chat template replacing the model's own")
    ev.add_argument("--concurrency", type=int, default=8)
    ev.add_argument("--n-boot", type=int, default=1000)
    ev.add_argument("--report", metavar="HTML", help="also write the HTML report of this run")
    ev.add_argument("--tiny", metavar="JSON", help="judge only this tiny file's anchors and report the "
                                                  "estimated full win rate (judgebench tiny fit)")
    ev.add_argument("--ray-replicas", type=int, help="generate as a Ray Data job over N engine replicas")
    ev.add_argument("--ray-address", help="Ray cluster address (default: a local cluster; 'auto' inside one)")
    ev.add_argument("--no-progress", action="store_true")
    ev.set_defaults(func=_cmd_evaluate)

    su = sub.add_parser("suite", help="the paper's table: several models x AlpacaEval 2.0, Arena-Hard, MT-Bench")
    su.add_argument("--models", nargs="+", required=True, metavar="SPEC",
                    help="[NAME=]SPEC: a .gguf file, a Hugging Face folder, NAME@URL (a served model), an outputs "
                         "file, 'embedded', or a .yaml run file listing models (name, model, base_url, outputs, "
                         "sampling)")
    su.add_argument("--benchmarks", nargs="+", default=["alpaca_eval", "arena-hard-v0.1", "mt-bench"],
                    metavar="NAME", help="default: alpaca_eval arena-hard-v0.1 mt-bench")
    su.add_argument("--judge", nargs="+", metavar="JUDGE",
                    help="default: each benchmark's standard judge; 'local': the embedded judge for all; "
                         "NAME for all; BENCH=NAME for one")
    su.add_argument("--judge-base-url")
    su.add_argument("--judge-model")
    su.add_argument("--out", default="runs/suite", metavar="DIR")
    su.add_argument("--max-instances", type=int, help="only the first N instructions of each benchmark")
    su.add_argument("--reference", metavar="NAME", help="test every model against this one (Holm-adjusted)")
    su.add_argument("--dry-run", action="store_true", help="make no call: print the calls, tokens, USD and time")
    su.add_argument("--json", action="store_true", help="with --dry-run: print JSON")
    su.add_argument("--max-cost", type=float, metavar="USD", help="stop before the judge spend could pass this")
    su.add_argument("--batch", action="store_true", help="judge through the OpenAI Batch API (half price)")
    su.add_argument("--batch-poll-seconds", type=float, default=30.0)
    su.add_argument("--max-tokens", type=int, default=512, help="generation limit per answer")
    su.add_argument("--temperature", type=float, default=0.0)
    su.add_argument("--seed", type=int, default=0)
    su.add_argument("--concurrency", type=int, default=8, help="generation requests at a time")
    su.add_argument("--judge-concurrency", type=int, default=16)
    su.add_argument("--requests-per-minute", type=float, help="for the dry run's time estimate")
    su.add_argument("--tokens-per-minute", type=float, help="for the dry run's time estimate")
    su.add_argument("--n-boot", type=int, default=200)
    su.add_argument("--no-progress", action="store_true")
    su.set_defaults(func=_cmd_suite)

    im = sub.add_parser("import-annotations", help="put AlpacaEval annotation files' judge calls into a store")
    im.add_argument("--annotations", nargs="+", required=True, metavar="PATH")
    im.add_argument("--judge", required=True, help="the judge that made them (its template decides the keys)")
    im.add_argument("--model", help="the judge model, if not the spec's")
    im.add_argument("--store", required=True, metavar="DB", help="SQLite file or postgresql:// URL")
    im.set_defaults(func=_cmd_import)

    st = sub.add_parser("store", help="manage judgment stores (SQLite files, PostgreSQL databases)")
    stsub = st.add_subparsers(dest="store_command", required=True)
    sc = stsub.add_parser("copy", help="copy every judgment and generation from SRC into DST (merged: an ok "
                                       "judgment is never replaced), e.g. a SQLite file into a team's PostgreSQL")
    sc.add_argument("src", metavar="SRC", help="SQLite file or postgresql://USER@HOST:PORT/DB")
    sc.add_argument("dst", metavar="DST", help="SQLite file (created if absent) or postgresql:// URL")
    st.set_defaults(func=_cmd_store)

    ti = sub.add_parser("tiny", help="tinyBenchmarks: estimate the full win rate from ~100 anchor judgments")
    tsub = ti.add_subparsers(dest="tiny_command", required=True)
    tf = tsub.add_parser("fit", help="fit the IRT model and pick anchors from many models' annotations")
    tf.add_argument("--annotations", nargs="+", required=True, metavar="PATH")
    tf.add_argument("--out", required=True, metavar="JSON")
    tf.add_argument("--n-anchors", type=int, default=100)
    tf.add_argument("--dim", type=int, default=1, help="IRT dimension of the control variate (default 1)")
    tf.add_argument("--draws", type=int, default=200,
                    help="stratified random anchor draws to choose from by leave-models-out expected error")
    tf.add_argument("--seed", type=int, default=0)
    ta = tsub.add_parser("anchors", help="write the anchor instructions as an eval-set file")
    ta.add_argument("--tiny", required=True, metavar="JSON")
    ta.add_argument("--eval-set", default="alpaca_eval")
    ta.add_argument("--out", required=True, metavar="JSON")
    te = tsub.add_parser("estimate", help="estimate a model's full win rate from its anchor annotations")
    te.add_argument("--tiny", required=True, metavar="JSON")
    te.add_argument("--annotations", nargs="+", required=True, metavar="PATH")
    te.add_argument("--json", action="store_true")
    ti.set_defaults(func=_cmd_tiny)

    au = sub.add_parser("audit", help="audit a judge: constant answers, injection, position, verbosity, sanity")
    au.add_argument("--judge", help="judge name or YAML (as for annotate)")
    au.add_argument("--base-url", "--judge-base-url", nargs="+", metavar="URL",
                    help="the judge's endpoint (overrides the spec); several: replicas of one judge")
    au.add_argument("--model", help="the judge's model (overrides the spec; a GGUF path for llamacpp)")
    au.add_argument("--eval-set", default="alpaca_eval", help="instructions and baseline answers to audit with")
    au.add_argument("--n", type=int, default=50, help="instructions sampled (each check judges n pairs x 2 orders)")
    au.add_argument("--outputs", metavar="FILE", help="a real model's outputs: position bias and the LC length "
                                                      "coefficient are measured on them against the baseline")
    au.add_argument("--self-outputs", metavar="FILE", help="the judge model's own outputs (self-preference)")
    au.add_argument("--second-judge", help="the judge to compare self-preference against")
    au.add_argument("--second-base-url")
    au.add_argument("--allow-key-to", nargs="+", metavar="HOST", help=ALLOW_KEY_HELP)
    au.add_argument("--second-model")
    au.add_argument("--human", metavar="FILE", help="human preferences (instruction, output_1, output_2, "
                                                    "preference; one row per human): agreement and AlpacaEval's "
                                                    "evaluator figures")
    au.add_argument("--checks", nargs="+", metavar="CHECK",
                    help="run only these: constant injection position verbosity self_preference sanity_identical "
                         "sanity_right_wrong human_agreement (default: all; those lacking inputs are skipped)")
    au.add_argument("--random-search", type=int, default=0, metavar="STEPS",
                    help="optimise an injection prefix for this many steps (needs top log-probs)")
    au.add_argument("--random-search-seconds", type=float, default=120.0)
    au.add_argument("--annotations", nargs="+", metavar="PATH",
                    help="instead: P(prefer longer), P(prefer first) and variant shifts of existing annotations")
    au.add_argument("--out", metavar="DIR", help="audit.json and audit_annotations.json go here (runs/audit)")
    au.add_argument("--store", help="SQLite file or postgresql:// URL (default: DIR/audit.sqlite)")
    au.add_argument("--concurrency", type=int, default=8)
    au.add_argument("--seed", type=int, default=0)
    au.add_argument("--strict", action="store_true", help="exit 1 when a check FAILs")
    au.add_argument("--json", action="store_true")
    au.add_argument("--no-progress", action="store_true")
    au.add_argument("--report", metavar="HTML", help="also write the audit as an HTML page")
    au.set_defaults(func=_cmd_audit)

    rp = sub.add_parser("report", help="the HTML report (or a text/Markdown table) of a leaderboard and/or an audit")
    rp.add_argument("--leaderboard", metavar="CSV")
    rp.add_argument("--annotations", nargs="+", metavar="PATH", help="for the per-dataset breakdown and the paired "
                                                                     "comparison")
    rp.add_argument("--audit", metavar="DIR", help="a `judgebench audit` output folder")
    rp.add_argument("--manifest", nargs="+", metavar="JSON", help="run manifests to show (annotations.manifest.json)")
    rp.add_argument("--model", help="the model for the breakdown (default: the top annotated one)")
    rp.add_argument("--compare", nargs=2, metavar=("A", "B"), help="paired comparison B - A (default: the top two)")
    rp.add_argument("--format", choices=["html", "markdown", "text"], default="html")
    rp.add_argument("--title", default="judgebench report")
    rp.add_argument("--out", metavar="PATH", help="default: report.html (html) or stdout")
    rp.set_defaults(func=_cmd_report)

    de = sub.add_parser("detect", help="cheating checks on a submission's outputs (null models, prompt injection)")
    de.add_argument("--outputs", required=True, metavar="FILE", help="model outputs (instruction, output, generator)")
    de.add_argument("--json", action="store_true", help="print {flagged, reasons, checks with evidence} as JSON")
    de.set_defaults(func=_cmd_detect)

    df = sub.add_parser("difficulty", help="estimate per-instruction difficulty for the LC GLM")
    df.add_argument("--annotations", nargs="+", required=True, metavar="PATH")
    df.add_argument("--official-weights", metavar="CSV", help="hold these per-model GLM weights fixed")
    df.add_argument("--official-leaderboard", metavar="CSV", help="published LC values that set the prior")
    df.add_argument("--out", required=True, metavar="CSV")
    df.set_defaults(func=_cmd_difficulty)
    return ap


class _Parser(argparse.ArgumentParser):
    """argparse with the tool's one-line error format (argparse's own prints the whole usage first)."""

    def error(self, message: str):
        self.exit(2, f"judgebench: error: {message} (see `{self.prog} --help`)\n")


# Smallest sensible value of each numeric option, by its name on any command (checked once, after parsing):
# a negative bootstrap count or zero concurrency is a typo, not a request.
_AT_LEAST = {"n_boot": 0, "workers": 1, "concurrency": 1, "max_instances": 1, "n": 1, "max_tokens": 1,
             "n_anchors": 1, "dim": 1, "max_retries": 0, "max_parse_retries": 0, "ray_replicas": 1,
             "random_search": 0, "max_cost": 0}
_ABOVE_ZERO = ("rpm", "tpm", "timeout", "random_search_seconds")


def _check_ranges(args: argparse.Namespace) -> None:
    def flag(name: str) -> str:
        return "--" + name.replace("_", "-")

    for name, low in _AT_LEAST.items():
        value = getattr(args, name, None)
        if isinstance(value, (int, float)) and value < low:
            raise ConfigError(f"argument {flag(name)}: must be at least {low}, got {value}")
    for name in _ABOVE_ZERO:
        value = getattr(args, name, None)
        if isinstance(value, (int, float)) and not value > 0:
            raise ConfigError(f"argument {flag(name)}: must be above 0, got {value}")
    for name in ("temperature", "top_p"):
        value = getattr(args, name, None)
        if isinstance(value, float) and (value < 0 or value != value):
            raise ConfigError(f"argument {flag(name)}: must be at least 0, got {value}")


def _one_line(text: str) -> str:
    """A message as one printable line: control characters (terminal escapes) shown escaped."""
    from .redact import redact

    text = " | ".join(part.strip() for part in redact(text).splitlines() if part.strip())
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def main(argv: list[str] | None = None) -> int:
    """The error boundary: a user's error is one line and a documented exit code, never a traceback."""
    import os
    import traceback

    from .errors import EXIT_INTERNAL, EXIT_INTERRUPTED, JudgebenchError

    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv or os.environ.get("JUDGEBENCH_DEBUG", "") not in ("", "0")
    args = build_parser().parse_args([a for a in argv if a != "--debug"])
    try:
        _check_ranges(args)
        if args.max_input_size:
            from .io import parse_size

            os.environ["JUDGEBENCH_MAX_INPUT_BYTES"] = str(parse_size(args.max_input_size))
        return args.func(args)
    except KeyboardInterrupt:
        print("judgebench: interrupted (judge calls already made are kept in the store; rerun to go on)",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    except JudgebenchError as err:
        code, message, trace = err.exit_code, str(err), traceback.format_exc()
    except OSError as err:  # the user's environment: a path that is missing, unreadable, full or read-only
        where = f"{err.filename}: " if err.filename else ""
        code, message = 4, f"{where}{err.strerror or err} -> check the path, its permissions and free disk space"
        trace = traceback.format_exc()
    except MemoryError:
        code, message = 4, "out of memory -> use fewer workers or a smaller input (see --help for limits)"
        trace = traceback.format_exc()
    except Exception as err:  # a bug in judgebench, not the user's doing
        if debug:
            traceback.print_exc()
        print(f"judgebench: internal error: {type(err).__name__}: {_one_line(err)} -> this is a bug; rerun with "
              "--debug (or JUDGEBENCH_DEBUG=1) and report the traceback", file=sys.stderr)
        return EXIT_INTERNAL
    if debug:
        print(trace, end="", file=sys.stderr)
    print(f"judgebench: error: {_one_line(message)}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
