"""Read a provincial submission (xlsx, xls, ods or csv) into tidy observations.

:func:`read_submission` maps whatever a province sent onto the department's template
(``catalog/data/template.yaml``) through the header aliases and quirks of
``catalog/data/layouts.yaml``, and returns a :class:`SubmissionRead`: the ``observation`` rows it
could read, the ``quarantine`` rows of the cells and rows it could not trust (each with a reason
code, a message and the ``Sheet!C12`` locator), the province (from the header block, else the
sheet's name, else the file name), the period the file states, the sheet read, and notes on
everything it noticed. :func:`read_submissions` reads several files alike, stage by stage in
batches (every file's bytes, then every container's checks, then calamine, then the tables),
each unreadable file's error in its place.

A file that cannot be read at all raises :class:`~diaphuong.errors.UnreadableFile` (reason
``unreadable``, ``empty``, ``too_large``, ``not_a_spreadsheet``, ``encrypted``, ``corrupt``,
``zip_bomb``, ``too_many_cells``, ``binary``) or :class:`~diaphuong.errors.LayoutError`
(``no_table``, ``no_indicator_rows``, ``transposed_table``: indicators across a row and measures
down a column, refused rather than guessed); the caller quarantines the file and carries on. Cells
and rows go to ``quarantine`` with the reasons ``not_a_number`` (also a formula whose cached
result is an Excel error such as ``#DIV/0!``, which calamine reads as an empty cell: the sheet's
XML says what it was), ``unknown_indicator``, ``duplicate_indicator``, ``unknown_unit``,
``unit_mismatch``.

Bounded time and memory: the file size is checked before reading; a zip's central directory
(member count, declared sizes, compression ratios) before anything is inflated, and members are
inflated with a cap when the directory could be lying; the extent of each xlsx sheet (every
cell and row reference, in whatever row it stands and however the XML quotes or spaces it;
calamine builds a dense grid from the first to the last cell it places, so two cells at A1 and
XFD1048576 would abort the process), the cell records of a legacy .xls (two cells at A1 and
IV65536 would make a gigabyte's grid) and the repeated rows of an .ods before calamine parses
them; the cell count of every sheet before it is turned into Python objects (``LIMITS``). The
format is recognised from the bytes, not the name.

Decisions (see also the module constants):

* ``so với cùng kỳ (%)`` is an index (107,5 -> ``yoy_pct`` 7.5). Per column, when most figures
  read as growth rates (7,5) rather than indices, the column is read as growth: flag
  ``growth_not_index`` and a note. The quirk ``yoy: index|change`` in layouts.yaml forces either.
* A rate indicator (``grdp_growth``, ``cpi_yoy``, ...) written as an index in the value column
  (103,5) is read as the change (3.5), flag ``index_as_change``.
* Table symbols: ``-`` is nil (status A, qualifier ``nil``, value empty: a consumer that needs
  the zero can read it from the qualifier; nothing sums or compares a made-up zero by accident);
  ``..`` / ``...`` are not available (status M, qualifier ``not_available``); ``x`` not applicable
  (status M, qualifier ``not_applicable``). ``original_value`` keeps the symbol.
* A value in a unit of the catalog unit's family (triệu USD vs tỷ USD) is converted to the
  catalog unit, flag ``unit_converted``; ``original_value`` / ``original_unit`` keep what the
  cell said. A unit of another family, or one that is not recognised, quarantines the value
  cell (``unit_mismatch`` / ``unknown_unit``); the row's percentages still load.
* Status: a symbol's status, else the status column, else a status word in the note, else a
  status word in the value column's header, else in the rows above the table or a layout quirk,
  else ``A``.
* Number text: ``diaphuong.text.numbers``; the convention (1.234,5 or 1,234.5) is decided per
  sheet from the unambiguous shapes of the text in its figure columns; a cell that reads both ways with no such evidence is read
  the Vietnamese way and flagged ``ambiguous_number``.
* Percent-formatted cells (1,075 shown as 107,5 %) are scaled by 100 (flag ``percent_cell``):
  from the cell styles in an xlsx, by a column test elsewhere.
* In a comparison column, "+7,5%", "-2,1" and "tăng/giảm 3,4%" state a change (sign or word),
  never an index: read as such (flag ``growth_not_index``) whatever the rest of the column holds.
* Units: the unit column, else a unit at the end of the name ("Kim ngạch xuất khẩu (triệu USD)",
  "..., tỷ đồng"), else a unit stated once above the table ("Đơn vị tính: triệu đồng"; not for
  percent indicators), else the catalog unit.
* Columns: a hidden column (xlsx) maps only when no visible column has its key; a value column
  headed by another year than the cycle's ("Thực hiện 9 tháng năm 2024" beside "Ước tính 9 tháng
  năm 2025") gives way to the cycle's; a header that repeats its indicator column holds tables
  side by side, each read. The template's own header row, verbatim, is taken without scoring.
* Names: the catalog's phrasings, else with the abbreviations of layouts.yaml expanded ("Thu
  NSNN", "Số DN ĐKTL mới"); a totals line ("Tổng cộng (I + II)", "Cộng") is skipped, an
  unmatched name with figures is quarantined (``unknown_indicator``).
* Several sheets: the one with most indicator rows, a sheet stating another period than the
  cycle's last. Periods are read from words, notations and date ranges ("01/01/2025 -
  30/06/2025" -> 2025-H1), Vietnamese or English ("9 months of 2025").

Flags (``observation.flag``, comma-separated): ``fuzzy_match``, ``code_name_mismatch``,
``growth_not_index``, ``index_as_change``, ``unit_converted``, ``ambiguous_number``,
``percent_cell``, ``footnote``, ``status_unrecognised``, ``status_in_value``.
"""
from __future__ import annotations

import csv
import hashlib
import io
import math
import os
import re
import struct
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from itertools import chain
from pathlib import Path
from typing import NamedTuple

import deflate
import numpy as np
import pandas as pd
import re2
import yaml

from diaphuong import schema
from diaphuong.catalog.indicators import indicators, match_indicator
from diaphuong.catalog.provinces import DATA, ProvinceRef, provinces, provinces_on, resolve_province
from diaphuong.catalog.units import convert, units
from diaphuong.catalog.units import parse_unit as _parse_unit
from diaphuong.errors import (AmbiguousProvince, DiaphuongError, LayoutError, UnknownProvince,
                              UnreadableFile)
from diaphuong.periods import parse_period
from diaphuong.text.encodings import decode_bytes
from diaphuong.text.normalize import fold, nfc
from diaphuong.text.numbers import NumberFormatError, detect_convention, parse_number

try:  # the per-token evidence detect_convention counts, to count it once per distinct cell text
    from diaphuong.text.numbers import _TOKEN_RE as _NUM_TOKEN
    from diaphuong.text.numbers import _evidence as _num_evidence
except ImportError:  # pragma: no cover
    _NUM_TOKEN = _num_evidence = None

__all__ = ["SubmissionRead", "SubmissionFile", "Rows", "frame_of", "read_submission", "read_submissions", "layouts",
           "period_from_text", "LIMITS"]

# ------------------------------------------------------------------------------------ limits
LIMITS = {
    "file_bytes": 25 * 1024 * 1024,       # a submission is a few kB; refuse anything above 25 MB
    "csv_bytes": 8 * 1024 * 1024,
    "zip_members": 2000,
    "zip_uncompressed": 32 * 1024 * 1024,  # sum of the declared uncompressed sizes
    "zip_ratio": 200,                      # per member of more than 1 MB
    "cells": 200_000,                      # rows x columns of one sheet
    "sheets": 64,
}
HEADER_SCAN_ROWS = 60
_FIRST_READ = 1 << 16  # bytes read before asking the file's size

_OBS_COLS = schema.TABLES["observation"].columns
_Q_COLS = schema.TABLES["quarantine"].columns
MEASURE_KEYS = ("value", "yoy_index", "mom_index", "pct_of_plan")
_MEASURE_OF = {"value": "value", "yoy_index": "yoy_pct", "mom_index": "mom_pct", "pct_of_plan": "pct_of_plan"}
_INDEX_KEYS = ("yoy_index", "mom_index")


class Rows:
    """A light, row-ordered table of one file: its rows (tuples in ``per_row`` column order, or
    the 2-D object array of them) and the file's constants (``const``: column -> one value for
    every row). No DataFrame per file: the pipeline sets its per-file constants on it and builds
    ONE DataFrame per cycle from all files (:func:`frame_of`); :meth:`frame` builds the frame of
    this file alone."""

    __slots__ = ("table", "per_row", "rows", "const")

    def __init__(self, table: str, per_row: tuple[str, ...], rows: list[tuple], const: dict):
        self.table, self.per_row, self.rows, self.const = table, per_row, rows, const

    def __len__(self) -> int:
        return len(self.rows)

    def __getstate__(self):
        return (self.table, self.per_row, self.rows, self.const)

    def __setstate__(self, st):
        self.table, self.per_row, self.rows, self.const = st

    def frame(self) -> pd.DataFrame:
        return frame_of([self])


def frame_of(parts: list[Rows]) -> pd.DataFrame:
    """One DataFrame (the columns of the parts' schema table, in its order: text columns as objects,
    ``value`` as float64) from the rows of several files, built in one go."""
    if not parts:
        raise ValueError("frame_of needs at least one part")
    table, per_row = parts[0].table, parts[0].per_row
    cols = schema.TABLES[table].columns
    n = sum(len(p.rows) for p in parts)
    rec: dict[str, object] = {}
    for c in cols:
        if c in per_row:
            continue
        vals = [p.const.get(c) for p in parts]
        if all(v is vals[0] for v in vals):
            if vals[0] is not None:
                rec[c] = vals[0]  # broadcast
        else:  # one value per file, repeated over its rows
            per_file = np.empty(len(parts), dtype=object)
            per_file[:] = vals
            rec[c] = np.repeat(per_file, [len(p.rows) for p in parts])
    if n:
        a = _rows_array(parts)
        if a is not None and a.shape == (n, len(per_row)):
            df = _frame_of_array(a, per_row, rec, cols, n)
            if df is not None:
                return df
            rec.update(zip(per_row, a.T))
        else:  # pragma: no cover - a pandas without its converter
            rec.update(_columns_of(list(chain.from_iterable(map(tuple, p.rows) for p in parts)), per_row))
    return _frame(rec, cols, n)


def _as_array(rows: list[tuple]):
    """A file's row tuples as one 2-D object array (pandas' converter, made while the tuples are
    fresh: the cycle then keeps the array, not 80,000 tuples), or the list when it cannot."""
    if not rows or _rows_to_array is None:
        return rows
    try:
        return _rows_to_array(rows)
    except (TypeError, ValueError):  # pragma: no cover - an internals change
        return rows


def _rows_array(parts: list[Rows]) -> np.ndarray | None:
    """The rows of all the parts as one 2-D object array (each part's array, or its tuples made one)."""
    arrays = []
    for p in parts:
        r = p.rows
        if not len(r):
            continue
        if not isinstance(r, np.ndarray):
            r = _as_array(r)
            if not isinstance(r, np.ndarray):  # pragma: no cover - a pandas without its converter
                return None
        arrays.append(r)
    return arrays[0] if len(arrays) == 1 else np.concatenate(arrays)


def _frame_of_array(a: np.ndarray, per_row: tuple[str, ...], const: dict[str, object], cols: list[str],
                    n: int) -> pd.DataFrame | None:
    """The frame, its per-row columns left where they are: each run of text columns between the
    rows' ends and ``value`` is a block of the frame as a view of the rows' array (no copy of the
    cycle's cells); ``value`` as float64; the per-file columns (``const``: a scalar or an array
    each) in one more block. None when pandas' internals are not there (the caller copies the
    columns instead)."""
    if _from_blocks is None or not set(per_row) <= set(cols):
        return None
    pos = {c: k for k, c in enumerate(cols)}
    at = a.T
    vj = per_row.index("value") if "value" in per_row else -1
    blocks = []
    start = 0
    for k in range(len(per_row) + 1):
        if k == len(per_row) or k == vj:
            if k > start:
                blocks.append((at[start:k], np.array([pos[c] for c in per_row[start:k]], dtype=np.intp)))
            start = k + 1
    rest = [c for c in cols if c not in per_row]
    if vj >= 0:
        blocks.append((a[:, vj].astype("float64").reshape(1, n), np.array([pos["value"]], dtype=np.intp)))
    elif "value" in rest:
        rest.remove("value")
        v = const.get("value")
        blocks.append((np.full((1, n), np.nan if v is None else v, dtype="float64"),
                       np.array([pos["value"]], dtype=np.intp)))
    if rest:
        arr = np.empty((len(rest), n), dtype=object)
        for k, c in enumerate(rest):
            v = const.get(c)
            if v is not None:
                arr[k] = v  # an array fills the column, a scalar is broadcast
        blocks.append((arr, np.array([pos[c] for c in rest], dtype=np.intp)))
    try:
        return _from_blocks(blocks, index=pd.RangeIndex(n), columns=_layout_of(tuple(cols))[0])
    except (TypeError, ValueError):  # pragma: no cover - an internals change
        return None


try:  # pandas' own converter of row tuples to a 2-D object array (what DataFrame(list_of_tuples) uses)
    from pandas._libs.lib import to_object_array_tuples as _rows_to_array
except ImportError:  # pragma: no cover - a pandas without it
    _rows_to_array = None


def _columns_of(rows: list[tuple], names: tuple[str, ...]) -> dict[str, object]:
    """Column name -> its values (a 1-D sequence) from row tuples of ``len(names)`` fields. One
    C-level pass into a 2-D object array, whose columns are views: a third of what transposing
    with ``zip(*rows)`` costs on a cycle's 80,000 rows."""
    if _rows_to_array is not None:
        try:
            a = _rows_to_array(rows)
        except (TypeError, ValueError):  # pragma: no cover - an internals change
            a = None
        if a is not None and a.shape[1] == len(names):
            return {c: a[:, k] for k, c in enumerate(names)}
    return dict(zip(names, zip(*rows)))


class SubmissionRead:
    """What reading one file gave. ``observations`` / ``quarantine`` are DataFrames with the
    columns of the ``observation`` / ``quarantine`` tables, built on first access from the light
    :class:`Rows` the reader makes (``obs_rows`` / ``q_rows``), which the pipeline uses as they are."""

    def __init__(self, observations, quarantine, province: ProvinceRef | None, province_source: str | None,
                 period: str | None, sheet: str | None, notes: list[str] | None = None):
        self._obs = observations  # Rows or DataFrame
        self._q = quarantine
        self.province = province
        self.province_source = province_source  # 'content' | 'file_name'
        self.period = period  # as stated inside the file (DESIGN.md notation), None when not stated
        self.sheet = sheet
        self.notes = notes if notes is not None else []

    @property
    def obs_rows(self):
        """The observations as the reader made them (:class:`Rows`, or a DataFrame once built)."""
        return self._obs

    @property
    def q_rows(self):
        return self._q

    @property
    def observations(self) -> pd.DataFrame:
        if isinstance(self._obs, Rows):
            self._obs = self._obs.frame()
        return self._obs

    @property
    def quarantine(self) -> pd.DataFrame:
        if isinstance(self._q, Rows):
            self._q = self._q.frame()
        return self._q

    def __repr__(self) -> str:
        return (f"SubmissionRead({len(self._obs)} observations, {len(self._q)} quarantined, "
                f"province={self.province!r}, period={self.period!r}, sheet={self.sheet!r})")


# ------------------------------------------------------------------------------------ layouts
class _Layout:
    """Compiled aliases of layouts.yaml (plus the columns of the quirks that apply)."""

    def __init__(self, columns: dict[str, list[str]]):
        self.exact: dict[str, str] = {}
        pairs: list[tuple[str, str]] = []
        for key, aliases in columns.items():
            for a in aliases:
                fa = fold(str(a))
                if fa:
                    self.exact.setdefault(fa, key)
                    pairs.append((fa, key))
        pairs.sort(key=lambda p: -len(p[0]))
        self.pairs = [(f" {a} ", k, len(a)) for a, k in pairs]
        self._cache: dict[str, tuple[str, int] | None] = {}

    def match(self, label: str) -> tuple[str, int] | None:
        """(key, score) for a folded header label; exact beats containment, longer beats shorter."""
        hit = self._cache.get(label, False)
        if hit is not False:
            return hit
        res = None
        if label in self.exact:
            res = (self.exact[label], 1000 + len(label))
        elif len(label) <= 120:
            padded = f" {label} "
            for a, k, n in self.pairs:
                if a in padded:
                    res = (k, n)
                    break
        self._cache[label] = res
        return res


@dataclass(frozen=True)
class _Layouts:
    base: _Layout
    raw: dict
    skip_words: tuple[str, ...]
    province_labels: frozenset[str]
    province_prefixes: tuple[str, ...]
    period_labels: frozenset[str]
    prepared_labels: frozenset[str]
    quirks: tuple[dict, ...]
    status_words: tuple[tuple[str, str], ...]
    symbols: dict
    unit_labels: frozenset[str] = frozenset()
    abbreviations: tuple[tuple[re.Pattern, str], ...] = ()
    province_bare_prefixes: tuple[str, ...] = ()


