"""Who reported what, on time: DHIS2-style reporting rates and per-indicator reporting status.

Definitions (issue 5; names as DHIS2 uses them):

* A province is **expected** to report a cycle when it is a unit valid on the cycle's last day
  (63 units before 2025-07-01, 34 from then on).
* ``actual_reports``: provinces with at least one readable spreadsheet for the cycle (a file whose
  outcome is not ``quarantined``; a superseded file was readable). A report text alone is not a
  report; its figures count as ``text_only``.
* ``actual_reports_on_time``: provinces whose first readable spreadsheet arrived by the end of the
  deadline day, Asia/Ho_Chi_Minh.
* ``reporting_rate = 100 * actual / expected``, ``reporting_rate_on_time = 100 * on_time /
  expected``, ``timeliness_among_received = 100 * on_time / actual``. A file from a unit that is
  not expected (a code not in the cycle's list) counts in ``actual_reports`` and can push the
  cycle's rate above 100: never capped, always a critical finding.
* Per expected province x required indicator x measure (``required_for(cycle kind)``):
  ``reported`` / ``reported_late`` (a readable spreadsheet carries the figure; late when the first
  file carrying it arrived after the deadline), ``conflict`` (it does, and the report text states
  a different figure beyond rounding), ``invalid`` (present but rejected: a quarantined cell, row
  or file), ``text_only`` (only the report text states it), ``missing``, ``not_applicable`` (the
  applicability list). ``reported_cells`` counts reported, reported_late and conflict;
  ``required_cells`` excludes not_applicable; ``indicator_completeness = 100 * reported_cells /
  required_cells``.

Everything here is a plain function on DataFrames with the warehouse tables' columns
(:mod:`diaphuong.schema`).
"""
from __future__ import annotations

import json
import os
import re
import unicodedata
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path, PurePosixPath

import pandas as pd

from diaphuong.calendar import (
    VN_TZ, cycle_calendar, days_late as _days_late, to_local, working_days_late as _wdays_late,
)
from diaphuong.catalog.provinces import provinces_on
from diaphuong.errors import InputError
from diaphuong.periods import parse_period
from diaphuong.reconcile import reconcile, worst_by_cell
from diaphuong.schema import conform, empty_frame

REPORTED = ("reported", "reported_late", "conflict")

# ----------------------------------------------------------------------------------------------
# small helpers


def _na(v) -> bool:
    if v is None:
        return True
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _str(v) -> str | None:
    return None if _na(v) else str(v)


def _code(c: str) -> str | None:
    """Normalised cycle/period code ('2024-6M' -> '2024-H1'); None when not a period."""
    try:
        return parse_period(str(c)).code
    except Exception:
        return None


def _for_cycle(df: pd.DataFrame | None, cycle: str, col: str = "cycle") -> pd.DataFrame:
    if df is None or len(df) == 0:
        return pd.DataFrame() if df is None else df.iloc[0:0]
    if col not in df.columns:
        return df
    codes = df[col].map(lambda x: None if _na(x) else _code(x))
    return df[codes == cycle]


def _loc(file, locator) -> str | None:
    f, loc = _str(file), _str(locator)
    if f and loc:
        return f"{f}: {loc}"
    return f or loc


def _utc(v) -> pd.Timestamp | None:
    if _na(v):
        return None
    ts = pd.Timestamp(v)
    if ts.tzinfo is None:
        ts = ts.tz_localize(VN_TZ)
    return ts.tz_convert("UTC")


def _fmt_local(ts) -> str:
    return to_local(ts).strftime("%Y-%m-%d %H:%M")


# ----------------------------------------------------------------------------------------------
# expected units, receipts


def expected_provinces(cycle: str) -> pd.DataFrame:
    """The units expected to report ``cycle``: valid on its last day (63 before 2025-07-01, 34
    after). Columns: province_code, province_set, name_vi, name_ascii, kind, region."""
    cal = cycle_calendar(cycle)
    df = provinces_on(cal.period_end)
    out = df.rename(columns={"code": "province_code"})[
        ["province_code", "province_set", "name_vi", "name_ascii", "kind", "region"]]
    return out.sort_values("province_code").reset_index(drop=True)


def read_inbox(path: Path) -> pd.DataFrame:
    """``inbox.csv`` (file, received_at, sender, note) with a ``line`` column (1-based, header = 1).
    Raises :class:`InputError` naming the file when it cannot be read or lacks a column."""
    path = Path(path)
    try:
        df = pd.read_csv(path, dtype=str, encoding="utf-8-sig", keep_default_na=False)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as e:
        raise InputError(f"cannot read the receipt log: {e}", file=str(path), reason="inbox") from None
    df.columns = [c.strip().lower() for c in df.columns]
    missing = {"file", "received_at"} - set(df.columns)
    if missing:
        raise InputError(f"receipt log lacks column(s) {sorted(missing)}", file=str(path), locator="line 1",
                         reason="inbox", hint="inbox.csv needs: file,received_at,sender,note")
    for c in ("sender", "note"):
        if c not in df.columns:
            df[c] = ""
    df["line"] = range(2, len(df) + 2)
    return df


def _norm_rel(p: str) -> str:
    s = unicodedata.normalize("NFC", str(p).strip()).replace("\\", "/")
    while s.startswith("./"):
        s = s[2:]
    return s


