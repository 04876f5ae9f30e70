"""A synthetic warehouse for the report's tests and benchmark: every table the report reads,
filled for a few cycles of one kind with random but consistent rows (statuses, late files, findings,
conflicts, quarantine, and a second run that revises and withdraws figures).

``hostile=True`` puts HTML/script payloads into every string a province can send (province name,
file note, quarantined cell, original value, report sentence, finding message) to check escaping.
"""
from __future__ import annotations

import json
import random
from datetime import datetime, time, timedelta, timezone

import duckdb
import pandas as pd

from diaphuong.catalog.indicators import indicators, required_for
from diaphuong.catalog.provinces import provinces_on
from diaphuong.periods import parse_period
from diaphuong.schema import TABLES, ddl

VN = timezone(timedelta(hours=7))
# payloads that would set a marker on <html> if they ever ran
PAYLOADS = (
    "<script>document.documentElement.setAttribute('data-pwned','script')</script>",
    "\"><img src=x onerror=\"document.documentElement.setAttribute('data-pwned','img')\">",
    "</script><script>document.documentElement.setAttribute('data-pwned','close')</script>",
)


def create_tables(con: duckdb.DuckDBPyConnection) -> None:
    for name in TABLES:
        con.execute(ddl(name))


def insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict]) -> None:
    if not rows:
        return
    df = pd.DataFrame(rows)
    con.register("_rows_in", df)
    try:
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _rows_in")
    finally:
        con.unregister("_rows_in")


def _columns(kind: str, n: int) -> list[tuple[str, str]]:
    req = required_for(kind)
    cols = list(dict.fromkeys(zip(req["indicator"], req["measure"])))
    for key in indicators():
        if len(cols) >= n:
            break
        for m in ("value", "yoy_pct"):
            if (key, m) not in cols and len(cols) < n:
                cols.append((key, m))
    return cols[:n]