@lru_cache(maxsize=1)
def layouts() -> _Layouts:
    """layouts.yaml and template.yaml, compiled."""
    raw = yaml.safe_load((DATA / "layouts.yaml").read_text(encoding="utf-8"))
    tpl = yaml.safe_load((DATA / "template.yaml").read_text(encoding="utf-8"))
    cols = {k: list(v) for k, v in raw["columns"].items()}
    for c in tpl["columns"]:  # the template's own labels are aliases too
        cols.setdefault(c["key"], []).insert(0, c["label"])
    hb = raw.get("header_block", {})
    words = {fold(w): s for w, s in tpl["status_words"].items()}
    for w, st in (raw.get("status_words") or {}).items():
        words.setdefault(fold(str(w)), str(st))
    sw = sorted(words.items(), key=lambda p: -len(p[0]))
    abbr = tuple((re.compile(rf"(?<![a-z0-9]){re.escape(fold(str(a)))}(?![a-z0-9])"), fold(str(x)))
                 for a, x in sorted((raw.get("name_abbreviations") or {}).items(), key=lambda p: -len(str(p[0]))))
    quirks = []
    for q in raw.get("quirks") or ():
        q = dict(q)
        q["_match"] = tuple(fold(m) for m in q.get("match") or ())
        q["_sheet"] = re.compile(q["sheet"]) if q.get("sheet") else None
        q["_file"] = re.compile(q["file"]) if q.get("file") else None
        quirks.append(q)
    return _Layouts(
        base=_Layout(cols), raw={"columns": cols},
        skip_words=tuple(fold(w) for w in raw.get("skip_rows") or ()),
        province_labels=frozenset(fold(x) for x in hb.get("province", {}).get("labels", [])),
        province_prefixes=tuple(sorted((fold(x) for x in hb.get("province", {}).get("prefixes", [])),
                                       key=lambda s: -len(s))),
        period_labels=frozenset(fold(x) for x in hb.get("period", {}).get("labels", [])),
        prepared_labels=frozenset(fold(x) for x in hb.get("prepared_on", {}).get("labels", [])),
        quirks=tuple(quirks), status_words=tuple(sw), symbols=dict(tpl["symbols"]),
        unit_labels=frozenset(fold(x) for x in hb.get("unit", {}).get("labels", [])),
        abbreviations=abbr,
        province_bare_prefixes=tuple(sorted((fold(x) for x in hb.get("province", {}).get("bare_prefixes", [])),
                                            key=lambda s: -len(s))),
    )


@lru_cache(maxsize=64)
def _layout_with(quirk_names: tuple[str, ...]) -> _Layout:
    L = layouts()
    if not quirk_names:
        return L.base
    cols = {k: list(v) for k, v in L.raw["columns"].items()}
    for q in L.quirks:
        if q["name"] in quirk_names:
            for k, al in (q.get("columns") or {}).items():
                cols.setdefault(k, [])[:0] = list(al)
    return _Layout(cols)


# ------------------------------------------------------------------------------------ helpers
@lru_cache(maxsize=4096)
def _col_letter(i: int) -> str:
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def _loc(sheet: str | None, r: int, c: int) -> str:
    return f"{sheet}!{_col_letter(c)}{r + 1}" if sheet else f"{_col_letter(c)}{r + 1}"


def _text(v) -> str | None:
    if isinstance(v, str):
        s = v.strip()
        return s or None
    return None


def _blank(v) -> bool:
    return v is None or (isinstance(v, str) and not v.strip()) or (isinstance(v, float) and math.isnan(v))


def _fmt_num(v: float) -> str:
    """A number as a spreadsheet shows it unformatted: 1234.5, 12345600 (no '.0')."""
    v = float(v)
    if v.is_integer() and -1e15 < v < 1e15:
        return str(int(v))
    return repr(v)


# A comparison or plan column repeats a few hundred figures (107,5 / 98,2 / 100) over the files
# of a cycle: each is formatted, and read from an index, once, and the files keep one float of it.
# Bounded; safe under threads.
_PCT_FIGURES: dict[float, tuple[str, float, float]] = {}


def _pct_figure(v: float) -> tuple[str, float, float]:
    """(the figure as written, the change it states if it is an index: v - 100 without the float
    noise, the figure itself as the files share it) of a plain number of a percent column."""
    hit = _PCT_FIGURES.get(v)
    if hit is None:
        if len(_PCT_FIGURES) >= 65536:
            _PCT_FIGURES.clear()
        hit = _PCT_FIGURES[v] = (_fmt_num(v), round(v - 100.0, 10), v)
    return hit


@lru_cache(maxsize=8192)
def parse_unit(text: str) -> str | None:
    return _parse_unit(text)


@lru_cache(maxsize=8192)
def _status_of(text: str) -> str | None:
    """SDMX status of a text that holds a status word ('Ước tính' -> 'E'), else None."""
    t = f" {fold(text)} "
    for w, s in layouts().status_words:
        if f" {w} " in t:
            return s
    return None


_FOOTNOTE = re.compile(r"(?:\(\s*(?:\d{1,2}|\*{1,3}|[a-z])\s*\)|\[\s*\d{1,2}\s*\]|\*{1,3}|[\u00b9\u00b2\u00b3\u2070\u2074-\u2079]+)\s*$")
_ENUM = re.compile(r"^\s*(?:(?:[IVXLC]+|\d+(?:\.\d+)*|[a-zđ])\s*[\.\)/]\s*|[-+*•–·]\s*)", re.IGNORECASE)
_LEAD_WORDS = re.compile(r"^\s*(?:trong đó|chia ra|bao gồm|gồm|of which|in which)\s*[:\-]?\s*", re.IGNORECASE)
_PAREN = re.compile(r"\(([^()]{1,40})\)\s*$")


@lru_cache(maxsize=8192)
def _clean_name(text: str) -> tuple[str, str | None, bool]:
    """(name without enumeration, footnote marks and trailing unit, unit text or None, had footnote)."""
    s = nfc(text).strip()
    foot = False
    for _ in range(3):
        m = _FOOTNOTE.search(s)
        if m and m.start() > 0:
            s = s[: m.start()].rstrip()
            foot = True
        else:
            break
    s = _ENUM.sub("", s, count=1)
    s = _LEAD_WORDS.sub("", s, count=1)
    unit = None
    m = _PAREN.search(s) or _COMMA_UNIT.search(s)
    if m and _unit_text(m.group(1).strip()):
        unit = m.group(1).strip()
        s = s[: m.start()].rstrip()
    return s.strip(" :.-,"), unit, foot


_COMMA_UNIT = re.compile(r",\s*([^,()]{1,25})$")
_CURRENCY_ACRONYMS = frozenset({"usd", "vnd", "ha"})


def _unit_text(t: str) -> bool:
    """A unit written after a name ("(triệu USD)", ", tỷ đồng"), not an acronym that happens to be
    a unit alias ("(DN)" in "Số doanh nghiệp (DN)", "(FDI)")."""
    if not t or parse_unit(t) is None:
        return False
    return not (t.isalpha() and t.isupper() and fold(t) not in _CURRENCY_ACRONYMS)


@lru_cache(maxsize=8192)
def _match_code(text: str) -> str | None:
    cat = indicators()
    t = text.strip()
    if t in cat:
        return t
    k = re.sub(r"[\s\-\.]+", "_", t.lower()).strip("_")
    return k if k in cat else None


@lru_cache(maxsize=8192)
def _match_name(text: str):
    """(IndicatorMatch | None, unit text from the name, footnote mark seen)."""
    name, unit, foot = _clean_name(text)
    m = match_indicator(name) if name else None
    if m is None and name != text.strip():
        m = match_indicator(text)
    if m is None and name:  # abbreviations ("Thu NSNN", "Số DN ĐKTL mới"), expanded from layouts.yaml
        f = fold(name)
        e = f
        for rx, full in layouts().abbreviations:
            e = rx.sub(full, e)
        if e != f:
            m = match_indicator(e)
    return m, unit, foot


_NUMBERING = re.compile(r"^\(?[A-Za-z0-9]{1,3}(?:\s*[=+\-*/x]\s*\(?[A-Za-z0-9]{1,3}\)?)*\)?$")


_SYMBOL_TEXTS = frozenset({"-", "\u2013", "\u2014", "..", "...", "\u2026", "x", "X"})


_DIGIT = re.compile(r"[0-9]")
_ASCII_DIGITS = frozenset("0123456789")


@lru_cache(maxsize=1024)
def _joined_flags(flags: tuple[str, ...]) -> str:
    """A row's or a cell's flags as the ``flag`` column holds them: distinct, in order, comma-joined."""
    return ",".join(dict.fromkeys(flags))


def _figure_like(v) -> bool:
    """A cell that holds (or tries to hold) a figure: a number, a text with a digit, a symbol."""
    if v is None or v == "":
        return False
    if v.__class__ is _ExcelError:
        return True
    if isinstance(v, str):
        s = v.strip()
        if not s or s.replace(" ", "").isalpha():  # words alone (a signature, a heading): no digit of any kind
            return s in _SYMBOL_TEXTS
        return s in _SYMBOL_TEXTS or _DIGIT.search(s) is not None or (
            not s.isascii() and any(map(str.isdigit, s)))  # ² and other digits
    return not (isinstance(v, float) and math.isnan(v))


def _is_numbering_row(row: list) -> bool:
    """A row that numbers the columns under the header: 1 2 3 ... or (A) (B) (1) (2) ..."""
    if len(row) - row.count("") - row.count(None) < 3:  # fewer than three cells of any kind
        return False
    cells = [c for c in row if not _blank(c)]
    if len(cells) < 3:
        return False
    for c in cells:
        if isinstance(c, bool):
            return False
        if isinstance(c, (int, float)):
            if not float(c).is_integer() or not 0 <= c <= 30:
                return False
        elif not (isinstance(c, str) and _NUMBERING.match(c.strip())):
            return False
    return True


# ------------------------------------------------------------------------------------ periods
_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "1": 1, "2": 2, "3": 3, "4": 4}
_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
           "november", "december")
_P_CODE = re.compile(r"\b(\d{4}-(?:0[1-9]|1[0-2]|Q[1-4]|H[12]|(?:[1-9]|1[0-2])M))\b", re.IGNORECASE)
_P_PATTERNS = [
    (re.compile(r"\b6 thang dau nam (?:nam )?(\d{4})\b"), lambda m: f"{m[1]}-H1"),
    (re.compile(r"\b6 thang cuoi nam (?:nam )?(\d{4})\b"), lambda m: f"{m[1]}-H2"),
    (re.compile(r"\bnua (?:dau|cuoi) nam (\d{4})\b"), None),
    (re.compile(r"\bquy (i{1,3}|iv|[1-4]) (?:nam )?(\d{4})\b"), lambda m: f"{m[2]}-Q{_ROMAN[m[1]]}"),
    (re.compile(r"\b(\d{1,2}) thang (?:dau )?(?:nam )?(\d{4})\b"), lambda m: f"{m[2]}-{int(m[1])}M"),
    (re.compile(r"\bthang (\d{1,2}) (?:nam )?(\d{4})\b"), lambda m: f"{m[2]}-{int(m[1]):02d}"),
    (re.compile(r"\b(?:ca )?nam (\d{4})\b"), lambda m: m[1]),
    (re.compile(r"\b(?:first half|h1) (?:of )?(\d{4})\b"), lambda m: f"{m[1]}-H1"),
    (re.compile(r"\b(?:second half|h2) (?:of )?(\d{4})\b"), lambda m: f"{m[1]}-H2"),
    (re.compile(r"\bq([1-4]) (\d{4})\b"), lambda m: f"{m[2]}-Q{m[1]}"),
    (re.compile(r"\b(?:first )?(\d{1,2}) months (?:of )?(?:the year )?(\d{4})\b"), lambda m: f"{m[2]}-{int(m[1])}M"),
    (re.compile(r"\b(?:quarter|qtr) (i{1,3}|iv|[1-4]) (?:of )?(\d{4})\b"), lambda m: f"{m[2]}-Q{_ROMAN[m[1]]}"),
    (re.compile(r"\b(?:the )?(first|second|third|fourth) quarter (?:of )?(\d{4})\b"),
     lambda m: f"{m[2]}-Q{('first', 'second', 'third', 'fourth').index(m[1]) + 1}"),
    (re.compile(r"\b(" + "|".join(_MONTHS) + r") (\d{4})\b"), lambda m: f"{m[2]}-{_MONTHS.index(m[1]) + 1:02d}"),
    (re.compile(r"\b(?:year|fy|full year) (\d{4})\b"), lambda m: m[1]),
]
# A period written as a date range: "01/01/2025 - 30/06/2025", "từ 01/7/2025 đến 30/9/2025" (folded)
_P_RANGE = re.compile(r"\b(\d{1,2}) (\d{1,2}) (\d{4}) (?:den |to |toi )?(?:ngay )?(\d{1,2}) (\d{1,2}) (\d{4})\b")


def _period_of_range(m: re.Match) -> str | None:
    """The period a date range covers when it runs from the first day of a month to the last day
    of a month of the same year and matches one of the period kinds; else None."""
    try:
        a = date(int(m[3]), int(m[2]), int(m[1]))
        b = date(int(m[6]), int(m[5]), int(m[4]))
    except ValueError:
        return None
    if a.year != b.year or a.day != 1 or (b + timedelta(days=1)).day != 1 or b < a:
        return None
    n = b.month - a.month + 1
    y = a.year
    if n == 1:
        return f"{y}-{a.month:02d}"
    if n == 3 and a.month in (1, 4, 7, 10):
        return f"{y}-Q{(a.month - 1) // 3 + 1}"
    if n == 6 and a.month == 7:
        return f"{y}-H2"
    if a.month == 1:
        return f"{y}-{n}M"  # 6M is H1, 12M the year (parse_period normalises)
    return None


@lru_cache(maxsize=2048)
def period_from_text(text: str) -> str | None:
    """A period in DESIGN.md notation from Vietnamese words ('6 tháng đầu năm 2026' -> '2026-H1',
    'Quý II/2025' -> '2025-Q2', 'Tháng 9 năm 2025' -> '2025-09', '9 tháng năm 2024' -> '2024-9M',
    'Năm 2025' -> '2025') or from the notation itself; None when nothing reads as a period."""
    if not text:
        return None
    m = _P_CODE.search(text)
    if m:
        try:
            return parse_period(m.group(1)).code
        except DiaphuongError:
            pass
    t = fold(text)
    t = re.sub(r"\b(nam)\s+(\d{4})", r"\1 \2", t)
    m = _P_RANGE.search(t)
    if m:
        code = _period_of_range(m)
        if code:
            try:
                return parse_period(code).code
            except DiaphuongError:
                return None
    for rx, fn in _P_PATTERNS:
        m = rx.search(t)
        if m and fn is not None:
            try:
                return parse_period(fn(m)).code
            except DiaphuongError:
                return None
    return None


# ------------------------------------------------------------------------------------ loading
@dataclass
class _Sheet:
    name: str | None
    rows: list[list]
    merges: list | None
    visible: bool = True
    pct_cells: set | None = None  # (row, col) of percent-formatted cells (xlsx only), None = unknown
    typed: bool = True  # cells carry numbers (spreadsheets); False for csv (all text)
    hidden: tuple[tuple[int, int], ...] = ()  # hidden column ranges (0-based, inclusive; xlsx only)

    def is_hidden(self, j: int) -> bool:
        return any(lo <= j <= hi for lo, hi in self.hidden)


class _ExcelError(str):
    """A cell whose formula's cached result is an Excel error (#DIV/0!, #REF!, #N/A ...): calamine
    reads it as an empty cell, the sheet's XML says what it was."""
    __slots__ = ()


def _unreadable(msg: str, name: str, reason: str, hint: str | None = None):
    return UnreadableFile(msg, file=name, reason=reason, hint=hint)


class _ZipEntry:
    __slots__ = ("filename", "flag_bits", "method", "compress_size", "file_size", "offset")

    def __init__(self, filename, flag_bits, method, compress_size, file_size, offset):
        self.filename, self.flag_bits, self.method = filename, flag_bits, method
        self.compress_size, self.file_size, self.offset = compress_size, file_size, offset


# a central directory file header (46 bytes): signature, flags, method, compressed and
# uncompressed sizes, name / extra / comment lengths, local header offset (the rest skipped)
_CD_ENTRY = struct.Struct("<4s4xHH8xIIHHH8xI")


