"""Unit codes (DESIGN.md), their Vietnamese spellings and conversions within a family."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache

from diaphuong.catalog.provinces import DATA
from diaphuong.errors import CatalogError, DiaphuongError
from diaphuong.text.normalize import fold, normalize_vi


@dataclass(frozen=True)
class Unit:
    code: str
    family: str
    factor: float
    name_vi: str


@lru_cache(maxsize=1)
def units() -> dict[str, Unit]:
    with (DATA / "units.csv").open(encoding="utf-8", newline="") as fh:
        return {r["code"]: Unit(r["code"], r["family"], float(r["factor"]), r["name_vi"]) for r in csv.DictReader(fh)}


@lru_cache(maxsize=1)
def _aliases() -> dict[str, str]:
    out: dict[str, str] = {}
    with (DATA / "units.csv").open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            for a in [r["code"], r["name_vi"], *r["aliases"].split("|")]:
                k = normalize_vi(a).lower().strip()
                if k:
                    out.setdefault(k, r["code"])
                    out.setdefault(fold(a) or k, r["code"])
    return out


def parse_unit(text: str | None) -> str | None:
    """A unit code for a written unit ('tỷ đồng' -> 'bn_vnd'), or None when not recognised."""
    if text is None:
        return None
    t = normalize_vi(str(text)).lower().strip().strip("()").strip()
    if not t:
        return None
    a = _aliases()
    return a.get(t) or a.get(fold(t))


class UnitMismatch(DiaphuongError):
    """Two units of different families (tỷ đồng vs triệu USD)."""


def convert(value: float, from_code: str, to_code: str) -> float:
    """Convert within a family: convert(1.5, 'tn_vnd', 'bn_vnd') == 1500."""
    u = units()
    if from_code not in u or to_code not in u:
        raise CatalogError(f"unknown unit code {from_code if from_code not in u else to_code!r}")
    a, b = u[from_code], u[to_code]
    if a.family != b.family:
        raise UnitMismatch(f"cannot convert {a.name_vi} to {b.name_vi}")
    if a.factor == b.factor:
        return value
    return value * a.factor / b.factor
