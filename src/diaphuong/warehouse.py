"""The DuckDB warehouse: schema from ``schema.py``, one-transaction loads with vintages, views,
Parquet export and a Frictionless ``datapackage.json``.

Loads are all-or-nothing: everything a cycle writes happens between ``BEGIN`` and ``COMMIT``; a
process killed in between leaves the file as it was (DuckDB's WAL replays only committed work).
One writer at a time: :func:`write_lock` takes an exclusive file lock next to the database.

Views: ``observation_current`` (latest vintages, critical figures left out), ``panel`` (wide),
``observation_2025`` (history on the 34 units, :func:`reaggregation_rules`), ``revision`` (a
vintage and the one that replaced it), ``estimate_revision`` (every E/P/F figure against the
official figure now current), ``scorecard``; macros ``observation_as_of(ts)`` and
``observation_as_of_run(run_id)``. :func:`table_checksums` compares two warehouses.
"""
from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from diaphuong import schema
from diaphuong.catalog import indicators as ind_catalog
from diaphuong.catalog.provinces import crosswalk, provinces
from diaphuong.errors import WarehouseError, WarehouseLocked
from diaphuong.settings import Settings

SQL_DIR = Path(__file__).parent / "sql"
# Tables rewritten whole for a cycle on each load (derived from the inputs of that cycle).
CYCLE_TABLES = ("cycle", "submission", "quarantine", "reporting_status", "completeness", "finding", "suite_result")
REFERENCE_TABLES = ("province", "province_crosswalk", "indicator", "requirement")
# What makes two observations the same figure (a rerun that finds it again keeps the old row).
IDENTITY = ("cycle", "period", "province_code", "province_set", "indicator", "measure", "value", "unit",
            "status", "qualifier", "source_kind", "source_sha256", "locator")


@dataclass
class CycleBatch:
    """Everything one run writes for one cycle (frames in the schema's table columns)."""
    cycle: str
    run_id: str
    frames: dict[str, pd.DataFrame]          # CYCLE_TABLES -> frame
    observations: pd.DataFrame               # current figures of this run
    observations_superseded: pd.DataFrame    # earlier files superseded within the run (resubmissions)
    run_row: dict = field(default_factory=dict)


def _is_lock_error(e: Exception) -> bool:
    msg = str(e).lower()
    return "lock" in msg or "conflicting" in msg or "being used" in msg


