"""Cheap and safe reruns, in-process on a small copy of one sample cycle (6 files):

- a rerun with nothing changed skips parsing (the run row counts the attempt, no file is read);
- a changed file is read alone (the others come from the per-file cache), and the warehouse then
  equals a full rebuild of the changed tree into a fresh warehouse;
- the Dask task runner (prefect-dask, a local cluster of 2 workers) gives the same tables;
- a failing run names the stage (and the file) and leaves the warehouse as it was; a transient
  error on a file is retried.
The raw tree is a temporary copy: the test edits one of its files; data/raw is never touched."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from diaphuong import schema

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "raw" / "2025-H2"
CYCLE = "2025-H2"
FILES = ["submissions/01_ha_noi.xlsx", "submissions/04_cao_bang.xlsx", "submissions/08_tuyen_quang.xlsx",
         "reports/01_ha_noi.txt", "reports/04_cao_bang.txt", "reports/08_tuyen_quang.txt"]
# per attempt, by design: when and by which Prefect run the latest attempt ran, and how often
PER_ATTEMPT = {"run": ("started_at", "finished_at", "attempts", "timings", "prefect_flow_run_id")}

pytestmark = pytest.mark.skipif(not SAMPLE.is_dir(), reason="sample raw tree not present")


def small_tree(dst: Path) -> Path:
    """Six files of the 2025-H2 sample and their inbox lines (every file listed: receipt times do
    not depend on file modification times)."""
    cyc = dst / CYCLE
    for rel in FILES:
        (cyc / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(SAMPLE / rel, cyc / rel)
    lines = (SAMPLE / "inbox.csv").read_text(encoding="utf-8").splitlines()
    keep = [lines[0]] + [ln for ln in lines[1:] if ln.split(",", 1)[0] in FILES]
    assert len(keep) == len(FILES) + 1
    (cyc / "inbox.csv").write_text("\n".join(keep) + "\n", encoding="utf-8")
    return dst


def run_flow(raw: Path, wh: Path, flow=None, **params):
    from diaphuong.prefect_env import no_heartbeat
    from diaphuong_flows.reporting_cycle import reporting_cycle

    with no_heartbeat():
        return (flow or reporting_cycle)(raw_dir=str(raw), warehouse_dir=str(wh), **params)


def latest_log(wh: Path) -> str:
    return sorted((wh / "logs").glob("run-*.log"))[-1].read_text(encoding="utf-8")


def parse_line(log: str) -> dict[str, int]:
    """``{"files": 6, "read": 1, "from cache": 5, ...}`` from the parse stage line."""
    line = next(ln for ln in log.splitlines() if re.search(rf"{CYCLE}\s+parse\s", ln))
    return {k: int(v) for v, k in re.findall(r"(\d+) ([a-z ]+?)(?:,|$)", line.split(" s  ", 1)[1])}


def current_tables(wh: Path) -> dict[str, pd.DataFrame]:
    """Every table as the current state of the warehouse: the observations still current (the
    vintage columns left out: an unchanged figure keeps the run that first loaded it), the run
    rows of the loaded cycles, per-attempt columns left out; rows sorted."""
    con = duckdb.connect(str(wh / "diaphuong.duckdb"), read_only=True)
    try:
        out = {}
        for name, table in schema.TABLES.items():
            cols = [c for c in table.columns if c not in PER_ATTEMPT.get(name, ())]
            where = ""
            if name == "observation":
                cols = [c for c in cols if c not in ("valid_from_run", "superseded_by_run")]
                where = "WHERE superseded_by_run IS NULL"
            elif name == "run":
                where = "WHERE run_id IN (SELECT run_id FROM cycle)"
            sel = ", ".join(f'"{c}"' for c in cols)
            df = con.execute(f"SELECT {sel} FROM {name} {where}").df()
            if name == "run":  # the parameters also carry the Prefect flow run id of the attempt
                df["parameters"] = df["parameters"].map(
                    lambda s: json.dumps({k: v for k, v in json.loads(s).items() if k != "_flow_run_id"}))
            out[name] = df.sort_values(cols, na_position="first", kind="stable").reset_index(drop=True)
        return out
    finally:
        con.close()


def assert_same_tables(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame]) -> None:
    assert a.keys() == b.keys()
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name], check_dtype=False, obj=f"table {name}")
    assert len(a["observation"]) > 100 and len(a["run"]) == 1  # compared something real


def snapshot(wh: Path) -> dict[str, pd.DataFrame]:
    """Every row of every table, nothing left out (a failed run must change none)."""
    con = duckdb.connect(str(wh / "diaphuong.duckdb"), read_only=True)
    try:
        return {t: con.execute(f"SELECT * FROM {t}").df() for t in schema.TABLES}
    finally:
        con.close()


def assert_unchanged(before: dict, after: dict) -> None:
    for t in before:
        pd.testing.assert_frame_equal(before[t], after[t], obj=f"table {t}")


def edit_report(raw: Path, rel: str = "reports/04_cao_bang.txt") -> None:
    """Change one figure of a report text (a resubmitted, corrected report)."""
    p = raw / CYCLE / rel
    text = p.read_text(encoding="utf-8")
    m = re.search(r"\d+,\d", text)
    assert m, "the report states a decimal figure"
    new = m.group(0)[:-1] + str((int(m.group(0)[-1]) + 1) % 10)
    p.write_text(text[:m.start()] + new + text[m.end():], encoding="utf-8")


@pytest.fixture(scope="module")
def incremental(prefect_harness, tmp_path_factory):
    """One warehouse through three runs: full, unchanged rerun, rerun after one file changed."""
    raw = small_tree(tmp_path_factory.mktemp("raw_small"))
    wh = tmp_path_factory.mktemp("wh_incremental")
    first = run_flow(raw, wh)
    first_log = latest_log(wh)
    again = run_flow(raw, wh)
    again_log = latest_log(wh)
    con = duckdb.connect(str(wh / "diaphuong.duckdb"), read_only=True)
    run_rows = con.execute("SELECT run_id, attempts FROM run").fetchall()
    con.close()
    edit_report(raw)
    changed = run_flow(raw, wh)
    return {"raw": raw, "wh": wh, "first": first, "first_log": first_log, "again": again,
            "again_log": again_log, "run_rows_after_again": run_rows, "changed": changed,
            "changed_log": latest_log(wh)}


@pytest.fixture(scope="module")
def rebuild(incremental, tmp_path_factory):
    """The changed tree built from nothing into a fresh warehouse (default task runner)."""
    wh = tmp_path_factory.mktemp("wh_rebuild")
    run_flow(incremental["raw"], wh)
    return wh


def test_first_run_reads_every_file(incremental):
    counts = parse_line(incremental["first_log"])
    assert counts["files"] == 6 and counts["read"] == 6 and counts["from cache"] == 0


def test_unchanged_rerun_skips_parsing_and_counts_the_attempt(incremental):
    assert incremental["again"][0].get("skipped") is True
    log = incremental["again_log"]
    assert re.search(rf"{CYCLE}\s+skipped\s", log)
    assert not re.search(rf"{CYCLE}\s+parse\s", log)  # no file was read, not even from the cache
    (run_id, attempts), = incremental["run_rows_after_again"]
    assert attempts == 2 and run_id.startswith(CYCLE)
    # the summary of the skipped rerun is the one of the first run
    first, again = incremental["first"][0], incremental["again"][0]
    assert {k: first[k] for k in ("expected", "received", "observations")} == \
           {k: again[k] for k in ("expected", "received", "observations")}


def test_changed_file_is_read_alone(incremental):
    counts = parse_line(incremental["changed_log"])
    assert counts == {"files": 6, "read": 1, "from cache": 5, "quarantined": 0}
    con = duckdb.connect(str(incremental["wh"] / "diaphuong.duckdb"), read_only=True)
    try:
        runs = con.execute("SELECT run_id, attempts FROM run ORDER BY started_at").fetchall()
        # the old figures of the changed report are kept as superseded vintages
        superseded = con.execute("SELECT count(*) FROM observation WHERE superseded_by_run IS NOT NULL "
                                 "AND source_file LIKE '%reports/04_cao_bang.txt'").fetchone()[0]
    finally:
        con.close()
    assert len(runs) == 2 and runs[0][1] == 2 and runs[1][1] == 1
    assert superseded >= 1


def test_incremental_result_equals_a_full_rebuild(incremental, rebuild):
    assert parse_line(latest_log(rebuild))["read"] == 6  # the rebuild shared no cache
    assert_same_tables(current_tables(incremental["wh"]), current_tables(rebuild))


def test_dask_task_runner_gives_the_same_tables(incremental, rebuild, tmp_path):
    pytest.importorskip("prefect_dask")
    from diaphuong.prefect_env import api_for_subprocesses
    from diaphuong_flows.reporting_cycle import with_task_runner

    wh = tmp_path / "wh_dask"
    flow = with_task_runner("dask", workers=2)
    with api_for_subprocesses():  # the Dask workers report to this session's Prefect server
        rows = run_flow(incremental["raw"], wh, flow, read_tasks=4)  # as `diaphuong run --task-runner dask`
    assert rows[0]["observations"] > 100
    assert parse_line(latest_log(wh))["read"] == 6
    assert_same_tables(current_tables(wh), current_tables(rebuild))


@pytest.fixture
def loaded_copy(incremental, rebuild, tmp_path):
    """A loaded warehouse (a copy of the rebuild, cache included) and a raw tree with one file
    changed since: the next run has work to do."""
    raw = shutil.copytree(incremental["raw"], tmp_path / "raw")
    wh = shutil.copytree(rebuild, tmp_path / "wh")
    edit_report(raw, "reports/01_ha_noi.txt")
    return raw, wh


@pytest.mark.parametrize("read_tasks", [None, 2], ids=["tasks-of-16-files", "files-in-2-tasks"])
def test_failing_file_names_stage_and_file_and_leaves_the_warehouse(loaded_copy, monkeypatch, read_tasks):
    from diaphuong import extract
    from diaphuong.runlog import StageFailed

    raw, wh = loaded_copy
    before = snapshot(wh)
    real = extract.extract_document
    calls = []

    def disk_error(path, *a, **kw):
        if Path(path).name == "01_ha_noi.txt":
            calls.append(path)
            raise OSError(5, "Input/output error", str(path))
        return real(path, *a, **kw)

    monkeypatch.setattr(extract, "extract_document", disk_error)
    with pytest.raises(StageFailed) as info:
        run_flow(raw, wh, read_tasks=read_tasks)
    err = info.value
    assert (err.cycle, err.stage) == (CYCLE, "parse")
    (path, why), = err.files
    assert path.endswith("reports/01_ha_noi.txt") and "Input/output error" in why
    assert path in str(err) and "Input/output error" in str(err)
    assert len(calls) == 3  # tried, then retried twice
    log = latest_log(wh)
    assert re.search(rf"{CYCLE}\s+parse\s.*FAILED", log)
    assert re.search(r"file \S*reports/01_ha_noi.txt: OSError", log)
    assert "failed at stage parse" in log
    assert_unchanged(before, snapshot(wh))


def test_a_spreadsheet_whose_joint_read_raises_is_read_alone_and_the_others_still_are(loaded_copy, monkeypatch):
    """A read task reads its spreadsheets together; when that raises (an I/O error on one of them),
    each is read on its own: the failing one is retried and named, no other file is lost."""
    from diaphuong.ingest import submissions
    from diaphuong.runlog import StageFailed

    raw, wh = loaded_copy
    shutil.rmtree(wh / ".cache")  # every spreadsheet read again, not taken from the cache
    before = snapshot(wh)
    real = submissions._sheets_of
    calls = []

    def disk_error(data, name, op):
        calls.append(name)
        if name.endswith("04_cao_bang.xlsx"):
            raise OSError(5, "Input/output error", name)
        return real(data, name, op)

    monkeypatch.setattr(submissions, "_sheets_of", disk_error)
    with pytest.raises(StageFailed) as info:
        run_flow(raw, wh)
    (path, why), = info.value.files
    assert path.endswith("submissions/04_cao_bang.xlsx") and "Input/output error" in why
    assert sum(c.endswith("04_cao_bang.xlsx") for c in calls) == 4  # in the batch, then alone and retried twice
    assert sum(c.endswith("01_ha_noi.xlsx") for c in calls) == 2  # in the batch (cut short), then alone
    assert_unchanged(before, snapshot(wh))


def test_failing_load_rolls_back_and_names_the_stage(loaded_copy, monkeypatch):
    from diaphuong import warehouse
    from diaphuong.runlog import StageFailed

    raw, wh = loaded_copy
    before = snapshot(wh)

    def broken(con, *a, **kw):  # after the cycle tables were rewritten inside the transaction
        raise RuntimeError("disk full while writing observations")

    monkeypatch.setattr(warehouse, "load_observations", broken)
    with pytest.raises(StageFailed) as info:
        run_flow(raw, wh)
    assert (info.value.stage, info.value.files) == ("load", [])
    assert "disk full" in str(info.value)
    assert "warehouse is as it was" in info.value.hint
    log = latest_log(wh)
    assert re.search(rf"{CYCLE}\s+load\s.*FAILED: RuntimeError: disk full", log)
    assert_unchanged(before, snapshot(wh))


def test_transient_file_error_is_retried(loaded_copy, monkeypatch):
    from diaphuong import extract

    raw, wh = loaded_copy
    real = extract.extract_document
    failures = []

    def flaky(path, *a, **kw):
        if Path(path).name == "01_ha_noi.txt" and not failures:
            failures.append(path)
            raise OSError(11, "Resource temporarily unavailable", str(path))
        return real(path, *a, **kw)

    monkeypatch.setattr(extract, "extract_document", flaky)
    rows = run_flow(raw, wh)
    assert len(failures) == 1 and rows[0]["observations"] > 100
    assert parse_line(latest_log(wh)) == {"files": 6, "read": 1, "from cache": 5, "quarantined": 0}


def export_lines(log: str) -> list[str]:
    return [ln for ln in log.splitlines() if re.search(r"\brun\s+export\s", ln)]


def test_parquet_export_is_written_once_per_run_and_only_when_stale(incremental):
    first, = export_lines(incremental["first_log"])
    assert "tables to" in first
    again, = export_lines(incremental["again_log"])  # every cycle skipped: nothing new to export
    assert "up to date" in again
    changed, = export_lines(incremental["changed_log"])
    assert "tables to" in changed
    marker = incremental["wh"] / "parquet" / ".exported-runs"
    assert marker.read_text(encoding="utf-8").startswith("2 ")  # the two completed loads


def test_failed_export_is_written_by_the_next_run_even_if_it_skips_every_cycle(loaded_copy, monkeypatch):
    from diaphuong import warehouse
    from diaphuong.runlog import StageFailed

    raw, wh = loaded_copy
    real = warehouse.export_parquet

    def full_disk(con, settings):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(warehouse, "export_parquet", full_disk)
    with pytest.raises(StageFailed) as info:
        run_flow(raw, wh)
    assert (info.value.cycle, info.value.stage) == ("run", "export")
    assert "Parquet export is not up to date" in info.value.hint
    assert not (wh / "parquet" / ".exported-runs").exists()
    con = duckdb.connect(str(wh / "diaphuong.duckdb"), read_only=True)
    try:  # the cycle itself was loaded before the export failed
        loaded = con.execute("SELECT count(*) FROM run WHERE outcome = 'completed'").fetchone()[0]
    finally:
        con.close()
    assert loaded == 2

    monkeypatch.setattr(warehouse, "export_parquet", real)
    rows = run_flow(raw, wh)
    assert rows[0].get("skipped") is True
    line, = export_lines(latest_log(wh))
    assert "tables to" in line
    assert (wh / "parquet" / ".exported-runs").read_text(encoding="utf-8").startswith("2 ")
    n = duckdb.sql(f"SELECT count(*) FROM read_parquet('{(wh / 'parquet' / 'run' / 'run.parquet').as_posix()}')").fetchone()[0]
    assert n == 2


def test_a_run_with_no_cycle_creates_no_warehouse(prefect_harness, tmp_path):
    """A scheduled run with nothing due exports nothing and leaves no empty database behind."""
    raw, wh = tmp_path / "raw", tmp_path / "wh"
    raw.mkdir()
    assert run_flow(raw, wh) == []
    assert not (wh / "diaphuong.duckdb").exists() and not (wh / "parquet").exists()
    line, = export_lines(latest_log(wh))
    assert "nothing to export (no warehouse yet)" in line
