"""Read-only queries for analysts. When a run is writing the DuckDB file (DuckDB lets no other
process open it then), the query runs on the last Parquet export instead, and says so."""
from __future__ import annotations

import duckdb
import pandas as pd

from diaphuong import schema
from diaphuong.errors import DiaphuongError, WarehouseError, WarehouseLocked
from diaphuong.settings import Settings


class QueryError(DiaphuongError):
    """The SQL itself failed."""


def _parquet_connection(settings: Settings) -> duckdb.DuckDBPyConnection:
    from diaphuong.warehouse import PARTITIONED, create_views

    root = settings.parquet_dir
    if not (root / "observation").exists():
        raise WarehouseLocked("the warehouse is being written and there is no Parquet export to read yet")
    con = duckdb.connect()
    for name in schema.TABLES:
        if name in PARTITIONED:
            src = f"read_parquet('{(root / name).as_posix()}/*/*.parquet', hive_partitioning = true)"
            con.execute(f"CREATE VIEW {name} AS SELECT * EXCLUDE (year) FROM {src}")
        else:
            con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{(root / name / (name + '.parquet')).as_posix()}')")
    create_views(con)
    return con


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
    iso = pd.Timestamp(ts).isoformat()  # produced by pandas: safe to inline
    con.execute(f"CREATE OR REPLACE TEMP VIEW observation_current AS SELECT * FROM observation_as_of('{iso}') "
                "WHERE coalesce(severity, '') <> 'critical'")
    return f"note: observation_current as of {pd.Timestamp(ts).isoformat()}"


def run_query(settings: Settings, query: str, *, as_of: str | None = None,
              as_of_run: str | None = None) -> tuple[pd.DataFrame, str | None]:
    note = None
    try:
        from diaphuong.warehouse import connect

        con = connect(settings, read_only=True)
    except WarehouseLocked:
        con = _parquet_connection(settings)
        note = "note: a run is writing the warehouse; answering from the last Parquet export"
    try:
        if as_of or as_of_run:
            note = "; ".join(x for x in (note, _as_of(con, as_of, as_of_run)) if x)
        return con.execute(query).df(), note
    except duckdb.Error as e:
        first = str(e).splitlines()[0]
        if "read-only" in first.lower() or "read only" in first.lower():
            raise QueryError(first, hint="`diaphuong sql` is read-only; the flow is the only writer") from None
        raise QueryError(first, hint="see the tables with: diaphuong sql \"SHOW TABLES\"") from None
    finally:
        con.close()
