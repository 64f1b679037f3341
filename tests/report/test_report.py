"""The HTML report: structure without a browser, then the shared models' page in Debian's Chromium
(headless, through Playwright): rows, order, CI text, sorting, no console errors, a screenshot."""

import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from conftest import REPO, judgebench_exe

from judgebench.report import build_report, render_markdown

CHROMIUM = os.environ.get("JUDGEBENCH_CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")


class _Page(HTMLParser):
    """Collects what the structure tests look at: tags, ids, external references, table rows."""

    def __init__(self):
        super().__init__()
        self.ids, self.external, self.rows, self.tags = set(), [], [], []
        self._row = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        if "id" in a:
            self.ids.add(a["id"])
        for key in ("src", "href"):
            if a.get(key) and not a[key].startswith("#"):
                self.external.append(a[key])
        if tag == "tr" and "data-model" in a:
            self.rows.append(a["data-model"])


@pytest.fixture(scope="module")
def shared_board(all_annotations):
    from judgebench.leaderboard.board import make_leaderboard

    board, _ = make_leaderboard(all_annotations, n_boot=200, workers=2)
    return board


def _audit_result():
    """An audit result in the shape run_audit writes (values invented: this tests the page, not the audit)."""
    check = {
        "name": "constant",
        "metric": 0.31,
        "n": 10,
        "ci_low": 0.2,
        "ci_high": 0.4,
        "threshold": "PASS <= 0.05",
        "status": "FAIL",
        "details": {"worst_response": "plea"},
        "worst": [
            {
                "instruction": "Say <hi>",
                "baseline": "b",
                "candidate": "<script>alert(1)</script>",
                "candidate_wins": {"baseline_first": 1.0},
                "judge_raw": {"baseline_first": "'M'"},
            }
        ],
    }
    return {
        "judge": "local",
        "model": "smollm2",
        "eval_set": "alpaca_eval",
        "n": 10,
        "checks": [check, {**check, "name": "verbosity", "status": "PASS", "worst": []}],
        "annotation": {"calls": 40, "cost": 0.0},
    }


def test_page_structure_without_a_browser(shared_board, all_annotations):
    page = build_report(
        board=shared_board,
        annotations=all_annotations,
        audit=_audit_result(),
        manifests=[{"judge": "local", "judge_hash": "abc123"}],
        n_boot=200,
    )
    p = _Page()
    p.feed(page)
    assert p.external == []  # self-contained: no script, stylesheet, font or image fetched
    assert {
        "leaderboard",
        "board",
        "length",
        "breakdown",
        "comparison",
        "audit",
        "audit-table",
        "manifest",
    } <= p.ids
    assert p.rows == list(shared_board.index)  # rows in leaderboard (LC) order
    assert page.count("<svg") >= 4 + 2 * len(shared_board) - 2  # 4 charts + per-row CI bars
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert 'class="status FAIL"' in page and "abc123" in page
    # the breakdown covers AlpacaEval's five source datasets for the top annotated model
    assert all(
        f'<td class="left">{d}</td>' in page
        for d in ("helpful_base", "koala", "oasst", "selfinstruct", "vicuna")
    )


def test_markdown_rendering_matches_the_board(shared_board):
    md = render_markdown(shared_board)
    lines = md.strip().splitlines()
    assert len(lines) == 2 + len(shared_board)
    first = lines[2].split("|")
    top = shared_board.iloc[0]
    assert first[2].strip() == shared_board.index[0]
    assert first[3].strip() == (
        f"{top['length_controlled_winrate']:.1f} [{top['lc_ci_low']:.1f}, {top['lc_ci_high']:.1f}]"
    )


