"""Report text against submission: the same figure, stated twice, compared at the text's precision.

For every text figure (``source_kind='report'``) the submission figures (``source_kind='submission'``)
of the same cycle, period, province, indicator and measure are looked up:

* none -> ``text_only``;
* the text agrees with one of them within its stated precision -> ``agree``;
* otherwise -> ``conflict``.

"Within its stated precision": a text writes 8,2 % for the 8.16 of the sheet, so the tolerance is
half a unit of the text's last stated digit (0.05 here): agree when |text - sheet| <= tolerance,
which is |text - round(sheet, decimals)| = 0 with both roundings of a tie (8.25 -> 8,2 or 8,3)
accepted. Levels written with trailing zeros ("3.300 tỷ") were rounded by the writer: the
tolerance grows to the smaller of half the rounding step and ``rounded_rel`` of the value. A
qualifier widens it to ``approx_rel`` of the value, in its direction: "hơn"/"trên" (more than:
the sheet may be up to ``approx_rel`` above), "gần"/"dưới" (nearly, under: up to ``approx_rel``
below), "khoảng"/"xấp xỉ"/"trên dưới" (about: either side). A range "7-7,5" agrees with a sheet
figure inside it (each end at its own precision).
"""
from __future__ import annotations

import math
import re

import pandas as pd

from diaphuong.text.numbers import NumberFormatError, parse_number

KINDS = ("conflict", "text_only", "agree")
KEY = ["cycle", "period", "province_code", "indicator", "measure"]
APPROX_UP = {"hơn", "trên"}
APPROX_DOWN = {"gần", "dưới"}
APPROX_BOTH = {"khoảng", "xấp xỉ", "trên dưới"}

COLUMNS = [
    "cycle", "period", "province_code", "province_set", "indicator", "measure", "kind",
    "value", "text_value", "difference", "tolerance", "text_original", "qualifier", "unit",
    "locator", "text_locator", "source_file", "text_source_file", "source_sha256",
    "text_source_sha256", "sentence", "detail",
]

_TOKEN = re.compile(r"\d(?:[\d.,]|\s(?=\d{3}\b))*\d|\d")
_RANGE = re.compile(r"^\s*(?:từ\s+)?(?P<a>[\d.,]+)\s*(?:%\s*)?(?:-|–|—|đến|tới)\s*(?P<b>[\d.,]+)\s*%?\s*$", re.I)


def _digits(token: str, convention: str | None) -> tuple[int, int]:
    """(decimals, trailing zeros of the integer part) of one numeric token as written."""
    token = token.replace(" ", "").replace("\u00a0", "")
    dec_sep = "," if convention == "vi" else "." if convention == "en" else None
    if dec_sep and dec_sep in token:
        int_part, frac = token.rsplit(dec_sep, 1)
        return len(frac), 0
    int_part = re.sub(r"[.,]", "", token)
    stripped = int_part.rstrip("0")
    tz = len(int_part) - len(stripped) if stripped else 0
    return 0, tz


def _from_value(v: float) -> tuple[int, int]:
    """Digits when the text as written is unknown: the shortest repr of the value."""
    s = repr(abs(float(v)))
    if "e" in s or "E" in s:
        return 0, 0
    if s.endswith(".0"):
        s = s[:-2]
    if "." in s:
        return len(s.split(".")[1]), 0
    stripped = s.rstrip("0")
    return 0, (len(s) - len(stripped) if stripped else 0)


def _power_of_ten(x: float) -> float:
    if x <= 0 or not math.isfinite(x):
        return 1.0
    e = round(math.log10(x))
    return 10.0 ** e if abs(x / 10.0 ** e - 1) < 1e-6 else 1.0


