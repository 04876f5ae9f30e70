"""`diaphuong sql` and `diaphuong export` while another process writes the warehouse: the
analyst gets the last Parquet export with a note, or a one-line message; never a stack trace.
Real processes: a writer holding DuckDB's file lock (an open transaction) and the installed CLI."""
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from diaphuong import schema, warehouse
from diaphuong.settings import load_settings

CLI = str(Path(sys.executable).parent / "diaphuong")
CYCLE = "2025-H2"

WRITER = r"""
import sys, time, duckdb
from diaphuong import warehouse
from diaphuong.settings import load_settings
settings = load_settings(warehouse_dir=sys.argv[1], raw_dir=sys.argv[1] + "/raw")
with warehouse.write_lock(settings, wait_seconds=0):
    con = warehouse.connect(settings)
    con.execute("BEGIN TRANSACTION")
    con.execute("UPDATE observation SET value = value * 1000")   # not committed: nobody may see it
    print("holding", flush=True)
    time.sleep(300)
"""


def _warehouse(wh: Path, export: bool) -> Path:
    s = load_settings(warehouse_dir=wh, raw_dir=wh / "raw")
    rows = [{"period": CYCLE, "province_code": code, "province_set": "2025", "indicator": "budget_revenue",
             "measure": "value", "value": v, "unit": "bn_vnd", "status": "E", "source_kind": "submission",
             "source_file": f"{CYCLE}/{code}.xlsx", "source_sha256": code * 32, "locator": "Bieu_01!E12"}
            for code, v in (("01", 250123.4), ("79", 612000.5))]
    con = warehouse.connect(s)
    warehouse.load_cycle(con, warehouse.CycleBatch(CYCLE, "r1", {}, pd.DataFrame(rows), schema.empty_frame("observation"),
                                                   {"run_id": "r1", "cycle": CYCLE, "outcome": "completed",
                                                    "started_at": pd.Timestamp("2026-01-10T08:00+07:00")}))
    if export:
        warehouse.export_parquet(con, s)
    con.close()
    return wh


def _cli(*args, wh: Path) -> subprocess.CompletedProcess:
    return subprocess.run([CLI, *args, "--warehouse", str(wh)], capture_output=True, text=True, timeout=120,
                          env=os.environ | {"COLUMNS": "200"})


@pytest.fixture(scope="module")
def writing(tmp_path_factory):
    """Two warehouses, each held by a writer process: one with a Parquet export, one without."""
    root = tmp_path_factory.mktemp("locked")
    whs = {"exported": _warehouse(root / "exported", True), "bare": _warehouse(root / "bare", False)}
    procs = []
    for wh in whs.values():
        p = subprocess.Popen([sys.executable, "-c", WRITER, str(wh)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
        line = p.stdout.readline()
        assert line.startswith("holding"), p.stderr.read()
        procs.append(p)
    yield whs
    for p in procs:
        p.send_signal(signal.SIGKILL)
        p.wait()


def _no_traceback(res):
    assert "Traceback" not in res.stderr and "Traceback" not in res.stdout


def test_sql_answers_from_the_parquet_export_with_a_note(writing):
    res = _cli("sql", "--format", "json", "SELECT province_code, value FROM observation_current ORDER BY 1",
               wh=writing["exported"])
    _no_traceback(res)
    assert res.returncode == 0, res.stderr
    # the committed figures, not the writer's uncommitted ones
    assert json.loads(res.stdout) == [{"province_code": "01", "value": 250123.4},
                                      {"province_code": "79", "value": 612000.5}]
    note = res.stderr.strip()
    assert note.startswith("note: a run is writing the warehouse; answering from the last Parquet export (")
    assert len(note.splitlines()) == 1


def test_views_and_as_of_work_on_the_parquet_export(writing):
    res = _cli("sql", "--format", "csv", "--as-of-run", "r1",
               "SELECT province_code, budget_revenue FROM panel ORDER BY 1", wh=writing["exported"])
    _no_traceback(res)
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines() == ["province_code,budget_revenue", "01,250123.4", "79,612000.5"]
    assert "observation_current as of 2026-01-10T08:00:00+07:00" in res.stderr


def test_bad_sql_while_writing_is_a_one_line_error(writing):
    res = _cli("sql", "SELECT nope FROM observation", wh=writing["exported"])
    _no_traceback(res)
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert lines[-2].startswith("error: Binder Error") and lines[-1].startswith("hint:")


def test_no_export_yet_is_a_clear_message(writing):
    res = _cli("sql", "SELECT count(*) FROM observation", wh=writing["bare"])
    _no_traceback(res)
    assert res.returncode == 2
    assert res.stderr.splitlines()[0] == ("error: a run is writing the warehouse and there is no Parquet export "
                                          "to read yet")
    assert res.stderr.splitlines()[1].startswith("hint: try again when the run has finished")


def test_export_while_writing_uses_the_parquet_export(writing, tmp_path):
    out = tmp_path / "panel.csv"
    res = _cli("export", "--cycle", CYCLE, "--format", "csv", "-o", str(out), wh=writing["exported"])
    _no_traceback(res)
    assert res.returncode == 0, res.stderr
    assert "79" in out.read_text(encoding="utf-8-sig")


def test_after_the_writer_the_file_itself_is_read(tmp_path):
    wh = _warehouse(tmp_path / "free", True)
    shutil.rmtree(wh / "parquet")  # proves the answer comes from the DuckDB file
    res = _cli("sql", "--format", "csv", "SELECT count(*) AS n FROM observation", wh=wh)
    assert res.returncode == 0 and res.stdout.splitlines() == ["n", "2"] and res.stderr == ""
