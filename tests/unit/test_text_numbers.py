import math

import pytest

from diaphuong.errors import DiaphuongError
from diaphuong.text.numbers import (
    SCALE_WORDS,
    NumberFormatError,
    ParsedNumber,
    apply_scale,
    detect_convention,
    parse_number,
)


@pytest.mark.parametrize(
    "text, value, convention",
    [
        ("29.232,75", 29232.75, "vi"),
        ("1,5", 1.5, "vi"),
        ("12,5%", 12.5, "vi"),
        ("12,5 %", 12.5, "vi"),
        ("-5,2", -5.2, "vi"),
        ("\u22125,2", -5.2, "vi"),
        ("+3,4", 3.4, "vi"),
        ("1 234", 1234.0, None),
        ("1\u00a0234,5", 1234.5, "vi"),
        ("1\u202f234\u00a0567", 1234567.0, None),
        ("1,234.5", 1234.5, "en"),
        ("1,234,567", 1234567.0, "en"),
        ("1.234.567", 1234567.0, "vi"),
        ("1.234.567,89", 1234567.89, "vi"),
        ("0,123", 0.123, "vi"),
        ("1.2345", 1.2345, "en"),
        ("12.75", 12.75, "en"),
        ("2024", 2024.0, None),
        ("  42  ", 42.0, None),
    ],
)
def test_unambiguous_numbers(text, value, convention):
    p = parse_number(text)
    assert p.value == pytest.approx(value)
    assert p.convention == convention
    assert p.ambiguous is False
    assert p.symbol is None and p.qualifier is None


def test_ambiguous_default_is_vietnamese():
    p = parse_number("3.370")
    assert p == ParsedNumber(3370.0, None, True, "vi", None)
    assert parse_number("1,234").value == pytest.approx(1.234)
    assert parse_number("1,234").ambiguous


def test_ambiguous_follows_given_convention():
    assert parse_number("1.234", convention="en").value == pytest.approx(1.234)
    assert parse_number("1,234", convention="en").value == 1234.0
    assert parse_number("1.234", convention="vi").value == 1234.0
    # a shape that reads one way only ignores the convention
    assert parse_number("29.232,75", convention="en").value == pytest.approx(29232.75)


@pytest.mark.parametrize("text", ["1.234*", "1.234 (1)", "1.234¹", "1.234 (*)", "1.234**",
                                  "1.234 [2]", "1.234²³"])
def test_footnote_marks_are_stripped(text):
    assert parse_number(text).value == 1234.0


@pytest.mark.parametrize(
    "text, qualifier, value",
    [
        ("hơn 1.200", "hơn", 1200.0),
        ("Hơn 1.200", "hơn", 1200.0),
        ("gần 50", "gần", 50.0),
        ("khoảng 2,5", "khoảng", 2.5),
        ("trên 90%", "trên", 90.0),
        ("dưới 3,5%", "dưới", 3.5),
        ("xấp xỉ 7", "xấp xỉ", 7.0),
        ("trên dưới 1.000", "trên dưới", 1000.0),
        ("khoa\u0309ng 4", "khoảng", 4.0),  # decomposed input
    ],
)
def test_qualifiers_are_kept(text, qualifier, value):
    p = parse_number(text)
    assert p.qualifier == qualifier
    assert p.value == value


@pytest.mark.parametrize("text, symbol", [("-", "-"), ("..", ".."), ("...", "..."),
                                          ("…", "..."), ("x", "x"), ("X", "x"), (" - ", "-")])
def test_table_symbols(text, symbol):
    p = parse_number(text)
    assert math.isnan(p.value)
    assert p.symbol == symbol and p.is_symbol


@pytest.mark.parametrize("text", ["abc", "1.23.4", "1,2,3", "", "  ", "1.234 tỷ", "(1)",
                                  "ước 1.200", "12,5,", "1..2"])
def test_errors_name_the_text(text):
    with pytest.raises(NumberFormatError) as ei:
        parse_number(text)
    assert repr(text) in str(ei.value)
    assert isinstance(ei.value, DiaphuongError)


def test_bad_convention():
    with pytest.raises(ValueError):
        parse_number("1", convention="fr")


def test_detect_convention():
    assert detect_convention(["1.234,5"]) == "vi"
    assert detect_convention(["1,234.5"]) == "en"
    assert detect_convention(["12,5"]) == "vi"
    assert detect_convention(["12.75"]) == "en"
    assert detect_convention(["3.370", "1,234", "2025"]) is None
    assert detect_convention([]) is None
    sentence = "Tổng thu ước đạt 3.370 tỷ đồng, tăng 17,7% so với cùng kỳ; chi 1.234.567 triệu."
    assert detect_convention([sentence]) == "vi"
    assert detect_convention(["Revenue rose 17.7% to 3,370.5 billion"]) == "en"


def test_scale_words():
    assert apply_scale(1.5, "triệu") == (1_500_000.0, "mn")
    assert apply_scale(2, "tỷ") == (2e9, "bn")
    assert apply_scale(2, "tỉ") == (2e9, "bn")
    assert apply_scale(3, "nghìn") == (3000.0, "th")
    assert apply_scale(3, "ngàn") == (3000.0, "th")
    assert apply_scale(1, "nghìn  tỷ") == (1e12, "tn")
    assert apply_scale(5, None) == (5, None)
    assert set(SCALE_WORDS) >= {"nghìn", "ngàn", "triệu", "tỷ", "tỉ"}
    with pytest.raises(NumberFormatError):
        apply_scale(1, "chục")
