"""The stages of a reporting cycle as plain functions. ``flows/reporting_cycle.py`` wires them
into a Prefect flow (read tasks of a few files each for parsing, one task per stage otherwise);
tests call them directly.

    plan_cycle -> parse_submission_files (in batches) / extract_report_file (per file) -> assemble
    -> reconcile + completeness -> validate -> load (one transaction) -> report
    and once per run, after its cycles: export_if_stale (Parquet)
"""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from diaphuong import __version__, schema
from diaphuong.catalog.provinces import DATA as CATALOG_DIR
from diaphuong.catalog.provinces import ProvinceRef, find_province_in_text
from diaphuong.errors import DiaphuongError, InputError
from diaphuong.ingest.discover import read_inbox, register_files
from diaphuong.periods import parse_period
from diaphuong.settings import Settings

# ---------------------------------------------------------------- plan


@dataclass
class CyclePlan:
    cycle: str
    raw_dir: Path
    files: pd.DataFrame          # register_files + receipt columns
    inbox_errors: list[InputError]
    calendar: object             # diaphuong.calendar.CycleCalendar
    run_id: str
    parameters: dict
    started_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """Version + library source + catalog: a change to any of them makes a new run id (and
    invalidates the per-file cache)."""
    h = hashlib.sha256(__version__.encode())
    pkg = Path(__file__).parent
    for p in sorted(pkg.rglob("*.py")) + sorted(pkg.rglob("*.sql")) + sorted(CATALOG_DIR.glob("*")):
        if p.is_file():
            h.update(p.name.encode())
            h.update(p.read_bytes())
    return h.hexdigest()[:16]


def make_run_id(cycle: str, files: pd.DataFrame, parameters: dict, expectations_dir: Path | None = None) -> str:
    h = hashlib.sha256()
    h.update(cycle.encode())
    h.update(code_fingerprint().encode())
    # parameters starting with "_" (flow run id, absolute paths) do not change what is loaded
    h.update(json.dumps({k: v for k, v in parameters.items() if not k.startswith("_")},
                        sort_keys=True, default=str).encode())
    for path, sha, rec in sorted(zip(files["path"], files["sha256"], files["received_at"].astype(str))):
        h.update(f"{path}\0{sha}\0{rec}\n".encode())
    if expectations_dir is not None and expectations_dir.is_dir():
        for p in sorted(expectations_dir.rglob("*")):
            if p.is_file() and p.suffix in (".json", ".yaml", ".yml"):
                h.update(p.read_bytes())
    return f"{cycle}-{h.hexdigest()[:12]}"


def plan_cycle(settings: Settings, cycle: str, parameters: dict | None = None) -> CyclePlan:
    from diaphuong.calendar import cycle_calendar
    from diaphuong.completeness import receipts

    parse_period(cycle)
    files = register_files(settings.raw_dir, cycle)
    inbox, inbox_errors = read_inbox(settings.raw_dir, cycle)
    files = receipts(files, inbox, settings.raw_dir / cycle)
    cal = cycle_calendar(cycle)
    params = dict(parameters or {})
    run_id = make_run_id(cycle, files, params, settings.expectations_dir)
    return CyclePlan(cycle, settings.raw_dir, files, inbox_errors, cal, run_id, params)


# ---------------------------------------------------------------- per file