def build_sample_warehouse(con: duckdb.DuckDBPyConnection, cycles: tuple[str, ...] = ("2024-Q3", "2024-Q4", "2025-Q1", "2025-Q2"),
                           *, n_provinces: int = 63, n_columns: int = 40, seed: int = 7,
                           hostile: bool = False) -> str:
    """Fill ``con`` (tables created if absent) and return the last cycle (the one to report)."""
    rnd = random.Random(seed)
    create_tables(con)
    last = parse_period(cycles[-1])
    provs = provinces_on(last.end).head(n_provinces)
    prov_rows = []
    for i, r in enumerate(provs.itertuples()):
        name = r.name_vi
        if hostile and i == 1:
            name = name + " " + PAYLOADS[0]
        prov_rows.append({"code": r.code, "province_set": r.province_set, "name_vi": name, "name_ascii": r.name_ascii,
                          "kind": r.kind, "region": r.region, "valid_from": r.valid_from, "valid_to": r.valid_to})
    insert(con, "province", prov_rows)
    codes = [r["code"] for r in prov_rows]
    cols = _columns(last.requirement_kind, n_columns)
    inds = indicators()
    weak = set(rnd.sample(codes, max(1, len(codes) // 12)))  # chronic offenders

    for ci, cycle in enumerate(cycles):
        p = parse_period(cycle)
        deadline = p.end + timedelta(days=8)
        run1 = f"{cycle}-run1"
        insert(con, "cycle", [{"cycle": cycle, "cycle_kind": p.requirement_kind, "period_start": p.start,
                               "period_end": p.end, "cutoff": p.end, "deadline": deadline,
                               "province_set": p.province_set, "expected_reports": len(codes), "run_id": run1}])
        started = datetime.combine(deadline + timedelta(days=2), time(9), VN)
        insert(con, "run", [{"run_id": run1, "cycle": cycle, "started_at": started, "finished_at": started + timedelta(minutes=1),
                             "attempts": 1, "parameters": json.dumps({"cycle": cycle}), "input_hashes": "{}",
                             "row_counts": "{}", "timings": "{}", "outcome": "completed"}])
        is_last = ci == len(cycles) - 1
        run2 = f"{cycle}-run2"
        if is_last:
            insert(con, "run", [{"run_id": run2, "cycle": cycle, "started_at": started + timedelta(days=1),
                                 "finished_at": started + timedelta(days=1, minutes=1), "attempts": 1,
                                 "outcome": "completed"}])
        comp, subs, rs, obs, finds, quar = [], [], [], [], [], []
        for pi, code in enumerate(codes):
            miss_p = 0.5 if code in weak else 0.05
            received = rnd.random() > miss_p
            late_days = 0
            if received and rnd.random() < (0.5 if code in weak else 0.12):
                late_days = rnd.randint(1, 12)
            sha = f"{cycle}{code}".encode().hex()[:64].ljust(64, "0")
            path = f"submissions/{code}_{cycle}.xlsx"
            note = None
            if hostile and pi in (1, 2):
                note = "Ghi chú của tỉnh: " + PAYLOADS[1 if pi == 1 else 2]
            if received:
                rat = datetime.combine(deadline + timedelta(days=late_days), time(16, 30), VN) - timedelta(days=0 if late_days else 2)
                subs.append({"sha256": sha, "cycle": cycle, "province_code": code, "province_set": p.province_set,
                             "kind": "spreadsheet", "path": path, "file_format": "xlsx", "size_bytes": 20480,
                             "received_at": rat, "received_at_source": "inbox", "deadline": deadline,
                             "days_late": late_days, "working_days_late": max(0, late_days - late_days // 7 * 2),
                             "province_source": "content", "outcome": "accepted", "observations": len(cols),
                             "quarantined_rows": 0, "note": note, "run_id": run1})
            reported = 0
            required = 0
            for (key, measure) in cols:
                required += 1
                if not received:
                    status = "text_only" if rnd.random() < 0.08 else "missing"
                else:
                    x = rnd.random()
                    status = ("missing" if x < 0.04 else "invalid" if x < 0.06 else "conflict" if x < 0.075
                              else "not_applicable" if x < 0.085 else "reported_late" if late_days else "reported")
                if status == "not_applicable":
                    required -= 1
                ind = inds[key]
                unit = ind.unit if measure == "value" else "pct"
                lo, hi = (ind.value_min or 0, ind.value_max or 1000) if measure == "value" else (-5, 25)
                val = round(rnd.uniform(max(lo, 0), min(hi, lo + (hi - lo) * 0.1 + 50)), 2)
                row = {"cycle": cycle, "province_code": code, "province_set": p.province_set, "indicator": key,
                       "measure": measure, "status": status, "run_id": run1}
                cell = f"Bieu01!{'DEF'[cols.index((key, measure)) % 3]}{10 + cols.index((key, measure))}"
                if status in ("reported", "reported_late", "conflict", "invalid"):
                    reported += status in ("reported", "reported_late")
                    row.update(value=val, locator=cell)
                    orig = f"{val:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")
                    if hostile and pi == 1 and len(obs) % 7 == 0:
                        orig = PAYLOADS[0]
                    obs.append({"cycle": cycle, "period": cycle, "province_code": code, "province_set": p.province_set,
                                "indicator": key, "measure": measure, "value": val, "unit": unit,
                                "status": rnd.choice("AAAEEP"), "original_value": orig, "source_kind": "submission",
                                "source_file": path, "source_sha256": sha, "locator": cell,
                                "valid_from_run": run1})
                if status in ("conflict", "text_only"):
                    tv = round(val * rnd.uniform(1.05, 1.3), 2)
                    row["text_value"] = tv
                    start = rnd.randint(100, 5000)
                    sentence = (f"Trong kỳ, {ind.name_vi.lower()} ước đạt {str(tv).replace('.', ',')} "
                                f"{'%' if unit == 'pct' else unit}, tăng so với cùng kỳ năm trước.")
                    if hostile and pi in (1, 2):
                        sentence = sentence + " " + PAYLOADS[pi - 1]
                    rpath = f"reports/{code}_{cycle}_baocao.docx"
                    obs.append({"cycle": cycle, "period": cycle, "province_code": code, "province_set": p.province_set,
                                "indicator": key, "measure": measure, "value": tv, "unit": unit, "status": "E",
                                "original_value": str(tv).replace(".", ","), "source_kind": "report",
                                "source_file": rpath, "source_sha256": sha[::-1], "locator": f"chars {start}-{start + len(sentence)}",
                                "sentence": sentence, "valid_from_run": run1})
                    row["detail"] = ("báo cáo lời văn khác biểu" if status == "conflict" else "chỉ có trong báo cáo lời văn")
                if status == "invalid":
                    row["detail"] = "giá trị ngoài khoảng hợp lý"
                    finds.append({"cycle": cycle, "severity": "critical", "rule": "value_in_plausible_range",
                                  "province_code": code, "indicator": key, "measure": measure, "period": cycle,
                                  "value": val, "expected": f"[{lo}, {hi}]",
                                  "message": "Giá trị nằm ngoài khoảng hợp lý của chỉ tiêu",
                                  "source_file": path, "locator": cell,
                                  "details": json.dumps({"min": lo, "max": hi}), "run_id": run1})
                elif status in ("reported", "reported_late") and rnd.random() < 0.03:
                    finds.append({"cycle": cycle, "severity": "warning", "rule": "robust_outlier_mad",
                                  "province_code": code, "indicator": key, "measure": measure, "period": cycle,
                                  "value": val, "expected": "|z| < 3.5",
                                  "message": "Khác xa các tỉnh khác (MAD)" + (" " + PAYLOADS[1] if hostile and pi == 1 else ""),
                                  "source_file": path, "locator": cell,
                                  "details": json.dumps({"median": round(val * 0.6, 2), "mad": 3.1, "score": 4.2}),
                                  "run_id": run1})
                elif status == "conflict":
                    rfile = f"reports/{code}_{cycle}_baocao.docx"
                    finds.append({"cycle": cycle, "severity": "warning", "rule": "text_vs_submission",
                                  "province_code": code, "indicator": key, "measure": measure, "period": cycle,
                                  "value": row["text_value"], "expected": str(val),
                                  "message": "Số trong báo cáo lời văn khác số trong biểu",
                                  "source_file": rfile, "locator": obs[-1]["locator"], "run_id": run1})
                if status == "missing" and received:
                    finds.append({"cycle": cycle, "severity": "info", "rule": "required_indicator_missing",
                                  "province_code": code, "indicator": key, "measure": measure, "period": cycle,
                                  "expected": "có số liệu", "message": "Chỉ tiêu bắt buộc bị bỏ trống",
                                  "source_file": path, "run_id": run1})
                rs.append(row)
            if received and rnd.random() < 0.1:
                raw = "n/a" if not (hostile and pi == 1) else PAYLOADS[0]
                quar.append({"cycle": cycle, "file": path, "source_sha256": sha, "locator": "Bieu01!E14",
                             "reason": "not_a_number", "message": "Ô không đọc được thành số", "raw_value": raw,
                             "province_code": code, "run_id": run1})
            comp.append({"cycle": cycle, "province_code": code, "province_set": p.province_set, "expected_reports": 1,
                         "actual_reports": int(received), "actual_reports_on_time": int(received and not late_days),
                         "reporting_rate": 100.0 * received, "reporting_rate_on_time": 100.0 * (received and not late_days),
                         "required_cells": required, "reported_cells": reported,
                         "indicator_completeness": 100.0 * reported / required if required else None,
                         "first_received_at": subs[-1]["received_at"] if received else None,
                         "days_late": late_days if received else None, "run_id": run1})
        if is_last:  # a resubmission: some figures revised, a few withdrawn, one added
            cur = [o for o in obs if o["source_kind"] == "submission"]
            for o in rnd.sample(cur, min(len(cur), max(3, len(cur) // 60))):
                o["superseded_by_run"] = run2
                new = dict(o, value=round(o["value"] * rnd.uniform(0.9, 1.1), 2), status="A", valid_from_run=run2,
                           superseded_by_run=None)
                obs.append(new)
            for o in rnd.sample(cur, min(len(cur), 3)):
                if o.get("superseded_by_run") is None:
                    o["superseded_by_run"] = run2
        insert(con, "completeness", comp)
        insert(con, "submission", subs)
        insert(con, "reporting_status", rs)
        insert(con, "observation", obs)
        insert(con, "finding", finds)
        insert(con, "quarantine", quar)
        insert(con, "suite_result", [
            {"cycle": cycle, "suite": "observation_structure", "evaluated": 24, "successful": 24 - len(finds) % 3,
             "unsuccessful": len(finds) % 3, "success_percent": 100.0 * (24 - len(finds) % 3) / 24, "run_id": run1},
            {"cycle": cycle, "suite": "submission_structure", "evaluated": 12, "successful": 12, "unsuccessful": 0,
             "success_percent": 100.0, "run_id": run1}])
    return cycles[-1]
