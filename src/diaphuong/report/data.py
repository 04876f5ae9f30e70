"""Read the warehouse into the plain data the data-quality report shows.

:func:`build_report_data` reads the base tables only (``cycle``, ``province``, ``submission``,
``observation``, ``quarantine``, ``reporting_status``, ``completeness``, ``finding``,
``suite_result``, ``run`` and, when present, ``indicator``) and returns a JSON-serialisable dict;
:mod:`diaphuong.report.html` renders it and :mod:`diaphuong.report.artifacts` summarises it.
A table that does not exist yet counts as empty.
"""
from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta, timezone
from typing import Any

import duckdb

from diaphuong.errors import DiaphuongError
from diaphuong.periods import Period, parse_period
from diaphuong.report.labels import STATUS_ORDER
from diaphuong.schema import MEASURES, SEVERITIES

VN_TZ = timezone(timedelta(hours=7))
TREND_CYCLES = 8  # cycles of the same kind shown in each province's sparkline


class ReportError(DiaphuongError):
    """The report cannot be built (for instance: the cycle has no data in the warehouse)."""


# ----------------------------------------------------------------------------- helpers
def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
    ).fetchall()
    return {r[0] for r in rows}


def _rows(con, sql: str, params: list | tuple = ()) -> list[dict[str, Any]]:
    cur = con.execute(sql, list(params))
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


def _num(v) -> float | None:
    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None  # NaN / inf cannot travel in JSON; a finding names them


def _int(v) -> int:
    f = _num(v)
    return int(f) if f is not None else 0


def _ts(v) -> str | None:
    """A timestamp as 'YYYY-MM-DD HH:MM' in Vietnam time (the department's clock)."""
    if v is None:
        return None
    if isinstance(v, datetime):
        if v.tzinfo is None:
            v = v.replace(tzinfo=timezone.utc)
        return v.astimezone(VN_TZ).strftime("%Y-%m-%d %H:%M")
    if isinstance(v, date):
        return v.isoformat()
    return str(v)


def _d(v) -> str | None:
    if v is None:
        return None
    if isinstance(v, (date, datetime)):
        return v.isoformat()[:10]
    return str(v)


def _text(v) -> str | None:
    if v is None:
        return None
    s = str(v)
    return s if s.strip() else None


def _json(v) -> Any:
    if v is None:
        return None
    if isinstance(v, (dict, list)):
        return v
    try:
        return json.loads(v)
    except (TypeError, ValueError):
        return str(v)


def _period(cycle: str) -> Period | None:
    try:
        return parse_period(cycle)
    except DiaphuongError:
        return None


def period_label_en(p: Period) -> str:
    y = p.year
    if p.kind == "year":
        return f"Year {y}"
    if p.kind == "month":
        return date(y, p.last_month, 1).strftime("%B ") + str(y)
    if p.kind == "quarter":
        return f"Q{p.last_month // 3} {y}"
    if p.kind == "half":
        return f"{'First' if p.last_month == 6 else 'Second'} half of {y}"
    return f"First {p.last_month} months of {y}"


def kind_key(p: Period) -> tuple[str, str]:
    """Cycles of 'the same kind' share this key: months with months, quarters with quarters,
    9-month cumulative with 9-month cumulative, and so on."""
    return (p.kind, p.requirement_kind)


def _order(p: Period) -> tuple:
    return (p.end, p.start)