class FileResult:
    """What reading one file gave: observations, quarantine rows and the file's `submission` row.
    The spreadsheet reader's rows stay light (``submissions.Rows``) until :func:`assemble` builds one
    frame per cycle from all files; ``observations`` / ``quarantine`` build this file's frame on access."""

    def __init__(self, observations, quarantine, submission: dict):
        self._obs = observations  # DataFrame or submissions.Rows
        self._q = quarantine
        self.submission = submission

    @staticmethod
    def _df(x) -> pd.DataFrame:
        return x if isinstance(x, pd.DataFrame) else x.frame()

    @property
    def observations(self) -> pd.DataFrame:
        self._obs = self._df(self._obs)
        return self._obs

    @property
    def quarantine(self) -> pd.DataFrame:
        self._q = self._df(self._q)
        return self._q

    def __setstate__(self, st: dict) -> None:  # a cache entry pickled when these were plain fields
        if "observations" in st:
            st["_obs"] = st.pop("observations")
        if "quarantine" in st:
            st["_q"] = st.pop("quarantine")
        self.__dict__.update(st)

    def __repr__(self) -> str:
        return f"FileResult({len(self._obs)} observations, {len(self._q)} quarantined, {self.submission.get('path')!r})"


def _submission_row(plan_cycle_: str, f: dict, cal) -> dict:
    from diaphuong.calendar import days_late, working_days_late

    rec = f.get("received_at")
    late = wlate = None
    if rec is not None and not pd.isna(rec):
        late = days_late(pd.Timestamp(rec).to_pydatetime(), cal.deadline)
        wlate = working_days_late(pd.Timestamp(rec).to_pydatetime(), cal.deadline)
    return {
        "sha256": f["sha256"], "cycle": plan_cycle_, "kind": f["kind"], "path": f["path"],
        "file_format": f["file_format"], "size_bytes": f["size_bytes"], "received_at": rec,
        "received_at_source": f.get("received_at_source"), "deadline": cal.deadline,
        "days_late": late, "working_days_late": wlate, "outcome": "accepted",
        "province_code": None, "province_set": None, "province_source": None,
        "error": None, "observations": 0, "quarantined_rows": 0, "note": None,
        "sender": f.get("sender"),
    }


def _quarantine_file(cycle: str, f: dict, reason: str, message: str) -> pd.DataFrame:
    return pd.DataFrame([{"cycle": cycle, "file": f["path"], "source_sha256": f["sha256"], "locator": None,
                          "reason": reason, "message": message, "raw_value": None}])


def _province_from_inbox(f: dict, on) -> ProvinceRef | None:
    sender = f.get("sender")
    if sender is None or (isinstance(sender, float) and pd.isna(sender)) or not str(sender).strip():
        return None
    return find_province_in_text(str(sender), on)


def _fill(df: pd.DataFrame, **constants) -> None:
    """Set constant columns in place. The readers already fill most of them (as constants), and a
    DataFrame column assignment costs 0.05-0.5 ms under pandas 3, more than the rest of a file's
    bookkeeping: a column that already starts with the value is left alone."""
    n = len(df)
    for col, v in constants.items():
        if col in df.columns and (n == 0 or df[col].iat[0] == v):
            continue
        arr = np.empty(n, dtype=object)
        arr[:] = v
        df[col] = arr


FORMATS = {"spreadsheet": "xlsx, xls, ods, csv", "report": "txt, docx, pdf, html"}


def _rejected(cycle: str, f: dict, row: dict, reason: str, message: str) -> FileResult:
    """The whole file quarantined: no observation, one quarantine row, the reason on its row."""
    row.update(outcome="quarantined", error=message)
    return FileResult(schema.empty_frame("observation"), _quarantine_file(cycle, f, reason, message), row)


def _unsupported(cycle: str, f: dict, row: dict) -> FileResult:
    return _rejected(cycle, f, row, "unsupported_format",
                     f"{f['path']}: .{f['file_format']} is not a {f['kind']} format diaphuong reads ({FORMATS[f['kind']]})")


def parse_submission_file(raw_dir: Path, cycle: str, f: dict, cal) -> FileResult:
    """Read one spreadsheet. A file that cannot be read is quarantined whole; nothing raises."""
    return parse_submission_files(raw_dir, cycle, [f], cal)[0]


