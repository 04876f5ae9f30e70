"""Completeness, reporting status, findings, chronic non-reporters, receipts, the scorecard view and
the follow-up outputs, on a hand-built cycle whose every number is computed by hand below.

Cycle 2025-H2 (34 units, deadline Mon 2025-12-22 after the Saturday 20th), two required cells
(grdp_growth/value, budget_revenue/value):

  01 on time, both cells; the text's 8,2 agrees with the sheet's 8.16       -> reported x2
  04 late (23/12 08:00: 1 day, 1 working day), both cells                    -> reported_late x2
  08 file A on time (Sat 20/12) with grdp; resubmission B late (Fri 26/12) with both; A superseded
     -> on time; grdp reported (first sent on time), budget reported_late
  11 one unreadable file (quarantined)                                       -> invalid x2, no report
  12 file not in inbox.csv: receipt from mtime (Sun 21/12, on time)          -> reported x2
  14 report text only (grdp 7,1)                                            -> text_only + missing
  15 sheet grdp 7.0 but text 7,5 -> conflict; budget written '..'            -> conflict + missing
  19 grdp cell quarantined (formula), budget fine (22/12 10:00)              -> invalid + reported
  02 Hà Giang: a unit of the 63-list, not expected in 2025-H2, sent a readable file on time
  the 26 other units: nothing                                                -> missing x2
"""
import json
import os
from datetime import date, datetime, timedelta, timezone

import duckdb
import pandas as pd
import pytest

from diaphuong import schema
from diaphuong.completeness import (
    chronic_non_reporters, completeness, completeness_findings, create_scorecard_view, cycle_summary,
    expected_provinces, lateness, read_inbox, receipts, reporting_status, status_frame,
)
from diaphuong.reconcile import reconcile

VN = timezone(timedelta(hours=7))
REQ = pd.DataFrame({"indicator": ["grdp_growth", "budget_revenue"], "measure": ["value", "value"]})
C = "2025-H2"


def vn(y, m, d, h=9, mi=0):
    return pd.Timestamp(datetime(y, m, d, h, mi, tzinfo=VN))


def sub(sha, code, path, received, *, outcome="accepted", kind="spreadsheet", source="inbox", pset="2025", error=None):
    return {"sha256": sha, "cycle": C, "province_code": code, "province_set": pset, "kind": kind,
            "path": f"{C}/{path}", "received_at": received, "received_at_source": source,
            "outcome": outcome, "error": error}


def ob(code, ind, value, sha, path, loc, *, kind="submission", original=None, status="E", unit=None):
    return {"cycle": C, "period": C, "province_code": code, "province_set": "2025", "indicator": ind,
            "measure": "value", "value": value, "unit": unit or ("pct" if ind == "grdp_growth" else "bn_vnd"),
            "status": status, "original_value": original, "source_kind": kind, "source_file": f"{C}/{path}",
            "source_sha256": sha, "locator": loc, "valid_from_run": "r1"}


