"""Flags shared by the commands that have no config of their own: each is spelled, typed and explained once.

The commands that call a model (annotate, evaluate, audit, suite) make their flags from their configs'
declarations (cli.declared): the endpoint key, call limits, sampling and store are declared in
annotation.pipeline and generation.generate, once."""

from __future__ import annotations

import argparse

from judgebench.annotation.pipeline import ALLOW_KEY_HELP, STORE_HELP
from judgebench.cli.declared import number
from judgebench.settings import MAX_N_BOOT, MAX_SEED, MAX_WHOLE

__all__ = ["ALLOW_KEY_HELP", "STORE_HELP"]


def add_paths_option(parser: argparse.ArgumentParser, flag: str, help: str, required: bool = False) -> None:
    """A flag taking one or more files or folders."""
    parser.add_argument(flag, nargs="+", required=required, metavar="PATH", help=help)


def add_annotations_option(parser: argparse.ArgumentParser, help: str, required: bool = False) -> None:
    add_paths_option(parser, "--annotations", help, required)


def add_out_option(
    parser: argparse.ArgumentParser,
    help: str,
    metavar: str,
    required: bool = False,
    default: str | None = None,
) -> None:
    parser.add_argument("--out", required=required, default=default, metavar=metavar, help=help)


def add_store_option(
    parser: argparse.ArgumentParser, default: str | None = None, required: bool = False
) -> None:
    """`default` is words for the help (the API picks the path), e.g. 'OUT/store.sqlite'."""
    parser.add_argument(
        "--store",
        required=required,
        metavar="DB",
        help=STORE_HELP + (f" (default: {default})" if default else ""),
    )


def add_json_option(parser: argparse.ArgumentParser, help: str = "print the result as JSON") -> None:
    parser.add_argument("--json", action="store_true", help=help)


def add_seed_option(parser: argparse.ArgumentParser, help: str = "random seed (default 0)") -> None:
    parser.add_argument("--seed", type=number(int, minimum=0, maximum=MAX_SEED), default=0, help=help)


def add_n_boot_option(parser: argparse.ArgumentParser, default: int | None, help: str | None = None) -> None:
    parser.add_argument(
        "--n-boot",
        type=number(int, minimum=0, maximum=MAX_N_BOOT),
        default=default,
        help=help or f"bootstrap resamples for the intervals (default {default}; 0: none)",
    )


def add_official_files_options(parser: argparse.ArgumentParser, statistic: bool) -> None:
    """--benchmark NAME --judgments PATH: another benchmark's official judgment files, read by that benchmark.
    `statistic`: also the options of its official result script (version, style control, answers, baseline)."""
    group = parser.add_argument_group(
        "another benchmark's official judgment files (`judgebench benchmarks` lists which ones it reads)"
    )
    group.add_argument(
        "--benchmark",
        metavar="NAME",
        help="the benchmark whose official judgment files --judgments holds (default: AlpacaEval's annotations)",
    )
    group.add_argument("--judgments", metavar="PATH", help="the official judgment file or folder")
    group.add_argument(
        "--mode", metavar="MODE", help="e.g. MT-Bench's single / pairwise-baseline / pairwise-all"
    )
    group.add_argument(
        "--answers",
        metavar="DIR",
        help="the official answers folder (style control; the answers judged, for an import)",
    )
    group.add_argument(
        "--protocol",
        metavar="VERSION",
        help="the official version (e.g. Arena-Hard's v2, v0.1): its result script, its parser and prompt",
    )
    group.add_argument("--baseline", metavar="MODEL", help="the baseline model, where the mode has one")
    if not statistic:
        return
    group.add_argument(
        "--eval-set",
        metavar="FILE",
        help="the eval set file, where the statistic needs it (WildBench's task tags)",
    )
    group.add_argument(
        "--length-penalty",
        type=number(int, minimum=-1, maximum=MAX_WHOLE),
        metavar="CHARS",
        help="WildBench's K: a plain win by an answer more than K characters longer counts as a tie "
        "(default -1: none)",
    )
    group.add_argument(
        "--model-list",
        nargs="+",
        metavar="MODEL",
        help="only these models, as the official script's --model-list filters them (MT-Bench)",
    )
    group.add_argument(
        "--style-control", action="store_true", help="control for answer style as the official script does"
    )
