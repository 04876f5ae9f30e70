"""Severity decides what happens, end to end through the flow: a critical figure stays in the
warehouse, marked, out of observation_current, and its reporting status is invalid; a warning
loads flagged; `diaphuong run --fail-on critical` makes the exit code follow the findings."""
from datetime import date

import duckdb
import pytest
from typer.testing import CliRunner

from diaphuong.template import write_template

CYCLE = "2025-Q3"


@pytest.fixture(scope="module")
def tiny_tree(tmp_path_factory):
    raw = tmp_path_factory.mktemp("raw")
    sub = raw / CYCLE / "submissions"
    sub.mkdir(parents=True)
    # Hà Nội: an impossible budget revenue (far above any province's plausible maximum): critical
    write_template(sub / "01_ha_noi.xlsx", CYCLE, "01", prepared_on=date(2025, 9, 15), values={
        "budget_revenue": {"value": 9_000_000_000, "yoy_index": 108.0, "status": "Ước tính"},
        "grdp_growth": {"value": 7.2, "status": "Ước tính"},
    })
    write_template(sub / "48_da_nang.xlsx", CYCLE, "48", prepared_on=date(2025, 9, 15), values={
        "budget_revenue": {"value": 25_000, "yoy_index": 110.0, "status": "Ước tính"},
        "grdp_growth": {"value": 8.1, "status": "Ước tính"},
    })
    (raw / CYCLE / "inbox.csv").write_text(
        "file,received_at,sender,note\n"
        "submissions/01_ha_noi.xlsx,2025-09-16T09:00:00+07:00,UBND TP Hà Nội,\n"
        "submissions/48_da_nang.xlsx,2025-09-17T09:00:00+07:00,UBND TP Đà Nẵng,\n", encoding="utf-8")
    return raw


@pytest.fixture(scope="module")
def loaded(prefect_harness, tiny_tree, tmp_path_factory):
    from diaphuong.prefect_env import no_heartbeat
    from diaphuong_flows.reporting_cycle import reporting_cycle

    wh = tmp_path_factory.mktemp("wh")
    with no_heartbeat():
        rows = reporting_cycle(raw_dir=str(tiny_tree), warehouse_dir=str(wh))
    return wh, rows


@pytest.fixture
def con(loaded):
    c = duckdb.connect(str(loaded[0] / "diaphuong.duckdb"), read_only=True)
    yield c
    c.close()


def test_critical_figure_is_kept_marked_and_held_back(loaded, con):
    _, rows = loaded
    assert rows[0]["critical"] >= 1
    kept = con.execute("SELECT value, severity FROM observation WHERE province_code='01' "
                       "AND indicator='budget_revenue' AND measure='value'").fetchall()
    assert kept == [(9_000_000_000.0, "critical")]
    current = con.execute("SELECT count(*) FROM observation_current WHERE province_code='01' "
                          "AND indicator='budget_revenue' AND measure='value'").fetchone()[0]
    assert current == 0
    status = con.execute("SELECT status FROM reporting_status WHERE province_code='01' "
                         "AND indicator='budget_revenue' AND measure='value'").fetchone()[0]
    assert status == "invalid"
    f = con.execute("SELECT rule, value, source_file, locator FROM finding WHERE severity='critical' "
                    "AND province_code='01' AND indicator='budget_revenue'").fetchall()
    assert f and f[0][0] == "range.value.max" and f[0][2].endswith("01_ha_noi.xlsx") and "!" in f[0][3]


def test_sound_figures_of_the_same_file_still_load(con):
    assert con.execute("SELECT value FROM observation_current WHERE province_code='01' "
                       "AND indicator='grdp_growth'").fetchall() == [(7.2,)]
    assert con.execute("SELECT value FROM observation_current WHERE province_code='48' "
                       "AND indicator='budget_revenue' AND measure='value'").fetchall() == [(25000.0,)]


def test_fail_on_critical_sets_the_exit_code(loaded, tiny_tree):
    from diaphuong.cli import app

    wh, _ = loaded
    runner = CliRunner()
    res = runner.invoke(app, ["run", "--raw", str(tiny_tree), "--warehouse", str(wh), "--fail-on", "critical"])
    assert res.exit_code == 3, res.output
    ok = runner.invoke(app, ["run", "--raw", str(tiny_tree), "--warehouse", str(wh)])
    assert ok.exit_code == 0, ok.output
