"""Benchmark of the validation stage on 1,000,000 observations.

Runs, in one process and on the same synthetic frames:

* **stage**  — :func:`diaphuong.validate.validate`: the GX suites of ``expectations/`` (GX 1.24,
  ephemeral context, a ValidationDefinition and a Checkpoint per suite), the rules of
  ``expectations/rules.yaml`` and both outlier methods;
* **direct** — the same checks written directly: the structural and range checks in pandas, the
  outliers in DuckDB SQL (``median``), the rules with the same vectorised pandas engine
  (:func:`diaphuong.validate.apply_rules`, which is already pandas: GX does not run rules).

and prints both times, their ratio (target <= 3x) and the split, and checks that both found the same
failing rows (structural and range checks) and the same outliers.

The synthetic cycle is a back-fill: 34 provinces (2025 set) x 37 indicators x every period kind of
30 years (months, quarters, halves, 9 months, year), values consistent between periods (quarters sum
the months, cumulative figures sum from January, yoy_pct and pct_of_plan computed from the values,
GRDP shares add to 100, budget revenue = its components), with 6 earlier years as history and a few
hundred planted errors (unit slips x1000, unknown province codes, bad status, falling cumulative
figures, wrong yoy_pct).

    .venv/bin/python bench/bench_validate.py [--rows 1000000] [--history-years 6] [--docs DIR]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from diaphuong import schema
from diaphuong.catalog.indicators import indicators
from diaphuong.catalog.provinces import provinces
from diaphuong.expectations_gen import CHANGE_MEASURES, LOADER_COLUMNS, PERIOD_REGEX, derive_columns
from diaphuong.validate import _apply_rules, _outliers, load_rules, validate

ROOT = Path(__file__).resolve().parents[1]
RATIO_TARGET = 3.0
CYCLE = "2025"

# ---------------------------------------------------------------- synthetic data

_PERIODS = ([(f"{m:02d}", m, m) for m in range(1, 13)] + [(f"Q{q}", 3 * q - 2, 3 * q) for q in range(1, 5)]
            + [("H1", 1, 6), ("H2", 7, 12), ("9M", 1, 9), ("", 1, 12)])
_RATE_LEVEL = {  # typical value, spread of the rate/share/index indicators
    "grdp_growth": (6.5, 1.5), "grdp_growth_agriculture": (3.0, 1.0), "grdp_growth_industry_construction": (9.0, 3.0),
    "grdp_growth_services": (7.0, 1.5), "grdp_growth_product_taxes": (6.0, 2.0), "iip_growth": (8.0, 4.0),
    "cpi_yoy": (3.5, 1.0), "cpi_mom": (0.3, 0.3), "cpi_avg": (3.5, 1.0), "poverty_rate": (4.0, 2.0),
    "unemployment_rate": (2.2, 0.5),
}
_PLAN = ("budget_revenue", "budget_expenditure", "public_investment_disbursed", "total_social_investment")


def synthetic(n_rows: int = 1_000_000, history_years: int = 6, seed: int = 7) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(observations of the cycle, history) — see the module doc."""
    rng = np.random.default_rng(seed)
    inds = indicators()
    p = provinces()
    codes = np.sort(p.loc[p["province_set"] == "2025", "code"].unique())
    per_year = _rows_per_year(inds, len(codes))
    years_obs = int(np.ceil(n_rows / per_year)) + 1
    last = 2025
    first_obs = last - years_obs + 1
    first = first_obs - history_years
    years = np.arange(first - 1, last + 1)  # one extra year so every yoy has its base
    size = np.clip(rng.lognormal(0, 0.6, len(codes)), 0.4, 2.5)
    frames = []
    levels = [k for k, i in inds.items() if i.kind in ("level", "count") and not k.startswith("grdp_share")
              and k not in ("budget_revenue",)]
    for k in levels:
        i = inds[k]
        lo, hi = (i.value_min or 0), (i.value_max or 100)
        base = np.sqrt(max(lo, 1.0) * hi)  # a year's value for a province of size 1: inside the range
        stock = k in ("population", "grdp_per_capita")
        # monthly values: province size x season x noise (no trend: the back-fill spans 30 years and the
        # outlier check compares with the province's history)
        months = np.arange(1, 13)
        season = 1 + (0 if stock else 0.15) * np.sin(months / 12 * 2 * np.pi)
        arr = (base / 12 * size[:, None, None] * season[None, None, :] * np.ones((1, len(years), 1))
               * rng.normal(1, 0.005 if stock else 0.03, (len(codes), len(years), 12)))
        frames.append(_aggregate(k, i.unit, arr, codes, years, stock=stock))
    # budget revenue = domestic + import-export
    dom = [f for f in frames if f["indicator"].iat[0] == "budget_revenue_domestic"][0]
    imx = [f for f in frames if f["indicator"].iat[0] == "budget_revenue_import_export"][0]
    tot = dom.merge(imx[["province_code", "period", "value"]], on=["province_code", "period"], suffixes=("", "_x"))
    tot = tot.assign(indicator="budget_revenue", value=tot["value"] + tot["value_x"]).drop(columns="value_x")
    frames.append(tot)
    lev = pd.concat(frames, ignore_index=True)
    lev["value"] = lev["value"].round(1)
    obs = [lev.assign(measure="value")]
    # yoy_pct from the values
    key = ["province_code", "indicator", "period"]
    ly = lev.assign(period=[_next_year(pp) for pp in lev["period"]])[key + ["value"]].rename(columns={"value": "ly"})
    y = lev.merge(ly, on=key, how="inner")
    y = y[y["indicator"] != "grdp_per_capita"]
    obs.append(y.assign(measure="yoy_pct", value=(100 * (y["value"] / y["ly"] - 1)).round(1), unit="pct")
               .drop(columns="ly"))
    # pct_of_plan for cumulative periods of a few indicators: plan = 1.02 x the year's value
    yr = lev[lev["period"].str.len() == 4][["province_code", "indicator", "period", "value"]]
    yr = yr.rename(columns={"period": "year", "value": "annual"})
    cum = lev[lev["indicator"].isin(_PLAN) & lev["period"].str.match(r"^\d{4}(-(01|Q1|H1|9M))?$")].copy()
    cum["year"] = cum["period"].str[:4]
    cum = cum.merge(yr, on=["province_code", "indicator", "year"])
    obs.append(cum.assign(measure="pct_of_plan", value=(100 * cum["value"] / (1.02 * cum["annual"])).round(1),
                          unit="pct").drop(columns=["year", "annual"]))
    # rates, shares
    per_codes = [(f"{yy}-{s}" if s else f"{yy}") for yy in years for s, _, _ in _PERIODS]
    grid = pd.MultiIndex.from_product([codes, per_codes], names=["province_code", "period"]).to_frame(index=False)
    for k, (mu, sd) in _RATE_LEVEL.items():
        obs.append(grid.assign(indicator=k, measure="value", unit="pct",
                               value=rng.normal(mu, sd, len(grid)).round(1)))
    a = rng.uniform(5, 35, len(grid))
    b = rng.uniform(20, 45, len(grid))
    d = rng.uniform(4, 10, len(grid))
    c = 100 - a - b - d
    for k, v in (("grdp_share_agriculture", a), ("grdp_share_industry_construction", b),
                 ("grdp_share_services", c), ("grdp_share_product_taxes", d)):
        obs.append(grid.assign(indicator=k, measure="value", unit="pct", value=np.round(v, 2)))
    allo = pd.concat(obs, ignore_index=True)
    allo["year"] = allo["period"].str[:4].astype(int)
    allo = allo.assign(province_set="2025", status="A", source_kind="submission", source_sha256="a" * 64)
    allo["source_file"] = allo["province_code"] + "_" + allo["period"].str[:4] + ".xlsx"
    hist = allo[(allo["year"] >= first) & (allo["year"] < first_obs)].copy()
    cur = allo[allo["year"] >= first_obs].copy()
    cur = cur.sort_values(["year", "period", "province_code", "indicator", "measure"], ascending=[False, True, True,
                                                                                                True, True])
    cur = cur.head(n_rows).reset_index(drop=True)
    cur["cycle"] = CYCLE
    cur["locator"] = "Biểu 01!C" + pd.Series(np.arange(len(cur)) % 5000 + 8).astype(str)
    hist["cycle"] = hist["period"].str[:4]
    hist["locator"] = "Biểu 01!D9"
    cur = _plant_errors(cur, rng)
    cur = schema.conform(cur.drop(columns=["year"]), "observation")
    hist = schema.conform(hist.drop(columns=["year"]), "observation")
    return cur, hist


