"""The reporting calendar: cut-off and deadline rules, moves off weekends and Vietnamese holidays,
and lateness in calendar and working days. Expected values computed by hand from a calendar."""
from datetime import date, datetime, timedelta, timezone

import pytest

from diaphuong.calendar import (
    VN_TZ, add_working_days, cycle_calendar, cycle_table, days_late, is_on_time, is_working_day,
    next_working_day, working_days_late,
)
from diaphuong.errors import CatalogError

VN = timezone(timedelta(hours=7))


def test_default_rule_half_year_deadline_on_saturday_moves_to_monday():
    cal = cycle_calendar("2025-H2")
    assert cal.cycle == "2025-H2"
    assert cal.cycle_kind == "half"
    assert (cal.period_start, cal.period_end) == (date(2025, 7, 1), date(2025, 12, 31))
    assert cal.cutoff == date(2025, 12, 14)
    assert cal.nominal_deadline == date(2025, 12, 20)          # a Saturday
    assert date(2025, 12, 20).weekday() == 5
    assert cal.deadline == date(2025, 12, 22)                  # Monday
    assert cal.moved and "Saturday" in cal.note
    assert cal.province_set == "2025"


def test_deadline_in_tet_moves_past_the_holiday():
    cal = cycle_calendar("2026-02")
    assert cal.nominal_deadline == date(2026, 2, 20)           # Friday, 4th day of Tết Bính Ngọ
    assert cal.deadline == date(2026, 2, 23)                   # Monday after Tết
    assert "Lunar New Year" in cal.note
    # 2018: the 20th of February was the 5th day of Tết (a Tuesday)
    assert cycle_calendar("2018-02").deadline == date(2018, 2, 21)


def test_deadline_on_a_working_day_stays():
    cal = cycle_calendar("2018-H1")
    assert cal.deadline == date(2018, 6, 20) == cal.nominal_deadline   # Wednesday
    assert not cal.moved and cal.note is None
    assert cal.cutoff == date(2018, 6, 14)
    assert cal.province_set == "2008"


def test_cycle_kinds_and_sets_across_the_2025_switch():
    assert cycle_calendar("2025-06").province_set == "2008"
    jul = cycle_calendar("2025-07")
    assert jul.province_set == "2025"
    assert jul.nominal_deadline == date(2025, 7, 20) and jul.deadline == date(2025, 7, 21)  # Sunday -> Monday
    nine = cycle_calendar("2024-9M")
    assert (nine.cycle_kind, nine.cutoff, nine.deadline) == ("nine_months", date(2024, 9, 14), date(2024, 9, 20))
    assert cycle_calendar("2024-6M") == cycle_calendar("2024-H1")
    assert cycle_calendar("2025").cycle_kind == "year"
    assert cycle_calendar("2025-Q3").deadline == date(2025, 9, 22)   # 20/9/2025 is a Saturday


def test_working_days_know_holidays_and_make_up_saturdays():
    assert not is_working_day(date(2025, 12, 20))      # Saturday
    assert not is_working_day(date(2025, 9, 2))        # National Day
    assert is_working_day(date(2025, 4, 26))           # Saturday worked to make up for 2 May 2025
    assert not is_working_day(date(2025, 5, 2))        # the day off it bought
    assert next_working_day(date(2025, 4, 30)) == date(2025, 5, 5)
    assert add_working_days(date(2025, 12, 22), 5) == date(2025, 12, 29)


