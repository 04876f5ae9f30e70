from datetime import date

import pytest

from diaphuong.errors import PeriodError
from diaphuong.periods import parse_period


@pytest.mark.parametrize("code,start,end,kind,req", [
    ("2026-10", date(2026, 10, 1), date(2026, 10, 31), "month", "month"),
    ("2025-Q3", date(2025, 7, 1), date(2025, 9, 30), "quarter", "quarter"),
    ("2018-H1", date(2018, 1, 1), date(2018, 6, 30), "half", "half"),
    ("2025-H2", date(2025, 7, 1), date(2025, 12, 31), "half", "half"),
    ("2024-9M", date(2024, 1, 1), date(2024, 9, 30), "ytd", "nine_months"),
    ("2024-10M", date(2024, 1, 1), date(2024, 10, 31), "ytd", "month"),
    ("2025", date(2025, 1, 1), date(2025, 12, 31), "year", "year"),
    ("2024-02", date(2024, 2, 1), date(2024, 2, 29), "month", "month"),
])
def test_parse(code, start, end, kind, req):
    p = parse_period(code)
    assert (p.start, p.end, p.kind, p.requirement_kind, p.code) == (start, end, kind, req, code)


def test_6m_is_h1_and_12m_is_the_year():
    assert parse_period("2024-6M") == parse_period("2024-H1")
    assert parse_period("2024-12M").code == "2024"


def test_province_set_switches_on_2025_07_01():
    assert parse_period("2025-06").province_set == "2008"
    assert parse_period("2025-H1").province_set == "2008"
    assert parse_period("2025-07").province_set == "2025"
    assert parse_period("2025").province_set == "2025"


def test_labels_in_vietnamese():
    assert parse_period("2026-H1").label_vi == "6 tháng đầu năm 2026"
    assert parse_period("2025-Q3").label_vi == "Quý III năm 2025"
    assert parse_period("2024-9M").label_vi == "9 tháng năm 2024"


@pytest.mark.parametrize("bad", ["2025-Q5", "2025-13", "25-H1", "2025-H3", "2025-0M", "", "2025-q"])
def test_bad_codes_raise_with_a_hint(bad):
    with pytest.raises(PeriodError) as e:
        parse_period(bad)
    assert "YYYY-Qn" in e.value.hint
