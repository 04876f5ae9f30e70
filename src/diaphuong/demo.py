"""Synthetic reporting cycles: the raw tree of DESIGN.md with realistic mess, and its ground truth.

:func:`write_demo` writes, for each cycle, ``<out>/<cycle>/inbox.csv``, ``submissions/`` (the
department's template as .xlsx, a few .csv, a few off-template sheets) and ``reports/`` (Vietnamese
report texts as .txt, .docx and .pdf), for every province valid on the cycle's last day, plus
``_truth.json`` (ignored by the pipeline: it starts with ``_``) describing what was generated and
every mess injected, so that tests can check the pipeline against it.

Values start from ``catalog/data/province_profile_2018.csv`` (population, GRDP, budget revenue,
exports, visitors of the 63 units of 2008), grow a few % a year, are scaled to the period's share of
the year, and are summed over ``crosswalk()`` for the 34 units of 2025 (rates re-weighted). Every
random choice comes from ``random.Random`` seeded with strings built from ``seed``, the cycle and
the province: the same seed gives byte-identical files (document timestamps are fixed, zip members
carry a fixed date).
"""
from __future__ import annotations

import csv
import io
import json
import math
import os
import random
import re
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path

from diaphuong.calendar import cycle_calendar, is_working_day
from diaphuong.catalog.indicators import indicators, required_for
from diaphuong.catalog.provinces import DATA, crosswalk, provinces_on
from diaphuong.catalog.units import convert, units
from diaphuong.errors import CatalogError, DiaphuongError
from diaphuong.periods import Period, parse_period
from diaphuong.text.normalize import nfc

__all__ = ["write_demo", "generate_values", "format_vi", "GENERATOR_VERSION", "FONT_PATH"]

GENERATOR_VERSION = "diaphuong.demo/1"
FONT_PATH = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
PROFILE_FILE = DATA / "province_profile_2018.csv"
TZ7 = timezone(timedelta(hours=7))
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
BASE_YEAR = 2018

# ---------------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------------


def _rng(*parts) -> random.Random:
    """A generator seeded from a string: stable across runs and Python versions."""
    return random.Random("diaphuong-demo:" + ":".join(str(p) for p in parts))


def _round(x: float, d: int) -> float:
    q = Decimal(1).scaleb(-d)
    return float(Decimal(repr(float(x))).quantize(q, rounding=ROUND_HALF_UP))


def format_vi(x: float, d: int, *, strip: bool = False) -> str:
    """Vietnamese number: dot thousands, decimal comma (``format_vi(29232.75, 2) == '29.232,75'``).
    ``strip`` drops trailing zeros of the decimals, as reports do ("7,5" for 7.50)."""
    s = f"{_round(abs(x), d):,.{d}f}"
    if strip and "." in s:
        s = s.rstrip("0").rstrip(".")
    s = s.replace(",", "\u0000").replace(".", ",").replace("\u0000", ".")
    return ("-" if x < 0 and _round(abs(x), d) != 0 else "") + s


def _ascii_slug(name_ascii: str) -> str:
    s = re.sub(r"^(thanh pho|tinh)\s+", "", name_ascii.strip().lower())
    return re.sub(r"[^a-z0-9]+", "_", s).strip("_")


def _lower_prefix(name_vi: str) -> str:
    """'Tỉnh Hà Giang' -> 'tỉnh Hà Giang', as a sentence writes it."""
    for p in ("Thành phố ", "Tỉnh "):
        if name_vi.startswith(p):
            return p.lower() + name_vi[len(p):]
    return name_vi


def _short(name_vi: str) -> str:
    for p in ("Thành phố ", "Tỉnh "):
        if name_vi.startswith(p):
            return name_vi[len(p):]
    return name_vi


_ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}

# Decimals a submission writes, by catalog unit (numbers as a provincial office keys them).
_DECIMALS = {"pct": 2, "pp": 2, "bn_vnd": 1, "tn_vnd": 2, "mn_vnd": 0, "vnd": 0, "mn_usd": 1,
             "th_usd": 0, "bn_usd": 2, "usd": 0, "persons": 0, "th_persons": 1, "enterprises": 0,
             "projects": 0, "visits": 0, "th_visits": 1, "mn_visits": 2, "mn_vnd_per_person": 1,
             "usd_per_person": 0, "tonnes": 0, "th_tonnes": 1, "ha": 0, "households": 0}


def _decimals(unit: str) -> int:
    return _DECIMALS.get(unit, 2)


# ---------------------------------------------------------------------------------------------
# Province profiles and values
# ---------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _profile() -> dict[str, dict[str, float]]:
    if not PROFILE_FILE.exists():
        raise CatalogError(f"catalog file missing: {PROFILE_FILE}",
                           hint="the demo generator seeds its magnitudes from this file")
    with PROFILE_FILE.open(encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(line for line in fh if not line.startswith("#"))]
    need = ("population_th", "grdp_bn_vnd", "budget_revenue_bn_vnd", "export_mn_usd", "visitors_th")
    out = {}
    for r in rows:
        try:
            out[r["code"].zfill(2)] = {k: float(r[k]) for k in need}
        except (KeyError, ValueError) as e:
            raise CatalogError(f"{PROFILE_FILE.name}: bad row {r!r}: {e}") from None
    return out


# National context by year: CPI (average, % yoy) and a real-growth shock (percentage points).
_CPI = {2015: 0.6, 2016: 2.7, 2017: 3.5, 2018: 3.5, 2019: 2.8, 2020: 3.2, 2021: 1.8, 2022: 3.2,
        2023: 3.3, 2024: 3.6, 2025: 3.3, 2026: 3.5}
_SHOCK = {2020: -4.5, 2021: -4.0, 2022: 1.5}
_TOURISM = {2020: 0.45, 2021: 0.30, 2022: 0.85}   # visitor level relative to trend
# Month weights: flows through the year (rising, a Tết dip), food crops by season.
_W_GENERAL = [0.076, 0.066, 0.080, 0.080, 0.082, 0.083, 0.084, 0.085, 0.086, 0.088, 0.090, 0.100]
_W_FOOD = [0.02, 0.02, 0.06, 0.15, 0.15, 0.10, 0.06, 0.08, 0.10, 0.12, 0.08, 0.06]
_W_TOURISM = [0.095, 0.10, 0.08, 0.085, 0.085, 0.09, 0.095, 0.085, 0.07, 0.07, 0.07, 0.075]


def _share(p: Period, w: list[float]) -> float:
    return sum(w[p.first_month - 1:p.last_month]) / sum(w)


def _cpi(y: int) -> float:
    return _CPI.get(y, 3.0)


def _pi_cum(m: int) -> float:
    """Share of the annual public-investment plan disbursed by the end of month m."""
    return 0.93 * (m / 12) ** 1.5 if m > 0 else 0.0


@dataclass
class _Traits:
    g: float
    agri0: float
    ind0: float
    tax0: float
    pop_g: float
    retail_ratio: float
    export_g: float
    import_ratio: float
    budget_g: float
    dom_share: float
    local_keep: float
    transfer_factor: float
    pi_share: float
    tsi_ratio: float
    fdi_ratio: float
    fdi_avg: float
    ent_factor: float
    ent_cap: float
    cpi_bias: float
    visitors_g: float
    spend: float
    jobs_rate: float
    unemp: float
    pov0: float
    food_per_va: float


_CITIES = {"01", "31", "48", "79", "92"}


@lru_cache(maxsize=512)
def _traits(seed: int, code: str) -> _Traits:
    """Lasting features of a 2008 unit, the same in every cycle for a seed."""
    pr = _profile()[code]
    r = _rng(seed, "trait", code)
    gpc = pr["grdp_bn_vnd"] / pr["population_th"]  # million VND per person, 2018
    agri = min(42.0, max(0.5, 24 - 22 * math.log(gpc / 50) + r.gauss(0, 3.0)))
    tax = r.uniform(5.0, 11.0)
    if code in _CITIES:  # centrally-run cities: services first
        ind = r.uniform(22, 34)
    else:
        ind = min(62.0, max(14.0, r.uniform(22, 44) + (10 if pr["export_mn_usd"] > 3000 else 0)))
    if 100 - agri - ind - tax < 22:
        ind = 100 - agri - tax - 22
    big_exporter = pr["export_mn_usd"] / max(pr["grdp_bn_vnd"], 1) > 0.05
    return _Traits(
        g=r.uniform(5.5, 9.5),
        agri0=agri, ind0=ind, tax0=tax,
        pop_g=r.uniform(0.5, 1.6),
        retail_ratio=r.uniform(0.35, 0.8),
        export_g=r.uniform(4, 12),
        import_ratio=r.uniform(0.9, 1.1) if big_exporter else r.uniform(0.4, 0.9),
        budget_g=r.uniform(4, 9),
        dom_share=r.uniform(0.6, 0.85) if big_exporter else r.uniform(0.9, 0.995),
        local_keep=r.uniform(0.45, 0.7),
        transfer_factor=r.uniform(0.6, 1.6) * (1.6 if gpc < 45 else 1.0),
        pi_share=r.uniform(0.2, 0.35),
        tsi_ratio=r.uniform(0.22, 0.38),
        fdi_ratio=r.uniform(0.03, 0.2),
        fdi_avg=r.uniform(4, 18),
        ent_factor=r.uniform(0.6, 1.4),
        ent_cap=r.uniform(5, 15),
        cpi_bias=r.gauss(0, 0.35),
        visitors_g=r.uniform(3, 10),
        spend=r.uniform(0.6, 2.4),
        jobs_rate=r.uniform(0.012, 0.022),
        unemp=r.uniform(1.6, 3.8),
        pov0=min(38.0, max(0.2, 30 - 9 * math.log(gpc / 20) + r.gauss(0, 2.5))),
        food_per_va=r.uniform(0.025, 0.10),
    )


def _growth_path(y: int, g: float, extra: float = 0.0) -> float:
    """Level of year y relative to BASE_YEAR for real growth g (+ shocks) and inflation ``extra``."""
    f = 1.0
    if y >= BASE_YEAR:
        for k in range(BASE_YEAR + 1, y + 1):
            f *= (1 + (g + _SHOCK.get(k, 0)) / 100) * (1 + extra / 100 if extra else 1)
    else:
        for k in range(y + 1, BASE_YEAR + 1):
            f /= (1 + (g + _SHOCK.get(k, 0)) / 100) * (1 + extra / 100 if extra else 1)
    return f


def _lvl(value: float, yoy: float | None, plan: float | None = None) -> dict:
    return {"value": value, "yoy": yoy, "plan": plan}