def stated_precision(original: str | None, value: float, *, level: bool,
                     rounded_rel: float = 0.01) -> tuple[float, str | None, tuple[float, float] | None]:
    """(tolerance in ``value``'s unit, qualifier read from the text, range bounds or None).

    ``value`` is the figure as stored (in the catalog unit); ``original`` the figure as written
    ("8,2", "hơn 3.300", "3,3" of "3,3 nghìn tỷ"). The ratio value/written, when a power of ten,
    carries the written precision into the stored unit."""
    qualifier = None
    if original is not None and not (isinstance(original, float) and math.isnan(original)):
        text = str(original).strip()
        m = _RANGE.match(text)
        if m:
            bounds = []
            tols = []
            for part in (m["a"], m["b"]):
                try:
                    pn = parse_number(part)
                except NumberFormatError:
                    bounds = []
                    break
                d, _ = _digits(part, pn.convention)
                bounds.append(pn.value)
                tols.append(0.5 * 10.0 ** -d)
            if len(bounds) == 2:
                lo, hi = sorted(bounds)
                mid = (lo + hi) / 2
                scale = _power_of_ten(abs(value / mid)) if mid and value else 1.0
                return min(tols) * scale, "range", (lo * scale, hi * scale)
        try:
            pn = parse_number(text)
        except NumberFormatError:
            pn = None
        if pn is not None and not pn.is_symbol:
            qualifier = pn.qualifier
            tokens = _TOKEN.findall(text)
            d, tz = _digits(tokens[-1], pn.convention) if tokens else _from_value(pn.value)
            scale = _power_of_ten(abs(value / pn.value)) if pn.value and value else 1.0
        else:
            d, tz = _from_value(value)
            scale = 1.0
    else:
        d, tz = _from_value(value)
        scale = 1.0
    tol = 0.5 * 10.0 ** -d * scale
    if level and d == 0 and tz > 0:
        tol = max(tol, min(0.5 * 10.0 ** tz * scale, rounded_rel * abs(value)))
    return tol, qualifier, None


def compare(text_value: float, sheet_value: float, tolerance: float, qualifier: str | None = None,
            bounds: tuple[float, float] | None = None, *, approx_rel: float = 0.05) -> bool:
    """True when the text figure agrees with the sheet figure (see the module docstring)."""
    eps = 1e-9 * max(1.0, abs(text_value), abs(sheet_value))
    t, s = float(text_value), float(sheet_value)
    if bounds is not None:
        lo, hi = bounds
        return lo - tolerance - eps <= s <= hi + tolerance + eps
    wide = max(tolerance, approx_rel * abs(t))
    q = (qualifier or "").strip().lower()
    if q in APPROX_UP:
        return t - tolerance - eps <= s <= t + wide + eps
    if q in APPROX_DOWN:
        return t - wide - eps <= s <= t + tolerance + eps
    if q in APPROX_BOTH:
        return abs(s - t) <= wide + eps
    return abs(s - t) <= tolerance + eps


def _loc(file, locator) -> str | None:
    f = None if file is None or pd.isna(file) else str(file)
    loc = None if locator is None or pd.isna(locator) else str(locator)
    if f and loc:
        return f"{f}: {loc}"
    return f or loc


def _current(df: pd.DataFrame, submissions: pd.DataFrame | None) -> pd.DataFrame:
    if "superseded_by_run" in df.columns:
        df = df[df["superseded_by_run"].isna()]
    if submissions is not None and len(submissions) and "source_sha256" in df.columns:
        dead = submissions.loc[submissions["outcome"].isin(["superseded", "quarantined"]), "sha256"]
        df = df[~df["source_sha256"].isin(set(dead.dropna()))]
    return df


def _s(v):
    return None if v is None or (not isinstance(v, str) and pd.isna(v)) else v