class _Zip:
    """The central directory of a zip held in memory, read with struct alone (no inflation), and
    bounded reads of its members. Zip64 archives go through :mod:`zipfile`."""

    def __init__(self, data: bytes, name: str):
        self.data, self.name = data, name
        self.entries: dict[str, _ZipEntry] = {}
        eocd = data.rfind(b"PK\x05\x06", max(0, len(data) - 65557))
        if eocd < 0 or eocd + 22 > len(data):
            raise _unreadable("corrupt zip container (no central directory: truncated?)", name, "corrupt",
                              "open the file in Excel and save it again as .xlsx")
        n, cd_size, cd_off = struct.unpack_from("<HII", data, eocd + 10)
        if n == 0xFFFF or cd_off == 0xFFFFFFFF:
            self._from_zipfile()
            return
        if n > LIMITS["zip_members"]:
            raise _unreadable(f"{n} parts in the zip container (limit {LIMITS['zip_members']})", name, "zip_bomb")
        p = cd_off
        unpack = _CD_ENTRY.unpack_from
        entries = self.entries
        try:
            for _ in range(n):
                sig, flags, method, csize, usize, nlen, elen, clen, off = unpack(data, p)
                if sig != b"PK\x01\x02":
                    raise ValueError("bad central directory entry")
                raw_name = data[p + 46:p + 46 + nlen]
                # ASCII names (every Office part) decode alike in both encodings, without the
                # Python-level cp437 codec
                fname = raw_name.decode("ascii" if raw_name.isascii() else "utf-8" if flags & 0x800 else "cp437")
                entries[fname] = _ZipEntry(fname, flags, method, csize, usize, off)
                p += 46 + nlen + elen + clen
        except (struct.error, ValueError, UnicodeDecodeError) as e:
            raise _unreadable(f"corrupt zip container ({e})", name, "corrupt",
                              "open the file in Excel and save it again as .xlsx") from None

    def _from_zipfile(self):
        try:
            zf = zipfile.ZipFile(io.BytesIO(self.data))
            infos = zf.infolist()
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as e:
            raise _unreadable(f"corrupt zip container ({e})", self.name, "corrupt") from None
        if len(infos) > LIMITS["zip_members"]:
            raise _unreadable(f"{len(infos)} parts in the zip container", self.name, "zip_bomb")
        for zi in infos:
            self.entries[zi.filename] = _ZipEntry(zi.filename, zi.flag_bits, zi.compress_type, zi.compress_size,
                                                  zi.file_size, zi.header_offset)

    def namelist(self) -> list[str]:
        return list(self.entries)

    def infolist(self) -> list[_ZipEntry]:
        return list(self.entries.values())

    def _raw(self, e: _ZipEntry) -> bytes:
        d = self.data
        if d[e.offset:e.offset + 4] != b"PK\x03\x04":
            raise _unreadable(f"corrupt zip container (part {e.filename})", self.name, "corrupt")
        nlen, elen = struct.unpack_from("<HH", d, e.offset + 26)
        start = e.offset + 30 + nlen + elen
        return d[start:start + e.compress_size]

    def read(self, fname: str, limit: int | None = None) -> bytes:
        """The member's bytes, at most ``limit`` of them (default: the zip limit). KeyError if absent."""
        e = self.entries[fname]
        limit = LIMITS["zip_uncompressed"] if limit is None else limit
        raw = self._raw(e)
        if e.method == 0:
            return raw[:limit]
        if e.method != 8:
            raise _unreadable(f"part {fname} uses compression method {e.method}", self.name, "corrupt")
        if e.file_size <= limit:
            try:  # libdeflate, twice zlib's speed, into a buffer of the size the directory declares
                return deflate.deflate_decompress(raw, e.file_size)
            except deflate.DeflateError:
                pass  # a broken part, or one larger than declared: zlib below reads it (bounded) or says why
        try:
            if len(raw) * _DEFLATE_MAX_RATIO < limit:  # cannot inflate past the limit: one call
                return zlib.decompress(raw, -15)
            return zlib.decompressobj(-15).decompress(raw, limit)
        except zlib.error as e2:
            raise _unreadable(f"corrupt zip container (part {fname}: {e2})", self.name, "corrupt") from None

    def inflated_size_exceeds(self, fname: str, limit: int) -> bool:
        """Inflate in bounded chunks and stop past ``limit`` (for a directory that lies)."""
        e = self.entries[fname]
        if e.method != 8:
            return e.compress_size > limit
        d = zlib.decompressobj(-15)
        raw = self._raw(e)
        total = 0
        chunk = raw
        while True:
            out = d.decompress(chunk, 1 << 20)
            total += len(out)
            if total > limit:
                return True
            chunk = d.unconsumed_tail
            if not chunk:
                return total + len(d.flush()) > limit


# Deflate inflates at most ~1032:1: an archive whose compressed parts are this small cannot inflate
# past the limit whatever its directory says; larger ones are inflated (bounded) to check.
_DEFLATE_MAX_RATIO = 1032


def _check_zip(data: bytes, name: str) -> _Zip:
    """Open the zip container and refuse bombs from its directory alone (nothing is inflated
    unless the directory could be lying about a part large enough to matter)."""
    zf = _Zip(data, name)
    total = 0
    csum = 0
    for zi in zf.infolist():
        if zi.flag_bits & 0x1:
            raise _unreadable("the zip container is password-protected", name, "encrypted",
                              "send the file without a password")
        total += zi.file_size
        csum += zi.compress_size
        if zi.file_size > (1 << 20) and zi.file_size > LIMITS["zip_ratio"] * max(zi.compress_size, 1):
            raise _unreadable(
                f"part {zi.filename} inflates {zi.compress_size} bytes to {zi.file_size} "
                f"(ratio {zi.file_size // max(zi.compress_size, 1)}, limit {LIMITS['zip_ratio']}): a zip bomb",
                name, "zip_bomb")
    if total > LIMITS["zip_uncompressed"]:
        raise _unreadable(f"unzipped size {total} bytes exceeds {LIMITS['zip_uncompressed']}: refused as a zip bomb",
                          name, "zip_bomb")
    if csum * _DEFLATE_MAX_RATIO > LIMITS["zip_uncompressed"]:
        for zi in zf.infolist():
            if zi.compress_size * _DEFLATE_MAX_RATIO > zi.file_size + (1 << 16) and \
                    zf.inflated_size_exceeds(zi.filename, max(zi.file_size, 0) + (1 << 16)):
                raise _unreadable(f"part {zi.filename} inflates past the size its directory declares: a zip bomb",
                                  name, "zip_bomb")
    return zf


_DIM = re.compile(rb'<(?:\w+:)?dimension ref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"')


def _col_index(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ch - 64)
    return n - 1


# Every reference that places a cell or a row is checked before calamine builds its grid. Sheets as
# spreadsheet programs write them give each attribute as ` r="..."`, and one pass finds any that
# reaches far: two letters or more (column AA and beyond) or five digits or more (row 10000 and
# beyond), in a cell or a row, in whatever order the rows come, in either case. XML also allows
# ` r='...'`, ` r = "..."` and a tab or a line break before the name, which calamine reads alike:
# the same pass flags an `r` attribute written otherwise, and a sheet with a single quote, a tab or
# a line break past its declaration (found with memchr) is measured by the tolerant pattern.
# RE2 scans in linear time with a DFA, four times faster than `re` here, and untrusted XML cannot
# make it backtrack. The first pattern also finds the first error cell, the second goes on after it.
_SHEET_SCAN = re2.compile(rb' (?:(t="e")|r(?:="(?:[A-Za-z]{2}|[A-Za-z]?[0-9]{5})| |=[^"]))')
_FAR_OR_ODD_REF = re2.compile(rb' r(?:="(?:[A-Za-z]{2}|[A-Za-z]?[0-9]{5})| |=[^"])')
_REF_ALL = re.compile(rb' r *= *"([A-Za-z]*)([0-9]+)"')
_ERR_ANY = re.compile(rb' t *= *"e"')
_XML_BLANKS = bytes.maketrans(b"\t\n\r'", b'   "')  # what the tolerant pattern reads as a space or a quote
_COLS = re.compile(rb"<(?:\w+:)?cols>(.*?)</(?:\w+:)?cols>", re.S)
_COL = re.compile(rb"<(?:\w+:)?col\b([^>]*)>")
_ERR_CELL = re.compile(rb'<(?:\w+:)?c r="([A-Z]{1,3})([0-9]+)"[^>]*?\bt="e"[^>]*>(.*?)</(?:\w+:)?c>', re.S)
_V = re.compile(rb"<(?:\w+:)?v>([^<]*)</(?:\w+:)?v>")


def _check_sheet(xml: bytes, fname: str, name: str) -> bool:
    """Refuse a sheet whose cells span an absurd area, before calamine parses it, and say whether
    it has cells holding an Excel error. calamine makes a dense grid from the first to the last
    cell it places (by each cell's reference), so two cells at A1 and XFD1048576 would ask for 17
    billion cells and abort the process. The declared dimension is checked first; then, when a
    reference anywhere reaches past column Z or row 9999 (or is written in a way the one pass does
    not read), the extent of every reference (otherwise at most 9999 rows x 26 columns: a bounded
    grid, whose cell limit is checked on the sheet calamine reads)."""
    limit = LIMITS["cells"]
    m = _DIM.search(xml, 0, 4096)
    if m and m.group(3):
        nrows = int(m.group(4)) - int(m.group(2)) + 1
        ncols = _col_index(m.group(3)) - _col_index(m.group(1)) + 1
        if nrows * ncols > limit:
            raise _unreadable(f"{fname} declares {nrows} x {ncols} cells (limit {limit})", name, "too_many_cells")
    body = xml.find(b"?>") + 4  # a line break may end the XML declaration
    if xml.find(b"'") < 0 and xml.find(b"\t") < 0 and xml.find(b"\n", body) < 0 and xml.find(b"\r", body) < 0:
        hit = _SHEET_SCAN.search(xml)
        if hit is None:
            return False
        if hit.group(1) is not None and _FAR_OR_ODD_REF.search(xml, hit.end()) is None:
            return True  # error cells, and every reference near
    xml = xml.translate(_XML_BLANKS)
    refs = _REF_ALL.findall(xml)
    nrows = max((int(digits) for _letters, digits in refs), default=1)
    ncols = max((_col_index(letters.upper()) + 1 for letters, _digits in refs if letters), default=1)
    if nrows * ncols > limit:
        raise _unreadable(f"{fname} spans {nrows} rows x {ncols} columns of cells (limit {limit})", name,
                          "too_many_cells")
    return _ERR_ANY.search(xml) is not None


def _hidden_columns(xml: bytes) -> tuple[tuple[int, int], ...]:
    """Hidden column ranges of a worksheet (``<col min max hidden="1">``), 0-based inclusive."""
    m = _COLS.search(xml, 0, xml.find(b"<sheetData") if b"<sheetData" in xml else len(xml))
    if not m or b"hidden=" not in m.group(1):
        return ()
    out = []
    for c in _COL.finditer(m.group(1)):
        attrs = c.group(1)
        if re.search(rb'\bhidden="(?:1|true)"', attrs):
            lo = re.search(rb'\bmin="(\d+)"', attrs)
            hi = re.search(rb'\bmax="(\d+)"', attrs)
            if lo and hi:
                out.append((int(lo.group(1)) - 1, int(hi.group(1)) - 1))
    return tuple(out)


def _error_cells(xml: bytes) -> dict[tuple[int, int], str]:
    """(row, col) -> the Excel error a formula cell holds (``t="e"``)."""
    out = {}
    for col, row, body in _ERR_CELL.findall(xml):
        v = _V.search(body)
        out[(int(row) - 1, _col_index(col))] = v.group(1).decode("utf-8", "replace") if v else "#ERROR"
    return out


@dataclass
class _PartInfo:
    hidden: tuple[tuple[int, int], ...]
    errors: dict[tuple[int, int], str]
    pct: set


def _scan_xlsx_parts(zf: _Zip, name: str, pct_styles: set[int]) -> dict[str, _PartInfo]:
    """Inflate each worksheet once: check its extent, and note its hidden columns, its cells that
    hold an Excel error and (when the styles have percent formats) its percent-formatted cells.
    Returns the parts that have any of these, by part name."""
    out = {}
    for fname in zf.entries:
        if not (fname.startswith("xl/worksheets/") and fname.endswith(".xml")):
            continue
        xml = zf.read(fname)
        has_errors = _check_sheet(xml, fname, name)
        sd = xml.find(b"sheetData")
        hidden = _hidden_columns(xml) if xml.find(b"hidden=", 0, sd if sd > 0 else len(xml)) >= 0 else ()
        errors = _error_cells(xml) if has_errors else {}
        pct = _pct_positions(xml, pct_styles) if pct_styles else set()
        if hidden or errors or pct:
            out[fname] = _PartInfo(hidden, errors, pct)
    return out


_ODS_ROW = re.compile(rb"<table:table-row\b([^>]*?)(?:/>|>(.*?)</table:table-row>)", re.S)
_ODS_CELL = re.compile(rb"<table:(?:covered-)?table-cell\b([^>]*?)(/>|>(.*?)</table:(?:covered-)?table-cell>)", re.S)
_ODS_ROWS_REP = re.compile(rb'number-rows-repeated="(\d+)"')
_ODS_COLS_REP = re.compile(rb'number-columns-repeated="(\d+)"')


def _check_ods_extent(zf: _Zip, name: str) -> None:
    """An .ods may repeat a row or a cell that holds a value a million times
    (``table:number-rows-repeated``): count the grid that would be built, before calamine does."""
    xml = zf.read("content.xml")
    if b"-repeated=" not in xml:
        return
    limit = LIMITS["cells"]
    nrows = width = 0
    for m in _ODS_ROW.finditer(xml):
        attrs, body = m.group(1), m.group(2) or b""
        r = _ODS_ROWS_REP.search(attrs)
        rep = int(r.group(1)) if r else 1
        if b"office:value" not in body and b"<text:p" not in body:
            nrows += rep if rep < 1000 else 0  # trailing empty rows: nothing is built for them
            continue
        pos = last = 0
        for c in _ODS_CELL.finditer(body):
            cr = _ODS_COLS_REP.search(c.group(1))
            n = int(cr.group(1)) if cr else 1
            pos += n
            if b"office:value" in c.group(1) or (c.group(3) and b"<text:p" in c.group(3)):
                last = pos
        nrows += rep
        width = max(width, last)
        if nrows * width > limit:
            raise _unreadable(f"content.xml repeats cells over {nrows} rows x {width} columns (limit {limit})",
                              name, "too_many_cells")


# BIFF records that place a cell where calamine builds its grid (blank cells it skips): FORMULA
# (three BIFF versions), RSTRING, LABELSST, NUMBER, LABEL, BOOLERR, RK; MULRK places a run of them.
_XLS_CELL_RECORDS = frozenset({0x0006, 0x0206, 0x0406, 0x00D6, 0x00FD, 0x0203, 0x0204, 0x0205, 0x027E})
_XLS_MULRK = 0x00BD
_XLS_BOF = frozenset({0x0009, 0x0209, 0x0409, 0x0809})
_XLS_EOF = 0x000A
_XLS_BOUNDSHEET = 0x0085  # a sheet's name and where its substream starts


def _check_xls_extent(data: bytes, name: str) -> None:
    """Refuse a legacy .xls whose cells span an absurd area before calamine parses it: two cells at
    A1 and IV65536 of a 6 kB file would make it build a grid of 16.8 million cells (about a
    gigabyte). The workbook stream's cell records are read (each names its row and column), per
    sheet substream; a file the container reader cannot open is left to calamine to report."""
    import olefile

    try:
        ole = olefile.OleFileIO(data)
    except Exception:  # noqa: BLE001 - a broken container: calamine says what is wrong with it
        return
    try:
        stream = "Workbook" if ole.exists("Workbook") else "Book" if ole.exists("Book") else None
        if stream is None:
            return
        wb = ole.openstream(stream).read()
    except Exception:  # noqa: BLE001
        return
    finally:
        ole.close()
    limit = LIMITS["cells"]
    unpack = struct.unpack_from
    stack: list = []
    extent = None  # [rows, columns] of the substream being read (from A1, as the reader's grid)
    names: dict[int, str] = {}  # where each sheet's substream starts -> its name (BOUNDSHEET)
    sheet = ""
    sheet_no = 0
    p, n = 0, len(wb)
    while p + 4 <= n:
        rtype, size = unpack("<HH", wb, p)
        body = p + 4
        if rtype in _XLS_BOF:
            if extent is None:  # a sheet's substream (or the workbook's globals) starts
                sheet = names.get(p, "")
            stack.append(extent)
            extent = [0, 0]
        elif rtype == _XLS_EOF:
            if extent is not None and extent[0] * extent[1] > limit:
                where = repr(sheet) if sheet else str(sheet_no)
                raise _unreadable(f"sheet {where} spans {extent[0]} rows x {extent[1]} columns of cells "
                                  f"(limit {limit})", name, "too_many_cells")
            extent = stack.pop() if stack else None
            if extent is None:  # a top-level substream ended: the workbook's globals, then each sheet
                sheet_no += 1
        elif rtype == _XLS_BOUNDSHEET and size >= 8 and body + size <= n:
            cch, high = wb[body + 6], wb[body + 7] & 1
            raw = wb[body + 8:body + 8 + cch * (2 if high else 1)]
            names[unpack("<I", wb, body)[0]] = raw.decode("utf-16-le" if high else "latin-1", "replace")
        elif extent is not None and size >= 4 and body + size <= n and (
                rtype in _XLS_CELL_RECORDS or rtype == _XLS_MULRK):
            row, col = unpack("<HH", wb, body)
            if rtype == _XLS_MULRK and size >= 6:
                col = max(col, unpack("<H", wb, body + size - 2)[0])
            if row >= extent[0]:
                extent[0] = row + 1
            if col >= extent[1]:
                extent[1] = col + 1
        p = body + size


_XF = re.compile(rb"<xf\b([^>]*)/?>")
_NUMFMT = re.compile(rb'<numFmt\b[^>]*numFmtId="(\d+)"[^>]*formatCode="([^"]*)"')
_CELL_S = re.compile(rb'<c r="([A-Z]+)(\d+)"[^>]*?\bs="(\d+)"')