def test_report_cli_formats(tmp_path, alpaca_dir, cli_env):
    board = tmp_path / "board.csv"
    subprocess.run(
        [
            judgebench_exe(),
            "leaderboard",
            "--annotations",
            str(alpaca_dir / "annotations"),
            "--n-boot",
            "50",
            "--out",
            str(board),
            "--report",
            str(tmp_path / "lb.html"),
        ],
        check=True,
        env=cli_env,
        capture_output=True,
    )
    assert (tmp_path / "lb.html").read_text().count("data-model=") == len(pd.read_csv(board))

    def report(fmt: str) -> str:
        argv = [judgebench_exe(), "report", "--leaderboard", str(board), "--format", fmt]
        return subprocess.run(argv, check=True, env=cli_env, capture_output=True, text=True).stdout

    assert report("markdown").startswith("| # | model |")
    assert report("text").splitlines()[0].startswith("model")


def _browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    if sync_playwright is None or not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("CI must install Debian's chromium and the playwright package (.ci/run)")
        pytest.skip(f"needs playwright and Chromium at {CHROMIUM} (apt-get install chromium)")
    return sync_playwright


def test_report_in_a_real_browser(tmp_path, shared_board, all_annotations):
    sync_playwright = _browser()
    out = tmp_path / "report.html"
    out.write_text(
        build_report(board=shared_board, annotations=all_annotations, audit=_audit_result(), n_boot=200)
    )
    shots = REPO / "runs" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        problems = []
        page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on(
            "request",
            lambda r: problems.append(f"request {r.url}") if not r.url.startswith("file:") else None,
        )
        page.goto(out.as_uri())
        models = page.eval_on_selector_all("#board tbody tr", "rows => rows.map(r => r.dataset.model)")
        assert models == list(shared_board.index)
        top = shared_board.iloc[0]
        ci_text = page.inner_text('#board tbody tr:first-child td[data-key="lc_ci"] .ci')
        assert ci_text == f"[{top['lc_ci_low']:.1f}, {top['lc_ci_high']:.1f}]"
        page.screenshot(path=str(shots / "report.png"), full_page=True)
        # sorting by a click: raw win rate, highest first
        page.click('#board th[data-key="wr"]')
        by_wr = page.eval_on_selector_all("#board tbody tr", "rows => rows.map(r => r.dataset.model)")
        assert by_wr == list(shared_board.sort_values("win_rate", ascending=False, kind="stable").index)
        assert (
            page.is_visible("#audit-table")
            and page.inner_text('#audit-table tr[data-check="constant"] .status') == "FAIL"
        )
        browser.close()
    assert problems == []
    assert (shots / "report.png").stat().st_size > 50_000


def test_an_audit_alone_makes_a_page_without_a_leaderboard(tmp_path):
    from judgebench.report import write_report

    path = write_report(tmp_path / "audit.html", audit=_audit_result())
    text = path.read_text()
    assert 'id="audit-table"' in text and 'id="board"' not in text
    assert re.search(r"<title>judgebench report</title>", text)
    assert 'class="status PASS"' in text and 'class="status FAIL"' in text


def test_report_cli_errors_name_the_file_or_field(tmp_path, alpaca_dir, cli_env):
    missing = subprocess.run(
        [judgebench_exe(), "report", "--audit", str(tmp_path / "nothing")],
        capture_output=True,
        text=True,
        env=cli_env,
    )
    assert missing.returncode == 2 and "nothing/audit.json: file not found" in missing.stderr
    board = tmp_path / "b.csv"
    subprocess.run(
        [
            judgebench_exe(),
            "leaderboard",
            "--annotations",
            str(alpaca_dir / "annotations" / "claude.json.gz"),
            "--n-boot",
            "0",
            "--out",
            str(board),
        ],
        check=True,
        env=cli_env,
        capture_output=True,
    )
    wrong = subprocess.run(
        [
            judgebench_exe(),
            "report",
            "--leaderboard",
            str(board),
            "--annotations",
            str(alpaca_dir / "annotations" / "claude.json.gz"),
            "--model",
            "nope",
            "--out",
            str(tmp_path / "r.html"),
        ],
        capture_output=True,
        text=True,
        env=cli_env,
    )
    assert wrong.returncode == 2 and "'nope' has no annotations" in wrong.stderr and "claude" in wrong.stderr
    assert not (tmp_path / "r.html").exists()
