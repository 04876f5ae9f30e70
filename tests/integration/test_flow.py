"""The reporting-cycle flow end to end on the bundled sample tree (read in place: raw inputs are
never modified), into a temporary warehouse."""
import hashlib
import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from diaphuong.ingest.discover import tree_hash

ROOT = Path(__file__).resolve().parents[2]
RAW = ROOT / "data" / "raw"


@pytest.fixture(scope="module")
def first_run(sample_warehouse):
    return sample_warehouse


def _counts(wh: Path) -> dict:
    from diaphuong import schema

    con = duckdb.connect(str(wh / "diaphuong.duckdb"), read_only=True)
    try:
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in schema.TABLES}
    finally:
        con.close()


def test_summary_rows_per_cycle(first_run):
    wh, rows, *_ = first_run
    assert [r["cycle"] for r in rows] == ["2018-H1", "2025-H2"]
    by = {r["cycle"]: r for r in rows}
    assert by["2018-H1"]["expected"] == 63
    assert by["2025-H2"]["expected"] == 34
    for r in rows:
        assert 0 < r["on_time"] <= r["received"] < r["expected"]  # the samples have missing and late provinces
        assert r["observations"] > 1000
        assert Path(r["report"]).exists()


def test_warehouse_contract(first_run):
    wh, *_ = first_run
    con = duckdb.connect(str(wh / "diaphuong.duckdb"), read_only=True)
    q = lambda s: con.execute(s).fetchall()  # noqa: E731
    assert q("SELECT count(*) FROM province WHERE province_set='2008' AND valid_from <= DATE '2018-06-30' "
             "AND (valid_to IS NULL OR valid_to >= DATE '2018-06-30')") == [(63,)]
    assert q("SELECT count(*) FROM province WHERE valid_from <= DATE '2025-12-31' "
             "AND (valid_to IS NULL OR valid_to >= DATE '2025-12-31')") == [(34,)]
    assert q("SELECT count(*) FROM province_crosswalk") == [(63,)]
    # every observation of both cycles carries its source file hash and locator
    assert q("SELECT cycle, count(*) FROM observation GROUP BY cycle ORDER BY cycle")[0][0] == "2018-H1"
    assert q("SELECT count(*) FROM observation WHERE source_sha256 IS NULL OR length(source_sha256) <> 64 "
             "OR locator IS NULL") == [(0,)]
    # the hash is the hash of the file the locator points into
    sha, path = q("SELECT source_sha256, source_file FROM observation WHERE source_kind='submission' LIMIT 1")[0]
    assert hashlib.sha256((RAW / path).read_bytes()).hexdigest() == sha
    # both kinds of source are loaded, spans for texts and cells for sheets
    kinds = dict(q("SELECT source_kind, count(*) FROM observation GROUP BY 1"))
    assert kinds["submission"] > 0 and kinds["report"] > 0
    assert q("SELECT count(*) FROM observation WHERE source_kind='report' AND locator NOT LIKE 'chars %'") == [(0,)]
    assert q("SELECT count(*) FROM observation WHERE source_kind='submission' AND locator NOT LIKE '%!%'") == [(0,)]
    # the corrupt sample file is quarantined, the rest of its cycle loads
    assert q("SELECT count(*) FROM submission WHERE outcome='quarantined'")[0][0] >= 1
    assert q("SELECT count(*) FROM quarantine WHERE reason IS NOT NULL")[0][0] >= 1
    # completeness per DHIS2 names, 63 and 34 expected
    got = dict(q("SELECT cycle, sum(expected_reports) FROM completeness GROUP BY 1"))
    assert got == {"2018-H1": 63, "2025-H2": 34}
    con.close()


def test_raw_inputs_are_not_modified(first_run):
    _, _, before, raw = first_run
    assert tree_hash(raw) == before


def test_parquet_and_reports_written(first_run):
    wh, *_ = first_run
    assert (wh / "parquet" / "datapackage.json").exists()
    assert list((wh / "parquet" / "observation").glob("year=*/*.parquet"))
    for c in ("2018-H1", "2025-H2"):
        assert (wh / "reports" / c / "index.html").exists()
        assert (wh / "reports" / c / "followup" / "followup.xlsx").exists()


def test_second_run_changes_no_row_count(first_run):
    from diaphuong.prefect_env import no_heartbeat
    from diaphuong_flows.reporting_cycle import reporting_cycle

    wh, *_ = first_run
    before = _counts(wh)
    with no_heartbeat():
        reporting_cycle(raw_dir=str(first_run[3]), warehouse_dir=str(wh))
    assert _counts(wh) == before


def test_sql_cli_json_is_a_list_of_objects(first_run):
    from typer.testing import CliRunner

    from diaphuong.cli import app

    wh, *_ = first_run
    res = CliRunner().invoke(app, ["sql", "--warehouse", str(wh), "--format", "json",
                                   "SELECT province_set, count(*) AS n FROM province GROUP BY 1 ORDER BY 1"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout) == [{"province_set": "2008", "n": 64}, {"province_set": "2025", "n": 35}]


def test_validation_history_comes_in_one_total_order(sample_warehouse):
    """Where history holds several figures for one key, validation keeps one by position: the rows
    must come in the same order on every run (DuckDB's parallel scan does not keep one)."""
    from diaphuong import pipeline
    from diaphuong.settings import load_settings

    wh = sample_warehouse[0]
    hist = pipeline.history(load_settings(warehouse_dir=wh), "2025-H2")
    assert list(hist.columns) == list(pipeline.HISTORY_COLUMNS)
    assert len(hist) > 1000 and set(hist["cycle"]) == {"2018-H1"}
    key = list(pipeline.HISTORY_ORDER)
    assert not hist.duplicated(key).any()  # the order is total
    canonical = hist.sort_values(key, kind="stable").reset_index(drop=True)
    pd.testing.assert_frame_equal(hist, canonical)
