"""The `judgebench` command: one module a command (`add_parser`, `run`), flags made from the configs'
declarations (`declared`: ranges and finite numbers are checked as the flags are parsed), a few more in
`options`, and `main`, the one error boundary that turns every error into one line and an exit code."""

from __future__ import annotations

import argparse
import os
import sys
import traceback

from judgebench.cli import (
    annotate,
    audit,
    benchmarks,
    compare,
    detect,
    difficulty,
    evaluate,
    import_annotations,
    judges,
    jury,
    leaderboard,
    ppi,
    profile,
    report,
    store,
    suite,
    tiny,
)
from judgebench.cli.options import ALLOW_KEY_HELP
from judgebench.errors import EXIT_INTERNAL, EXIT_INTERRUPTED, ConfigError, JudgebenchError

# In the order `judgebench --help` lists them.
COMMANDS = (
    leaderboard,
    compare,
    annotate,
    evaluate,
    suite,
    benchmarks,
    import_annotations,
    store,
    tiny,
    audit,
    report,
    detect,
    difficulty,
    judges,
    ppi,
    profile,
    jury,
)

DESCRIPTION = """judgebench: an LLM-judge evaluation harness in the style of AlpacaEval 2.0.

Generate a model's answers, have a judge compare them with a baseline's (every call cached in a store),
and report win rates, length-controlled win rates and honest intervals; regenerate leaderboards from
stored annotations; audit judges for length, position and adversarial bias."""

EPILOG = """exit codes: 0 success, 1 a check asked for failed (--strict, flagged), 2 bad input or setting,
3 a model or judge server failed, 4 store, disk or output folder unusable, 70 internal error (a bug),
130 interrupted (judge calls already made are kept)."""

__all__ = ["ALLOW_KEY_HELP", "COMMANDS", "DESCRIPTION", "EPILOG", "build_parser", "main"]


class _Parser(argparse.ArgumentParser):
    """argparse with the tool's one-line error format (argparse's own prints the whole usage first)."""

    def error(self, message: str):
        self.exit(2, f"judgebench: error: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    ap = _Parser(
        prog="judgebench",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        # no prefixes of the global flags: `compare --a X` must reach compare, not be read as an
        # ambiguous --arena-hard-dir / --allow-special-files
        allow_abbrev=False,
    )
    ap.add_argument(
        "--debug",
        action="store_true",
        help="show the traceback behind an error (also JUDGEBENCH_DEBUG=1; accepted anywhere)",
    )
    ap.add_argument(
        "--data",
        metavar="DIR",
        help="the data folder: eval sets, baseline outputs, stored annotations, laid out like the project's "
        "shared/data (default: $JUDGEBENCH_DATA, else ~/.cache/judgebench/data; accepted anywhere)",
    )
    ap.add_argument(
        "--max-input-size",
        metavar="SIZE",
        help="largest (decompressed) input file read, e.g. 8G (default 2G; a gzip bomb stops there; "
        "also JUDGEBENCH_MAX_INPUT_BYTES)",
    )
    ap.add_argument(
        "--arena-hard-dir",
        metavar="DIR",
        help="an arena-hard-auto checkout, where the judge `arena-hard` reads the official prompt "
        "(default: $JUDGEBENCH_ARENA_HARD_DIR)",
    )
    ap.add_argument(
        "--allow-special-files",
        action="store_true",
        help="read inputs that are not regular files (FIFOs, devices, /dev/stdin): bounded by "
        "--max-input-size and a 30 s silence (also JUDGEBENCH_ALLOW_SPECIAL_FILES=1)",
    )
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(sub).set_defaults(func=command.run)
    _describe_commands(ap)
    return ap


