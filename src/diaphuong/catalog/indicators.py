"""The indicator catalog (``data/indicators.yaml``), the requirements per cycle kind
(``data/requirements.csv``), and matching of Vietnamese phrasings to indicator keys."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache

import pandas as pd
import yaml
from rapidfuzz import fuzz, process

from diaphuong.catalog.provinces import DATA, SETS, provinces
from diaphuong.catalog.units import units
from diaphuong.errors import CatalogError, UnknownIndicator
from diaphuong.text.normalize import fold

CYCLE_KINDS = ("month", "quarter", "half", "nine_months", "year")


@dataclass(frozen=True)
class Indicator:
    key: str
    name_vi: str
    name_en: str
    group: str
    unit: str
    additive: bool
    kind: str
    value_min: float | None
    value_max: float | None
    change_min: float | None
    change_max: float | None
    aliases: tuple[str, ...]
    components: tuple[str, ...] = ()


@lru_cache(maxsize=1)
def indicators() -> dict[str, Indicator]:
    raw = yaml.safe_load((DATA / "indicators.yaml").read_text(encoding="utf-8"))
    out: dict[str, Indicator] = {}
    known_units = units()
    for e in raw:
        key = e["key"]
        if key in out:
            raise CatalogError(f"indicators.yaml: duplicate key {key!r}")
        if e["unit"] not in known_units:
            raise CatalogError(f"indicators.yaml: {key}: unknown unit {e['unit']!r}")
        vr = e.get("value_range") or [None, None]
        cr = e.get("change_range") or [None, None]
        out[key] = Indicator(
            key=key, name_vi=e["name_vi"], name_en=e["name_en"], group=e["group"], unit=e["unit"],
            additive=bool(e["additive"]), kind=e.get("kind", "level"),
            value_min=vr[0], value_max=vr[1], change_min=cr[0], change_max=cr[1],
            aliases=tuple(e.get("aliases") or ()), components=tuple(e.get("components") or ()),
        )
    for ind in out.values():
        for c in ind.components:
            if c not in out:
                raise CatalogError(f"indicators.yaml: {ind.key}: unknown component {c!r}")
    return out


def indicator(key: str) -> Indicator:
    try:
        return indicators()[key]
    except KeyError:
        close = process.extract(key, list(indicators()), limit=3)
        raise UnknownIndicator(
            f"unknown indicator {key!r}; closest: " + ", ".join(k for k, *_ in close),
            hint="see `diaphuong sql \"SELECT indicator, name_vi FROM indicator\"`",
        ) from None


def indicator_table() -> pd.DataFrame:
    return pd.DataFrame([
        {"indicator": i.key, "name_vi": i.name_vi, "name_en": i.name_en, "group_name": i.group,
         "unit": i.unit, "additive": i.additive, "value_min": i.value_min, "value_max": i.value_max,
         "change_min": i.change_min, "change_max": i.change_max}
        for i in indicators().values()
    ])


@lru_cache(maxsize=1)
def requirements() -> pd.DataFrame:
    """cycle_kind, indicator, measure: what a province must report for each cycle kind."""
    with (DATA / "requirements.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    df = pd.DataFrame(rows, columns=["cycle_kind", "indicator", "measure"], dtype="str")
    bad = set(df["cycle_kind"]) - set(CYCLE_KINDS)
    if bad:
        raise CatalogError(f"requirements.csv: unknown cycle kinds {sorted(bad)}")
    unknown = set(df["indicator"]) - set(indicators())
    if unknown:
        raise CatalogError(f"requirements.csv: unknown indicators {sorted(unknown)}")
    return df


def required_for(cycle_kind: str) -> pd.DataFrame:
    r = requirements()
    return r[r["cycle_kind"] == cycle_kind][["indicator", "measure"]].reset_index(drop=True)


@lru_cache(maxsize=1)
def _alias_index() -> dict[str, str]:
    idx: dict[str, str] = {}
    for ind in indicators().values():
        for name in (ind.key, ind.name_vi, ind.name_en, *ind.aliases):
            idx.setdefault(fold(name), ind.key)
    return idx


@dataclass(frozen=True)
class IndicatorMatch:
    key: str
    score: float  # 100 for an exact (folded) match
    matched: str  # the catalog phrasing it matched

    @property
    def fuzzy(self) -> bool:
        return self.score < 100


def match_indicator(text: str, *, threshold: float = 90, margin: float = 4) -> IndicatorMatch | None:
    """The indicator a name or phrasing refers to: exact on the folded text first, then fuzzy
    (rapidfuzz token-sort ratio) at or above ``threshold``. None when nothing is close enough, or
    when a different indicator scores within ``margin`` points of the best (a guess between two
    look-alikes such as "tỷ trọng" and "tăng trưởng" of one sector is no match)."""
    k = fold(str(text))
    if not k:
        return None
    idx = _alias_index()
    if k in idx:
        return IndicatorMatch(idx[k], 100.0, k)
    hits = process.extract(k, list(idx), scorer=fuzz.token_sort_ratio, score_cutoff=threshold - margin, limit=8)
    if not hits or hits[0][1] < threshold:
        return None
    best_key = idx[hits[0][0]]
    for alias, score, _ in hits[1:]:
        if idx[alias] != best_key and score >= hits[0][1] - margin:
            return None
    return IndicatorMatch(best_key, float(hits[0][1]), hits[0][0])


@lru_cache(maxsize=1)
def _not_applicable() -> pd.DataFrame:
    path = DATA / "applicability.csv"
    cols = ["indicator", "province_set", "province_code", "reason"]
    with path.open(encoding="utf-8", newline="") as fh:
        lines = [(n, line) for n, line in enumerate(fh, start=1) if line.strip() and not line.lstrip().startswith("#")]
    rows = list(csv.DictReader([line for _, line in lines]))
    known = indicators()
    prov = provinces()
    for (n, _), r in zip(lines[1:], rows):
        where = f"{path.name} line {n}"
        if r["indicator"] not in known:
            raise CatalogError(f"{where}: unknown indicator {r['indicator']!r}")
        if r["province_set"] not in SETS:
            raise CatalogError(f"{where}: unknown province set {r['province_set']!r}")
        codes = set(prov.loc[prov["province_set"] == r["province_set"], "code"])
        if r["province_code"] not in codes:
            raise CatalogError(f"{where}: {r['province_code']!r} is not a unit of the {r['province_set']} set")
        if not (r.get("reason") or "").strip():
            raise CatalogError(f"{where}: give a reason")
    return pd.DataFrame(rows, columns=cols, dtype="str")


def not_applicable() -> pd.DataFrame:
    """indicator, province_set, province_code, reason: pairs a province is not asked to report."""
    return _not_applicable().copy()


def is_applicable(indicator_key: str, province_code: str, province_set: str) -> bool:
    na = _not_applicable()
    hit = (na["indicator"] == indicator_key) & (na["province_code"] == province_code) & (na["province_set"] == province_set)
    return not bool(hit.any())
