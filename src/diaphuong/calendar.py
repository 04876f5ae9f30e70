"""The reporting calendar: each cycle's period, data cut-off and deadline, and lateness.

Rules live in ``catalog/data/calendar.yaml`` (default: cut-off on the 14th and deadline on the
20th of the period's last month, Decree 09/2019/NĐ-CP arts. 12-13; see the comments there). A
deadline on a weekend or a Vietnamese public holiday moves to the next working day, using the
``holidays`` package (Tết, substituted days off, and make-up Saturdays that are working days).

Lateness is measured in Asia/Ho_Chi_Minh time: a file is on time when it arrives by the end of
the deadline day. :func:`days_late` counts calendar days after that, :func:`working_days_late`
counts working days (weekends and public holidays excluded).
"""
from __future__ import annotations

import calendar as _cal
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays
import pandas as pd
import yaml

from diaphuong.errors import CatalogError
from diaphuong.periods import parse_period

CALENDAR_FILE = Path(__file__).parent / "catalog" / "data" / "calendar.yaml"
VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")

_RULE_KEYS = {"cutoff_day", "deadline_day", "deadline_month_offset", "move_to_next_working_day"}


@dataclass(frozen=True)
class CycleCalendar:
    cycle: str              # DESIGN.md notation, normalised ("2024-6M" -> "2024-H1")
    cycle_kind: str         # requirement kind: month, quarter, half, nine_months, year
    period_start: date
    period_end: date
    cutoff: date            # last day of data
    deadline: date          # last day a submission is on time (after moving off non-working days)
    province_set: str       # '2008' (63 units) or '2025' (34 units): the set valid on period_end
    nominal_deadline: date | None = None  # the deadline before moving it (None: same as deadline)
    note: str | None = None  # why the deadline moved, or the override's note

    @property
    def moved(self) -> bool:
        return self.nominal_deadline is not None and self.nominal_deadline != self.deadline

    def as_row(self) -> dict:
        """A row of the warehouse ``cycle`` table (without expected_reports and run_id)."""
        return {"cycle": self.cycle, "cycle_kind": self.cycle_kind, "period_start": self.period_start,
                "period_end": self.period_end, "cutoff": self.cutoff, "deadline": self.deadline,
                "province_set": self.province_set}


@lru_cache(maxsize=4)
def _load(path: str) -> dict:
    p = Path(path)
    if not p.exists():
        raise CatalogError(f"calendar file missing: {p}")
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as e:
        raise CatalogError(f"{p}: not valid YAML: {e}") from None
    default = dict(raw.get("default") or {})
    missing = _RULE_KEYS - set(default)
    if missing:
        raise CatalogError(f"{p}: default rule lacks {sorted(missing)}")
    kinds = raw.get("kinds") or {}
    cycles = {}
    for key, rule in (raw.get("cycles") or {}).items():
        try:
            code = parse_period(str(key)).code
        except Exception:
            raise CatalogError(f"{p}: cycles: {key!r} is not a cycle (use YYYY-MM, YYYY-Qn, YYYY-H1, ...)") from None
        cycles[code] = dict(rule or {})
    for where, rules in (("kinds", kinds), ("cycles", cycles)):
        for k, rule in rules.items():
            unknown = set(rule) - _RULE_KEYS - {"cutoff", "deadline", "note"}
            if unknown:
                raise CatalogError(f"{p}: {where}.{k}: unknown keys {sorted(unknown)}")
    return {"default": default, "kinds": kinds, "cycles": cycles,
            "timezone": raw.get("timezone", "Asia/Ho_Chi_Minh"), "country": raw.get("holidays_country", "VN")}


@lru_cache(maxsize=64)
def _vn_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("VN", years=range(year - 1, year + 2))


def is_working_day(d: date) -> bool:
    """Not a Saturday/Sunday (unless a make-up working Saturday) and not a VN public holiday."""
    return _vn_holidays(d.year).is_working_day(d)


def holiday_name(d: date) -> str | None:
    return _vn_holidays(d.year).get(d)


def next_working_day(d: date) -> date:
    """``d`` itself when it is a working day, else the first working day after it."""
    while not is_working_day(d):
        d += timedelta(days=1)
    return d


def add_working_days(d: date, n: int) -> date:
    """The n-th working day after ``d`` (n >= 0; n = 0 gives next_working_day(d))."""
    d = next_working_day(d)
    for _ in range(n):
        d = next_working_day(d + timedelta(days=1))
    return d