# ----------------------------------------------------------------------------- main entry
def build_report_data(con: duckdb.DuckDBPyConnection, cycle: str, *, chronic_k: int | None = None,
                      chronic_n: int | None = None, trend_cycles: int = TREND_CYCLES) -> dict:
    """Everything the data-quality report of ``cycle`` shows, read from the warehouse ``con``.

    ``chronic_k``/``chronic_n``: a province is a chronic non-reporter when it was missing or late
    in at least k of the last n cycles of the same kind (defaults: settings, DIAPHUONG_CHRONIC_K/N).
    Raises :class:`ReportError` when the warehouse knows nothing of the cycle.
    """
    if chronic_k is None or chronic_n is None:
        from diaphuong.settings import load_settings

        s = load_settings()
        chronic_k = s.chronic_k if chronic_k is None else chronic_k
        chronic_n = s.chronic_n if chronic_n is None else chronic_n
    period = parse_period(cycle)
    cycle = period.code if period.code == cycle.strip().upper() else cycle.strip()
    have = _tables(con)

    def q(table: str, sql: str, params=()) -> list[dict]:
        return _rows(con, sql, params) if table in have else []

    # ---- cycles known to the warehouse, and the previous one of the same kind
    cycle_rows = {r["cycle"]: r for r in q("cycle", "SELECT * FROM cycle")}
    known = set(cycle_rows)
    for t in ("completeness", "reporting_status", "submission"):
        known |= {r["cycle"] for r in q(t, f"SELECT DISTINCT cycle FROM {t}")}
    if cycle not in known and not q("observation", "SELECT 1 FROM observation WHERE cycle = ? LIMIT 1", [cycle]):
        raise ReportError(
            f"the warehouse has no data for cycle {cycle}",
            hint="run `diaphuong run --cycle " + cycle + "` first, or check the cycle notation",
        )
    crow = cycle_rows.get(cycle, {})
    pset = crow.get("province_set") or period.province_set
    same_kind = sorted(
        (c for c in known if (p := _period(c)) and kind_key(p) == kind_key(period) and _order(p) <= _order(period)),
        key=lambda c: _order(parse_period(c)),
    )
    earlier = [c for c in same_kind if c != cycle]
    previous = earlier[-1] if earlier else None
    same_set = [c for c in same_kind
                if (cycle_rows.get(c, {}).get("province_set") or parse_period(c).province_set) == pset]
    trend = same_set[-trend_cycles:]
    chronic_window = same_set[-chronic_n:]

    # ---- reference: provinces and indicators
    provinces = _provinces(q, period, pset)
    pname = {p["code"]: p["name"] for p in provinces}
    ind_names = _indicator_names(q)

    # ---- reporting status grid
    rs = q("reporting_status", "SELECT * FROM reporting_status WHERE cycle = ?", [cycle])
    for r in rs:
        if r["province_code"] and r["province_code"] not in pname:
            pname[r["province_code"]] = r["province_code"]
            provinces.append({"code": r["province_code"], "name": r["province_code"]})
    provinces.sort(key=lambda p: p["code"] or "")
    columns = _columns(rs, period, ind_names)

    obs = q("observation", """
        SELECT * FROM observation WHERE cycle = ? AND superseded_by_run IS NULL
        ORDER BY (period = ?) DESC, valid_from_run""", [cycle, cycle])
    obs_by_key: dict[tuple, dict] = {}
    for o in obs:
        obs_by_key.setdefault((o["province_code"], o["indicator"], o["measure"], o["source_kind"]), o)
    sentence_at = {(o["source_file"], o["locator"]): o["sentence"] for o in obs if o.get("sentence")}

    col_index = {(c["indicator"], c["measure"]): i for i, c in enumerate(columns)}
    row_index = {p["code"]: i for i, p in enumerate(provinces)}
    cells: list[list[dict | None]] = [[None] * len(columns) for _ in provinces]
    status_counts: Counter = Counter()
    per_prov: dict[str, Counter] = defaultdict(Counter)
    for r in rs:
        ri, ci = row_index.get(r["province_code"]), col_index.get((r["indicator"], r["measure"]))
        if ri is None or ci is None:
            continue
        st = r["status"]
        status_counts[st] += 1
        per_prov[r["province_code"]][st] += 1
        sub = obs_by_key.get((r["province_code"], r["indicator"], r["measure"], "submission"))
        rep = obs_by_key.get((r["province_code"], r["indicator"], r["measure"], "report"))
        src = sub or rep
        cells[ri][ci] = {
            "status": st,
            "value": _num(r.get("value")),
            "text_value": _num(r.get("text_value")),
            "detail": _text(r.get("detail")),
            "locator": _text(r.get("locator")) or (src or {}).get("locator"),
            "file": (src or {}).get("source_file"),
            "original": _text((src or {}).get("original_value")),
            "obs_status": (src or {}).get("status"),
            "unit": (src or {}).get("unit"),
            "sentence": _text((rep or {}).get("sentence")),
        }

    # ---- completeness: headline and per-province
    comp_all = q("completeness", "SELECT * FROM completeness WHERE cycle IN (SELECT UNNEST(?))",
                 [sorted(set(trend) | set(chronic_window) | {cycle} | ({previous} if previous else set()))])
    comp: dict[str, dict[str, dict]] = defaultdict(dict)
    for r in comp_all:
        comp[r["cycle"]][r["province_code"]] = r
    headline = _headline(comp.get(cycle, {}), rs, crow, len(provinces))
    headline_prev = None
    if previous:
        prs = q("reporting_status", "SELECT status FROM reporting_status WHERE cycle = ?", [previous])
        headline_prev = _headline(comp.get(previous, {}), prs, cycle_rows.get(previous, {}), None)

    # ---- findings
    frows = q("finding", "SELECT * FROM finding WHERE cycle = ?", [cycle])
    findings = _findings(frows, pname, ind_names, sentence_at)
    fcount_prov: dict[str, Counter] = defaultdict(Counter)
    for f in frows:
        if f.get("province_code"):
            fcount_prov[f["province_code"]][f["severity"]] += 1
    sev_counts = Counter(f["severity"] for f in frows)
    headline["findings"] = {s: sev_counts.get(s, 0) for s in SEVERITIES}
    headline["conflicts"] = status_counts.get("conflict", 0)

    # ---- submissions, quarantine, suites
    subs = q("submission", "SELECT * FROM submission WHERE cycle = ? ORDER BY province_code, received_at", [cycle])
    submissions = [{
        "province_code": s.get("province_code"), "province": pname.get(s.get("province_code"), s.get("province_code")),
        "path": s.get("path"), "kind": s.get("kind"), "received_at": _ts(s.get("received_at")),
        "days_late": s.get("days_late"), "working_days_late": s.get("working_days_late"),
        "outcome": s.get("outcome"), "error": _text(s.get("error")), "note": _text(s.get("note")),
        "observations": s.get("observations"), "quarantined_rows": s.get("quarantined_rows"),
    } for s in subs]
    quarantine = [{
        "file": r.get("file"), "locator": _text(r.get("locator")), "reason": r.get("reason"),
        "message": _text(r.get("message")), "raw_value": _text(r.get("raw_value")),
        "province_code": r.get("province_code"), "province": pname.get(r.get("province_code")),
    } for r in q("quarantine", "SELECT * FROM quarantine WHERE cycle = ? ORDER BY file, locator", [cycle])]
    headline["quarantined"] = len(quarantine)
    suites = [{
        "suite": r["suite"], "evaluated": r.get("evaluated"), "successful": r.get("successful"),
        "unsuccessful": r.get("unsuccessful"), "success_percent": _num(r.get("success_percent")),
    } for r in q("suite_result", "SELECT * FROM suite_result WHERE cycle = ? ORDER BY suite", [cycle])]

    # ---- scorecard with trends
    scorecard = _scorecard(provinces, comp, cycle, previous if previous in same_set else None, trend,
                           per_prov, fcount_prov, subs)
    chronic = _chronic(provinces, comp, chronic_window, chronic_k, chronic_n)

    # ---- conflicts side by side
    conflicts = []
    for r in rs:
        if r["status"] != "conflict":
            continue
        key = (r["province_code"], r["indicator"], r["measure"])
        sub, rep = obs_by_key.get(key + ("submission",)), obs_by_key.get(key + ("report",))
        v, tv = _num(r.get("value")), _num(r.get("text_value"))
        conflicts.append({
            "province_code": r["province_code"], "province": pname.get(r["province_code"], r["province_code"]),
            "indicator": r["indicator"], "measure": r["measure"],
            "indicator_vi": ind_names.get(r["indicator"], (r["indicator"],) * 2)[0],
            "indicator_en": ind_names.get(r["indicator"], (r["indicator"],) * 2)[1],
            "value": v if v is not None else _num((sub or {}).get("value")),
            "text_value": tv if tv is not None else _num((rep or {}).get("value")),
            "unit": (sub or rep or {}).get("unit"),
            "sub_file": (sub or {}).get("source_file"), "sub_locator": (sub or {}).get("locator") or _text(r.get("locator")),
            "sub_original": _text((sub or {}).get("original_value")),
            "rep_file": (rep or {}).get("source_file"), "rep_locator": (rep or {}).get("locator"),
            "rep_original": _text((rep or {}).get("original_value")),
            "sentence": _text((rep or {}).get("sentence")), "detail": _text(r.get("detail")),
        })
        c = conflicts[-1]
        c["difference"] = (c["text_value"] - c["value"]) if c["value"] is not None and c["text_value"] is not None else None
    conflicts.sort(key=lambda c: (c["province_code"] or "", c["indicator"], c["measure"]))

    changes = _changes(q, have, cycle, previous, pname, ind_names)

    return {
        "cycle": cycle,
        "period_label_vi": period.label_vi,
        "period_label_en": period_label_en(period),
        "cycle_kind": crow.get("cycle_kind") or period.requirement_kind,
        "province_set": pset,
        "deadline": _d(crow.get("deadline")),
        "period_start": _d(crow.get("period_start")) or period.start.isoformat(),
        "period_end": _d(crow.get("period_end")) or period.end.isoformat(),
        "generated_at": datetime.now(VN_TZ).strftime("%Y-%m-%d %H:%M"),
        "previous_cycle": previous,
        "headline": headline,
        "headline_previous": headline_prev,
        "provinces": provinces,
        "columns": columns,
        "grid": cells,
        "status_counts": {s: status_counts.get(s, 0) for s in STATUS_ORDER},
        "scorecard": scorecard,
        "trend_cycles": trend,
        "chronic": chronic,
        "findings": findings,
        "suites": suites,
        "quarantine": quarantine,
        "conflicts": conflicts,
        "changes": changes,
        "submissions": submissions,
    }


