"""The leaderboard's columns, each declared once.

A `Column` says what the CSV calls it (AlpacaEval's columns first, in AlpacaEval's order, then ours), what
kind of value it holds, which statistic fills it, and how it shows in the terminal table, the Markdown table
and the HTML page. The CSV writer and reader (leaderboard.py) and the three renderings (report/text.py,
report/html.py) read `COLUMNS` and nothing else, so a new per-model statistic is its function in `stats/`
plus one entry here:

    Column("median_length", about="median characters of the candidate's outputs",
           fill=lambda model, row: lengths.median_length(model["len_2"]),
           place=65, label="median length", short="med len", fmt="{:.0f}"),

`fill(model, row)` gets one candidate's annotations (columns generator_2, preference, len_1, len_2, ...)
and the row computed so far; it returns the value (None: leave it empty). The win rates, the LC fit and the
bootstrap intervals share their work, so leaderboard.model_row computes those together and their entries
here carry no `fill`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

Kind = Literal["number", "count", "text"]
VIEWS = frozenset({"terminal", "markdown", "html"})
Fill = Callable[[pd.DataFrame, dict[str, Any]], Any]


@dataclass(frozen=True)
class Column:
    name: str  # the CSV's column name
    kind: Kind = "number"  # number: a float; count: an integer; text: a string
    alpaca_eval: bool = False  # one of AlpacaEval's own columns (their CSV has exactly these, in this order)
    about: str = ""  # one line for readers (the HTML heading's tooltip)
    # (one model's annotations, row so far) -> value; None: model_row's core computes it
    fill: Fill | None = None
    place: int | None = None  # position in the tables people read (lower is further left); None: CSV only
    label: str = ""  # heading in Markdown and HTML (default: the name)
    short: str = ""  # heading in the terminal (default: the label)
    fmt: str = "{:.1f}"  # how a number prints
    ci: tuple[str, str] | None = None  # the columns holding its interval, shown as "value [low, high]"
    ci_fmt: str = "{:.1f}"  # how the interval's ends print (and the value, where it shares a cell with them)
    key: str = ""  # the HTML cell's data-key, also used in links (#sort=KEY); default: the name
    views: frozenset[str] = VIEWS  # which of terminal / markdown / html show it
    alert: bool = False  # a non-empty value is a warning: bold in Markdown, the row marked in HTML

    @property
    def heading(self) -> str:
        return self.label or self.name

    @property
    def short_heading(self) -> str:
        return self.short or self.heading

    @property
    def html_key(self) -> str:
        return self.key or self.name

    def text(self, value: Any, missing: str = "-", fmt: str | None = None) -> str:
        """The value as a table shows it; `missing` for an empty number, "" for empty text."""
        if self.kind == "text":
            return value if isinstance(value, str) else ""
        if value is None or pd.isna(value):
            return missing
        if self.kind == "count":
            return str(int(value))
        return (fmt or self.fmt).format(float(value))

    def interval(self, row: pd.Series | dict, missing: str = "-") -> str | None:
        """The row's interval as "[low, high]"; None where the column has none or the row lacks it."""
        if self.ci is None:
            return None
        low, high = row.get(self.ci[0]), row.get(self.ci[1])
        if low is None or pd.isna(low):
            return None
        return f"[{self.text(low, missing, self.ci_fmt)}, {self.text(high, missing, self.ci_fmt)}]"


def _empty_outputs(model: pd.DataFrame, row: dict) -> int:
    return int(model["empty_2"].sum()) if "empty_2" in model else 0  # judged as they are, and counted


def _cheating_flags(model: pd.DataFrame, row: dict) -> str | None:
    """Names of the judgebench.stats.cheating checks that flag the candidate's outputs ("" for none); None without
    outputs (make_leaderboard drops them when detection is off)."""
    if "output_2" not in model:
        return None
    from judgebench.stats.cheating import detect, flag_summary

    return flag_summary(detect(model.rename(columns={"output_2": "output"}), model["generator_2"].iloc[0]))


RATE = "{:.2f}"  # rates in percent: two decimals alone, one beside their interval