def scenario():
    subs = pd.DataFrame([
        sub("h01", "01", "submissions/01_HaNoi.xlsx", vn(2025, 12, 19, 10)),
        sub("t01", "01", "reports/01_HaNoi.docx", vn(2025, 12, 19, 10), kind="report"),
        sub("h04", "04", "submissions/04.xlsx", vn(2025, 12, 23, 8)),
        sub("h08a", "08", "submissions/08_v1.xlsx", vn(2025, 12, 20, 9), outcome="superseded"),
        sub("h08b", "08", "submissions/08_v2.xlsx", vn(2025, 12, 26, 15)),
        sub("h11", "11", "submissions/11.xlsx", vn(2025, 12, 18, 9), outcome="quarantined",
            error="not a zip file: the workbook is damaged"),
        sub("h12", "12", "submissions/12.xlsx", vn(2025, 12, 21, 20), source="mtime"),
        sub("t14", "14", "reports/14.txt", vn(2025, 12, 19, 9), kind="report"),
        sub("h15", "15", "submissions/15.xlsx", vn(2025, 12, 22, 23, 30)),
        sub("t15", "15", "reports/15.pdf", vn(2025, 12, 22, 23, 30), kind="report"),
        sub("h19", "19", "submissions/19.csv", vn(2025, 12, 22, 10)),
        sub("h02", "02", "submissions/02_HaGiang.xlsx", vn(2025, 12, 19, 9), pset="2008"),
    ])
    obs = pd.DataFrame([
        ob("01", "grdp_growth", 8.16, "h01", "submissions/01_HaNoi.xlsx", "Bieu_01!E5"),
        ob("01", "budget_revenue", 512345.0, "h01", "submissions/01_HaNoi.xlsx", "Bieu_01!E9"),
        ob("01", "grdp_growth", 8.2, "t01", "reports/01_HaNoi.docx", "chars 40-80", kind="report", original="8,2"),
        ob("04", "grdp_growth", 6.1, "h04", "submissions/04.xlsx", "Bieu_01!E5"),
        ob("04", "budget_revenue", 2100.0, "h04", "submissions/04.xlsx", "Bieu_01!E9"),
        ob("08", "grdp_growth", 7.9, "h08a", "submissions/08_v1.xlsx", "Bieu_01!E5"),
        ob("08", "grdp_growth", 8.0, "h08b", "submissions/08_v2.xlsx", "Bieu_01!E5"),
        ob("08", "budget_revenue", 4500.0, "h08b", "submissions/08_v2.xlsx", "Bieu_01!E9"),
        ob("12", "grdp_growth", 7.2, "h12", "submissions/12.xlsx", "Bieu_01!E5"),
        ob("12", "budget_revenue", 1900.0, "h12", "submissions/12.xlsx", "Bieu_01!E9"),
        ob("14", "grdp_growth", 7.1, "t14", "reports/14.txt", "chars 10-30", kind="report", original="7,1"),
        ob("15", "grdp_growth", 7.0, "h15", "submissions/15.xlsx", "Bieu_01!E5"),
        ob("15", "budget_revenue", None, "h15", "submissions/15.xlsx", "Bieu_01!E9", status="M", original=".."),
        ob("15", "grdp_growth", 7.5, "t15", "reports/15.pdf", "chars 200-240", kind="report", original="7,5"),
        ob("19", "budget_revenue", 3000.0, "h19", "submissions/19.csv", "line 9"),
        ob("02", "grdp_growth", 6.5, "h02", "submissions/02_HaGiang.xlsx", "Bieu_01!E5"),
    ])
    qua = pd.DataFrame([
        {"cycle": C, "file": f"{C}/submissions/11.xlsx", "source_sha256": "h11", "locator": None,
         "reason": "unreadable", "message": "not a zip file", "raw_value": None, "province_code": "11"},
        {"cycle": C, "file": f"{C}/submissions/19.csv", "source_sha256": "h19", "locator": "line 5",
         "reason": "formula", "message": "a formula, not a figure", "raw_value": "=SUM(A1:A3)",
         "province_code": "19", "indicator": "grdp_growth", "measure": "value"},
    ])
    return subs, obs, qua


@pytest.fixture(scope="module")
def built():
    subs, obs, qua = scenario()
    rec = reconcile(obs, subs)
    rs = reporting_status(C, subs, obs, qua, rec, required=REQ, run_id="r1")
    comp = completeness(C, subs, rs, run_id="r1")
    fnd = completeness_findings(C, subs, rs, comp, rec, run_id="r1")
    return subs, obs, qua, rec, rs, comp, fnd


def status_of(rs, code, ind):
    return rs[(rs["province_code"] == code) & (rs["indicator"] == ind)].iloc[0]


# ---------------------------------------------------------------------------------------- statuses


def test_expected_units_across_the_2025_switch():
    jun, jul = expected_provinces("2025-06"), expected_provinces("2025-07")
    assert (len(jun), len(jul)) == (63, 34)
    assert set(jun["province_set"]) == {"2008"} and set(jul["province_set"]) == {"2025"}
    assert "02" in set(jun["province_code"]) and "02" not in set(jul["province_code"])


def test_reporting_status_per_cell(built):
    *_, rs, comp, fnd = built
    assert len(rs) == 34 * 2
    assert list(rs.columns) == schema.TABLES["reporting_status"].columns
    expect = {
        ("01", "grdp_growth"): "reported", ("01", "budget_revenue"): "reported",
        ("04", "grdp_growth"): "reported_late", ("04", "budget_revenue"): "reported_late",
        ("08", "grdp_growth"): "reported", ("08", "budget_revenue"): "reported_late",
        ("11", "grdp_growth"): "invalid", ("11", "budget_revenue"): "invalid",
        ("12", "grdp_growth"): "reported", ("12", "budget_revenue"): "reported",
        ("14", "grdp_growth"): "text_only", ("14", "budget_revenue"): "missing",
        ("15", "grdp_growth"): "conflict", ("15", "budget_revenue"): "missing",
        ("19", "grdp_growth"): "invalid", ("19", "budget_revenue"): "reported",
        ("20", "grdp_growth"): "missing", ("96", "budget_revenue"): "missing",
    }
    for (code, ind), st in expect.items():
        assert status_of(rs, code, ind)["status"] == st, (code, ind)
    assert rs["status"].value_counts().to_dict() == {
        "missing": 54, "reported": 6, "reported_late": 3, "invalid": 3, "text_only": 1, "conflict": 1}
    assert "02" not in set(rs["province_code"])                 # not expected: no required cells


