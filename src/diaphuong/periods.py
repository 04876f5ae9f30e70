"""Cycle and period notation (DESIGN.md): ``YYYY-MM``, ``YYYY-Qn``, ``YYYY-H1``/``H2``, ``YYYY-NM``
(first N months, cumulative; ``YYYY-6M`` is ``YYYY-H1``) and ``YYYY``.

A :class:`Period` knows its first and last day, its kind, and the requirement kind that decides which
indicators a province must report for it (``month``, ``quarter``, ``half``, ``nine_months``, ``year``).
"""
from __future__ import annotations

import calendar as _cal
import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from diaphuong.errors import PeriodError

_RE = re.compile(
    r"^(?P<year>\d{4})(?:-(?:(?P<month>0[1-9]|1[0-2])|Q(?P<q>[1-4])|H(?P<h>[12])|(?P<n>[1-9]|1[0-2])M))?$"
)
SWITCH_DATE = date(2025, 7, 1)  # first day of the 34-unit set
_ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}


@dataclass(frozen=True, order=True)
class Period:
    year: int
    first_month: int
    last_month: int
    kind: str  # month | quarter | half | ytd | year

    @property
    def code(self) -> str:
        if self.kind == "year":
            return f"{self.year}"
        if self.kind == "month":
            return f"{self.year}-{self.last_month:02d}"
        if self.kind == "quarter":
            return f"{self.year}-Q{self.last_month // 3}"
        if self.kind == "half":
            return f"{self.year}-H{1 if self.last_month == 6 else 2}"
        return f"{self.year}-{self.last_month}M"

    def __str__(self) -> str:  # pragma: no cover - convenience
        return self.code

    @property
    def start(self) -> date:
        return date(self.year, self.first_month, 1)

    @property
    def end(self) -> date:
        return date(self.year, self.last_month, _cal.monthrange(self.year, self.last_month)[1])

    @property
    def months(self) -> int:
        return self.last_month - self.first_month + 1

    @property
    def is_cumulative(self) -> bool:
        """Starts in January (a year-to-date figure): 6M/H1, 9M, NM, year, Q1, January."""
        return self.first_month == 1

    @property
    def requirement_kind(self) -> str:
        """Which requirement list applies: month, quarter, half, nine_months or year."""
        if self.kind == "ytd":
            return "nine_months" if self.last_month == 9 else "month"
        return self.kind

    @property
    def province_set(self) -> str:
        """The province list valid on the period's last day: '2008' (63 units) or '2025' (34)."""
        return "2025" if self.end >= SWITCH_DATE else "2008"

    @property
    def label_vi(self) -> str:
        """The period in words, as the template's header writes it."""
        y = self.year
        if self.kind == "year":
            return f"Năm {y}"
        if self.kind == "month":
            return f"Tháng {self.last_month} năm {y}"
        if self.kind == "quarter":
            return f"Quý {_ROMAN[self.last_month // 3]} năm {y}"
        if self.kind == "half":
            return f"6 tháng đầu năm {y}" if self.last_month == 6 else f"6 tháng cuối năm {y}"
        return f"{self.last_month} tháng năm {y}"

    def same_period_last_year(self) -> "Period":
        return Period(self.year - 1, self.first_month, self.last_month, self.kind)


@lru_cache(maxsize=4096)
def parse_period(text: str) -> Period:
    """Parse DESIGN.md notation; raise :class:`PeriodError` otherwise."""
    m = _RE.match(text.strip().upper()) if isinstance(text, str) else None
    if not m:
        raise PeriodError(
            f"not a cycle or period: {text!r}",
            hint="use YYYY-MM, YYYY-Qn, YYYY-H1, YYYY-H2, YYYY-NM (e.g. 2024-9M) or YYYY",
        )
    y = int(m["year"])
    if m["month"]:
        mo = int(m["month"])
        return Period(y, mo, mo, "month")
    if m["q"]:
        q = int(m["q"])
        return Period(y, 3 * q - 2, 3 * q, "quarter")
    if m["h"]:
        return Period(y, 1, 6, "half") if m["h"] == "1" else Period(y, 7, 12, "half")
    if m["n"]:
        n = int(m["n"])
        if n == 6:
            return Period(y, 1, 6, "half")
        if n == 12:
            return Period(y, 1, 12, "year")
        if n == 1:
            return Period(y, 1, 1, "month")
        return Period(y, 1, n, "ytd")
    return Period(y, 1, 12, "year")


def is_period(text: str) -> bool:
    try:
        parse_period(text)
        return True
    except PeriodError:
        return False