def parse_submission_files(raw_dir: Path, cycle: str, fs: list[dict], cal) -> list[FileResult]:
    """Read spreadsheets, in their order (the reader takes them stage by stage in batches: see
    ``read_submissions``). A file that cannot be read is quarantined whole; nothing raises."""
    from diaphuong.ingest.submissions import SubmissionFile, read_submissions

    period = parse_period(cycle)
    readable = [f for f in fs if f["supported"]]
    reads = dict(zip((f["path"] for f in readable), read_submissions(
        [SubmissionFile(raw_dir / f["path"], f["path"], f["sha256"]) for f in readable],
        cycle=cycle, on=period.end)))
    return [_submission_result(cycle, f, _submission_row(cycle, f, cal), reads.get(f["path"]), period)
            for f in fs]


def _submission_result(cycle: str, f: dict, row: dict, res, period) -> FileResult:
    """A spreadsheet's result from what the reader gave (None: a format it does not read)."""
    if res is None:
        return _unsupported(cycle, f, row)
    if isinstance(res, DiaphuongError):
        return _rejected(cycle, f, row, getattr(res, "reason", "unreadable"), str(res))
    prov, source = res.province, res.province_source
    if prov is None:
        prov = _province_from_inbox(f, period.end)
        source = "inbox" if prov else None
    notes = list(res.notes)
    if res.period and res.period != cycle:
        notes.append(f"the file states period {res.period}, the folder says {cycle}")
    obs = res.obs_rows  # the reader's own rows (no DataFrame per file): filled in place, no copy
    q = res.q_rows
    if prov is None:
        row.update(note="; ".join(notes) or None)
        return _rejected(cycle, f, row, "no_province",
                         f"{f['path']}: no province in the header, the file name or the inbox sender")
    constants = dict(cycle=cycle, province_code=prov.code, province_set=prov.province_set, source_kind="submission",
                     source_file=f["path"], source_sha256=f["sha256"])
    if isinstance(obs, pd.DataFrame):
        _fill(obs, **constants)
        obs["period"] = obs["period"].fillna(cycle) if "period" in obs else cycle
    else:
        obs.const.update(constants)
        if obs.const.get("period") is None:
            obs.const["period"] = cycle
    if len(q):
        if isinstance(q, pd.DataFrame):
            q["cycle"] = cycle
            q["province_code"] = prov.code
        else:
            q.const.update(cycle=cycle, province_code=prov.code)
    row.update(province_code=prov.code, province_set=prov.province_set, province_source=source,
               observations=len(obs), quarantined_rows=len(q), note="; ".join(notes) or None)
    return FileResult(obs, q, row)


def extract_report_file(raw_dir: Path, cycle: str, f: dict, cal) -> FileResult:
    """Extract the figures a report text states. Unreadable texts are quarantined whole."""
    from diaphuong.extract import extract_document

    period = parse_period(cycle)
    row = _submission_row(cycle, f, cal)
    if not f["supported"]:
        return _unsupported(cycle, f, row)
    try:
        obs = extract_document(raw_dir / f["path"], raw_root=raw_dir, sha256=f["sha256"])
    except DiaphuongError as e:
        return _rejected(cycle, f, row, getattr(e, "reason", "unreadable"), str(e))
    obs = obs.copy()
    if obs["province_code"].isna().any():
        prov = _province_from_inbox(f, period.end)
        if prov is not None:
            obs.loc[obs["province_code"].isna(), ["province_code", "province_set"]] = [prov.code, prov.province_set]
    obs = obs[obs["province_code"].notna()].copy()
    _fill(obs, cycle=cycle, source_kind="report", source_file=f["path"], source_sha256=f["sha256"])
    obs["period"] = obs["period"].fillna(cycle)
    codes = obs["province_code"].dropna().unique()
    if len(codes) == 1:
        row.update(province_code=codes[0], province_set=obs["province_set"].iloc[0], province_source="content")
    row.update(observations=len(obs))
    return FileResult(obs, schema.empty_frame("quarantine"), row)


# ---------------------------------------------------------------- assemble