def test_reporting_status_values_details_and_locators(built):
    *_, rs, comp, fnd = built
    r08 = status_of(rs, "08", "grdp_growth")
    assert r08["value"] == 8.0                                    # the resubmission's figure
    assert r08["locator"] == f"{C}/submissions/08_v2.xlsx: Bieu_01!E5"
    assert "after the deadline 2025-12-22" in status_of(rs, "08", "budget_revenue")["detail"]
    c15 = status_of(rs, "15", "grdp_growth")
    assert (c15["value"], c15["text_value"]) == (7.0, 7.5)
    assert c15["locator"] == f"{C}/submissions/15.xlsx: Bieu_01!E5 | {C}/reports/15.pdf: chars 200-240"
    assert "'..'" in status_of(rs, "15", "budget_revenue")["detail"]
    assert status_of(rs, "14", "grdp_growth")["text_value"] == 7.1
    assert status_of(rs, "14", "budget_revenue")["detail"] == "no spreadsheet received"
    assert "not a zip file" in status_of(rs, "11", "grdp_growth")["detail"]
    assert status_of(rs, "19", "grdp_growth")["locator"] == f"{C}/submissions/19.csv: line 5"
    assert status_of(rs, "01", "grdp_growth")["text_value"] == 8.2   # agrees: stays reported


def test_not_applicable_leaves_the_denominator():
    subs, obs, qua = scenario()
    na = pd.DataFrame([{"indicator": "budget_revenue", "province_set": "2025", "province_code": "20",
                        "reason": "example: no such revenue"},
                       {"indicator": "budget_revenue", "province_set": "2008", "province_code": "01",
                        "reason": "other set: ignored"}])
    rs = reporting_status(C, subs, obs, qua, None, not_applicable=na, required=REQ)
    r = status_of(rs, "20", "budget_revenue")
    assert r["status"] == "not_applicable" and "no such revenue" in r["detail"]
    assert status_of(rs, "01", "budget_revenue")["status"] == "reported"
    comp = completeness(C, subs, rs)
    row = comp[comp["province_code"] == "20"].iloc[0]
    assert (row["required_cells"], row["reported_cells"], row["indicator_completeness"]) == (1, 0, 0.0)


def test_default_requirements_come_from_the_catalog():
    from diaphuong.catalog.indicators import required_for
    subs, obs, qua = scenario()
    rs = reporting_status(C, subs, obs, qua)
    assert len(rs) == 34 * len(required_for("half"))


# ---------------------------------------------------------------------------------------- rates


def test_completeness_per_province(built):
    *_, comp, fnd = built
    assert list(comp.columns) == schema.TABLES["completeness"].columns
    assert len(comp) == 35                                        # 34 expected + Hà Giang
    p = comp.set_index("province_code")
    def row(c):
        r = p.loc[c]
        return (int(r.expected_reports), int(r.actual_reports), int(r.actual_reports_on_time),
                None if pd.isna(r.reporting_rate) else float(r.reporting_rate),
                None if pd.isna(r.reporting_rate_on_time) else float(r.reporting_rate_on_time),
                None if pd.isna(r.timeliness_among_received) else float(r.timeliness_among_received),
                None if pd.isna(r.required_cells) else int(r.required_cells),
                None if pd.isna(r.reported_cells) else int(r.reported_cells),
                None if pd.isna(r.indicator_completeness) else float(r.indicator_completeness),
                None if pd.isna(r.days_late) else int(r.days_late),
                None if pd.isna(r.working_days_late) else int(r.working_days_late))
    assert row("01") == (1, 1, 1, 100.0, 100.0, 100.0, 2, 2, 100.0, 0, 0)
    assert row("04") == (1, 1, 0, 100.0, 0.0, 0.0, 2, 2, 100.0, 1, 1)
    assert row("08") == (1, 1, 1, 100.0, 100.0, 100.0, 2, 2, 100.0, 0, 0)     # resubmission: first on time
    assert row("11") == (1, 0, 0, 0.0, 0.0, None, 2, 0, 0.0, None, None)      # unreadable file: no report
    assert row("12") == (1, 1, 1, 100.0, 100.0, 100.0, 2, 2, 100.0, 0, 0)
    assert row("14") == (1, 0, 0, 0.0, 0.0, None, 2, 0, 0.0, None, None)      # a text alone is no report
    assert row("15") == (1, 1, 1, 100.0, 100.0, 100.0, 2, 1, 50.0, 0, 0)      # 23:30 on the deadline day
    assert row("19") == (1, 1, 1, 100.0, 100.0, 100.0, 2, 1, 50.0, 0, 0)
    assert row("20") == (1, 0, 0, 0.0, 0.0, None, 2, 0, 0.0, None, None)
    assert row("02") == (0, 1, 1, None, None, 100.0, None, None, None, 0, 0)  # not expected
    assert p.loc["08"].first_received_at == vn(2025, 12, 20, 9).tz_convert("UTC")
    assert p.loc["02"].province_set == "2008"