def _xlsx_percent_styles(zf: _Zip) -> set[int]:
    """Indices of the cell formats (``cellXfs``) that show a number as a percent."""
    e = zf.entries.get("xl/styles.xml")
    if e is None:
        return set()
    return set(_percent_styles_of(zf._raw(e), e.method, zf))


def _percent_styles_of(raw: bytes, method: int, zf: _Zip) -> frozenset[int]:
    """Cached by the compressed bytes of styles.xml: the forms one tool writes share them."""
    hit = _PCT_STYLE_CACHE.get((raw, method))
    if hit is not None:
        return hit
    out = frozenset(_percent_styles_xml(zf.read("xl/styles.xml")))
    if len(_PCT_STYLE_CACHE) > 256:
        _PCT_STYLE_CACHE.clear()
    _PCT_STYLE_CACHE[(raw, method)] = out
    return out


_PCT_STYLE_CACHE: dict[tuple[bytes, int], frozenset[int]] = {}


def _percent_styles_xml(xml: bytes) -> set[int]:
    if b"%" not in xml and b'numFmtId="9"' not in xml and b'numFmtId="10"' not in xml:
        return set()
    custom = {int(i): code for i, code in _NUMFMT.findall(xml)}
    i0 = xml.find(b"<cellXfs")
    if i0 < 0:
        return set()
    i1 = xml.find(b"</cellXfs>", i0)
    out = set()
    for n, attrs in enumerate(_XF.findall(xml[i0:i1])):
        m = re.search(rb'numFmtId="(\d+)"', attrs)
        fid = int(m.group(1)) if m else 0
        if fid in (9, 10) or b"%" in custom.get(fid, b""):
            out.add(n)
    return out


def _xlsx_sheet_paths(zf: _Zip) -> dict[str, str]:
    try:
        wb = zf.read("xl/workbook.xml")
        rels = zf.read("xl/_rels/workbook.xml.rels")
    except KeyError:
        return {}
    targets = {}
    for m in re.finditer(rb"<Relationship\b[^>]*>", rels):
        tag = m.group(0)
        i = re.search(rb'Id="([^"]+)"', tag)
        t = re.search(rb'Target="([^"]+)"', tag)
        if i and t:
            tgt = t.group(1).decode()
            targets[i.group(1).decode()] = tgt.lstrip("/") if tgt.startswith("/") else "xl/" + tgt
    out = {}
    for m in re.finditer(rb"<sheet\b[^>]*>", wb):
        tag = m.group(0)
        nm = re.search(rb'name="([^"]+)"', tag)
        rid = re.search(rb'r:id="([^"]+)"', tag) or re.search(rb'\bid="([^"]+)"', tag)
        if nm and rid and rid.group(1).decode() in targets:
            import html
            out[html.unescape(nm.group(1).decode("utf-8"))] = targets[rid.group(1).decode()]
    return out


def _pct_positions(xml: bytes, styles: set[int]) -> set:
    out = set()
    for col, row, st in _CELL_S.findall(xml):
        if int(st) in styles:
            out.add((int(row) - 1, _col_index(col)))
    return out


def _calamine_sheets(data: bytes, name: str, fmt: str, zf: _Zip | None,
                     parts: dict[str, _PartInfo]) -> list[_Sheet]:
    """The sheets, as calamine reads them (every check of the file passed). ``parts``: what
    :func:`_check_xlsx_sheets` found in an xlsx ({} for other formats)."""
    import python_calamine as pc

    try:
        wb = pc.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except pc.PasswordError:
        raise _unreadable("the workbook is password-protected", name, "encrypted",
                          "send the file without a password") from None
    except Exception as e:  # calamine raises its own error types for every corruption
        if "cell limit" in str(e).lower():
            raise _unreadable(f"too many cells ({str(e)[:200]})", name, "too_many_cells") from None
        raise _unreadable(f"cannot open the workbook ({type(e).__name__}: {str(e)[:200]})", name, "corrupt",
                          "open the file in Excel and save it again as .xlsx") from None
    metas = wb.sheets_metadata
    if len(metas) > LIMITS["sheets"]:
        raise _unreadable(f"{len(metas)} sheets (limit {LIMITS['sheets']})", name, "too_many_cells")
    paths = _xlsx_sheet_paths(zf) if parts else {}
    out = []
    for meta in metas:
        if str(meta.typ) != "SheetTypeEnum.WorkSheet":
            continue
        try:
            sh = wb.get_sheet_by_name(meta.name)
        except Exception as e:
            raise _unreadable(f"cannot read sheet {meta.name!r} ({type(e).__name__}: {str(e)[:200]})",
                              name, "corrupt") from None
        end = sh.end
        if end is not None and (end[0] + 1) * (end[1] + 1) > LIMITS["cells"]:
            raise _unreadable(f"sheet {meta.name!r} has {end[0] + 1} x {end[1] + 1} cells (limit {LIMITS['cells']})",
                              name, "too_many_cells")
        rows = _grid(sh) if end is not None else []
        merges = sh.merged_cell_ranges if fmt in ("xlsx", "xls") else None
        part = parts.get(paths.get(meta.name, "")) if parts else None
        pct = part.pct if part is not None else (set() if fmt == "xlsx" else None)
        if part is not None and part.errors:
            for (r, c), err in part.errors.items():
                if r < len(rows) and c < len(rows[r]) and _blank(rows[r][c]):
                    rows[r][c] = _ExcelError(err)
        out.append(_Sheet(meta.name, rows, merges, str(meta.visible) == "SheetVisibleEnum.Visible", pct,
                          hidden=part.hidden if part is not None else ()))
    return out


def _check_xlsx_sheets(zf: _Zip, name: str) -> dict[str, _PartInfo]:
    """Every check of an xlsx's sheets that comes before calamine reads them (their extent), and
    what calamine does not say (hidden columns, error cells, percent-formatted cells)."""
    return _scan_xlsx_parts(zf, name, _xlsx_percent_styles(zf))


def _grid(sh) -> list[list]:
    """The sheet's cells from A1 (rows and columns before its first cell padded with ""), as
    ``to_python(skip_empty_area=False)`` gives them, at the cost of the range alone (most sheets
    start at A1; calamine pads more slowly than this does)."""
    rows = sh.to_python()
    r0, c0 = sh.start
    if c0:
        pad = [""] * c0
        rows = [pad + r for r in rows]
    if r0:
        width = len(rows[0]) if rows else c0
        rows = [[""] * width for _ in range(r0)] + rows
    return rows


def _csv_sheet(data: bytes, name: str) -> _Sheet:
    if len(data) > LIMITS["csv_bytes"]:
        raise _unreadable(f"{len(data)} bytes of CSV (limit {LIMITS['csv_bytes']})", name, "too_large")
    text = decode_bytes(data, name=name).text
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.splitlines()
    if not any(ln.strip() for ln in lines):
        raise _unreadable("the file holds no data", name, "empty")
    sample = lines[:60]
    best, best_n = ",", -1
    for d in ("\t", ";", ",", "|"):
        counts = [ln.count(d) for ln in sample if ln.strip()]
        # the delimiter that splits most lines into the same (largest) number of fields
        if not counts or max(counts) == 0:
            continue
        common = max(set(counts), key=counts.count)
        score = counts.count(common) * (common > 0) * 1000 + common
        if score > best_n:
            best, best_n = d, score
    rows = list(csv.reader(io.StringIO(text), delimiter=best))
    width = max((len(r) for r in rows), default=0)
    if len(rows) * width > LIMITS["cells"]:
        raise _unreadable(f"{len(rows)} x {width} cells (limit {LIMITS['cells']})", name, "too_many_cells")
    # Excel names the one sheet of a CSV after the file: locators read "01_ha_noi!E12"
    return _Sheet(Path(name).stem or "csv", rows, None, True, None, typed=False)


_TEXT_EXT = {".csv", ".txt", ".tsv"}


class _Opened:
    """A file whose format is known and whose container passed every check that needs no
    spreadsheet reader: the format, the zip (xlsx, ods), what the xlsx sheets' check found, and
    the sheet of a CSV (read at once: no spreadsheet reader is involved)."""
    __slots__ = ("fmt", "zf", "parts", "sheets")

    def __init__(self, fmt: str, zf: _Zip | None = None, parts: dict | None = None,
                 sheets: list[_Sheet] | None = None):
        self.fmt, self.zf, self.parts, self.sheets = fmt, zf, parts, sheets


def _sheets_of(data: bytes, name: str, op: _Opened) -> list[_Sheet]:
    """The sheets of an opened file: calamine reads a workbook (its checks passed)."""
    if op.sheets is not None:
        return op.sheets
    return _calamine_sheets(data, name, op.fmt, op.zf, op.parts)


def _open(data: bytes, path: Path, name: str) -> _Opened:
    """Detect the format from the bytes (not the name) and run every check that comes before a
    spreadsheet reader: size, container, zip bombs, the extent of the sheets."""
    if not data:
        raise _unreadable("the file is empty (0 bytes)", name, "empty")
    if len(data) > LIMITS["file_bytes"]:
        raise _unreadable(f"{len(data)} bytes (limit {LIMITS['file_bytes']})", name, "too_large")
    if data[:4] == b"PK\x03\x04" or data[:4] == b"PK\x05\x06":
        zf = _check_zip(data, name)
        names = set(zf.namelist())
        if "xl/workbook.xml" in names or any(n.endswith("workbook.xml") for n in names if n.startswith("xl/")):
            return _Opened("xlsx", zf, _check_xlsx_sheets(zf, name))
        if "content.xml" in names:
            mt = zf.read("mimetype")[:80] if "mimetype" in names else b""
            if b"spreadsheet" in mt or not mt:
                _check_ods_extent(zf, name)
                return _Opened("ods", zf, {})
            raise _unreadable(f"an OpenDocument file that is not a spreadsheet ({mt.decode(errors='replace')})",
                              name, "not_a_spreadsheet", "save the table as .xlsx, .ods or .csv")
        kind = "a Word document" if "word/document.xml" in names else "a zip archive"
        raise _unreadable(f"{kind}, not a spreadsheet", name, "not_a_spreadsheet",
                          "send the figures on the department's .xlsx template")
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        if "EncryptedPackage".encode("utf-16-le") in data or "EncryptionInfo".encode("utf-16-le") in data:
            raise _unreadable("the workbook is password-protected (encrypted Office file)", name, "encrypted",
                              "send the file without a password")
        if "Workbook".encode("utf-16-le") not in data and "Book".encode("utf-16-le") not in data:
            raise _unreadable("an Office file that is not a workbook (no Workbook stream)", name,
                              "not_a_spreadsheet", "send the figures on the department's .xlsx template")
        _check_xls_extent(data, name)
        return _Opened("xls", None, {})
    ext = path.suffix.lower()
    head = data[:1024].lstrip()
    if head[:5].lower() in (b"%pdf-",) or head[:5] == b"{\\rtf" or head[:1] == b"<":
        raise _unreadable("not a spreadsheet (PDF, RTF or HTML content)", name, "not_a_spreadsheet",
                          "send the figures on the department's .xlsx template")
    if ext in _TEXT_EXT or ext == "":
        return _Opened("csv", sheets=[_csv_sheet(data, name)])
    raise _unreadable(f"not a spreadsheet: the content is not {ext.lstrip('.') or 'a known format'}",
                      name, "not_a_spreadsheet", "send the figures on the department's .xlsx template")


# ------------------------------------------------------------------------------------ table
@dataclass
class _Table:
    header_row: int
    header_height: int
    cols: dict[str, int]           # key -> column (of the first table when several stand side by side)
    labels: dict[int, str]          # column -> header text (raw, joined)
    ignored: list[tuple[int, str]]  # extra or duplicate columns
    data_start: int
    quirks: tuple[str, ...]
    score: int
    blocks: list[dict[str, int]] = field(default_factory=list)  # further tables side by side


def _merge_fill(sheet: _Sheet, upto: int) -> dict[tuple[int, int], object]:
    fill: dict[tuple[int, int], object] = {}
    for (r0, c0), (r1, c1) in sheet.merges or ():
        if r0 >= upto or (r1 - r0 + 1) * (c1 - c0 + 1) > 400:
            continue
        v = sheet.rows[r0][c0] if r0 < len(sheet.rows) and c0 < len(sheet.rows[r0]) else None
        for i in range(r0, r1 + 1):
            for j in range(c0, c1 + 1):
                if (i, j) != (r0, c0):
                    fill[(i, j)] = v
    return fill


def _row_labels(rows, i: int, fill) -> dict[int, tuple[str, str]]:
    """column -> (folded label, raw label) of the text cells of row ``i`` (merged cells filled)."""
    out: dict[int, tuple[str, str]] = {}
    row = rows[i]
    if not fill:
        for j, v in [(j, v) for j, v in enumerate(row) if v.__class__ is str and v]:
            t = v.strip()
            if t:
                f = fold(t)
                if f:
                    out[j] = (f, t)
        return out
    for j, v in enumerate(row):
        if _blank(v):
            v = fill.get((i, j))
        if isinstance(v, str) and v.__class__ is not _ExcelError:
            t = v.strip()
            if t:
                f = fold(t)
                if f:
                    out[j] = (f, t)
    return out


def _join_labels(parts: list[dict[int, tuple[str, str]]]) -> dict[int, tuple[str, str]]:
    """The labels of a header of several rows: per column, the words of its rows top to bottom
    (a merged cell's text once)."""
    if len(parts) == 1:
        return parts[0]
    out = {}
    for j in sorted(set().union(*parts)):
        pf: list[str] = []
        pr: list[str] = []
        for d in parts:
            x = d.get(j)
            if x is not None and (not pf or pf[-1] != x[0]):
                pf.append(x[0])
                pr.append(x[1])
        out[j] = (" ".join(pf), " / ".join(pr))
    return out


_ROW_KEYS = frozenset({"stt", "indicator_code", "indicator_name"})
_YEARS = re.compile(r"(?<!\d)((?:19|20)\d\d)(?!\d)")
_HIDDEN_PENALTY = 100_000    # a hidden column maps only when no visible one has its key
_OTHER_YEAR_PENALTY = 50_000  # a value column headed by another year than the cycle's


def _map_columns(labels: dict[int, tuple[str, str]], layout: _Layout, sheet: _Sheet | None = None,
                 year: int | None = None) -> tuple[tuple[dict[str, tuple[int, int]], ...], tuple[tuple[int, str], ...]]:
    """The columns' keys, as one dict per table (several when the header repeats its indicator
    column: tables side by side), and the columns left out. Cached: forms of one template share
    their header rows (the result is shared: do not modify it)."""
    return _map_cached(tuple(labels.items()), layout, sheet.hidden if sheet is not None else (), year)


@lru_cache(maxsize=4096)
def _map_cached(items: tuple, layout: _Layout, hidden_ranges: tuple, year: int | None):
    labels = dict(items)
    hits: list[tuple[int, str, int, str]] = []
    ignored: list[tuple[int, str]] = []
    hidden = bool(hidden_ranges)
    for j, (lab, raw) in items:
        hit = layout.match(lab)
        if hit is None:
            ignored.append((j, raw))
            continue
        key, score = hit
        if key == "plan_amount" and "%" in raw:
            key = "pct_of_plan"
        if hidden and any(lo <= j <= hi for lo, hi in hidden_ranges):
            score -= _HIDDEN_PENALTY
        if year is not None and key == "value":
            ys = _YEARS.findall(raw)
            if ys and str(year) not in ys:
                score -= _OTHER_YEAR_PENALTY
        hits.append((j, key, score, raw))
    groups: list[list[tuple[int, str, int, str]]] = [[]]
    seen: set[str] = set()
    for h in hits:
        if h[1] in _ROW_KEYS and h[1] in seen:
            groups.append([])
            seen = set()
        groups[-1].append(h)
        seen.add(h[1])
    if len(groups) > 1 and not all(any(k in _ROW_KEYS - {"stt"} for _j, k, _s, _r in g)
                                   and any(k in _MEASURE_SET for _j, k, _s, _r in g) for g in groups):
        groups = [hits]
    blocks = []
    for g in groups:
        best: dict[str, tuple[int, int]] = {}
        for j, key, score, raw in g:
            if key in best:
                if score > best[key][1]:
                    ignored.append((best[key][0], labels[best[key][0]][1]))
                    best[key] = (j, score)
                else:
                    ignored.append((j, raw))
            else:
                best[key] = (j, score)
        blocks.append(best)
    return tuple(blocks), tuple(ignored)


def _quirks_for(texts: list[str], sheet_name: str | None, file_name: str) -> tuple[str, ...]:
    """The quirks of layouts.yaml that apply: a `match` phrase in the texts above the table, or a
    `sheet` / `file` pattern on the sheet's or the file's name (layouts.yaml order)."""
    by_text = _quirks_cached(tuple(texts), sheet_name)
    quirks = layouts().quirks
    if not any(q["_file"] for q in quirks):
        return by_text
    fn = fold(file_name)
    return tuple(q["name"] for q in quirks
                 if q["name"] in by_text or (q["_file"] and q["_file"].search(fn)))


