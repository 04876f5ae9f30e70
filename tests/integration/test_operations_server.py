"""Scheduled runs on a real Prefect server, and two runs against one warehouse.

A real ``prefect server start`` on loopback (SQLite, its own PREFECT_HOME in a temporary folder)
for the module; ``diaphuong serve`` serves the deployments against it; a run of the 6-month
deployment is triggered through the API for a date on which 2025-H2 is due and must complete and
load the cycle. Then two ``diaphuong run`` processes against one warehouse: the second stops with
the WarehouseLocked message, or (DIAPHUONG_LOCK_WAIT) waits for the first. Every process started
here is stopped (its whole process group) even when a test fails; every wait is bounded."""
from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "raw" / "2025-H2"
BIN = Path(sys.executable).parent
CYCLE = "2025-H2"
FILES = ["submissions/01_ha_noi.xlsx", "submissions/04_cao_bang.xlsx", "submissions/08_tuyen_quang.xlsx",
         "reports/01_ha_noi.txt", "reports/04_cao_bang.txt", "reports/08_tuyen_quang.txt"]

pytestmark = [
    pytest.mark.skipif(not SAMPLE.is_dir(), reason="sample raw tree not present"),
    pytest.mark.skipif(not (BIN / "prefect").exists() or not (BIN / "diaphuong").exists(),
                       reason="prefect and diaphuong must be installed in the running environment"),
]


