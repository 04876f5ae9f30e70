"""Run logs: one readable line per stage (counts and time) to the console and to a file per run
under ``<warehouse>/logs/``."""
from __future__ import annotations

import logging
import sys
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Iterator

LOGGER = logging.getLogger("diaphuong")
_FMT = logging.Formatter("%(asctime)s %(levelname)-7s %(message)s", datefmt="%Y-%m-%d %H:%M:%S")


def console(level: int = logging.INFO) -> None:
    """Stage lines on stderr (idempotent)."""
    if not any(getattr(h, "_diaphuong_console", False) for h in LOGGER.handlers):
        h = logging.StreamHandler(sys.stderr)
        h.setFormatter(logging.Formatter("%(asctime)s %(message)s", datefmt="%H:%M:%S"))
        h._diaphuong_console = True  # type: ignore[attr-defined]
        LOGGER.addHandler(h)
    LOGGER.setLevel(level)
    LOGGER.propagate = False


@contextmanager
def run_log(logs_dir: Path) -> Iterator[Path]:
    """Also write this run's lines to ``logs_dir/run-<UTC time>.log``."""
    logs_dir.mkdir(parents=True, exist_ok=True)
    path = logs_dir / f"run-{datetime.utcnow():%Y%m%dT%H%M%S%fZ}.log"
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


def stage(cycle: str, name: str, seconds: float, **counts) -> None:
    what = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in counts.items())
    LOGGER.info("%-8s %-13s %6.2f s  %s", cycle, name, seconds, what)