def _rel_to_cycle(p: str, cycle_dir: Path) -> str:
    pp = Path(str(p))
    if pp.is_absolute():
        try:
            return _norm_rel(pp.relative_to(cycle_dir).as_posix())
        except ValueError:
            try:
                return _norm_rel(pp.resolve().relative_to(cycle_dir.resolve()).as_posix())
            except ValueError:
                return _norm_rel(pp.name)
    rel = _norm_rel(pp.as_posix())
    parts = PurePosixPath(rel).parts
    if len(parts) > 1 and parts[0] == cycle_dir.name and not (cycle_dir / rel).exists():
        rel = PurePosixPath(*parts[1:]).as_posix()
    return rel


def receipts(files: pd.DataFrame, inbox: pd.DataFrame | None, cycle_dir: Path) -> pd.DataFrame:
    """Receipt time of every file: from ``inbox.csv`` where the file is listed (``file`` relative
    to the cycle folder; earliest line when listed twice), else the file's modification time with
    ``received_at_source='mtime'``.

    ``files`` needs a ``path`` column (relative to the raw tree, to the cycle folder, or absolute).
    Returns ``files`` with ``received_at`` (UTC), ``received_at_source`` (inbox | mtime),
    ``sender``, ``inbox_note`` and ``receipt_note`` (why the inbox was not used) added."""
    cycle_dir = Path(cycle_dir)
    out = files.copy()
    col = "path" if "path" in out.columns else "file"
    rel = [_rel_to_cycle(p, cycle_dir) for p in out[col]]
    book: dict[str, list[dict]] = {}
    by_name: dict[str, list[str]] = {}
    if inbox is not None and len(inbox):
        for r in inbox.to_dict("records"):
            key = _norm_rel(r.get("file", ""))
            if not key:
                continue
            book.setdefault(key, []).append(r)
        for key in book:
            by_name.setdefault(PurePosixPath(key).name.lower(), []).append(key)
    lower = {k.lower(): k for k in book}
    rel_names = pd.Series([PurePosixPath(r).name.lower() for r in rel]).value_counts()
    mtimes = list(out["mtime"]) if "mtime" in out.columns else [None] * len(out)
    received, source, sender, inote, rnote = [], [], [], [], []
    for r, known_mtime in zip(rel, mtimes):
        key = r if r in book else lower.get(r.lower())
        if key is None:
            name = PurePosixPath(r).name.lower()
            cands = by_name.get(name, [])
            if len(cands) == 1 and rel_names.get(name, 0) == 1:
                key = cands[0]
        ts, note, snd, inn = None, None, None, None
        if key is not None:
            bad = []
            best = None
            for e in book[key]:
                rv = e.get("received_at")
                raw = "" if _na(rv) else (rv if isinstance(rv, (pd.Timestamp, datetime)) else str(rv).strip())
                try:
                    t = _utc(pd.Timestamp(raw)) if not (isinstance(raw, str) and not raw) else None
                except (ValueError, TypeError):
                    t = None
                if t is None:
                    bad.append(f"line {e.get('line', '?')}: unreadable received_at {raw!r}")
                    continue
                if best is None or t < best[0]:
                    best = (t, e)
            if best is not None:
                ts, e = best
                snd, inn = _str(e.get("sender")) or None, _str(e.get("note")) or None
                received.append(ts)
                source.append("inbox")
                sender.append(snd)
                inote.append(inn)
                rnote.append("; ".join(bad) or None)
                continue
            note = "inbox.csv " + "; ".join(bad) + "; file time used"
        else:
            note = "not in inbox.csv; file time used" if inbox is not None else "no inbox.csv; file time used"
        path = cycle_dir / r
        try:
            ts = pd.Timestamp(datetime.fromtimestamp(os.stat(path).st_mtime, tz=timezone.utc))
        except OSError:
            ts = _utc(known_mtime)
            if ts is None:
                note += " (file not found: no receipt time)"
        received.append(ts)
        source.append("mtime")
        sender.append(snd)
        inote.append(inn)
        rnote.append(note)
    out["received_at"] = pd.to_datetime(pd.Series(received, index=out.index, dtype="object"), utc=True)
    out["received_at_source"] = source
    out["sender"] = sender
    out["inbox_note"] = inote
    out["receipt_note"] = rnote
    return out


def lateness(submissions: pd.DataFrame, cycle: str) -> pd.DataFrame:
    """``submissions`` with deadline, days_late and working_days_late filled from received_at."""
    cal = cycle_calendar(cycle)
    out = submissions.copy()
    out["deadline"] = cal.deadline
    out["days_late"] = [None if _na(t) else _days_late(t, cal.deadline) for t in out["received_at"]]
    out["working_days_late"] = [None if _na(t) else _wdays_late(t, cal.deadline) for t in out["received_at"]]
    return out


# ----------------------------------------------------------------------------------------------
# reporting status


_LEADING_CODE = re.compile(r"^(\d{2})(?!\d)")