# ----------------------------------------------------------------------------- parts
def _provinces(q, period: Period, pset: str) -> list[dict]:
    end = period.end
    rows = q("province", """
        SELECT code, name_vi FROM province
        WHERE province_set = ? AND valid_from <= ? AND (valid_to IS NULL OR valid_to >= ?)
        ORDER BY code""", [pset, end, end])
    if not rows:
        from diaphuong.catalog.provinces import provinces_on

        df = provinces_on(end)
        rows = [{"code": c, "name_vi": n} for c, n in zip(df["code"], df["name_vi"])]
    seen: dict[str, dict] = {}
    for r in rows:
        seen.setdefault(r["code"], {"code": r["code"], "name": r["name_vi"] or r["code"]})
    return list(seen.values())


def _indicator_names(q) -> dict[str, tuple[str, str]]:
    names: dict[str, tuple[str, str]] = {}
    try:
        from diaphuong.catalog.indicators import indicators

        for k, ind in indicators().items():
            names[k] = (ind.name_vi, ind.name_en)
    except DiaphuongError:  # catalog being edited: the warehouse table still names them
        pass
    for r in q("indicator", "SELECT indicator, name_vi, name_en FROM indicator"):
        if r["indicator"] and (r["name_vi"] or r["name_en"]):
            names[r["indicator"]] = (r["name_vi"] or r["indicator"], r["name_en"] or r["indicator"])
    return names


