"""The operator's side of runs, without running the flow: progress bar only on a terminal, stage
lines that name the failing stage and files, and the CLI's refusals with a hint."""
from __future__ import annotations

import io
import logging

import pytest
from typer.testing import CliRunner

from diaphuong import runlog
from diaphuong.cli import app
from diaphuong.errors import DiaphuongError


@pytest.fixture
def lines():
    """The stage lines as the console prints them (format included)."""
    buf = io.StringIO()
    h = logging.StreamHandler(buf)
    h.setFormatter(logging.Formatter("%(message)s"))
    runlog.LOGGER.addHandler(h)
    old = runlog.LOGGER.level
    runlog.LOGGER.setLevel(logging.INFO)
    try:
        yield buf
    finally:
        runlog.LOGGER.removeHandler(h)
        runlog.LOGGER.setLevel(old)


def test_no_bar_when_stderr_is_not_a_terminal():
    with runlog.progress_bar(None):  # pytest captures stderr: not a terminal
        with runlog.bar_task("2025-H2 files", 10) as bar:
            assert bar._id is None
            bar.advance()  # a no-op


def test_bar_counts_files_and_shows_the_stage():
    with runlog.progress_bar(True):
        progress = runlog._BAR.bar
        with runlog.bar_task("cycles", 2) as cycles, runlog.bar_task("2025-H2 files", 3) as files:
            for _ in range(3):
                files.advance()
            cycles.describe("2025-H2 validate")
            shown = {t.description: t.completed for t in progress.tasks}
            assert shown == {"2025-H2 validate": 0, "2025-H2 files": 3}
        assert progress.tasks == []  # closed lines leave the display
    assert runlog._BAR.bar is None


def test_stage_line_counts_and_notes(lines):
    runlog.stage("2025-H2", "parse", 4.851, "note", files=64, from_cache=63)
    assert lines.getvalue().split() == ["2025-H2", "parse", "4.85", "s", "64", "files,", "63", "from", "cache,",
                                        "note"]


def test_failed_stage_names_every_file(lines):
    err = runlog.StageFailed("2025-H2", "parse", "OSError: x",
                             files=[("2025-H2/reports/a.txt", "OSError: [Errno 5] Input/output error"),
                                    ("2025-H2/submissions/b.xlsx", "PermissionError: denied")])
    err.seconds = 2.5
    runlog.stage_failed(err)
    out = lines.getvalue().splitlines()
    assert "parse" in out[0] and "2.50 s" in out[0] and "FAILED: 2 file(s)" in out[0]
    assert "file 2025-H2/reports/a.txt: OSError: [Errno 5] Input/output error" in out[1]
    assert "file 2025-H2/submissions/b.xlsx: PermissionError: denied" in out[2]
    assert str(err).startswith("2025-H2: stage parse failed on 2 file(s): 2025-H2/reports/a.txt (OSError")
    assert "warehouse is as it was" in err.hint


def test_failure_after_the_load_says_the_cycle_is_loaded():
    err = runlog.StageFailed("2025-H2", "report", RuntimeError("template missing"))
    assert str(err) == "2025-H2: stage report failed: RuntimeError: template missing"
    assert "cycle is loaded" in err.hint


def test_dask_address_needs_the_dask_runner_and_a_server(tmp_path, monkeypatch):
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    runner = CliRunner()
    res = runner.invoke(app, ["run", "--raw", str(tmp_path), "--warehouse", str(tmp_path / "wh"),
                              "--dask-address", "tcp://127.0.0.1:8786"])
    assert isinstance(res.exception, DiaphuongError) and "--task-runner dask" in str(res.exception)
    res = runner.invoke(app, ["run", "--raw", str(tmp_path), "--warehouse", str(tmp_path / "wh"),
                              "--task-runner", "dask", "--dask-address", "tcp://127.0.0.1:8786"])
    assert isinstance(res.exception, DiaphuongError) and "Prefect server" in str(res.exception)
    assert "PREFECT_API_URL" in res.exception.hint


def test_serve_refuses_without_a_server(tmp_path, monkeypatch):
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    res = CliRunner().invoke(app, ["serve", "--raw", str(tmp_path), "--warehouse", str(tmp_path / "wh")])
    assert isinstance(res.exception, DiaphuongError) and "prefect server start" in res.exception.hint


def test_unknown_task_runner_is_refused():
    from diaphuong_flows.reporting_cycle import reporting_cycle, with_task_runner

    assert with_task_runner("threads") is reporting_cycle
    with pytest.raises(DiaphuongError, match="unknown task runner"):
        with_task_runner("ray")