def attribute_files(submissions: pd.DataFrame | None, cycle: str) -> pd.DataFrame | None:
    """Fill the province of files that have none (typically a file quarantined before its header
    could be read) from the file name, as DESIGN.md orders it after the content: a leading
    2-digit code of a unit valid on the cycle's last day (``96_ca_mau.xlsx``), else one province
    name in the name (``bao_cao_ca_mau.xlsx``), else the inbox ``sender`` when the frame has one.
    ``province_source`` becomes ``file_name`` (or ``inbox``); the others stay empty."""
    if submissions is None or len(submissions) == 0 or "province_code" not in submissions.columns:
        return submissions
    todo = submissions["province_code"].isna()
    if not todo.any():
        return submissions
    from diaphuong.catalog.provinces import find_province_in_text

    cal = cycle_calendar(cycle)
    valid = dict(zip(expected_provinces(cal.cycle)["province_code"], expected_provinces(cal.cycle)["province_set"]))
    out = submissions.copy()
    if "province_source" not in out.columns:
        out["province_source"] = None
    out["province_code"] = out["province_code"].astype(object)
    out["province_set"] = out["province_set"].astype(object) if "province_set" in out.columns else None
    out["province_source"] = out["province_source"].astype(object)
    for i in out.index[todo]:
        stem = PurePosixPath(str(out.at[i, "path"])).stem
        m = _LEADING_CODE.match(stem)
        code = m.group(1) if m and m.group(1) in valid else None
        pset = valid.get(code)
        if code is None:
            try:
                ref = find_province_in_text(stem, cal.period_end)
            except Exception:
                ref = None
            if ref is not None:
                code, pset = ref.code, ref.province_set
        source = "file_name"
        if code is None and "sender" in out.columns and not _na(out.at[i, "sender"]):
            try:
                ref = find_province_in_text(str(out.at[i, "sender"]), cal.period_end)
            except Exception:
                ref = None
            if ref is not None:
                code, pset, source = ref.code, ref.province_set, "inbox"
        if code is not None:
            out.at[i, "province_code"] = code
            out.at[i, "province_set"] = pset
            out.at[i, "province_source"] = source
    return out


def _readable_sheets(subs: pd.DataFrame) -> pd.DataFrame:
    if subs is None or len(subs) == 0:
        return pd.DataFrame(columns=["sha256", "province_code", "received_at", "path"])
    s = subs
    if "kind" in s.columns:
        s = s[s["kind"] == "spreadsheet"]
    if "outcome" in s.columns:
        s = s[s["outcome"].fillna("accepted") != "quarantined"]
    return s[s["province_code"].notna()]


def _rejected_sheets(subs: pd.DataFrame) -> pd.DataFrame:
    if subs is None or len(subs) == 0 or "outcome" not in subs.columns:
        return pd.DataFrame(columns=["province_code", "path", "error"])
    s = subs[(subs["outcome"] == "quarantined") & subs["province_code"].notna()]
    if "kind" in s.columns:
        s = s[s["kind"].fillna("spreadsheet") == "spreadsheet"]
    return s


_CELL = re.compile(r"^(?P<sheet>.*)!\$?(?P<col>[A-Z]{1,3})\$?(?P<row>\d+)$")


def _cell_map(obs: pd.DataFrame) -> tuple[dict, dict]:
    """From the submission figures that were read: (file, sheet, row) -> indicator and
    (file, sheet, column) -> measure, to name a rejected cell that the quarantine row does not."""
    rows, cols = {}, {}
    so = obs[obs["source_kind"] == "submission"] if "source_kind" in obs.columns else obs
    for f, loc, ind, meas in zip(so.get("source_file", []), so.get("locator", []), so["indicator"], so["measure"]):
        m = _CELL.match(str(loc)) if not _na(loc) else None
        if m:
            rows.setdefault((f, m["sheet"], m["row"]), set()).add(ind)
            cols.setdefault((f, m["sheet"], m["col"]), set()).add(meas)
    return rows, cols


def _cell_from_locator(q: dict, cell_map: tuple[dict, dict]) -> tuple[str | None, str | None]:
    """The indicator and measure of a rejected cell ``Sheet!E12``: the indicator other cells of
    row 12 were read as, the measure other cells of column E were read as (both unambiguous)."""
    m = _CELL.match(str(q.get("locator"))) if not _na(q.get("locator")) else None
    if not m:
        return None, None
    rows, cols = cell_map
    f = q.get("file")
    inds = rows.get((f, m["sheet"], m["row"]), set())
    meas = cols.get((f, m["sheet"], m["col"]), set())
    if len(inds) == 1 and len(meas) == 1:
        return next(iter(inds)), next(iter(meas))
    return None, None


def _not_applicable_set(na: pd.DataFrame | None, cycle_set: str) -> dict[tuple, str]:
    """(province_code, indicator, measure or None) -> note."""
    out: dict[tuple, str] = {}
    if na is None or len(na) == 0:
        return out
    for r in na.to_dict("records"):
        pset = _str(r.get("province_set"))
        if pset and pset != cycle_set:
            continue
        why = _str(r.get("reason")) or _str(r.get("note"))
        out[(str(r["province_code"]), str(r["indicator"]), _str(r.get("measure")) or None)] = (
            f"not applicable: {why}" if why else "not applicable to this province (applicability list)")
    return out