@lru_cache(maxsize=1024)
def _quirks_cached(texts: tuple[str, ...], sheet_name: str | None) -> tuple[str, ...]:
    joined = " | " + " | ".join(fold(t) for t in texts) + " | "  # a phrase never spans two cells
    out = []
    sn = fold(sheet_name or "")
    for q in layouts().quirks:
        if any(f" {m} " in joined for m in q["_match"]) or (q["_sheet"] and q["_sheet"].search(sn)):
            out.append(q["name"])
    return tuple(out)


def _scan_header(sheet: _Sheet, layout: _Layout, fill, quirks: tuple[str, ...], year: int | None = None
                 ) -> _Table | None:
    """The header row (or rows, up to 3) that maps most template columns. A row is tried as the
    top of a multi-row header only when, alone, it already maps two columns."""
    rows = sheet.rows
    n = min(len(rows), HEADER_SCAN_ROWS)
    best: _Table | None = None
    cache: dict[int, dict[int, tuple[str, str]]] = {}

    def labels_of(i):
        d = cache.get(i)
        if d is None:
            d = cache[i] = _row_labels(rows, i, fill)
        return d

    for r in range(n):
        if best is not None and r > best.header_row + (0 if len(best.cols) >= 5 else best.header_height + 2):
            break
        first = labels_of(r)
        if len(first) < 2:
            continue
        parts = [first]
        mcols: list[int] = []
        for h in (1, 2, 3):
            if r + h > len(rows):
                break
            if h > 1:
                nxt = rows[r + h - 1]
                if all(_blank(c) for c in nxt):
                    break
                # a row with figures under the measure columns is data, not more header
                if any(j < len(nxt) and (nxt[j].__class__ is float or nxt[j].__class__ is int) for j in mcols):
                    break
                more = labels_of(r + h - 1)
                parts.append(more)
                if not more:  # the same labels as one row less, scored lower: nothing to gain
                    continue
            labels = _join_labels(parts)
            blocks, ignored = _map_columns(labels, layout, sheet, year)
            keys = set(blocks[0])
            mcols = [j for b in blocks for k, (j, _s) in b.items() if k in _MEASURE_SET]
            if h == 1 and len(set().union(*blocks)) < 2:
                break
            if not keys & _MEASURE_SET:
                continue
            score = len(keys - {"plan_amount"}) * 10 - h
            if best is None or score > best.score:
                best = _Table(r, h, {k: j for k, (j, _s) in blocks[0].items()},
                              {j: raw for j, (_f, raw) in labels.items()}, ignored, r + h, quirks, score,
                              [{k: j for k, (j, _s) in b.items()} for b in blocks[1:]])
    if best is None or len(set(best.cols) - {"plan_amount", "stt"}) < 2:
        return None
    return best


_MEASURE_SET = frozenset(MEASURE_KEYS)


@lru_cache(maxsize=1)
def _template_columns() -> tuple[list[str], dict[str, int], int]:
    """The department's header row (template.yaml labels, in order), its keys by column, the score a
    scan gives it (every column mapped, one row)."""
    tpl = yaml.safe_load((DATA / "template.yaml").read_text(encoding="utf-8"))
    labels = [c["label"] for c in tpl["columns"]]
    keys = {c["key"]: j for j, c in enumerate(tpl["columns"])}
    return labels, keys, len(set(keys) - {"plan_amount"}) * 10 - 1


def _template_header(sheet: _Sheet, n: int) -> _Table | None:
    """The table when the sheet carries the template's own header row verbatim (the common case):
    found by comparing the rows with it, without scanning and scoring every row. The header it
    gives is the one the scan would choose: it maps every column of the template on one row."""
    labels, keys, score = _template_columns()
    w = len(labels)
    first = labels[0]
    rows = sheet.rows
    for r in range(n):
        row = rows[r]
        if row and row[0] == first and len(row) >= w and row[:w] == labels:
            if any(c.__class__ is not str or c.strip() for c in row[w:] if c is not None):
                return None  # more columns than the template's: let the scan map them
            return _Table(r, 1, dict(keys), dict(enumerate(labels)), (), r + 1, (), score)
    return None


def _find_table(sheet: _Sheet, file_name: str, year: int | None = None) -> _Table | None:
    rows = sheet.rows
    n = min(len(rows), HEADER_SCAN_ROWS)
    if n == 0:
        return None
    fill = _merge_fill(sheet, n + 3) if sheet.merges else {}
    best = _template_header(sheet, n) or _scan_header(sheet, layouts().base, fill, (), year)
    # quirks are recognised from the rows above the table (title, form number, header block)
    top = best.header_row if best is not None else n
    above = [t for t in [c.strip() for row in rows[:top] if any(row) for c in row if c.__class__ is str and c]
             if t and len(t) < 200]
    quirks = _quirks_for(above, sheet.name, file_name)
    if quirks:
        layout = _layout_with(quirks)
        again = _scan_header(sheet, layout, fill, quirks, year) if layout is not layouts().base else None
        if again is not None:
            best = again
        elif best is not None:
            best.quirks = quirks
    if best is None:
        return None
    # the data start after numbering rows ("1 2 3 ..." / "A B 1 2")
    i = best.data_start
    while i < len(rows) and i < best.data_start + 2 and _is_numbering_row(rows[i]):
        i += 1
    best.data_start = i
    if "indicator_code" not in best.cols and "indicator_name" not in best.cols:
        j = _guess_name_column(rows, best)
        if j is None:
            return None
        best.cols["indicator_name"] = j
    return best


def _guess_name_column(rows, t: _Table) -> int | None:
    """The text column whose cells match most indicators (a name column without a header)."""
    used = set(t.cols.values())
    hits: dict[int, int] = {}
    for row in rows[t.data_start:t.data_start + 80]:
        for j, c in enumerate(row):
            if j in used:
                continue
            s = _text(c)
            if s and len(s) > 3 and (_match_code(s) or _match_name(s)[0]):
                hits[j] = hits.get(j, 0) + 1
    if not hits:
        return None
    j = max(hits, key=hits.get)
    return j if hits[j] >= 1 else None


def _transposed(sheet: _Sheet) -> tuple[int, list[int], int] | None:
    """(row, indicator columns, label column) when the sheet holds a table turned on its side:
    indicators across one row, measures ("Thực hiện", "So với cùng kỳ (%)") down a column on the
    left, figures between. None otherwise."""
    rows = sheet.rows
    n = min(len(rows), HEADER_SCAN_ROWS)
    base = layouts().base
    for r in range(n):
        row = rows[r]
        inds = []
        for j, v in enumerate(row):
            s = _text(v)
            if j > 0 and s and len(s) > 3 and (_match_code(s) or _match_name(s)[0]):
                inds.append(j)
        if len(inds) < 2:
            continue
        below = rows[r + 1:r + 8]
        for c in range(min(inds)):
            measures = 0
            for row2 in below:
                s = _text(row2[c]) if c < len(row2) else None
                hit = base.match(fold(s)) if s else None
                if hit and hit[0] in _MEASURE_SET and any(_figure_like(row2[j]) for j in inds if j < len(row2)):
                    measures += 1
            if measures:
                return r, inds, c
    return None


# ------------------------------------------------------------------------------------ header block
def _split_label(text: str) -> tuple[str, str] | None:
    if ":" in text:
        a, b = text.split(":", 1)
        return a, b.strip()
    return None


def _right_value(row: list, j: int) -> str | None:
    """The first non-blank cell of the five right of column ``j``, as text."""
    for c in row[j + 1:j + 6]:
        if c.__class__ is str:
            c = c.strip()
            if c:
                return c
        elif not _blank(c):
            return _text(c) if isinstance(c, str) else _fmt_num(c) if isinstance(c, (int, float)) else str(c)
    return None


@lru_cache(maxsize=8192)
def _cell_label(s: str) -> tuple[str | None, str | None, bool, str | None]:
    """What one text cell says as part of a header block: (kind, value after its colon, whether the
    value is in a cell to the right, province named after an authority prefix). Kinds: province,
    period, prepared_on, unit. Cached: most cells of a sheet are no label at all."""
    L = layouts()
    parts = _split_label(s)
    if parts:
        lab, val = fold(parts[0]), parts[1] or None
        need_right = val is None
    else:
        lab, val = fold(s), None
        need_right = lab in L.province_labels or lab in L.period_labels or lab in L.prepared_labels
    kind = None
    if lab in L.province_labels:
        kind = "province"
    elif lab in L.period_labels:
        kind = "period"
    elif lab in L.prepared_labels:
        kind = "prepared_on"
    elif lab in L.unit_labels:
        kind, need_right = "unit", val is None
    pref = None
    f = fold(s)
    for p in L.province_prefixes:
        if f.startswith(p + " ") and len(f) > len(p) + 1:
            pref = f[len(p) + 1:]
            break
    if pref is None and kind is None:  # "TỈNH NGHỆ AN" on a line of its own: only a province's name
        keys = _province_keys()
        for p in L.province_bare_prefixes:
            rest = f[len(p) + 1:] if f.startswith(p + " ") else ""
            if rest and (rest in keys or rest.replace(" ", "") in keys):
                pref = rest
                break
    return kind, val, need_right, pref


def _header_block(rows: list[list], table: _Table | None) -> dict[str, tuple[str, tuple[int, int]]]:
    """label kind -> (value text, (row, col)) for province, period, prepared_on, found anywhere
    outside the table's data cells, the unit stated above the table (``unit``), and the first
    status word above the table other than "official" (``status``: the status code, (row, col))."""
    found: dict[str, tuple[str, tuple[int, int]]] = {}
    top = table.header_row if table is not None else len(rows)
    ds = table.data_start if table is not None else len(rows)
    _str = str
    for i, row in enumerate(rows):
        if i > ds and ("province" in found or "province_prefix" in found) and "period" in found:
            break  # what the reader uses is known (the date of the form is not used)
        if top <= i < ds or not any(row):  # the header rows; a row of empty cells
            continue
        in_table = i >= top
        for j, c in enumerate(row):
            if c.__class__ is not _str or not c:
                continue
            s = c.strip()
            if not s or len(s) > 200:
                continue
            if not in_table and "status" not in found and len(s) < 150:
                st = _status_of(s)
                if st and st != "A":
                    found["status"] = (st, (i, j))
            kind, val, need_right, pref = _cell_label(s)
            if kind is None and pref is None:
                continue
            if kind == "unit":
                if i < top and "unit" not in found:
                    u = (val if val is not None else _right_value(row, j)) or ""
                    u = u.strip().rstrip(")").strip()
                    if u and parse_unit(u) is not None:
                        found["unit"] = (u, (i, j))
                continue
            if kind is not None:
                if need_right:
                    val = _right_value(row, j)
                if val and kind not in found:
                    found[kind] = (val, (i, j))
                    continue
            if pref is not None and "province" not in found and not in_table:
                found["province_prefix"] = (pref, (i, j))
    return found


def _stated_period(rows: list[list], table: _Table, hb: dict | None = None) -> str | None:
    """The period the sheet states: the header block's, else the first text above the table that
    reads as a period."""
    if hb is None:
        hb = _header_block(rows, table)
    if "period" in hb:
        p = period_from_text(hb["period"][0])
        if p:
            return p
    for row in rows[:table.header_row]:
        for c in row:
            s = _text(c)
            if s and len(s) < 200:
                p = period_from_text(s)
                if p:
                    return p
    return None


# ------------------------------------------------------------------------------------ province
@lru_cache(maxsize=1)
def _province_keys() -> frozenset[str]:
    keys = set()
    pre = re.compile(r"^(?:tinh|thanh pho|tp)\s+")
    for row in provinces().itertuples():
        for nm in (row.name_vi, row.name_ascii):
            f = fold(str(nm))
            keys.add(f)
            keys.add(pre.sub("", f))
            keys.add(f.replace(" ", ""))
            keys.add(pre.sub("", f).replace(" ", ""))
    try:
        with (DATA / "name_variants.csv").open(encoding="utf-8", newline="") as fh:
            for r in csv.DictReader(fh):
                f = fold(r.get("variant") or "")
                if f:
                    keys.add(f)
                    keys.add(pre.sub("", f))
    except FileNotFoundError:
        pass
    keys.discard("")
    return frozenset(keys)


_ADMIN_PREFIX = re.compile(r"^(?:tinh|thanh pho)\s+")


@lru_cache(maxsize=64)
def _exact_names(on: date) -> dict[str, ProvinceRef]:
    """Folded official names (with and without 'Tỉnh'/'Thành phố') of the units valid on ``on``:
    a shortcut for the common case, where the header writes the official name; every other
    spelling goes to :func:`resolve_province`."""
    out: dict[str, ProvinceRef] = {}
    dup: set[str] = set()
    for row in provinces_on(on).itertuples(index=False):
        ref = ProvinceRef(row.code, row.province_set, row.name_vi)
        for nm in (row.name_vi, row.name_ascii):
            f = fold(str(nm))
            for k in (f, _ADMIN_PREFIX.sub("", f)):
                if k in out and out[k].code != ref.code:
                    dup.add(k)
                out[k] = ref
    for k in dup:
        out.pop(k, None)
    return out


@lru_cache(maxsize=4096)
def _resolve(text: str, on: date | None) -> ProvinceRef | None:
    if on is not None:
        hit = _exact_names(on).get(fold(text))
        if hit is not None:
            return hit
    try:
        return resolve_province(text, on=on)
    except (UnknownProvince, AmbiguousProvince):
        return None


def _province_in_words(text: str, on: date | None) -> ProvinceRef | None:
    """A province named among the words of a file or sheet name ("bao_cao_bac_ninh", "Cà Mau")."""
    toks = [t for t in fold(text).split() if not t.isdigit()]
    keys = _province_keys()
    for n in (4, 3, 2, 1):
        for i in range(len(toks) - n + 1):
            cand = " ".join(toks[i:i + n])
            if cand in keys or cand.replace(" ", "") in keys:
                p = _resolve(cand, on)
                if p is None and cand.replace(" ", "") in keys:
                    p = _resolve(cand.replace(" ", ""), on)
                if p is not None:
                    return p
    return None


def _province_from_name(file_name: str, on: date | None) -> ProvinceRef | None:
    stem = Path(file_name).stem
    m = re.match(r"^(\d{2})(?:[_\-\s.]|$)", stem)
    if m:
        p = _resolve(m.group(1), on)
        if p is not None:
            return p
    return _province_in_words(stem, on)


# ------------------------------------------------------------------------------------ cells
# A number's evidence depends on its separators, its digit counts and whether it starts with 0,
# never on which digits; so does how a text splits into numbers. A text's votes are looked up by
# its shape (1.234,5 and 9.876,5 share one; "Trần Thị B" is its own), once per distinct shape.
_SHAPE = bytes.maketrans(b"23456789", b"11111111")


@lru_cache(maxsize=8192)
def _shape_votes(shape: bytes) -> tuple[int, int]:
    """(Vietnamese, English) votes of the numbers in a text of this shape."""
    vi = en = 0
    for tok in _NUM_TOKEN.findall(shape.decode()):
        ev = _num_evidence(tok)
        if ev == "vi":
            vi += 1
        elif ev == "en":
            en += 1
    return vi, en


_UNDECIDED = object()  # the number convention before anything asked for it


def _sheet_convention(rows: list[list], start: int, cols: list[int]) -> str | None:
    """'vi' or 'en': the convention the text of the figure columns from row ``start`` on votes
    for (the majority of unambiguous number shapes), None on no evidence or a tie."""
    texts = [v for r in rows[start:] for j in cols if (v := r[j]).__class__ is str and v]
    vi, en = _votes(texts)
    return "vi" if vi > en else "en" if en > vi else None


def _votes(texts: list[str]) -> tuple[int, int]:
    """(Vietnamese, English) votes of the texts of the figure columns: what
    :func:`detect_convention` counts, by shape (the texts joined, shaped and split in C)."""
    if _num_evidence is None:  # pragma: no cover - numbers.py without the helpers
        vi = en = 0
        for t in texts:
            c = detect_convention([t])
            vi += c == "vi"
            en += c == "en"
        return vi, en
    vi = en = 0
    for shape, n in Counter("\n".join(texts).encode().translate(_SHAPE).split(b"\n")).items():
        a, b = _shape_votes(shape)
        vi += a * n
        en += b * n
    return vi, en


class _Cell:
    """One figure cell as parsed: value (None for a symbol or an error), text as written, and
    what the reader noticed."""
    __slots__ = ("row", "col", "value", "text", "numeric", "symbol", "qualifier", "status", "flags",
                 "error", "message", "change")

    def __init__(self, row: int, col: int, value: float | None, text: str | None, numeric: bool = False):
        self.row, self.col, self.value, self.text, self.numeric = row, col, value, text, numeric
        self.symbol = self.qualifier = self.status = self.error = self.message = None
        self.flags: list[str] = []
        self.change = False  # written as a change ("+7,5%", "giảm 3,4%"), never as an index


_STATUS_PREFIX = re.compile(r"^\s*(ước tính|ước đạt|ước thực hiện|ước|sơ bộ|dự ước|dự kiến|chính thức|ƯT|SB|DK)[\s:]+",
                            re.IGNORECASE)
_HAS_FOOT = re.compile(r"(?:\*|\(\s*(?:\d{1,2}|\*{1,3}|[a-z])\s*\)|[\u00b9\u00b2\u00b3])\s*$")