@dataclass
class Assembled:
    submissions: pd.DataFrame
    observations: pd.DataFrame             # current (latest file per province)
    observations_superseded: pd.DataFrame  # from earlier files of a province (resubmissions)
    quarantine: pd.DataFrame


def _concat(frames: list, table: str) -> pd.DataFrame:
    """One frame from per-file frames and reader rows (``submissions.Rows``, in the table's column
    order): each run of consecutive reader rows becomes ONE frame, built in one go."""
    from diaphuong.ingest.submissions import frame_of

    frames = [f for f in frames if f is not None and len(f)]
    if not frames:
        return schema.empty_frame(table)
    cols = schema.TABLES[table].columns
    out: list[pd.DataFrame] = []
    run: list = []
    for f in frames:
        if isinstance(f, pd.DataFrame):
            if run:
                out.append(frame_of(run))
                run = []
            out.append(f[[c for c in f.columns if c in cols]])
        else:
            run.append(f)
    if run:
        out.append(frame_of(run))
    if len(out) == 1 and not isinstance(frames[-1], pd.DataFrame) and len(frames) == len(run):
        return out[0]  # built in one go from reader rows: already a fresh frame with a RangeIndex
    return pd.concat(out, ignore_index=True)


def assemble(cycle: str, results: list[FileResult], inbox_errors: list[InputError] | None = None) -> Assembled:
    """Gather per-file results; a later readable spreadsheet from the same province supersedes the
    earlier ones (both kept: the earlier as superseded vintages)."""
    subs = pd.DataFrame([r.submission for r in results])
    if subs.empty:
        subs = schema.empty_frame("submission")
    obs_by_path = {r.submission["path"]: r._obs for r in results}
    q = _concat([r._q for r in results], "quarantine")
    if inbox_errors:
        q = pd.concat([q, pd.DataFrame([{"cycle": cycle, "file": e.file, "locator": e.locator, "reason": e.reason,
                                          "message": str(e)} for e in inbox_errors])], ignore_index=True)
    superseded_paths: set[str] = set()
    ok = subs[(subs["kind"] == "spreadsheet") & (subs["outcome"] == "accepted") & subs["province_code"].notna()]
    for _, grp in ok.groupby(["province_code", "province_set"]):
        if len(grp) > 1:
            order = grp.sort_values(["received_at", "path"], na_position="first")
            for p in order["path"].iloc[:-1]:
                superseded_paths.add(p)
    if superseded_paths:
        latest = {}
        for _, grp in ok.groupby(["province_code", "province_set"]):
            last = grp.sort_values(["received_at", "path"], na_position="first")["path"].iloc[-1]
            for p in grp["path"]:
                latest[p] = last
        mask = subs["path"].isin(superseded_paths)
        subs.loc[mask, "outcome"] = "superseded"
        subs.loc[mask, "note"] = subs.loc[mask, "path"].map(lambda p: f"superseded by the resubmission {latest[p]}")
    current = _concat([o for p, o in obs_by_path.items() if p not in superseded_paths], "observation")
    old = _concat([o for p, o in obs_by_path.items() if p in superseded_paths], "observation")
    current = current.drop_duplicates(subset=[c for c in ("period", "province_code", "indicator", "measure",
                                                          "source_kind", "source_sha256", "locator") if c in current])
    subs["cycle"] = cycle
    # a file quarantined before its header was read still belongs to a province: its name or sender
    from diaphuong.completeness import attribute_files

    subs = attribute_files(subs, cycle).drop(columns=["sender"], errors="ignore")
    if len(q) and "province_code" in q.columns:
        by_path = dict(zip(subs["path"], subs["province_code"]))
        q["province_code"] = q["province_code"].where(q["province_code"].notna(), q["file"].map(by_path))
    return Assembled(subs.reset_index(drop=True), current.reset_index(drop=True), old.reset_index(drop=True), q)


# ---------------------------------------------------------------- summary