def _columns(rs: list[dict], period: Period, names: dict) -> list[dict]:
    pairs = {(r["indicator"], r["measure"]) for r in rs}
    if not pairs:
        try:
            from diaphuong.catalog.indicators import required_for

            req = required_for(period.requirement_kind)
            pairs = set(zip(req["indicator"], req["measure"]))
        except DiaphuongError:
            pairs = set()
    order = {k: i for i, k in enumerate(names)}
    morder = {m: i for i, m in enumerate(MEASURES)}
    cols = sorted(pairs, key=lambda p: (order.get(p[0], len(order)), p[0], morder.get(p[1], 99), p[1]))
    return [{"indicator": i, "measure": m, "name_vi": names.get(i, (i, i))[0], "name_en": names.get(i, (i, i))[1]}
            for i, m in cols]


def _headline(comp: dict[str, dict], rs: list[dict], crow: dict, n_provinces: int | None) -> dict:
    rows = list(comp.values())
    expected = sum(_int(r.get("expected_reports")) for r in rows)
    if not rows:
        expected = _int(crow.get("expected_reports")) or (n_provinces or 0)
    actual = sum(_int(r.get("actual_reports")) for r in rows)
    on_time = sum(_int(r.get("actual_reports_on_time")) for r in rows)
    req = sum(_int(r.get("required_cells")) for r in rows)
    rep = sum(_int(r.get("reported_cells")) for r in rows)
    if not req and rs:  # completeness not written: count the grid
        req = sum(1 for r in rs if r["status"] != "not_applicable")
        rep = sum(1 for r in rs if r["status"] in ("reported", "reported_late"))
    have_rates = bool(rows) and expected > 0
    return {
        "expected": expected,
        "received": actual if rows else None,
        "on_time": on_time if rows else None,
        "not_received": (expected - actual) if rows else None,
        "reporting_rate": 100.0 * actual / expected if have_rates else None,
        "on_time_rate": 100.0 * on_time / expected if have_rates else None,
        "indicator_completeness": 100.0 * rep / req if req else None,
        "required_cells": req,
        "reported_cells": rep,
    }


