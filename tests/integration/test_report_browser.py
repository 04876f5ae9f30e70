"""The data-quality report in a real browser: headless Chromium (Debian's ``chromium`` package).

The page records script errors (``window.onerror``) in ``<html data-js-errors>`` and blocked
inline code (CSP violations) in ``data-csp-violations``; the DOM is read back with ``--dump-dom``
after the scripts ran. Screenshots go to ``$DIAPHUONG_TEST_OUTPUT`` (default ``out/tests/report_browser``,
git-ignored).
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import duckdb
import pytest

from diaphuong.report import build_report_data, render_report
from diaphuong.report.browser import dump_dom, find_chromium, html_attr, screenshot
from diaphuong.report.sample import PAYLOADS, build_sample_warehouse

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(os.environ.get("DIAPHUONG_TEST_OUTPUT", ROOT / "out" / "tests")) / "report_browser"

pytestmark = pytest.mark.skipif(
    find_chromium() is None,
    reason="headless Chromium not installed (/usr/bin/chromium): apt-get install -y chromium (.ci/run does it)")


def _report(tmp: Path, **kw) -> Path:
    con = duckdb.connect()
    try:
        cycle = build_sample_warehouse(con, **kw)
        data = build_report_data(con, cycle, chronic_k=2, chronic_n=3)
    finally:
        con.close()
    return render_report(data, tmp / cycle / "index.html")


@pytest.fixture(scope="module")
def full_page(tmp_path_factory) -> Path:
    return _report(tmp_path_factory.mktemp("report"), n_provinces=63, n_columns=40)


def test_report_renders_without_script_errors(full_page):
    dom = dump_dom(full_page, selftest=True)
    assert html_attr(dom, "data-ready") == "1", "the page's script did not finish"
    assert html_attr(dom, "data-js-errors") == ""
    assert html_attr(dom, "data-csp-violations") is None
    # hover and click a grid cell, sort the scorecard, switch language: all worked
    assert html_attr(dom, "data-selftest").split()[:4] == ["tip", "detail", "sorted", "renumbered"]
    grid = dom[dom.index('<table id="grid">'):]
    grid = grid[:grid.index("</table>")]
    assert grid.count("<tr") == 2 + 63 and len(re.findall(r'<td class="[rlmitcnx]', grid)) == 63 * 40
    for ident in ("scorecard", "findings", "chronic", "conflicts", "changes"):
        assert f'id="{ident}"' in dom, ident
    sc = dom[dom.index('<table id="scorecard"'):]
    assert sc[:sc.index("</table>")].count("<svg") == 63  # one trend sparkline per province
    assert "value_in_plausible_range" in dom and "Bieu01!" in dom


def test_report_screenshots(full_page):
    vi = screenshot(full_page, OUT / "report.png", size=(1400, 2000))
    en = screenshot(full_page, OUT / "report_en.png", size=(1400, 2000), lang="en")
    for p in (vi, en):
        assert p.stat().st_size > 10_000 and p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    dom = dump_dom(full_page, lang="en")
    assert html_attr(dom, "lang") == "en" and html_attr(dom, "data-js-errors") == ""


def test_injected_strings_do_not_execute(tmp_path):
    page = _report(tmp_path, n_provinces=8, n_columns=12, hostile=True)
    html = page.read_text(encoding="utf-8")
    dom = dump_dom(page, selftest=True)
    assert html_attr(dom, "data-pwned") is None, "an injected script ran"
    assert html_attr(dom, "data-csp-violations") is None, "injected code reached the DOM (blocked by CSP)"
    assert html_attr(dom, "data-js-errors") == ""
    assert "<img" not in dom and len(re.findall(r"<script\b", dom)) == 3
    assert "&lt;script&gt;document.documentElement.setAttribute" in dom  # shown as text
    screenshot(page, OUT / "report_hostile.png", size=(1400, 1200))

    # controls: the same payloads unescaped would be caught (CSP) and, without the CSP, would run
    raw = html.replace("</main>", "".join(PAYLOADS) + "</main>", 1)
    broken = tmp_path / "broken.html"
    broken.write_text(raw, encoding="utf-8")
    d = dump_dom(broken)
    assert html_attr(d, "data-pwned") is None and html_attr(d, "data-csp-violations")
    no_csp = tmp_path / "no_csp.html"
    no_csp.write_text(re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", raw), encoding="utf-8")
    assert html_attr(dump_dom(no_csp), "data-pwned") in ("script", "img", "close")


def test_sample_cycle_report_from_the_flow_renders(sample_warehouse):
    """The report the flow wrote for the bundled sample cycle, opened in Chromium."""
    wh = sample_warehouse[0]
    page = wh / "reports" / "2025-H2" / "index.html"
    dom = dump_dom(page, selftest=True)
    assert html_attr(dom, "data-ready") == "1"
    assert html_attr(dom, "data-js-errors") == ""
    assert html_attr(dom, "data-csp-violations") is None
    grid = dom[dom.index('<table id="grid">'):]
    assert grid[:grid.index("</table>")].count("<tr") == 2 + 34
    for ident in ("scorecard", "findings", "chronic", "conflicts", "changes"):
        assert f'id="{ident}"' in dom, ident
    assert "Bieu_01!" in dom  # a finding's source cell
    OUT.mkdir(parents=True, exist_ok=True)
    assert screenshot(page, OUT / "sample_2025-H2.png").stat().st_size > 10_000
