"""`judgebench evaluate`: generate a model's answers, judge them against a baseline, score (resumable)."""

from __future__ import annotations

import argparse
from pathlib import Path

from judgebench.cli.options import (
    add_judge_endpoint_options,
    add_key_options,
    add_limits_options,
    add_n_boot_option,
    add_out_option,
    add_progress_option,
    add_store_option,
    backend_names,
    limits_kwargs,
)
from judgebench.errors import CheckFailed
from judgebench.files.safetext import printable


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("evaluate", help="generate, judge and score a model against a baseline (resumable)")
    p.add_argument(
        "--model",
        help="a .gguf file (llama.cpp), a served model name (with --base-url), or a vLLM model; default: the "
        "embedded SmolLM2",
    )
    p.add_argument("--outputs", metavar="FILE", help="skip generation: judge these outputs")
    p.add_argument(
        "--engine",
        choices=backend_names(),
        help="default: openai with --base-url, transformers for a model folder, else llama.cpp (GGUF)",
    )
    p.add_argument("--base-url", metavar="URL", help="OpenAI-compatible endpoint serving --model")
    p.add_argument("--name", help="generator name in the outputs and leaderboard")
    p.add_argument(
        "--eval-set", default="alpaca_eval", help="alpaca_eval, arena-hard-v0.1, mt-bench, a file, hf:..."
    )
    p.add_argument("--baseline", metavar="FILE", help="baseline outputs file (default: the eval set's own)")
    p.add_argument("--judge", default="local", help="judge spec (default: local, needs no key)")
    add_judge_endpoint_options(p, url_flags=("--judge-base-url",), model_flag="--judge-model")
    add_key_options(p)
    p.add_argument("--max-instances", type=int, help="only the first N instructions")
    add_store_option(p, default="OUT/store.sqlite")
    add_out_option(
        p,
        "output folder: model_outputs, annotations, leaderboard.csv, summary.json (default runs/latest)",
        metavar="DIR",
        default="runs/latest",
    )
    p.add_argument("--leaderboard", metavar="CSV", help="merge this model's row into a leaderboard CSV")
    sampling = p.add_argument_group("sampling")
    sampling.add_argument(
        "--max-tokens", type=int, default=512, help="generation limit per answer (default 512)"
    )
    sampling.add_argument(
        "--temperature", type=float, default=0.0, help="sampling temperature (default 0: greedy)"
    )
    sampling.add_argument("--top-p", type=float, default=1.0, help="nucleus sampling mass (default 1)")
    sampling.add_argument("--seed", type=int, default=0, help="sampling seed (default 0)")
    sampling.add_argument("--system-prompt", metavar="TEXT", help="a system message before each instruction")
    sampling.add_argument(
        "--n",
        type=int,
        default=1,
        help="samples per instruction (seeds seed..seed+n-1); the first is judged, all are kept in the outputs",
    )
    p.add_argument("--chat-template", metavar="FILE", help="Jinja2 chat template replacing the model's own")
    add_limits_options(p, concurrency=8, concurrency_help="generation requests in flight at a time")
    add_n_boot_option(p, 1000)
    p.add_argument("--report", metavar="HTML", help="also write the HTML report of this run")
    p.add_argument(
        "--tiny",
        metavar="JSON",
        help="judge only this tiny file's anchors and report the estimated full win rate (judgebench tiny fit)",
    )
    p.add_argument("--ray-replicas", type=int, help="generate as a Ray Data job over N engine replicas")
    p.add_argument("--ray-address", help="Ray cluster address (default: a local cluster; 'auto' inside one)")
    add_progress_option(p)
    return p


