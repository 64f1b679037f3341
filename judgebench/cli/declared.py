"""Command-line flags generated from config dataclasses declared with `settings.option` (and back).

    add_options(parser, EvaluateConfig)             # every declared field a flag, nested groups included
    config = config_from_args(EvaluateConfig, args)  # the config the flags describe (checked as it is built)

A flag's spelling, help, default and range come from its field's declaration; the values are parsed and
range-checked by the same `Option` that checks the config, so a bad value is one line naming the flag
(`judgebench: error: argument --rpm: must be above 0, got 0.0`) and exit 2, before anything runs.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable
from typing import Any

from judgebench.settings import Option, declared, is_group


def number(
    kind: type,
    *,
    minimum: float | None = None,
    above: float | None = None,
    maximum: float | None = None,
    below: float | None = None,
) -> Callable[[str], Any]:
    """An argparse `type` for a numeric flag that is not part of a config: parsed and range-checked
    (caps included) like a declared option."""
    return _parser_for(Option("", kind, minimum=minimum, above=above, maximum=maximum, below=below))


def _whole(text: str) -> int:
    """A whole number, also when written like 1e3 or 100.0 (then checked against the cap, not refused
    for its spelling)."""
    try:
        return int(text)
    except ValueError:
        value = float(text)  # ValueError for words
        if not value.is_integer():
            raise
        return int(value)


def _parser_for(opt: Option) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        try:
            value = _whole(text) if opt.kind is int else float(text)
        except (ValueError, OverflowError):
            what = "a whole number" if opt.kind is int else "a number"
            raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}") from None
        why = opt.problem(value)
        if why:
            raise argparse.ArgumentTypeError(why)
        return value

    parse.__name__ = "int" if opt.kind is int else "float"  # argparse names it in its own messages
    return parse


def _default(f: dataclasses.Field, instance: Any) -> Any:
    if instance is not None:
        return getattr(instance, f.name)
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return f.default


def add_options(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup,
    config: Any,
    *,
    skip: tuple[str, ...] = (),
    _prefix: str = "",
) -> None:
    """A flag for each declared field of `config` (a class, or an instance whose values are the defaults);
    a nested group's flags go in an argument group of its own. `skip`: fields the command sets itself."""
    instance = None if isinstance(config, type) else config
    for f, opt in declared(config):
        if not opt.cli or f.name in skip:
            continue
        default = _default(f, instance)
        dest = _prefix + f.name
        if is_group(f):
            title = (type(default).__doc__ or f.name).strip().splitlines()[0].rstrip(".")
            target = (
                parser.add_argument_group(f.name, title) if hasattr(parser, "add_argument_group") else parser
            )
            add_options(target, default, _prefix=dest + ".")
            continue
        kwargs: dict[str, Any] = {"dest": dest, "help": _help(opt, default)}
        if opt.kind is bool:
            kwargs["action"] = "store_false" if default else "store_true"
        else:
            kwargs["default"] = None if default is dataclasses.MISSING else default
            kwargs["metavar"] = opt.metavar or ("N" if opt.kind in (int, float) else f.name.upper())
            if opt.kind in (int, float):
                kwargs["type"] = _parser_for(opt)
            if opt.several:
                kwargs["nargs"] = "+"
            if opt.choices is not None:
                kwargs["choices"] = list(opt.choices())
            if default is dataclasses.MISSING or opt.required_flag:
                kwargs["required"] = True
        parser.add_argument(*(opt.flags or (opt.flag(f.name),)), **kwargs)


def _help(opt: Option, default: Any) -> str:
    """The help with its default: where the text says `{default}`, else appended (a flag whose default
    means 'none' or 'not set' says nothing more)."""
    shown = " ".join(map(str, default)) if isinstance(default, tuple) else str(default)
    if "{default}" in opt.help:
        return opt.help.replace("{default}", shown)
    unset = (
        default is None or isinstance(default, bool) or default in ((), "") or default is dataclasses.MISSING
    )
    if unset or "default" in opt.help:
        return opt.help
    return f"{opt.help} (default {shown})"


def config_from_args(config: type, args: argparse.Namespace, _prefix: str = "", **overrides: Any) -> Any:
    """The config the parsed flags describe (fields without a flag keep their defaults); `overrides`
    are the values the command works out itself (a file's text for its path, say)."""
    values: dict[str, Any] = {}
    for f, opt in declared(config):
        dest = _prefix + f.name
        if is_group(f):
            values[f.name] = config_from_args(type(_default(f, None)), args, dest + ".")
        elif opt.cli and hasattr(args, dest):
            values[f.name] = getattr(args, dest)
    return config(**{**values, **overrides})


def flags_of(config: Any) -> set[str]:
    """Every flag `add_options` makes for `config` (for tests and help texts)."""
    parser = argparse.ArgumentParser(add_help=False)
    add_options(parser, config)
    return {s for a in parser._actions for s in a.option_strings}