def _completeness_pct(r: dict | None) -> float | None:
    if not r:
        return None
    v = _num(r.get("indicator_completeness"))
    if v is None and _int(r.get("required_cells")):
        v = 100.0 * _int(r.get("reported_cells")) / _int(r.get("required_cells"))
    return v


def _state(r: dict | None) -> str:
    """One province in one cycle: ok (on time), late, missing, or nodata (no completeness row)."""
    if not r:
        return "nodata"
    if _int(r.get("expected_reports")) == 0 and not _int(r.get("actual_reports")):
        return "nodata"
    if not _int(r.get("actual_reports")):
        return "missing"
    if not _int(r.get("actual_reports_on_time")):
        return "late"
    return "ok"


def _scorecard(provinces, comp, cycle, previous, trend, per_prov, fcount, subs) -> list[dict]:
    first_file: dict[str, dict] = {}
    for s in subs:
        if (s.get("outcome") == "accepted" and s.get("kind") in (None, "spreadsheet") and s.get("province_code")
                and s["province_code"] not in first_file):
            first_file[s["province_code"]] = s
    out = []
    cur = comp.get(cycle, {})
    prev = comp.get(previous, {}) if previous else {}
    for p in provinces:
        code = p["code"]
        r = cur.get(code)
        cnt = per_prov.get(code, Counter())
        required = sum(v for k, v in cnt.items() if k != "not_applicable")
        compl = _completeness_pct(r)
        if compl is None and required:
            compl = 100.0 * (cnt["reported"] + cnt["reported_late"]) / required
        pc = _completeness_pct(prev.get(code)) if previous else None
        state = _state(r)
        if state == "nodata" and required:
            state = "missing" if not (cnt["reported"] + cnt["reported_late"]) else "ok"
        days_late = r.get("days_late") if r else None
        if days_late is None and code in first_file and state != "missing":
            days_late = first_file[code].get("days_late")
        fc = fcount.get(code, Counter())
        out.append({
            "code": code, "name": p["name"], "state": state,
            "received_at": _ts(r.get("first_received_at")) if r else None,
            "days_late": _int(days_late) if days_late is not None else None,
            "working_days_late": (r or {}).get("working_days_late"),
            "completeness": compl, "previous_completeness": pc,
            "delta": (compl - pc) if compl is not None and pc is not None else None,
            "missing": cnt["missing"], "invalid": cnt["invalid"], "conflict": cnt["conflict"],
            "text_only": cnt["text_only"], "late_cells": cnt["reported_late"],
            "critical": fc["critical"], "warning": fc["warning"], "info": fc["info"],
            "trend": [{"cycle": c, "completeness": _completeness_pct(comp.get(c, {}).get(code)),
                       "state": _state(comp.get(c, {}).get(code))} for c in trend],
        })
    state_rank = {"missing": 0, "late": 1, "nodata": 2, "ok": 3}
    out.sort(key=lambda s: (state_rank[s["state"]], s["completeness"] if s["completeness"] is not None else -1,
                            -s["critical"], -(s["invalid"] + s["conflict"]), -(s["days_late"] or 0), s["code"]))
    for i, s in enumerate(out, 1):
        s["rank"] = i
    return out