_CHANGE_WORD = re.compile(r"^\s*(tăng|giảm|tang|giam)\s*:?\s*(?=[\d+\-\u2212])", re.IGNORECASE)
_SIGNED = re.compile(r"^\s*[+\-\u2212\u2013]\s?\d")


def _parse_cell(v, r: int, c: int, conv: str | None, have_evidence: bool, change_words: bool = False
                ) -> _Cell | None:
    """``change_words``: the cell is in a comparison column, where "+7,5%", "-2,1" and "giảm 3,4%"
    state a change (the sign or the word says so), not an index."""
    cls = v.__class__
    if cls is float:
        if v != v:
            return None
        return _Cell(r, c, v, str(int(v)) if v.is_integer() and -1e15 < v < 1e15 else repr(v), True)
    if cls is int:
        return _Cell(r, c, float(v), str(v), True)
    if _blank(v):
        return None
    cell = _Cell(r, c, None, None)
    if cls is _ExcelError:
        cell.text = str(v)
        cell.error = "not_a_number"
        cell.message = f"the formula's result is the Excel error {v}: nothing to read"
        return cell
    if isinstance(v, bool):
        cell.text = str(v)
        cell.error, cell.message = "not_a_number", f"a true/false cell ({v}) where a number was expected"
        return cell
    if isinstance(v, (int, float)):
        cell.value = float(v)
        cell.text = _fmt_num(float(v))
        cell.numeric = True
        return cell
    if isinstance(v, (datetime, date, time, timedelta)):
        cell.text = str(v)
        cell.error = "not_a_number"
        cell.message = (f"a date ({v}) where a number was expected: the spreadsheet probably turned a "
                        f"figure such as 7.5 into a date")
        return cell
    s = str(v).strip()
    cell.text = s
    (cell.value, cell.symbol, cell.qualifier, cell.status, flags, cell.error, cell.message,
     cell.change) = _parse_text(s, conv, have_evidence, change_words)
    if flags:
        cell.flags = list(flags)
    return cell


# a plain unsigned number in one convention, nothing around it: 1.234,5 / 12,5 / 1234 (vi),
# 1,234.5 / 12.5 / 1234 (en); anything else goes through parse_number
_PLAIN_NUM = {"vi": re.compile(r"(?:(?:[1-9][0-9]{0,2}(?:\.[0-9]{3})+|0|[1-9][0-9]{0,14}),[0-9]{1,15}"
                               r"|[1-9][0-9]{0,2}(?:\.[0-9]{3})+|0|[1-9][0-9]{0,14})\Z"),
              "en": re.compile(r"(?:(?:[1-9][0-9]{0,2}(?:,[0-9]{3})+|0|[1-9][0-9]{0,14})\.[0-9]{1,15}"
                               r"|[1-9][0-9]{0,2}(?:,[0-9]{3})+|0|[1-9][0-9]{0,14})\Z")}
_PLAIN = 0  # _parse_text's last field for a plain number (no flag, status, qualifier): falsy like "no change"


def _plain_value(t: str, conv: str) -> float:
    """The value of a text that matches ``_PLAIN_NUM[conv]``."""
    return float(t.replace(".", "").replace(",", ".") if conv == "vi" else t.replace(",", ""))


@lru_cache(maxsize=16384)
def _parse_text(s: str, conv: str | None, have_evidence: bool, change_words: bool) -> tuple:
    """What a figure typed as text says: (value, symbol, qualifier, status, flags, error, message,
    written as a change). Cached: a sheet repeats its shapes and symbols."""
    if have_evidence:  # the common shapes of a plain number in the sheet's convention, read at once
        m = _PLAIN_NUM[conv].match(s) if conv in _PLAIN_NUM else None
        if m is not None:
            return _plain_value(s, conv), None, None, None, (), None, None, _PLAIN
    change = False
    if change_words:
        m = _CHANGE_WORD.match(nfc(s))
        if m:
            try:
                p = parse_number(nfc(s)[m.end():], convention=conv)
            except NumberFormatError:
                p = None
            if p is not None and p.symbol is None:
                value = -abs(p.value) if fold(m.group(1)) == "giam" else abs(p.value)
                flags = ("ambiguous_number",) if p.ambiguous and not have_evidence else ()
                return value, None, None, None, flags, None, None, True
        elif _SIGNED.match(s):
            change = True
    status = None
    flags: tuple[str, ...] = ()
    try:
        p = parse_number(s, convention=conv)
    except NumberFormatError:
        m = _STATUS_PREFIX.match(s)
        p = None
        if m:
            try:
                p = parse_number(s[m.end():], convention=conv)
                status = _status_of(m.group(1)) or {"ut": "E", "sb": "P", "dk": "F"}.get(fold(m.group(1)))
                flags = ("status_in_value",)
            except NumberFormatError:
                p = None
        if p is None:
            return (None, None, None, None, (), "not_a_number", f"{s!r} is neither a number nor a table symbol",
                    change)
    if p.symbol is not None:
        return None, p.symbol, None, status, flags, None, None, change
    if p.ambiguous and not have_evidence:
        flags += ("ambiguous_number",)
    if _HAS_FOOT.search(s):
        flags += ("footnote",)
    if not flags and status is None and p.qualifier is None and not change:
        return p.value, None, None, None, (), None, None, _PLAIN
    return p.value, None, p.qualifier, status, flags, None, None, change


# ------------------------------------------------------------------------------------ main
try:  # pandas >= 2.2: the public way to assemble a frame from ready blocks
    from pandas.api.internals import create_dataframe_from_blocks as _from_blocks
except ImportError:  # pragma: no cover - older pandas
    _from_blocks = None


@lru_cache(maxsize=8)
def _layout_of(cols: tuple[str, ...]) -> tuple[pd.Index, int, np.ndarray, np.ndarray, tuple[str, ...]]:
    """(column index, position of `value` or -1, placements of the object block and of `value`,
    names of the object columns in block order)."""
    vj = cols.index("value") if "value" in cols else -1
    others = tuple(j for j in range(len(cols)) if j != vj)
    return (pd.Index(list(cols), dtype=object), vj, np.array(others, dtype=np.intp),
            np.array([vj], dtype=np.intp), tuple(cols[j] for j in others))


def _frame(records: dict[str, list], cols: list[str], n: int) -> pd.DataFrame:
    """A frame of ``cols`` from column lists or scalars (missing ones null): the text columns in one
    object block (the values ``schema.conform`` makes strings of), ``value`` as float64. Assembled
    from two ready blocks, which costs a third of what pandas' own constructors do (the frame is
    built once per file)."""
    index, vj, pl_obj, pl_val, names = _layout_of(tuple(cols))
    arr = np.empty((len(names), n), dtype=object)
    for k, c in enumerate(names):
        v = records.get(c)
        if v is not None:
            arr[k] = v  # a list fills the column, a scalar is broadcast
    if vj < 0:
        blocks = [(arr, pl_obj)]
    else:
        vals = records.get("value")
        if vals is None:
            fv = np.full((1, n), np.nan)
        elif isinstance(vals, np.ndarray):
            fv = vals.astype("float64").reshape(1, n)  # None -> NaN
        else:
            fv = np.array(vals, dtype="float64").reshape(1, n)
        blocks = [(arr, pl_obj), (fv, pl_val)]
    if _from_blocks is not None:
        try:
            return _from_blocks(blocks, index=pd.RangeIndex(n), columns=index)
        except (TypeError, ValueError):  # pragma: no cover - an internals change
            pass
    df = pd.DataFrame(arr.T, columns=[index[j] for j in pl_obj], dtype=object)
    if vj >= 0:
        df.insert(vj, "value", blocks[1][0][0])
    return df


_OBS_PER_ROW = ("indicator", "measure", "value", "unit", "status", "qualifier", "original_value", "original_unit",
                "locator", "flag")  # the order of the tuples _read_table makes
_Q_PER_ROW = ("reason", "locator", "message", "raw_value", "indicator", "measure")
_OBS_CONST = ("cycle", "period", "province_code", "province_set", "source_kind", "source_file", "source_sha256")


@lru_cache(maxsize=1)
def _obs_layout() -> tuple:
    cols = list(_OBS_COLS)
    per = [k for k, c in enumerate(_OBS_PER_ROW) if c != "value"]
    pl_per = np.array([cols.index(_OBS_PER_ROW[k]) for k in per], dtype=np.intp)
    rest = [c for c in cols if c not in _OBS_PER_ROW]
    pl_rest = np.array([cols.index(c) for c in rest], dtype=np.intp)
    pl_val = np.array([cols.index("value")], dtype=np.intp)
    return pd.Index(cols, dtype=object), per, pl_per, rest, pl_rest, pl_val, _OBS_PER_ROW.index("value")


def _obs_frame(out: list[tuple], cycle, province_code, province_set, source_file, sha256) -> pd.DataFrame:
    """The ``observation`` frame of one file from the per-cell tuples (``_OBS_PER_ROW`` order) and
    the file's constants, as three ready blocks (see :func:`_frame`)."""
    if _from_blocks is None:  # pragma: no cover - older pandas
        rec = dict(zip(_OBS_PER_ROW, map(list, zip(*out)))) if out else {"value": []}
        rec.update(cycle=cycle, period=cycle, province_code=province_code, province_set=province_set,
                   source_kind="submission", source_file=source_file, source_sha256=sha256)
        return _frame(rec, _OBS_COLS, len(out))
    index, per, pl_per, rest, pl_rest, pl_val, vk = _obs_layout()
    n = len(out)
    by_col = list(zip(*out)) if n else [()] * len(_OBS_PER_ROW)
    a = np.empty((len(per), n), dtype=object)
    for r, k in enumerate(per):
        a[r] = by_col[k]
    const = {"cycle": cycle, "period": cycle, "province_code": province_code, "province_set": province_set,
             "source_kind": "submission", "source_file": source_file, "source_sha256": sha256}
    b = np.empty((len(rest), n), dtype=object)
    for r, c in enumerate(rest):
        v = const.get(c)
        if v is not None:
            b[r] = v
    v = np.array(by_col[vk], dtype="float64").reshape(1, n)
    return _from_blocks([(a, pl_per), (b, pl_rest), (v, pl_val)], index=pd.RangeIndex(n), columns=index)


def _empty_quarantine() -> pd.DataFrame:
    return _frame({}, _Q_COLS, 0)


@lru_cache(maxsize=256)
def _cycle_info(cycle: str) -> tuple[str, int, date] | None:
    """(period code, year, last day) of a cycle, None when it is not a period."""
    try:
        p = parse_period(cycle)
    except DiaphuongError:
        return None
    return p.code, p.end.year, p.end


class SubmissionFile(NamedTuple):
    """One file for :func:`read_submissions`: its path, the name to record (default: the file
    name) and its sha256 (computed when None)."""
    path: Path
    source_file: str | None = None
    sha256: str | None = None


def read_submission(path: Path, *, cycle: str | None = None, source_file: str | None = None,
                    sha256: str | None = None, on: date | None = None) -> SubmissionRead:
    """Read one submission file. See the module docstring for what it accepts and decides.

    ``cycle``: the reporting cycle (from the folder); ``source_file``: the path to record (default:
    the file name); ``sha256``: the file's hash (computed when None); ``on``: the date to resolve
    province names on (default: the last day of the cycle, else of the period the file states).
    Raises :class:`~diaphuong.errors.UnreadableFile` or :class:`~diaphuong.errors.LayoutError`
    when the file cannot be read (see the module docstring).
    """
    res = read_submissions([SubmissionFile(path, source_file, sha256)], cycle=cycle, on=on)[0]
    if isinstance(res, DiaphuongError):
        raise res
    return res


# Several files are read stage by stage over a batch: the bytes of each, then every container's
# checks, then calamine on each workbook, then each table. Each stage's code and data then stay in
# the processor's caches from one file to the next, instead of being evicted by the other stages
# at every file (measured on the benchmark's 1,000 files: 646 -> 558 us a file, 13 % less than
# taking each file through every stage in turn). A batch holds at most this many files, and stops
# taking files once it holds this many bytes of them.
_BATCH_FILES = 16
_BATCH_BYTES = 8 << 20
# ... and the tables of the files whose sheets calamine has read are read once their grids hold
# this many cells (a form is ~500; a sheet may hold up to LIMITS["cells"]).
_BATCH_CELLS = 500_000


class _Job:
    """One file on its way through the stages of :func:`read_submissions`."""
    __slots__ = ("at", "path", "name", "sha256", "data", "opened", "sheets")

    def __init__(self, at: int, path: Path, name: str, sha256: str, data: bytes):
        self.at, self.path, self.name, self.sha256, self.data = at, path, name, sha256, data
        self.opened: _Opened | None = None
        self.sheets: list[_Sheet] | None = None


def read_submissions(files: Iterable[SubmissionFile | Path | str], *, cycle: str | None = None,
                     on: date | None = None) -> list[SubmissionRead | DiaphuongError]:
    """Read several submission files (each a path or a :class:`SubmissionFile`), as
    :func:`read_submission` reads each, in their order: a file that cannot be read gives its
    :class:`~diaphuong.errors.UnreadableFile` or :class:`~diaphuong.errors.LayoutError` in its
    place, and every other file is read. Files go through the stages in batches (see
    ``_BATCH_FILES``); what one file holds never changes what another gives."""
    items = [f if isinstance(f, SubmissionFile) else SubmissionFile(f) for f in files]
    out: list = [None] * len(items)
    i = 0
    while i < len(items):
        jobs: list[_Job] = []
        held = 0
        while i < len(items) and len(jobs) < _BATCH_FILES and held < _BATCH_BYTES:
            path, source_file, sha256 = items[i]
            if not isinstance(path, Path):
                path = Path(path)
            name = source_file or path.name
            try:
                data = _read_bytes(path, name)
            except DiaphuongError as e:
                out[i] = e
            else:
                jobs.append(_Job(i, path, name, sha256 or hashlib.sha256(data).hexdigest(), data))
                held += len(data)
            i += 1
        live = []
        for job in jobs:
            try:
                job.opened = _open(job.data, job.path, job.name)
                live.append(job)
            except DiaphuongError as e:
                out[job.at] = e
        loaded: list[_Job] = []
        cells = 0
        for k, job in enumerate(live):
            try:
                job.sheets = _sheets_of(job.data, job.name, job.opened)
                loaded.append(job)
                cells += sum(len(sh.rows) * len(sh.rows[0]) for sh in job.sheets if sh.rows)
            except DiaphuongError as e:
                out[job.at] = e
            if cells > _BATCH_CELLS or k == len(live) - 1:  # the grids held stay bounded
                for done in loaded:
                    try:
                        out[done.at] = _read_sheets(done.sheets, done.opened.fmt, done.name, done.sha256,
                                                    cycle, on)
                    except DiaphuongError as e:
                        out[done.at] = e
                    done.data = done.opened = done.sheets = None  # its memory goes as each file is done
                loaded, cells = [], 0
    return out


def _read_bytes(path: Path, name: str) -> bytes:
    """The file's bytes, refused past the size limit."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        try:
            data = os.read(fd, _FIRST_READ)  # a submission is a few kilobytes: most need one read
            if len(data) == _FIRST_READ or not _looks_whole(data):
                size = os.fstat(fd).st_size
                if size > LIMITS["file_bytes"]:
                    raise _unreadable(f"{size} bytes (limit {LIMITS['file_bytes']})", name, "too_large",
                                      "a submission is a few kilobytes: send the one sheet of the template")
                while len(data) <= size:  # bounded even if the file grows meanwhile
                    more = os.read(fd, size + 1 - len(data))  # a short read (a pipe, a network drive): on
                    if not more:  # the end of the file
                        break
                    data += more
        finally:
            os.close(fd)
    except OSError as e:
        raise _unreadable(f"cannot open the file ({e.strerror})", name, "unreadable") from None
    if len(data) > LIMITS["file_bytes"]:
        raise _unreadable(f"more than {LIMITS['file_bytes']} bytes", name, "too_large")
    return data


def _read_sheets(sheets: list[_Sheet], fmt: str, name: str, sha256: str, cycle: str | None,
                 on: date | None) -> SubmissionRead:
    """The submission a file's sheets hold: the sheet chosen by content, then its table read."""
    notes: list[str] = []
    if fmt != "xlsx":
        notes.append(f"read as {fmt}")
    info = _cycle_info(cycle) if cycle else None
    cycle_code, year = (info[0], info[1]) if info else (None, None)

    # choose the sheet by content
    candidates = []
    for sh in sheets:
        if not sh.rows:
            continue
        t = _find_table(sh, name, year)
        if t is not None:
            candidates.append((sh, t))
    if not candidates:
        if not any(sh.rows and any(not _blank(c) for row in sh.rows for c in row) for sh in sheets):
            raise _unreadable("the workbook has no data in any sheet", name, "empty",
                              "fill in the department's template")
        for sh in sheets:
            tr = _transposed(sh) if sh.rows else None
            if tr is not None:
                r, inds, c = tr
                cells = ", ".join(_loc(sh.name, r, j) for j in inds[:4])
                raise LayoutError(
                    f"the table is turned on its side: indicators run across row {r + 1} ({cells}"
                    f"{', ...' if len(inds) > 4 else ''}) and the measures down column {_col_letter(c)}; "
                    "nothing was read rather than guess which figure is which",
                    file=name, locator=_loc(sh.name, r, inds[0]), reason="transposed_table",
                    hint="put one indicator per row and the measures in columns, as in the department's template")
        raise LayoutError(
            "no table with an indicator column and a figure column was found "
            f"(sheets: {', '.join(repr(s.name) for s in sheets if s.name) or 'csv'})",
            file=name, locator=sheets[0].name if sheets and sheets[0].name else None, reason="no_table",
            hint="keep the template's header row (Mã chỉ tiêu | Tên chỉ tiêu | Đơn vị tính | Thực hiện kỳ báo cáo ...)")
    if len(candidates) > 1:
        scored = []
        for sh, t in candidates:
            other = 0
            if cycle_code:
                sp = _stated_period(sh.rows, t)
                other = -1 if (sp is not None and sp != cycle_code) else 0
            scored.append((other, _count_indicator_rows(sh, t), sh.visible, t.score, sh, t))
        scored.sort(key=lambda x: (x[0], x[1], x[2], x[3]), reverse=True)
        sheet, table = scored[0][4], scored[0][5]
        others = ", ".join(f"{s[4].name!r} ({s[1]} rows{', another period' if s[0] < 0 else ''})"
                           for s in scored[1:])
        notes.append(f"sheet {sheet.name!r} read: it has {scored[0][1]} indicator rows; not read: {others}")
    else:
        sheet, table = candidates[0]
        if len([s for s in sheets if s.rows]) > 1:
            others = [s.name for s in sheets if s.rows and s is not sheet]
            notes.append(f"sheet {sheet.name!r} read; no indicator table in {', '.join(repr(o) for o in others)}")
    return _read_table(sheet, table, fmt, name, sha256, cycle, on, notes)


