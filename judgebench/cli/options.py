"""Option groups shared by several commands: each flag is spelled, typed and explained once here."""

from __future__ import annotations

import argparse
import inspect
from collections.abc import Callable
from typing import Any

from judgebench.errors import ConfigError

STORE_HELP = "judgment store: a SQLite file (created if absent) or postgresql://USER@HOST:PORT/DB"
ALLOW_KEY_HELP = (
    "send the API key to these hosts too (it goes, unasked, only over https to its provider's "
    "documented host, e.g. api.openai.com); a judge spec's base_url cannot do this for you"
)


def backend_names() -> list[str]:
    """The backends a user can name, read from the registry so the CLI's choices never drift from it."""
    from judgebench.backends import REGISTRY

    return sorted(REGISTRY)


def add_annotations_option(parser: argparse.ArgumentParser, help: str, required: bool = False) -> None:
    parser.add_argument("--annotations", nargs="+", required=required, metavar="PATH", help=help)


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
    parser.add_argument("--seed", type=int, default=0, help=help)


def add_n_boot_option(parser: argparse.ArgumentParser, default: int) -> None:
    parser.add_argument(
        "--n-boot",
        type=int,
        default=default,
        help=f"bootstrap resamples for the intervals (default {default}; 0: none)",
    )


def add_progress_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")


def add_judge_endpoint_options(
    parser: argparse.ArgumentParser,
    url_flags: tuple[str, ...] = ("--base-url",),
    model_flag: str = "--model",
    several: bool = True,
) -> None:
    """Where the judge is served and under which model name; both override the judge spec's."""
    if several:
        parser.add_argument(
            *url_flags,
            nargs="+",
            metavar="URL",
            help="the judge's OpenAI-compatible endpoint (vllm serve, llama.cpp server, OpenAI; default: the "
            "spec's); several: replicas of one judge, each call to the least busy, a failing one rested",
        )
    else:
        parser.add_argument(
            *url_flags, metavar="URL", help="the judge's OpenAI-compatible endpoint (default: the spec's)"
        )
    parser.add_argument(
        model_flag,
        metavar="MODEL",
        help="the judge's model name (default: the spec's; a GGUF path for llamacpp)",
    )


def add_key_options(parser: argparse.ArgumentParser, key_env: bool = True, allow_to: bool = True) -> None:
    if key_env:
        parser.add_argument(
            "--api-key-env",
            metavar="VAR",
            help="environment variable holding the API key (default OPENAI_API_KEY, which servers on this "
            "machine are not sent)",
        )
    if allow_to:
        parser.add_argument("--allow-key-to", nargs="+", metavar="HOST", help=ALLOW_KEY_HELP)


def add_limits_options(parser: argparse.ArgumentParser, concurrency: int, concurrency_help: str = "") -> None:
    """The limits of every command that calls a model. Only --concurrency has a default here: the
    others are passed to the API only when given, so the API's own defaults hold otherwise."""
    group = parser.add_argument_group("limits")
    group.add_argument(
        "--concurrency",
        type=int,
        default=concurrency,
        help=(concurrency_help or "model calls in flight at a time") + f" (default {concurrency})",
    )
    group.add_argument(
        "--rpm",
        "--requests-per-minute",
        dest="rpm",
        type=float,
        metavar="N",
        help="requests per minute limit",
    )
    group.add_argument(
        "--tpm", "--tokens-per-minute", dest="tpm", type=float, metavar="N", help="tokens per minute limit"
    )
    group.add_argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        help="seconds per request before it is retried (default 120)",
    )
    group.add_argument(
        "--max-retries",
        type=int,
        metavar="N",
        help="retries on 429/5xx/timeouts/dropped connections (default 6)",
    )


# flag -> the API's keyword for it
LIMIT_KEYWORDS = {
    "rpm": "requests_per_minute",
    "tpm": "tokens_per_minute",
    "timeout": "timeout",
    "max_retries": "max_retries",
}


def limits_kwargs(args: argparse.Namespace, api: Callable[..., Any]) -> dict[str, Any]:
    """The limits the user gave, as keywords for `api`; a limit `api` cannot take is a clear error,
    never silently dropped (the defaults stay the API's own)."""
    parameters = inspect.signature(api).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    kwargs = {}
    for name, keyword in LIMIT_KEYWORDS.items():
        value = getattr(args, name, None)
        if value is None:
            continue
        if keyword not in parameters and not takes_any:
            raise ConfigError(
                f"--{name.replace('_', '-')} is not supported by `judgebench {args.command}` yet "
                "-> leave it out (the server's own limits apply)"
            )
        kwargs[keyword] = value
    return kwargs
