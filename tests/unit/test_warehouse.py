"""Loads: one transaction, vintages, idempotence, Parquet export and the data package."""
import json

import pandas as pd
import pytest

from diaphuong import schema, warehouse
from diaphuong.errors import WarehouseLocked
from diaphuong.settings import load_settings


def _obs(value, sha="a" * 64, indicator="budget_revenue", locator="Bieu_01!E12"):
    return pd.DataFrame([{
        "period": "2018-H1", "province_code": "01", "province_set": "2008", "indicator": indicator,
        "measure": "value", "value": value, "unit": "bn_vnd", "status": "E", "source_kind": "submission",
        "source_file": "2018-H1/submissions/01_ha_noi.xlsx", "source_sha256": sha, "locator": locator,
    }])


def _batch(run_id, obs, superseded=None):
    return warehouse.CycleBatch("2018-H1", run_id, {}, obs,
                                superseded if superseded is not None else schema.empty_frame("observation"),
                                {"run_id": run_id, "cycle": "2018-H1", "outcome": "completed"})


@pytest.fixture
def settings(tmp_path):
    return load_settings(warehouse_dir=tmp_path / "wh", raw_dir=tmp_path / "raw")


def _rows(con):
    return con.execute("SELECT value, valid_from_run, superseded_by_run FROM observation ORDER BY valid_from_run, value").fetchall()


def test_vintages_keep_the_old_figure_and_rerun_changes_nothing(settings):
    con = warehouse.connect(settings)
    warehouse.load_cycle(con, _batch("r1", _obs(100.0)))
    assert _rows(con) == [(100.0, "r1", None)]
    warehouse.load_cycle(con, _batch("r1", _obs(100.0)))  # same inputs again
    assert _rows(con) == [(100.0, "r1", None)]
    assert con.execute("SELECT attempts FROM run WHERE run_id='r1'").fetchone()[0] == 2
    warehouse.load_cycle(con, _batch("r2", _obs(120.0, sha="b" * 64)))  # corrected file
    assert _rows(con) == [(100.0, "r1", "r2"), (120.0, "r2", None)]
    cur = con.execute("SELECT value FROM observation_current").fetchall()
    assert cur == [(120.0,)]


def test_within_run_resubmission_is_kept_superseded(settings):
    con = warehouse.connect(settings)
    warehouse.load_cycle(con, _batch("r1", _obs(120.0, sha="b" * 64), superseded=_obs(100.0)))
    warehouse.load_cycle(con, _batch("r1", _obs(120.0, sha="b" * 64), superseded=_obs(100.0)))
    assert _rows(con) == [(100.0, "r1", "r1"), (120.0, "r1", None)]


def test_failed_load_leaves_the_warehouse_as_it_was(settings):
    con = warehouse.connect(settings)
    warehouse.load_cycle(con, _batch("r1", _obs(100.0)))
    before = warehouse.table_counts(con)
    bad = _obs(130.0, sha="c" * 64)
    bad["measure"] = None  # NOT NULL column: the insert fails half-way through the load
    with pytest.raises(Exception):
        warehouse.load_cycle(con, _batch("r3", bad))
    assert warehouse.table_counts(con) == before
    assert _rows(con) == [(100.0, "r1", None)]


def test_critical_figures_stay_out_of_observation_current(settings):
    con = warehouse.connect(settings)
    obs = pd.concat([_obs(100.0), _obs(5.0, indicator="grdp_growth", locator="Bieu_01!E5")], ignore_index=True)
    obs.loc[1, "severity"] = "critical"
    warehouse.load_cycle(con, _batch("r1", obs))
    assert con.execute("SELECT count(*) FROM observation").fetchone()[0] == 2
    assert con.execute("SELECT indicator FROM observation_current").fetchall() == [("budget_revenue",)]


def test_parquet_export_and_datapackage(settings):
    con = warehouse.connect(settings)
    warehouse.load_cycle(con, _batch("r1", _obs(100.0)))
    out = warehouse.export_parquet(con, settings)
    got = con.execute(f"SELECT value FROM read_parquet('{out}/observation/*/*.parquet')").fetchall()
    assert got == [(100.0,)]
    pkg = json.loads((out / "datapackage.json").read_text(encoding="utf-8"))
    names = {r["name"] for r in pkg["resources"]}
    assert set(schema.TABLES) == names
    obs = next(r for r in pkg["resources"] if r["name"] == "observation")
    assert [f["name"] for f in obs["schema"]["fields"]][:3] == ["cycle", "period", "province_code"]


def test_second_writer_is_refused_with_a_clear_message(settings):
    with warehouse.write_lock(settings):
        with pytest.raises(WarehouseLocked) as e:
            with warehouse.write_lock(settings, wait_seconds=0):
                pass
    assert "another run" in str(e.value)
    assert "DIAPHUONG_LOCK_WAIT" in e.value.hint