def _rows_per_year(inds, n_prov: int) -> int:
    n_lev = sum(1 for k, i in inds.items() if i.kind in ("level", "count") and not k.startswith("grdp_share"))
    return n_prov * len(_PERIODS) * (2 * n_lev + len(_RATE_LEVEL) + 4) + n_prov * 4 * len(_PLAN)


def _aggregate(k, unit, arr, codes, years, *, stock: bool) -> pd.DataFrame:
    rows = []
    for s, fm, lm in _PERIODS:
        if stock:
            v = arr[:, :, lm - 1] * 12
        else:
            v = arr[:, :, fm - 1:lm].sum(axis=2)
        per = [f"{yy}-{s}" if s else f"{yy}" for yy in years]
        rows.append(pd.DataFrame({"province_code": np.repeat(codes, len(years)), "period": np.tile(per, len(codes)),
                                  "value": v.reshape(-1)}))
    out = pd.concat(rows, ignore_index=True)
    out["indicator"] = k
    out["unit"] = unit
    return out


def _next_year(p: str) -> str:
    return str(int(p[:4]) + 1) + p[4:]


def _plant_errors(cur: pd.DataFrame, rng) -> pd.DataFrame:
    n = len(cur)
    val = cur["measure"].eq("value")
    lev_idx = np.flatnonzero(val & cur["unit"].isin(["bn_vnd", "mn_usd"]))
    slip = rng.choice(lev_idx, 100, replace=False)
    cur.loc[slip, "value"] = cur.loc[slip, "value"] * 1000            # unit slip: range, cumulative, outlier
    bad_prov = rng.choice(n, 50, replace=False)
    cur.loc[bad_prov, "province_code"] = "99"                          # not a code of the 2025 set
    bad_status = rng.choice(n, 50, replace=False)
    cur.loc[bad_status, "status"] = "X"
    yoy_idx = np.flatnonzero(cur["measure"].eq("yoy_pct"))
    wrong = rng.choice(yoy_idx, 100, replace=False)
    cur.loc[wrong, "value"] = cur.loc[wrong, "value"] + 5              # yoy_pct disagrees with the values
    return cur


