"""The data-quality report: data read from a small warehouse, the rendered page, escaping, artifacts."""
from __future__ import annotations

import base64
import hashlib
import json
import re
from datetime import date, datetime, timedelta, timezone

import duckdb
import pytest

from diaphuong.report import (ReportError, build_report_data, markdown_summary, render_html, render_report,
                              scorecard_rows, write_report)
from diaphuong.report.html import fmt_number, sparkline
from diaphuong.report.sample import create_tables, insert

VN = timezone(timedelta(hours=7))
XSS_SCRIPT = "<script>alert(1)</script>"
XSS_IMG = '"><img src=x onerror=alert(1)>'
CYCLES = ("2024-Q4", "2025-Q1", "2025-Q2")
COLS = (("grdp_growth", "value"), ("retail_sales", "value"), ("retail_sales", "yoy_pct"))


def _warehouse() -> duckdb.DuckDBPyConnection:
    """Three provinces, three quarterly cycles. In 2025-Q2: 01 reports on time (one conflict, one
    revised figure), 02 (a name with a script in it) reports late with hostile notes and values,
    04 sends nothing (and missed 2025-Q1 too: a chronic non-reporter)."""
    con = duckdb.connect()
    create_tables(con)
    insert(con, "province", [
        {"code": "01", "province_set": "2008", "name_vi": "Thành phố Hà Nội", "valid_from": date(2008, 8, 1),
         "valid_to": date(2025, 6, 30)},
        {"code": "02", "province_set": "2008", "name_vi": "Tỉnh Hà Giang " + XSS_SCRIPT, "valid_from": date(2008, 8, 1),
         "valid_to": date(2025, 6, 30)},
        {"code": "04", "province_set": "2008", "name_vi": "Tỉnh Cao Bằng", "valid_from": date(2008, 8, 1),
         "valid_to": date(2025, 6, 30)},
    ])
    received = {  # cycle -> province -> days late (None: nothing received)
        "2024-Q4": {"01": 0, "02": 0, "04": 3},
        "2025-Q1": {"01": 0, "02": 0, "04": None},
        "2025-Q2": {"01": 0, "02": 4, "04": None},
    }
    for cycle in CYCLES:
        run = f"{cycle}-r1"
        insert(con, "cycle", [{"cycle": cycle, "cycle_kind": "quarter", "province_set": "2008",
                               "deadline": date(2025, 7, 8) if cycle == "2025-Q2" else None, "expected_reports": 3}])
        insert(con, "run", [{"run_id": run, "cycle": cycle, "started_at": datetime(2025, 1, 1, tzinfo=VN),
                             "outcome": "completed"}])
        comp, rs, obs = [], [], []
        for code, late in received[cycle].items():
            got = late is not None
            statuses = {c: ("missing" if not got else "reported_late" if late else "reported") for c in COLS}
            if cycle == "2025-Q2" and code == "01":
                statuses[("retail_sales", "yoy_pct")] = "conflict"
            if cycle == "2025-Q2" and code == "02":
                statuses[("grdp_growth", "value")] = "invalid"
            rep = sum(s in ("reported", "reported_late") for s in statuses.values())
            comp.append({"cycle": cycle, "province_code": code, "province_set": "2008", "expected_reports": 1,
                         "actual_reports": int(got), "actual_reports_on_time": int(got and not late),
                         "required_cells": 3, "reported_cells": rep, "indicator_completeness": 100.0 * rep / 3,
                         "days_late": late, "first_received_at": datetime(2025, 7, 8 + (late or 0), 15, tzinfo=VN) if got else None})
            for (ind, m), st in statuses.items():
                row = {"cycle": cycle, "province_code": code, "province_set": "2008", "indicator": ind,
                       "measure": m, "status": st}
                if st != "missing":
                    v = 7.5 if ind == "grdp_growth" else (1234.5 if m == "value" else 9.1)
                    loc = f"Bieu01!D{10 + COLS.index((ind, m))}"
                    row.update(value=v, locator=loc)
                    obs.append({"cycle": cycle, "period": cycle, "province_code": code, "province_set": "2008",
                                "indicator": ind, "measure": m, "value": v, "unit": "pct" if m != "value" or ind == "grdp_growth" else "bn_vnd",
                                "status": "E", "original_value": XSS_IMG if code == "02" and ind == "retail_sales" and m == "value" else str(v).replace(".", ","),
                                "source_kind": "submission", "source_file": f"submissions/{code}_{cycle}.xlsx",
                                "source_sha256": "a" * 64, "locator": loc, "valid_from_run": run})
                if st == "conflict":
                    row["text_value"] = 11.0
                    obs.append({"cycle": cycle, "period": cycle, "province_code": code, "province_set": "2008",
                                "indicator": ind, "measure": m, "value": 11.0, "unit": "pct", "status": "E",
                                "original_value": "11,0", "source_kind": "report",
                                "source_file": f"reports/{code}_{cycle}.docx", "source_sha256": "b" * 64,
                                "locator": "chars 120-188", "valid_from_run": run,
                                "sentence": "Tổng mức bán lẻ hàng hóa tăng 11,0% so với cùng kỳ năm trước."})
                rs.append(row)
        insert(con, "completeness", comp)
        insert(con, "reporting_status", rs)
        insert(con, "observation", obs)
        insert(con, "submission", [
            {"sha256": "a" * 64, "cycle": cycle, "province_code": code, "kind": "spreadsheet",
             "path": f"submissions/{code}_{cycle}.xlsx", "received_at": datetime(2025, 7, 8, 15, tzinfo=VN),
             "days_late": late, "outcome": "accepted",
             "note": ("Ghi chú: " + XSS_SCRIPT + " " + XSS_IMG) if code == "02" else None}
            for code, late in received[cycle].items() if late is not None])
    # 04 sent only a report text, late: not a report of the cycle's spreadsheet
    insert(con, "submission", [{"sha256": "d" * 64, "cycle": "2025-Q2", "province_code": "04", "kind": "report",
                                "path": "reports/04_2025-Q2.txt", "days_late": 9, "outcome": "accepted"}])
    # 2025-Q2: a second run revises 01's retail sales and withdraws 02's grdp growth
    con.execute("INSERT INTO run (run_id, cycle, started_at) VALUES ('2025-Q2-r2', '2025-Q2', TIMESTAMPTZ '2025-07-20 10:00:00+07')")
    con.execute("""UPDATE observation SET superseded_by_run = '2025-Q2-r2' WHERE cycle = '2025-Q2'
                   AND ((province_code = '01' AND indicator = 'retail_sales' AND measure = 'value')
                        OR (province_code = '02' AND indicator = 'grdp_growth'))""")
    insert(con, "observation", [{"cycle": "2025-Q2", "period": "2025-Q2", "province_code": "01", "province_set": "2008",
                                 "indicator": "retail_sales", "measure": "value", "value": 1300.0, "unit": "bn_vnd",
                                 "status": "A", "source_kind": "submission", "source_file": "submissions/01_2025-Q2_v2.xlsx",
                                 "source_sha256": "c" * 64, "locator": "Bieu01!D11", "valid_from_run": "2025-Q2-r2"}])
    insert(con, "finding", [
        {"cycle": "2025-Q2", "severity": "critical", "rule": "value_in_plausible_range", "province_code": "02",
         "indicator": "grdp_growth", "measure": "value", "period": "2025-Q2", "value": 75.0, "expected": "[-30, 40]",
         "message": "ngoài khoảng " + XSS_SCRIPT, "source_file": "submissions/02_2025-Q2.xlsx", "locator": "Bieu01!D10",
         "details": json.dumps({"min": -30, "max": 40})},
        {"cycle": "2025-Q2", "severity": "warning", "rule": "text_vs_submission", "province_code": "01",
         "indicator": "retail_sales", "measure": "yoy_pct", "period": "2025-Q2", "value": 11.0, "expected": "9.1",
         "message": "lời văn khác biểu", "source_file": "reports/01_2025-Q2.docx", "locator": "chars 120-188"},
        {"cycle": "2025-Q1", "severity": "critical", "rule": "old_cycle_rule", "province_code": "01",
         "message": "belongs to the previous cycle"},
    ])
    insert(con, "quarantine", [{"cycle": "2025-Q2", "file": "submissions/02_2025-Q2.xlsx", "locator": "Bieu01!E14",
                                "reason": "not_a_number", "message": "không đọc được", "raw_value": XSS_IMG,
                                "province_code": "02"}])
    insert(con, "suite_result", [{"cycle": "2025-Q2", "suite": "observation_structure", "evaluated": 10,
                                  "successful": 9, "unsuccessful": 1, "success_percent": 90.0}])
    return con