def test_cycle_summary(built):
    *_, comp, fnd = built
    s = cycle_summary(comp)
    assert s["cycle"] == C
    assert (s["expected_reports"], s["actual_reports"], s["actual_reports_on_time"]) == (34, 7, 6)
    assert s["reporting_rate"] == pytest.approx(700 / 34)
    assert s["reporting_rate_on_time"] == pytest.approx(600 / 34)
    assert s["timeliness_among_received"] == pytest.approx(600 / 7)
    assert (s["required_cells"], s["reported_cells"]) == (68, 10)
    assert s["indicator_completeness"] == pytest.approx(1000 / 68)
    assert (s["missing_reports"], s["late_reports"], s["unexpected_reports"], s["expected_reported"]) == (28, 1, 1, 6)


def test_rate_above_100_is_not_capped_and_is_critical():
    codes = expected_provinces(C)["province_code"].tolist()
    subs = pd.DataFrame([sub(f"h{c}", c, f"submissions/{c}.xlsx", vn(2025, 12, 15)) for c in codes]
                        + [sub("h02", "02", "submissions/02.xlsx", vn(2025, 12, 15), pset="2008")])
    rs = reporting_status(C, subs, None, None, None, required=REQ)
    comp = completeness(C, subs, rs)
    s = cycle_summary(comp)
    assert (s["expected_reports"], s["actual_reports"]) == (34, 35)
    assert s["reporting_rate"] == pytest.approx(3500 / 34)           # 102.94 %, never capped
    assert s["reporting_rate_on_time"] == pytest.approx(3500 / 34)
    assert s["timeliness_among_received"] == 100.0
    f = completeness_findings(C, subs, rs, comp)
    crit = f[f["severity"] == "critical"]
    assert sorted(crit["rule"]) == ["completeness.rate_above_100", "completeness.unexpected_unit"]
    above = crit[crit["rule"] == "completeness.rate_above_100"].iloc[0]
    assert above["value"] == pytest.approx(3500 / 34)
    assert crit[crit["rule"] == "completeness.unexpected_unit"].iloc[0]["province_code"] == "02"


def test_a_unit_expected_in_june_is_unexpected_in_july():
    jun = pd.DataFrame([{**sub("a", "02", "submissions/02.xlsx", vn(2025, 6, 19), pset="2008"), "cycle": "2025-06"}])
    jul = pd.DataFrame([{**sub("b", "02", "submissions/02.xlsx", vn(2025, 7, 18), pset="2008"), "cycle": "2025-07"}])
    s6 = cycle_summary(completeness("2025-06", jun, None))
    s7 = cycle_summary(completeness("2025-07", jul, None))
    assert (s6["expected_reports"], s6["actual_reports"], s6["unexpected_reports"]) == (63, 1, 0)
    assert s6["reporting_rate"] == pytest.approx(100 / 63)
    assert (s7["expected_reports"], s7["actual_reports"], s7["unexpected_reports"]) == (34, 1, 1)
    assert s7["reporting_rate"] == pytest.approx(100 / 34)


# ---------------------------------------------------------------------------------------- findings