def reconcile(observations: pd.DataFrame, submissions: pd.DataFrame | None = None, *,
              approx_rel: float = 0.05, rounded_rel: float = 0.01) -> pd.DataFrame:
    """Compare text figures with submission figures; one row per text figure.

    ``observations``: rows of the ``observation`` table (both source kinds; only current vintages
    are used). ``submissions`` (optional): rows of the ``submission`` table; observations from
    files marked superseded or quarantined are then ignored. Returns :data:`COLUMNS`; ``value``
    and ``locator`` are the sheet's, ``text_value`` and ``text_locator`` the text's."""
    if observations is None or observations.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in COLUMNS})
    obs = _current(observations, submissions)
    obs = obs[obs["value"].notna()]
    text = obs[obs["source_kind"] == "report"]
    sheet = obs[obs["source_kind"] == "submission"]
    groups: dict[tuple, list[dict]] = {}
    for sr in sheet.to_dict("records"):
        groups.setdefault(tuple(sr[k] for k in KEY), []).append(sr)
    rows = []
    for tr in text.to_dict("records"):
        key = tuple(tr[k] for k in KEY)
        tunit = _s(tr.get("unit"))
        level = tr["measure"] == "value" and tunit not in ("pct", "pp")
        tol, qual, bounds = stated_precision(_s(tr.get("original_value")), float(tr["value"]), level=level,
                                             rounded_rel=rounded_rel)
        qual = _s(tr.get("qualifier")) or qual
        if bounds is not None:
            qual = qual or "range"
        row = {
            "cycle": tr["cycle"], "period": tr["period"], "province_code": tr["province_code"],
            "province_set": _s(tr.get("province_set")), "indicator": tr["indicator"], "measure": tr["measure"],
            "text_value": float(tr["value"]), "text_original": _s(tr.get("original_value")), "qualifier": qual,
            "unit": tunit, "text_locator": _loc(tr.get("source_file"), tr.get("locator")),
            "text_source_file": _s(tr.get("source_file")), "text_source_sha256": _s(tr.get("source_sha256")),
            "sentence": _s(tr.get("sentence")), "tolerance": tol,
        }
        g = groups.get(key)
        if g is None:
            row.update(kind="text_only", detail="stated in the report text only; not in any submission")
            rows.append(row)
            continue
        best = None
        for sr in g:
            tv, ttol, tb = row["text_value"], tol, bounds
            sunit = _s(sr.get("unit"))
            note = None
            if tunit and sunit and tunit != sunit:
                from diaphuong.catalog.units import convert
                try:
                    f = convert(1.0, tunit, sunit)
                    tv, ttol = tv * f, ttol * f
                    tb = (tb[0] * f, tb[1] * f) if tb else None
                except Exception:
                    note = f"units differ ({tunit} vs {sunit}) and do not convert"
            sv = float(sr["value"])
            ok = note is None and compare(tv, sv, ttol, qual, tb, approx_rel=approx_rel)
            cand = (not ok, abs(tv - sv), sr, tv, ttol, note)
            if best is None or cand[:2] < best[:2]:
                best = cand
        bad, diff, sr, tv, ttol, note = best
        row.update(
            value=float(sr["value"]), difference=tv - float(sr["value"]), tolerance=ttol,
            unit=_s(sr.get("unit")) or tunit, locator=_loc(sr.get("source_file"), sr.get("locator")),
            source_file=_s(sr.get("source_file")), source_sha256=_s(sr.get("source_sha256")),
            province_set=row["province_set"] or _s(sr.get("province_set")),
        )
        if bad:
            row["kind"] = "conflict"
            stated = row["text_original"] or f"{row['text_value']:g}"
            row["detail"] = note or (
                f"text states {stated}{' (' + qual + ')' if qual else ''}, sheet has {row['value']:g}: "
                f"differs by {abs(row['difference']):.6g}, more than the text's rounding ({ttol:.6g})")
        else:
            row["kind"] = "agree"
            row["detail"] = f"agrees within the text's rounding ({ttol:.6g})"
        rows.append(row)
    out = pd.DataFrame(rows, columns=COLUMNS)
    return out.reset_index(drop=True)


def worst_by_cell(reconciled: pd.DataFrame) -> pd.DataFrame:
    """One row per cell: a conflict if any text figure conflicts, else agree, else text_only."""
    if reconciled is None or reconciled.empty:
        return pd.DataFrame(columns=COLUMNS)
    order = {"conflict": 0, "agree": 1, "text_only": 2}
    r = reconciled.assign(_o=reconciled["kind"].map(order)).sort_values(KEY + ["_o"], kind="stable")
    return r.drop_duplicates(KEY, keep="first").drop(columns="_o").reset_index(drop=True)