def summary_row(cycle: str, completeness: pd.DataFrame, loaded: dict, findings: pd.DataFrame,
                warehouse: Path, report: Path | None) -> dict:
    exp = int(completeness["expected_reports"].fillna(0).sum()) if len(completeness) else 0
    act = int(completeness["actual_reports"].fillna(0).sum()) if len(completeness) else 0
    ont = int(completeness["actual_reports_on_time"].fillna(0).sum()) if len(completeness) else 0
    sev = findings["severity"].value_counts().to_dict() if len(findings) else {}
    return {
        "cycle": cycle, "expected": exp, "received": act, "on_time": ont,
        "observations": loaded.get("observations_current", 0),
        "critical": int(sev.get("critical", 0)), "warning": int(sev.get("warning", 0)), "info": int(sev.get("info", 0)),
        "warehouse": str(warehouse), "report": str(report) if report else "",
    }


def summary_markdown(rows: list[dict]) -> str:
    head = "| Kỳ | Dự kiến | Đã nhận | Đúng hạn | Quan sát | Nghiêm trọng | Cảnh báo | Thông tin |\n|---|---|---|---|---|---|---|---|\n"
    body = "".join(
        f"| {r['cycle']} | {r['expected']} | {r['received']} | {r['on_time']} | {r['observations']} | "
        f"{r['critical']} | {r['warning']} | {r['info']} |\n" for r in rows)
    paths = "".join(f"\n- {r['cycle']}: report `{r['report']}`" for r in rows)
    return "# diaphuong: reporting cycles\n\n" + head + body + paths + "\n"


class Timer:
    """Stage timings for the run row."""

    def __init__(self):
        self.timings: dict[str, float] = {}

    def stage(self, name: str):
        t0 = time.perf_counter()
        timer = self

        class _Ctx:
            def __enter__(self):
                return self

            def __exit__(self, *exc):
                timer.timings[name] = round(timer.timings.get(name, 0) + time.perf_counter() - t0, 4)
                return False

        return _Ctx()


# ---------------------------------------------------------------- checks, load, outputs


@dataclass
class Checked:
    reporting_status: pd.DataFrame
    completeness: pd.DataFrame
    findings: pd.DataFrame
    reconciled: pd.DataFrame


def check_reporting(plan: CyclePlan, asm: Assembled) -> Checked:
    """Reconcile texts with submissions, then who reported what, on time, per DHIS2's definitions."""
    from diaphuong import completeness as comp
    from diaphuong.catalog.indicators import not_applicable
    from diaphuong.reconcile import reconcile

    rec = reconcile(asm.observations)
    # earlier files of a resubmitting province count for timeliness: a cell first sent on time
    # stays on time when a later file corrects it
    every = pd.concat([asm.observations, asm.observations_superseded], ignore_index=True)
    status = comp.reporting_status(plan.cycle, asm.submissions, every, asm.quarantine, rec,
                                   not_applicable=not_applicable())
    compl = comp.completeness(plan.cycle, asm.submissions, status)
    findings = comp.completeness_findings(plan.cycle, asm.submissions, status, compl, rec)
    return Checked(status, compl, findings, rec)


# What the rules and the outliers read of the history (validate._Figures, validate._outliers, and
# the locators of the findings): a third of the columns, a third of the time and memory on ten
# years of history (805,000 rows: 1.4 s and 135 MiB instead of 4.2 s and 356 MiB).
HISTORY_COLUMNS = ("province_set", "province_code", "period", "indicator", "measure", "source_kind", "cycle",
                   "value", "locator", "source_file")
HISTORY_ORDER = ("cycle", "province_set", "province_code", "indicator", "measure", "period", "source_kind",
                 "source_file", "locator")  # after the cycle's end date: unique among current figures


