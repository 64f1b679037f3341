"""What a benchmark declares, so that the suite, the report and the CLI never ask for it by name.

A benchmark is one `Benchmark` value: its eval set (read from the data folder, else the hub), its
baseline, the judges that fit its protocol, its statistic (every model's annotation records -> table
fields, report details and, given a reference model, the paired difference from it), the table columns
those fields make and the report section its details make. Built-ins live one a module beside this one;
other packages add theirs through the entry-point group `judgebench.benchmarks` (see registry.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from judgebench.errors import InputError


@dataclass(frozen=True)
class Column:
    """One column of the suite's table (Markdown, LaTeX, HTML): the statistic's fields under a heading."""

    heading: str
    field: str | tuple[str, ...]  # several: shown joined by "/" (e.g. win/tie/loss)
    fmt: str = "{:.1f}"
    interval: tuple[str, str] | None = None  # fields of a 95% interval, shown after the value
    headline: bool = False  # marked where the difference from the reference is significant
    optional: bool = False  # shown only when the table has the field (it depends on the judge used)

    @property
    def fields(self) -> tuple[str, ...]:
        return (self.field,) if isinstance(self.field, str) else self.field


@dataclass(frozen=True)
class Detail:
    """One column of a report section's table: a key of each model's details."""

    heading: str
    key: str
    fmt: str | None = "{:.1f}"  # None: the value as text
    interval: tuple[str, str] | None = None  # shown as [low, high] with a bar around `key`


@dataclass(frozen=True)
class Section:
    """One table of the benchmark's part of the HTML report, a row per model."""

    columns: tuple[Detail, ...]
    caption: str = ""
    requires: str | None = None  # only models whose details have this key; no such model: no table
    expand: tuple[str, str] | None = None  # (a dict-valued key, format): one column per key of the dicts


@dataclass
class Results:
    """What a statistic is given: every model's annotation records on this benchmark."""

    records: dict[str, list[dict]]  # model -> its records (generator_2 is the model's name)
    judge: Any  # the JudgeSpec used
    reference: str | None
    n_boot: int
    summary: Callable[[str], dict]  # model -> its run's summary.json (what `evaluate` computed)
    protocol: str | None = None  # the official statistic's version (OfficialFiles.protocols); None: the first
    length_penalty: int | None = None  # WildBench's K (--length-penalty); None: the benchmark's default


@dataclass
class Scores:
    rows: dict[str, dict]  # model -> table fields (the table prefixes them with the benchmark's name)
    details: dict[str, dict]  # model -> what the report section shows
    differences: dict[str, dict] = field(default_factory=dict)  # model -> difference, ci_low/high, p_value


@dataclass(frozen=True)
class OfficialRequest:
    """A benchmark's own judgment files, as `leaderboard --benchmark` / `import-annotations --benchmark` got them."""

    judgments: Path  # a file or a folder, in the layout the benchmark's result script reads
    answers: Path | None = None  # the models' answers, where the statistic needs them (style control)
    protocol: str | None = None  # one of OfficialFiles.protocols; None: the first (the current official one)
    mode: str | None = None  # one of OfficialFiles.modes; None: the first
    style_control: bool = False
    baseline: str | None = None
    models: tuple[str, ...] | None = None  # --model-list: only these models, as the script filters them
    eval_set: Path | None = None  # the eval set file, where the statistic needs it (WildBench's task tags)
    length_penalty: int | None = None  # WildBench's K: a win by more than K characters longer is a tie
    n_boot: int = 100
    seed: int = 0


@dataclass(frozen=True)
class OfficialFiles:
    """How a benchmark reads the judgment files its official result script reads, and what it computes."""

    leaderboard: Callable[[OfficialRequest], pd.DataFrame]  # a row per model; scores in percent
    what: str  # the files expected and where they come from, said when they are missing
    protocols: tuple[str, ...] = ()  # versions of the official statistic; the first is the default
    modes: tuple[str, ...] = ()  # e.g. MT-Bench's single / pairwise; the first is the default
    import_calls: Callable[[OfficialRequest, str], dict] | None = None  # (request, store URL) -> counts
    model_list: bool = False  # its script has --model-list (OfficialRequest.models)


@dataclass(frozen=True)
class Benchmark:
    name: str  # the eval set's name
    title: str  # as papers head the column
    load: Callable[[Path], pd.DataFrame]  # data folder -> eval set (see evalsets.eval_frame)
    data: str  # what `load` reads, under the data folder
    baseline: str | None  # the baseline's generator (its answers are the eval set's `output`); None: graded
    judge: str  # the standard judge
    local_judge: str  # the embedded judge that fits its protocol
    statistic: Callable[[Results], Scores]
    columns: tuple[Column, ...]
    sections: tuple[Section, ...] = ()
    notes: str = ""  # said under its part of the report
    multi_turn: bool = False  # conversations of several turns: only a multi-turn judge fits, and only here
    hub: tuple[str, str | None, str] | None = None  # (repo, config, split) when the data folder lacks it
    from_hub: Callable[[list[dict], str], pd.DataFrame] | None = (
        None  # (hub rows, source) -> eval set; None: as they are
    )
    how_to_get: str = ""  # where to get the data (said when it is missing)
    origin: str = "built-in"  # or the plug-in's package, set by the registry
    official: OfficialFiles | None = None  # reads the benchmark's official judgment files, where it can
    aliases: tuple[str, ...] = ()  # other names users give it (e.g. "arena-hard")
    suite_default: bool = True  # `suite` runs it when --benchmarks is not given
    evaluate_statistic: bool = False  # `evaluate` also scores its run with `statistic` (and prints it)

    def __post_init__(self):
        for name in ("name", "title", "judge", "local_judge"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise InputError(f"benchmark {self.name!r}: `{name}` must be a non-empty string")
        if not callable(self.load) or not callable(self.statistic):
            raise InputError(f"benchmark {self.name!r}: `load` and `statistic` must be functions")


def guarded(fn, *args, **kwargs) -> dict:
    """A comparison that cannot be made (too few shared instructions) is reported, not fatal."""
    try:
        return fn(*args, **kwargs)
    except InputError as err:
        return {"difference": None, "ci_low": None, "ci_high": None, "p_value": None, "note": str(err)}
