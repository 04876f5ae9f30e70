"""Numbers as Vietnamese reports and spreadsheets write them.

* :func:`parse_number` - one number as text -> :class:`ParsedNumber`. Vietnamese convention by
  default (dot thousands, decimal comma: ``"29.232,75"`` -> 29232.75); English ``"1,234.5"`` is
  recognised from its shape. Leading qualifiers (``"hơn 1.200"``) are kept, footnote marks
  (``"1.234*"``, ``"1.234 (1)"``, ``"1.234¹"``) dropped, a trailing ``%`` dropped, table symbols
  (``-``, ``..``, ``...``, ``x``) returned as ``value=nan`` with ``symbol`` set.
* :func:`detect_convention` - decide ``'vi'`` or ``'en'`` for a column or a document from the
  samples whose reading is unambiguous.
* :data:`SCALE_WORDS` / :func:`apply_scale` - "nghìn/ngàn", "triệu", "tỷ/tỉ", "nghìn tỷ".

Ambiguity: a single separator followed by exactly three digits (``"1.234"``, ``"1,234"``) reads
either way. The ``convention`` argument decides (``'vi'`` when None: dot = thousands, comma =
decimal) and ``ParsedNumber.ambiguous`` is True: it describes the text, not the call, so a caller
that passed a convention it detected from other evidence may ignore it. A shape that admits only
one reading (``"1.234,5"``, ``"1.2345"``, ``"0,123"``) is read that way whatever ``convention``
says, and ``ParsedNumber.convention`` reports the reading used (None for plain integers).
"""
from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from diaphuong.errors import DiaphuongError

__all__ = [
    "NumberFormatError",
    "ParsedNumber",
    "parse_number",
    "detect_convention",
    "SCALE_WORDS",
    "apply_scale",
    "QUALIFIERS",
    "SYMBOLS",
]


class NumberFormatError(DiaphuongError):
    """A text that should be a number is not one. ``text`` is the offending input."""

    def __init__(self, text: str, *, reason: str | None = None, hint: str | None = None):
        self.text = text
        msg = f"not a number: {text!r}"
        if reason:
            msg += f" ({reason})"
        super().__init__(
            msg,
            hint=hint or "write numbers as 1.234,5 (Vietnamese) or 1,234.5 (English), or a table "
            "symbol (-, .., ..., x)",
        )


@dataclass(frozen=True)
class ParsedNumber:
    value: float
    qualifier: str | None  # 'hơn', 'gần', 'khoảng', 'trên', 'dưới', 'xấp xỉ', 'trên dưới'
    ambiguous: bool  # the text alone reads both ways ("1.234"); the value follows `convention`
    convention: str | None  # 'vi' | 'en' | None (no separator evidence: plain integer)
    symbol: str | None = None  # table symbol, canonical: '-', '..', '...', 'x'; value is nan

    @property
    def is_symbol(self) -> bool:
        return self.symbol is not None


# Table symbols -> canonical form (template.yaml `symbols` keys).
SYMBOLS: dict[str, str] = {
    "-": "-", "\u2013": "-", "\u2014": "-", "\u2212": "-",
    "..": "..", "...": "...", "\u2026": "...",
    "x": "x", "X": "x",
}

# Leading qualifiers: written form (lower case, NFC, or folded ASCII) -> canonical.
QUALIFIERS: dict[str, str] = {
    "hơn": "hơn", "hon": "hơn",
    "gần": "gần", "gan": "gần",
    "khoảng": "khoảng", "khoang": "khoảng",
    "trên dưới": "trên dưới", "tren duoi": "trên dưới",
    "trên": "trên", "tren": "trên",
    "dưới": "dưới", "duoi": "dưới",
    "xấp xỉ": "xấp xỉ", "xap xi": "xấp xỉ",
}
_QUAL_RE = re.compile(
    r"^(" + "|".join(re.escape(k) for k in sorted(QUALIFIERS, key=len, reverse=True)) + r")\s+",
    re.IGNORECASE,
)

