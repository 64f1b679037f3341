"""`judgebench evaluate`: generate a model's answers, judge them against a baseline, score (resumable)."""

from __future__ import annotations

import argparse

from judgebench.cli.declared import add_options, config_from_args
from judgebench.errors import CheckFailed
from judgebench.files.safetext import printable


def add_parser(sub) -> argparse.ArgumentParser:
    from judgebench.runs.config import EvaluateConfig

    p = sub.add_parser("evaluate", help="generate, judge and score a model against a baseline (resumable)")
    add_options(p, EvaluateConfig)
    p.add_argument("--report", metavar="HTML", help="also write the HTML report of this run")
    return p


def run(args: argparse.Namespace) -> int:
    from judgebench.runs.config import EvaluateConfig
    from judgebench.runs.evaluate import evaluate

    if args.report:  # before the first paid call
        from judgebench.files.atomic import check_output_file

        check_output_file(args.report, "--report")
    from judgebench.files.bounded import read_text

    template = read_text(args.chat_template) if args.chat_template else None
    config = config_from_args(EvaluateConfig, args, chat_template=template)
    s = evaluate(config)
    _print_summary(s, config.sampling.max_tokens)
    if s.get("judge_note"):
        print(s["judge_note"])
    out = config.out
    if "tiny_error" in s:  # the judgments are kept; no estimate is claimed
        raise CheckFailed(f"no estimate: {s['tiny_error']} (judgments saved in {out}/annotations.json)")
    if args.report and "length_controlled_winrate" in s:
        from judgebench.runs.runfiles import write_evaluation_report

        write_evaluation_report(out, args.report, s["generator"], leaderboard=config.leaderboard)
        print(f"wrote {args.report}")
    written = (
        "annotations, summary.json" if "tiny_estimate" in s else "annotations, leaderboard.csv, summary.json"
    )
    print(f"wrote {out}/ ({'model_outputs, ' if s.get('generation') else ''}{written})")
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
    elif "benchmark" in s:
        _print_benchmark(s["benchmark"])
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
    if "gold" in s:
        _print_gold(s["gold"])


def _print_benchmark(b: dict) -> None:
    """The benchmark's own figures (e.g. WildBench's WB-Reward / WB-Score), with what they left out."""
    shown = [f"{h} {v:.2f}" for h, v in b["figures"].items() if v is not None]
    d = b["details"]
    counts = f"{d.get('n_failed', 0)} failed judgments left out, {d.get('n_blank', 0)} blank answers judged by rule"
    print(f"  {b['title']}: {'; '.join(shown) or d.get('note', 'no figure')} ({counts})")
    for key, heading in (
        ("task_macro_reward", "WB-Reward task macro"),
        ("task_macro_score", "WB-Score task macro"),
    ):
        if d.get(key) is not None:
            print(f"  {heading} {d[key]:.2f}")


def _print_gold(g: dict) -> None:
    if "error" in g:
        print(f"  gold judge {printable(g['judge'])}: no estimate: {g['error']} (judgments in {g['file']})")
        return
    from judgebench.cli.ppi import ppi_lines

    for line in ppi_lines(g, f"gold judge {printable(g['judge'])}'s"):
        print("  " + line)
