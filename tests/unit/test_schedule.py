"""Schedules: which cycles a scheduled run processes, and the deployments built from SCHEDULES."""
from datetime import date

import pytest

from diaphuong.calendar import cycle_calendar
from diaphuong.errors import DiaphuongError
from diaphuong.schedule import KINDS, SCHEDULES, cycles_due, cycles_of_kind


def test_one_schedule_per_cycle_kind_after_the_deadline():
    assert sorted(s.kind for s in SCHEDULES) == sorted(KINDS)
    for s in SCHEDULES:
        minute, hour, days, months, dow = s.cron.split()
        assert dow == "*" and all(int(d) > 20 for d in days.split(","))  # after the usual 20th deadline
        if months != "*":
            ends = {cycle_calendar(c).deadline.month for c in cycles_of_kind(s.kind, 2025)}
            assert {int(m) for m in months.split(",")} == ends


@pytest.mark.parametrize("kind, today, due", [
    ("month", date(2025, 12, 28), ["2025-12"]),
    ("month", date(2026, 1, 5), ["2025-12"]),        # across the new year
    ("month", date(2026, 1, 21), ["2026-01"]),
    ("quarter", date(2025, 12, 28), ["2025-Q4"]),
    ("quarter", date(2026, 2, 1), ["2025-Q4"]),
    ("half", date(2025, 6, 28), ["2025-H1"]),
    ("nine_months", date(2025, 9, 28), ["2025-9M"]),
    ("year", date(2025, 12, 28), ["2025"]),
    ("year", date(2025, 3, 1), ["2024"]),
])
def test_the_cycle_that_fell_due(kind, today, due):
    assert cycles_due(kind, today) == due


def test_a_deadline_moved_past_the_weekend_is_not_due_yet():
    dl = cycle_calendar("2025-H2").deadline
    assert dl > date(2025, 12, 21)  # the 20th was a Saturday
    assert cycles_due("half", date(2025, 12, 21)) == ["2025-H1"]
    assert cycles_due("half", dl) == ["2025-H2"]


def test_earlier_open_cycles_present_in_the_raw_tree_are_rechecked(tmp_path):
    for c in ("2025-06", "2025-10", "2025-11", "2025-12", "notes"):
        (tmp_path / c).mkdir()
    # 2025-06 closed more than 120 days ago; 2025-09 has no folder; oldest first
    assert cycles_due("month", date(2025, 12, 28), tmp_path) == ["2025-10", "2025-11", "2025-12"]
    assert cycles_due("month", date(2025, 12, 28), tmp_path, open_days=45) == ["2025-11", "2025-12"]


def test_a_due_cycle_without_a_folder_is_not_run(tmp_path):
    (tmp_path / "2025-11").mkdir()
    assert cycles_due("month", date(2025, 12, 28), tmp_path) == ["2025-11"]
    assert cycles_due("quarter", date(2025, 12, 28), tmp_path) == []


def test_unknown_kind():
    with pytest.raises(DiaphuongError, match="unknown cycle kind"):
        cycles_due("week", date(2025, 12, 28))


def test_deployments_are_built_from_the_schedules():
    from diaphuong_flows.deployments import TIMEZONE, build_deployments

    deps = build_deployments("/data/raw", "/data/warehouse")
    assert [d.name for d in deps] == [s.kind for s in SCHEDULES]
    for d, s in zip(deps, SCHEDULES):
        assert d.parameters == {"kind": s.kind, "raw_dir": "/data/raw", "warehouse_dir": "/data/warehouse"}
        (sched,) = d.schedules
        assert (sched.schedule.cron, sched.schedule.timezone) == (s.cron, TIMEZONE)
        assert d.description == s.description and "diaphuong" in d.tags
