"""Prefect without a server and without network: set before Prefect is imported.

Measured on these machines (STACK-NOTES.md): the first flow call starts a local API server on
SQLite in ``PREFECT_HOME`` (4-11 s); analytics off; the server's own logging to CRITICAL hides
"Error flushing events" noise at shutdown; the task-run recorder flushes every second so the UI
does not lag. ``PREFECT_API_URL`` is honoured when the operator points runs at a real server.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

OFFLINE_DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_LOGGING_LEVEL": "CRITICAL",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
    "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_BATCH_SIZE": "100",
    "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_FLUSH_INTERVAL": "1",
    "PREFECT_LOGGING_LEVEL": "WARNING",
    "PREFECT_UI_ENABLED": "false",
    "PREFECT_CLOUD_ENABLE_ORCHESTRATION_TELEMETRY": "false",
    "PREFECT_TELEMETRY_ENABLE_RESOURCE_METRICS": "false",
    "PREFECT_RESULTS_PERSIST_BY_DEFAULT": "false",
    "PREFECT_TASKS_REFRESH_CACHE": "false",
    # the stage lines (logger "diaphuong") also go to the flow run's log in the Prefect UI
    "PREFECT_LOGGING_EXTRA_LOGGERS": "diaphuong",
    "PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW": "ignore",
}


def configure(prefect_home: Path) -> None:
    """Point Prefect at a project-local home and make it quiet and offline (idempotent; explicit
    environment variables win)."""
    prefect_home = Path(prefect_home)
    prefect_home.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PREFECT_HOME", str(prefect_home))
    os.environ.setdefault("PREFECT_RESULTS_LOCAL_STORAGE_PATH", str(prefect_home / "storage"))
    for k, v in OFFLINE_DEFAULTS.items():
        os.environ.setdefault(k, v)


@contextmanager
def no_heartbeat():
    """Every flow run otherwise costs >= 1 s for its heartbeat thread (STACK-NOTES.md)."""
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield


@contextmanager
def api_for_subprocesses():
    """Make processes started inside the block (Dask workers) talk to this process's Prefect API.

    Without it every Dask worker, finding no ``PREFECT_API_URL``, starts its own temporary server
    on the same SQLite (measured: 20-30 s before its first task, per worker). With a server already
    configured (``PREFECT_API_URL``, or the test harness) its address is exported; otherwise the
    temporary server this process would start anyway is started now and exported."""
    from prefect.settings import PREFECT_API_URL, get_current_settings, temporary_settings

    before = os.environ.get("PREFECT_API_URL")
    url = get_current_settings().api.url
    try:
        if url:
            os.environ["PREFECT_API_URL"] = url
            yield url
            return
        from prefect.server.api.server import SubprocessASGIServer

        server = SubprocessASGIServer()
        server.start()
        os.environ["PREFECT_API_URL"] = server.api_url
        with temporary_settings(updates={PREFECT_API_URL: server.api_url}):
            yield server.api_url
    finally:
        if before is None:
            os.environ.pop("PREFECT_API_URL", None)
        else:
            os.environ["PREFECT_API_URL"] = before