def test_findings(built):
    *_, comp, fnd = built
    assert list(fnd.columns) == schema.TABLES["finding"].columns
    counts = fnd.groupby(["rule", "severity"]).size().to_dict()
    assert counts == {
        ("completeness.unexpected_unit", "critical"): 1,
        ("completeness.no_report", "warning"): 28,
        ("completeness.late_report", "info"): 1,                  # 1 working day: info
        ("completeness.receipt_from_mtime", "warning"): 1,
        ("completeness.missing_indicator", "warning"): 1,         # 15's budget ('..'), not the non-reporters'
        ("completeness.invalid_indicator", "warning"): 1,         # a rejected cell
        ("completeness.file_rejected", "warning"): 1,             # one finding per unreadable file, not per cell
        ("reconcile.conflict", "warning"): 1,
        ("reconcile.text_only", "info"): 1,
    }
    late = fnd[fnd["rule"] == "completeness.late_report"].iloc[0]
    assert late["province_code"] == "04" and json.loads(late["details"]) == {"days_late": 1, "working_days_late": 1}
    conflict = fnd[fnd["rule"] == "reconcile.conflict"].iloc[0]
    det = json.loads(conflict["details"])
    assert det["text_locator"] == f"{C}/reports/15.pdf: chars 200-240" and det["text_original"] == "7,5"
    assert fnd[fnd["rule"] == "completeness.receipt_from_mtime"].iloc[0]["source_file"] == f"{C}/submissions/12.xlsx"
    assert set(fnd["run_id"]) == {"r1"}


def test_late_by_three_working_days_is_a_warning():
    subs = pd.DataFrame([sub("x", "01", "submissions/01.xlsx", vn(2025, 12, 26, 9))])   # Fri: 4 days, 4 wd
    rs = reporting_status(C, subs, None, None, None, required=REQ)
    comp = completeness(C, subs, rs)
    f = completeness_findings(C, subs, rs, comp)
    late = f[f["rule"] == "completeness.late_report"].iloc[0]
    assert late["severity"] == "warning" and late["value"] == 4.0


# ---------------------------------------------------------------------------------------- receipts


def test_receipts_from_inbox_else_mtime(tmp_path):
    cdir = tmp_path / C
    (cdir / "submissions").mkdir(parents=True)
    for name in ("01.xlsx", "04.xlsx", "12.xlsx"):
        (cdir / "submissions" / name).write_bytes(b"x")
    stamp = datetime(2025, 12, 21, 13, 0, tzinfo=timezone.utc).timestamp()   # 20:00 in Hanoi
    os.utime(cdir / "submissions" / "12.xlsx", (stamp, stamp))
    (cdir / "inbox.csv").write_text(
        "file,received_at,sender,note\n"
        "submissions/01.xlsx,2025-12-19T10:00:00+07:00,Sở Tài chính Hà Nội,\n"
        "submissions\\04.xlsx,2025-12-23 08:00,,time without offset = Hanoi time\n"
        "submissions/01.xlsx,2025-12-20T09:00:00+07:00,,sent twice: the first counts\n",
        encoding="utf-8")
    inbox = read_inbox(cdir / "inbox.csv")
    files = pd.DataFrame({"path": [f"{C}/submissions/01.xlsx", f"{C}/submissions/04.xlsx",
                                   str(cdir / "submissions" / "12.xlsx")]})
    r = receipts(files, inbox, cdir)
    assert list(r["received_at_source"]) == ["inbox", "inbox", "mtime"]
    assert r["received_at"].iloc[0] == vn(2025, 12, 19, 10).tz_convert("UTC")
    assert r["received_at"].iloc[1] == vn(2025, 12, 23, 8).tz_convert("UTC")
    assert r["received_at"].iloc[2] == pd.Timestamp(stamp, unit="s", tz="UTC")
    assert r["sender"].iloc[0] == "Sở Tài chính Hà Nội"
    assert "not in inbox.csv" in r["receipt_note"].iloc[2]
    late = lateness(r.assign(cycle=C), C)
    assert list(late["days_late"]) == [0, 1, 0] and list(late["working_days_late"]) == [0, 1, 0]
    no_inbox = receipts(files, None, cdir)
    assert set(no_inbox["received_at_source"]) == {"mtime"}


def test_read_inbox_names_the_file_when_a_column_is_missing(tmp_path):
    from diaphuong.errors import InputError
    p = tmp_path / "inbox.csv"
    p.write_text("file,time\nsubmissions/01.xlsx,2025-12-19\n", encoding="utf-8")
    with pytest.raises(InputError, match="inbox.csv"):
        read_inbox(p)


