"""Loads killed with SIGKILL: the warehouse opens and reads exactly as before (table checksums),
DuckDB's WAL replays committed work only, and the next run completes the work.

A loader subprocess (``CHILD``) loads a batch through ``warehouse.load_cycle`` under the writer
lock, as the flow does. The baseline run's work is left in the WAL on purpose (its process is
killed after COMMIT, before any checkpoint), so that opening the file after a kill has to replay
the WAL: the committed baseline must come back, the killed load must not."""
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from diaphuong import warehouse
from diaphuong.catalog.indicators import indicators
from diaphuong.catalog.provinces import provinces

CYCLE = "2024"

CHILD = r"""
import sys, time
import pandas as pd
from diaphuong import schema, warehouse
from diaphuong.settings import load_settings

wh, batch_path, run_id, mode = sys.argv[1:5]
settings = load_settings(warehouse_dir=wh, raw_dir=wh + "/raw")
obs = pd.read_parquet(batch_path)
cycle = "2024"
frames = {
    "cycle": pd.DataFrame([{"cycle": cycle, "cycle_kind": "year", "province_set": "2008", "run_id": run_id}]),
    "finding": pd.DataFrame([{"cycle": cycle, "severity": "info", "rule": "loaded_by", "province_code": f"{i:02d}",
                              "message": f"loaded by {run_id}", "run_id": run_id} for i in range(1, 64)]),
}
run_row = {"run_id": run_id, "cycle": cycle, "outcome": "completed",
           "started_at": pd.Timestamp("2025-01-01T00:00Z") + pd.Timedelta(days=int(run_id[1:])),
           "finished_at": pd.Timestamp("2025-01-01T01:00Z") + pd.Timedelta(days=int(run_id[1:])),
           "input_hashes": '{"batch": "%s"}' % run_id, "row_counts": '{"observation": %d}' % len(obs)}
batch = warehouse.CycleBatch(cycle, run_id, frames, obs, schema.empty_frame("observation"), run_row)
with warehouse.write_lock(settings, wait_seconds=0):
    con = warehouse.connect(settings)
    if mode == "hang":
        con.execute("SET checkpoint_threshold = '100GB'")  # committed work stays in the WAL
    print("loading", flush=True)
    t0 = time.perf_counter()
    warehouse.load_cycle(con, batch)
    print(f"committed {time.perf_counter() - t0:.3f}", flush=True)
    if mode == "hang":
        time.sleep(600)
    con.close()
"""


