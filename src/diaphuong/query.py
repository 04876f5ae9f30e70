"""Read-only queries for analysts. When a run is writing the DuckDB file (DuckDB lets no other
process open it then), the query runs on the last Parquet export instead, and says so."""
from __future__ import annotations

import duckdb
import pandas as pd

from diaphuong import schema
from diaphuong.errors import DiaphuongError, WarehouseLocked
from diaphuong.settings import Settings


class QueryError(DiaphuongError):
    """The SQL itself failed."""


def _parquet_connection(settings: Settings) -> tuple[duckdb.DuckDBPyConnection, str]:
    """An in-memory DuckDB over the last Parquet export (every table a view, the warehouse's views
    and macros on top), and when that export was written."""
    from diaphuong.warehouse import PARTITIONED, create_views

    root = settings.parquet_dir
    package = root / "datapackage.json"
    if not package.exists() or not (root / "observation").exists():
        raise WarehouseLocked("a run is writing the warehouse and there is no Parquet export to read yet",
                              hint="try again when the run has finished (the flow exports after each cycle)")
    con = duckdb.connect()
    for name in schema.TABLES:
        if name in PARTITIONED:
            files = sorted((root / name).glob("*/*.parquet"))
            src = f"read_parquet('{(root / name).as_posix()}/*/*.parquet', hive_partitioning = true)"
            select = f"SELECT * EXCLUDE (year) FROM {src}"
        else:
            files = [root / name / (name + ".parquet")]
            select = f"SELECT * FROM read_parquet('{files[0].as_posix()}')"
        if files and all(f.exists() for f in files):
            con.execute(f"CREATE VIEW {name} AS {select}")
        else:  # an empty table exports no partition; a table newer than the export has no file
            con.execute(schema.ddl(name))
    create_views(con)
    written = pd.Timestamp(package.stat().st_mtime, unit="s", tz="UTC").tz_convert("Asia/Ho_Chi_Minh")
    return con, written.strftime("%Y-%m-%d %H:%M:%S%z")


def _as_of(con, as_of: str | None, as_of_run: str | None) -> str | None:
    """Shadow ``observation_current`` with the vintages current at a time or after a run."""
    if as_of_run:
        row = con.execute("SELECT started_at FROM run WHERE run_id = ?", [as_of_run]).fetchone()
        if row is None:
            raise QueryError(f"no run {as_of_run!r} in the warehouse",
                             hint="list runs with: diaphuong sql \"SELECT run_id, cycle, started_at FROM run\"")
        ts = row[0]
    else:
        try:
            ts = pd.Timestamp(as_of)
        except ValueError:
            raise QueryError(f"--as-of {as_of!r} is not a date or time", hint="use ISO 8601, e.g. 2026-11-01 or 2026-11-01T08:00+07:00") from None
        if ts.tzinfo is None:
            ts = ts.tz_localize("Asia/Ho_Chi_Minh")
        if len(str(as_of)) <= 10:  # a date means the end of that day
            ts = ts + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)
    ts = pd.Timestamp(ts)
    if ts.tzinfo is None:
        ts = ts.tz_localize("UTC")
    iso = ts.isoformat()  # produced by pandas: safe to inline
    con.execute(f"CREATE OR REPLACE TEMP VIEW observation_current AS SELECT * FROM observation_as_of('{iso}') "
                "WHERE coalesce(severity, '') <> 'critical'")
    return f"observation_current as of {ts.tz_convert('Asia/Ho_Chi_Minh').isoformat()}"


def run_query(settings: Settings, query: str, *, as_of: str | None = None,
              as_of_run: str | None = None) -> tuple[pd.DataFrame, str | None]:
    note = None
    try:
        from diaphuong.warehouse import connect

        con = connect(settings, read_only=True)
    except WarehouseLocked:
        try:
            con, written = _parquet_connection(settings)
        except duckdb.Error:  # the export being swapped in right now: once more
            con, written = _parquet_connection(settings)
        note = f"note: a run is writing the warehouse; answering from the last Parquet export ({written})"
    try:
        if as_of or as_of_run:
            as_of_note = _as_of(con, as_of, as_of_run)
            note = f"{note}; {as_of_note}" if note else f"note: {as_of_note}"
        return con.execute(query).df(), note
    except duckdb.Error as e:
        first = str(e).splitlines()[0]
        if "read-only" in first.lower() or "read only" in first.lower():
            raise QueryError(first, hint="`diaphuong sql` is read-only; the flow is the only writer") from None
        raise QueryError(first, hint="see the tables with: diaphuong sql \"SHOW TABLES\"") from None
    finally:
        con.close()