def _chronic(provinces, comp, window, k, n) -> dict:
    rows = []
    for p in provinces:
        hist = [{"cycle": c, "state": _state(comp.get(c, {}).get(p["code"]))} for c in window]
        missed = sum(h["state"] == "missing" for h in hist)
        late = sum(h["state"] == "late" for h in hist)
        if missed + late >= k:
            rows.append({"code": p["code"], "name": p["name"], "missed": missed, "late": late, "history": hist})
    rows.sort(key=lambda r: (-(r["missed"] + r["late"]), -r["missed"], r["code"]))
    return {"k": k, "n": n, "cycles": list(window), "rows": rows}


def _source(f: dict, sentence_at: dict) -> dict:
    loc = _text(f.get("locator"))
    sentence = sentence_at.get((f.get("source_file"), loc)) if loc else None
    return {"file": _text(f.get("source_file")), "locator": loc, "sentence": _text(sentence)}


def _findings(rows, pname, ind_names, sentence_at) -> list[dict]:
    by: dict[str, dict[str, list]] = {s: defaultdict(list) for s in SEVERITIES}
    for f in rows:
        sev = f["severity"] if f["severity"] in by else "info"
        item = {
            "province_code": f.get("province_code"),
            "province": pname.get(f.get("province_code"), f.get("province_code")),
            "indicator": f.get("indicator"),
            "indicator_vi": ind_names.get(f.get("indicator"), (f.get("indicator"),) * 2)[0] if f.get("indicator") else None,
            "indicator_en": ind_names.get(f.get("indicator"), (f.get("indicator"),) * 2)[1] if f.get("indicator") else None,
            "measure": f.get("measure"), "period": f.get("period"),
            "value": _num(f.get("value")), "expected": _text(f.get("expected")),
            "message": _text(f.get("message")), "details": _json(f.get("details")),
        }
        item.update(_source(f, sentence_at))
        by[sev][f["rule"]].append(item)
    out = []
    for sev in SEVERITIES:
        rules = [{"rule": r, "count": len(items),
                  "items": sorted(items, key=lambda i: (i["province_code"] or "", i["indicator"] or "", i["measure"] or ""))}
                 for r, items in sorted(by[sev].items(), key=lambda kv: (-len(kv[1]), kv[0]))]
        out.append({"severity": sev, "count": sum(r["count"] for r in rules), "rules": rules})
    return out


_KEY = ("period", "province_code", "indicator", "measure", "source_kind")


def _change_item(o: dict, pname, ind_names, **extra) -> dict:
    names = ind_names.get(o["indicator"], (o["indicator"],) * 2)
    d = {
        "province_code": o["province_code"], "province": pname.get(o["province_code"], o["province_code"]),
        "indicator": o["indicator"], "indicator_vi": names[0], "indicator_en": names[1],
        "measure": o["measure"], "period": o["period"], "source_kind": o["source_kind"],
        "value": _num(o.get("value")), "unit": o.get("unit"), "status": o.get("status"),
        "file": _text(o.get("source_file")), "locator": _text(o.get("locator")),
        "run": o.get("valid_from_run"),
    }
    d.update(extra)
    return d