def _day_in_month(year: int, month: int, day: int) -> date:
    return date(year, month, min(day, _cal.monthrange(year, month)[1]))


def _parse_date(v, where: str) -> date:
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    try:
        return date.fromisoformat(str(v))
    except ValueError:
        raise CatalogError(f"calendar.yaml: {where}: not a date {v!r} (use YYYY-MM-DD)") from None


def cycle_calendar(cycle: str, *, path: Path | None = None) -> CycleCalendar:
    """Period, cut-off and deadline of ``cycle`` under the rules of ``calendar.yaml``."""
    p = parse_period(cycle)
    cfg = _load(str(path or CALENDAR_FILE))
    rule = dict(cfg["default"])
    rule.update(cfg["kinds"].get(p.requirement_kind) or {})
    over = cfg["cycles"].get(p.code) or {}
    rule.update({k: v for k, v in over.items() if k in _RULE_KEYS})
    last_year, last_month = p.end.year, p.end.month
    if "cutoff" in over:
        cutoff = _parse_date(over["cutoff"], f"cycles.{p.code}.cutoff")
    else:
        cutoff = _day_in_month(last_year, last_month, int(rule["cutoff_day"]))
    if "deadline" in over:
        nominal = _parse_date(over["deadline"], f"cycles.{p.code}.deadline")
    else:
        m = last_month - 1 + int(rule["deadline_month_offset"])
        nominal = _day_in_month(last_year + m // 12, m % 12 + 1, int(rule["deadline_day"]))
    deadline = next_working_day(nominal) if rule["move_to_next_working_day"] else nominal
    note = over.get("note")
    if deadline != nominal:
        why = holiday_name(nominal) or ("Saturday" if nominal.weekday() == 5 else "Sunday")
        moved = f"deadline {nominal.isoformat()} ({why}) moved to the next working day {deadline.isoformat()}"
        note = f"{note}; {moved}" if note else moved
    return CycleCalendar(
        cycle=p.code, cycle_kind=p.requirement_kind, period_start=p.start, period_end=p.end,
        cutoff=cutoff, deadline=deadline, province_set=p.province_set, nominal_deadline=nominal, note=note,
    )


def cycle_table(cycles, expected: dict[str, int] | None = None) -> pd.DataFrame:
    """Rows of the warehouse ``cycle`` table for ``cycles`` (expected_reports from ``expected``
    when given, else the number of units valid on each period's last day)."""
    from diaphuong.catalog.provinces import provinces_on

    rows = []
    for c in cycles:
        cal = cycle_calendar(c)
        row = cal.as_row()
        row["expected_reports"] = (expected or {}).get(cal.cycle, len(provinces_on(cal.period_end)))
        rows.append(row)
    return pd.DataFrame(rows)


def to_local(received_at) -> datetime:
    """A receipt time in Asia/Ho_Chi_Minh. A naive time is taken to be Vietnamese local time."""
    if received_at is None or (not isinstance(received_at, datetime) and pd.isna(received_at)):
        raise ValueError("receipt time is missing")
    ts = pd.Timestamp(received_at)
    if ts.tzinfo is None:
        ts = ts.tz_localize(VN_TZ)
    return ts.tz_convert(VN_TZ).to_pydatetime()


def is_on_time(received_at, deadline: date) -> bool:
    return to_local(received_at).date() <= deadline


def days_late(received_at, deadline: date) -> int:
    """Calendar days after the end of the deadline day (Asia/Ho_Chi_Minh); 0 when on time.

    Received 2025-12-23 00:30 +07:00 against a 2025-12-22 deadline: 1 day late."""
    return max(0, (to_local(received_at).date() - deadline).days)


def working_days_late(received_at, deadline: date) -> int:
    """Working days d with deadline < d <= the local receipt date (weekends and VN public
    holidays excluded; make-up working Saturdays included); 0 when on time.

    A file sent on the Saturday after a Friday deadline is 1 calendar day but 0 working days
    late; the same file on Monday is 3 calendar days and 1 working day late."""
    local = to_local(received_at).date()
    if local <= deadline:
        return 0
    n = 0
    d = deadline + timedelta(days=1)
    while d <= local:
        n += is_working_day(d)
        d += timedelta(days=1)
    return n
