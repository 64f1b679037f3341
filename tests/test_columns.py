"""The column schema (judgebench/columns.py) is the one place a leaderboard column is declared: the CSV,
the terminal table, Markdown and the HTML page all follow it, and one rule ranks every board."""

from __future__ import annotations

import gzip
import json
import statistics
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest
from conftest import REPO

from judgebench import columns
from judgebench.columns import Column
from judgebench.leaderboard import (
    ALPACAEVAL_COLUMNS,
    EXTRA_COLUMNS,
    format_table,
    make_leaderboard,
    read_leaderboard,
    write_leaderboard,
)
from judgebench.report import build_report, render_markdown, render_text


def _csv_header(path) -> list[str]:
    with open(path, encoding="utf-8") as f:
        return f.readline().rstrip("\r\n").split(",")


def test_alpaca_eval_columns_are_the_official_csv_columns_in_order(alpaca_dir):
    official = _csv_header(alpaca_dir / "leaderboard_official.csv")
    assert official[0] == ""  # AlpacaEval leaves the index column unnamed
    assert columns.alpaca_eval_names() == official[1:] == ALPACAEVAL_COLUMNS
    assert columns.csv_names()[: len(official) - 1] == official[1:]  # theirs first, then ours
    assert columns.csv_names()[len(official) - 1 :] == EXTRA_COLUMNS


def test_committed_leaderboard_header_is_the_schema():
    """The committed board was written before the schema existed: the schema writes the same header."""
    assert _csv_header(REPO / "leaderboards" / "alpaca_eval_2.csv") == ["", *columns.csv_names()]


class _BoardTable(HTMLParser):
    """Headings and the first row's cells of the page's leaderboard table (#board), by data-key."""

    def __init__(self):
        super().__init__()
        self.headings: list[str] = []
        self.first_row: dict[str, str] = {}
        self._in_board = self._in_th = False
        self._cell: str | None = None
        self._rows = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            self._in_board = a.get("id") == "board"
        elif self._in_board and tag == "th":
            self.headings.append(a["data-key"])
        elif self._in_board and tag == "tr" and "data-model" in a:
            self._rows += 1
        elif self._in_board and tag == "td" and self._rows == 1:
            self._cell = a["data-key"]
            self.first_row[self._cell] = ""

    def handle_endtag(self, tag):
        if tag == "td":
            self._cell = None
        elif tag == "table":
            self._in_board = False

    def handle_data(self, data):
        if self._cell is not None:
            self.first_row[self._cell] += data


def _median_length_of_outputs(path) -> float:
    """By hand from the annotation file itself: the median character count of the candidate's outputs."""
    rows = json.loads(gzip.decompress(path.read_bytes()))
    return statistics.median(len(r["output_2"]) for r in rows)


def test_a_column_added_to_the_schema_shows_in_the_csv_terminal_markdown_and_html(
    monkeypatch, tmp_path, alpaca_dir
):
    """The worked example of the issue: one schema entry, and every rendering carries the new statistic."""
    median = Column(
        "median_length",
        "number",
        about="median characters of the candidate's outputs",
        fill=lambda model, row: float(np.median(model["len_2"])),
        place=65,  # after avg length, before the flags
        label="median length",
        short="med len",
        fmt="{:.0f}",
    )
    monkeypatch.setattr(columns, "COLUMNS", (*columns.COLUMNS, median))
    path = alpaca_dir / "annotations" / "claude.json.gz"
    expected = _median_length_of_outputs(path)

    board, _ = make_leaderboard([path], n_boot=20, workers=1)
    assert board.loc["claude", "median_length"] == expected

    out = tmp_path / "board.csv"
    write_leaderboard(board, out)
    assert _csv_header(out) == ["", *columns.csv_names()] and _csv_header(out)[-1] == "median_length"
    assert read_leaderboard(out).loc["claude", "median_length"] == expected

    text = format_table(board).splitlines()
    assert text[0].split()[-2:] == ["med", "len"]  # the last column in the terminal (it shows no flags)
    assert text[2].split()[-1] == f"{expected:.0f}"
    assert render_text(board) == format_table(board)

    md = render_markdown(board).splitlines()
    heads = [h.strip() for h in md[0].strip("|").split("|")]
    assert heads[-3:] == ["avg length", "median length", "flags"]
    assert md[2].split("|")[len(heads) - 1].strip() == f"{expected:.0f}"

    page = _BoardTable()
    page.feed(build_report(board=board))
    assert page.headings.index("median_length") == page.headings.index("length") + 1
    assert page.first_row["median_length"] == f"{expected:.0f}"


def _toy_board(**cols) -> pd.DataFrame:
    board = pd.DataFrame(index=[f"m{i}" for i in range(len(next(iter(cols.values()))))])
    for name in columns.csv_names():
        board[name] = cols.get(name, np.nan)
    return board


def test_a_column_shows_only_in_the_views_it_names(monkeypatch):
    only_html = Column(
        "judge_seconds",
        about="time the judge took",
        place=5,
        label="judge seconds",
        views=frozenset({"html"}),
    )
    monkeypatch.setattr(columns, "COLUMNS", (*columns.COLUMNS, only_html))
    board = _toy_board(win_rate=[40.0], n_total=[10], judge_seconds=[3.14])
    assert "judge seconds" not in format_table(board) and "judge seconds" not in render_markdown(board)
    page = _BoardTable()
    page.feed(build_report(board=board))
    assert page.headings[:3] == ["rank", "model", "judge_seconds"]  # place 5: left of LC (10)
    assert page.first_row["judge_seconds"] == "3.1"  # the default number format: one decimal
    with pytest.raises(ValueError, match="unknown view"):
        columns.shown("latex")


def test_one_rule_ranks_boards_lc_where_any_model_has_it_else_win_rate():
    board = _toy_board(
        length_controlled_winrate=[np.nan, 30.0, 60.0, 30.0], win_rate=[90.0, 10.0, 20.0, 50.0]
    )
    assert list(columns.sort_board(board).index) == ["m2", "m1", "m3", "m0"]  # tie keeps order; no LC last
    no_lc = _toy_board(length_controlled_winrate=[np.nan] * 3, win_rate=[10.0, 30.0, 20.0])
    assert list(columns.sort_board(no_lc).index) == ["m1", "m2", "m0"]


def test_a_board_from_alpaca_evals_own_csv_renders_without_our_columns(alpaca_dir):
    """AlpacaEval's CSV has no intervals, counts of missing pairs or flags: those show as empty."""
    board = read_leaderboard(alpaca_dir / "leaderboard_official.csv")
    text = format_table(board, limit=3).splitlines()
    assert "95% CI" not in text[0] and len(text) == 5
    top = board.iloc[0]
    assert text[2].split()[1] == f"{top['length_controlled_winrate']:.2f}"
    assert text[2].split()[-2] == "-"  # missing pairs: unknown, not zero
    md = render_markdown(board, limit=3).splitlines()
    assert md[2].split("|")[3].strip() == f"{top['length_controlled_winrate']:.1f}"  # no interval to show
    page = _BoardTable()
    page.feed(build_report(board=board.head(3)))
    assert (
        page.first_row["lc_ci"] == "–" and page.first_row["lc"] == f"{top['length_controlled_winrate']:.2f}"
    )
