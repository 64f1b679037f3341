"""Reports: a self-contained HTML page (html.py, charts.py) and text/Markdown tables (text.py)."""

from judgebench.report.html import build_report, write_report
from judgebench.report.text import render_markdown, render_text

__all__ = ["build_report", "render_markdown", "render_text", "write_report"]