def reporting_status(cycle: str, submissions: pd.DataFrame | None, observations: pd.DataFrame | None,
                     quarantine: pd.DataFrame | None, reconciled: pd.DataFrame | None = None, *,
                     not_applicable: pd.DataFrame | None = None, required: pd.DataFrame | None = None,
                     run_id: str | None = None) -> pd.DataFrame:
    """The ``reporting_status`` table for ``cycle``: one row per expected province x required
    indicator x measure (see the module docstring for the statuses).

    ``required`` (indicator, measure) defaults to ``required_for(cycle kind)``; ``not_applicable``
    (province_code, indicator, optional measure, province_set, note) is the applicability list;
    ``reconciled`` defaults to :func:`diaphuong.reconcile.reconcile` of ``observations``. A
    rejected cell is tied to its indicator by ``indicator``/``measure`` columns of ``quarantine``
    when it has them, else by its locator (``Sheet!E12``): the indicator read from other cells of
    row 12 and the measure read from other cells of column E of the same file. Pass the
    observations of superseded files too (their files' outcome is ``superseded``): a cell is
    ``reported`` on time when the first file carrying it arrived by the deadline."""
    cal = cycle_calendar(cycle)
    cycle = cal.cycle
    exp = expected_provinces(cycle)
    if required is None:
        from diaphuong.catalog.indicators import required_for
        required = required_for(cal.cycle_kind)
    req = list(dict.fromkeys((str(r.indicator), str(r.measure)) for r in required.itertuples()))
    subs = attribute_files(_for_cycle(submissions, cycle), cycle)
    obs = _for_cycle(observations, cycle)
    if len(obs) and "period" in obs.columns:
        obs = obs[obs["period"].map(lambda p: None if _na(p) else _code(p)) == cycle]
    qua = _for_cycle(quarantine, cycle)
    if reconciled is None:
        reconciled = reconcile(obs, subs if len(subs) else None) if len(obs) else None
    rec = _for_cycle(reconciled, cycle)
    if rec is not None and len(rec) and "period" in rec.columns:
        rec = rec[rec["period"].map(lambda p: None if _na(p) else _code(p)) == cycle]
    rec = worst_by_cell(rec) if rec is not None and len(rec) else None
    na = _not_applicable_set(not_applicable, cal.province_set)

    readable = _readable_sheets(subs)
    receipt = {}
    for r in readable.itertuples():
        if not _na(getattr(r, "sha256", None)):
            receipt[r.sha256] = _utc(r.received_at)
    first_receipt: dict[str, pd.Timestamp | None] = {}
    for code, g in readable.groupby("province_code"):
        ts = [t for t in (_utc(x) for x in g["received_at"]) if t is not None]
        first_receipt[str(code)] = min(ts) if ts else None
    rejected = _rejected_sheets(subs)
    rejected_by_prov: dict[str, list] = {}
    for r in rejected.to_dict("records"):
        rejected_by_prov.setdefault(str(r["province_code"]), []).append(r)
    dead_files, old_files = set(), set()
    if len(subs) and "outcome" in subs.columns:
        dead_files = set(subs.loc[subs["outcome"] == "quarantined", "sha256"].dropna())
        old_files = set(subs.loc[subs["outcome"] == "superseded", "sha256"].dropna())

    # submission figures per cell: current value + earliest receipt of a file carrying it
    sheet_vals: dict[tuple, dict] = {}
    declared_missing: dict[tuple, str] = {}
    if len(obs):
        so = obs[obs["source_kind"] == "submission"]
        if "source_sha256" in so.columns and dead_files:
            so = so[~so["source_sha256"].isin(dead_files)]
        has_sup = "superseded_by_run" in so.columns
        for r in so.to_dict("records"):
            key = (str(r["province_code"]), str(r["indicator"]), str(r["measure"]))
            if _na(r.get("value")) or _str(r.get("status")) == "M":
                raw = _str(r.get("original_value")) or _str(r.get("qualifier")) or "no figure"
                declared_missing.setdefault(key, f"sheet says {raw!r} at {_loc(r.get('source_file'), r.get('locator'))}")
                continue
            t = receipt.get(r.get("source_sha256"))
            if t is None:
                t = first_receipt.get(key[0])
            cur = (not has_sup or _na(r.get("superseded_by_run"))) and r.get("source_sha256") not in old_files
            e = sheet_vals.setdefault(key, {"first": None, "current": None, "any": None})
            if t is not None and (e["first"] is None or t < e["first"]):
                e["first"] = t
            if cur and (e["current"] is None or (t is not None and (e["current"][0] is None or t > e["current"][0]))):
                e["current"] = (t, r)
            if e["any"] is None:
                e["any"] = r
    text_vals: dict[tuple, dict] = {}
    if rec is not None:
        for r in rec.to_dict("records"):
            text_vals[(str(r["province_code"]), str(r["indicator"]), str(r["measure"]))] = r
    if len(obs):
        for r in obs[(obs["source_kind"] == "report") & obs["value"].notna()].to_dict("records"):
            key = (str(r["province_code"]), str(r["indicator"]), str(r["measure"]))
            text_vals.setdefault(key, {"kind": "text_only", "text_value": r["value"],
                                       "text_locator": _loc(r.get("source_file"), r.get("locator"))})
    bad_cells: dict[tuple, dict] = {}
    if len(qua):
        prov_of_file = {}
        if len(subs):
            prov_of_file = {p: c for p, c in zip(subs["path"], subs["province_code"]) if not _na(c)}
        cell_map = _cell_map(obs) if len(obs) else ({}, {})
        for r in qua.to_dict("records"):
            pc = _str(r.get("province_code")) or prov_of_file.get(r.get("file"))
            ind, meas = _str(r.get("indicator")), _str(r.get("measure"))
            if pc is None:
                continue
            if ind is None:
                ind, meas = _cell_from_locator(r, cell_map)
            if ind is None:
                continue
            keys = ([(pc, ind, meas)] if meas else [(pc, ind, m) for i, m in req if i == ind])
            for k in keys:
                bad_cells.setdefault(k, r)
    if len(qua):
        whole = qua[qua["locator"].map(lambda x: _str(x) in (None, ""))] if "locator" in qua.columns else qua
        for r in whole.to_dict("records"):
            pc = _str(r.get("province_code"))
            if pc and pc not in first_receipt:
                lst = rejected_by_prov.setdefault(pc, [])
                if not any(_str(x.get("path")) == _str(r.get("file")) for x in lst):
                    lst.append({"path": r.get("file"), "error": _str(r.get("message")) or _str(r.get("reason"))})

    rows = []
    for p in exp.itertuples():
        pc = p.province_code
        has_sheet = pc in first_receipt
        for ind, meas in req:
            key = (pc, ind, meas)
            row = {"cycle": cycle, "province_code": pc, "province_set": p.province_set, "indicator": ind,
                   "measure": meas, "run_id": run_id}
            tv = text_vals.get(key)
            if tv is not None and not _na(tv.get("text_value")):
                row["text_value"] = float(tv["text_value"])
            na_note = na.get(key) or na.get((pc, ind, None))
            sv = sheet_vals.get(key)
            if na_note is not None:
                row.update(status="not_applicable", detail=na_note)
                if sv and sv["current"]:
                    row["value"] = float(sv["current"][1]["value"])
                    row["detail"] += "; a figure was sent anyway"
            elif sv is not None:
                cur = (sv["current"] or (None, sv["any"]))[1]
                row["value"] = float(cur["value"])
                sheet_loc = _loc(cur.get("source_file"), cur.get("locator"))
                only_old = sv["current"] is None
                row["locator"] = sheet_loc
                first = sv["first"]
                late = first is not None and to_local(first).date() > cal.deadline
                if tv is not None and tv.get("kind") == "conflict":
                    row.update(status="conflict", locator=f"{sheet_loc} | {tv.get('text_locator')}",
                               detail=tv.get("detail") or "text and sheet disagree beyond rounding")
                    if late:
                        row["detail"] += f"; first sent late ({_fmt_local(first)})"
                elif late:
                    row.update(status="reported_late",
                               detail=f"first sent {_fmt_local(first)}, after the deadline {cal.deadline.isoformat()}")
                else:
                    row.update(status="reported",
                               detail=None if first is not None else "receipt time unknown: counted on time")
                if only_old:
                    extra = f"only in an earlier file ({_str(cur.get('source_file'))}), not in the resubmission"
                    row["detail"] = f"{row['detail']}; {extra}" if row.get("detail") else extra
            elif key in bad_cells:
                q = bad_cells[key]
                row.update(status="invalid", locator=_loc(q.get("file"), q.get("locator")),
                           detail=f"rejected ({_str(q.get('reason'))}): {_str(q.get('message')) or ''}".rstrip(": "))
            elif not has_sheet and pc in rejected_by_prov:
                files = rejected_by_prov[pc]
                f0 = files[0]
                row.update(status="invalid", locator=_str(f0.get("path")),
                           detail=f"file rejected: {_str(f0.get('error')) or 'unreadable'}"
                           + (f" (+{len(files) - 1} more rejected file(s))" if len(files) > 1 else ""))
            elif tv is not None:
                row.update(status="text_only", locator=tv.get("text_locator"),
                           detail="stated in the report text only; not in the spreadsheet"
                           if has_sheet else "stated in the report text only; no spreadsheet received")
            else:
                if not has_sheet:
                    detail = "no spreadsheet received"
                elif key in declared_missing:
                    detail = "declared not available: " + declared_missing[key]
                else:
                    detail = "not in the spreadsheet"
                row.update(status="missing", detail=detail)
            rows.append(row)
    if not rows:
        return empty_frame("reporting_status")
    return conform(pd.DataFrame(rows), "reporting_status")