def _old_unit_record(seed: int, code: str, p: Period) -> dict:
    """Unrounded values of one 2008 unit for period p, in internal units (bn_vnd, mn_usd,
    th_visits, persons, th_persons, th_tonnes, pct), with yoy (%) and annual plan where it has one.
    ``_aux`` carries the weights used to re-aggregate rates."""
    pr = _profile()[code]
    t = _traits(seed, code)
    r = _rng(seed, p.code, code, "values")
    y = p.year
    dy = y - BASE_YEAR
    ms = _share(p, _W_GENERAL)
    infl = min(4.8, max(1.2, _cpi(y) + t.cpi_bias + r.gauss(0, 0.25)))
    defl = infl

    # GRDP, sectors, shares
    shock = _SHOCK.get(y, 0.0)
    g_agri = r.uniform(1.5, 4.5) + 0.2 * shock
    g_ind = t.g + r.uniform(0.5, 4.0) + shock
    g_serv = t.g + r.uniform(-1.5, 1.0) + shock
    g_tax = t.g + r.uniform(-2.0, 2.0) + 0.5 * shock
    agri = max(0.5, t.agri0 - 0.45 * dy + r.gauss(0, 0.4))
    ind = min(70.0, t.ind0 + 0.3 * dy + r.gauss(0, 0.5))
    tax = max(3.0, t.tax0 + r.gauss(0, 0.3))
    serv = 100 - agri - ind - tax
    shares = {"agriculture": agri, "industry_construction": ind, "services": serv, "product_taxes": tax}
    growths = {"agriculture": g_agri, "industry_construction": g_ind, "services": g_serv, "product_taxes": g_tax}
    g = sum(shares[k] * growths[k] for k in shares) / 100
    grdp_annual = pr["grdp_bn_vnd"] * _growth_path(y, t.g, defl)
    grdp = grdp_annual * ms * r.uniform(0.985, 1.015)
    nominal_g = ((1 + g / 100) * (1 + defl / 100) - 1) * 100
    deflator = 1.52 * 1.033 ** dy
    va = {k: grdp * s / 100 for k, s in shares.items()}
    pop = pr["population_th"] * (1 + t.pop_g / 100) ** dy

    rec: dict = {
        "grdp_growth": _lvl(g, None),
        "grdp_current_prices": _lvl(grdp, nominal_g),
        "grdp_constant_prices": _lvl(grdp / deflator, g),
        "grdp_per_capita": _lvl(grdp_annual / pop, ((1 + nominal_g / 100) / (1 + t.pop_g / 100) - 1) * 100),
        "population": _lvl(pop, t.pop_g + r.gauss(0, 0.05)),
    }
    for k in shares:
        rec[f"grdp_share_{k}"] = _lvl(shares[k], None)
        rec[f"grdp_growth_{k}"] = _lvl(growths[k], None)
    rec["iip_growth"] = _lvl(min(30.0, max(-8.0, g_ind + r.gauss(1.0, 2.0))), None)

    # Trade
    retail_annual = grdp_annual * t.retail_ratio
    rec["retail_sales"] = _lvl(retail_annual * ms * r.uniform(0.98, 1.02), nominal_g + r.gauss(1.5, 1.5),
                               retail_annual * r.uniform(0.95, 1.05))
    exp_annual = pr["export_mn_usd"] * (1 + t.export_g / 100) ** dy
    rec["export_value"] = _lvl(exp_annual * ms * r.uniform(0.96, 1.04), t.export_g + r.gauss(0, 3),
                               exp_annual * r.uniform(0.95, 1.08))
    rec["import_value"] = _lvl(exp_annual * t.import_ratio * ms * r.uniform(0.94, 1.06),
                               t.export_g + r.gauss(0, 5), exp_annual * t.import_ratio * r.uniform(0.95, 1.08))

    # Public finance
    bud_annual = pr["budget_revenue_bn_vnd"] * (1 + t.budget_g / 100) ** dy
    bud = bud_annual * ms * r.uniform(0.97, 1.12)
    bud_yoy = t.budget_g + r.gauss(0, 4)
    rec["budget_revenue"] = _lvl(bud, bud_yoy, bud_annual * r.uniform(0.82, 0.97))
    dom = bud * t.dom_share
    rec["budget_revenue_domestic"] = _lvl(dom, bud_yoy + r.gauss(0, 2), bud_annual * t.dom_share * r.uniform(0.82, 0.97))
    rec["budget_revenue_import_export"] = _lvl(bud - dom, bud_yoy + r.gauss(0, 8), None)
    transfers = pop * 3.5 * t.transfer_factor * 1.07 ** dy
    local_annual = bud_annual * t.local_keep + transfers
    rec["budget_revenue_local"] = _lvl(local_annual * ms * r.uniform(0.95, 1.08), r.gauss(8, 4),
                                       local_annual * r.uniform(0.9, 1.0))
    exp_b_annual = local_annual * r.uniform(0.9, 1.02)
    rec["budget_expenditure"] = _lvl(exp_b_annual * ms * r.uniform(0.88, 1.02), r.gauss(8, 5),
                                     exp_b_annual * r.uniform(0.95, 1.05))
    pi_plan = exp_b_annual * t.pi_share
    pi_part = max(0.004, _pi_cum(p.last_month) - _pi_cum(p.first_month - 1))
    rec["public_investment_disbursed"] = _lvl(pi_plan * pi_part * r.uniform(0.85, 1.12), r.gauss(10, 10), pi_plan)

    # Investment and enterprises
    tsi_annual = grdp_annual * t.tsi_ratio
    rec["total_social_investment"] = _lvl(tsi_annual * ms * r.uniform(0.97, 1.03), nominal_g + r.gauss(1, 2.5),
                                          tsi_annual * r.uniform(0.95, 1.05))
    fdi_annual = max(4.0, pr["export_mn_usd"] * t.fdi_ratio) * 1.05 ** dy
    fdi = fdi_annual * ms * r.uniform(0.4, 1.6)
    rec["fdi_registered_capital"] = _lvl(fdi, min(150.0, max(-60.0, r.gauss(10, 25))), None)
    rec["fdi_projects"] = _lvl(float(max(1, round(fdi / t.fdi_avg))), min(120.0, max(-50.0, r.gauss(5, 20))), None)
    ent_annual = pr["grdp_bn_vnd"] * 0.024 * t.ent_factor * 1.045 ** dy
    ent = float(max(2, round(ent_annual * ms * r.uniform(0.9, 1.1))))
    rec["new_enterprises"] = _lvl(ent, r.gauss(6, 7), ent_annual * r.uniform(0.95, 1.1))
    rec["new_enterprises_capital"] = _lvl(ent * t.ent_cap * r.uniform(0.8, 1.2), r.gauss(8, 12), None)

    # Prices
    rec["cpi_yoy"] = _lvl(infl, None)
    rec["cpi_avg"] = _lvl(min(4.8, max(1.2, infl + r.gauss(0, 0.3))), None)
    rec["cpi_mom"] = _lvl(min(1.0, max(-0.6, r.gauss(0.2, 0.25))), None)

    # Tourism
    trend = pr["visitors_th"] * (1 + t.visitors_g / 100) ** dy
    vis_annual = trend * _TOURISM.get(y, 1.0)
    vis = vis_annual * _share(p, _W_TOURISM) * r.uniform(0.95, 1.05)
    vis_yoy = ((1 + t.visitors_g / 100) * _TOURISM.get(y, 1.0) / _TOURISM.get(y - 1, 1.0) - 1) * 100 + r.gauss(0, 3)
    rec["visitors"] = _lvl(vis, vis_yoy, vis_annual * r.uniform(0.95, 1.1))
    spend = t.spend * 1.05 ** dy
    rec["tourism_revenue"] = _lvl(vis * spend, vis_yoy + r.gauss(5, 3), vis_annual * spend * r.uniform(0.95, 1.1))

    # Labour, living standards, agriculture
    jobs_annual = pop * 1000 * t.jobs_rate
    rec["jobs_created"] = _lvl(float(max(10, round(jobs_annual * ms * r.uniform(0.92, 1.1)))), r.gauss(2, 5),
                               jobs_annual * r.uniform(0.95, 1.05))
    rec["unemployment_rate"] = _lvl(max(0.5, t.unemp + r.gauss(0, 0.15) + (0.6 if y in (2020, 2021) else 0)), None)
    rec["poverty_rate"] = _lvl(max(0.1, t.pov0 * 0.86 ** dy + r.gauss(0, 0.2)), None)
    food_annual = pr["grdp_bn_vnd"] * t.agri0 / 100 * t.food_per_va * 1.01 ** dy
    rec["food_output"] = _lvl(food_annual * _share(p, _W_FOOD) * r.uniform(0.95, 1.05), r.gauss(1, 3), None)

    rec["_aux"] = {"grdp": grdp, "grdp_annual": grdp_annual, "pop": pop, "va": va}
    return rec


# How each non-additive indicator is re-weighted when old units merge (weights from ``_aux``).
_WEIGHT = {"grdp_growth": ("grdp",), "iip_growth": ("va", "industry_construction"),
           "cpi_yoy": ("pop",), "cpi_avg": ("pop",), "cpi_mom": ("pop",),
           "unemployment_rate": ("pop",), "poverty_rate": ("pop",)}
for _s in ("agriculture", "industry_construction", "services", "product_taxes"):
    _WEIGHT[f"grdp_growth_{_s}"] = ("va", _s)


def _aggregate(recs: list[dict]) -> dict:
    """Merge records of old units into one (the 2025 unit they became)."""
    if len(recs) == 1:
        return recs[0]
    out: dict = {}
    aux = {"grdp": sum(r["_aux"]["grdp"] for r in recs),
           "grdp_annual": sum(r["_aux"]["grdp_annual"] for r in recs),
           "pop": sum(r["_aux"]["pop"] for r in recs),
           "va": {k: sum(r["_aux"]["va"][k] for r in recs) for k in recs[0]["_aux"]["va"]}}
    for key in recs[0]:
        if key == "_aux":
            continue
        if key.startswith("grdp_share_"):
            s = key.removeprefix("grdp_share_")
            out[key] = _lvl(100 * aux["va"][s] / aux["grdp"], None)
            continue
        if key == "grdp_per_capita":
            prior = sum(r["_aux"]["grdp_annual"] / (1 + r[key]["yoy"] / 100) for r in recs)
            out[key] = _lvl(aux["grdp_annual"] / aux["pop"], None)
            pop_prior = sum(r["_aux"]["pop"] / (1 + r["population"]["yoy"] / 100) for r in recs)
            out[key]["yoy"] = ((aux["grdp_annual"] / aux["pop"]) / (prior / pop_prior) - 1) * 100
            continue
        if key in _WEIGHT:
            w = _WEIGHT[key]
            ws = [r["_aux"][w[0]] if len(w) == 1 else r["_aux"][w[0]][w[1]] for r in recs]
            out[key] = _lvl(sum(x * r[key]["value"] for x, r in zip(ws, recs)) / sum(ws), None)
            continue
        v = sum(r[key]["value"] for r in recs)
        prior = sum(r[key]["value"] / (1 + r[key]["yoy"] / 100) for r in recs if r[key]["yoy"] is not None)
        yoy = (v / prior - 1) * 100 if prior else None
        plans = [r[key]["plan"] for r in recs]
        out[key] = _lvl(v, yoy, sum(plans) if all(x is not None for x in plans) else None)
    out["_aux"] = aux
    return out