def history(settings: Settings, cycle: str) -> pd.DataFrame:
    """Current observations of the cycles that END BEFORE this one (for rules and outliers). Only
    earlier cycles, so that re-running an old cycle gives the same findings whatever was loaded
    after it."""
    from diaphuong import warehouse

    if not settings.duckdb_path.exists():
        return schema.empty_frame("observation")
    con = warehouse.connect(settings)
    try:
        warehouse.ensure_schema(con)
        end = parse_period(cycle).end
        cols = ", ".join(f"o.{c}" for c in HISTORY_COLUMNS)
        # A total order: where history holds several figures for one province, indicator, measure
        # and period (a report text and the sheet, a later cycle restating a month), validation
        # keeps one by position; without it DuckDB's parallel scan made that choice, and two runs
        # of the same inputs differed in a few outlier findings (seen on ten years, threads vs Dask).
        return con.execute(
            f"SELECT {cols} FROM observation_current o JOIN cycle c USING (cycle) WHERE c.period_end < ? "
            f"ORDER BY c.period_end, {', '.join('o.' + k for k in HISTORY_ORDER)}", [end]
        ).df()
    finally:
        con.close()


@dataclass
class Validated:
    findings: pd.DataFrame
    suite_results: pd.DataFrame
    severity: pd.Series  # worst severity per row of Assembled.observations


def validate_cycle(settings: Settings, plan: CyclePlan, asm: Assembled, hist: pd.DataFrame) -> Validated:
    from diaphuong.validate import validate

    docs = settings.reports_dir / plan.cycle / "gx"
    res = validate(asm.observations, hist, suites_dir=settings.expectations_dir, docs_dir=docs)
    sev = pd.Series(res.severity_by_observation, dtype="object").reindex(asm.observations.index)
    return Validated(res.findings, res.suite_results, sev)


def build_batch(plan: CyclePlan, asm: Assembled, chk: Checked, val: Validated, timings: dict) -> "object":
    from diaphuong.warehouse import CycleBatch

    cal = plan.calendar
    per = parse_period(plan.cycle)
    obs = asm.observations.copy()
    obs["severity"] = val.severity.values if len(val.severity) == len(obs) else None
    status = chk.reporting_status.copy()
    if len(obs) and (obs["severity"] == "critical").any():
        # a critical finding keeps the figure out of observation_current and marks it invalid
        bad = obs[(obs["severity"] == "critical") & (obs["source_kind"] == "submission")]
        keys = set(zip(bad["province_code"], bad["indicator"], bad["measure"]))
        m = [(p, i, me) in keys for p, i, me in zip(status["province_code"], status["indicator"], status["measure"])]
        status.loc[m, "status"] = "invalid"
        status.loc[m, "detail"] = "critical validation finding"
    from diaphuong.completeness import completeness as compute_completeness

    compl = compute_completeness(plan.cycle, asm.submissions, status)
    findings = pd.concat([f for f in (chk.findings, val.findings) if f is not None and len(f)] or
                         [schema.empty_frame("finding")], ignore_index=True)
    for df in (status, compl, findings, val.suite_results):
        df["run_id"] = plan.run_id
    subs = asm.submissions.copy()
    subs["run_id"] = plan.run_id
    q = asm.quarantine.copy()
    q["run_id"] = plan.run_id
    cycle_row = pd.DataFrame([{
        "cycle": plan.cycle, "cycle_kind": per.requirement_kind, "period_start": per.start, "period_end": per.end,
        "cutoff": cal.cutoff, "deadline": cal.deadline, "province_set": per.province_set,
        "expected_reports": int(compl["expected_reports"].fillna(0).sum()) if len(compl) else 0,
        "run_id": plan.run_id,
    }])
    frames = {"cycle": cycle_row, "submission": subs, "quarantine": q, "reporting_status": status,
              "completeness": compl, "finding": findings, "suite_result": val.suite_results}
    run_row = {
        "run_id": plan.run_id, "cycle": plan.cycle, "started_at": plan.started_at,
        "finished_at": datetime.now(timezone.utc),
        "parameters": json.dumps(plan.parameters, sort_keys=True, default=str),
        "input_hashes": json.dumps(dict(zip(plan.files["path"], plan.files["sha256"])), sort_keys=True),
        "row_counts": json.dumps({k: int(len(v)) for k, v in frames.items()} | {"observation": int(len(obs))}),
        "timings": json.dumps(timings), "outcome": "completed",
        "prefect_flow_run_id": plan.parameters.get("_flow_run_id"),
    }
    return CycleBatch(plan.cycle, plan.run_id, frames, obs, asm.observations_superseded, run_row)