# ----------------------------------------------------------------------------------------------
# completeness


def _rate(num, den):
    if den is None or _na(den) or den == 0:
        return None
    return 100.0 * num / den


def completeness(cycle: str, submissions: pd.DataFrame | None, reporting_status: pd.DataFrame | None, *,
                 run_id: str | None = None) -> pd.DataFrame:
    """The ``completeness`` table for ``cycle``: one row per expected province, plus one per unit
    not expected that sent a readable spreadsheet (expected_reports 0; its rates are empty)."""
    cal = cycle_calendar(cycle)
    cycle = cal.cycle
    exp = expected_provinces(cycle)
    subs = attribute_files(_for_cycle(submissions, cycle), cycle)
    readable = _readable_sheets(subs)
    first: dict[str, pd.Timestamp] = {}
    pset: dict[str, str] = {}
    for code, g in readable.groupby("province_code"):
        ts = [t for t in (_utc(x) for x in g["received_at"]) if t is not None]
        first[str(code)] = min(ts) if ts else None
        if "province_set" in g.columns and g["province_set"].notna().any():
            pset[str(code)] = str(g["province_set"].dropna().iloc[0])
    rs = _for_cycle(reporting_status, cycle)
    cells: dict[str, tuple[int, int]] = {}
    if rs is not None and len(rs):
        for code, g in rs.groupby("province_code"):
            st = g["status"]
            cells[str(code)] = (int((st != "not_applicable").sum()), int(st.isin(REPORTED).sum()))
    rows = []
    expected_codes = set(exp["province_code"])
    units = [(c, s, 1) for c, s in zip(exp["province_code"], exp["province_set"])]
    units += [(c, pset.get(c), 0) for c in sorted(set(first) - expected_codes)]
    for code, s, expected in units:
        actual = 1 if code in first else 0
        t = first.get(code)
        on_time = 1 if actual and (t is None or to_local(t).date() <= cal.deadline) else 0
        req, rep = cells.get(code, (None, None)) if expected else (None, None)
        rows.append({
            "cycle": cycle, "province_code": code, "province_set": s, "expected_reports": expected,
            "actual_reports": actual, "actual_reports_on_time": on_time,
            "reporting_rate": _rate(actual, expected), "reporting_rate_on_time": _rate(on_time, expected),
            "timeliness_among_received": _rate(on_time, actual),
            "required_cells": req, "reported_cells": rep,
            "indicator_completeness": _rate(rep, req) if req is not None else None,
            "first_received_at": t,
            "days_late": _days_late(t, cal.deadline) if t is not None else None,
            "working_days_late": _wdays_late(t, cal.deadline) if t is not None else None,
            "run_id": run_id,
        })
    return conform(pd.DataFrame(rows), "completeness")