_INTERNAL_UNIT = {
    "grdp_current_prices": "bn_vnd", "grdp_constant_prices": "bn_vnd", "grdp_per_capita": "mn_vnd_per_person",
    "retail_sales": "bn_vnd", "export_value": "mn_usd", "import_value": "mn_usd", "budget_revenue": "bn_vnd",
    "budget_revenue_domestic": "bn_vnd", "budget_revenue_import_export": "bn_vnd",
    "budget_revenue_local": "bn_vnd", "budget_expenditure": "bn_vnd", "public_investment_disbursed": "bn_vnd",
    "total_social_investment": "bn_vnd", "fdi_registered_capital": "mn_usd", "fdi_projects": "projects",
    "new_enterprises": "enterprises", "new_enterprises_capital": "bn_vnd", "visitors": "th_visits",
    "tourism_revenue": "bn_vnd", "jobs_created": "persons", "population": "th_persons", "food_output": "th_tonnes",
}
# Indicators that carry a plan (and so a pct_of_plan) in submissions and reports.
_PLANNED = ("retail_sales", "export_value", "budget_revenue", "budget_revenue_domestic", "budget_expenditure",
            "public_investment_disbursed", "total_social_investment", "new_enterprises", "visitors",
            "tourism_revenue", "jobs_created")
# Text-only extras a report may add beyond the submission's rows.
_TEXT_EXTRAS = {"month": ("tourism_revenue", "fdi_registered_capital", "fdi_projects", "jobs_created"),
                "quarter": ("unemployment_rate", "budget_revenue_domestic", "tourism_revenue"),
                "half": ("unemployment_rate", "food_output", "budget_revenue_local"),
                "nine_months": ("unemployment_rate", "food_output"),
                "year": ()}


def _cycle_indicators(p: Period) -> list[str]:
    req = list(dict.fromkeys(required_for(p.requirement_kind)["indicator"]))
    if not req:  # no requirements in the catalog: a sensible default
        req = [k for k in indicators() if not k.startswith(("population", "poverty", "grdp_per"))]
    return req


def _finalize(rec: dict, keys: list[str]) -> dict[str, dict]:
    """Rounded values in catalog units: {key: {value, unit, yoy_pct, pct_of_plan, plan}}."""
    cat = indicators()
    out: dict[str, dict] = {}
    for k in keys:
        if k not in rec:
            continue
        ind = cat[k]
        src = rec[k]
        iu = _INTERNAL_UNIT.get(k, "pct")
        v = src["value"]
        plan = src["plan"]
        if iu != ind.unit:
            v = convert(v, iu, ind.unit)
            plan = convert(plan, iu, ind.unit) if plan is not None else None
        d = _decimals(ind.unit)
        val = _round(v, d)
        e = {"value": val, "unit": ind.unit, "yoy_pct": None, "pct_of_plan": None, "plan": None}
        if src["yoy"] is not None and ind.kind in ("level", "count"):
            e["yoy_pct"] = _round(src["yoy"], 2)
        if k in _PLANNED and plan:
            e["pct_of_plan"] = _round(100 * v / plan, 2)
            e["plan"] = _round(plan, 0 if plan >= 100 else d)
        out[k] = e
    # Components add up after rounding; shares sum to 100.
    if {"budget_revenue", "budget_revenue_domestic", "budget_revenue_import_export"} <= set(out):
        out["budget_revenue"]["value"] = _round(out["budget_revenue_domestic"]["value"]
                                                + out["budget_revenue_import_export"]["value"], 1)
    sk = [f"grdp_share_{s}" for s in ("agriculture", "industry_construction", "product_taxes")]
    if all(s in out for s in sk) and "grdp_share_services" in out:
        out["grdp_share_services"]["value"] = _round(100 - sum(out[s]["value"] for s in sk), 2)
    return out


def generate_values(cycle: str, *, seed: int = 0) -> dict[str, dict[str, dict]]:
    """Values of every indicator for every province valid on the cycle's last day (a 2025 unit is
    the sum of the 2008 units that formed it): ``{code: {indicator: {value, unit, yoy_pct,
    pct_of_plan, plan}}}``, rounded as a submission writes them. Covers the cycle's required
    indicators plus a few that reports mention."""
    p = parse_period(cycle)
    keys = list(dict.fromkeys([*_cycle_indicators(p), *_TEXT_EXTRAS.get(p.requirement_kind, ())]))
    provs = provinces_on(p.end)
    out = {}
    if p.province_set == "2008":
        for code in provs["code"]:
            out[code] = _finalize(_old_unit_record(seed, code, p), keys)
    else:
        cw = crosswalk()
        for code in provs["code"]:
            olds = sorted(cw[cw["new_code"] == code]["old_code"])
            out[code] = _finalize(_aggregate([_old_unit_record(seed, o, p) for o in olds]), keys)
    return out


# ---------------------------------------------------------------------------------------------
# Report texts
# ---------------------------------------------------------------------------------------------

_SCALE_UP = {"bn_vnd": ("tn_vnd", 10_000), "mn_usd": ("bn_usd", 1_000), "th_visits": ("mn_visits", 1_000)}


class _Doc:
    """A text under construction that remembers where each figure sits."""

    def __init__(self, rng: random.Random, values: dict, period: Period, overrides: dict):
        self.parts: list[str] = []
        self.pos = 0
        self.r = rng
        self.v = values
        self.p = period
        self.over = overrides  # (indicator, measure) -> value stated instead
        self.figures: list[dict] = []

    def add(self, s: str) -> None:
        s = nfc(s)
        self.parts.append(s)
        self.pos += len(s)

    def text(self) -> str:
        return "".join(self.parts)

    def trim(self) -> None:
        """Drop trailing spaces before a paragraph break."""
        while self.parts and self.parts[-1].endswith(" "):
            last = self.parts.pop()
            self.pos -= len(last)
            self.add(last.rstrip(" "))
            if self.parts and self.parts[-1] == "":
                self.parts.pop()

    def has(self, ind: str, measure: str = "value") -> bool:
        e = self.v.get(ind)
        return e is not None and e.get(measure) is not None

    def _val(self, ind: str, measure: str) -> tuple[float, bool]:
        if (ind, measure) in self.over:
            return self.over[(ind, measure)], False
        return self.v[ind][measure], True

    def _record(self, stated: str, ind: str, measure: str, value: float, unit: str, d: int,
                agrees: bool, kind: str = "outturn", period: str | None = None, status: str = "E",
                qualifier: str | None = None) -> None:
        cat_unit = indicators()[ind].unit if measure == "value" else "pct"
        if unit != cat_unit:
            v_cat = convert(value, unit, cat_unit)
            tol = convert(0.5 * 10 ** -d, unit, cat_unit)
        else:
            v_cat, tol = value, 0.5 * 10 ** -d
        fig = {"indicator": ind, "measure": measure, "period": period or self.p.code, "kind": kind,
               "text": stated, "start": self.pos, "end": self.pos + len(stated), "stated_unit": unit,
               "value": _round(v_cat, 6), "tolerance": _round(tol, 9), "agrees": agrees, "status": status}
        if qualifier:
            fig["qualifier"] = qualifier
        self.figures.append(fig)

    def pct(self, ind: str, measure: str = "value", *, signed: bool = False, status: str = "E",
            kind: str = "outturn", period: str | None = None, qualifier: str | None = None,
            value: float | None = None) -> None:
        """'7,52%' (or '-1,2%' when signed)."""
        agrees = True
        if value is None:
            value, agrees = self._val(ind, measure)
        d = self.r.choice((1, 2, 2))
        x = _round(value, d)
        stated = format_vi(x if signed else abs(x), d, strip=True)
        self._record(stated, ind, measure, x if signed else abs(x), "pct", d, agrees, kind, period, status, qualifier)
        self.add(stated + "%")

    def chg(self, ind: str, measure: str = "value", **kw) -> None:
        """'tăng 7,52%' / 'giảm 1,2%' (the recorded value keeps its sign)."""
        value = kw.pop("value", None)
        agrees = True
        if value is None:
            value, agrees = self._val(ind, measure)
        d = self.r.choice((1, 2, 2))
        x = _round(value, d)
        self.add("tăng " if x >= 0 else "giảm ")
        stated = format_vi(abs(x), d, strip=True)
        self._record(stated, ind, measure, x, "pct", d, agrees, kw.get("kind", "outturn"), kw.get("period"),
                     kw.get("status", "E"))
        self.add(stated + "%")

    def amt(self, ind: str, *, value: float | None = None, kind: str = "outturn", period: str | None = None,
            status: str = "E", unit_word: bool = True) -> None:
        """An amount with its unit, at the scale a report would pick ('45,12 nghìn tỷ đồng')."""
        agrees = True
        if value is None:
            value, agrees = self._val(ind, "value")
        unit = indicators()[ind].unit
        if unit in _SCALE_UP and value >= _SCALE_UP[unit][1] and self.r.random() < 0.45:
            unit = _SCALE_UP[unit][0]
            value = convert(value, indicators()[ind].unit, unit)
            d = 2
        elif (unit in ("bn_vnd", "mn_usd") and value >= 1000 and self.r.random() < 0.4) or kind == "plan":
            d = 0
        else:
            d = _decimals(unit)
        x = _round(value, d)
        stated = format_vi(x, d, strip=d > 0 and self.r.random() < 0.5)
        self._record(stated, ind, "value", x, unit, d, agrees, kind, period, status)
        self.add(stated)
        if unit_word:
            self.add(" " + units()[unit].name_vi)

    def cnt(self, ind: str, **kw) -> None:
        value = kw.pop("value", None)
        agrees = True
        if value is None:
            value, agrees = self._val(ind, "value")
        x = float(round(value))
        stated = format_vi(x, 0)
        self._record(stated, ind, "value", x, indicators()[ind].unit, 0, agrees, kw.get("kind", "outturn"),
                     kw.get("period"), kw.get("status", "E"))
        self.add(stated)