def _changes(q, have, cycle, previous, pname, ind_names) -> dict:
    """New, revised and withdrawn figures, from the observation vintages.

    The runs of ``cycle`` are those the ``run`` table files under it plus every run that loaded one
    of its observations. *Revised*: a current figure loaded by one of those runs whose earlier
    vintage (same cycle, period, province, indicator, measure, source) had another value or status,
    or which restates a figure another cycle holds for the same period with another value.
    *Withdrawn*: a vintage superseded by one of those runs with no current figure in its place.
    *New*: a current first-vintage figure for a province x indicator x measure that the previous
    cycle of the same kind did not have (not listed when there is no previous cycle)."""
    if "observation" not in have:
        return {"previous_cycle": previous, "new": [], "revised": [], "withdrawn": [], "runs": []}
    runs = {r["run_id"] for r in q("run", "SELECT run_id FROM run WHERE cycle = ?", [cycle])}
    runs |= {r["valid_from_run"] for r in q("observation",
             "SELECT DISTINCT valid_from_run FROM observation WHERE cycle = ?", [cycle])}
    runs.discard(None)
    run_list = sorted(runs)
    if not run_list:
        return {"previous_cycle": previous, "new": [], "revised": [], "withdrawn": [], "runs": []}
    on = " AND ".join(f"o.{k} IS NOT DISTINCT FROM n.{k}" for k in _KEY)

    # a vintage replaced within the cycle
    revised = []
    for r in q("observation", f"""
        SELECT n.*, o.value AS old_value, o.status AS old_status, o.valid_from_run AS old_run,
               o.source_file AS old_file, o.locator AS old_locator
        FROM observation n JOIN observation o ON o.cycle = n.cycle AND {on}
             AND o.superseded_by_run = n.valid_from_run
        WHERE n.cycle = ? AND n.superseded_by_run IS NULL AND n.valid_from_run IN (SELECT UNNEST(?))
          AND (o.value IS DISTINCT FROM n.value OR o.status IS DISTINCT FROM n.status)
        ORDER BY n.province_code, n.indicator, n.measure, n.period""", [cycle, run_list]):
        revised.append(_change_item(r, pname, ind_names, old_value=_num(r["old_value"]), old_status=r["old_status"],
                                    old_run=r["old_run"], old_file=_text(r["old_file"]),
                                    old_locator=_text(r["old_locator"]), old_cycle=cycle))
    # a figure for a period another cycle also holds, now with another value
    for r in q("observation", f"""
        SELECT n.*, o.value AS old_value, o.status AS old_status, o.valid_from_run AS old_run,
               o.source_file AS old_file, o.locator AS old_locator, o.cycle AS old_cycle
        FROM observation n JOIN observation o ON o.cycle <> n.cycle AND {on}
             AND o.superseded_by_run IS NULL
        WHERE n.cycle = ? AND n.superseded_by_run IS NULL AND n.period <> n.cycle
          AND o.period <> ?
          AND (o.value IS DISTINCT FROM n.value OR o.status IS DISTINCT FROM n.status)
        ORDER BY n.province_code, n.indicator, n.measure, n.period""", [cycle, cycle]):
        oc = _period(r["old_cycle"])
        if oc is None or _order(oc) >= _order(parse_period(cycle)):
            continue  # only restatements of what earlier cycles said
        revised.append(_change_item(r, pname, ind_names, old_value=_num(r["old_value"]), old_status=r["old_status"],
                                    old_run=r["old_run"], old_file=_text(r["old_file"]),
                                    old_locator=_text(r["old_locator"]), old_cycle=r["old_cycle"]))
    for c in revised:
        c["difference"] = (c["value"] - c["old_value"]) if c["value"] is not None and c["old_value"] is not None else None

    withdrawn = [_change_item(r, pname, ind_names, superseded_by=r["superseded_by_run"]) for r in q("observation", f"""
        SELECT o.* FROM observation o
        WHERE o.superseded_by_run IN (SELECT UNNEST(?))
          AND NOT EXISTS (SELECT 1 FROM observation n WHERE n.superseded_by_run IS NULL
                          AND n.cycle = o.cycle AND {on})
        ORDER BY o.province_code, o.indicator, o.measure, o.period""", [run_list])]
    # several superseded vintages of one figure: list it once (the latest)
    seen, uniq = set(), []
    for w in reversed(withdrawn):
        k = (w["period"], w["province_code"], w["indicator"], w["measure"], w["source_kind"])
        if k not in seen:
            seen.add(k)
            uniq.append(w)
    withdrawn = list(reversed(uniq))

    new = []
    if previous:
        new = [_change_item(r, pname, ind_names) for r in q("observation", f"""
            SELECT n.* FROM observation n
            WHERE n.cycle = ? AND n.superseded_by_run IS NULL
              AND NOT EXISTS (SELECT 1 FROM observation o WHERE o.cycle = n.cycle AND {on}
                              AND o.superseded_by_run IS NOT NULL)
              AND NOT EXISTS (SELECT 1 FROM observation p WHERE p.cycle = ? AND p.superseded_by_run IS NULL
                              AND p.province_code IS NOT DISTINCT FROM n.province_code
                              AND p.indicator = n.indicator AND p.measure = n.measure)
            ORDER BY n.province_code, n.indicator, n.measure, n.period""",
            [cycle, previous])]
    return {"previous_cycle": previous, "new": new, "revised": revised, "withdrawn": withdrawn, "runs": run_list}
