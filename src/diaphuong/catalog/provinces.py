"""Provinces of both sets, the 2025 crosswalk, and the name resolver.

Data: ``provinces_2008.csv`` (63 units to 2025-06-30), ``provinces_2025.csv`` (34 units from
2025-07-01), ``province_crosswalk_2025.csv`` and ``name_variants.csv`` — copied from the verified
reference (see ``data/SOURCES.md``).
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

import pandas as pd
from rapidfuzz import fuzz, process

from diaphuong.errors import AmbiguousProvince, CatalogError, UnknownProvince
from diaphuong.periods import SWITCH_DATE
from diaphuong.text.normalize import fold

DATA = Path(__file__).parent / "data"
SETS = ("2008", "2025")


@dataclass(frozen=True)
class ProvinceRef:
    code: str
    province_set: str
    name_vi: str


def _read_csv(name: str) -> list[dict[str, str]]:
    path = DATA / name
    if not path.exists():
        raise CatalogError(f"catalog file missing: {path}")
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@lru_cache(maxsize=1)
def provinces() -> pd.DataFrame:
    """Every province row of both sets: code, province_set, name_vi, name_ascii, kind, region,
    valid_from, valid_to (a code can have two rows when a unit was renamed)."""
    frames = []
    for s in SETS:
        df = pd.DataFrame(_read_csv(f"provinces_{s}.csv"), dtype="str")
        df.insert(1, "province_set", s)
        frames.append(df)
    df = pd.concat(frames, ignore_index=True)
    df["valid_from"] = pd.to_datetime(df["valid_from"]).dt.date
    df["valid_to"] = pd.to_datetime(df["valid_to"].replace("", None)).dt.date
    df["valid_to"] = df["valid_to"].astype(object).where(df["valid_to"].notna(), None)
    return df


def set_on(on: date) -> str:
    return "2025" if on >= SWITCH_DATE else "2008"


@lru_cache(maxsize=256)
def _on_table(on: date) -> pd.DataFrame:
    df = provinces()
    mask = (df["valid_from"] <= on) & df["valid_to"].map(lambda v: v is None or v >= on)
    return df[mask].reset_index(drop=True)


def provinces_on(on: date) -> pd.DataFrame:
    """The units valid on ``on``: 63 before 2025-07-01, 34 from then on."""
    return _on_table(on).copy()


def province_name(code: str, on: date) -> str:
    t = _on_table(on)
    row = t[t["code"] == code]
    if row.empty:
        raise UnknownProvince(code, [], on=on)
    return row.iloc[0]["name_vi"]


@lru_cache(maxsize=1)
def crosswalk() -> pd.DataFrame:
    df = pd.DataFrame(_read_csv("province_crosswalk_2025.csv"), dtype="str")
    df["effective_date"] = pd.to_datetime(df["effective_date"]).dt.date
    return df


_PREFIX = re.compile(r"^(?:tinh|thanh pho|tp|t p)\s+")
_SUFFIX = re.compile(r"\s+(?:province|city)$")


def _key(text: str) -> str:
    """Matching key: folded, without the administrative prefix ('tỉnh', 'thành phố', 'TP.')."""
    k = fold(text)
    k2 = _PREFIX.sub("", k)
    k2 = _SUFFIX.sub("", k2)
    return k2 or k


@lru_cache(maxsize=1)
def _index() -> dict[str, dict[str, set[str]]]:
    """set -> key -> codes. Built from the names in the province lists and every variant."""
    idx: dict[str, dict[str, set[str]]] = {s: {} for s in SETS}
    df = provinces()
    for row in df.itertuples():
        for name in (row.name_vi, row.name_ascii):
            idx[row.province_set].setdefault(_key(name), set()).add(row.code)
            idx[row.province_set].setdefault(fold(name), set()).add(row.code)
    for row in _read_csv("name_variants.csv"):
        s = row["set"]
        if s not in idx:
            raise CatalogError(f"name_variants.csv: unknown set {s!r} for {row['variant']!r}")
        idx[s].setdefault(_key(row["variant"]), set()).add(row["code"])
        idx[s].setdefault(fold(row["variant"]), set()).add(row["code"])
    return idx


def _ref(code: str, s: str, on: date | None) -> ProvinceRef:
    df = provinces()
    rows = df[(df["code"] == code) & (df["province_set"] == s)]
    if on is not None:
        valid = rows[(rows["valid_from"] <= on) & rows["valid_to"].map(lambda v: v is None or v >= on)]
        rows = valid if not valid.empty else rows
    return ProvinceRef(code, s, rows.iloc[-1]["name_vi"])


def _candidates(key: str, sets: tuple[str, ...], limit: int = 3) -> list[str]:
    idx = _index()
    names: dict[str, str] = {}
    for s in sets:
        for k, codes in idx[s].items():
            for c in codes:
                names.setdefault(k, f"{_ref(c, s, None).name_vi} ({c}, {s})")
    hits = process.extract(key, list(names), scorer=fuzz.WRatio, limit=limit * 4)
    out: list[str] = []
    for k, _score, _ in hits:
        if names[k] not in out:
            out.append(names[k])
        if len(out) == limit:
            break
    return out


def resolve_province(text: str, on: date | None = None) -> ProvinceRef:
    """Code and set for a province name, code or any spelling in ``name_variants.csv``.

    Case-, spacing-, diacritics- and tone-placement-insensitive. With ``on``, only the set valid
    on that date is searched; without it, the 2025 set first, then the 2008 set. Raises
    :class:`AmbiguousProvince` or :class:`UnknownProvince`, both listing the closest candidates.
    """
    if text is None or not str(text).strip():
        raise UnknownProvince(str(text), [], on=on)
    raw = str(text).strip()
    sets = (set_on(on),) if on is not None else ("2025", "2008")
    if re.fullmatch(r"\d{1,2}", raw):
        code = raw.zfill(2)
        for s in sets:
            if code in set(provinces()[provinces()["province_set"] == s]["code"]):
                return _ref(code, s, on)
        raise UnknownProvince(raw, [], on=on, hint="this code is not a unit of the set valid then")
    idx = _index()
    for key in dict.fromkeys((_key(raw), fold(raw))):
        for s in sets:
            codes = idx[s].get(key)
            if codes and len(codes) == 1:
                return _ref(next(iter(codes)), s, on)
            if codes:
                raise AmbiguousProvince(raw, [f"{_ref(c, s, on).name_vi} ({c})" for c in sorted(codes)], on=on)
    key = _key(raw)
    for s in sets:
        # A fragment of several names ("Quảng", "Hà") is ambiguous, never a guess.
        pre = {c for k, codes in idx[s].items() if k.startswith(key + " ") for c in codes}
        if len(pre) > 1:
            raise AmbiguousProvince(raw, [f"{_ref(c, s, on).name_vi} ({c})" for c in sorted(pre)], on=on)
    other = tuple(s for s in SETS if s not in sets)
    hint = None
    if other:
        for s in other:
            codes = idx[s].get(_key(raw))
            if codes and len(codes) == 1:
                c = next(iter(codes))
                if s == "2008":
                    cw = crosswalk()
                    new = cw[cw["old_code"] == c].iloc[0]
                    hint = (f"{_ref(c, s, None).name_vi} ({c}) is a unit of the 63-province list; "
                            f"from 2025-07-01 it is part of {new['new_name_vi']} ({new['new_code']})")
                else:
                    hint = f"{_ref(c, s, None).name_vi} ({c}) is a unit of the 34-province list, valid from 2025-07-01"
    raise UnknownProvince(raw, _candidates(_key(raw), sets), on=on, hint=hint)


def find_province_in_text(text: str, on: date | None = None) -> ProvinceRef | None:
    """The one province a free text names ("Sở KH&ĐT tỉnh Hà Giang", "bao_cao_quang_ninh"), or None
    when it names none or several. Longest name wins ("Hà Nam" inside "Hà Nam Ninh" is not a guess)."""
    if not text:
        return None
    words = fold(str(text).replace("_", " ")).split()
    sets = (set_on(on),) if on is not None else ("2025", "2008")
    idx = _index()
    for s in sets:
        found: dict[str, int] = {}
        for n in (4, 3, 2):
            for i in range(len(words) - n + 1):
                codes = idx[s].get(" ".join(words[i:i + n]))
                if codes and len(codes) == 1:
                    found.setdefault(next(iter(codes)), n)
        if len(found) == 1:
            return _ref(next(iter(found)), s, on)
        if len(found) > 1:
            best = max(found.values())
            top = [c for c, n in found.items() if n == best]
            if len(top) == 1:
                return _ref(top[0], s, on)
            return None
    return None