_SPACE_CHARS = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2009": " ", "\u2007": " ",
                              "\t": " "})
# Footnote marks at the end: "*", "**", "(1)", "(*)", "(a)", "[1]", superscript digits.
_FOOTNOTE_RE = re.compile(
    r"(?:\s*(?:\(\s*(?:\d{1,2}|\*{1,3}|[a-zA-Z])\s*\)|\[\s*(?:\d{1,2}|\*{1,3})\s*\]|\*{1,3}"
    r"|[\u00b9\u00b2\u00b3\u2070\u2074-\u2079]+))+$"
)
_SIGN_RE = re.compile(r"^([-+\u2212\u2013])\s?")
_PLAIN = re.compile(r"^\d+$")
_VI_FULL = re.compile(r"^\d{1,3}(?:\.\d{3})+,\d+$")
_EN_FULL = re.compile(r"^\d{1,3}(?:,\d{3})+\.\d+$")
_VI_THOU = re.compile(r"^\d{1,3}(?:\.\d{3}){2,}$")
_EN_THOU = re.compile(r"^\d{1,3}(?:,\d{3}){2,}$")
_SINGLE = re.compile(r"^(\d+)([.,])(\d+)$")
_SPACED = re.compile(r"^\d{1,3}(?: \d{3})+(?:([.,])\d+)?$")

_NAN = float("nan")


def _core(c: str, convention: str) -> tuple[float, bool, str | None] | None:
    """Digits and separators only -> (value, ambiguous, convention used) or None."""
    if _PLAIN.match(c):
        return float(c), False, None
    m = _SINGLE.match(c)
    if m:
        before, sep, after = m.groups()
        if len(after) == 3 and len(before) <= 3 and before[0] != "0":
            # "1.234" / "1,234": both readings are plausible.
            thousands_sep = "." if convention == "vi" else ","
            if sep == thousands_sep:
                return float(before + after), True, convention
            return float(before + "." + after), True, convention
        return float(before + "." + after), False, ("vi" if sep == "," else "en")
    if _VI_FULL.match(c):
        return float(c.replace(".", "").replace(",", ".")), False, "vi"
    if _EN_FULL.match(c):
        return float(c.replace(",", "")), False, "en"
    if _VI_THOU.match(c):
        return float(c.replace(".", "")), False, "vi"
    if _EN_THOU.match(c):
        return float(c.replace(",", "")), False, "en"
    m = _SPACED.match(c)
    if m:
        sep = m.group(1)
        digits = c.replace(" ", "")
        if sep is None:
            return float(digits), False, None
        return float(digits.replace(",", ".")), False, ("vi" if sep == "," else "en")
    return None


@lru_cache(maxsize=65536)
def parse_number(text: str, *, convention: str | None = None) -> ParsedNumber:
    """Parse one number written as text; raise :class:`NumberFormatError` otherwise.

    ``convention``: ``'vi'`` (default when None) or ``'en'``; it only decides texts that read
    both ways ("1.234"). See the module docstring.
    """
    if convention is None:
        convention = "vi"
    elif convention not in ("vi", "en"):
        raise ValueError(f"convention must be 'vi', 'en' or None, not {convention!r}")
    if not isinstance(text, str):
        raise NumberFormatError(repr(text), reason="not a string")
    s = text.strip()
    if _PLAIN.match(s):
        return ParsedNumber(float(s), None, False, None, None)
    s = s.translate(_SPACE_CHARS).strip()
    sym = SYMBOLS.get(s)
    if sym is not None:
        return ParsedNumber(_NAN, None, False, None, sym)
    if not s:
        raise NumberFormatError(text, reason="empty")
    if not s.isascii() and not unicodedata.is_normalized("NFC", s):
        s = unicodedata.normalize("NFC", s)
    qualifier = None
    m = _QUAL_RE.match(s)
    if m:
        qualifier = QUALIFIERS[m.group(1).lower()]
        s = s[m.end():]
    s = _FOOTNOTE_RE.sub("", s)
    if s.endswith("%"):
        s = s[:-1].rstrip()
        s = _FOOTNOTE_RE.sub("", s)
    negative = False
    m = _SIGN_RE.match(s)
    if m:
        negative = m.group(1) != "+"
        s = s[m.end():]
    while "  " in s:
        s = s.replace("  ", " ")
    parsed = _core(s, convention)
    if parsed is None:
        raise NumberFormatError(text)
    value, ambiguous, conv = parsed
    if negative:
        value = -value
    if math.isinf(value):
        raise NumberFormatError(text, reason="too large")
    return ParsedNumber(value, qualifier, ambiguous, conv, None)