@pytest.fixture(scope="module")
def con():
    c = _warehouse()
    yield c
    c.close()


@pytest.fixture(scope="module")
def data(con):
    return build_report_data(con, "2025-Q2", chronic_k=2, chronic_n=3)


@pytest.fixture(scope="module")
def page(data):
    return render_html(data)


# ----------------------------------------------------------------------------- data
def test_headline_against_previous_cycle_of_same_kind(data):
    h, hp = data["headline"], data["headline_previous"]
    assert data["previous_cycle"] == "2025-Q1"
    assert h["expected"] == 3 and h["received"] == 2 and h["not_received"] == 1
    assert h["reporting_rate"] == pytest.approx(200 / 3)
    assert h["on_time_rate"] == pytest.approx(100 / 3)
    # 01: 2 of 3 (one conflict), 02: 2 of 3 late (one invalid), 04: 0 of 3
    assert h["indicator_completeness"] == pytest.approx(400 / 9)
    assert hp["reporting_rate"] == pytest.approx(200 / 3) and hp["on_time_rate"] == pytest.approx(200 / 3)
    assert h["findings"] == {"critical": 1, "warning": 1, "info": 0}  # the 2025-Q1 finding is not counted
    assert h["conflicts"] == 1 and h["quarantined"] == 1


def test_grid_statuses_and_detail(data):
    assert [p["code"] for p in data["provinces"]] == ["01", "02", "04"]
    assert [(c["indicator"], c["measure"]) for c in data["columns"]] == list(COLS)
    statuses = [[c["status"] for c in row] for row in data["grid"]]
    assert statuses == [["reported", "reported", "conflict"],
                        ["invalid", "reported_late", "reported_late"],
                        ["missing", "missing", "missing"]]
    cell = data["grid"][0][2]
    assert cell["value"] == 9.1 and cell["text_value"] == 11.0
    assert cell["locator"] == "Bieu01!D12" and cell["file"] == "submissions/01_2025-Q2.xlsx"
    assert "11,0%" in cell["sentence"]