def _period_phrase(p: Period, r: random.Random) -> str:
    y = p.year
    if p.kind == "half":
        return r.choice((f"6 tháng đầu năm {y}", "6 tháng đầu năm", f"sáu tháng đầu năm {y}")) \
            if p.last_month == 6 else r.choice((f"6 tháng cuối năm {y}", "6 tháng cuối năm"))
    if p.kind == "quarter":
        q = _ROMAN[p.last_month // 3]
        return r.choice((f"quý {q} năm {y}", f"quý {q}/{y}"))
    if p.kind == "month":
        return r.choice((f"tháng {p.last_month} năm {y}", f"tháng {p.last_month}/{y}"))
    if p.kind == "ytd":
        n = p.last_month
        return r.choice((f"{n} tháng đầu năm {y}", f"{n} tháng năm {y}", f"tính chung {n} tháng đầu năm"))
    return r.choice((f"năm {y}", f"cả năm {y}"))


def _est(r: random.Random, status: str, verb: str) -> str:
    """The status word before a figure: 'ước đạt' before an amount, 'ước tính tăng' before a change."""
    if status == "P":
        return "sơ bộ đạt" if verb == "amt" else "sơ bộ"
    if verb == "amt":
        return r.choice(("ước đạt", "ước tính đạt", "ước thực hiện", "ước đạt", "ước tính"))
    return r.choice(("ước tính", "ước", "ước tính", ""))


def _hoa(r: random.Random, s: str) -> str:
    """Both tone placements occur in real texts: 'hóa' or 'hoá', 'thủy' or 'thuỷ'."""
    if r.random() < 0.35:
        s = s.replace("hóa", "hoá").replace("thủy", "thuỷ").replace("Hòa", "Hoà").replace("hòa", "hoà")
    return s


_FILLERS = (
    "Tình hình an ninh chính trị, trật tự an toàn xã hội trên địa bàn được giữ vững.",
    "Công tác an sinh xã hội được quan tâm; các chính sách đối với người có công và hộ nghèo được thực hiện đầy đủ, kịp thời.",
    "Hoạt động văn hóa, thể thao diễn ra sôi nổi, thiết thực chào mừng các ngày lễ lớn.",
    "Công tác cải cách hành chính tiếp tục được đẩy mạnh, chỉ số hài lòng của người dân có chuyển biến tích cực.",
    "Thời tiết thuận lợi, tình hình dịch bệnh trên cây trồng, vật nuôi được kiểm soát tốt.",
    "Công tác phòng, chống thiên tai và tìm kiếm cứu nạn được triển khai chủ động.",
    "Một số doanh nghiệp còn gặp khó khăn về đơn hàng, vốn và thị trường tiêu thụ.",
    "Tiến độ giải phóng mặt bằng một số dự án trọng điểm còn chậm so với yêu cầu.",
)


def _compose_report(code: str, name_vi: str, p: Period, values: dict, status: str, prepared_on: date,
                    rng: random.Random, overrides: dict, province_set: str) -> tuple[str, list[dict]]:
    """The report text of one province and the figures it states (with character spans)."""
    r = rng
    d = _Doc(r, values, p, overrides)
    upper = name_vi.upper()
    P = _period_phrase(p, r)
    y = p.year
    level = "thành phố" if name_vi.startswith("Thành phố") else "tỉnh"
    cum_period = parse_period(f"{y}-{p.last_month}M") if p.first_month > 1 and p.last_month > 1 else None

    def cumulative(ind: str, label: str) -> None:
        """'Tính chung N tháng đầu năm, <label> ước đạt X, tăng Y%': a year-to-date figure that
        belongs to another period than the cycle's (recorded as kind 'cumulative')."""
        if cum_period is None or not d.has(ind) or r.random() < 0.3:
            return
        e = values[ind]
        factor = _share(cum_period, _W_GENERAL) / _share(p, _W_GENERAL) * r.uniform(0.98, 1.02)
        n = cum_period.last_month
        when = f"{n} tháng đầu năm" if n < 12 else f"cả năm {y}"
        d.add(f" Tính chung {when}, {label} {_est(r, status, 'amt')} ")
        d.amt(ind, value=e["value"] * factor, kind="cumulative", period=cum_period.code, status=status)
        if e.get("yoy_pct") is not None:
            d.add(", ")
            d.chg(ind, "yoy_pct", value=e["yoy_pct"] + r.gauss(0, 1.0), kind="cumulative", period=cum_period.code,
                  status=status)
            d.add(" so với cùng kỳ")
        d.add(".")
    agency = "ỦY BAN NHÂN DÂN" if r.random() < 0.5 else "UỶ BAN NHÂN DÂN"
    d.add(f"{agency}\n{upper}\n")
    d.add(f"Số: {r.randint(45, 480)}/BC-UBND\n")
    d.add(f"{_short(name_vi)}, ngày {prepared_on.day} tháng {prepared_on.month} năm {prepared_on.year}\n\n")
    d.add("BÁO CÁO\n")
    d.add(f"Tình hình kinh tế - xã hội {p.label_vi.lower()}\n")
    d.add("và nhiệm vụ, giải pháp trọng tâm thời gian tới\n\n")
    d.add("I. TÌNH HÌNH KINH TẾ - XÃ HỘI\n\n")
    sec = 0

    def head(title: str) -> None:
        nonlocal sec
        sec += 1
        d.add(f"{sec}. {title}\n")

    def end_par() -> None:
        d.trim()
        if r.random() < 0.3:
            d.add(" " + _hoa(r, r.choice(_FILLERS)))
        d.add("\n\n")

    # 1. Growth and structure
    if d.has("grdp_growth"):
        head("Tăng trưởng kinh tế")
        g = d._val("grdp_growth", "value")[0]
        form = r.randrange(3) if g > 0 else 0
        if form == 0:
            d.add(f"Tổng sản phẩm trên địa bàn (GRDP) {P} theo giá so sánh 2010 {_est(r, status, 'chg')} ".replace("  ", " "))
            d.chg("grdp_growth", status=status)
            d.add(" so với cùng kỳ năm trước")
        elif form == 1:
            d.add(f"Tốc độ tăng trưởng kinh tế (GRDP) {P} {_est(r, status, 'amt')} ")
            d.pct("grdp_growth", status=status)
        else:
            d.add(f"Kinh tế {_lower_prefix(name_vi)} {P} duy trì đà tăng trưởng, GRDP {_est(r, status, 'chg')} ".replace("  ", " "))
            d.chg("grdp_growth", status=status)
            d.add(" so với cùng kỳ")
        sect = [("grdp_growth_agriculture", "khu vực nông, lâm nghiệp và thủy sản"),
                ("grdp_growth_industry_construction", "khu vực công nghiệp và xây dựng"),
                ("grdp_growth_services", "khu vực dịch vụ"),
                ("grdp_growth_product_taxes", "thuế sản phẩm trừ trợ cấp sản phẩm")]
        if all(d.has(k) for k, _ in sect):
            d.add("; trong đó, ")
            for i, (k, label) in enumerate(sect):
                d.add(_hoa(r, label) + " ")
                d.chg(k, status=status)
                d.add("; " if i < 3 else ".")
        else:
            d.add(".")
        if d.has("grdp_current_prices"):
            d.add(f" Quy mô GRDP theo giá hiện hành {_est(r, status, 'amt')} ")
            d.amt("grdp_current_prices", status=status)
            if d.has("grdp_constant_prices") and r.random() < 0.7:
                d.add("; theo giá so sánh đạt ")
                d.amt("grdp_constant_prices", status=status)
            d.add(".")
        shares = [("grdp_share_agriculture", "khu vực nông, lâm nghiệp và thủy sản"),
                  ("grdp_share_industry_construction", "khu vực công nghiệp và xây dựng"),
                  ("grdp_share_services", "khu vực dịch vụ"),
                  ("grdp_share_product_taxes", "thuế sản phẩm trừ trợ cấp sản phẩm")]
        if all(d.has(k) for k, _ in shares):
            d.add(" " + r.choice(("Về cơ cấu kinh tế, ", "Cơ cấu kinh tế: ", "Về cơ cấu GRDP, ")))
            for i, (k, label) in enumerate(shares):
                d.add(_hoa(r, label) + " chiếm " + ("tỷ trọng " if i == 0 and r.random() < 0.5 else ""))
                d.pct(k, status=status)
                d.add("; " if i < 3 else ".")
        if d.has("grdp_per_capita"):
            d.add(f" GRDP bình quân đầu người {_est(r, status, 'amt')} ")
            d.amt("grdp_per_capita", status=status)
            d.add(".")
        end_par()

    # 2. Agriculture
    if d.has("food_output"):
        head("Sản xuất nông, lâm nghiệp và thủy sản")
        d.add(_hoa(r, f"Sản lượng lương thực có hạt {P} {_est(r, status, 'amt')} "))
        d.amt("food_output", status=status)
        if d.has("food_output", "yoy_pct"):
            d.add(", ")
            d.chg("food_output", "yoy_pct", status=status)
            d.add(" so với cùng kỳ")
        d.add(".")
        end_par()

    # 3. Industry
    if d.has("iip_growth"):
        head("Sản xuất công nghiệp")
        if r.random() < 0.5:
            d.add(f"Chỉ số sản xuất toàn ngành công nghiệp (IIP) {P} {_est(r, status, 'chg')} ".replace("  ", " "))
        else:
            d.add(f"Sản xuất công nghiệp tiếp tục phục hồi; chỉ số sản xuất công nghiệp {P} {_est(r, status, 'chg')} ".replace("  ", " "))
        d.chg("iip_growth", status=status)
        d.add(" so với cùng kỳ năm trước")
        if r.random() < 0.5:
            d.add(_hoa(r, ", trong đó ngành công nghiệp chế biến, chế tạo "))
            sub = d._val("iip_growth", "value")[0] + r.uniform(0.5, 3.0)
            d.add("tăng " if sub >= 0 else "giảm ")
            stated = format_vi(abs(_round(sub, 1)), 1)
            d.figures.append({"indicator": None, "measure": None, "period": p.code, "kind": "other",
                              "text": stated, "start": d.pos, "end": d.pos + len(stated),
                              "stated_unit": "pct", "value": _round(sub, 1), "agrees": None,
                              "note": "IIP of manufacturing only, not a catalog indicator"})
            d.add(stated + "%")
        d.add(".")
        end_par()

    # 4. Trade and tourism
    if any(d.has(k) for k in ("retail_sales", "export_value", "import_value", "visitors")):
        head(_hoa(r, "Thương mại, dịch vụ, xuất nhập khẩu và du lịch"))
        if d.has("retail_sales"):
            d.add(_hoa(r, f"Tổng mức bán lẻ hàng hóa và doanh thu dịch vụ tiêu dùng {P} {_est(r, status, 'amt')} "))
            d.amt("retail_sales", status=status)
            if d.has("retail_sales", "yoy_pct"):
                d.add(", ")
                d.chg("retail_sales", "yoy_pct", status=status)
                d.add(" so với cùng kỳ")
            if d.has("retail_sales", "pct_of_plan") and r.random() < 0.5:
                d.add(", đạt ")
                d.pct("retail_sales", "pct_of_plan", status=status)
                d.add(" kế hoạch năm")
            d.add(".")
            cumulative("retail_sales", "tổng mức bán lẻ hàng hóa và doanh thu dịch vụ tiêu dùng")
            d.add(" ")
        if d.has("export_value"):
            d.add(_hoa(r, f"Kim ngạch xuất khẩu hàng hóa {_est(r, status, 'amt')} "))
            d.amt("export_value", status=status)
            if d.has("export_value", "yoy_pct"):
                d.add(", ")
                d.chg("export_value", "yoy_pct", status=status)
                d.add(" so với cùng kỳ")
            if d.has("export_value", "pct_of_plan"):
                d.add(", đạt ")
                d.pct("export_value", "pct_of_plan", status=status)
                d.add(" kế hoạch năm")
                plan = values["export_value"].get("plan")
                if plan and r.random() < 0.6:
                    d.add(f" (kế hoạch năm {y}: ")
                    d.amt("export_value", value=plan, kind="plan", period=str(y), status="F")
                    d.add(")")
            d.add(".")
            cumulative("export_value", "kim ngạch xuất khẩu")
            d.add(" ")
        if d.has("import_value"):
            d.add(f"Kim ngạch nhập khẩu {_est(r, status, 'amt')} ")
            d.amt("import_value", status=status)
            if d.has("import_value", "yoy_pct"):
                d.add(", ")
                d.chg("import_value", "yoy_pct", status=status)
            d.add(". ")
        if d.has("visitors"):
            d.add(f"Tổng lượt khách du lịch {_est(r, status, 'amt')} ")
            d.amt("visitors", status=status)
            if d.has("visitors", "yoy_pct"):
                d.add(", ")
                d.chg("visitors", "yoy_pct", status=status)
                d.add(" so với cùng kỳ")
            if d.has("tourism_revenue"):
                d.add("; tổng thu từ khách du lịch ")
                d.amt("tourism_revenue", status=status)
                if d.has("tourism_revenue", "yoy_pct") and r.random() < 0.6:
                    d.add(", ")
                    d.chg("tourism_revenue", "yoy_pct", status=status)
            d.add(".")
        end_par()

    # 5. Budget
    if d.has("budget_revenue"):
        head("Thu, chi ngân sách nhà nước")
        d.add(f"Tổng thu ngân sách nhà nước trên địa bàn {P} {_est(r, status, 'amt')} ")
        d.amt("budget_revenue", status=status)
        if d.has("budget_revenue", "pct_of_plan"):
            d.add(", " + r.choice(("đạt ", "bằng ")))
            d.pct("budget_revenue", "pct_of_plan", status=status)
            d.add(" " + r.choice(("dự toán năm", "dự toán Trung ương giao", f"dự toán Hội đồng nhân dân {level} giao",
                                   "dự toán")))
        if d.has("budget_revenue", "yoy_pct"):
            d.add(", ")
            d.chg("budget_revenue", "yoy_pct", status=status)
            d.add(" so với cùng kỳ")
        if d.has("budget_revenue_domestic") and d.has("budget_revenue_import_export"):
            d.add("; trong đó thu nội địa ")
            d.amt("budget_revenue_domestic", status=status)
            if d.has("budget_revenue_domestic", "yoy_pct") and r.random() < 0.5:
                d.add(" (")
                d.chg("budget_revenue_domestic", "yoy_pct", status=status)
                d.add(")")
            d.add(", thu từ hoạt động xuất nhập khẩu ")
            d.amt("budget_revenue_import_export", status=status)
        d.add(".")
        plan = values["budget_revenue"].get("plan")
        if plan and r.random() < 0.6:
            d.add(f" Dự toán thu ngân sách nhà nước năm {y} được giao là ")
            d.amt("budget_revenue", value=plan, kind="plan", period=str(y), status="F")
            d.add(".")
        cumulative("budget_revenue", "tổng thu ngân sách nhà nước trên địa bàn")
        if d.has("budget_revenue_local"):
            d.add(f" Thu ngân sách địa phương {_est(r, status, 'amt')} ")
            d.amt("budget_revenue_local", status=status)
            d.add(".")
        if d.has("budget_expenditure"):
            d.add(f" Tổng chi ngân sách địa phương {_est(r, status, 'amt')} ")
            d.amt("budget_expenditure", status=status)
            if d.has("budget_expenditure", "pct_of_plan") and r.random() < 0.6:
                d.add(", bằng ")
                d.pct("budget_expenditure", "pct_of_plan", status=status)
                d.add(" dự toán")
            d.add(".")
        end_par()

    # 6. Investment and enterprises
    if any(d.has(k) for k in ("total_social_investment", "public_investment_disbursed", "fdi_registered_capital",
                              "new_enterprises")):
        head("Đầu tư, phát triển doanh nghiệp")
        if d.has("total_social_investment"):
            d.add(f"Vốn đầu tư thực hiện toàn xã hội {P} {_est(r, status, 'amt')} ")
            d.amt("total_social_investment", status=status)
            if d.has("total_social_investment", "yoy_pct"):
                d.add(", ")
                d.chg("total_social_investment", "yoy_pct", status=status)
                d.add(" so với cùng kỳ")
            d.add(". ")
        if d.has("public_investment_disbursed"):
            d.add(r.choice(("Giải ngân vốn đầu tư công ", "Kết quả giải ngân vốn đầu tư công ")) + f"{P} "
                  + r.choice(("đạt ", "ước đạt ", "ước đạt ")))
            d.amt("public_investment_disbursed", status=status)
            if d.has("public_investment_disbursed", "pct_of_plan"):
                d.add(", bằng ")
                d.pct("public_investment_disbursed", "pct_of_plan", status=status)
                d.add(" " + r.choice(("kế hoạch vốn giao", "kế hoạch vốn Thủ tướng Chính phủ giao", "kế hoạch")))
            d.add(". ")
        if d.has("fdi_registered_capital") and d.has("fdi_projects"):
            d.add("Thu hút đầu tư trực tiếp nước ngoài: cấp mới ")
            d.cnt("fdi_projects", status=status)
            d.add(" dự án, tổng vốn đăng ký ")
            d.amt("fdi_registered_capital", status=status)
            d.add(". ")
        if d.has("new_enterprises"):
            d.add("Có ")
            d.cnt("new_enterprises", status=status)
            d.add(" doanh nghiệp thành lập mới")
            if d.has("new_enterprises", "yoy_pct"):
                d.add(", ")
                d.chg("new_enterprises", "yoy_pct", status=status)
                d.add(" so với cùng kỳ")
            if d.has("new_enterprises_capital"):
                d.add(", tổng vốn đăng ký ")
                d.amt("new_enterprises_capital", status=status)
            d.add(".")
        end_par()

    # 7. Prices
    if d.has("cpi_yoy"):
        head("Giá cả")
        d.add(f"Chỉ số giá tiêu dùng (CPI) tháng {p.last_month} ")
        if d.has("cpi_mom"):
            d.chg("cpi_mom", status="A")
            d.add(" so với tháng trước, ")
        d.chg("cpi_yoy", status="A")
        d.add(" so với cùng kỳ năm trước")
        if d.has("cpi_avg") and p.months > 1:
            d.add(f"; CPI bình quân {P} ")
            d.chg("cpi_avg", status="A")
            d.add(" so với cùng kỳ")
        d.add(".")
        end_par()

    # 8. Labour and living standards
    if any(d.has(k) for k in ("jobs_created", "unemployment_rate", "poverty_rate", "population")):
        head("Lao động, việc làm và đời sống dân cư")
        if d.has("population"):
            d.add(f"Dân số trung bình {_est(r, status, 'amt')} ")
            d.amt("population", status=status)
            d.add(". ")
        if d.has("jobs_created"):
            d.add(f"Trong {P}, đã giải quyết việc làm cho ")
            d.cnt("jobs_created", status=status)
            d.add(" lao động")
            if d.has("jobs_created", "pct_of_plan"):
                d.add(", đạt ")
                d.pct("jobs_created", "pct_of_plan", status=status)
                d.add(" kế hoạch năm")
            d.add(". ")
        if d.has("unemployment_rate"):
            d.add("Tỷ lệ thất nghiệp của lực lượng lao động trong độ tuổi khu vực thành thị ước khoảng ")
            d.pct("unemployment_rate", status=status, qualifier="khoảng")
            d.add(". ")
        if d.has("poverty_rate"):
            d.add("Tỷ lệ hộ nghèo theo chuẩn nghèo đa chiều giảm còn ")
            d.pct("poverty_rate", status=status)
            d.add(".")
        end_par()

    # Part II: tasks, with a target that is not an outturn
    d.add("II. NHIỆM VỤ, GIẢI PHÁP TRỌNG TÂM THỜI GIAN TỚI\n\n")
    d.add("Tập trung chỉ đạo, điều hành quyết liệt, phấn đấu hoàn thành ở mức cao nhất các chỉ tiêu kế hoạch năm "
          f"{y}")
    if d.has("grdp_growth") or r.random() < 0.5:
        target = _round(max(5.0, min(10.5, abs(d._val("grdp_growth", "value")[0]) + r.uniform(0.2, 1.0)))
                        if d.has("grdp_growth") else r.uniform(6.0, 8.5), 1)
        d.add(r.choice(("; phấn đấu tốc độ tăng trưởng GRDP cả năm đạt ",
                        "; phấn đấu tăng trưởng kinh tế năm đạt trên ")))
        d.pct("grdp_growth", value=target, kind="target", period=str(y), status="F")
        d.add(f" theo Nghị quyết của Hội đồng nhân dân {level}")
    d.add(". Đẩy nhanh tiến độ giải ngân vốn đầu tư công, tháo gỡ khó khăn cho sản xuất, kinh doanh; "
          "bảo đảm an sinh xã hội và giữ vững quốc phòng, an ninh.\n\n")
    d.add(f"Trên đây là báo cáo tình hình kinh tế - xã hội {P} của {_lower_prefix(name_vi)}./.\n")
    return d.text(), d.figures


# ---------------------------------------------------------------------------------------------
# File writers
# ---------------------------------------------------------------------------------------------


def _fixed_zip(path: Path, stamp: datetime) -> None:
    """Make a zip container (xlsx, docx) byte-stable: every member gets one fixed date, and the
    core properties' created/modified carry ``stamp``."""
    with zipfile.ZipFile(path) as z:
        items = [(i, z.read(i.filename)) for i in z.infolist()]
    iso = stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as out:
        for info, data in items:
            if info.filename == "docProps/core.xml":
                txt = data.decode("utf-8")
                txt = re.sub(r"(<dcterms:created[^>]*>)[^<]*(</dcterms:created>)", rf"\g<1>{iso}\g<2>", txt)
                txt = re.sub(r"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)", rf"\g<1>{iso}\g<2>", txt)
                txt = re.sub(r"(<cp:lastPrinted[^>]*>)[^<]*(</cp:lastPrinted>)", rf"\g<1>{iso}\g<2>", txt)
                data = txt.encode("utf-8")
            zi = zipfile.ZipInfo(info.filename, date_time=ZIP_DATE)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = info.external_attr
            out.writestr(zi, data)
    path.write_bytes(buf.getvalue())


def _status_word(status: str) -> str:
    return {"E": "Ước tính", "P": "Sơ bộ", "A": "Chính thức"}[status]


def _template_values(vals: dict[str, dict], status: str, mess: dict) -> dict[str, dict]:
    """The ``values`` argument of ``write_template`` for one province, with cell-level mess:
    ``mess`` may hold ``blank`` [(indicator, column)], ``unit`` {indicator: (unit_text, factor)},
    ``growth_as_change`` True."""
    out = {}
    blanks = set(mess.get("blank", ()))
    for k, e in vals.items():
        cell: dict = {"status": _status_word(status)}
        v = e["value"]
        if k in mess.get("unit", {}):
            text, factor = mess["unit"][k]
            v = _round(v * factor, 1)
            cell["unit"] = text
        cell["value"] = v
        if e.get("yoy_pct") is not None:
            cell["yoy_index"] = e["yoy_pct"] if mess.get("growth_as_change") else _round(100 + e["yoy_pct"], 2)
        if e.get("pct_of_plan") is not None:
            cell["pct_of_plan"] = e["pct_of_plan"]
        for ind, col in blanks:
            if ind == k:
                cell.pop(col, None)
        out[k] = cell
    return out


def _write_template_file(path: Path, cycle: str, code: str, cells: dict, prepared_on: date,
                         drop_rows: tuple[str, ...] = ()) -> None:
    from diaphuong.template import template_spec, write_template

    write_template(path, cycle, code, values=cells, prepared_on=prepared_on)
    if drop_rows:
        import openpyxl

        wb = openpyxl.load_workbook(path)
        ws = wb[template_spec()["sheet_name"]]
        for row in range(ws.max_row, 0, -1):
            if ws.cell(row, 2).value in drop_rows:
                ws.delete_rows(row)
        wb.save(path)
        _fixed_zip(path, datetime.combine(prepared_on, time(8, 0)))


def _csv_number(x, decimal: str) -> str:
    if x is None:
        return ""
    if isinstance(x, str):
        return x
    s = repr(float(x))
    if s.endswith(".0"):
        s = s[:-2]
    return s.replace(".", ",") if decimal == "," else s


def _write_csv(path: Path, cycle: str, code: str, name_vi: str, cells: dict, prepared_on: date,
               sep: str) -> None:
    """The template's columns as CSV (UTF-8 with BOM), header block first; ';' files write a
    decimal comma, ',' files a decimal point."""
    from diaphuong.template import template_spec

    spec = template_spec()
    p = parse_period(cycle)
    cat = indicators()
    decimal = "," if sep == ";" else "."
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=sep, lineterminator="\r\n")
    w.writerow([spec["title"]])
    w.writerow([spec["header"]["province"], name_vi])
    w.writerow([spec["header"]["period"], p.label_vi])
    w.writerow([spec["header"]["prepared_on"], prepared_on.strftime("%d/%m/%Y")])
    w.writerow([])
    cols = spec["columns"]
    w.writerow([c["label"] for c in cols])
    for n, (k, c) in enumerate(cells.items(), start=1):
        row = {"stt": str(n), "indicator_code": k, "indicator_name": cat[k].name_vi,
               "unit": c.get("unit") or units()[cat[k].unit].name_vi,
               "value": _csv_number(c.get("value"), decimal), "yoy_index": _csv_number(c.get("yoy_index"), decimal),
               "pct_of_plan": _csv_number(c.get("pct_of_plan"), decimal), "status": c.get("status", ""),
               "note": c.get("note", "")}
        w.writerow([row[c_["key"]] for c_ in cols])
    path.write_bytes(("\ufeff" + buf.getvalue()).encode("utf-8"))