def cycle_summary(completeness: pd.DataFrame) -> dict:
    """Cycle-level counts and rates from a ``completeness`` frame of one cycle (sums over units;
    a rate above 100 is reported as it is)."""
    c = completeness
    exp = int(c["expected_reports"].fillna(0).sum())
    act = int(c["actual_reports"].fillna(0).sum())
    ont = int(c["actual_reports_on_time"].fillna(0).sum())
    req = int(c["required_cells"].fillna(0).sum())
    rep = int(c["reported_cells"].fillna(0).sum())
    e = c[c["expected_reports"] == 1]
    cycles = sorted(set(c["cycle"].dropna())) if "cycle" in c.columns else []
    return {
        "cycle": cycles[0] if len(cycles) == 1 else cycles,
        "expected_reports": exp, "actual_reports": act, "actual_reports_on_time": ont,
        "reporting_rate": _rate(act, exp), "reporting_rate_on_time": _rate(ont, exp),
        "timeliness_among_received": _rate(ont, act),
        "required_cells": req, "reported_cells": rep, "indicator_completeness": _rate(rep, req),
        "expected_reported": int(e["actual_reports"].fillna(0).sum()),
        "missing_reports": int((e["actual_reports"] == 0).sum()),
        "late_reports": int(((c["actual_reports"] == 1) & (c["actual_reports_on_time"] == 0)).sum()),
        "unexpected_reports": int(((c["expected_reports"] == 0) & (c["actual_reports"] == 1)).sum()),
    }


# ----------------------------------------------------------------------------------------------
# findings


def _finding(cycle, severity, rule, message, **kw) -> dict:
    details = kw.pop("details", None)
    return {"cycle": cycle, "severity": severity, "rule": rule, "message": message,
            "details": json.dumps(details, ensure_ascii=False, default=str) if details else None, **kw}