def test_scorecard_worst_first_with_trend(data):
    sc = data["scorecard"]
    assert [s["code"] for s in sc] == ["04", "02", "01"]
    assert [s["rank"] for s in sc] == [1, 2, 3]
    assert sc[0]["state"] == "missing" and sc[0]["days_late"] is None
    assert sc[1]["state"] == "late" and sc[1]["days_late"] == 4
    assert sc[1]["critical"] == 1 and sc[2]["conflict"] == 1
    assert [p["cycle"] for p in sc[0]["trend"]] == list(CYCLES)
    assert [p["state"] for p in sc[0]["trend"]] == ["late", "missing", "missing"]
    assert sc[2]["delta"] == pytest.approx(200 / 3 - 100)


def test_chronic_non_reporters(data):
    ch = data["chronic"]
    assert ch["cycles"] == list(CYCLES)
    assert [r["code"] for r in ch["rows"]] == ["04"]
    assert ch["rows"][0]["missed"] == 2 and ch["rows"][0]["late"] == 1


def test_findings_grouped_by_severity_and_rule_with_sentence(data):
    f = {s["severity"]: s for s in data["findings"]}
    assert f["critical"]["count"] == 1 and f["critical"]["rules"][0]["rule"] == "value_in_plausible_range"
    item = f["critical"]["rules"][0]["items"][0]
    assert item["value"] == 75.0 and item["expected"] == "[-30, 40]" and item["locator"] == "Bieu01!D10"
    assert item["details"] == {"min": -30, "max": 40}
    w = f["warning"]["rules"][0]["items"][0]
    assert w["locator"] == "chars 120-188" and w["sentence"].startswith("Tổng mức bán lẻ")