def connect(settings: Settings, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    path = settings.duckdb_path
    if read_only and not path.exists():
        raise WarehouseError(f"no warehouse at {path}", hint="run `make run` (or `diaphuong run`) first")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as e:
        if _is_lock_error(e):
            raise WarehouseLocked(f"the warehouse {path} is being written by another process") from None
        raise WarehouseError(f"cannot open {path}: {e}") from None


@contextmanager
def write_lock(settings: Settings, *, wait_seconds: float | None = None) -> Iterator[None]:
    """Exclusive writer lock (``.write.lock`` beside the database). A second writer waits up to
    ``wait_seconds`` (settings.lock_wait_seconds by default), then raises :class:`WarehouseLocked`."""
    wait = settings.lock_wait_seconds if wait_seconds is None else wait_seconds
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    lock_path = settings.warehouse_dir / ".write.lock"
    fh = lock_path.open("a+")
    deadline = time.monotonic() + wait
    try:
        while True:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    fh.seek(0)
                    holder = fh.read().strip()
                    raise WarehouseLocked(
                        f"another run is writing {settings.warehouse_dir}" + (f" ({holder})" if holder else ""),
                        hint="wait for it to finish, or set DIAPHUONG_LOCK_WAIT=<seconds> to queue behind it",
                    ) from None
                time.sleep(0.2)
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()} since {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
        fh.flush()
        yield
    finally:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
        finally:
            fh.close()


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    for name in schema.TABLES:
        con.execute(schema.ddl(name))
    create_views(con)


def _panel_sql() -> str:
    """One row per province and period, one column per catalog indicator (its ``value``): per cycle,
    the province's spreadsheet before a report text, then official before preliminary before
    estimate (ties broken by locator, so the choice is stable). An aggregate (``arg_min``) and a
    static PIVOT instead of a window and 37 filtered aggregates: 2-3x faster on 10^6 rows."""
    keys = ", ".join(f"'{k}'" for k in ind_catalog.indicators())
    return f"""
CREATE OR REPLACE VIEW panel AS
WITH best AS (
  SELECT cycle, period, province_code, province_set, indicator,
         arg_min(value, (CASE source_kind WHEN 'submission' THEN 0 ELSE 1 END,
                         CASE status WHEN 'A' THEN 0 WHEN 'P' THEN 1 WHEN 'E' THEN 2 ELSE 3 END,
                         locator)) AS value
  FROM observation_current WHERE measure = 'value'
  GROUP BY cycle, period, province_code, province_set, indicator
),
wide AS (
  PIVOT best ON indicator IN ({keys}) USING max(value) GROUP BY period, province_code, province_set
),
names AS (SELECT code, province_set, arg_max(name_vi, valid_from) AS name_vi FROM province GROUP BY code, province_set)
SELECT w.period, w.province_code, w.province_set, n.name_vi AS province_name,
       w.* EXCLUDE (period, province_code, province_set)
FROM wide w
LEFT JOIN names n ON n.code = w.province_code AND n.province_set = w.province_set
"""


# One figure per unit, period, indicator and measure among the current vintages: an official
# figure before a preliminary one before an estimate before a projection, a province's spreadsheet
# before a report text, the latest cycle first.
_BEST_SQL = """
SELECT DISTINCT ON (o.period, o.province_set, o.province_code, o.indicator, o.measure)
       o.period, o.province_set, o.province_code, o.indicator, o.measure, o.value, o.unit, o.status
FROM observation_current o LEFT JOIN cycle c ON c.cycle = o.cycle
WHERE o.value IS NOT NULL AND o.province_code IS NOT NULL
ORDER BY o.period, o.province_set, o.province_code, o.indicator, o.measure,
         CASE o.status WHEN 'A' THEN 0 WHEN 'P' THEN 1 WHEN 'E' THEN 2 WHEN 'F' THEN 3 ELSE 4 END,
         CASE o.source_kind WHEN 'submission' THEN 0 ELSE 1 END,
         c.period_end DESC NULLS LAST, o.cycle DESC, o.locator
"""


def reaggregation_rules() -> list[tuple[str, str, str, str | None]]:
    """How a figure of the 63 units is re-expressed on a 34-unit merger of several, as
    ``(indicator, measure, rule, weight_indicator)``; a figure without a rule is a break.

    * ``sum`` — a level of an additive indicator: the members' values summed.
    * ``growth`` — a growth rate recomputed from the members' levels:
      g = sum(L_i(t-1) * (1 + g_i/100)) / sum(L_i(t-1)) - 1, with L the ``weight_indicator``'s
      level the same period a year before; when that is not in the warehouse,
      L_i(t-1) = L_i(t) / (1 + g_i/100) from this period's level. ``grdp_growth`` weighs by GRDP at
      constant prices; the ``yoy_pct`` of an additive indicator by the indicator itself.
    * ``share`` — a GRDP sector share, weighted by GRDP at current prices of the same period.
    * ``plan`` — the ``pct_of_plan`` of an additive indicator: sum of values / sum of plans, the
      plan of a member being value / (pct_of_plan / 100).

    Indices and rates without levels in the warehouse (CPI, IIP, sector growth, unemployment,
    poverty, per-capita GRDP) are never averaged: they are breaks."""
    cat = ind_catalog.indicators()
    rules: list[tuple[str, str, str, str | None]] = []
    for k, ind in cat.items():
        if ind.additive:
            rules += [(k, "value", "sum", None), (k, "yoy_pct", "growth", k), (k, "pct_of_plan", "plan", k)]
    if "grdp_growth" in cat and "grdp_constant_prices" in cat:
        rules.append(("grdp_growth", "value", "growth", "grdp_constant_prices"))
    if "grdp_current_prices" in cat:
        rules += [(k, "value", "share", "grdp_current_prices") for k, ind in cat.items()
                  if ind.kind == "share" and k.startswith("grdp_share_")]
    return rules


def _observation_2025_sql() -> str:
    def lit(v):
        return "NULL" if v is None else "'" + str(v).replace("'", "''") + "'"

    rules = ",\n    ".join(f"({lit(i)}, {lit(m)}, {lit(r)}, {lit(w)})" for i, m, r, w in reaggregation_rules())
    return f"""
CREATE OR REPLACE VIEW observation_2025 AS
WITH best AS ({_BEST_SQL}),
members AS (SELECT new_code, count(*) AS n_members FROM province_crosswalk GROUP BY new_code),
rules(indicator, measure, rule, weight_indicator) AS (VALUES
    {rules}),
old AS (
  SELECT b.*, x.new_code, m.n_members, r.rule, r.weight_indicator,
         CASE WHEN r.rule = 'growth'
              THEN CAST(TRY_CAST(left(b.period, 4) AS INTEGER) - 1 AS VARCHAR) || substr(b.period, 5)
         END AS period_last_year
  FROM best b
  JOIN province_crosswalk x ON x.old_code = b.province_code
  JOIN members m ON m.new_code = x.new_code
  LEFT JOIN rules r ON r.indicator = b.indicator AND r.measure = b.measure
  WHERE b.province_set = '2008'
),
weighted AS (
  SELECT o.*,
         CASE o.rule
           WHEN 'growth' THEN coalesce(ly.value, lt.value / nullif(1 + o.value / 100, 0))
           WHEN 'share' THEN lt.value
           WHEN 'plan' THEN lt.value * 100 / nullif(o.value, 0)
         END AS weight,
         CASE WHEN ly.value IS NOT NULL THEN 'last_year' WHEN lt.value IS NOT NULL THEN 'this_period' END AS weight_from
  FROM old o  -- equalities only (a NULL weight_indicator or period_last_year matches nothing): hash joins
  LEFT JOIN best ly ON ly.province_set = '2008' AND ly.province_code = o.province_code
        AND ly.indicator = o.weight_indicator AND ly.measure = 'value' AND ly.period = o.period_last_year
  LEFT JOIN best lt ON lt.province_set = '2008' AND lt.province_code = o.province_code
        AND lt.indicator = o.weight_indicator AND lt.measure = 'value' AND lt.period = o.period
),
agg AS (
  SELECT period, new_code AS province_code, indicator, measure, rule,
         any_value(n_members) AS n_members,
         count(DISTINCT province_code) AS n_reported,
         count(DISTINCT unit) AS n_units, any_value(unit) AS unit,
         count(*) FILTER (WHERE weight > 0) AS n_weighted,
         sum(value) AS value_sum, any_value(value) AS value_one,
         sum(weight * (1 + value / 100)) / nullif(sum(weight), 0) AS growth_factor,
         sum(weight * value) / nullif(sum(weight), 0) AS weighted_mean,
         bool_and(coalesce(weight_from = 'last_year', false)) AS all_last_year,
         bool_and(coalesce(weight_from = 'this_period', false)) AS all_this_period,
         CASE max(CASE status WHEN 'A' THEN 1 WHEN 'P' THEN 2 WHEN 'E' THEN 3 WHEN 'F' THEN 4 ELSE 5 END)
              WHEN 1 THEN 'A' WHEN 2 THEN 'P' WHEN 3 THEN 'E' WHEN 4 THEN 'F' END AS status
  FROM weighted
  GROUP BY period, new_code, indicator, measure, rule
),
flagged AS (
  SELECT *,
         CASE WHEN n_members = 1 THEN NULL
              WHEN rule IS NULL THEN 'break_not_additive'
              WHEN n_reported < n_members THEN 'break_incomplete'
              WHEN n_units > 1 THEN 'break_mixed_units'
              WHEN rule <> 'sum' AND n_weighted < n_members THEN 'break_no_levels'
         END AS break_flag
  FROM agg
)
SELECT period, province_code, '2025' AS province_set, indicator, measure,
       CASE WHEN n_units = 1 THEN unit END AS unit,
       CASE WHEN break_flag IS NOT NULL THEN NULL
            WHEN n_members = 1 THEN value_one
            WHEN rule = 'sum' THEN round(value_sum, 6)
            WHEN rule = 'growth' THEN round(100 * (growth_factor - 1), 4)
            ELSE round(weighted_mean, 4)
       END AS value,
       status,
       n_reported AS units_summed, n_members AS units_in_merger, break_flag,
       CASE WHEN n_members = 1 THEN 'same_unit'
            WHEN rule = 'sum' THEN 'crosswalk_sum'
            WHEN rule = 'growth' AND break_flag IS NULL AND all_last_year THEN 'growth_from_levels_last_year'
            WHEN rule = 'growth' AND break_flag IS NULL AND all_this_period THEN 'growth_from_levels_this_period'
            WHEN rule = 'growth' AND break_flag IS NULL THEN 'growth_from_levels_mixed'
            WHEN rule = 'growth' THEN 'growth_from_levels'
            WHEN rule = 'share' THEN 'share_from_levels'
            WHEN rule = 'plan' THEN 'pct_of_plan_from_plans'
       END AS method
FROM flagged
UNION ALL
SELECT period, province_code, province_set, indicator, measure, unit, value, status, 1, 1, NULL, 'as_reported'
FROM best WHERE province_set = '2025'
"""


# Every estimate (E), preliminary (P) or projected (F) figure ever loaded, against the official (A)
# figure now current for the same unit, period, indicator and measure: from a resubmission, a later
# report text, a province's spreadsheet after a text-only figure, or a later cycle.
ESTIMATE_REVISION_SQL = """
CREATE OR REPLACE VIEW estimate_revision AS
WITH official AS (
  SELECT DISTINCT ON (o.period, o.province_set, o.province_code, o.indicator, o.measure) o.*
  FROM observation_current o LEFT JOIN cycle c ON c.cycle = o.cycle
  WHERE o.status = 'A' AND o.value IS NOT NULL
  ORDER BY o.period, o.province_set, o.province_code, o.indicator, o.measure,
           CASE o.source_kind WHEN 'submission' THEN 0 ELSE 1 END, c.period_end DESC NULLS LAST, o.cycle DESC, o.locator
)
SELECT e.period, e.province_code, e.province_set, e.indicator, e.measure, e.unit,
       e.status AS estimate_status, e.value AS estimate_value, e.source_kind AS estimate_source_kind,
       e.source_file AS estimate_file, e.locator AS estimate_locator, e.cycle AS estimate_cycle,
       e.valid_from_run AS estimate_run, e.superseded_by_run AS estimate_superseded_by_run,
       a.value AS official_value, a.source_kind AS official_source_kind, a.source_file AS official_file,
       a.locator AS official_locator, a.cycle AS official_cycle, a.valid_from_run AS official_run,
       a.value - e.value AS revision,
       CASE WHEN e.value <> 0 THEN round(100 * (a.value - e.value) / abs(e.value), 4) END AS revision_pct
FROM observation e
JOIN official a
  ON a.period = e.period AND a.province_set IS NOT DISTINCT FROM e.province_set
 AND a.province_code = e.province_code AND a.indicator = e.indicator AND a.measure = e.measure
 AND a.unit IS NOT DISTINCT FROM e.unit
WHERE e.status IN ('E', 'P', 'F') AND e.value IS NOT NULL AND coalesce(e.severity, '') <> 'critical'
"""


def create_views(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("""
CREATE OR REPLACE VIEW observation_current AS
SELECT * FROM observation
WHERE superseded_by_run IS NULL AND coalesce(severity, '') <> 'critical'
""")
    con.execute(_panel_sql())
    con.execute(_observation_2025_sql())
    # as of a time: the vintage each figure had then (runs ordered by their first start)
    con.execute("""
CREATE OR REPLACE MACRO observation_as_of(ts) AS TABLE
SELECT o.* FROM observation o
JOIN run rf ON rf.run_id = o.valid_from_run
LEFT JOIN run rs ON rs.run_id = o.superseded_by_run
WHERE rf.started_at <= CAST(ts AS TIMESTAMPTZ)
  AND (o.superseded_by_run IS NULL OR rs.started_at > CAST(ts AS TIMESTAMPTZ))
  AND o.valid_from_run IS DISTINCT FROM o.superseded_by_run
""")
    con.execute("""
CREATE OR REPLACE MACRO observation_as_of_run(r) AS TABLE
SELECT * FROM observation_as_of((SELECT started_at FROM run WHERE run_id = r))
""")
    # every revision: a figure and the figure that replaced it (resubmission or later run)
    con.execute("""
CREATE OR REPLACE VIEW revision AS
SELECT o.cycle, o.period, o.province_code, o.province_set, o.indicator, o.measure, o.source_kind,
       o.value AS old_value, o.status AS old_status, o.source_file AS old_file, o.locator AS old_locator,
       o.valid_from_run AS old_run,
       n.value AS new_value, n.status AS new_status, n.source_file AS new_file, n.locator AS new_locator,
       n.valid_from_run AS new_run,
       n.value - o.value AS revision,
       CASE WHEN o.value <> 0 THEN round(100 * (n.value - o.value) / abs(o.value), 4) END AS revision_pct
FROM observation o
JOIN observation n
  ON n.cycle = o.cycle AND n.period = o.period AND n.province_code IS NOT DISTINCT FROM o.province_code
 AND n.indicator = o.indicator AND n.measure = o.measure AND n.source_kind = o.source_kind
 AND n.valid_from_run = o.superseded_by_run
 AND (n.superseded_by_run IS NULL OR n.superseded_by_run <> n.valid_from_run)
WHERE o.superseded_by_run IS NOT NULL
  AND (o.value IS DISTINCT FROM n.value OR o.status IS DISTINCT FROM n.status)
""")
    con.execute(ESTIMATE_REVISION_SQL)
    score = SQL_DIR / "scorecard.sql"
    if score.exists():
        con.execute(score.read_text(encoding="utf-8"))


def _reference_frames() -> dict[str, pd.DataFrame]:
    prov = provinces().copy()
    return {
        "province": prov,
        "province_crosswalk": crosswalk().copy(),
        "indicator": ind_catalog.indicator_table(),
        "requirement": ind_catalog.requirements().copy(),
    }


def _arrow_column(s: pd.Series, f: schema.Field, typ: pa.DataType) -> pa.Array:
    """One column as Arrow without a pandas round trip (strings and doubles); raises when the
    values need :func:`schema.conform`'s coercions (numbers in a text column, text in a number)."""
    if f.type in ("VARCHAR", "JSON"):
        vals = s if pd.api.types.is_string_dtype(s.dtype) and s.dtype != object else s.to_numpy(dtype=object)
        return pa.array(vals, type=typ, from_pandas=True)
    if f.type == "DOUBLE":
        if s.dtype == object:
            raise TypeError("object column")
        return pa.array(s.to_numpy(dtype="float64", na_value=np.nan), type=typ, from_pandas=True)
    raise TypeError(f.type)


def to_arrow(df: pd.DataFrame, name: str) -> pa.Table:
    """``schema.to_arrow`` with a fast path: string and double columns go straight to Arrow (10^6
    observations: ~0.3 s instead of ~2 s); any other column, or a value the fast path cannot take,
    sends the whole frame through :func:`schema.conform`. Same result either way (tested)."""
    t = schema.TABLES[name]
    extra = set(df.columns) - set(t.columns)
    if extra:
        raise KeyError(f"{name}: undeclared columns {sorted(extra)}")
    target = schema.arrow_schema(name)
    arrays = []
    try:
        for f in t.fields:
            typ = target.field(f.name).type
            if f.name not in df.columns:
                arrays.append(pa.nulls(len(df), typ))
            else:
                arrays.append(_arrow_column(df[f.name], f, typ))
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError):
        return schema.to_arrow(df, name)
    return pa.Table.from_arrays(arrays, schema=target)


def _replace(con: duckdb.DuckDBPyConnection, table: str, df: pd.DataFrame, where: str = "", params=()) -> int:
    con.execute(f"DELETE FROM {table}" + (f" WHERE {where}" if where else ""), params)
    if df is None or len(df) == 0:
        return 0
    arrow = to_arrow(df, table)
    con.register("_incoming", arrow)
    try:
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _incoming")
    finally:
        con.unregister("_incoming")
    return len(df)


def _match(a: str, b: str) -> str:
    return " AND ".join(f"{a}.{c} IS NOT DISTINCT FROM {b}.{c}" for c in IDENTITY)


def load_observations(con, cycle: str, run_id: str, current: pd.DataFrame, superseded: pd.DataFrame) -> dict:
    """Vintages: figures found again are kept as they are; figures gone or changed are marked
    ``superseded_by_run``; new ones are inserted with ``valid_from_run``. Nothing is deleted but
    this run's own within-run superseded rows, which it rewrites (so a rerun is a no-op).

    One hash join of the batch with the cycle's current rows (on :data:`IDENTITY`) gives the pairs
    found again; the withdrawn rows, the severity updates and the new rows all follow from those
    pairs by row number. A cycle with no current rows is a plain bulk insert."""
    cur = current.assign(cycle=cycle, valid_from_run=run_id, superseded_by_run=None)
    new = to_arrow(cur, "observation")
    n_current = con.execute("SELECT count(*) FROM observation WHERE cycle = ? AND superseded_by_run IS NULL",
                            [cycle]).fetchone()[0]
    withdrawn = 0
    if n_current == 0:
        con.register("_new_obs", new)
        try:
            inserted = con.execute("INSERT INTO observation BY NAME SELECT * FROM _new_obs").fetchone()[0] if len(new) else 0
        finally:
            con.unregister("_new_obs")
    else:
        con.register("_new_obs", new.append_column("_i", pa.array(np.arange(len(new), dtype=np.int64))))
        try:
            con.execute(
                f"""CREATE OR REPLACE TEMP TABLE _pair AS
                    SELECT n._i, o.rowid AS orow, o.severity AS old_severity, n.severity AS new_severity
                    FROM _new_obs n JOIN observation o
                      ON o.cycle = ? AND o.superseded_by_run IS NULL AND {_match('o', 'n')}""", [cycle])
            withdrawn = con.execute(
                """UPDATE observation SET superseded_by_run = ?
                   WHERE cycle = ? AND superseded_by_run IS NULL AND rowid NOT IN (SELECT orow FROM _pair)""",
                [run_id, cycle]).fetchone()[0]
            # severity follows the latest validation, without making a new vintage
            con.execute("""UPDATE observation SET severity = p.new_severity FROM _pair p
                           WHERE observation.rowid = p.orow AND p.old_severity IS DISTINCT FROM p.new_severity""")
            inserted = con.execute(
                """INSERT INTO observation BY NAME
                   SELECT * EXCLUDE (_i) FROM _new_obs WHERE _i NOT IN (SELECT _i FROM _pair)""").fetchone()[0]
        finally:
            con.unregister("_new_obs")
            con.execute("DROP TABLE IF EXISTS _pair")
    con.execute("DELETE FROM observation WHERE cycle = ? AND valid_from_run = ? AND superseded_by_run = ?",
                [cycle, run_id, run_id])
    n_sup = 0
    if superseded is not None and len(superseded):
        sup = superseded.assign(cycle=cycle, valid_from_run=run_id, superseded_by_run=run_id)
        con.register("_sup_obs", to_arrow(sup, "observation"))
        try:
            con.execute("INSERT INTO observation BY NAME SELECT * FROM _sup_obs")
        finally:
            con.unregister("_sup_obs")
        n_sup = len(sup)
    return {"observation_inserted": int(inserted), "observation_superseded": int(withdrawn),
            "observation_superseded_within_run": n_sup}


def load_cycle(con: duckdb.DuckDBPyConnection, batch: CycleBatch) -> dict[str, int]:
    """Write one cycle in ONE transaction (reference tables, cycle tables, observations, run row)."""
    counts: dict[str, int] = {}
    con.execute("BEGIN TRANSACTION")
    try:
        ensure_schema(con)
        for name, df in _reference_frames().items():
            counts[name] = _replace(con, name, df)
        for name in CYCLE_TABLES:
            counts[name] = _replace(con, name, batch.frames.get(name), "cycle = ?", [batch.cycle])
        counts.update(load_observations(con, batch.cycle, batch.run_id, batch.observations,
                                        batch.observations_superseded))
        if batch.run_row:
            upsert_run(con, batch.run_row)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return counts


def upsert_run(con, row: dict) -> None:
    """The run row. A run id seen before (the same inputs, code and parameters) is the same run:
    ``finished_at``, ``attempts`` and ``prefect_flow_run_id`` follow the latest attempt; the rest
    describes the run as its first attempt did it (``started_at`` and the stage ``timings`` are kept;
    row counts, parameters and hashes are the same by construction)."""
    existing = con.execute("SELECT started_at, attempts, timings FROM run WHERE run_id = ?", [row["run_id"]]).fetchone()
    df = pd.DataFrame([row])
    if existing:
        df["started_at"] = pd.Timestamp(existing[0]) if existing[0] is not None else None
        df["attempts"] = int(existing[1] or 0) + 1
        if existing[2] is not None:
            df["timings"] = existing[2]
    else:
        df["attempts"] = 1
    con.execute("DELETE FROM run WHERE run_id = ?", [row["run_id"]])
    con.register("_run", schema.to_arrow(df, "run"))
    try:
        con.execute("INSERT INTO run BY NAME SELECT * FROM _run")
    finally:
        con.unregister("_run")


PARTITIONED = {"observation": "year"}


def export_parquet(con: duckdb.DuckDBPyConnection, settings: Settings) -> Path:
    """Every table to ``parquet/<table>/`` (observation partitioned by year), swapped in atomically
    per table so a reader never sees a half-written export."""
    out = settings.parquet_dir
    out.mkdir(parents=True, exist_ok=True)
    for name in schema.TABLES:
        tmp = out / f".{name}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        if name in PARTITIONED:
            tmp.mkdir(parents=True)
            con.execute(
                f"COPY (SELECT *, CAST(left(period, 4) AS INTEGER) AS year FROM {name} ORDER BY ALL) "
                f"TO '{tmp.as_posix()}' (FORMAT parquet, PARTITION_BY (year), OVERWRITE_OR_IGNORE)"
            )
        else:
            tmp.mkdir(parents=True)
            con.execute(f"COPY (SELECT * FROM {name} ORDER BY ALL) TO '{(tmp / (name + '.parquet')).as_posix()}' (FORMAT parquet)")
        final = out / name
        old = out / f".{name}.old"
        shutil.rmtree(old, ignore_errors=True)
        if final.exists():
            final.rename(old)
        tmp.rename(final)
        shutil.rmtree(old, ignore_errors=True)
    write_datapackage(out)
    return out


_FRICTIONLESS = {"VARCHAR": "string", "DOUBLE": "number", "BIGINT": "integer", "INTEGER": "integer",
                 "BOOLEAN": "boolean", "DATE": "date", "TIMESTAMPTZ": "datetime", "JSON": "object"}


def datapackage() -> dict:
    res = []
    for t in schema.TABLES.values():
        fields = []
        for f in t.fields:
            d = {"name": f.name, "type": _FRICTIONLESS[f.type], "description": f.description}
            if f.unit:
                d["unit"] = f.unit
            cons = {}
            if not f.nullable:
                cons["required"] = True
            if f.allowed:
                cons["enum"] = list(f.allowed)
            if cons:
                d["constraints"] = cons
            fields.append(d)
        if t.name in PARTITIONED:
            fields.append({"name": "year", "type": "integer", "description": "Partition: year of the period"})
            path = f"{t.name}/year=*/*.parquet"
        else:
            path = f"{t.name}/{t.name}.parquet"
        s = {"fields": fields}
        if t.key:
            s["primaryKey"] = list(t.key)
        res.append({"name": t.name, "path": path, "format": "parquet", "mediatype": "application/vnd.apache.parquet",
                    "description": t.description, "schema": s})
    return {"name": "diaphuong", "title": "Socio-economic indicators of Vietnam's provinces",
            "profile": "data-package", "resources": res}


def write_datapackage(out: Path) -> Path:
    p = out / "datapackage.json"
    p.write_text(json.dumps(datapackage(), ensure_ascii=False, indent=2), encoding="utf-8")
    return p


def table_counts(con) -> dict[str, int]:
    return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in schema.TABLES}