# ---------------------------------------------------------------------------------------- history


def _hist(cycle, code, actual, on_time, pset="2008", expected=1):
    return {"cycle": cycle, "province_code": code, "province_set": pset, "expected_reports": expected,
            "actual_reports": actual, "actual_reports_on_time": on_time}


def test_chronic_non_reporters():
    h = pd.DataFrame([
        _hist("2025-04", "01", 0, 0), _hist("2025-05", "01", 1, 1), _hist("2025-06", "01", 1, 0),  # 1 missing + 1 late
        _hist("2025-04", "04", 0, 0), _hist("2025-05", "04", 1, 1), _hist("2025-06", "04", 1, 1),  # once
        _hist("2025-03", "06", 0, 0), _hist("2025-04", "06", 0, 0),                              # 03 outside the window
        _hist("2025-05", "06", 1, 1), _hist("2025-06", "06", 1, 1),
        _hist("2025-05", "02", 0, 0), _hist("2025-06", "02", 0, 0),                                # gone in July
        _hist("2025-07", "01", 1, 1, pset="2025"),
        _hist("2025-Q1", "04", 0, 0), _hist("2025-Q2", "04", 0, 0),                                # quarters apart
    ])
    out = chronic_non_reporters(h, k=2, n=3, as_of="2025-06")
    got = {(r.cycle_kind, r.province_code): (r.cycles, r.missing, r.late) for r in out.itertuples()}
    assert got == {("month", "01"): (3, 1, 1), ("month", "02"): (2, 2, 0), ("quarter", "04"): (2, 2, 0)}
    assert out[out["province_code"] == "01"].iloc[0]["window"] == "2025-04,2025-05,2025-06"
    # one month later the window is May-July: 01 is late once only, 02 still missed both of its months
    later = chronic_non_reporters(h, k=2, n=3)
    assert {(r.cycle_kind, r.province_code) for r in later.itertuples()} == {("month", "02"), ("quarter", "04")}
    with pytest.raises(ValueError):
        chronic_non_reporters(h, k=4, n=3)


# ---------------------------------------------------------------------------------------- scorecard


def _load(con, name, df):
    con.execute(schema.ddl(name))
    if df is not None and len(df):
        con.register("_in", schema.to_arrow(df, name))
        con.execute(f"INSERT INTO {name} BY NAME SELECT * FROM _in")
        con.unregister("_in")


@pytest.fixture(scope="module")
def warehouse(built):
    from diaphuong.calendar import cycle_table
    from diaphuong.catalog.provinces import provinces

    subs, obs, qua, rec, rs, comp, fnd = built
    # previous half-year: 2025-H1 (63 units): only Hà Nội (01) sent, on time, both cells
    h1 = pd.DataFrame([{**sub("p01", "01", "submissions/01.xlsx", vn(2025, 6, 18), pset="2008"), "cycle": "2025-H1"}])
    h1_obs = pd.DataFrame([{**ob("01", i, 1.0, "p01", "submissions/01.xlsx", "Bieu_01!E5"), "cycle": "2025-H1",
                            "period": "2025-H1", "province_set": "2008"} for i in ("grdp_growth", "budget_revenue")])
    rs1 = reporting_status("2025-H1", h1, h1_obs, None, None, required=REQ)
    comp1 = completeness("2025-H1", h1, rs1)
    fnd1 = completeness_findings("2025-H1", h1, rs1, comp1)
    con = duckdb.connect()
    _load(con, "cycle", cycle_table(["2025-H1", C, "2025-Q4"]))
    _load(con, "province", provinces())
    _load(con, "completeness", pd.concat([comp1, comp], ignore_index=True))
    _load(con, "reporting_status", pd.concat([rs1, rs], ignore_index=True))
    _load(con, "finding", pd.concat([fnd1, fnd], ignore_index=True))
    create_scorecard_view(con)
    yield con
    con.close()