def test_conflicts_side_by_side(data):
    (c,) = data["conflicts"]
    assert (c["province_code"], c["indicator"], c["measure"]) == ("01", "retail_sales", "yoy_pct")
    assert c["value"] == 9.1 and c["text_value"] == 11.0 and c["difference"] == pytest.approx(1.9)
    assert c["sub_locator"] == "Bieu01!D12" and c["rep_locator"] == "chars 120-188" and c["sentence"]


def test_changes_from_vintages(data):
    ch = data["changes"]
    (rev,) = ch["revised"]
    assert (rev["province_code"], rev["indicator"], rev["old_value"], rev["value"]) == ("01", "retail_sales", 1234.5, 1300.0)
    assert rev["old_status"] == "E" and rev["status"] == "A"
    (wd,) = ch["withdrawn"]
    assert (wd["province_code"], wd["indicator"]) == ("02", "grdp_growth")
    # new: province 02's grdp growth was not... every 2025-Q2 figure of 01/02 existed in 2025-Q1
    assert ch["new"] == []
    assert set(ch["runs"]) == {"2025-Q2-r1", "2025-Q2-r2"}


def test_new_figures_against_previous_cycle(con):
    con.execute("DELETE FROM observation WHERE cycle = '2025-Q1' AND province_code = '02' AND indicator = 'retail_sales' AND measure = 'yoy_pct'")
    try:
        d = build_report_data(con, "2025-Q2", chronic_k=2, chronic_n=3)
        assert [(n["province_code"], n["indicator"], n["measure"]) for n in d["changes"]["new"]] == [("02", "retail_sales", "yoy_pct")]
    finally:
        con.execute("""INSERT INTO observation (cycle, period, province_code, province_set, indicator, measure, value,
                       unit, status, source_kind, source_sha256, locator, valid_from_run)
                       VALUES ('2025-Q1', '2025-Q1', '02', '2008', 'retail_sales', 'yoy_pct', 9.1, 'pct', 'E',
                       'submission', 'aaa', 'Bieu01!D12', '2025-Q1-r1')""")


def test_unknown_cycle_raises(con):
    with pytest.raises(ReportError, match="2031-Q1"):
        build_report_data(con, "2031-Q1", chronic_k=2, chronic_n=3)


def test_first_cycle_has_no_previous(con):
    d = build_report_data(con, "2024-Q4", chronic_k=2, chronic_n=3)
    assert d["previous_cycle"] is None and d["headline_previous"] is None
    assert "chưa có kỳ trước cùng loại" in render_html(d)


def test_data_is_json_serialisable(data):
    json.dumps(data)


# ----------------------------------------------------------------------------- page
def test_sections_present(page, data):
    for ident in ("headline", "grid", "scorecard", "chronic", "findings", "conflicts", "changes", "files", "links",
                  "lang-toggle", "grid-data"):
        assert f'id="{ident}"' in page, ident
    grid = page[page.index('<table id="grid">'):page.index("</table>", page.index('<table id="grid">'))]
    body = grid[grid.index("<tbody>"):]
    assert body.count("<tr") == 3
    assert re.findall(r'<td class="(\w)"></td>', body) == list("rrc" "ill" "mmm")
    sc = page[page.index('id="scorecard"'):]
    assert sc.index("Tỉnh Cao Bằng") < sc.index("Thành phố Hà Nội")  # worst first
    assert "value_in_plausible_range" in page and "text_vs_submission" in page
    assert "Bieu01!D10" in page and "chars 120-188" in page


def test_bilingual_labels(page):
    assert '<html lang="vi">' in page
    for vi, en in (("Tỷ lệ báo cáo", "Reporting rate"), ("Bảng xếp hạng", "Scorecard"),
                   ("Nghiêm trọng", "Critical"), ("Mâu thuẫn", "Conflicts")):
        assert f'<span class="vi">{vi}</span><span class="en">{en}</span>' in page


