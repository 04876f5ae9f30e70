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


def run_query(settings: Settings, query: str) -> tuple[pd.DataFrame, str | None]:
    note = None
    try:
        from diaphuong.warehouse import connect

        con = connect(settings, read_only=True)
    except WarehouseLocked:
        con = _parquet_connection(settings)
        note = "note: a run is writing the warehouse; answering from the last Parquet export"
    try:
        return con.execute(query).df(), note
    except duckdb.Error as e:
        first = str(e).splitlines()[0]
        if "read-only" in first.lower() or "read only" in first.lower():
            raise QueryError(first, hint="`diaphuong sql` is read-only; the flow is the only writer") from None
        raise QueryError(first, hint="see the tables with: diaphuong sql \"SHOW TABLES\"") from None
    finally:
        con.close()