# Off-template layouts: (column key, header label) in the order the province laid them out.
_OFF_LAYOUTS = {
    "no_header": [("stt", "STT"), ("indicator_code", "Mã chỉ tiêu"), ("indicator_name", "Tên chỉ tiêu"),
                  ("unit", "Đơn vị tính"), ("value", "Thực hiện kỳ báo cáo"),
                  ("yoy_index", "Kỳ báo cáo so với cùng kỳ năm trước (%)"), ("pct_of_plan", "So với kế hoạch năm (%)"),
                  ("status", "Tình trạng số liệu"), ("note", "Ghi chú")],
    "reordered": [("stt", "TT"), ("indicator_name", "Chỉ tiêu"), ("indicator_code", "Mã số"), ("unit", "ĐVT"),
                  ("yoy_index", "So cùng kỳ (%)"), ("value", "Ước thực hiện kỳ báo cáo"),
                  ("pct_of_plan", "So với KH năm (%)"), ("note", "Ghi chú"), ("status", "Tình trạng")],
    "names_only": [("stt", "STT"), ("indicator_name", "Chỉ tiêu"), ("unit", "Đơn vị tính"), ("value", "Thực hiện"),
                   ("yoy_index", "So sánh cùng kỳ năm trước (%)"), ("pct_of_plan", "So với kế hoạch (%)"),
                   ("note", "Ghi chú")],
}


