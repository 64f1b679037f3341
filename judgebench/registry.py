"""One registry shape for everything chosen by name (parsers, protocols, backends).

An entry is registered by a decorator where it is defined, so adding one touches only its own module:

    @PARSERS.register("rating")
    def rating(response, ...): ...

A registry is a mapping from name to entry (`sorted(REGISTRY)` lists the names); `pick(name)` is the
lookup for names that come from users (a spec, a flag): an unknown one is a ConfigError naming the
known ones. A registry may fill itself on first use (`discover`), e.g. by reading its package's modules.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, MutableMapping
from typing import Generic, TypeVar

from judgebench.errors import ConfigError

T = TypeVar("T")


class Registry(MutableMapping[str, T], Generic[T]):
    def __init__(
        self,
        kind: str,
        entry: Callable[..., T] | None = None,
        discover: Callable[[], dict[str, T]] | None = None,
    ):
        """kind: what an entry is, for messages; entry: turns the decorated object into the entry (default:
        the object itself); discover: returns the entries found elsewhere, called once on first use."""
        self.kind = kind
        self._entry = entry
        self._discover = discover
        self._entries: dict[str, T] = {}

    def register(self, name: str | None = None) -> Callable:
        """Decorator: registers the object under `name` (default: its `name` attribute)."""

        def deco(obj):
            key = name or obj.name
            self._load()
            if key in self._entries:
                raise RuntimeError(f"two {self.kind}s are named {key!r}")
            self._entries[key] = self._entry(obj) if self._entry else obj
            return obj

        return deco

    def pick(self, name: str, where: str | None = None) -> T:
        """The entry for a name a user gave; where: the file or flag that named it, for the message."""
        self._load()
        if name not in self._entries:
            raise ConfigError(
                f"{where + ': ' if where else ''}unknown {self.kind} {name!r}; "
                f"known: {', '.join(sorted(self._entries))}"
            )
        return self._entries[name]

    def _load(self) -> None:
        if self._discover is not None:
            discover, self._discover = self._discover, None
            self._entries.update(discover())

    def __getitem__(self, name: str) -> T:
        self._load()
        return self._entries[name]

    def __setitem__(self, name: str, value: T) -> None:  # tests substitute an entry
        self._load()
        self._entries[name] = value

    def __delitem__(self, name: str) -> None:
        self._load()
        del self._entries[name]

    def __iter__(self) -> Iterator[str]:
        self._load()
        return iter(self._entries)

    def __len__(self) -> int:
        self._load()
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Registry({self.kind}: {', '.join(self)})"