def test_vietnamese_number_format(page):
    assert fmt_number(1234.5) == "1.234,5" and fmt_number(1234.5, lang="en") == "1,234.5"
    assert fmt_number(66.6666, 1, fixed=True) == "66,7" and fmt_number(None) == "—"
    assert '>66,7</span>%' in page  # reporting rate


def test_province_strings_are_escaped(page):
    assert XSS_SCRIPT not in page and XSS_IMG not in page
    assert "alert(1)" in page  # the text is there ...
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # ... as text
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<img" not in page
    # exactly our three script elements: the head script, the JSON blob, the main script
    assert len(re.findall(r"<script\b", page, flags=re.I)) == 3
    blob = re.search(r'<script type="application/json" id="grid-data">(.*?)</script>', page, re.S).group(1)
    assert "<" not in blob and ">" not in blob
    assert json.loads(blob)["rows"][1][1] == "Tỉnh Hà Giang " + XSS_SCRIPT


def test_csp_allows_only_our_scripts(page):
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page).group(1)
    assert "default-src 'none'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    scripts = re.findall(r"<script>(.*?)</script>", page, re.S)
    assert len(scripts) == 2
    for s in scripts:
        h = base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()
        assert f"'sha256-{h}'" in csp


def test_self_contained(page):
    assert "http://" not in page and "https://" not in page
    assert not re.search(r"<(link|img|iframe|object|embed)\b", page, re.I)
    tags = re.findall(r"<[a-zA-Z][^>]*>", page)
    assert not [t for t in tags if re.search(r"\ssrc=", t)]
    assert not [t for t in tags if re.search(r'\shref="(?!#|followup/|gx/)', t)]
    assert "@import" not in page and "url(" not in page


def test_sparkline_marks_missing_cycles():
    svg = sparkline([{"cycle": "a", "completeness": 80.0, "state": "ok"},
                     {"cycle": "b", "completeness": None, "state": "missing"},
                     {"cycle": "c", "completeness": 100.0, "state": "late"}])
    assert svg.startswith("<svg") and 'class="m"' in svg and 'class="l"' in svg and "<title>" in svg


def test_write_report_and_links(con, tmp_path):
    out = write_report(con, "2025-Q2", tmp_path, chronic_k=2, chronic_n=3)
    assert out == tmp_path / "2025-Q2" / "index.html"
    html = out.read_text(encoding="utf-8")
    assert 'href="followup/followup.xlsx"' not in html and "chưa được tạo" in html
    (out.parent / "followup" / "letters").mkdir(parents=True)
    (out.parent / "followup" / "followup.xlsx").write_bytes(b"x")
    (out.parent / "followup" / "letters" / "02 Hà Giang.docx").write_bytes(b"x")
    (out.parent / "gx").mkdir()
    (out.parent / "gx" / "index.html").write_text("gx")
    html = render_report(build_report_data(con, "2025-Q2", chronic_k=2, chronic_n=3), out).read_text(encoding="utf-8")
    assert 'href="followup/followup.xlsx"' in html and 'href="gx/index.html"' in html
    assert 'href="followup/letters/02%20H%C3%A0%20Giang.docx"' in html
    assert not list(out.parent.glob(".index-*"))  # no temporary file left


# ----------------------------------------------------------------------------- artifacts
def test_markdown_summary(data):
    md = markdown_summary(data)
    assert "2025-Q2" in md and "2025-Q1" in md and "66,7%" in md
    assert "<script>" not in md and "&lt;script&gt;" in md
    assert "04 Tỉnh Cao Bằng" in md  # worst province and chronic non-reporter
    assert "value\\_in\\_plausible\\_range" in md


def test_scorecard_rows(data):
    rows = scorecard_rows(data)
    assert [r["province_code"] for r in rows] == ["04", "02", "01"]
    assert rows[0]["state"] == "missing" and rows[2]["conflict"] == 1
    assert set(type(v) for r in rows for v in r.values()) <= {str, int, float, type(None)}
    json.dumps(rows)
