"""`judgebench leaderboard`: the leaderboard CSV (AlpacaEval columns + intervals) from annotation files."""

from __future__ import annotations

import argparse
import contextlib
from pathlib import Path

from judgebench.cli.declared import number
from judgebench.cli.options import (
    add_annotations_option,
    add_n_boot_option,
    add_official_files_options,
    add_out_option,
    add_seed_option,
)
from judgebench.files.safetext import printable
from judgebench.settings import MAX_WORKERS


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("leaderboard", help="leaderboard CSV (AlpacaEval columns + CIs) from annotation files")
    add_annotations_option(
        p,
        "annotation files, folders or globs (default: DATA/alpacaeval/annotations, DATA being --data, $JUDGEBENCH_DATA or ~/.cache/judgebench/data)",
    )
    add_out_option(p, "where to write the leaderboard", metavar="CSV")
    p.add_argument("--difficulty", metavar="CSV", help="instruction,instruction_difficulty for the LC GLM")
    p.add_argument(
        "--gamed", nargs="+", metavar="PATH", help="annotation files of the gamed (verbose/concise) baselines"
    )
    p.add_argument(
        "--update", action="store_true", help="keep the rows already in --out; fit only new models"
    )
    add_n_boot_option(
        p,
        None,
        help="bootstrap resamples for the intervals (default 1000; with --benchmark, the official script's "
        "100; 0: none)",
    )
    add_seed_option(p, "seed of the bootstrap (default 0)")
    p.add_argument(
        "--workers",
        type=number(int, minimum=1, maximum=MAX_WORKERS),
        default=None,
        help="processes (default: up to 4, one per core)",
    )
    p.add_argument(
        "--lc-solver",
        choices=["fast", "liblinear"],
        default=None,
        help="fast: exact optimum; liblinear: AlpacaEval's own solver, bit for bit, ~10x slower (default: "
        "liblinear with AlpacaEval's own LC inputs, else fast)",
    )
    p.add_argument(
        "--lc-alignment",
        choices=["alpacaeval", "instruction"],
        default="alpacaeval",
        help="alpacaeval: for a file in the eval set's order with rows missing, look difficulty up by row "
        "position as AlpacaEval does (its official figures carry that shift; the LC joined by instruction goes "
        "to the lc_by_instruction column); instruction: always join by instruction (default: alpacaeval)",
    )
    p.add_argument(
        "--no-detect", action="store_true", help="skip the cheating checks on the outputs (~0.14 s a model)"
    )
    p.add_argument("--format", choices=["text", "markdown"], default="text", help="how to print the table")
    p.add_argument(
        "--report", metavar="HTML", help="also write the HTML report (leaderboard, charts, breakdowns)"
    )
    add_official_files_options(p, statistic=True)
    return p


def _default_annotations() -> Path:
    from judgebench.settings import data_dir

    return data_dir() / "alpacaeval" / "annotations"


def official_request(args: argparse.Namespace, command: str):
    """The benchmark named by --benchmark and what its official files reader was given, checked."""
    from judgebench.benchmarks.base import OfficialRequest
    from judgebench.benchmarks.registry import get
    from judgebench.errors import InputError

    bench = get(args.benchmark, where="--benchmark")
    official = bench.official
    if official is None:
        raise InputError(
            f"{command} does not read {bench.name}'s official files",
            field="--benchmark",
            hint="benchmarks with official files: "
            + ", ".join(n for n, b in _all_benchmarks().items() if b.official is not None),
        )
    if not args.judgments:
        raise InputError(
            f"--benchmark {bench.name} needs --judgments", field="--judgments", hint=official.what
        )
    for flag, value, allowed in (
        ("--protocol", getattr(args, "protocol", None), official.protocols),
        ("--mode", getattr(args, "mode", None), official.modes),
    ):
        if value is not None and value not in allowed:
            raise InputError(
                f"{flag} {value!r} is not one of {bench.name}'s",
                field=flag,
                hint="choose one of: " + (", ".join(allowed) or f"none ({bench.name} has no {flag[2:]}s)"),
            )
    models = getattr(args, "model_list", None)
    if models and not official.model_list:
        raise InputError(
            f"{bench.name}'s result script has no --model-list", field="--model-list", hint="leave it out"
        )
    judgments = Path(args.judgments)
    if not judgments.exists():
        raise InputError(f"{judgments}: no such file or folder", field="--judgments", hint=official.what)
    return bench, OfficialRequest(
        judgments=judgments,
        answers=Path(args.answers) if getattr(args, "answers", None) else None,
        protocol=getattr(args, "protocol", None) or (official.protocols[0] if official.protocols else None),
        mode=getattr(args, "mode", None) or (official.modes[0] if official.modes else None),
        style_control=bool(getattr(args, "style_control", False)),
        baseline=getattr(args, "baseline", None),
        models=tuple(models) if models else None,
        eval_set=Path(args.eval_set) if getattr(args, "eval_set", None) else None,
        length_penalty=getattr(args, "length_penalty", None),
        n_boot=100 if getattr(args, "n_boot", None) is None else args.n_boot,  # the official scripts' 100
        seed=getattr(args, "seed", 0),
    )