def completeness_findings(cycle: str, submissions: pd.DataFrame | None, reporting_status: pd.DataFrame | None,
                          completeness: pd.DataFrame | None, reconciled: pd.DataFrame | None = None, *,
                          run_id: str | None = None,
                          late_warning_working_days: int = 3) -> pd.DataFrame:
    """The reporting problems of ``cycle`` as rows of the ``finding`` table.

    * ``completeness.rate_above_100`` (critical): the cycle's reporting rate exceeds 100.
    * ``completeness.unexpected_unit`` (critical): a readable spreadsheet from a unit not expected.
    * ``completeness.unattributed_file`` (warning): a file with no province.
    * ``completeness.receipt_from_mtime`` (warning): a file not in inbox.csv (receipt = file time).
    * ``completeness.no_report`` (warning): an expected province with no readable spreadsheet.
    * ``completeness.late_report``: info when late by fewer than ``late_warning_working_days``
      working days, warning from then on.
    * ``completeness.missing_indicator`` (warning): a required figure missing from a province that
      did report (a non-reporting province gets ``no_report`` only).
    * ``completeness.invalid_indicator`` (warning), ``reconcile.conflict`` (warning),
      ``reconcile.text_only`` (info).

    ``reconciled`` (optional, :func:`diaphuong.reconcile.reconcile`) adds both locators and the
    text's wording to the conflict findings' details."""
    cal = cycle_calendar(cycle)
    cycle = cal.cycle
    out: list[dict] = []
    subs = attribute_files(_for_cycle(submissions, cycle), cycle)
    comp = _for_cycle(completeness, cycle)
    rs = _for_cycle(reporting_status, cycle)
    if comp is not None and len(comp):
        summ = cycle_summary(comp)
        if summ["reporting_rate"] is not None and summ["reporting_rate"] > 100:
            out.append(_finding(
                cycle, "critical", "completeness.rate_above_100",
                f"reporting rate {summ['reporting_rate']:.1f}% is above 100: {summ['actual_reports']} reports "
                f"for {summ['expected_reports']} expected units",
                value=summ["reporting_rate"], expected="<= 100",
                details={k: summ[k] for k in ("expected_reports", "actual_reports", "unexpected_reports")}))
        readable = _readable_sheets(subs)
        for r in comp[comp["expected_reports"] == 0].to_dict("records"):
            files = readable[readable["province_code"] == r["province_code"]]["path"].tolist() if len(readable) else []
            out.append(_finding(
                cycle, "critical", "completeness.unexpected_unit",
                f"a spreadsheet came from unit {r['province_code']} (set {r.get('province_set') or '?'}), which is "
                f"not a province of the {cal.province_set} list expected for {cycle}",
                province_code=r["province_code"], expected=f"a unit of the {cal.province_set} list",
                source_file=files[0] if files else None, details={"files": files}))
        for r in comp[(comp["expected_reports"] == 1) & (comp["actual_reports"] == 0)].to_dict("records"):
            out.append(_finding(
                cycle, "warning", "completeness.no_report",
                f"no readable spreadsheet from province {r['province_code']} for {cycle} "
                f"(deadline {cal.deadline.isoformat()})",
                province_code=r["province_code"], expected=f"a report by {cal.deadline.isoformat()}"))
        late = comp[(comp["actual_reports"] == 1) & (comp["actual_reports_on_time"] == 0)]
        for r in late.to_dict("records"):
            wd = 0 if _na(r.get("working_days_late")) else int(r["working_days_late"])
            dl = 0 if _na(r.get("days_late")) else int(r["days_late"])
            out.append(_finding(
                cycle, "warning" if wd >= late_warning_working_days else "info", "completeness.late_report",
                f"first readable spreadsheet from {r['province_code']} arrived {_fmt_local(r['first_received_at'])}, "
                f"{dl} day(s) ({wd} working day(s)) after the deadline {cal.deadline.isoformat()}",
                province_code=r["province_code"], value=float(dl), expected=f"by {cal.deadline.isoformat()}",
                details={"days_late": dl, "working_days_late": wd}))
    if len(subs):
        for r in subs[subs["province_code"].isna()].to_dict("records"):
            out.append(_finding(cycle, "warning", "completeness.unattributed_file",
                                f"{r.get('path')}: no province could be read from the file, its name or the inbox; "
                                "it does not count as a report", source_file=_str(r.get("path"))))
        if "received_at_source" in subs.columns:
            for r in subs[subs["received_at_source"] == "mtime"].to_dict("records"):
                out.append(_finding(
                    cycle, "warning", "completeness.receipt_from_mtime",
                    f"{r.get('path')} is not in inbox.csv: its receipt time is the file's modification time "
                    f"({'unknown' if _na(r.get('received_at')) else _fmt_local(r['received_at'])})",
                    province_code=_str(r.get("province_code")), source_file=_str(r.get("path")),
                    expected="a line in inbox.csv"))
    conflicts: dict[tuple, dict] = {}
    rec = _for_cycle(reconciled, cycle)
    if rec is not None and len(rec):
        for r in rec[rec["kind"] == "conflict"].to_dict("records"):
            conflicts.setdefault((str(r["province_code"]), str(r["indicator"]), str(r["measure"])), {
                "sheet_locator": _str(r.get("locator")), "text_locator": _str(r.get("text_locator")),
                "text_original": _str(r.get("text_original")), "qualifier": _str(r.get("qualifier")),
                "tolerance": None if _na(r.get("tolerance")) else float(r["tolerance"]),
                "sentence": _str(r.get("sentence"))})
    if rs is not None and len(rs):
        reported = set(comp.loc[comp["actual_reports"] == 1, "province_code"]) if comp is not None and len(comp) else set()
        for r in rs.to_dict("records"):
            st = r["status"]
            common = dict(province_code=r["province_code"], indicator=r["indicator"], measure=r["measure"],
                          period=cycle, locator=_str(r.get("locator")))
            if st == "missing" and r["province_code"] in reported:
                out.append(_finding(cycle, "warning", "completeness.missing_indicator",
                                    f"{r['indicator']} ({r['measure']}) missing from {r['province_code']}: {r.get('detail')}",
                                    expected="a figure", **common))
            elif st == "invalid" and str(r.get("detail") or "").startswith("file rejected"):
                # one finding per rejected file (below), not one per cell of it
                continue
            elif st == "invalid":
                out.append(_finding(cycle, "warning", "completeness.invalid_indicator",
                                    f"{r['indicator']} ({r['measure']}) from {r['province_code']} rejected: {r.get('detail')}",
                                    **common))
            elif st == "conflict":
                out.append(_finding(cycle, "warning", "reconcile.conflict",
                                    f"{r['indicator']} ({r['measure']}) of {r['province_code']}: {r.get('detail')}",
                                    value=None if _na(r.get("value")) else float(r["value"]),
                                    expected=None if _na(r.get("text_value")) else f"{float(r['text_value']):g} (report text)",
                                    details=conflicts.get((str(r["province_code"]), str(r["indicator"]), str(r["measure"]))),
                                    **common))
            elif st == "text_only":
                out.append(_finding(cycle, "info", "reconcile.text_only",
                                    f"{r['indicator']} ({r['measure']}) of {r['province_code']} is only in the report text",
                                    value=None if _na(r.get("text_value")) else float(r["text_value"]), **common))
    if subs is not None and len(subs) and "outcome" in subs.columns:
        for r in subs[(subs["outcome"] == "quarantined")].to_dict("records"):
            out.append(_finding(cycle, "warning", "completeness.file_rejected",
                                f"{r.get('path')} could not be read and was quarantined: {r.get('error')}",
                                province_code=_str(r.get("province_code")), source_file=_str(r.get("path")),
                                expected="a readable file"))
    if not out:
        return empty_frame("finding")
    df = pd.DataFrame(out)
    df["run_id"] = run_id
    return conform(df, "finding")


# ----------------------------------------------------------------------------------------------
# across cycles