# ---------------------------------------------------------------- the direct checks


def direct_structure(obs: pd.DataFrame) -> dict[str, np.ndarray]:
    """The checks of the generated suites, in pandas: rule -> failing row positions."""
    t = schema.TABLES["observation"]
    inds = indicators()
    out: dict[str, np.ndarray] = {}
    d = derive_columns(obs, "observation")
    missing_cols = set(t.columns) - set(d.columns)
    if missing_cols:
        out["observation.columns"] = np.array([-1])
    for f in t.fields:
        if not f.nullable and f.name not in LOADER_COLUMNS["observation"]:
            out[f"observation.{f.name}.not_null"] = np.flatnonzero(d[f.name].isna().to_numpy())
        if f.allowed:
            s = d[f.name]
            out[f"observation.{f.name}.allowed"] = np.flatnonzero((s.notna() & ~s.isin(f.allowed)).to_numpy())
    key = [c for c in t.key if c not in LOADER_COLUMNS["observation"]]
    out["observation.key_unique"] = np.flatnonzero(d.duplicated(key, keep=False).to_numpy())
    for c in ("cycle", "period"):
        s = d[c]
        out[f"observation.{c}.notation"] = np.flatnonzero(
            (s.notna() & ~s.str.contains(PERIOD_REGEX, regex=True).fillna(False)).to_numpy())
    out["observation.indicator.in_catalog"] = np.flatnonzero((~d["indicator"].isin(list(inds))).to_numpy())
    ok_units = {f"{k}:{i.unit}" for k, i in inds.items()} | {"*:pct"}
    out["observation.unit.matches_catalog"] = np.flatnonzero(
        (d["unit_key"].notna() & ~d["unit_key"].isin(ok_units)).to_numpy())
    p = provinces()
    ok_prov = set(p["province_set"] + ":" + p["code"])
    out["observation.province.valid_for_set"] = np.flatnonzero(
        (d["province_key"].notna() & ~d["province_key"].isin(ok_prov)).to_numpy())
    both = d["province_set"].notna() & d["cycle_set"].notna()
    out["observation.province_set.matches_cycle"] = np.flatnonzero(
        (both & (d["province_set"] != d["cycle_set"])).fillna(False).to_numpy())
    # ranges: the catalog's bounds joined per indicator and kind of measure
    b = []
    for k, i in inds.items():
        b.append((k, "value", i.value_min, i.value_max))
        b.append((k, "change", i.change_min, i.change_max))
    bounds = pd.DataFrame(b, columns=["indicator", "kind", "lo", "hi"]).astype({"lo": "float64", "hi": "float64"})
    kind = np.where(obs["measure"] == "value", "value", np.where(obs["measure"].isin(CHANGE_MEASURES), "change", ""))
    m = pd.DataFrame({"indicator": obs["indicator"].astype(object), "kind": kind,
                      "value": obs["value"]}).merge(bounds, on=["indicator", "kind"], how="left")
    v = m["value"]
    for kd in ("value", "change"):
        sel = (m["kind"] == kd) & v.notna()
        out[f"range.{kd}.min"] = np.flatnonzero((sel & m["lo"].notna() & (v < m["lo"])).to_numpy())
        out[f"range.{kd}.max"] = np.flatnonzero((sel & m["hi"].notna() & (v > m["hi"])).to_numpy())
    return {k: v for k, v in out.items() if len(v)}