def load_batch(settings: Settings, batch) -> dict:
    from diaphuong import warehouse

    con = warehouse.connect(settings)
    try:
        counts = warehouse.load_cycle(con, batch)
        counts["observations_current"] = con.execute(
            "SELECT count(*) FROM observation_current WHERE cycle = ?", [batch.cycle]).fetchone()[0]
        return counts
    finally:
        con.close()


EXPORT_STATE = ".exported-runs"  # in the Parquet folder: which completed runs the export holds


def _export_state(con) -> str:
    """A digest of the completed loads (run id and cycle): the export is current when it was made
    after the same ones. A skipped rerun only counts an attempt and changes nothing here."""
    rows = con.execute("SELECT run_id, cycle FROM run WHERE outcome = 'completed' ORDER BY run_id, cycle").fetchall()
    h = hashlib.sha256()
    for run_id, cycle in rows:
        h.update(f"{run_id}\t{cycle}\n".encode())
    return f"{len(rows)} {h.hexdigest()}"


EXPORT_OUTCOMES = {"written": "tables to", "current": "up to date (no new load since the last export)",
                   "no_warehouse": "nothing to export (no warehouse yet)"}


def export_if_stale(settings: Settings) -> tuple[Path, str]:
    """Write the Parquet export unless it already holds every completed load: ``(folder, outcome)``,
    the outcome a key of :data:`EXPORT_OUTCOMES`.
    Called once at the end of a run, not after each cycle: a run over many cycles exports once, and
    a run after a failed or interrupted export brings it up to date even when every cycle is skipped."""
    from diaphuong import warehouse

    out = settings.parquet_dir
    marker = out / EXPORT_STATE
    if not settings.duckdb_path.exists():  # a run with no cycle to do (nothing due)
        return out, "no_warehouse"
    con = warehouse.connect(settings)
    try:
        warehouse.ensure_schema(con)
        state = _export_state(con)
        current = (marker.exists() and marker.read_text(encoding="utf-8") == state
                   and all((out / name).is_dir() for name in schema.TABLES))
        if current:
            return out, "current"
        marker.unlink(missing_ok=True)  # an export that fails half-way is never taken as current
        warehouse.export_parquet(con, settings)
        marker.write_text(state, encoding="utf-8")
        return out, "written"
    finally:
        con.close()


def write_outputs(settings: Settings, cycle: str) -> Path:
    """The data-quality report and the follow-up workbook and letters of a cycle."""
    from diaphuong import warehouse
    from diaphuong.followup import write_followup
    from diaphuong.report.html import write_report

    con = warehouse.connect(settings)
    try:
        q = lambda sql: con.execute(sql, [cycle]).df()  # noqa: E731
        write_followup(settings.reports_dir / cycle / "followup", cycle,
                       q("SELECT * FROM reporting_status WHERE cycle = ?"),
                       q("SELECT * FROM completeness WHERE cycle = ?"),
                       q("SELECT * FROM finding WHERE cycle = ?"),
                       q("SELECT * FROM submission WHERE cycle = ?"))
        return write_report(con, cycle, settings.reports_dir)
    finally:
        con.close()


# ---------------------------------------------------------------- incremental reruns