def _describe_commands(parser: argparse.ArgumentParser) -> None:
    """Each command's (and sub-command's) one-line help as the description atop its own --help."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for choice in action._choices_actions:
                sub = action.choices[choice.dest]
                sub.description = sub.description or choice.help
                _describe_commands(sub)


def _one_line(text: object) -> str:
    """A message as one printable line: control characters (terminal escapes) shown escaped."""
    from judgebench.files.redact import redact
    from judgebench.files.safetext import printable

    return printable(" | ".join(part.strip() for part in redact(text).splitlines() if part.strip()))


def _print_trace(trace: str) -> None:
    """A --debug traceback: whole, but with secrets masked (a frame may quote a header or a URL)."""
    from judgebench.files.redact import redact

    print(redact(trace), end="" if trace.endswith("\n") else "\n", file=sys.stderr)


def _take_data_flag(argv: list[str]) -> tuple[list[str], str | None]:
    """`--data DIR` (or --data=DIR) before or after the command name, as with --debug."""
    rest, data = [], None
    args = iter(argv)
    for a in args:
        if a == "--data":
            data = next(args, None)
            if data is None:
                print(
                    "judgebench: error: argument --data: expected a folder (see `judgebench --help`)",
                    file=sys.stderr,
                )
                raise SystemExit(2)
        elif a.startswith("--data="):
            data = a.split("=", 1)[1]
        else:
            rest.append(a)
    return rest, data


def main(argv: list[str] | None = None) -> int:
    """The error boundary: a user's error is one line and a documented exit code, never a traceback."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv or os.environ.get("JUDGEBENCH_DEBUG", "") not in ("", "0")
    argv, data = _take_data_flag(argv)
    args = build_parser().parse_args([a for a in argv if a != "--debug"])
    from judgebench.files.safetext import EscapingStream

    stdout = sys.stdout
    sys.stdout = EscapingStream(stdout)  # names from files reach no terminal raw
    try:
        return _run(args, data, debug)
    finally:
        sys.stdout = stdout


def _run(args: argparse.Namespace, data: str | None, debug: bool) -> int:
    try:
        if data is not None:
            from judgebench.settings import set_data_dir

            if not os.path.isdir(data):
                raise ConfigError(
                    f"argument --data: {data} is not a folder -> give the folder that holds alpacaeval/, "
                    "arenahard/, mtbench/"
                )
            set_data_dir(data)
        if args.arena_hard_dir:
            os.environ["JUDGEBENCH_ARENA_HARD_DIR"] = args.arena_hard_dir
        if args.allow_special_files:
            from judgebench.files.bounded import SPECIAL_FILES_ENV

            os.environ[SPECIAL_FILES_ENV] = "1"
        if args.max_input_size:
            from judgebench.files.bounded import parse_size

            os.environ["JUDGEBENCH_MAX_INPUT_BYTES"] = str(parse_size(args.max_input_size))
        from judgebench.cli.outputs import check_distinct_outputs

        check_distinct_outputs(args)
        return args.func(args)
    except KeyboardInterrupt:
        print(
            "judgebench: interrupted (judge calls already made are kept in the store; rerun to go on)",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    except JudgebenchError as err:
        code, message, trace = err.exit_code, str(err), traceback.format_exc()
    except OSError as err:  # the user's environment: a path that is missing, unreadable, full or read-only
        where = f"{err.filename}: " if err.filename else ""
        code, message = (
            4,
            f"{where}{err.strerror or err} -> check the path, its permissions and free disk space",
        )
        trace = traceback.format_exc()
    except MemoryError:
        code, message = 4, "out of memory -> use fewer workers or a smaller input (see --help for limits)"
        trace = traceback.format_exc()
    except Exception as err:  # a bug in judgebench, not the user's doing
        if debug:
            _print_trace(traceback.format_exc())
        print(
            f"judgebench: internal error: {type(err).__name__}: {_one_line(err)} -> this is a bug; rerun with "
            "--debug (or JUDGEBENCH_DEBUG=1) and report the traceback",
            file=sys.stderr,
        )
        return EXIT_INTERNAL
    if debug:
        _print_trace(trace)
    print(f"judgebench: error: {_one_line(message)}", file=sys.stderr)
    return code