def _all_benchmarks():
    from judgebench.benchmarks.registry import all_benchmarks

    return all_benchmarks()


def _is_alpacaeval(name: str | None) -> bool:
    if name is None:
        return True
    from judgebench.benchmarks.registry import get

    return get(name, where="--benchmark").name == "alpaca_eval"


def _run_official(args: argparse.Namespace) -> int:
    from judgebench.files.atomic import atomic_write, check_output_file

    bench, request = official_request(args, "leaderboard")
    if args.out:
        check_output_file(args.out)
    board = bench.official.leaderboard(request)
    print(board.to_string(float_format=lambda v: f"{v:.2f}"))
    if args.out:
        atomic_write(args.out, board.to_csv(float_format="%.4f"))
        print(
            f"wrote {args.out} ({len(board)} models; {bench.title}, {request.protocol or request.mode or 'official'})"
        )
    return 0


def run(args: argparse.Namespace) -> int:
    if not _is_alpacaeval(args.benchmark):
        return _run_official(args)
    if args.judgments:
        from judgebench.errors import InputError

        raise InputError(
            "--judgments is for another benchmark's official files",
            field="--judgments",
            hint="name the benchmark with --benchmark NAME, or give AlpacaEval annotations with --annotations",
        )
    return _run_alpacaeval(args)


def _run_alpacaeval(args: argparse.Namespace) -> int:
    from judgebench.report.text import render_text

    if not args.annotations and not _default_annotations().is_dir():
        from judgebench.errors import InputError
        from judgebench.settings import missing_data_hint

        raise InputError(
            "no --annotations given and no stored AlpacaEval annotations in the data folder",
            hint=missing_data_hint("alpacaeval/annotations") + "; or pass --annotations FILES",
        )
    paths = args.annotations or [str(_default_annotations())]
    with contextlib.ExitStack() as stack:
        if args.out and args.update:  # read-modify-write of --out: two updating runs must not lose a row
            from judgebench.files.locks import locked

            stack.enter_context(locked(args.out))
        board, info, source = _fit(args, paths)
    if args.format == "markdown":
        from judgebench.report import render_markdown

        print(render_markdown(board))
    else:
        print(render_text(board))
    if args.report:
        from judgebench.report import write_report

        write_report(
            args.report,
            board=board,
            annotations=source,
            inputs=[args.out] if args.out else None,
            title="judgebench leaderboard",
        )
        print(f"wrote {args.report}")
    print(f"\nLC inputs: {info['lc_difficulty']}")
    if info["row_position_lc"]:
        print(
            "rows missing: LC looks difficulty up by row position, as AlpacaEval and its official leaderboard "
            "do (joined by instruction instead, column lc_by_instruction, --lc-alignment instruction): "
            + ", ".join(
                f"{printable(m)} ({n} rows) {board.loc[m, 'length_controlled_winrate']:.2f}, by instruction {v:.2f}"
                for m, (n, v) in info["row_position_lc"].items()
            )
        )
    if info["missing_preferences"]:
        print(
            "rows without a preference (excluded from the rates, counted here): "
            + ", ".join(f"{printable(m)} {n}" for m, n in info["missing_preferences"].items())
        )
    if info["empty_outputs"]:
        print(
            "empty outputs (judged as they are, counted in the rates): "
            + ", ".join(f"{printable(m)} {n}" for m, n in info["empty_outputs"].items())
        )
    if info.get("refitted"):
        print(
            "refitted (their annotations differ from the rows in --out): "
            + ", ".join(printable(m) for m in info["refitted"])
        )
    for m in info["flagged"]:
        print(
            f"FLAGGED {printable(m)}: its outputs fail the cheating checks ({board.loc[m, 'cheating_flags']}); "
            f"run `judgebench detect --outputs FILE` on them for the evidence"
        )
    if args.out:
        print(f"wrote {args.out} ({info['n_models']} models, {info['n_fitted']} fitted now)")
    return 0


def _fit(args: argparse.Namespace, paths: list[str]):
    """Read (the existing board with --update), fit and write --out: the locked part."""
    from judgebench.leaderboard.board import (
        make_leaderboard,
        read_difficulty,
        read_leaderboard,
        write_leaderboard,
    )

    existing = read_leaderboard(args.out) if args.update and args.out and Path(args.out).exists() else None
    difficulty = read_difficulty(args.difficulty) if args.difficulty else None
    source = paths
    if args.report:  # read once: the report's breakdowns need the same rows
        from judgebench.files.records import load_annotations
        from judgebench.leaderboard.board import default_workers

        source = load_annotations(
            paths,
            keep_extra=False,
            workers=args.workers or default_workers(),
            keep_outputs=not args.no_detect,
        )
    board, info = make_leaderboard(
        source,
        difficulty=difficulty,
        gamed=args.gamed,
        n_boot=1000 if args.n_boot is None else args.n_boot,
        seed=args.seed,
        workers=args.workers,
        existing=existing,
        lc_solver=args.lc_solver,
        detect_cheating=not args.no_detect,
        lc_alignment=args.lc_alignment,
    )
    if args.out:
        write_leaderboard(board, args.out)
    return board, info, source