def already_loaded(settings: Settings, plan: CyclePlan) -> bool:
    """True when this exact run (same inputs, code and parameters: the run id is their hash) has
    completed before and its report is on disk: the cycle can be skipped."""
    from diaphuong import warehouse

    if not settings.duckdb_path.exists() or not (settings.reports_dir / plan.cycle / "index.html").exists():
        return False
    con = warehouse.connect(settings)
    try:
        warehouse.ensure_schema(con)
        row = con.execute("SELECT outcome FROM run WHERE run_id = ? AND cycle = ?", [plan.run_id, plan.cycle]).fetchone()
        return bool(row and row[0] == "completed")
    finally:
        con.close()


def record_repeat(settings: Settings, plan: CyclePlan) -> dict:
    """A skipped rerun: count the attempt on the run row and read the summary back."""
    from diaphuong import warehouse

    con = warehouse.connect(settings)
    try:
        con.execute("UPDATE run SET attempts = attempts + 1, finished_at = now() WHERE run_id = ?", [plan.run_id])
        compl = con.execute("SELECT * FROM completeness WHERE cycle = ?", [plan.cycle]).df()
        findings = con.execute("SELECT severity FROM finding WHERE cycle = ?", [plan.cycle]).df()
        n = con.execute("SELECT count(*) FROM observation_current WHERE cycle = ?", [plan.cycle]).fetchone()[0]
    finally:
        con.close()
    return summary_row(plan.cycle, compl, {"observations_current": n}, findings, settings.duckdb_path,
                       settings.reports_dir / plan.cycle / "index.html")


def _cache_path(cache_dir: Path, cycle: str, f: dict) -> Path:
    return cache_dir / cycle / f"{f['kind']}-{f['sha256'][:32]}-{code_fingerprint()}-{hashlib.sha1(f['path'].encode()).hexdigest()[:8]}.pkl"


def cached_file_result(cache_dir: Path | None, raw_dir: Path, cycle: str, f: dict, cal) -> FileResult:
    """Read one file, or reuse what reading the same bytes (same path, same code) gave before."""
    return cached_file_results(cache_dir, raw_dir, cycle, [f], cal)[0]


def cached_file_results(cache_dir: Path | None, raw_dir: Path, cycle: str, fs: list[dict], cal
                        ) -> list[FileResult]:
    """Read files, in their order, or reuse what reading the same bytes (same path, same code)
    gave before. Receipt fields are recomputed: they come from the inbox, not from the file. The
    spreadsheets left to read are read together (stage by stage: ``parse_submission_files``), the
    report texts one by one."""
    import pickle

    out: list[FileResult | None] = [None] * len(fs)
    for k, f in enumerate(fs):
        if cache_dir is None:
            break
        path = _cache_path(cache_dir, cycle, f)
        if path.exists():
            try:
                with path.open("rb") as fh:
                    res: FileResult = pickle.load(fh)
                fresh = _submission_row(cycle, f, cal)
                for key in ("received_at", "received_at_source", "deadline", "days_late", "working_days_late",
                            "sender"):
                    res.submission[key] = fresh[key]
                out[k] = res
            except Exception:  # noqa: BLE001 - a damaged cache entry is re-read from the source
                path.unlink(missing_ok=True)
    sheets = [k for k, f in enumerate(fs) if out[k] is None and f["kind"] == "spreadsheet"]
    for k, res in zip(sheets, parse_submission_files(raw_dir, cycle, [fs[k] for k in sheets], cal)):
        out[k] = res
        _store(cache_dir, cycle, fs[k], res)
    for k, f in enumerate(fs):
        if out[k] is None:
            out[k] = extract_report_file(raw_dir, cycle, f, cal)
            _store(cache_dir, cycle, f, out[k])
    return out


def _store(cache_dir: Path | None, cycle: str, f: dict, res: FileResult) -> None:
    """Keep a file's result for the next run on the same bytes."""
    import pickle

    if cache_dir is None:
        return
    path = _cache_path(cache_dir, cycle, f)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as fh:
        pickle.dump(res, fh, protocol=pickle.HIGHEST_PROTOCOL)
    tmp.replace(path)