COLUMNS: tuple[Column, ...] = (
    # AlpacaEval's columns, in their order (their leaderboard CSV has exactly these)
    Column(
        "win_rate",
        alpaca_eval=True,
        about="share of instructions where the judge preferred the candidate (%)",
        place=20,
        label="win rate",
        short="WR",
        fmt=RATE,
        ci=("win_rate_ci_low", "win_rate_ci_high"),
        key="wr",
    ),
    Column("standard_error", alpaca_eval=True, about="standard error of the win rate"),
    Column("n_wins", "count", alpaca_eval=True),
    Column("n_wins_base", "count", alpaca_eval=True),
    Column("n_draws", "count", alpaca_eval=True),
    Column(
        "n_total",
        "count",
        alpaca_eval=True,
        about="instructions with a verdict",
        place=40,
        label="n",
        key="n",
    ),
    Column(
        "discrete_win_rate",
        alpaca_eval=True,
        about="a win counts 1, a tie 1/2 (%)",
        place=30,
        label="discrete",
        key="discrete",
        views=frozenset({"markdown", "html"}),
    ),
    Column("mode", "text", alpaca_eval=True, fill=lambda model, row: "community"),
    Column(
        "avg_length",
        "count",
        alpaca_eval=True,
        about="mean characters of the candidate's outputs",
        fill=lambda model, row: int(model["len_2"].mean()),  # AlpacaEval truncates it to an int
        place=60,
        label="avg length",
        short="len",
        key="length",
    ),
    Column(
        "length_controlled_winrate",
        alpaca_eval=True,
        about="length-controlled win rate (%)",
        place=10,
        label="LC win rate",
        short="LC",
        fmt=RATE,
        ci=("lc_ci_low", "lc_ci_high"),
        key="lc",
    ),
    Column("lc_standard_error", alpaca_eval=True, about="standard error of the LC win rate"),
    # ours: bootstrap intervals over instructions, counts of what was left out, provenance
    Column("win_rate_ci_low"),
    Column("win_rate_ci_high"),
    Column("lc_ci_low"),
    Column("lc_ci_high"),
    Column(
        "n_missing",
        "count",
        about="pairs without a verdict, excluded from the rates",
        place=50,
        label="missing",
        short="miss",
        key="missing",
    ),
    Column(
        "n_empty_outputs", "count", about="empty candidate outputs, judged as they are", fill=_empty_outputs
    ),
    Column("n_bootstrap", "count", about="bootstrap resamples behind the intervals"),
    Column(
        "cheating_flags",
        "text",
        about="checks of judgebench.stats.cheating that flag the outputs",
        fill=_cheating_flags,
        place=70,
        label="flags",
        key="flags",
        views=frozenset({"markdown", "html"}),
        alert=True,
    ),
    Column(
        "lc_by_instruction",
        about="LC with difficulty joined by instruction, where the LC column follows AlpacaEval's "
        "row-position lookup (files with rows missing)",
    ),
    Column(
        "lc_inputs",
        "text",
        about="where the LC fit's instruction difficulty came from",
        place=80,
        label="LC inputs",
        views=frozenset({"html"}),
    ),
)

SORT_BY = ("length_controlled_winrate", "win_rate")  # a board ranks by the first of these that has a value


def csv_names() -> list[str]:
    return [c.name for c in COLUMNS]


def alpaca_eval_names() -> list[str]:
    return [c.name for c in COLUMNS if c.alpaca_eval]


def extra_names() -> list[str]:
    return [c.name for c in COLUMNS if not c.alpaca_eval]


def numeric_names() -> list[str]:
    return [c.name for c in COLUMNS if c.kind != "text"]


def shown(view: str) -> list[Column]:
    """The columns a view (terminal, markdown, html) shows, left to right."""
    if view not in VIEWS:
        raise ValueError(f"unknown view {view!r}; one of {sorted(VIEWS)}")
    return sorted((c for c in COLUMNS if c.place is not None and view in c.views), key=lambda c: c.place or 0)


def conform(board: pd.DataFrame) -> pd.DataFrame:
    """The schema's columns in its order (empty where the board lacks one), then any others the board has."""
    names = csv_names()
    return board.reindex(columns=[*names, *(c for c in board.columns if c not in names)])


def fill_row(model: pd.DataFrame, row: dict[str, Any]) -> dict[str, Any]:
    """Add every column with a `fill` to `row` (in schema order, so a fill may read an earlier one)."""
    for c in COLUMNS:
        if c.fill is not None:
            value = c.fill(model, row)
            if value is not None:
                row[c.name] = value
    return row


def sort_key(board: pd.DataFrame) -> str:
    """LC where any model has one, else the win rate."""
    for name in SORT_BY:
        if name in board and board[name].notna().any():
            return name
    return SORT_BY[-1]


def sort_board(board: pd.DataFrame) -> pd.DataFrame:
    """Best first by `sort_key`; models without a value last; ties keep their order."""
    key = sort_key(board)
    return board.sort_values(key, ascending=False, kind="stable") if key in board else board
