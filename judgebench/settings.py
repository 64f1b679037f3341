"""Settings read from the command line and the environment, in one place.

The data folder (eval sets, baseline outputs, stored annotations; laid out like the project's
`shared/data/`: alpacaeval/, arenahard/, mtbench/) is, in this order: `judgebench --data DIR`, the
environment variable `JUDGEBENCH_DATA`, or a per-user folder, `$XDG_CACHE_HOME/judgebench/data`
(`~/.cache/judgebench/data`). Never a path relative to the current folder: a command gives the same
answer wherever it is run from.

And the machinery of options declared once (`option`, `group`, `Checked`): see below.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypedDict

from judgebench.errors import ConfigError

DATA_ENV = "JUDGEBENCH_DATA"
_data_flag: Path | None = None  # set once by the CLI from --data


def set_data_dir(path: str | Path | None) -> None:
    """`--data DIR`: wins over the environment for the rest of this process."""
    global _data_flag
    _data_flag = Path(path).expanduser().resolve() if path is not None else None


def user_data_dir() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache).expanduser() / "judgebench" / "data"


def data_source() -> tuple[Path, str]:
    """The data folder and where that choice came from, for messages ("--data", "JUDGEBENCH_DATA", ...)."""
    if _data_flag is not None:
        return _data_flag, "--data"
    env = os.environ.get(DATA_ENV, "")
    if env:
        return Path(env).expanduser().resolve(), f"${DATA_ENV}"
    return user_data_dir(), "the per-user data folder"


def data_dir() -> Path:
    """Folder laid out like `shared/data/` (alpacaeval/, mtbench/, arenahard/)."""
    return data_source()[0]


def missing_data_hint(relative: str) -> str:
    """What to do when `relative` (e.g. "alpacaeval/eval_set.json.gz") is not in the data folder."""
    root, source = data_source()
    return (
        f"looked in {root / relative} ({source}); point `judgebench --data DIR` or ${DATA_ENV} at a folder "
        f"laid out like the project's shared/data (alpacaeval/, arenahard/, mtbench/), or copy the files "
        f"into {user_data_dir()}"
    )


# -- options declared once -------------------------------------------------------------------------
# A run's settings are frozen dataclasses whose fields are declared with `option(...)`: the default, the
# help, the command-line flag and the valid range live in one place. The CLI generates its flags from them
# (judgebench.cli.declared) and the dataclass checks them when it is built, so the Python API refuses what
# the CLI refuses, with the same words.

OPTION = "judgebench.option"  # the key of a field's metadata that holds its Option

# Caps of numeric settings: a value past them is a typo or an attack, never a wish (10^9 bootstrap
# resamples would end in an out-of-memory error an hour later; top_p 1e309 reaches a server as null).
MAX_N_BOOT = 100_000  # resamples; the intervals' Monte Carlo error is negligible long before
MAX_TEMPERATURE = 2.0  # OpenAI's documented range, and llama.cpp's useful one
MAX_TOP_P = 1.0  # a probability mass
MAX_SEED = 2**32 - 1  # numpy's and most servers' seed range
MAX_WORKERS = 256  # processes
MAX_CONCURRENCY = 10_000  # calls in flight
MAX_WHOLE = 10**9  # any other count without a cap of its own
MAX_NUMBER = 1e12  # any other number without a cap of its own


# The sampling settings' ranges, declared once for the flags and judge specs: vLLM 0.29.0's SamplingParams
# refuses a temperature outside [0, 2] and a top_p outside (0, 1] (top_p 0 keeps no token at all)
class Bounds(TypedDict, total=False):
    minimum: float
    above: float
    maximum: float


TEMPERATURE_RANGE: Bounds = {"minimum": 0, "maximum": MAX_TEMPERATURE}
TOP_P_RANGE: Bounds = {"above": 0, "maximum": MAX_TOP_P}


@dataclasses.dataclass(frozen=True)
class Option:
    """How one field of a config is given on the command line and which values it takes.

    kind: int (a count: whole numbers only), float (finite unless finite=False), str, bool, or None (any);
    several: the flag takes one or more values (the field holds a tuple); flags: the spellings (default:
    --field-name); minimum / above: the smallest value allowed / the value it must exceed; maximum / below:
    the largest value allowed / the value it must stay under."""

    help: str
    kind: type | None = None
    flags: tuple[str, ...] = ()
    metavar: str | None = None
    minimum: float | None = None
    above: float | None = None
    finite: bool = True
    several: bool = False
    choices: Callable[[], Sequence[str]] | None = None
    required_flag: bool = False  # the CLI insists on it (the API may have a default, or none)
    cli: bool = True  # False: the Python API's only (a JudgeSpec object, a callable)
    maximum: float | None = None
    below: float | None = None

    def flag(self, name: str) -> str:
        return self.flags[0] if self.flags else "--" + name.replace("_", "-")

    def problem(self, value: Any) -> str | None:
        """Why `value` cannot be this option's value (None: it can). None and non-numbers of a
        kind-less option are always fine: the type checker and the code that uses them see to those."""
        if value is None or self.kind not in (int, float):
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"must be a number, got {value!r}"
        if self.kind is int and not isinstance(value, int):
            return f"must be a whole number, got {value!r}"
        shown = _shown(value)
        if isinstance(value, float) and self.finite and not math.isfinite(value):
            return f"must be a finite number, got {shown}"
        why = None
        cap = self.cap()
        if self.minimum is not None and value < self.minimum:
            why = f"must be at least {_plain(self.minimum)}, got {shown}"
        elif self.above is not None and not value > self.above:
            why = f"must be above {_plain(self.above)}, got {shown}"
        elif self.below is not None and not value < self.below:
            why = f"must be below {_plain(self.below)}, got {shown}"
        elif value > cap:  # an int of any size compares with a float exactly
            why = f"must be at most {_plain(cap)}, got {shown}"
        return why and why + self.valid_range()

    def valid_range(self) -> str:
        """' (valid: (0, 1])' where the option declares both ends, so one line says what to give instead."""
        low = "[" if self.minimum is not None else "(" if self.above is not None else None
        high = "]" if self.maximum is not None else ")" if self.below is not None else None
        if low is None or high is None:
            return ""
        ends = [x for x in (self.minimum, self.above, self.maximum, self.below) if x is not None]
        return f" (valid: {low}{_plain(ends[0])}, {_plain(ends[1])}{high})"

    def cap(self) -> float:
        if self.maximum is not None:
            return self.maximum
        return MAX_WHOLE if self.kind is int else MAX_NUMBER


def option(
    default: Any = dataclasses.MISSING,
    *,
    help: str,
    kind: type | None = None,
    flag: str | tuple[str, ...] = (),
    metavar: str | None = None,
    minimum: float | None = None,
    above: float | None = None,
    maximum: float | None = None,
    finite: bool = True,
    several: bool = False,
    choices: Callable[[], Sequence[str]] | None = None,
    required_flag: bool = False,
    cli: bool = True,
    default_factory: Callable[[], Any] | Any = dataclasses.MISSING,
) -> Any:
    """A dataclass field declared as an option (see Option). `kind` defaults to the default's type."""
    if kind is None and default is not dataclasses.MISSING and default is not None:
        kind = type(default)
    meta = Option(
        help,
        kind,
        (flag,) if isinstance(flag, str) else tuple(flag),
        metavar,
        minimum,
        above,
        finite,
        several,
        choices,
        required_flag,
        cli,
        maximum,
    )
    if default_factory is not dataclasses.MISSING:
        return dataclasses.field(default_factory=default_factory, metadata={OPTION: meta})
    return dataclasses.field(default=default, metadata={OPTION: meta})