# Columns left out of :func:`table_checksums` by default: they describe the latest attempt of a
# run (a repeat of the same inputs is the same run and counts its attempts), not what was loaded.
CHECKSUM_EXCLUDE = {"run": ("finished_at", "attempts")}


def table_checksums(con, exclude: dict[str, tuple[str, ...]] | None = None,
                    tables: list[str] | None = None) -> dict[str, str]:
    """``table -> "<rows>:<digest>"`` for every schema table, leaving out the columns in
    ``exclude`` (default :data:`CHECKSUM_EXCLUDE`). The digest is the sum of DuckDB's 64-bit hash
    of each row (a multiset digest: independent of row order, counts duplicates; 10^6 rows in well
    under a second). Two warehouses with the same checksums hold the same rows and values; compare
    digests made by the same DuckDB version (the pinned one)."""
    exclude = CHECKSUM_EXCLUDE if exclude is None else exclude
    out = {}
    for name in tables or list(schema.TABLES):
        cols = [c for c in schema.TABLES[name].columns if c not in exclude.get(name, ())]
        row = "struct_pack(" + ", ".join(f'"{c}" := "{c}"' for c in cols) + ")"
        n, digest = con.execute(f"SELECT count(*), coalesce(sum(hash({row})::HUGEINT), 0) FROM {name}").fetchone()
        out[name] = f"{n}:{digest}"
    return out