def _report_name(key: str, rng: random.Random) -> str:
    """How a province writes the indicator's name when it does not use the codes: an alias."""
    from diaphuong.catalog.indicators import match_indicator

    ind = indicators()[key]
    choices = [ind.name_vi]
    for a in ind.aliases:  # only phrasings that name this indicator and no other
        m = match_indicator(a)
        if len(a) > 6 and m is not None and m.key == key and not m.fuzzy:
            choices.append(a)
    name = rng.choice(choices)
    return name[0].upper() + name[1:]


def _write_off_layout(path: Path, variant: str, cycle: str, name_vi: str, cells: dict, prepared_on: date,
                      rng: random.Random) -> None:
    import xlsxwriter

    p = parse_period(cycle)
    cat = indicators()
    wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False,
                                         "strings_to_urls": False, "in_memory": True})
    wb.set_properties({"author": _short(name_vi), "created": datetime.combine(prepared_on, time(8, 0))})
    ws = wb.add_worksheet(rng.choice(("Sheet1", "Bao cao", "BC KTXH", "Biểu 01")))
    bold = wb.add_format({"bold": True})
    num = wb.add_format({"num_format": "#,##0.0#"})
    cols = _OFF_LAYOUTS[variant]
    r0 = 0
    if variant != "no_header":
        ws.write_string(0, 0, f"UBND {name_vi.upper()}", bold)
        ws.write_string(1, 0, "MỘT SỐ CHỈ TIÊU KINH TẾ - XÃ HỘI CHỦ YẾU", bold)
        ws.write_string(2, 0, f"{p.label_vi}")
        ws.write_string(3, 0, f"(Số liệu lập ngày {prepared_on.strftime('%d/%m/%Y')})")
        r0 = 5
    for j, (_, label) in enumerate(cols):
        ws.write_string(r0, j, label, bold)
    for n, (k, c) in enumerate(cells.items(), start=1):
        r = r0 + n
        row = {"stt": n, "indicator_code": k,
               "indicator_name": _report_name(k, rng) if variant == "names_only" else cat[k].name_vi,
               "unit": c.get("unit") or units()[cat[k].unit].name_vi, "value": c.get("value"),
               "yoy_index": c.get("yoy_index"), "pct_of_plan": c.get("pct_of_plan"),
               "status": c.get("status", ""), "note": c.get("note", "")}
        for j, (key, _) in enumerate(cols):
            x = row[key]
            if x is None or x == "":
                continue
            if isinstance(x, (int, float)):
                ws.write_number(r, j, float(x), num if key != "stt" else None)
            else:
                ws.write_string(r, j, str(x))
    wb.close()


def _write_docx(path: Path, text: str, title: str, stamp: datetime) -> None:
    import docx

    doc = docx.Document()
    cp = doc.core_properties
    cp.author = "UBND"
    cp.title = title
    cp.created = stamp
    cp.modified = stamp
    cp.last_modified_by = "UBND"
    cp.revision = 1
    for block in text.split("\n\n"):
        lines = block.split("\n")
        par = doc.add_paragraph()
        for i, line in enumerate(lines):
            if i:
                par.add_run().add_break()
            par.add_run(line)
    doc.save(str(path))
    _fixed_zip(path, stamp)


def _pdf_available() -> tuple[bool, str | None]:
    if not FONT_PATH.exists():
        return False, f"font {FONT_PATH} not found: no PDF written"
    try:
        import fpdf  # noqa: F401
    except ImportError:
        return False, "fpdf2 is not installed: no PDF written"
    return True, None


def _write_pdf(path: Path, text: str, title: str, stamp: datetime) -> None:
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_creation_date(stamp.replace(tzinfo=TZ7))
    pdf.set_title(title)
    pdf.set_author("UBND")
    pdf.set_producer("diaphuong demo")
    pdf.set_creator("diaphuong demo")
    pdf.add_font("DejaVu", "", str(FONT_PATH))
    pdf.set_font("DejaVu", size=11)
    pdf.set_margins(20, 18, 18)
    pdf.add_page()
    for block in text.split("\n\n"):
        for line in block.split("\n"):
            pdf.multi_cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)
    pdf.output(str(path))


