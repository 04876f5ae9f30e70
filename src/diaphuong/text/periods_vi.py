"""Vietnamese period phrases -> DESIGN.md period notation.

* :func:`parse_period_vi` - the (first) period a phrase names: "6 tháng đầu năm 2026" -> "2026-H1",
  "quý III/2025" -> "2025-Q3", "tháng 10 năm 2024" -> "2024-10", "9 tháng năm 2024" -> "2024-9M",
  "cả năm 2023" -> "2023". A phrase without a year takes ``default_year``; without one it gives
  None (use :func:`find_periods` to see the phrase anyway).
* :func:`find_periods` - every period phrase in a text as ``(start, end, code)``; ``start:end`` is a
  span of the text as given. When the phrase has no year the code starts with the placeholder
  ``YYYY`` ("tính chung 9 tháng" -> ``YYYY-9M``); "tháng 12 năm trước" gives ``PREV-12`` (the year
  before the report's). :func:`fill_year` substitutes both.

Matching is diacritic- and case-insensitive (both tone placements fold alike), except that the word
"năm" must keep its breve when the text is written with diacritics, so that "Quảng Nam 2024" or
"Hà Nam" is not read as a year. Dates ("ngày 15 tháng 10 năm 2024", "15/10/2024") are not periods.
"quý" or the older "quí"; a Roman numeral may be followed by punctuation ("quý I, ...", "quý II.").
Number words: ba (3), sáu (6), chín (9), mười (10), mười một (11), mười hai (12). Month names, when
written with a capital ("tháng Chín", "tháng Mười Một", "tháng Giêng", "tháng Chạp"), name months.
"tháng 5.2019" (a dotted year) is May 2019.
Conventions: "3 tháng đầu năm" -> Q1, "3 tháng cuối năm" -> Q4, "6 tháng" -> H1, "6 tháng cuối
năm" -> H2, "12 tháng" -> the year, "1 tháng" -> January.
Cumulative "through" phrases name the months from January: "đến hết tháng 10", "tính đến tháng 10",
"tính đến cuối tháng 10", "lũy kế đến tháng 10", "từ đầu năm đến hết tháng 10", "hết tháng 10" ->
``YYYY-10M`` (3 -> Q1, 6 -> H1, 12 -> the year, 1 -> January); "đến hết quý III" -> ``YYYY-9M``.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from diaphuong.errors import PeriodError
from diaphuong.periods import parse_period

__all__ = ["parse_period_vi", "find_periods", "fill_year", "YEAR_PLACEHOLDER", "PREV_PLACEHOLDER"]

YEAR_PLACEHOLDER = "YYYY"
PREV_PLACEHOLDER = "PREV"

_BREVE_A = frozenset("ăắằẳẵặĂẮẰẲẴẶ")


@lru_cache(maxsize=4096)
def _fold_char(c: str) -> str:
    if c in _BREVE_A:
        return "ă"
    if c in "đĐ":
        return "d"
    d = unicodedata.normalize("NFD", c)
    base = "".join(ch for ch in d if not unicodedata.combining(ch))
    if len(base) != 1:
        return c.lower() if len(c.lower()) == 1 else c
    return base.lower()


class _FoldTable(dict):
    """str.translate table of :func:`_fold_char` (one character out for one in)."""

    def __missing__(self, code: int) -> str:
        c = chr(code)
        out = c.lower() if c.isascii() else _fold_char(c)
        if len(out) != 1:
            out = c
        self[code] = out
        return out


_FOLD_TABLE = _FoldTable()
_COMBINING = re.compile(r"[\u0300-\u036f]")


def _fold(text: str) -> tuple[str, list[int] | range]:
    """Lower case, diacritics dropped except the breve of 'ă'; returns the folded text and, for
    each folded character, its index in ``text`` (combining marks are dropped)."""
    if not _COMBINING.search(text):  # precomposed text: one character for one, same offsets
        return text.translate(_FOLD_TABLE), range(len(text))
    out: list[str] = []
    idx: list[int] = []
    for i, c in enumerate(text):
        if unicodedata.combining(c):
            if c == "\u0306" and out and out[-1] == "a":
                out[-1] = "ă"
            continue
        out.append(_fold_char(c) if not c.isascii() else c.lower())
        idx.append(i)
    return "".join(out), idx


_YEAR = r"(?:19|20)\d\d(?![\d.,]\d)(?!\d)"
_NUM_WORDS = {"ba": 3, "sau": 6, "chin": 9, "muoi": 10, "muoi mot": 11, "muoi hai": 12}
_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4}
# Month names (folded), read only when the text writes them with a capital ("tháng Chín").
_MONTH_WORDS = {"gieng": 1, "mot": 1, "hai": 2, "ba": 3, "tu": 4, "nam": 5, "năm": 5, "sau": 6, "bay": 7,
                "tam": 8, "chin": 9, "muoi": 10, "muoi mot": 11, "muoi hai": 12, "chap": 12}
_MONTH_WORD_RE = r"(?P<mw>muoi\s+mot|muoi\s+hai|gieng|chap|mot|hai|ba|tu|n[ăa]m|sau|bay|tam|chin|muoi)(?![\w])"
_MONTH_NUM_RE = r"(?P<m>0?[1-9]|1[0-2])"


def _patterns(nam: str) -> list[tuple[str, re.Pattern[str]]]:
    tail = (rf"(?:\s+{nam}\s+(?P<y>{_YEAR})|\s*[/\-–]\s*(?P<y2>{_YEAR})|\s+(?P<y3>{_YEAR})"
            rf"|\s+(?P<prev>{nam}\s+(?:truoc|ngoai))|\s+(?P<nay>{nam}\s+nay))?")
    n = r"(?P<n>\d{1,2}|muoi\s+mot|muoi\s+hai|muoi|sau|chin|ba)"
    return [
        ("half_word", re.compile(rf"\bnua\s+(?P<pos>dau|cuoi)\s+{nam}(?:\s+(?P<y>{_YEAR})|\s+nay)?")),
        ("months", re.compile(
            rf"(?<![\d.,])\b{n}\s+thang(?:\s+(?P<pos>dau|cuoi)\s+{nam}(?:\s+(?P<y>{_YEAR})|\s+nay)?"
            rf"|\s+{nam}\s+(?P<y2>{_YEAR})|\s+{nam}\s+nay|\s*[/\-]\s*(?P<y3>{_YEAR}))?"
        )),
        ("through", re.compile(
            rf"\b(?:tinh\s+den(?:\s+het|\s+cuoi)?|den\s+het|den\s+cuoi|luy\s+ke\s+den(?:\s+het)?"
            rf"|(?:luy\s+ke\s+)?tu\s+dau\s+{nam}\s+den(?:\s+het|\s+cuoi)?|het)\s+thang\s+"
            rf"(?:{_MONTH_NUM_RE}(?:\.(?P<y4>{_YEAR})|(?![\d]|[.,]\d))|{_MONTH_WORD_RE}){tail}"
        )),
        ("month", re.compile(
            rf"\bthang\s+(?:{_MONTH_NUM_RE}(?:\.(?P<y4>{_YEAR})|(?![\d]|[.,]\d))|{_MONTH_WORD_RE}){tail}"
        )),
        ("through_q", re.compile(
            rf"\b(?:tinh\s+den(?:\s+het|\s+cuoi)?|den\s+het|den\s+cuoi|luy\s+ke\s+den(?:\s+het)?|het)"
            rf"\s+qu[yi]\s+(?P<q>iv|iii|ii|i|[1-4])(?!\w|[.,]\d){tail}"
        )),
        ("quarter", re.compile(rf"\bqu[yi]\s+(?P<q>iv|iii|ii|i|[1-4])(?!\w|[.,]\d){tail}")),
        ("year", re.compile(
            rf"\b(?:(?P<ca>ca)\s+)?{nam}\s+(?P<y>{_YEAR})(?!\s*[-–]\s*\d)|\bca\s+{nam}(?!\s+(?:truoc|ngoai))\b"
        )),
    ]


_PATTERNS_STRICT = _patterns("năm")
_PATTERNS_LENIENT = _patterns("n[ăa]m")
_DATES = re.compile(
    r"\bngay\s+\d{1,2}\s+thang\s+\d{1,2}(?:\s+n[ăa]m\s+\d{4}|\s*[/\-]\s*\d{4})?"
    r"|\b(?:ngay\s+)?\d{1,2}\s*[/\-.]\s*\d{1,2}\s*[/\-.]\s*\d{4}\b"
    r"|\bngay\s+\d{1,2}\s*/\s*\d{1,2}\b"
)
_DATE_BEFORE = re.compile(r"(?:\bngay\s+)?\b\d{1,2}\s+$")
_AFTER_MONTHS_BAD = re.compile(r"\s*(?:\d|lien\s+tiep)")
_NGAY_BEFORE = re.compile(r"\bngay\s+$")


def _year_of(m: re.Match[str]) -> str:
    gd = m.groupdict()
    for k in ("y", "y2", "y3", "y4"):
        if gd.get(k):
            return gd[k]
    if gd.get("prev"):
        return PREV_PLACEHOLDER
    return YEAR_PLACEHOLDER


def _code(kind: str, m: re.Match[str]) -> str | None:
    y = _year_of(m)
    gd = m.groupdict()
    if kind == "half_word":
        return f"{y}-H1" if gd["pos"] == "dau" else f"{y}-H2"
    if kind == "months":
        raw = " ".join(gd["n"].split())
        n = int(raw) if raw.isdigit() else _NUM_WORDS[raw]
        if not 1 <= n <= 12:
            return None
        if gd.get("pos") == "cuoi":
            return {6: f"{y}-H2", 3: f"{y}-Q4", 12: y}.get(n)
        if n == 12:
            return y
        if n == 6:
            return f"{y}-H1"
        if n == 3:
            return f"{y}-Q1"
        if n == 1:
            return f"{y}-01"
        return f"{y}-{n}M"
    if kind in ("month", "through"):
        if gd.get("m"):
            n = int(gd["m"])
        else:
            n = _MONTH_WORDS[" ".join(gd["mw"].split())]
        if kind == "month" or n == 1:
            return f"{y}-{n:02d}"
        return {12: y, 3: f"{y}-Q1", 6: f"{y}-H1"}.get(n, f"{y}-{n}M")
    if kind in ("quarter", "through_q"):
        q = gd["q"]
        n = int(q) if q.isdigit() else _ROMAN[q]
        if kind == "through_q":
            return {1: f"{y}-Q1", 2: f"{y}-H1", 3: f"{y}-9M", 4: y}[n]
        return f"{y}-Q{n}"
    if kind == "year":
        return y
    return None  # pragma: no cover


_ACCENTED = re.compile(r"[^\x00-\x7f]")


def find_periods(text: str) -> list[tuple[int, int, str]]:
    """Every period phrase in ``text``: ``(start, end, code)`` with ``text[start:end]`` the phrase.
    Codes use the ``YYYY`` / ``PREV`` placeholders when the year is not stated (see module doc)."""
    if not text:
        return []
    folded, idx = _fold(text)
    patterns = _PATTERNS_STRICT if _ACCENTED.search(text) else _PATTERNS_LENIENT
    blocked = [(m.start(), m.end()) for m in _DATES.finditer(folded)]
    cands: list[tuple[int, int, str]] = []
    for kind, pat in patterns:
        for m in pat.finditer(folded):
            s, e = m.start(), m.end()
            if kind == "month" and _DATE_BEFORE.search(folded[max(0, s - 12):s]):
                continue  # "15 tháng 10 năm 2024": a date
            if kind in ("month", "through") and m.group("mw") is not None:
                first = text[idx[m.start("mw")]]
                if not first.isupper():
                    continue  # "tháng năm", "tháng tư" in lower case: not a month name
            if kind == "months":
                if _NGAY_BEFORE.search(folded[max(0, s - 8):s]):
                    continue  # "ngày 9 tháng 10"
                stated = m.group("pos") or m.group("y") or m.group("y2") or m.group("y3")
                if not stated and _AFTER_MONTHS_BAD.match(folded, e):
                    continue  # "9 tháng 10" (a date), "3 tháng liên tiếp" (a duration)
            if any(s < be and bs < e for bs, be in blocked):
                continue
            code = _code(kind, m)
            if code is None:
                continue
            cands.append((s, e, code))
    cands.sort(key=lambda t: (t[0], -(t[1] - t[0])))
    out: list[tuple[int, int, str]] = []
    last_end = -1
    for s, e, code in cands:
        if s < last_end:
            continue
        # map back onto the original text (extend over trailing combining marks)
        os_, oe = idx[s], idx[e - 1] + 1
        while oe < len(text) and unicodedata.combining(text[oe]):
            oe += 1
        out.append((os_, oe, code))
        last_end = e
    return out


def fill_year(code: str, year: int) -> str:
    """Replace the placeholders: ``fill_year('YYYY-9M', 2024)`` -> ``'2024-9M'``; ``PREV`` takes
    ``year - 1``."""
    if code.startswith(YEAR_PLACEHOLDER):
        return f"{year}{code[len(YEAR_PLACEHOLDER):]}"
    if code.startswith(PREV_PLACEHOLDER):
        return f"{year - 1}{code[len(PREV_PLACEHOLDER):]}"
    return code


def parse_period_vi(text: str, *, default_year: int | None = None) -> str | None:
    """The first period phrase in ``text`` in DESIGN.md notation, or None when there is none (or
    it has no year and no ``default_year`` was given)."""
    for _s, _e, code in find_periods(text):
        if code.startswith((YEAR_PLACEHOLDER, PREV_PLACEHOLDER)):
            if default_year is None:
                return None
            code = fill_year(code, default_year)
        try:
            return parse_period(code).code
        except PeriodError:  # pragma: no cover - codes are built valid
            return None
    return None