def test_scorecard_view(warehouse):
    sc = warehouse.execute("SELECT * FROM scorecard WHERE cycle = ? ORDER BY province_code", [C]).df()
    assert len(sc) == 35
    p = sc.set_index("province_code")
    assert p.loc["02", "province_name"] == "Tỉnh Hà Giang" and pd.isna(p.loc["02", "rank"])
    assert p.loc["15", "province_name"] == "Tỉnh Lào Cai"
    # counts by status and findings by severity
    assert tuple(p.loc["15", ["n_reported", "n_conflict", "n_missing"]]) == (0, 1, 1)
    assert tuple(p.loc["08", ["n_reported", "n_reported_late"]]) == (1, 1)
    assert tuple(p.loc["11", ["n_invalid", "findings_warning"]]) == (2, 2)   # no_report + its rejected file
    assert p.loc["02", "findings_critical"] == 1
    assert p.loc["14", "findings_info"] == 1
    # worst first: 11 (no report, 2 rejected cells) = 1; 14 and the 26 silent units tie at 2;
    # 04 (late) = 29; 15 (50 %, conflict, 2 warnings) = 30; 19 (50 %, 1 invalid, 1 warning) = 31;
    # 12 (100 %, mtime warning) = 32; 01 and 08 = 33
    ranks = p["rank"].dropna().astype(int).to_dict()
    assert ranks["11"] == 1 and ranks["14"] == 2 and ranks["20"] == 2
    assert (ranks["04"], ranks["15"], ranks["19"], ranks["12"], ranks["01"], ranks["08"]) == (29, 30, 31, 32, 33, 33)
    # change against 2025-H1, the previous half-year (63-unit list)
    assert set(sc["prev_cycle"]) == {"2025-H1"}
    assert p.loc["01", "reporting_rate_change"] == 0 and p.loc["01", "indicator_completeness_change"] == 0
    assert p.loc["04", "reporting_rate_change"] == 100 and p.loc["04", "reporting_rate_on_time_change"] == 0
    assert p.loc["04", "prev_province_set"] == "2008" and p.loc["04", "province_set"] == "2025"
    assert p.loc["01", "prev_rank"] == 63          # the only reporter was the best of 63 in H1
    assert pd.isna(p.loc["14", "prev_rank"]) is False
    h1 = warehouse.execute("SELECT count(*), count(prev_cycle) FROM scorecard WHERE cycle = '2025-H1'").fetchone()
    assert h1 == (63, 0)


def test_status_frame_in_vietnamese_worst_first(warehouse):
    sc = warehouse.execute("SELECT * FROM scorecard").df()
    st = status_frame(sc)
    assert st.columns[0] == "Kỳ báo cáo" and "Tỉnh/thành phố" in st.columns and "Đầy đủ chỉ tiêu (%)" in st.columns
    first = st[st["Kỳ báo cáo"] == C].reset_index(drop=True)
    assert first.loc[0, "Mã tỉnh"] == "02"                 # the unexpected unit leads
    assert first.loc[1, "Mã tỉnh"] == "11" and first.loc[1, "Hạng (kém nhất = 1)"] == 1
    assert first.loc[1, "Đã gửi"] == "không"
    assert st.iloc[0]["Kỳ báo cáo"] == C                   # latest cycle first
    assert status_frame(pd.DataFrame()).empty


# ---------------------------------------------------------------------------------------- follow-up