def cycle_kind_key(cycle: str) -> str:
    """Cycles of the same kind: month, quarter, half, year, or 'NM' for other year-to-date spans."""
    p = parse_period(cycle)
    return f"{p.last_month}M" if p.kind == "ytd" else p.kind


def chronic_non_reporters(history: pd.DataFrame, k: int, n: int, *, as_of: str | None = None) -> pd.DataFrame:
    """Provinces missing or late in at least ``k`` of the last ``n`` cycles of the same kind.

    ``history``: ``completeness`` rows of several cycles. The window is the last ``n`` cycles of
    each kind present in ``history`` (ending at ``as_of`` when given); a province is counted in
    the cycles it was expected in. Columns: cycle_kind, province_code, province_set, cycles
    (expected in, within the window), missing, late, missing_or_late, window (the cycles, oldest
    first), last_cycle."""
    if not 1 <= k <= n:
        raise ValueError(f"chronic non-reporters need 1 <= k <= n, got k={k}, n={n}")
    cols = ["cycle_kind", "province_code", "province_set", "cycles", "missing", "late", "missing_or_late",
            "window", "last_cycle"]
    if history is None or len(history) == 0:
        return pd.DataFrame(columns=cols)
    h = history.copy()
    h["_code"] = h["cycle"].map(_code)
    h = h[h["_code"].notna()]
    h["_kind"] = h["_code"].map(cycle_kind_key)
    h["_end"] = h["_code"].map(lambda c: parse_period(c).end)
    if as_of is not None:
        h = h[h["_end"] <= parse_period(as_of).end]
    rows = []
    for kind, g in h.groupby("_kind"):
        window = sorted(set(g["_code"]), key=lambda c: parse_period(c).end)[-n:]
        w = g[g["_code"].isin(window) & (g["expected_reports"] == 1)]
        for code, pg in w.groupby("province_code"):
            miss = int((pg["actual_reports"] == 0).sum())
            late = int(((pg["actual_reports"] == 1) & (pg["actual_reports_on_time"] == 0)).sum())
            if miss + late >= k:
                last = pg.sort_values("_end").iloc[-1]
                rows.append({"cycle_kind": kind, "province_code": code,
                             "province_set": _str(last.get("province_set")), "cycles": len(pg),
                             "missing": miss, "late": late, "missing_or_late": miss + late,
                             "window": ",".join(window), "last_cycle": last["_code"]})
    out = pd.DataFrame(rows, columns=cols)
    return out.sort_values(["cycle_kind", "missing_or_late", "province_code"], ascending=[True, False, True]
                           ).reset_index(drop=True)


# ----------------------------------------------------------------------------------------------
# scorecard


def scorecard_sql() -> str:
    """The ``CREATE OR REPLACE VIEW scorecard`` statement (``sql/scorecard.sql``)."""
    return resources.files("diaphuong").joinpath("sql/scorecard.sql").read_text(encoding="utf-8")


def create_scorecard_view(con) -> None:
    """Create (or replace) the ``scorecard`` view on a DuckDB connection that holds the
    ``completeness``, ``reporting_status``, ``finding``, ``cycle`` and ``province`` tables."""
    con.execute(scorecard_sql())


STATUS_COLUMNS = {
    "cycle": "Kỳ báo cáo",
    "rank": "Hạng (kém nhất = 1)",
    "province_code": "Mã tỉnh",
    "province_name": "Tỉnh/thành phố",
    "actual_reports": "Đã gửi",
    "actual_reports_on_time": "Đúng hạn",
    "days_late": "Số ngày trễ",
    "working_days_late": "Số ngày làm việc trễ",
    "indicator_completeness": "Đầy đủ chỉ tiêu (%)",
    "n_missing": "Thiếu",
    "n_invalid": "Không hợp lệ",
    "n_conflict": "Lệch văn bản",
    "n_text_only": "Chỉ có trong văn bản",
    "n_reported_late": "Gửi muộn (ô)",
    "findings_critical": "Lỗi nghiêm trọng",
    "findings_warning": "Cảnh báo",
    "reporting_rate_change": "Thay đổi tỷ lệ gửi so với kỳ trước (điểm %)",
    "indicator_completeness_change": "Thay đổi đầy đủ so với kỳ trước (điểm %)",
    "prev_cycle": "Kỳ trước",
}


def status_frame(scorecard: pd.DataFrame) -> pd.DataFrame:
    """The scorecard for ``diaphuong status``: Vietnamese headings, latest cycle first, and within a
    cycle units not expected first, then worst first (rank 1)."""
    if scorecard is None or len(scorecard) == 0:
        return pd.DataFrame(columns=list(STATUS_COLUMNS.values()))
    s = scorecard.copy()
    s["_end"] = pd.to_datetime(s["period_end"]) if "period_end" in s.columns else s["cycle"]
    s["_unexpected"] = (s["expected_reports"] == 0).astype(int)
    s = s.sort_values(["_end", "_unexpected", "rank", "province_code"], ascending=[False, False, True, True],
                      na_position="first", kind="stable")
    for c in ("actual_reports", "actual_reports_on_time"):
        s[c] = s[c].map(lambda v: "" if _na(v) else ("có" if int(v) else "không"))
    for c in ("indicator_completeness", "reporting_rate_change", "indicator_completeness_change"):
        if c in s.columns:
            s[c] = s[c].map(lambda v: None if _na(v) else round(float(v), 1))
    keep = [c for c in STATUS_COLUMNS if c in s.columns]
    return s[keep].rename(columns=STATUS_COLUMNS).reset_index(drop=True)
