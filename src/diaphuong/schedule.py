"""Which cycles a scheduled run processes: the cycle of a kind that has just fallen due, and the
earlier cycles of that kind still open for late arrivals."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from diaphuong.calendar import cycle_calendar
from diaphuong.errors import DiaphuongError
from diaphuong.periods import is_period, parse_period

KINDS = ("month", "quarter", "half", "nine_months", "year")


@dataclass(frozen=True)
class ScheduleSpec:
    kind: str
    cron: str          # in Asia/Ho_Chi_Minh
    description: str


# Declared once; flows/deployments.py builds the Prefect deployments from this list and the
# README's operations section shows it. Each fires the day after the usual deadline (the 20th of
# the period's last month), early in the morning, and again a week later for late arrivals.
SCHEDULES = (
    ScheduleSpec("month", "0 6 21,28 * *", "monthly cycle: the day after the deadline and a week later"),
    ScheduleSpec("quarter", "0 6 21,28 3,6,9,12 *", "quarterly cycle (Q1-Q4)"),
    ScheduleSpec("half", "0 6 21,28 6,12 *", "6-month cycles (H1, H2)"),
    ScheduleSpec("nine_months", "0 6 21,28 9 *", "9-month cumulative cycle"),
    ScheduleSpec("year", "0 6 21,28 12 *", "yearly cycle"),
)


def cycles_of_kind(kind: str, year: int) -> list[str]:
    if kind == "month":
        return [f"{year}-{m:02d}" for m in range(1, 13)]
    if kind == "quarter":
        return [f"{year}-Q{q}" for q in range(1, 5)]
    if kind == "half":
        return [f"{year}-H1", f"{year}-H2"]
    if kind == "nine_months":
        return [f"{year}-9M"]
    if kind == "year":
        return [f"{year}"]
    raise DiaphuongError(f"unknown cycle kind {kind!r}", hint="one of " + ", ".join(KINDS))


def cycles_due(kind: str, today: date, raw_dir: Path | None = None, *, open_days: int = 120) -> list[str]:
    """The latest cycle of ``kind`` whose deadline is on or before ``today``, then the earlier
    cycles of that kind whose deadline passed less than ``open_days`` ago and that have a folder in
    the raw tree (re-checked for late arrivals). Oldest first."""
    candidates = [c for y in (today.year - 1, today.year) for c in cycles_of_kind(kind, y)]
    passed = [c for c in candidates if cycle_calendar(c).deadline <= today]
    if not passed:
        return []
    due = passed[-1]
    out = [due]
    if raw_dir is not None and raw_dir.is_dir():
        present = {p.name for p in raw_dir.iterdir() if p.is_dir() and is_period(p.name)}
        for c in passed[:-1]:
            if c in present and today - cycle_calendar(c).deadline < timedelta(days=open_days):
                out.insert(-1, c)
        out = [c for c in out if c in present]
    return sorted(out, key=lambda c: parse_period(c).end)