def direct_outliers(obs: pd.DataFrame, hist: pd.DataFrame, threshold: float = 3.5) -> int:
    """Both outlier methods in DuckDB SQL; returns the number of findings."""
    import duckdb

    rate_inds = [k for k, i in indicators().items() if i.kind in ("rate", "share", "index_change")]
    con = duckdb.connect()
    cols = ["province_set", "province_code", "period", "indicator", "measure", "value", "source_kind"]
    con.register("o", obs[cols].assign(_row=np.arange(len(obs))))
    con.register("h", hist[cols])
    con.execute("""CREATE TEMP MACRO pclass(p) AS CASE
        WHEN length(p) = 4 THEN 'year' WHEN p[6] = 'Q' THEN 'quarter' WHEN p[6] = 'H' THEN 'half'
        WHEN p LIKE '%M' THEN 'ytd' || replace(p[6:], 'M', '') ELSE 'month' END""")
    hist_sql = f"""
      WITH hh AS (SELECT h.* , pclass(h.period) AS pc FROM h
                  ANTI JOIN o USING (province_set, province_code, indicator, measure, period)
                  WHERE h.value IS NOT NULL),
      med AS (SELECT province_set, province_code, indicator, measure, pc, median(value) AS med, count(*) AS n
              FROM hh GROUP BY ALL),
      dev AS (SELECT hh.province_set, hh.province_code, hh.indicator, hh.measure, hh.pc,
                     median(abs(value - med)) AS mad, avg(abs(value - med)) AS meanad, any_value(med) AS med,
                     any_value(n) AS n
              FROM hh JOIN med USING (province_set, province_code, indicator, measure, pc) GROUP BY ALL)
      SELECT count(*) FROM (SELECT o.*, pclass(o.period) AS pc FROM o WHERE value IS NOT NULL) x
      JOIN dev USING (province_set, province_code, indicator, measure, pc)
      WHERE n >= 5 AND CASE WHEN mad > 0 THEN 0.6745 * abs(value - med) / mad
                            WHEN meanad > 0 THEN abs(value - med) / (1.253314 * meanad) ELSE 0 END > {threshold}"""
    n_hist = con.execute(hist_sql).fetchone()[0]
    rates = ", ".join(f"'{k}'" for k in rate_inds)
    meas = ", ".join(f"'{m}'" for m in CHANGE_MEASURES + ("pct_of_plan",))
    cross_sql = f"""
      WITH c AS (SELECT * FROM o WHERE value IS NOT NULL
                   AND (measure IN ({meas}) OR (measure = 'value' AND indicator IN ({rates})))
                 QUALIFY row_number() OVER (PARTITION BY province_set, province_code, period, indicator, measure
                                            ORDER BY source_kind <> 'submission') = 1),
      med AS (SELECT province_set, period, indicator, measure, median(value) AS med, count(*) AS n FROM c GROUP BY ALL),
      dev AS (SELECT c.province_set, c.period, c.indicator, c.measure, median(abs(value - med)) AS mad,
                     avg(abs(value - med)) AS meanad, any_value(med) AS med, any_value(n) AS n
              FROM c JOIN med USING (province_set, period, indicator, measure) GROUP BY ALL)
      SELECT count(*) FROM c JOIN dev USING (province_set, period, indicator, measure)
      WHERE n >= 5 AND CASE WHEN mad > 0 THEN 0.6745 * abs(value - med) / mad
                            WHEN meanad > 0 THEN abs(value - med) / (1.253314 * meanad) ELSE 0 END > {threshold}"""
    n_cross = con.execute(cross_sql).fetchone()[0]
    con.close()
    return int(n_hist + n_cross)


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--history-years", type=int, default=6)
    ap.add_argument("--docs", type=Path, help="also build the Data Docs here (not timed in the ratio)")
    a = ap.parse_args(argv)

    t0 = time.perf_counter()
    obs, hist = synthetic(a.rows, a.history_years)
    print(f"synthetic: {len(obs):,} observations, {len(hist):,} history rows ({time.perf_counter() - t0:.1f} s)")
    suites_dir = ROOT / "expectations"
    rules = load_rules(suites_dir / "rules.yaml")

    t = time.perf_counter()
    import great_expectations  # noqa: F401  imported once per process; not part of either side below
    t_import = time.perf_counter() - t
    import duckdb  # noqa: F401

    # --- the stage, split for the report
    from diaphuong.validate import _run_suites

    t = time.perf_counter()
    f_s, suite_res = _run_suites(obs, suites_dir=suites_dir)
    t_suites = time.perf_counter() - t
    t = time.perf_counter()
    f_r = _apply_rules(obs, hist, rules)
    t_rules = time.perf_counter() - t
    t = time.perf_counter()
    f_o = _outliers(obs, hist)
    t_out = time.perf_counter() - t
    t = time.perf_counter()
    res = validate(obs, hist, suites_dir=suites_dir, rules=rules)
    t_stage = time.perf_counter() - t

    # --- the direct checks
    t = time.perf_counter()
    d_struct = direct_structure(obs)
    t_dstruct = time.perf_counter() - t
    t = time.perf_counter()
    _apply_rules(obs, hist, rules)
    t_drules = time.perf_counter() - t
    t = time.perf_counter()
    d_out = direct_outliers(obs, hist)
    t_dout = time.perf_counter() - t
    t_direct = t_dstruct + t_drules + t_dout

    # --- agreement
    gx_rows = f_s[f_s["_rows"].map(len) > 0].groupby("rule")["_rows"].agg(lambda s: sorted(p for r in s for p in r))
    agree = all(sorted(gx_rows.get(k, [])) == sorted(v.tolist()) for k, v in d_struct.items()) and \
        set(gx_rows.index) <= set(d_struct)
    print(f"findings: {len(res.findings):,} (suites {len(f_s):,}, rules {len(f_r):,}, outliers {len(f_o):,}); "
          f"critical rows {int((res.severity_by_observation == 'critical').sum()):,}")
    print(suite_res[["suite", "evaluated", "successful", "unsuccessful"]].to_string(index=False))
    print(f"rows flagged by the suites = rows flagged by the direct pandas checks: {agree}")
    print(f"outliers: stage {len(f_o):,}, DuckDB {d_out:,}: {'same' if len(f_o) == d_out else 'DIFFERENT'}")
    print()
    print(f"stage   (validate)          {t_stage:7.2f} s   [GX suites {t_suites:.2f}, rules {t_rules:.2f}, "
          f"outliers {t_out:.2f}]")
    print(f"direct  (pandas / DuckDB)   {t_direct:7.2f} s   [structure+ranges {t_dstruct:.2f}, rules {t_drules:.2f}, "
          f"outliers (DuckDB) {t_dout:.2f}]")
    ratio = t_stage / t_direct
    print(f"ratio stage / direct        {ratio:7.2f} x   (target <= {RATIO_TARGET:g}x)")
    fastest = t_dstruct + t_drules + min(t_dout, t_out)
    print(f"ratio stage / fastest direct{t_stage / fastest:7.2f} x   (outliers: the faster of DuckDB and the "
          f"stage's own pandas, {min(t_dout, t_out):.2f} s)")
    print(f"GX suites / pandas checks   {t_suites / t_dstruct:7.2f} x")
    print(f"import great_expectations   {t_import:7.2f} s   (once per process, lazily)")
    if a.docs:
        t = time.perf_counter()
        with tempfile.TemporaryDirectory() as _:
            validate(obs, hist, suites_dir=suites_dir, rules=rules, docs_dir=a.docs)
        print(f"with Data Docs              {time.perf_counter() - t:7.2f} s -> {a.docs}")
    return 0 if t_stage / fastest <= RATIO_TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
