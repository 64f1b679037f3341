"""The column schema (judgebench/leaderboard/columns.py) is the one place a leaderboard column is declared: the CSV,
the terminal table, Markdown and the HTML page all follow it, and one rule ranks every board."""

from __future__ import annotations

import gzip
import json
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest
from conftest import REPO

from judgebench.leaderboard import columns
from judgebench.leaderboard.board import (
    ALPACAEVAL_COLUMNS,
    EXTRA_COLUMNS,
    make_leaderboard,
    read_leaderboard,
    write_leaderboard,
)
from judgebench.leaderboard.columns import Column
from judgebench.report import build_report, render_markdown
from judgebench.report.text import render_text


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


def _longest_output(path) -> int:
    """By hand from the annotation file itself: the character count of the candidate's longest output."""
    rows = json.loads(gzip.decompress(path.read_bytes()))
    return max(len(r["output_2"]) for r in rows)


def _terminal_cell(table: str, heading: str, row: int) -> str:
    """The cell under a right-aligned heading of the terminal table (columns are two spaces apart)."""
    lines = table.splitlines()
    end = lines[0].index(heading) + len(heading)
    return lines[2 + row][:end].rsplit("  ", 1)[-1].strip()


def _markdown_cell(md: str, heading: str, row: int) -> str:
    lines = md.splitlines()
    heads = [h.strip() for h in lines[0].strip("|").split("|")]
    return lines[2 + row].strip("|").split("|")[heads.index(heading)].strip()


def _markdown_headings(md: str) -> list[str]:
    return [h.strip() for h in md.splitlines()[0].strip("|").split("|")]


def test_a_column_added_to_the_schema_shows_in_the_csv_terminal_markdown_and_html(
    monkeypatch, tmp_path, alpaca_dir
):
    """One schema entry, and the CSV and every rendering carry the new statistic where the entry says."""
    longest = Column(
        "longest_output",
        "count",
        about="characters of the candidate's longest output",
        fill=lambda model, row: int(model["len_2"].max()),
        place=61,  # right after avg length (60)
        label="longest output",
        short="longest",
    )
    monkeypatch.setattr(columns, "COLUMNS", (*columns.COLUMNS, longest))
    path = alpaca_dir / "annotations" / "claude.json.gz"
    expected = _longest_output(path)

    board, _ = make_leaderboard([path], n_boot=20, workers=1)
    assert board.loc["claude", "longest_output"] == expected

    out = tmp_path / "board.csv"
    write_leaderboard(board, out)
    assert _csv_header(out) == ["", *columns.csv_names()] and _csv_header(out)[-1] == "longest_output"
    assert read_leaderboard(out).loc["claude", "longest_output"] == expected

    text = render_text(board)
    assert text.splitlines()[0].index("longest") > text.splitlines()[0].index("len")
    assert _terminal_cell(text, "longest", 0) == str(expected)

    md = render_markdown(board)
    heads = _markdown_headings(md)
    assert heads.index("longest output") == heads.index("avg length") + 1
    assert _markdown_cell(md, "longest output", 0) == str(expected)

    page = _BoardTable()
    page.feed(build_report(board=board))
    assert page.headings.index("longest_output") == page.headings.index("length") + 1
    assert page.first_row["longest_output"] == str(expected)


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
    assert "judge seconds" not in render_text(board) and "judge seconds" not in render_markdown(board)
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
    text = render_text(board, limit=3)
    assert "95% CI" not in text.splitlines()[0] and len(text.splitlines()) == 5
    top = board.iloc[0]
    assert _terminal_cell(text, "LC", 0) == f"{top['length_controlled_winrate']:.2f}"
    assert _terminal_cell(text, "miss", 0) == "-"  # missing pairs: unknown, not zero
    md = render_markdown(board, limit=3)
    lc = f"{top['length_controlled_winrate']:.1f}"
    assert _markdown_cell(md, "LC win rate [95% CI]", 0) == lc  # no interval to show
    page = _BoardTable()
    page.feed(build_report(board=board.head(3)))
    assert (
        page.first_row["lc_ci"] == "–" and page.first_row["lc"] == f"{top['length_controlled_winrate']:.2f}"
    )