# ---------------------------------------------------------------------------------------------
# Mess planning and the cycle writer
# ---------------------------------------------------------------------------------------------


def _scaled(n: int, k63: int) -> int:
    return max(1, round(k63 * n / 63))


def _plan_mess(codes: list[str], r: random.Random, mess: bool) -> dict:
    """Which province gets which mess (disjoint where two would hide each other)."""
    n = len(codes)
    pool = codes[:]
    r.shuffle(pool)
    plan: dict = {k: [] for k in ("missing", "report_only", "corrupt", "unlisted", "sender_only", "off_layout",
                                  "resubmission", "missing_indicator", "blank_cell", "off_unit", "growth_as_change",
                                  "late", "contradiction", "no_report", "csv")}

    def take(k: int) -> list[str]:
        out = pool[:k]
        del pool[:k]
        return out

    if mess and n >= 20:
        miss = take(_scaled(n, 4))
        plan["missing"] = miss
        plan["report_only"] = miss[: max(1, len(miss) // 2)]
        plan["corrupt"] = take(1)
        plan["unlisted"] = take(1)
        plan["sender_only"] = take(1)
        plan["off_layout"] = list(zip(take(3), ("no_header", "reordered", "names_only")))
        plan["resubmission"] = take(_scaled(n, 2))
        plan["missing_indicator"] = take(_scaled(n, 2))
        plan["blank_cell"] = take(_scaled(n, 2))
        plan["off_unit"] = list(zip(take(2), ("export_value", "budget_revenue")))
        plan["growth_as_change"] = take(1)
        rest = pool[:]  # clean template files: CSV and other overlapping mess come from here
        r.shuffle(rest)
        plan["csv"] = list(zip(rest[: _scaled(n, 4)], (";", ",", ";", ",", ";")))
        submitting = [c for c in codes if c not in plan["missing"] and c not in plan["unlisted"]]
        plan["late"] = sorted(r.sample(submitting, _scaled(n, 5)))
        readable = [c for c in submitting if c not in plan["corrupt"] and c not in plan["resubmission"]]
        cell_mess = {*plan["missing_indicator"], *plan["blank_cell"], *(c for c, _ in plan["off_unit"]),
                     *plan["growth_as_change"]}
        plan["contradiction"] = sorted(r.sample([c for c in readable if c not in cell_mess], 2))
        no_rep = [c for c in readable if c not in plan["contradiction"]]
        plan["no_report"] = sorted(r.sample(no_rep, _scaled(n, 3)))
    else:
        plan["csv"] = list(zip(pool[: _scaled(n, 4)], (";", ",", ";", ",", ";")))
    return plan


def _receipt(r: random.Random, day: date, *, after: datetime | None = None) -> datetime:
    """A plausible receipt time on ``day`` (office hours, sometimes the evening)."""
    h = r.choice((8, 9, 9, 10, 10, 11, 14, 14, 15, 15, 16, 16, 17, 21))
    t = datetime.combine(day, time(h, r.randrange(60), r.randrange(60)), tzinfo=TZ7)
    if after is not None and t <= after:
        t = min(after + timedelta(minutes=r.randint(5, 240)),
                datetime.combine(after.date(), time(23, 59, 0), tzinfo=TZ7))
    return t


def _working_days_between(a: date, b: date) -> list[date]:
    out, d = [], a
    while d <= b:
        if is_working_day(d):
            out.append(d)
        d += timedelta(days=1)
    return out


def _iso(t: datetime) -> str:
    return t.isoformat(timespec="seconds")


def _sender(r: random.Random, name_vi: str, province_set: str) -> str:
    who = (("Cục Thống kê", "Sở Kế hoạch và Đầu tư", "Văn phòng UBND") if province_set == "2008"
           else ("Thống kê", "Sở Tài chính", "Văn phòng UBND"))
    return f"{r.choice(who)} {_lower_prefix(name_vi)}"


def _clear_previous(cdir: Path) -> None:
    """Remove what an earlier run of the generator wrote in ``cdir`` (the files its ``_truth.json``
    lists), so that a re-run leaves exactly the new files. A non-empty folder without a truth file
    is not the generator's: refuse to write into it."""
    if not cdir.exists():
        return
    truth = cdir / "_truth.json"
    if not truth.exists():
        if any(p.is_file() for p in cdir.rglob("*")):
            raise DiaphuongError(f"{cdir} holds files that the demo generator did not write",
                                 hint="choose an empty --out folder")
        return
    try:
        old = json.loads(truth.read_text(encoding="utf-8"))
        listed = [f["path"] for f in old.get("files", [])]
    except (ValueError, KeyError, TypeError):
        raise DiaphuongError(f"{truth}: not a truth file of the demo generator",
                             hint="choose an empty --out folder") from None
    for rel in [*listed, "inbox.csv"]:
        f = cdir / rel
        if f.is_file() and f.resolve().is_relative_to(cdir.resolve()):
            f.unlink()
    truth.unlink()


def _write_cycle(out_dir: Path, cycle: str, seed: int, mess: bool, report_formats: tuple[str, ...]) -> dict:
    p = parse_period(cycle)
    cal = cycle_calendar(p.code)
    cdir = out_dir / p.code
    _clear_previous(cdir)
    (cdir / "submissions").mkdir(parents=True, exist_ok=True)
    (cdir / "reports").mkdir(parents=True, exist_ok=True)
    provs = provinces_on(p.end)
    names = dict(zip(provs["code"], provs["name_vi"]))
    slugs = {c: _ascii_slug(a) for c, a in zip(provs["code"], provs["name_ascii"])}
    codes = list(provs["code"])
    values = generate_values(p.code, seed=seed)
    sub_keys = _cycle_indicators(p)
    rm = _rng(seed, p.code, "mess")
    plan = _plan_mess(codes, rm, mess)
    pdf_ok, pdf_note = _pdf_available()
    formats = tuple(f for f in report_formats if f in ("txt", "docx", "pdf"))
    if "pdf" in formats and not pdf_ok:
        formats = tuple(f for f in formats if f != "pdf") or ("txt",)
    if not formats:
        raise DiaphuongError(f"report_formats {report_formats!r}: none of txt, docx, pdf")

    window = _working_days_between(cal.cutoff + timedelta(days=1), cal.deadline)
    late_days = _working_days_between(cal.deadline + timedelta(days=1), cal.deadline + timedelta(days=12))
    inbox: list[dict] = []
    files: list[dict] = []
    truth_mess: dict[str, list] = {k: [] for k in (
        "missing", "late", "missing_indicator", "blank_cell", "off_unit", "growth_as_change", "off_layout",
        "text_contradiction", "resubmission", "corrupt", "unlisted_file", "sender_only", "no_report")}
    provinces_truth: dict[str, dict] = {}
    pdf_budget = 4 if "pdf" in formats else 0
    csv_of = dict(plan["csv"])
    layout_of = dict(plan["off_layout"])
    unit_of = dict(plan["off_unit"])

    for code in codes:
        r = _rng(seed, p.code, code, "files")
        name = names[code]
        slug = slugs[code]
        vals_all = values[code]
        vals = {k: vals_all[k] for k in sub_keys if k in vals_all}
        status = "P" if r.random() < 0.15 else "E"
        late = code in plan["late"]
        day = r.choice(late_days) if late else r.choice(window)
        prepared_on = max(cal.cutoff + timedelta(days=1), day - timedelta(days=r.choice((0, 0, 1, 2))))
        received = _receipt(r, day)
        sender = _sender(r, name, p.province_set)
        pt: dict = {"name_vi": name, "status": status, "submission": None, "submission_format": None,
                    "received_at": None, "late": False, "report": None, "report_format": None,
                    "report_received_at": None, "values": vals_all, "in_submission": sorted(vals),
                    "text_figures": [], "prepared_on": prepared_on.isoformat()}
        provinces_truth[code] = pt
        missing = code in plan["missing"]
        if missing:
            truth_mess["missing"].append({"province": code, "report_only": code in plan["report_only"]})

        # ---- the spreadsheet
        cell_mess: dict = {}
        drop: tuple[str, ...] = ()
        if code in plan["missing_indicator"]:
            k = r.choice([k for k in vals if k not in ("budget_revenue", "grdp_growth")])
            drop = (k,)
        if code in plan["blank_cell"]:
            k = r.choice([k for k in vals if k not in ("budget_revenue", "grdp_growth")])
            col = "yoy_index" if vals[k].get("yoy_pct") is not None and r.random() < 0.5 else "value"
            cell_mess["blank"] = [(k, col)]
        if code in unit_of:
            k = unit_of[code]
            cell_mess["unit"] = {k: ("nghìn USD", 1000.0) if k == "export_value" else ("triệu đồng", 1000.0)}
        if code in plan["growth_as_change"]:
            cell_mess["growth_as_change"] = True
        cells = _template_values(vals, status, cell_mess)
        for k in drop:
            cells.pop(k, None)

        sub_rel = None
        if not missing:
            if code in plan["sender_only"]:
                sub_rel = "submissions/bao_cao_so_lieu.xlsx"
                fmt = "xlsx"
            elif code in csv_of:
                sub_rel = f"submissions/{code}_{slug}.csv"
                fmt = "csv"
            else:
                sub_rel = f"submissions/{code}_{slug}.xlsx"
                fmt = "xlsx"
            path = cdir / sub_rel
            resub = code in plan["resubmission"]
            if resub:
                # The first file carries a keying error in one value; the second corrects it.
                k = r.choice([k for k in ("export_value", "budget_revenue", "retail_sales", "import_value")
                              if k in vals and k not in drop])
                wrong = _round(vals[k]["value"] * r.choice((10.0, 0.1, 1.37, 0.71)), _decimals(vals[k]["unit"]))
                first_cells = {kk: dict(cc) for kk, cc in cells.items()}
                first_cells[k]["value"] = wrong
                _write_template_file(path, p.code, code, first_cells, prepared_on, drop)
                second_rel = f"submissions/{code}_{slug}_lan2.xlsx"
                second_day = r.choice([d for d in _working_days_between(day + timedelta(days=1),
                                                                        day + timedelta(days=6))] or [day])
                second_prep = second_day
                _write_template_file(cdir / second_rel, p.code, code, cells, second_prep, drop)
                second_at = _receipt(r, second_day, after=received)
                truth_mess["resubmission"].append({
                    "province": code, "first_file": sub_rel, "second_file": second_rel, "indicator": k,
                    "measure": "value", "first_value": wrong, "corrected_value": vals[k]["value"],
                    "first_received_at": _iso(received), "second_received_at": _iso(second_at)})
                inbox.append({"file": second_rel, "received_at": second_at, "sender": sender,
                              "note": f"Gửi lại, thay thế file ngày {received.strftime('%d/%m/%Y')}: "
                                      f"điều chỉnh số liệu {indicators()[k].name_vi.lower()}"})
                files.append({"path": second_rel, "kind": "spreadsheet", "province": code,
                              "format": "xlsx", "received_at": _iso(second_at), "in_inbox": True})
            elif code in layout_of or code in plan["sender_only"]:
                variant = "no_header" if code in plan["sender_only"] else layout_of[code]
                _write_off_layout(path, variant, p.code, name, cells, prepared_on, r)
                if code in layout_of:
                    truth_mess["off_layout"].append({"province": code, "file": sub_rel, "variant": variant})
            elif fmt == "csv":
                sep = csv_of[code]
                _write_csv(path, p.code, code, name, cells, prepared_on, sep)
                pt["csv"] = {"sep": sep, "decimal": "," if sep == ";" else ".", "encoding": "utf-8-sig"}
            else:
                _write_template_file(path, p.code, code, cells, prepared_on, drop)
            if code in plan["corrupt"]:
                data = path.read_bytes()
                path.write_bytes(data[: int(len(data) * 0.55)])
                truth_mess["corrupt"].append({"province": code, "file": sub_rel, "how": "truncated xlsx bytes",
                                              "bytes_kept": int(len(data) * 0.55), "bytes_full": len(data)})
            pt.update(submission=sub_rel, submission_format=fmt)
            if code in plan["unlisted"]:
                mtime = received.timestamp()
                os.utime(path, (mtime, mtime))
                truth_mess["unlisted_file"].append({"province": code, "file": sub_rel,
                                                    "mtime": _iso(received)})
                files.append({"path": sub_rel, "kind": "spreadsheet", "province": code, "format": fmt,
                              "received_at": None, "in_inbox": False})
            else:
                pt.update(received_at=_iso(received), late=late)
                note = r.choice(("", "", "", "Gửi qua email", "Gửi qua hệ thống văn bản điện tử"))
                if late:
                    note = r.choice(("Gửi chậm", "", "Gửi bổ sung sau hạn"))
                if code in plan["sender_only"]:
                    sender = ("Sở KH&ĐT " if p.province_set == "2008" else "Sở Tài chính ") + _lower_prefix(name)
                    truth_mess["sender_only"].append({"province": code, "file": sub_rel, "sender": sender})
                inbox.append({"file": sub_rel, "received_at": received, "sender": sender, "note": note})
                files.append({"path": sub_rel, "kind": "spreadsheet", "province": code, "format": fmt,
                              "received_at": _iso(received), "in_inbox": True})
                if late:
                    truth_mess["late"].append({
                        "province": code, "file": sub_rel, "received_at": _iso(received),
                        "deadline": cal.deadline.isoformat(), "days_late": (received.date() - cal.deadline).days})
            if drop and code not in plan["corrupt"]:
                truth_mess["missing_indicator"].append({"province": code, "file": sub_rel, "indicator": drop[0]})
            if "blank" in cell_mess:
                k, col = cell_mess["blank"][0]
                truth_mess["blank_cell"].append({"province": code, "file": sub_rel, "indicator": k, "column": col,
                                                 "measure": "yoy_pct" if col == "yoy_index" else "value"})
            if "unit" in cell_mess:
                for k, (text, factor) in cell_mess["unit"].items():
                    truth_mess["off_unit"].append({
                        "province": code, "file": sub_rel, "indicator": k, "unit_written": text,
                        "catalog_unit": vals[k]["unit"], "value_written": cells[k]["value"],
                        "value": vals[k]["value"]})
            if cell_mess.get("growth_as_change"):
                truth_mess["growth_as_change"].append({
                    "province": code, "file": sub_rel, "column": "yoy_index",
                    "example": next(({"indicator": k, "written": c["yoy_index"]} for k, c in cells.items()
                                     if c.get("yoy_index") is not None), None)})

        # ---- the report text
        wants_report = (not missing or code in plan["report_only"]) and code not in plan["no_report"]
        if code in plan["no_report"]:
            truth_mess["no_report"].append({"province": code})
        if wants_report:
            overrides = {}
            if code in plan["contradiction"]:
                k = r.choice([k for k in ("budget_revenue", "export_value", "retail_sales", "grdp_growth")
                              if k in vals])
                sv = vals_all[k]["value"]
                if k == "grdp_growth":
                    bad = _round(sv + r.choice((-1, 1)) * r.uniform(1.5, 3.0), 2)
                else:
                    bad = _round(sv * r.choice((r.uniform(1.12, 1.3), r.uniform(0.7, 0.88))), 1)
                overrides[(k, "value")] = bad
            rt = _rng(seed, p.code, code, "text")
            text, figs = _compose_report(code, name, p, vals_all, status, prepared_on, rt, overrides,
                                         p.province_set)
            if code in plan["contradiction"]:
                (k, _m), bad = next(iter(overrides.items()))
                stated = next((f for f in figs if f["indicator"] == k and f["measure"] == "value"
                               and f["kind"] == "outturn"), None)
                truth_mess["text_contradiction"].append({
                    "province": code, "indicator": k, "measure": "value", "submission_value": vals_all[k]["value"],
                    "text_value": stated["value"] if stated else bad, "text": stated["text"] if stated else None,
                    "file": None})
            if pdf_budget and rt.random() < 0.12:
                rfmt = "pdf"
                pdf_budget -= 1
            else:
                choices = [f for f in formats if f != "pdf"] or ["pdf"]
                rfmt = "docx" if "docx" in choices and rt.random() < 0.35 else choices[0]
            rep_rel = f"reports/{code}_{slug}.{rfmt}"
            rpath = cdir / rep_rel
            stamp = datetime.combine(prepared_on, time(16, 30))
            title = f"Báo cáo tình hình kinh tế - xã hội {p.label_vi.lower()}"
            if rfmt == "txt":
                rpath.write_bytes(text.encode("utf-8"))
            elif rfmt == "docx":
                _write_docx(rpath, text, title, stamp)
            else:
                _write_pdf(rpath, text, title, stamp)
            if truth_mess["text_contradiction"] and truth_mess["text_contradiction"][-1]["province"] == code:
                truth_mess["text_contradiction"][-1]["file"] = rep_rel
            rec_at = _receipt(rt, received.date() if not missing else rt.choice(window), after=received
                              if not missing else None)
            pt.update(report=rep_rel, report_format=rfmt, report_received_at=_iso(rec_at), text_figures=figs,
                      report_chars=len(text))
            inbox.append({"file": rep_rel, "received_at": rec_at, "sender": sender,
                          "note": rt.choice(("", "", "Báo cáo kèm theo", "Bản ký số"))})
            files.append({"path": rep_rel, "kind": "report", "province": code, "format": rfmt,
                          "received_at": _iso(rec_at), "in_inbox": True})

    # ---- inbox.csv
    inbox.sort(key=lambda x: (x["received_at"], x["file"]))
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["file", "received_at", "sender", "note"])
    for row in inbox:
        w.writerow([row["file"], _iso(row["received_at"]), row["sender"], row["note"]])
    (cdir / "inbox.csv").write_bytes(buf.getvalue().encode("utf-8"))

    truth = {
        "generator": GENERATOR_VERSION, "cycle": p.code, "seed": seed, "mess": mess,
        "province_set": p.province_set, "period_start": p.start.isoformat(), "period_end": p.end.isoformat(),
        "cutoff": cal.cutoff.isoformat(), "deadline": cal.deadline.isoformat(),
        "provinces_count": len(codes), "files_count": len(files),
        "mess_count": sum(len(v) for v in truth_mess.values()),
        "provinces_expected": codes, "submission_indicators": sub_keys,
        "report_formats": list(formats),
        "pdf": {"written": "pdf" in formats, "font": str(FONT_PATH), "note": pdf_note},
        "files": sorted(files, key=lambda f: f["path"]),
        "mess_injected": truth_mess,
        "provinces": provinces_truth,
    }
    (cdir / "_truth.json").write_text(_dumps(truth) + "\n", encoding="utf-8")
    return truth


def _dumps(obj, level: int = 0) -> str:
    """JSON laid out for reading and diffing, yet small: nested objects on their own lines down to
    the province level, each value record, figure and file on one line."""
    if isinstance(obj, dict) and level < 3 and obj:
        pad = " " * (level + 1)
        items = [f"{pad}{json.dumps(k, ensure_ascii=False)}: {_dumps(v, level + 1)}" for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + " " * level + "}"
    if isinstance(obj, list) and obj and all(isinstance(x, dict) for x in obj) and level < 4:
        pad = " " * (level + 1)
        return "[\n" + ",\n".join(pad + json.dumps(x, ensure_ascii=False, separators=(",", ":"))
                                   for x in obj) + "\n" + " " * level + "]"
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def write_demo(out_dir: Path, cycles: list[str], *, seed: int = 0, mess: bool = True,
               report_formats: tuple[str, ...] = ("txt", "docx", "pdf")) -> dict:
    """Write one raw-tree folder per cycle under ``out_dir`` and return ``{cycle: truth}`` (each
    truth also written as ``<out_dir>/<cycle>/_truth.json``). Existing files of those cycles are
    overwritten; nothing else under ``out_dir`` is touched."""
    out_dir = Path(out_dir)
    result = {}
    for c in cycles:
        code = parse_period(c).code
        result[code] = _write_cycle(out_dir, code, seed, mess, tuple(report_formats))
    return result


def copy_demo_tree(src: Path, dst: Path) -> Path:
    """Copy a demo raw tree and give the files it left out of ``inbox.csv`` the modification time
    the generator chose (from each cycle's ``_truth.json``). Git does not keep modification times,
    so in a fresh checkout those files look received at checkout time; tests and the worked-query
    document use such a copy so that their figures do not depend on when the repository was
    cloned. The source tree is never touched."""
    import json
    import shutil

    shutil.copytree(src, dst, dirs_exist_ok=True)
    for truth_path in sorted(dst.glob("*/_truth.json")):
        truth = json.loads(truth_path.read_text(encoding="utf-8"))
        for item in (truth.get("mess_injected") or {}).get("unlisted_file", []):
            f = truth_path.parent / item["file"]
            if f.exists():
                t = datetime.fromisoformat(item["mtime"]).timestamp()
                os.utime(f, (t, t))
    return dst