def _looks_whole(data: bytes) -> bool:
    """Whether a first read shorter than asked holds the whole file by its own structure (a zip
    ends with its directory's end record, an Office compound file is whole 512-byte sectors): a
    short read of anything else is checked against the file's size."""
    if data[:4] == b"PK\x03\x04":
        return data.rfind(b"PK\x05\x06", max(0, len(data) - 65557)) >= 0
    return data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" and len(data) % 512 == 0


def _count_indicator_rows(sh: _Sheet, t: _Table) -> int:
    n = 0
    for cols in [t.cols] + t.blocks:
        jc, jn = cols.get("indicator_code"), cols.get("indicator_name")
        for row in sh.rows[t.data_start:]:
            for j in (jc, jn):
                if j is not None and j < len(row):
                    s = _text(row[j])
                    if s and (_match_code(s) or _match_name(s)[0]):
                        n += 1
                        break
    return n


@lru_cache(maxsize=256)
def _index_rule(key: str) -> tuple[float, float, bool] | None:
    """(low, high, is index_change) of a rate indicator whose value may be written as an index
    (103,5 for +3.5 %), else None."""
    ind = indicators()[key]
    if ind.unit != "pct" or ind.kind not in ("rate", "index_change"):
        return None
    lo = ind.value_min if ind.value_min is not None else -math.inf
    hi = ind.value_max if ind.value_max is not None else math.inf
    return lo, hi, ind.kind == "index_change"


@lru_cache(maxsize=256)
def _forced_mode(quirks: tuple[str, ...], k: str) -> str:
    """How the layout quirks say a comparison column is written: index | change | auto."""
    mode = "auto"
    for qk in layouts().quirks:
        if qk["name"] in quirks and qk.get("yoy" if k == "yoy_index" else "mom"):
            mode = qk.get("yoy" if k == "yoy_index" else "mom")
    return mode


_TOTAL_REST = re.compile(r"^(?:[ivxlc]+|[a-z]|\d+|va|and|cong|so|toan|tinh|thanh|pho|dia|ban|all)$")


@lru_cache(maxsize=4096)
def _is_total_label(fl: str) -> bool:
    """A subtotal or grouping line ("Tổng cộng (I + II)", "Cộng", "Trong đó:", "Chia ra"): a skip
    word of layouts.yaml alone or followed by group references only. "Tổng mức bán lẻ ..." is not."""
    for w in layouts().skip_words:
        if fl == w:
            return True
        if fl.startswith(w + " ") and all(_TOTAL_REST.match(t) for t in fl[len(w) + 1:].split()):
            return True
    return False


@lru_cache(maxsize=8192)
def _row_key(code_v: str | None, name_v: str | None) -> tuple:
    """(indicator key or None, unit written in the name, fuzzy (key, score) or None, code unknown
    but name matched, key the name reads as when it contradicts the code) of one row."""
    key = fuzzy = mismatch = None
    code_unknown = False
    name_unit = None
    if code_v:
        key = _match_code(code_v)
    if name_v or (code_v and key is None):
        m, name_unit, _foot = _match_name(name_v or code_v)
        if m is not None:
            if key is None:
                key = m.key
                if m.fuzzy:
                    fuzzy = (m.key, m.score)
                code_unknown = bool(code_v and name_v)
            elif m.key != key and not m.fuzzy:
                mismatch = m.key
    return key, name_unit, fuzzy, code_unknown, mismatch


@lru_cache(maxsize=4096)
def _unit_rule(unit_text: str | None, key: str) -> tuple[str | None, tuple[str, str] | None]:
    """(unit code to convert the value from, or None; (reason, message) when the value cannot be
    read in the indicator's unit) for a value written in ``unit_text``."""
    if unit_text is None:
        return None, None
    U = units()
    ind = indicators()[key]
    code = parse_unit(unit_text)
    if code is None and ind.unit == "pct" and "%" in unit_text:
        code = "pct"
    if code is None:
        return None, ("unknown_unit", f"unit {unit_text!r} is not recognised; {key} is in {U[ind.unit].name_vi}")
    if code != ind.unit:
        if U[code].family != U[ind.unit].family:
            return None, ("unit_mismatch", f"unit {unit_text!r} cannot be converted to {U[ind.unit].name_vi}, "
                                           f"the unit of {key}")
        return code, None
    return None, None


_ROW_NUMBERS: list[str] = []


def _value_rules(value: float, vconv_from: str | None, ind_unit: str, index_rule: tuple | None
                 ) -> tuple[float, tuple[str, ...]]:
    """A value as the catalog holds it: converted from the unit it was written in, and a growth
    indicator's index read as the change it states (107,5 -> 7,5); with the flags that say so."""
    flags: tuple[str, ...] = ()
    if vconv_from:
        value = round(convert(value, vconv_from, ind_unit), 10)
        flags = ("unit_converted",)
    if index_rule:
        lo, hi, is_ic = index_rule
        if (60 <= value <= 250 and lo <= value - 100 <= hi
                and (not lo <= value <= hi or (is_ic and 80 <= value <= 150))):
            value = round(value - 100.0, 10)
            flags = flags + ("index_as_change",)
    return value, flags


def _locators(prefix: str, n: int) -> list[str]:
    """'Bieu_01!E1', 'Bieu_01!E2', ...: the locators of a column's first ``n`` rows, made once per
    column prefix and shared by the files that have it (a form's cells repeat over a cycle's
    files: no new string per observation). Bounded; a longer list replaces the shorter whole."""
    locs = _LOCATORS.get(prefix)
    if locs is None or len(locs) < n:
        if len(_LOCATORS) >= 4096:
            _LOCATORS.clear()
        numbers = _row_numbers(n)
        locs = _LOCATORS[prefix] = [prefix + r for r in numbers[:max(n, 2 * len(locs or ()), 64)]]
    return locs


_LOCATORS: dict[str, list[str]] = {}


def _row_numbers(n: int) -> list[str]:
    """'1', '2', ... (the spreadsheet's row numbers of rows 0..n-1), made once (a longer list
    replaces the module's whole, so a reader in another thread never sees it half made)."""
    global _ROW_NUMBERS
    numbers = _ROW_NUMBERS
    if len(numbers) < n:
        numbers = _ROW_NUMBERS = [str(i + 1) for i in range(max(n, 2 * len(numbers), 1024))]
    return numbers


def _label_text(cell) -> str | None:
    """An indicator code or name cell as a label: its stripped text, None when empty or not text."""
    return (cell.strip() or None) if cell.__class__ is str else None


@lru_cache(maxsize=16384)
def _row_info(code_cell, name_cell, unit_cell, status_cell, note_cell) -> tuple:
    """Everything one row's cells other than its figures decide, cached (forms repeat their rows):
    (key, what is rare about the match (fuzzy (key, score) or None, code unknown, mismatching key
    or None) or None, the row's flags and them joined, unit text, unit to convert from, unit
    problem, row status or None, catalog unit, index rule)."""
    code_v, name_v = _label_text(code_cell), _label_text(name_cell)
    key, name_unit, fz, code_unknown, mismatch = _row_key(code_v, name_v)
    if key is None:
        return key, None, (), None, None, None, None, None, None, None
    unit_text = None
    if unit_cell.__class__ is str:
        unit_text = unit_cell.strip() or None
    elif isinstance(unit_cell, (int, float)) and not isinstance(unit_cell, bool) and not _blank(unit_cell):
        unit_text = _fmt_num(unit_cell)
    if unit_text is None and name_unit:
        unit_text = name_unit
    row_status = None
    unrecognised = False
    if status_cell.__class__ is str and status_cell.strip():
        row_status = _status_of(status_cell.strip())
        unrecognised = row_status is None
    if row_status is None and note_cell.__class__ is str and note_cell.strip():
        row_status = _status_of(note_cell.strip())
    vconv_from, unit_problem = _unit_rule(unit_text, key) if unit_text is not None else (None, None)
    rflags: tuple[str, ...] = ()
    if fz is not None:
        rflags = ("fuzzy_match",)
    if mismatch is not None:
        rflags = ("code_name_mismatch",)
    if unrecognised:
        rflags = rflags + ("status_unrecognised",)
    rare = (fz, code_unknown, mismatch) if (fz is not None or code_unknown or mismatch is not None) else None
    return (key, rare, rflags, ",".join(dict.fromkeys(rflags)) if rflags else None, unit_text, vconv_from,
            unit_problem, row_status, indicators()[key].unit, _index_rule(key))