def _frame(n_periods: int, year0: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    codes = sorted(provinces().query("province_set == '2008'")["code"].unique())
    keys = list(indicators())
    periods = [f"{y}-{m:02d}" for y in range(year0, 2100) for m in range(1, 13)][:n_periods]
    P, C, K, M = np.meshgrid(np.arange(len(periods)), np.arange(len(codes)), np.arange(len(keys)), np.arange(2),
                             indexing="ij")
    P, C, K, M = P.ravel(), C.ravel(), K.ravel(), M.ravel()
    code = np.asarray(codes, dtype=object)[C]
    return pd.DataFrame({
        "period": np.asarray(periods, dtype=object)[P], "province_code": code, "province_set": "2008",
        "indicator": np.asarray(keys, dtype=object)[K], "measure": np.where(M == 0, "value", "yoy_pct").astype(object),
        "value": np.round(rng.lognormal(6, 1, len(P)), 1), "unit": "bn_vnd", "status": "E",
        "source_kind": "submission", "source_file": np.char.add("2024/submissions/", code.astype(str)),
        "source_sha256": np.char.add("e" * 62, code.astype(str)),
        "locator": np.char.add(np.char.add("Bieu_01!E", (K * 2 + M + 8).astype(str)), np.char.add("_", P.astype(str))),
    })


@pytest.fixture(scope="module")
def batches(tmp_path_factory):
    root = tmp_path_factory.mktemp("kill_batches")
    r1 = _frame(40, 2015, 1)                                  # 40 months x 63 x 37 x 2 = 186,480 rows
    r2 = pd.concat([r1, _frame(100, 2020, 2)], ignore_index=True)   # + 466,200 rows
    r2.loc[::5, "value"] += 1.0                               # 20% of r1's figures revised
    r1.to_parquet(root / "r1.parquet")
    r2.to_parquet(root / "r2.parquet")
    return root, len(r1), len(r2)


def _start(wh: Path, batch: Path, run_id: str, mode: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", CHILD, str(wh), str(batch), run_id, mode],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy())


def _wait_for(proc: subprocess.Popen, word: str) -> str:
    line = proc.stdout.readline()
    while line and not line.startswith(word):
        line = proc.stdout.readline()
    assert line.startswith(word), f"loader ended before {word!r}: {proc.stderr.read()}"
    return line


def _kill(proc: subprocess.Popen) -> str:
    proc.send_signal(signal.SIGKILL)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL, "the loader had already ended"
    return out


def _checksums(wh: Path) -> dict:
    con = duckdb.connect(str(wh / "diaphuong.duckdb"), read_only=True)
    try:
        return warehouse.table_checksums(con)
    finally:
        con.close()


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def _run_to_end(wh: Path, batch: Path, run_id: str) -> float:
    proc = _start(wh, batch, run_id, "complete")
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    return float(out.split("committed ")[1].split()[0])


def test_killed_loads_leave_the_warehouse_as_it_was_and_the_next_run_completes(batches, tmp_path):
    root, n1, n2 = batches
    # the baseline run r1 commits, then its process dies before any checkpoint: r1 lives in the WAL
    base = tmp_path / "base"
    proc = _start(base, root / "r1.parquet", "r1", "hang")
    _wait_for(proc, "committed")
    _kill(proc)
    db, wal = base / "diaphuong.duckdb", base / "diaphuong.duckdb.wal"
    assert wal.exists() and wal.stat().st_size > 0, "the baseline's committed work should be in the WAL"
    before = _checksums(_copy(base, tmp_path / "base_copy"))   # opening replays the WAL (on a copy)
    assert before["observation"].startswith(f"{n1}:")

    # the reference: r2 loaded to the end on a copy of the baseline
    done = _copy(base, tmp_path / "done")
    duration = _run_to_end(done, root / "r2.parquet", "r2")
    after = _checksums(done)
    assert after != before

    # kill 1: early in the load (0.3 s after it began) -> exactly as before
    proc = _start(base, root / "r2.parquet", "r2", "complete")
    _wait_for(proc, "loading")
    time.sleep(0.3)
    out = _kill(proc)
    assert "committed" not in out, "the load finished before it could be killed; make the batch bigger"
    assert _checksums(base) == before
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM run WHERE run_id = 'r2'").fetchone() == (0,)
    assert con.execute("SELECT DISTINCT run_id FROM finding").fetchall() == [("r1",)]
    con.close()

    # kill 2: late in the load, near the commit (on a copy of the killed warehouse): all or nothing.
    # The loader does not exit after its commit ("hang"), so the kill always finds it alive.
    late = _copy(base, tmp_path / "late")
    proc = _start(late, root / "r2.parquet", "r2", "hang")
    _wait_for(proc, "loading")
    time.sleep(0.85 * duration)
    out = _kill(proc)
    assert _checksums(late) == (after if "committed" in out else before)

    # the next run on the warehouse killed first completes the work: the same as the reference,
    # one attempt (the killed attempt left no trace), and the writer lock was released by the kill
    _run_to_end(base, root / "r2.parquet", "r2")
    assert _checksums(base) == after
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT attempts FROM run WHERE run_id = 'r2'").fetchone() == (1,)
    assert con.execute("SELECT count(*) FROM observation").fetchone() == (n2 + n1 // 5,)  # r1's revised kept
    assert con.execute("SELECT count(*) FROM observation WHERE superseded_by_run = 'r2'").fetchone() == (len(range(0, n1, 5)),)
    con.close()