def test_followup_workbook_and_letters(built, tmp_path):
    import docx
    import openpyxl

    from diaphuong.followup import write_followup

    subs, obs, qua, rec, rs, comp, fnd = built
    subs = subs.copy()
    # a province's file name and error that look like formulas must stay text
    subs.loc[subs["sha256"] == "h11", "path"] = '=HYPERLINK("http://example.invalid","x").xlsx'
    subs.loc[subs["sha256"] == "h11", "error"] = "+1-2 @bad"
    (tmp_path / "99_Stale.docx").write_bytes(b"old letter")
    paths = write_followup(tmp_path, C, rs, comp, fnd, subs, reply_by=date(2026, 1, 5))
    assert paths[0] == tmp_path / "followup.xlsx"
    letters = sorted(p.name for p in paths[1:])
    # letters: 04 (late), 11 (rejected file), 14 (no report + text only), 15, 19 and the 26 silent units
    assert len(letters) == 31
    assert "04_Cao_Bang.docx" in letters and "15_Lao_Cai.docx" in letters and "01_Ha_Noi.docx" not in letters
    assert not (tmp_path / "99_Stale.docx").exists()

    wb = openpyxl.load_workbook(tmp_path / "followup.xlsx")
    ws = wb["Theo_doi"]
    header = [c.value for c in ws[1]]
    assert header[:7] == ["STT", "Mã tỉnh", "Tỉnh/thành phố", "Mã chỉ tiêu", "Chỉ tiêu", "Loại số", "Vấn đề"]
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref is not None and ws.auto_filter.ref.startswith("A1:")
    rows = [dict(zip(header, [c.value for c in r])) for r in ws.iter_rows(min_row=2)]
    # 02 unexpected, 04 late, 11 rejected file, 14 no report, 26 silent, 14 text only, 15 conflict,
    # 15 missing, 19 invalid, 12 not in the inbox
    assert len(rows) == 35
    assert all(c.data_type != "f" for r in ws.iter_rows() for c in r)
    rej = [r for r in rows if r["Mã tỉnh"] == "11"][0]
    assert rej["Vị trí trong tệp nguồn"].startswith("=HYPERLINK")
    assert rej["Vấn đề"] == "Biểu số liệu gửi đến không đọc được"
    late = [r for r in rows if r["Mã tỉnh"] == "04"][0]
    assert (late["Số ngày trễ"], late["Số ngày làm việc trễ"]) == (1, 1)
    assert late["Hạn báo cáo"].date() == date(2025, 12, 22)
    con = [r for r in rows if r["Vấn đề"].startswith("Số liệu trong báo cáo lời văn")][0]
    assert (con["Mã tỉnh"], con["Số trong biểu"], con["Số trong báo cáo lời văn"]) == ("15", 7, 7.5)
    assert "chars 200-240" in con["Vị trí trong tệp nguồn"]

    text = "\n".join(p.text for p in docx.Document(tmp_path / "15_Lao_Cai.docx").paragraphs)
    assert "Kính gửi: Ủy ban nhân dân tỉnh Lào Cai." in text
    assert "báo cáo bằng văn bản ghi 7,5%, biểu số liệu ghi 7%" in text
    assert "trước ngày 05/01/2026" in text and "22/12/2025" in text
    late_letter = "\n".join(p.text for p in docx.Document(tmp_path / "04_Cao_Bang.docx").paragraphs)
    assert "chậm 1 ngày (1 ngày làm việc)" in late_letter
    tables = docx.Document(tmp_path / "04_Cao_Bang.docx").tables
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in tables[0].cell(0, 1).text


def test_a_rejected_cell_is_named_by_its_row_and_column():
    """The quarantine row says only 'Bieu_01!E5': row 5 was read as grdp_growth (its yoy cell F5),
    column E as value (E9) -> the rejected cell is grdp_growth/value, invalid, not missing."""
    subs = pd.DataFrame([sub("h19", "19", "submissions/19.xlsx", vn(2025, 12, 22, 10))])
    obs = pd.DataFrame([
        {**ob("19", "grdp_growth", 8.1, "h19", "submissions/19.xlsx", "Bieu_01!F5"), "measure": "yoy_pct"},
        ob("19", "budget_revenue", 3000.0, "h19", "submissions/19.xlsx", "Bieu_01!E9"),
    ])
    qua = pd.DataFrame([{"cycle": C, "file": f"{C}/submissions/19.xlsx", "source_sha256": "h19",
                         "locator": "Bieu_01!E5", "reason": "not_a_number", "message": "'đang cập nhật' is not a figure",
                         "raw_value": "đang cập nhật", "province_code": None}])
    rs = reporting_status(C, subs, obs, qua, None, required=REQ)
    r = status_of(rs, "19", "grdp_growth")
    assert r["status"] == "invalid" and "not_a_number" in r["detail"]
    assert r["locator"] == f"{C}/submissions/19.xlsx: Bieu_01!E5"
    assert status_of(rs, "19", "budget_revenue")["status"] == "reported"


def test_a_corrupt_file_without_province_is_attributed_by_its_name():
    """The reader could not open 96_ca_mau.xlsx, so it has no province: the file name gives it,
    and Cà Mau's cells are invalid (present but rejected), not missing; still no report."""
    subs = pd.DataFrame([{**sub("h96", None, "submissions/96_ca_mau.xlsx", vn(2025, 12, 19), outcome="quarantined",
                                error="truncated xlsx"), "province_set": None},
                         {**sub("hx", None, "submissions/bao_cao.xlsx", vn(2025, 12, 19), outcome="quarantined"),
                          "province_set": None}])
    rs = reporting_status(C, subs, None, None, None, required=REQ)
    assert set(rs[rs["province_code"] == "96"]["status"]) == {"invalid"}
    comp = completeness(C, subs, rs)
    assert comp.set_index("province_code").loc["96", "actual_reports"] == 0
    f = completeness_findings(C, subs, rs, comp)
    un = f[f["rule"] == "completeness.unattributed_file"]
    assert list(un["source_file"]) == [f"{C}/submissions/bao_cao.xlsx"]
