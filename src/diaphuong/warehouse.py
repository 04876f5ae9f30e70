"""The DuckDB warehouse: schema from ``schema.py``, one-transaction loads with vintages, views,
Parquet export and a Frictionless ``datapackage.json``.

Loads are all-or-nothing: everything a cycle writes happens between ``BEGIN`` and ``COMMIT``; a
process killed in between leaves the file as it was (DuckDB's WAL replays only committed work).
One writer at a time: :func:`write_lock` takes an exclusive file lock next to the database.
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
import pandas as pd

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
    keys = list(ind_catalog.indicators())
    cols = ",\n    ".join(
        f"max(value) FILTER (WHERE indicator = '{k}') AS {k}" for k in keys
    )
    return f"""
CREATE OR REPLACE VIEW panel AS
WITH ranked AS (
  SELECT o.*, row_number() OVER (
           PARTITION BY cycle, period, province_code, province_set, indicator
           ORDER BY CASE source_kind WHEN 'submission' THEN 0 ELSE 1 END,
                    CASE status WHEN 'A' THEN 0 WHEN 'P' THEN 1 WHEN 'E' THEN 2 ELSE 3 END) AS rn
  FROM observation_current o WHERE measure = 'value'
)
SELECT r.period, r.province_code, r.province_set, p.name_vi AS province_name,
    {cols}
FROM ranked r
LEFT JOIN (SELECT DISTINCT ON (code, province_set) code, province_set, name_vi FROM province
           ORDER BY code, province_set, valid_from DESC) p
  ON p.code = r.province_code AND p.province_set = r.province_set
WHERE rn = 1
GROUP BY ALL
"""


def create_views(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("""
CREATE OR REPLACE VIEW observation_current AS
SELECT * FROM observation
WHERE superseded_by_run IS NULL AND coalesce(severity, '') <> 'critical'
""")
    con.execute(_panel_sql())
    con.execute("""
CREATE OR REPLACE VIEW observation_2025 AS
WITH cur AS (
  SELECT o.*, i.additive FROM observation_current o JOIN indicator i USING (indicator)
  WHERE o.measure = 'value'
), old AS (
  SELECT c.cycle, c.period, x.new_code AS province_code, c.indicator, c.unit, c.status,
         c.additive, c.province_code AS old_code, c.value, c.source_kind
  FROM cur c JOIN province_crosswalk x ON x.old_code = c.province_code
  WHERE c.province_set = '2008'
), members AS (
  SELECT new_code, count(*) AS n_members FROM province_crosswalk GROUP BY new_code
)
SELECT period, province_code, '2025' AS province_set, indicator, unit,
       CASE WHEN bool_and(additive) AND count(DISTINCT old_code) = any_value(m.n_members)
            THEN sum(value) END AS value,
       count(DISTINCT old_code) AS units_summed, any_value(m.n_members) AS units_in_merger,
       CASE WHEN NOT bool_and(additive) THEN 'break_not_additive'
            WHEN count(DISTINCT old_code) < any_value(m.n_members) THEN 'break_incomplete'
       END AS break_flag,
       'crosswalk_sum' AS method
FROM (SELECT DISTINCT ON (period, old_code, indicator) * FROM old
      ORDER BY period, old_code, indicator, CASE source_kind WHEN 'submission' THEN 0 ELSE 1 END) o
JOIN members m ON m.new_code = o.province_code
GROUP BY period, province_code, indicator, unit
UNION ALL
SELECT period, province_code, province_set, indicator, unit, value, 1, 1, NULL, 'as_reported'
FROM (SELECT DISTINCT ON (period, province_code, indicator) * FROM cur
      WHERE province_set = '2025'
      ORDER BY period, province_code, indicator, CASE source_kind WHEN 'submission' THEN 0 ELSE 1 END)
""")
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


def _replace(con: duckdb.DuckDBPyConnection, table: str, df: pd.DataFrame, where: str = "", params=()) -> int:
    con.execute(f"DELETE FROM {table}" + (f" WHERE {where}" if where else ""), params)
    if df is None or len(df) == 0:
        return 0
    arrow = schema.to_arrow(df, table)
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
    this run's own within-run superseded rows, which it rewrites (so a rerun is a no-op)."""
    cur = current.copy()
    cur["cycle"] = cycle
    cur["valid_from_run"] = run_id
    cur["superseded_by_run"] = None
    con.register("_new_obs", schema.to_arrow(cur, "observation"))
    try:
        withdrawn = con.execute(
            f"""UPDATE observation o SET superseded_by_run = ?
                WHERE o.cycle = ? AND o.superseded_by_run IS NULL
                  AND NOT EXISTS (SELECT 1 FROM _new_obs n WHERE {_match('o', 'n')})""",
            [run_id, cycle],
        ).fetchone()[0]
        # severity follows the latest validation, without making a new vintage
        con.execute(
            f"""UPDATE observation o SET severity = n.severity FROM _new_obs n
                WHERE o.cycle = ? AND o.superseded_by_run IS NULL AND {_match('o', 'n')}
                  AND o.severity IS DISTINCT FROM n.severity""",
            [cycle],
        )
        inserted = con.execute(
            f"""INSERT INTO observation BY NAME
                SELECT n.* FROM _new_obs n
                WHERE NOT EXISTS (SELECT 1 FROM observation o
                                  WHERE o.cycle = n.cycle AND o.superseded_by_run IS NULL AND {_match('o', 'n')})"""
        ).fetchone()[0]
    finally:
        con.unregister("_new_obs")
    sup = superseded.copy()
    con.execute("DELETE FROM observation WHERE cycle = ? AND valid_from_run = ? AND superseded_by_run = ?",
                [cycle, run_id, run_id])
    if len(sup):
        sup["cycle"] = cycle
        sup["valid_from_run"] = run_id
        sup["superseded_by_run"] = run_id
        con.register("_sup_obs", schema.to_arrow(sup, "observation"))
        try:
            con.execute("INSERT INTO observation BY NAME SELECT * FROM _sup_obs")
        finally:
            con.unregister("_sup_obs")
    return {"observation_inserted": int(inserted), "observation_superseded": int(withdrawn),
            "observation_superseded_within_run": len(sup)}


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
    existing = con.execute("SELECT started_at, attempts FROM run WHERE run_id = ?", [row["run_id"]]).fetchone()
    df = pd.DataFrame([row])
    if existing:
        df["started_at"] = pd.Timestamp(existing[0])
        df["attempts"] = int(existing[1] or 0) + 1
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