_TOKEN_RE = re.compile(r"(?<![\d.,])\d[\d.,]*\d(?![\d])")


def _evidence(token: str) -> str | None:
    if _VI_FULL.match(token) or _VI_THOU.match(token):
        return "vi"
    if _EN_FULL.match(token) or _EN_THOU.match(token):
        return "en"
    m = _SINGLE.match(token)
    if m:
        before, sep, after = m.groups()
        if len(after) == 3 and len(before) <= 3 and before[0] != "0":
            return None
        return "vi" if sep == "," else "en"
    return None


def detect_convention(texts: Iterable[str]) -> str | None:
    """'vi' or 'en' by majority of the unambiguous number shapes in ``texts`` (cells or whole
    sentences); None when there is no evidence or a tie."""
    vi = en = 0
    for t in texts:
        if not isinstance(t, str) or not t:
            continue
        for tok in _TOKEN_RE.findall(t):
            ev = _evidence(tok)
            if ev == "vi":
                vi += 1
            elif ev == "en":
                en += 1
    if vi > en:
        return "vi"
    if en > vi:
        return "en"
    return None


# Scale words (lower case, NFC; folded spellings too) -> (factor, unit-code prefix).
# The prefix matches catalog/data/units.csv codes: th_usd, mn_usd, bn_usd, tn_vnd, th_visits...
SCALE_WORDS: dict[str, tuple[float, str]] = {
    "nghìn": (1e3, "th"), "ngàn": (1e3, "th"), "nghin": (1e3, "th"), "ngan": (1e3, "th"),
    "triệu": (1e6, "mn"), "trieu": (1e6, "mn"),
    "tỷ": (1e9, "bn"), "tỉ": (1e9, "bn"), "ty": (1e9, "bn"), "ti": (1e9, "bn"),
    "nghìn tỷ": (1e12, "tn"), "ngàn tỷ": (1e12, "tn"), "nghìn tỉ": (1e12, "tn"),
    "ngàn tỉ": (1e12, "tn"), "nghin ty": (1e12, "tn"), "ngan ty": (1e12, "tn"),
    "nghin ti": (1e12, "tn"), "ngan ti": (1e12, "tn"),
}
SCALE_RE = re.compile(
    r"(?<!\w)(" + "|".join(re.escape(k) for k in sorted(SCALE_WORDS, key=len, reverse=True))
    + r")(?!\w)",
    re.IGNORECASE,
)


def apply_scale(value: float, word: str | None) -> tuple[float, str | None]:
    """``(value * factor, prefix)`` for a scale word: ``apply_scale(1.5, "triệu")`` ->
    ``(1500000.0, "mn")``. No word -> ``(value, None)``. Unknown word -> NumberFormatError."""
    if word is None or not word.strip():
        return value, None
    key = unicodedata.normalize("NFC", " ".join(word.split())).lower()
    try:
        factor, prefix = SCALE_WORDS[key]
    except KeyError:
        raise NumberFormatError(word, reason="not a scale word (nghìn, triệu, tỷ, nghìn tỷ)") from None
    return value * factor, prefix
