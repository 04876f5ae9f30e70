import duckdb
import pandas as pd
import pytest

from diaphuong import schema


def test_every_table_of_the_design_is_declared():
    for t in ("province", "province_crosswalk", "indicator", "requirement", "cycle", "submission", "observation",
              "quarantine", "reporting_status", "completeness", "finding", "run"):
        assert t in schema.TABLES


def test_ddl_creates_the_declared_columns_in_duckdb():
    con = duckdb.connect()
    for name, t in schema.TABLES.items():
        con.execute(schema.ddl(name))
        cols = [r[0] for r in con.execute(f"DESCRIBE {name}").fetchall()]
        assert cols == t.columns
        for c in schema.comments(name):
            con.execute(c)


def test_arrow_schema_matches_ddl_types():
    con = duckdb.connect()
    con.execute(schema.ddl("observation"))
    arrow = schema.to_arrow(schema.empty_frame("observation"), "observation")
    assert arrow.schema.names == schema.TABLES["observation"].columns
    con.register("x", arrow)
    con.execute("INSERT INTO observation SELECT * FROM x")


def test_conform_orders_columns_and_rejects_undeclared_ones():
    df = pd.DataFrame({"value": [1.5], "cycle": ["2018-H1"]})
    out = schema.conform(df, "observation")
    assert list(out.columns) == schema.TABLES["observation"].columns
    assert out.loc[0, "value"] == 1.5
    with pytest.raises(KeyError, match="undeclared"):
        schema.conform(pd.DataFrame({"valeu": [1]}), "observation")