def small_tree(dst: Path) -> Path:
    """Six files of the 2025-H2 sample and their inbox lines."""
    cyc = dst / CYCLE
    for rel in FILES:
        (cyc / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(SAMPLE / rel, cyc / rel)
    lines = (SAMPLE / "inbox.csv").read_text(encoding="utf-8").splitlines()
    keep = [lines[0]] + [ln for ln in lines[1:] if ln.split(",", 1)[0] in FILES]
    (cyc / "inbox.csv").write_text("\n".join(keep) + "\n", encoding="utf-8")
    return dst


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_env(home: Path, **extra: str) -> dict:
    """This environment without any PREFECT_/DIAPHUONG_ setting of the test session, quiet and
    offline, with its own PREFECT_HOME."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "DIAPHUONG_"))}
    env.update(PREFECT_HOME=str(home), PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1",
               PREFECT_UI_ENABLED="false", PREFECT_SERVER_LOGGING_LEVEL="WARNING")
    env.update(extra)
    return env


def start(cmd: list, env: dict, cwd: Path, log: Path, **kw) -> subprocess.Popen:
    """A process in its own process group (so that stopping it stops its children too)."""
    with log.open("wb") as fh:
        return subprocess.Popen([str(c) for c in cmd], env=env, cwd=cwd, stdout=fh, stderr=subprocess.STDOUT,
                                start_new_session=True, **kw)


def stop(proc: subprocess.Popen | None, grace: float = 20) -> None:
    if proc is None or proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 10)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def wait_for(what: str, check, timeout: float, proc: subprocess.Popen | None = None, log: Path | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"{what}: the process exited ({proc.returncode}):\n" + (log.read_text()[-3000:] if log else ""))
        got = check()
        if got:
            return got
        time.sleep(0.5)
    pytest.fail(f"{what}: not within {timeout:.0f} s" + ("\n" + log.read_text()[-3000:] if log else ""))


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory):
    """``prefect server start`` on a free loopback port; its API URL."""
    import httpx

    home = tmp_path_factory.mktemp("server_home")
    port = free_port()
    url = f"http://127.0.0.1:{port}/api"
    log = home / "server.log"
    proc = start([BIN / "prefect", "server", "start", "--host", "127.0.0.1", "--port", port],
                 clean_env(home), home, log)

    def healthy():
        try:
            return httpx.get(f"{url}/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_for("prefect server start", healthy, 120, proc, log)
        yield url
    finally:
        stop(proc)


def api(url: str):
    from prefect.settings import PREFECT_API_URL, temporary_settings

    return temporary_settings(updates={PREFECT_API_URL: url})


def test_served_deployment_runs_the_due_cycle_into_the_warehouse(prefect_server, tmp_path):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
    from prefect.deployments import run_deployment

    from diaphuong.schedule import KINDS

    raw, wh = small_tree(tmp_path / "raw"), tmp_path / "wh"
    log = tmp_path / "serve.log"
    env = clean_env(tmp_path / "serve_home", PREFECT_API_URL=prefect_server, PREFECT_RUNNER_POLL_FREQUENCY="1")
    serve = start([BIN / "diaphuong", "serve", "--raw", raw, "--warehouse", wh], env, tmp_path, log)
    try:
        with api(prefect_server), get_client(sync_client=True) as client:
            def deployed():  # serve registers them one by one, then polls for runs
                try:
                    return {k: client.read_deployment_by_name(f"reporting-cycle/{k}") for k in KINDS}
                except Exception:  # noqa: BLE001 - not all registered yet
                    return None

            deps = wait_for("diaphuong serve registers the deployments", deployed, 120, serve, log)
            for kind, dep in deps.items():
                assert dep.parameters["kind"] == kind and dep.parameters["warehouse_dir"] == str(wh.resolve())
                assert dep.schedules and dep.schedules[0].schedule.cron.startswith("0 6 ")
            # the run the 28 December 2025 schedule makes: the 6-month cycle 2025-H2 fell due
            run = run_deployment("reporting-cycle/half", parameters={"today": "2025-12-28"}, timeout=300,
                                 poll_interval=1)
            assert run.state is not None and run.state.is_completed(), (run.state, log.read_text()[-3000:])
            lines = [rec.message for rec in client.read_logs(
                log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run.id])))]
    finally:
        stop(serve)
    # the stage lines reached the flow run's log in the Prefect UI
    assert any(re.search(rf"{CYCLE}\s+parse\s+.*6 files", m) for m in lines), lines
    con = duckdb.connect(str(wh / "diaphuong.duckdb"), read_only=True)
    try:
        assert con.execute("SELECT cycle FROM cycle").fetchall() == [(CYCLE,)]
        assert con.execute("SELECT count(*) FROM observation_current WHERE cycle = ?", [CYCLE]).fetchone()[0] > 100
        assert con.execute("SELECT prefect_flow_run_id, outcome FROM run").fetchall() == [(str(run.id), "completed")]
    finally:
        con.close()
    assert (wh / "reports" / CYCLE / "index.html").exists()


HOLD_LOCK = """
import sys
from diaphuong.settings import load_settings
from diaphuong.warehouse import write_lock
with write_lock(load_settings(warehouse_dir=sys.argv[1])):
    print("held", flush=True)
    sys.stdin.readline()
"""


def test_second_writer_stops_with_a_clear_message(prefect_server, tmp_path):
    """Another process holds the warehouse's writer lock (as a run does while it writes): a run
    without DIAPHUONG_LOCK_WAIT stops at once, names the warehouse and says how to queue."""
    raw, wh = small_tree(tmp_path / "raw"), tmp_path / "wh"
    env = clean_env(tmp_path / "home", PREFECT_API_URL=prefect_server)
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(wh)], env=env, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        res = subprocess.run([BIN / "diaphuong", "run", "--raw", raw, "--warehouse", wh], env=env, cwd=tmp_path,
                             capture_output=True, text=True, timeout=300)
    finally:
        if holder.poll() is None:
            holder.stdin.close()
            try:
                holder.wait(timeout=20)
            except subprocess.TimeoutExpired:
                stop(holder)
    assert res.returncode == 2, res.stderr[-3000:]
    assert f"another run is writing {wh}" in res.stderr
    assert "DIAPHUONG_LOCK_WAIT" in res.stderr
    assert not (wh / "diaphuong.duckdb").exists()  # nothing was written


def _window(log: Path) -> tuple[datetime, datetime]:
    stamps = [datetime.strptime(ln[:19], "%Y-%m-%d %H:%M:%S") for ln in log.read_text().splitlines()
              if re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", ln)]
    return stamps[0], stamps[-1]


def test_two_runs_at_once_queue_with_lock_wait(prefect_server, tmp_path):
    """Two ``diaphuong run`` processes started together on one warehouse with DIAPHUONG_LOCK_WAIT:
    both succeed, one after the other (their logs do not overlap: never two writers); the second
    finds the same inputs loaded and only counts the attempt."""
    raw, wh = small_tree(tmp_path / "raw"), tmp_path / "wh"
    procs, logs = [], []
    try:
        t0 = time.time()
        for i in (1, 2):
            env = clean_env(tmp_path / f"home{i}", PREFECT_API_URL=prefect_server, DIAPHUONG_LOCK_WAIT="300")
            logs.append(tmp_path / f"run{i}.out")
            procs.append(start([BIN / "diaphuong", "run", "--raw", raw, "--warehouse", wh], env, tmp_path, logs[-1]))
        for p in procs:
            p.wait(timeout=400)
    finally:
        for p in procs:
            stop(p)
    for p, out in zip(procs, logs):
        assert p.returncode == 0, out.read_text()[-3000:]
    run_logs = sorted((wh / "logs").glob("run-*.log"))
    assert len(run_logs) == 2
    # both processes were started before either held the lock ...
    assert min(f.stat().st_ctime for f in run_logs) > t0
    (a0, a1), (b0, b1) = sorted(_window(f) for f in run_logs)
    assert a1 <= b0  # ... and the second wrote nothing before the first had finished
    texts = [f.read_text() for f in run_logs]
    assert sum(bool(re.search(rf"{CYCLE}\s+skipped\s", t)) for t in texts) == 1
    con = duckdb.connect(str(wh / "diaphuong.duckdb"), read_only=True)
    try:
        assert con.execute("SELECT attempts FROM run").fetchall() == [(2,)]
    finally:
        con.close()
