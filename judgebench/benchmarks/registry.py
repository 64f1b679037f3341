"""Every benchmark judgebench knows: the built-ins, one a module in this package, and the plug-ins.

A built-in is a module here that sets `BENCHMARK`; it is found by reading the package, so adding one
touches only its own module. A plug-in is another package's entry point in the group
`judgebench.benchmarks`, naming a Benchmark or a module that sets `BENCHMARK`:

    [project.entry-points."judgebench.benchmarks"]
    wildbench = "judgebench_wildbench"

A plug-in that fails to load, or that takes a name already taken, stops with one line naming it.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import replace
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from types import ModuleType

from judgebench.benchmarks.base import Benchmark
from judgebench.errors import ConfigError, InputError

GROUP = "judgebench.benchmarks"

_found: dict[str, Benchmark] | None = None  # read once per process, on first use


def all_benchmarks() -> dict[str, Benchmark]:
    """name -> Benchmark, the built-ins first (in module order), then the plug-ins."""
    global _found
    if _found is None:
        found = _builtins()
        for ep in entry_points(group=GROUP):
            for b in _from_entry_point(ep):
                if b.name in found:
                    raise ConfigError(
                        f"{_where(ep)} declares benchmark {b.name!r}, which {found[b.name].origin} "
                        "already declares -> give the plug-in's benchmark another name"
                    )
                found[b.name] = b
        _found = found
    return dict(_found)


def get(name: str, where: str = "--benchmarks") -> Benchmark:
    """The benchmark a user named; an unknown name is one error listing the known ones."""
    known = all_benchmarks()
    if name in known:
        return known[name]
    for b in known.values():
        if name in b.aliases:
            return b
    raise InputError(f"unknown benchmark {name!r}", field=where, hint=f"known: {', '.join(known)}")


def _builtins() -> dict[str, Benchmark]:
    found: dict[str, Benchmark] = {}
    for info in pkgutil.iter_modules([str(Path(__file__).parent)]):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__package__}.{info.name}")
        b = getattr(module, "BENCHMARK", None)
        if isinstance(b, Benchmark):
            if b.name in found:
                raise RuntimeError(f"two built-in benchmarks are named {b.name!r}")
            found[b.name] = b
    return found


def _where(ep: EntryPoint) -> str:
    package = ep.dist.name if ep.dist is not None else "unknown package"
    return f"benchmark plug-in {ep.name!r} ({ep.value}, from {package})"


def _from_entry_point(ep: EntryPoint) -> list[Benchmark]:
    try:
        obj = ep.load()
    except Exception as err:  # any fault of the plug-in's code: say whose it is, in one line
        raise ConfigError(
            f"{_where(ep)} cannot be loaded: {type(err).__name__}: {_first_line(err)} -> fix or uninstall that package"
        ) from None
    if isinstance(obj, ModuleType):
        obj = getattr(obj, "BENCHMARK", None)
    items = list(obj) if isinstance(obj, list | tuple) else [obj]
    if not items or not all(isinstance(b, Benchmark) for b in items):
        raise ConfigError(
            f"{_where(ep)} names neither a Benchmark nor a module that sets BENCHMARK "
            "-> point the entry point at a module with BENCHMARK = Benchmark(...)"
        )
    package = ep.dist.name if ep.dist is not None else ep.value
    return [replace(b, origin=f"plug-in {package}") for b in items]


def _first_line(err: Exception) -> str:
    lines = str(err).strip().splitlines()
    return lines[0] if lines else ""
