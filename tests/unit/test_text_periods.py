import unicodedata

import pytest

from diaphuong.periods import parse_period
from diaphuong.text.periods_vi import fill_year, find_periods, parse_period_vi


@pytest.mark.parametrize(
    "text, code",
    [
        ("6 tháng đầu năm 2026", "2026-H1"),
        ("Sáu tháng đầu năm 2026", "2026-H1"),
        ("6 tháng cuối năm 2025", "2025-H2"),
        ("nửa đầu năm 2025", "2025-H1"),
        ("quý III năm 2025", "2025-Q3"),
        ("quý III/2025", "2025-Q3"),
        ("Quý 3-2025", "2025-Q3"),
        ("QUÝ IV NĂM 2025", "2025-Q4"),
        ("quý I 2024", "2024-Q1"),
        ("tháng 10 năm 2024", "2024-10"),
        ("tháng 10/2024", "2024-10"),
        ("Tháng 01 năm 2025", "2025-01"),
        ("9 tháng năm 2024", "2024-9M"),
        ("9 tháng đầu năm 2024", "2024-9M"),
        ("11 tháng năm 2023", "2023-11M"),
        ("3 tháng đầu năm 2024", "2024-Q1"),
        ("12 tháng năm 2024", "2024"),
        ("cả năm 2023", "2023"),
        ("năm 2023", "2023"),
        ("Kỳ báo cáo: 6 tháng đầu năm 2026", "2026-H1"),
    ],
)
def test_parse_period_vi(text, code):
    assert parse_period_vi(text) == code
    assert parse_period(code).code == code  # valid DESIGN.md notation


@pytest.mark.parametrize(
    "text, code",
    [
        ("tính chung 9 tháng", "2024-9M"),
        ("10 tháng", "2024-10M"),
        ("6 tháng", "2024-H1"),
        ("cả năm", "2024"),
        ("quý II", "2024-Q2"),
        ("ước tính tháng 10 năm nay", "2024-10"),
        ("tháng 12 năm trước", "2023-12"),
    ],
)
def test_default_year(text, code):
    assert parse_period_vi(text, default_year=2024) == code
    assert parse_period_vi(text) is None  # no year stated, none given


@pytest.mark.parametrize(
    "text",
    [
        "thuy san",  # unaccented, no period
        "Tổng thu ngân sách tăng 17,7%",
        "ngày 15 tháng 10 năm 2024",  # a date, not a period
        "Báo cáo ngày 9 tháng 10/2024",
        "Hà Nội, 20/10/2024",
        "tăng 3 tháng liên tiếp",
        "tỉnh Quảng Nam 2024",  # 'Nam' is not 'năm'
        "quy hoạch vùng",
        "giai đoạn năm 2021-2025",
        "",
    ],
)
def test_not_periods(text):
    assert parse_period_vi(text, default_year=2024) is None


def test_diacritic_insensitive_and_both_tone_placements():
    assert parse_period_vi("6 thang dau nam 2026") == "2026-H1"
    assert parse_period_vi("QUY III NAM 2025") == "2025-Q3"
    nfd = unicodedata.normalize("NFD", "6 tháng cuối năm 2025")
    assert parse_period_vi(nfd) == "2025-H2"
    assert parse_period_vi("quí III năm 2025") == "2025-Q3"  # older spelling


def test_find_periods_spans():
    text = ("Tổng thu ngân sách 9 tháng năm 2024 ước đạt 3.370 tỷ đồng; riêng tháng 9 đạt 400 tỷ "
            "đồng, quý III tăng 5%. Kế hoạch năm 2025 là 4.800 tỷ đồng.")
    found = find_periods(text)
    assert [(text[s:e], c) for s, e, c in found] == [
        ("9 tháng năm 2024", "2024-9M"),
        ("tháng 9", "YYYY-09"),
        ("quý III", "YYYY-Q3"),
        ("năm 2025", "2025"),
    ]


def test_find_periods_spans_on_decomposed_text():
    text = unicodedata.normalize("NFD", "Báo cáo quý III/2025 của tỉnh")
    [(s, e, code)] = find_periods(text)
    assert code == "2025-Q3"
    assert unicodedata.normalize("NFC", text[s:e]) == "quý III/2025"


def test_fill_year():
    assert fill_year("YYYY-9M", 2024) == "2024-9M"
    assert fill_year("PREV-12", 2024) == "2023-12"
    assert fill_year("2025-Q3", 2024) == "2025-Q3"


@pytest.mark.parametrize(
    "text, code",
    [
        ("Trong quý I, kim ngạch xuất khẩu đạt 305 triệu USD", "2024-Q1"),  # Roman numeral + comma
        ("tăng 6,9% trong quý II.", "2024-Q2"),  # ... + full stop
        ("quý III; quý IV", "2024-Q3"),
        ("Đến hết tháng 11, tổng lượt khách", "2024-11M"),
        ("tính đến tháng 10 ước đạt", "2024-10M"),
        ("Tính đến hết tháng 10/2024", "2024-10M"),
        ("tính đến cuối tháng 9", "2024-9M"),
        ("lũy kế đến hết tháng 6", "2024-H1"),
        ("từ đầu năm đến hết tháng 3", "2024-Q1"),
        ("hết tháng 12", "2024"),
        ("đến hết quý III", "2024-9M"),
        ("trong tháng 5.2019 tổng lượt khách", "2019-05"),
        ("CPI tháng Chín tăng 0,3%", "2024-09"),
        ("tháng Mười Một năm 2023", "2023-11"),
        ("THÁNG CHÍN NĂM 2019", "2019-09"),
        ("tháng Giêng", "2024-01"),
    ],
)
def test_punctuation_cumulative_phrases_and_month_names(text, code):
    assert parse_period_vi(text, default_year=2024) == code


@pytest.mark.parametrize("text", ["tháng năm nay", "vào tháng tư", "quý I.2025x"])
def test_month_words_in_lower_case_are_not_months(text):
    assert parse_period_vi(text, default_year=2024) is None


def test_through_phrase_span_covers_the_whole_phrase():
    text = "Tính đến hết tháng 10/2024, vốn đầu tư công giải ngân đạt 3.910 tỷ đồng."
    [(s, e, code)] = find_periods(text)
    assert (text[s:e], code) == ("Tính đến hết tháng 10/2024", "2024-10M")