def test_overrides_per_kind_and_cycle(tmp_path):
    p = tmp_path / "calendar.yaml"
    p.write_text(
        "default: {cutoff_day: 14, deadline_day: 20, deadline_month_offset: 0, move_to_next_working_day: true}\n"
        "kinds:\n  year: {deadline_day: 10, deadline_month_offset: 1}\n"
        "cycles:\n"
        "  '2024-6M': {deadline: 2024-06-22, note: extended by the director}\n"
        "  2024-Q3: {deadline: 2024-09-21, move_to_next_working_day: false, cutoff: 2024-09-10}\n",
        encoding="utf-8")
    y = cycle_calendar("2024", path=p)
    assert y.deadline == date(2025, 1, 10)               # Friday of the following January
    h1 = cycle_calendar("2024-H1", path=p)                # '2024-6M' is the same cycle
    assert h1.nominal_deadline == date(2024, 6, 22)       # a Saturday ...
    assert h1.deadline == date(2024, 6, 24)               # ... moved to Monday
    assert h1.note.startswith("extended by the director")
    q3 = cycle_calendar("2024-Q3", path=p)
    assert (q3.cutoff, q3.deadline) == (date(2024, 9, 10), date(2024, 9, 21))   # kept on the Saturday
    bad = tmp_path / "bad.yaml"
    bad.write_text("default: {cutoff_day: 14, deadline_day: 20, deadline_month_offset: 0, "
                   "move_to_next_working_day: true}\ncycles: {2024-Q3: {dealine: 2024-09-21}}\n", encoding="utf-8")
    with pytest.raises(CatalogError, match="dealine"):
        cycle_calendar("2024-Q3", path=bad)


def test_days_late_in_ho_chi_minh_time():
    dl = date(2025, 12, 22)
    assert days_late(datetime(2025, 12, 22, 23, 59, 59, tzinfo=VN), dl) == 0
    assert days_late(datetime(2025, 12, 23, 0, 0, 1, tzinfo=VN), dl) == 1
    # 17:30 UTC on the 22nd is 00:30 on the 23rd in Hanoi: one day late
    assert days_late(datetime(2025, 12, 22, 17, 30, tzinfo=timezone.utc), dl) == 1
    assert days_late("2025-12-22T16:59:00+00:00", dl) == 0
    # a naive time is Vietnamese local time
    assert days_late(datetime(2025, 12, 22, 23, 0), dl) == 0
    assert days_late(datetime(2025, 12, 10, 8, 0, tzinfo=VN_TZ), dl) == 0    # early is not negative
    assert is_on_time("2025-12-22T23:30:00+07:00", dl) and not is_on_time("2025-12-23T07:00:00+07:00", dl)


def test_working_days_late():
    # Monday deadline, received the next Monday: 7 calendar days, 5 working days (Tue..Fri, Mon)
    assert days_late("2025-12-29T09:00:00+07:00", date(2025, 12, 22)) == 7
    assert working_days_late("2025-12-29T09:00:00+07:00", date(2025, 12, 22)) == 5
    # Friday deadline, received Saturday: 1 calendar day, 0 working days
    assert days_late("2025-12-20T10:00:00+07:00", date(2025, 12, 19)) == 1
    assert working_days_late("2025-12-20T10:00:00+07:00", date(2025, 12, 19)) == 0
    # across Tết 2026 (16-20 Feb): deadline Fri 13 Feb, received Tue 24 Feb: 11 days, 2 working days
    assert days_late("2026-02-24T09:00:00+07:00", date(2026, 2, 13)) == 11
    assert working_days_late("2026-02-24T09:00:00+07:00", date(2026, 2, 13)) == 2
    # make-up Saturday 26/4/2025 counts; 30/4, 1/5 and the bought 2/5 do not: Sat 26, Mon 28, Tue 29, Mon 5
    assert working_days_late("2025-05-05T09:00:00+07:00", date(2025, 4, 25)) == 4
    assert days_late("2025-05-05T09:00:00+07:00", date(2025, 4, 25)) == 10
    assert working_days_late("2025-12-22T12:00:00+07:00", date(2025, 12, 22)) == 0


def test_cycle_table_rows():
    t = cycle_table(["2025-06", "2025-07"])
    assert list(t["expected_reports"]) == [63, 34]
    assert list(t["deadline"]) == [date(2025, 6, 20), date(2025, 7, 21)]
    assert list(t["province_set"]) == ["2008", "2025"]
