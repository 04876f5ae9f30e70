"""The data-quality report of a cycle: one self-contained HTML page and the Prefect artifacts.

- :func:`build_report_data` (warehouse -> plain dict), :func:`render_report` (dict -> index.html),
  :func:`write_report` (both, to ``reports_dir/<cycle>/index.html``);
- :mod:`diaphuong.report.artifacts`: :func:`markdown_summary`, :func:`scorecard_rows`.
"""
from __future__ import annotations

from diaphuong.report.artifacts import markdown_summary, scorecard_rows
from diaphuong.report.data import ReportError, build_report_data
from diaphuong.report.html import render_html, render_report, write_report

__all__ = ["ReportError", "build_report_data", "markdown_summary", "render_html", "render_report",
           "scorecard_rows", "write_report"]