def run(args: argparse.Namespace) -> int:
    from judgebench.generation.generate import Sampling
    from judgebench.runs.evaluate import evaluate

    if args.report:  # before the first paid call
        from judgebench.files.atomic import check_output_file

        check_output_file(args.report, "--report")
    sampling = Sampling(
        max_tokens=args.max_tokens,
        temperature=args.temperature,
        top_p=args.top_p,
        seed=args.seed,
        system_prompt=args.system_prompt,
        n=args.n,
    )
    chat_template = Path(args.chat_template).read_text() if args.chat_template else None
    s = evaluate(
        model=args.model,
        outputs=args.outputs,
        eval_set=args.eval_set,
        baseline=args.baseline,
        judge=args.judge,
        judge_base_url=args.judge_base_url,
        judge_model=args.judge_model,
        engine=args.engine,
        base_url=args.base_url,
        name=args.name,
        max_instances=args.max_instances,
        store=args.store,
        out=args.out,
        leaderboard=args.leaderboard,
        sampling=sampling,
        concurrency=args.concurrency,
        n_boot=args.n_boot,
        progress=not args.no_progress,
        ray_replicas=args.ray_replicas,
        ray_address=args.ray_address,
        chat_template=chat_template,
        tiny=args.tiny,
        allow_key_to=tuple(args.allow_key_to or ()),
        api_key_env=args.api_key_env,
        **limits_kwargs(args, evaluate),
    )
    _print_summary(s, args.max_tokens)
    if "tiny_error" in s:  # the judgments are kept; no estimate is claimed
        raise CheckFailed(f"no estimate: {s['tiny_error']} (judgments saved in {args.out}/annotations.json)")
    if args.report and "length_controlled_winrate" in s:
        from judgebench.runs.runfiles import write_evaluation_report

        write_evaluation_report(args.out, args.report, s["generator"], leaderboard=args.leaderboard)
        print(f"wrote {args.report}")
    written = (
        "annotations, summary.json" if "tiny_estimate" in s else "annotations, leaderboard.csv, summary.json"
    )
    print(f"wrote {args.out}/ ({'model_outputs, ' if s.get('generation') else ''}{written})")
    return 0


def _print_summary(s: dict, max_tokens: int) -> None:
    g, a = s.get("generation") or {}, s["annotation"]
    print(f"{printable(s['generator'])} on {s['eval_set']} ({s['n']} instructions), judge {s['judge']}")
    if g:
        print(
            f"  generation: {g['generated']} generated, {g['cached']} cached, {g['failed']} failed, "
            f"{g['empty']} empty, {g['truncated']} truncated (max_tokens {max_tokens})"
        )
    print(
        f"  judging: {a['succeeded']} judged, {a['cached']} cached, {a['failed']} failed; "
        f"{a['prompt_tokens'] + a['completion_tokens']} tokens, ${a['cost']:.4f}"
    )
    if s.get("cheating", {}).get("flagged"):
        print(
            "  FLAGGED by the cheating checks: "
            + "; ".join(s["cheating"]["reasons"])
            + " (evidence in summary.json)"
        )
    if "tiny_error" in s:
        return
    if "tiny_estimate" in s:
        e = s["tiny_estimate"]
        print(
            f"  ESTIMATED win rate {e['estimate']:.1f} [{e['ci_low']:.1f}, {e['ci_high']:.1f}] from "
            f"{e['n_anchors']} anchors ({e['recommended']}): an estimate, not a measured win rate"
        )
        if "lc" in e:
            print(
                f"  ESTIMATED LC win rate {e['lc']['estimate']:.1f} [{e['lc']['ci_low']:.1f}, "
                f"{e['lc']['ci_high']:.1f}] from the same anchors"
            )
        if "warning" in e:
            print(f"  warning: {e['warning']}")
    elif "mt_bench_score" in s:
        print(f"  MT-Bench score: {s['mt_bench_score']} over {s['n_scored']} questions")
    else:

        def ci(lo, hi):
            return f"[{lo:.1f}, {hi:.1f}]" if lo == lo and lo is not None else ""

        print(
            f"  win rate {s['win_rate']:.2f} {ci(s['win_rate_ci_low'], s['win_rate_ci_high'])}; "
            f"LC {s['length_controlled_winrate']:.2f} {ci(s['lc_ci_low'], s['lc_ci_high'])} "
            f"(difficulty: {s['lc_difficulty']}); {s['n_missing']} without a verdict"
        )