def _read_table(sheet: _Sheet, table: _Table, fmt: str, name: str, sha256: str, cycle: str | None,
                on: date | None, notes: list[str]) -> SubmissionRead:
    L = layouts()
    U = units()
    rows = sheet.rows
    sname = sheet.name
    cols = table.cols
    blocks = [cols] + list(table.blocks)
    hr = table.header_row

    # ---- header block: province, period, status words above the table
    hb = _header_block(rows, table)
    stated_period = _stated_period(rows, table, hb)
    the_cycle = cycle or stated_period
    when = on
    if when is None and the_cycle:
        info = _cycle_info(the_cycle)
        when = info[2] if info else None
    province = None
    province_source = None
    for key in ("province", "province_prefix"):
        if key in hb:
            txt, (pi, pj) = hb[key]
            p = _resolve(txt, when)
            if p is not None:
                province, province_source = p, "content"
                break
            notes.append(f"the header names the province {txt!r} ({_loc(sname, pi, pj)}), "
                         f"which matches no unit valid {'on ' + str(when) if when else 'now'}")
    if province is None and sname and fmt != "csv":
        p = _province_in_words(sname, when)
        if p is not None:
            province, province_source = p, "content"
            notes.append(f"province {p.name_vi} ({p.code}) taken from the sheet name {sname!r}")
    if province is None:
        p = _province_from_name(name, when)
        if p is not None:
            province, province_source = p, "file_name"
            notes.append(f"province {p.name_vi} ({p.code}) taken from the file name")
    sheet_status = None
    for q in L.quirks:
        if q["name"] in table.quirks and q.get("status"):
            sheet_status = q["status"]
    if sheet_status is None and "status" in hb:  # a status word above the table ("Số liệu ước tính")
        sheet_status = hb["status"][0]
    sheet_unit = sheet_unit_loc = None
    if "unit" in hb:
        sheet_unit = hb["unit"][0]
        sheet_unit_loc = _loc(sname, *hb["unit"][1])

    if hr > 6:
        notes.append(f"table header at row {hr + 1}")
    if table.header_height > 1:
        notes.append(f"header on {table.header_height} rows ({hr + 1}-{hr + table.header_height})")
    if table.blocks:
        starts = ", ".join(_col_letter(min(b.values())) for b in blocks)
        notes.append(f"{len(blocks)} tables side by side, from columns {starts}: each read")
    missing = [k for k in ("indicator_code", "unit", "value", "yoy_index", "pct_of_plan", "status")
               if k not in cols]
    if missing:
        notes.append("columns not found: " + ", ".join(missing))
    mapped = {j for b in blocks for j in b.values()}
    if table.ignored:
        ignored = sorted(table.ignored)
        extra = [f"{_col_letter(j)} {lab!r}" for j, lab in ignored if j not in mapped]
        if extra:
            notes.append("columns ignored: " + "; ".join(extra))
        if sheet.hidden:
            hid = [f"{_col_letter(j)} {lab!r}" for j, lab in ignored if j not in mapped and sheet.is_hidden(j)]
            if hid:
                notes.append("hidden columns not read: " + "; ".join(hid))
        info = _cycle_info(cycle) if cycle else None
        if info:
            for j, lab in ignored:
                ys = _YEARS.findall(lab)
                if ys and str(info[1]) not in ys and j not in mapped and (L.base.match(fold(lab)) or ("",))[0] == "value":
                    notes.append(f"column {_col_letter(j)} {lab!r} is another year's figure: not read")
    if sheet.hidden:
        shown = [_col_letter(j) for j in sorted(mapped) if sheet.is_hidden(j)]
        if shown:
            notes.append("hidden columns read (no visible column holds the same): " + ", ".join(shown))
    if table.quirks:
        notes.append("layout quirks applied: " + ", ".join(table.quirks))
    for b in blocks:
        if "plan_amount" in b:
            j = b.pop("plan_amount")
            notes.append(f"column {_col_letter(j)} {table.labels.get(j, '')!r} (the plan amount) not read")
    col_status = []
    for b in blocks:
        st = _status_of(table.labels.get(b["value"], "")) if "value" in b else None
        col_status.append(st if st and st != "A" else None)

    # ---- rows, in one pass. A plain number (the common case) becomes its observation at once, but
    # in the columns decided as a whole afterwards (index or change; percent-formatted cells); every
    # other cell (text, symbol, date, Excel error) is parsed once the number convention is known.
    # Observations keep the reading order: a cell decided later holds a slot (None) in `out`.
    out: list = []        # observation tuples (indicator, measure, value, unit, status, qualifier,
    #                       original_value, original_unit, locator, flag)
    q_rows: list = []     # quarantined rows (unknown or duplicate indicator)
    q_cells: list = []    # quarantined cells, in reading order (None: a slot filled later)
    special: list = []    # (slot, quarantine slot, key, cell value, row, col, row context, locator, table)
    deferred: dict[tuple[int, str], list] = {}  # (table, key) -> [(slot, float | _Cell, raw, ctx, row, col, loc, qslot)]
    predecided: dict[tuple[int, str], list] = {}  # (table, key) -> [mode, figures read, mode a quirk forces]
    seen: dict[str, int] = {}
    skipped = 0
    n_conv = 0
    n_sheet_unit = 0
    fuzzy = []
    if not sheet.typed:  # csv rows can be ragged (spreadsheet grids are rectangular)
        width = max((len(r) for r in rows), default=0)
        if any(len(r) != width for r in rows):
            rows = [r if len(r) == width else list(r) + [None] * (width - len(r)) for r in rows]
    pct_known = sheet.pct_cells
    pct_possible = bool(pct_known) or (pct_known is None and sheet.typed)
    late_keys = {"yoy_index", "mom_index", "pct_of_plan"} if pct_possible else {"yoy_index", "mom_index"}
    pre = f"{sname}!" if sname else ""
    colpre = {j: pre + _col_letter(j) for b in blocks for j in b.values()}
    row_info = _row_info
    figure_like = _figure_like
    fmt_num = _fmt_num
    pct_get, pct_figure = _PCT_FIGURES.get, _pct_figure
    has_digit = _DIGIT.search
    joined = _joined_flags
    add = out.append
    qadd = q_cells.append
    _float, _int, _str = float, int, str
    # the number convention (1.234,5 or 1,234.5): voted over the figure columns when the first
    # figure typed as text is met, so the plain numbers among them are read with their row
    fig_cols = sorted({b[k] for b in blocks for k in MEASURE_KEYS if k in b})
    conv = _UNDECIDED
    inline_re = None
    thousands = ","

    for bi, bcols in enumerate(blocks):
        jc, jn, ju = bcols.get("indicator_code"), bcols.get("indicator_name"), bcols.get("unit")
        js, jnote, jv = bcols.get("status"), bcols.get("note"), bcols.get("value")
        mlist = [(k, bcols[k], _MEASURE_OF[k], k in late_keys) for k in MEASURE_KEYS if k in bcols]
        jq = jn if jn is not None else jc
        cstatus = col_status[bi]
        decided = {}  # key -> [mode, figures read, forced mode]: a comparison column of numbers, decided at once
        for k, j, _m, late in mlist:
            if not late:
                continue
            deferred[(bi, k)] = []
            if pct_possible or k not in _INDEX_KEYS:
                continue
            forced = _forced_mode(table.quirks, k)
            col = [r[j] for r in rows[table.data_start:]]
            nums = [v for v in col if v.__class__ is _float and v == v]
            # text that holds no figure (a signature under the table, "không có") cannot sway the
            # decision; a figure written as text or a symbol can: decided with them, after the pass
            others = [v for v in col if v.__class__ is not _float and v is not None and v != ""]
            if others and any(map(figure_like, others)):
                continue
            if forced in ("index", "change"):
                decided[k] = forced
            elif nums and 50 <= min(nums) and max(nums) <= 300:
                decided[k] = "index"
            elif nums and -50 < min(nums) and max(nums) < 50:
                decided[k] = "change"
            if k in decided:
                decided[k] = predecided[(bi, k)] = [decided[k], 0, forced]  # [mode, figures read, forced]
        # each figure column with how its plain numbers are read: 0 the value (units, index rule),
        # 1 a percent as written, 2 an index read as a change (107,5 -> 7,5), 3 a change (the
        # column is decided as growth), 4 decided after the pass
        plan = []
        for k, j, m, late in mlist:
            if k == "value":
                mode = 0
            elif not late:
                mode = 1
            else:
                pre = decided.get(k)
                mode = 4 if pre is None else 2 if pre[0] == "index" else 3
            plan.append((k, j, m, mode, _locators(colpre[j], len(rows))))
        jfigs = [j for _k, j, _m, _l in mlist]
        for i in range(table.data_start, len(rows)):
            row = rows[i]
            code_c = row[jc] if jc is not None else None  # as read: row_info strips them
            name_c = row[jn] if jn is not None else None
            has_fig = False
            for j in jfigs:
                v = row[j]
                if v.__class__ is _float or v.__class__ is _int or (
                        v.__class__ is _str and v and (v[-1] in _ASCII_DIGITS or has_digit(v))) or (
                        v is not None and v != "" and figure_like(v)):
                    has_fig = True
                    break
            if not has_fig and not code_c and not name_c:
                continue
            (key, rare, rflags, flagstr, unit_text, vconv_from, unit_problem, row_status, ind_unit,
             index_rule) = row_info(code_c, name_c, row[ju] if ju is not None else None,
                                    row[js] if js is not None else None,
                                    row[jnote] if jnote is not None else None)
            if key is None:
                if not has_fig:
                    continue  # a heading or a footer line
                code_v, name_v = _label_text(code_c), _label_text(name_c)
                label = name_v or code_v or ""
                if not label or _is_total_label(fold(label)):
                    skipped += 1
                    continue
                raw = " | ".join(str(c) for c in row if not _blank(c))
                q_rows.append(("unknown_indicator", _loc(sname, i, jq),
                               f"row {i + 1}: {label!r} matches no indicator of the catalog; the row is not loaded",
                               raw, None, None))
                continue
            if rare is not None:  # a fuzzy match, an unknown code, a code the name contradicts
                fz, code_unknown, mismatch = rare
                code_v, name_v = _label_text(code_c), _label_text(name_c)
                if fz is not None:
                    fuzzy.append(f"row {i + 1}: {(name_v or code_v)!r} -> {fz[0]} (score {fz[1]:.0f})")
                if code_unknown:
                    notes.append(f"row {i + 1}: code {code_v!r} unknown, indicator read from the name")
                if mismatch is not None:
                    notes.append(f"row {i + 1}: code {key} but the name reads as {mismatch}; the code is kept")
            if not has_fig:
                continue
            if key in seen:
                raw = " | ".join(str(c) for c in row if not _blank(c))
                q_rows.append(("duplicate_indicator", _loc(sname, i, jq),
                               f"row {i + 1}: {key} was already read from row {seen[key] + 1}; this row is not loaded",
                               raw, key, None))
                continue
            seen[key] = i
            base_status = row_status or cstatus or sheet_status or "A"
            unit_loc = None
            if unit_text is None and sheet_unit is not None and jv is not None and not _blank(row[jv]) \
                    and U[ind_unit].family not in ("pct", "pp"):
                unit_text = sheet_unit
                unit_loc = sheet_unit_loc
                n_sheet_unit += 1
                vconv_from, unit_problem = _unit_rule(unit_text, key)
            # the row's context, for the cells read after the pass
            ctx = (key, ind_unit, unit_text, rflags, base_status, vconv_from, unit_problem, index_rule, unit_loc,
                   ju, flagstr)
            for k, j, measure, mode, locs in plan:
                v = row[j]
                if v.__class__ is _float:  # a plain number
                    if v != v:
                        continue
                    if mode == 0:
                        if unit_problem:
                            loc = locs[i]
                            qadd((unit_problem[0], unit_loc or (_loc(sname, i, ju) if ju is not None else loc),
                                  unit_problem[1], f"{fmt_num(v)} {unit_text}", key, "value"))
                            continue
                        if vconv_from is None and index_rule is None:
                            add((key, "value", v, ind_unit, base_status, None, fmt_num(v), unit_text,
                                 locs[i], flagstr))
                            continue
                        value, more = _value_rules(v, vconv_from, ind_unit, index_rule)
                        if vconv_from:
                            n_conv += 1
                        add((key, "value", value, ind_unit, base_status, None, fmt_num(v), unit_text,
                             locs[i], joined(rflags + more) if more else flagstr))
                    elif mode == 1:
                        f = pct_get(v) or pct_figure(v)  # the figure kept is the one the files share
                        add((key, measure, f[2], "pct", base_status, None, f[0], None, locs[i], flagstr))
                    elif mode == 2:
                        f = pct_get(v) or pct_figure(v)
                        add((key, measure, f[1], "pct", base_status, None, f[0], None, locs[i], flagstr))
                    elif mode == 3:
                        decided[k][1] += 1
                        f = pct_get(v) or pct_figure(v)
                        add((key, measure, f[2], "pct", base_status, None, f[0], None, locs[i],
                             joined(rflags + ("growth_not_index",))))
                    else:
                        deferred[(bi, k)].append((len(out), v, v, ctx, i, j, locs[i], None))
                        add(None)
                    continue
                if v is None or v == "":
                    continue
                if v.__class__ is _str:
                    if conv is _UNDECIDED and has_digit(v):  # the first figure typed as text: vote once
                        conv = _sheet_convention(rows, table.data_start, fig_cols)
                        inline_re = _PLAIN_NUM.get(conv) if conv is not None and not pct_possible else None
                        thousands = "." if conv == "vi" else ","
                    if inline_re is not None:
                        t = v.strip()
                        # a plain number typed as text, in the sheet's convention (as _plain_value
                        # reads it); a negative one too outside the comparison columns (where a
                        # sign states a change, read after the pass)
                        start = 1 if t[:1] == "-" and k not in _INDEX_KEYS else 0
                        if inline_re.match(t, start):
                            num = _float(t[start:].replace(thousands, "").replace(",", "."))
                            if start:
                                num = -num
                            if mode == 1 or (mode == 0 and unit_problem is None and vconv_from is None
                                             and index_rule is None):
                                add((key, measure, num, ind_unit if mode == 0 else "pct", base_status, None, t,
                                     unit_text if mode == 0 else None, locs[i], flagstr))
                                continue
                            if mode == 4:
                                deferred[(bi, k)].append((len(out), num, v, ctx, i, j, locs[i], None))
                                add(None)
                                continue
                            if mode == 0:  # a value the unit or index rules apply to
                                if unit_problem:
                                    qadd((unit_problem[0], unit_loc or (_loc(sname, i, ju) if ju is not None
                                                                        else locs[i]),
                                          unit_problem[1], f"{t} {unit_text}", key, "value"))
                                    continue
                                value, more = _value_rules(num, vconv_from, ind_unit, index_rule)
                                if vconv_from:
                                    n_conv += 1
                                add((key, "value", value, ind_unit, base_status, None, t, unit_text,
                                     locs[i], joined(rflags + more) if more else flagstr))
                                continue
                special.append((len(out), len(q_cells), k, v, i, j, ctx, locs[i], bi))
                add(None)
                qadd(None)

    # ---- the other cells (text, symbols, dates, errors), in the number convention voted
    if conv is _UNDECIDED:  # no figure typed as text: nothing to vote on
        conv = None
    if conv == "en":
        notes.append("numbers written the English way (1,234.5)")
    have_evidence = conv is not None
    symbols = L.symbols

    def finish(slot, qslot, k, c, ctx, loc, col_flag=None):
        """The observation (or the quarantine row) of a parsed cell."""
        nonlocal n_conv, holes
        key, ind_unit, unit_text, rflags, base_status, vconv_from, unit_problem, index_rule, unit_loc, ju_, _fs = ctx
        measure = _MEASURE_OF[k]
        if c.error:
            row = (c.error, loc, f"{key} {measure}: {c.message}", c.text, key, measure)
            if qslot is None:
                q_cells.append(row)
            else:
                q_cells[qslot] = row
            holes += 1
            return
        flags = rflags + tuple(c.flags) if c.flags else rflags
        if col_flag and c.symbol is None:  # how a column's figures read says nothing of a symbol
            flags = flags + (col_flag,)
        value = c.value
        unit = "pct"
        orig_unit = None
        if k == "value":
            unit = ind_unit
            orig_unit = unit_text
            if unit_problem and c.symbol is None:
                row = (unit_problem[0], unit_loc or (_loc(sname, c.row, ju_) if ju_ is not None else loc),
                       unit_problem[1], f"{c.text} {unit_text}", key, "value")
                if qslot is None:
                    q_cells.append(row)
                else:
                    q_cells[qslot] = row
                holes += 1
                return
            if value is not None and (vconv_from or index_rule):
                value, more = _value_rules(value, vconv_from, ind_unit, index_rule)
                flags = flags + more
                if vconv_from:
                    n_conv += 1
        status = c.status or base_status
        qualifier = c.qualifier
        if c.symbol is not None:
            sym = symbols.get(c.symbol) or symbols.get("...")
            status, qualifier, value = sym["status"], sym["qualifier"], None
        out[slot] = (key, measure, value, unit, status, qualifier, c.text, orig_unit, loc,
                     ",".join(dict.fromkeys(flags)) if flags else None)

    holes = 0
    for slot, qslot, k, v, i, j, ctx, loc, bi in special:
        if v.__class__ is str:
            t = v.strip()
            if not t:
                holes += 1
                continue
            # plain numbers in the sheet's convention were read with their row; what _parse_text
            # still reads as a plain number here is written otherwise (1 234,5 ...)
            spec = _parse_text(t, conv, have_evidence, k in _INDEX_KEYS)
            num = spec[0] if spec[7] is _PLAIN else None
            if num is not None and not pct_possible:  # a plain number typed as text
                if k in late_keys:
                    deferred[(bi, k)].append((slot, num, v, ctx, i, j, loc, qslot))
                    continue
                if k != "value" or not (ctx[6] or ctx[5] or ctx[7]):
                    out[slot] = (ctx[0], _MEASURE_OF[k], num, ctx[1] if k == "value" else "pct", ctx[4], None, t,
                                 ctx[2] if k == "value" else None, loc, ctx[10])
                    continue
                finish(slot, qslot, k, _Cell(i, j, num, t), ctx, loc)  # a value the unit or index rules apply to
                continue
        c = _parse_cell(v, i, j, conv, have_evidence, k in _INDEX_KEYS)
        if c is None:
            holes += 1
            continue
        if k in late_keys:
            deferred[(bi, k)].append((slot, c, v, ctx, i, j, loc, qslot))
        else:
            finish(slot, qslot, k, c, ctx, loc)

    if skipped:
        notes.append(f"{skipped} subtotal or grouping rows skipped")
    if fuzzy:
        notes.append("fuzzy indicator matches: " + "; ".join(fuzzy))
    n_items = len(seen)
    if not n_items:
        if q_rows:
            raise LayoutError(
                f"no row of the table matches an indicator ({len(q_rows)} rows with figures unmatched)",
                file=name, locator=f"{sname}!A{table.data_start + 1}" if sname else f"A{table.data_start + 1}",
                reason="no_indicator_rows",
                hint="write the indicator code (Mã chỉ tiêu) or the template's indicator name on each row")
        notes.append("the table has no figures")

    # ---- column decisions (percent-formatted cells, then index or change), per table and column
    for (bi, k), entries in deferred.items():
        j = blocks[bi][k]
        pre = predecided.get((bi, k))
        if pre is not None:
            if pre[0] == "change" and pre[2] not in ("change", "index") and pre[1]:
                notes.append(f"column {_col_letter(j)} ({table.labels.get(j, k)!r}): "
                             f"{pre[1]} of {pre[1]} figures are growth rates (7,5), not indices (107,5); "
                             "read as growth")
        if not entries:
            continue
        if pct_possible and pre is None:
            if pct_known is not None:
                scaled = [n for n, e in enumerate(entries) if (e[4], e[5]) in pct_known and
                          (e[1].__class__ is float or (e[1].numeric and e[1].value is not None))]
            elif sheet.typed and k != "mom_index":
                vals = [e[1] if e[1].__class__ is float else e[1].value for e in entries]
                nums = [x for x in vals if x is not None]
                plain = all(e[1].__class__ is float or e[1].numeric for e in entries)
                scaled = list(range(len(entries))) if plain and len(nums) >= 2 and \
                    all(0.2 <= abs(x) <= 3.0 for x in nums) else []
            else:
                scaled = []
            for n in scaled:
                e = entries[n]
                c = e[1]
                if c.__class__ is float:
                    c = _Cell(e[4], e[5], c, _fmt_num(c), True)
                if c.value is not None:
                    c.value = round(c.value * 100.0, 10)
                    c.flags.append("percent_cell")
                entries[n] = (e[0], c) + e[2:]
            if scaled:
                notes.append(f"column {_col_letter(j)}: {len(scaled)} percent-formatted cells read as percent")
        col_flag = None
        if k in _INDEX_KEYS:
            vals = [e[1] if e[1].__class__ is float else e[1].value for e in entries]
            vals = [x for x in vals if x is not None]
            mode = pre[0] if pre is not None else _forced_mode(table.quirks, k)
            if mode == "auto" and vals:
                n_idx = sum(1 for x in vals if 50 <= x <= 300)
                n_chg = sum(1 for x in vals if -50 < x < 50)
                mode = "change" if n_chg > n_idx else "index"
                if mode == "change":
                    notes.append(f"column {_col_letter(j)} ({table.labels.get(j, k)!r}): "
                                 f"{n_chg} of {len(vals)} figures are growth rates (7,5), not indices (107,5); "
                                 "read as growth")
            if mode == "change":
                col_flag = "growth_not_index"
            else:
                n_explicit = 0
                for n, e in enumerate(entries):
                    c = e[1]
                    if c.__class__ is float:
                        entries[n] = (e[0], _pct_figure(c)[1]) + e[2:]
                    elif c.change:  # "+7,5%", "giảm 3,4%": a change whatever the column holds
                        if c.value is not None:
                            c.flags.append("growth_not_index")
                            n_explicit += 1
                    elif c.value is not None:
                        c.value = round(c.value - 100.0, 10)
                if n_explicit:
                    notes.append(f"column {_col_letter(j)}: {n_explicit} figures written as changes (+7,5%) "
                                 "among indices: read as changes")
        measure = _MEASURE_OF[k]
        for slot, c, raw, ctx, _i, _j, loc, qslot in entries:
            if c.__class__ is float:
                flags = (",".join(dict.fromkeys(ctx[3] + (col_flag,))) if col_flag else ctx[10])
                out[slot] = (ctx[0], measure, c, "pct", ctx[4], None,
                             _pct_figure(raw)[0] if raw.__class__ is float else raw.strip(), None, loc, flags)
            else:
                finish(slot, qslot, k, c, ctx, loc, col_flag)

    if holes:
        out = [o for o in out if o is not None]
    quarantine = q_rows + [x for x in q_cells if x is not None]
    if n_sheet_unit:
        notes.append(f"the unit {sheet_unit!r} stated above the table ({sheet_unit_loc}) applied to "
                     f"{n_sheet_unit} rows without a unit")
    if n_conv:
        notes.append(f"{n_conv} values converted to the catalog unit")
    province_code = province.code if province else None
    obs = Rows("observation", _OBS_PER_ROW, _as_array(out),
               {"cycle": the_cycle, "period": the_cycle, "province_code": province_code,
                "province_set": province.province_set if province else None, "source_kind": "submission",
                "source_file": name, "source_sha256": sha256})
    if quarantine:
        quarantine = [r if r[3] is None or r[3].__class__ is str else r[:3] + (str(r[3]),) + r[4:]
                      for r in quarantine]
        qdf = Rows("quarantine", _Q_PER_ROW, quarantine,
                   {"cycle": the_cycle, "file": name, "source_sha256": sha256, "province_code": province_code})
    else:
        qdf = _NO_QUARANTINE
    return SubmissionRead(obs, qdf, province, province_source, stated_period, sname, notes)


# The quarantine of a file with nothing quarantined, shared by all of them: a cycle keeps nothing
# per clean file for it (no rows, so no constants either; nothing writes into it: the pipeline
# sets a file's constants on its quarantine only when it has rows).
_NO_QUARANTINE = Rows("quarantine", _Q_PER_ROW, (), {})