def group(default_factory: Callable[[], Any], *, cli: bool = True) -> Any:
    """A field holding a nested group of options (a config dataclass, e.g. the call limits); its default
    instance gives this config's defaults for the group's flags."""
    return dataclasses.field(default_factory=default_factory, metadata={OPTION: Option("", cli=cli)})


def declared(config: Any) -> Iterator[tuple[dataclasses.Field, Option]]:
    """The fields of a config class or instance that are declared with `option` or `group`."""
    for f in dataclasses.fields(config):
        if OPTION in f.metadata:
            yield f, f.metadata[OPTION]


def is_group(f: dataclasses.Field) -> bool:
    return f.default_factory is not dataclasses.MISSING and dataclasses.is_dataclass(f.default_factory())


class Checked:
    """Base of the frozen config dataclasses: each declared option's value is checked when the config is
    built, and a several-valued one given as a list is kept as a tuple. A bad value is a ConfigError
    naming the field and its flag."""

    def __post_init__(self) -> None:
        for f, opt in declared(self):
            value = getattr(self, f.name)
            if opt.several and isinstance(value, list):
                object.__setattr__(self, f.name, tuple(value))
            why = opt.problem(value)
            if why:
                where = f"{f.name} ({opt.flag(f.name)})" if opt.cli else f.name
                raise ConfigError(f"{where} {why}")


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 30 else f"{text[:12]}... ({len(text)} digits)"


def _plain(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)
