"""Run logs: one readable line per stage (counts and time) to the console and to a file per run
under ``<warehouse>/logs/``; a progress bar for long CLI work when stderr is a terminal; and the
error that names the stage (and the files) where a run failed."""
from __future__ import annotations

import logging
import sys
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from diaphuong.errors import DiaphuongError

LOGGER = logging.getLogger("diaphuong")
_FMT = logging.Formatter("%(asctime)s %(levelname)-7s %(message)s", datefmt="%Y-%m-%d %H:%M:%S")


class StageFailed(DiaphuongError):
    """A stage of a cycle failed. ``files`` lists ``(path, error)`` for a per-file stage."""

    def __init__(self, cycle: str, stage: str, cause: BaseException | str, *,
                 files: list[tuple[str, str]] | None = None):
        self.cycle, self.stage, self.files = cycle, stage, list(files or [])
        self.seconds = 0.0  # how long the stage ran before it failed
        why = cause if isinstance(cause, str) else f"{type(cause).__name__}: {cause}"
        self.cause = why
        where = f"{cycle}: stage {stage} failed"
        if self.files:
            shown = "; ".join(f"{p} ({e})" for p, e in self.files[:5])
            more = f" and {len(self.files) - 5} more" if len(self.files) > 5 else ""
            msg = f"{where} on {len(self.files)} file(s): {shown}{more}"
        else:
            msg = f"{where}: {why}"
        super().__init__(msg, hint=f"{self.warehouse_state}; fix the cause and run again (files read "
                                   "before the failure come from the cache)")

    @property
    def warehouse_state(self) -> str:
        if self.stage == "export":
            return "the cycles are loaded in the warehouse; the Parquet export is not up to date (the next run writes it)"
        if self.stage == "report":
            return "the cycle is loaded in the warehouse, its report is not up to date"
        return "the warehouse is as it was before this cycle"


class _Stderr(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time (a live progress bar redirects it)."""

    _diaphuong_console = True

    def emit(self, record: logging.LogRecord) -> None:
        if self.stream is not sys.stderr:
            self.stream = sys.stderr  # not setStream: it flushes the old stream, maybe closed by now
        super().emit(record)


def console(level: int = logging.INFO) -> None:
    """Stage lines on stderr (idempotent)."""
    if not any(getattr(h, "_diaphuong_console", False) for h in LOGGER.handlers):
        h = _Stderr(sys.stderr)
        h.setFormatter(logging.Formatter("%(asctime)s %(message)s", datefmt="%H:%M:%S"))
        LOGGER.addHandler(h)
    LOGGER.setLevel(level)
    LOGGER.propagate = False


@contextmanager
def run_log(logs_dir: Path) -> Iterator[Path]:
    """Also write this run's lines to ``logs_dir/run-<UTC time>.log``."""
    logs_dir.mkdir(parents=True, exist_ok=True)
    path = logs_dir / f"run-{datetime.now(timezone.utc):%Y%m%dT%H%M%S%fZ}.log"
    h = logging.FileHandler(path, encoding="utf-8")
    h.setFormatter(_FMT)
    LOGGER.addHandler(h)
    if LOGGER.level == logging.NOTSET or LOGGER.level > logging.INFO:
        LOGGER.setLevel(logging.INFO)
    try:
        yield path
    finally:
        LOGGER.removeHandler(h)
        h.close()


def stage(cycle: str, name: str, seconds: float, *notes: str, **counts) -> None:
    """``2025-H2  parse  4.85 s  64 files, 63 from cache``: counts as ``files=64``, free text as
    positional notes."""
    what = ", ".join([f"{v} {k.replace('_', ' ')}" for k, v in counts.items()] + list(notes))
    LOGGER.info("%-8s %-13s %6.2f s  %s", cycle, name, seconds, what)


def stage_failed(err: StageFailed) -> None:
    """The console/log line of a failed stage: the stage, then each failed file."""
    LOGGER.error("%-8s %-13s %6.2f s  FAILED: %s", err.cycle, err.stage, err.seconds,
                 f"{len(err.files)} file(s)" if err.files else err.cause)
    for path, e in err.files:
        LOGGER.error("%-8s %-13s           file %s: %s", err.cycle, err.stage, path, e)


# ---------------------------------------------------------------- progress bar

class _Active:
    bar = None


_BAR = _Active()


@contextmanager
def progress_bar(enabled: bool | None = None) -> Iterator[None]:
    """While active, :func:`file_progress` drives a rich progress bar on stderr. ``enabled=None``
    means: only when stderr is a terminal (piped output and CI logs keep plain stage lines)."""
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        yield
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   TimeRemainingColumn(), console=Console(stderr=True), transient=True,
                   redirect_stdout=False, redirect_stderr=True)
    _BAR.bar = bar
    try:
        with bar:
            yield
    finally:
        _BAR.bar = None


class BarTask:
    """One line of the progress bar (a no-op when no bar is active)."""

    def __init__(self, label: str, total: int):
        self._bar = _BAR.bar
        self._id = self._bar.add_task(label, total=total) if self._bar is not None else None

    def advance(self, n: int = 1) -> None:
        if self._id is not None:
            self._bar.advance(self._id, n)

    def describe(self, label: str) -> None:
        if self._id is not None:
            self._bar.update(self._id, description=label)

    def close(self) -> None:
        if self._id is not None:
            self._bar.remove_task(self._id)
            self._id = None

    def __enter__(self) -> "BarTask":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def bar_task(label: str, total: int) -> BarTask:
    """A line of ``total`` steps on the active progress bar, if any (use as a context manager)."""
    return BarTask(label, total)
