"""Vintages across runs, revisions (resubmission; a text estimate superseded by an official figure)
and as-of queries (a run, a date), on small inline loads."""
import numpy as np
import pandas as pd
import pytest

from diaphuong import schema, warehouse
from diaphuong.query import QueryError, run_query
from diaphuong.settings import load_settings

CYCLE = "2018-H1"
SUB_A, SUB_B = "a" * 64, "b" * 64     # Hà Nội's spreadsheet, then its resubmission
TXT_C, TXT_D = "c" * 64, "d" * 64     # Hà Nội's report text, then its revised text


def _obs(value, *, sha=SUB_A, indicator="budget_revenue", status="E", kind="submission", locator=None,
         province="01", measure="value", unit=None):
    locator = locator or ("Bieu_01!E12" if kind == "submission" else "chars 120-188")
    return {"period": CYCLE, "province_code": province, "province_set": "2008", "indicator": indicator,
            "measure": measure, "value": value,
            "unit": unit or ("pct" if indicator == "grdp_growth" or measure != "value" else "bn_vnd"),
            "status": status, "source_kind": kind,
            "source_file": f"{CYCLE}/{'submissions' if kind == 'submission' else 'reports'}/{province}_{sha[:4]}",
            "source_sha256": sha, "locator": locator}


def _load(con, run_id, started, rows, superseded=(), timings=None):
    obs = pd.DataFrame(rows) if rows else schema.empty_frame("observation")
    sup = pd.DataFrame(list(superseded)) if superseded else schema.empty_frame("observation")
    run_row = {"run_id": run_id, "cycle": CYCLE, "started_at": pd.Timestamp(started),
               "finished_at": pd.Timestamp(started) + pd.Timedelta(minutes=2), "outcome": "completed",
               "timings": None if timings is None else str(timings).replace("'", '"')}
    return warehouse.load_cycle(con, warehouse.CycleBatch(CYCLE, run_id, {}, obs, sup, run_row))


@pytest.fixture
def settings(tmp_path):
    return load_settings(warehouse_dir=tmp_path / "wh", raw_dir=tmp_path / "raw")


@pytest.fixture
def history(settings):
    """Three runs of one cycle:
    r1 (10 Jan): spreadsheet E 1000; text E 5000 (budget_revenue_domestic), text-only growth E 7.0
    r2 (20 Jan): resubmitted spreadsheet A 1100; revised text A 5150; text-only growth unchanged
    r3 (30 Jan): the spreadsheet now also carries grdp_growth A 7.2 (the text still says 7.0)"""
    con = warehouse.connect(settings)
    txt1 = [_obs(5000.0, sha=TXT_C, kind="report", indicator="budget_revenue_domestic"),
            _obs(7.0, sha=TXT_C, kind="report", indicator="grdp_growth", locator="chars 300-352")]
    txt2 = [_obs(5150.0, sha=TXT_D, kind="report", indicator="budget_revenue_domestic", status="A",
                 locator="chars 118-190"),
            _obs(7.0, sha=TXT_D, kind="report", indicator="grdp_growth", locator="chars 300-352")]
    _load(con, "r1", "2018-01-10T08:00:00+07:00", [_obs(1000.0)] + txt1, timings={"load": 1.5})
    _load(con, "r2", "2018-01-20T08:00:00+07:00", [_obs(1100.0, sha=SUB_B, status="A")] + txt2)
    _load(con, "r3", "2018-01-30T08:00:00+07:00",
          [_obs(1100.0, sha=SUB_B, status="A"),
           _obs(7.2, sha=SUB_B, indicator="grdp_growth", status="A", locator="Bieu_01!E5")] + txt2)
    con.close()
    return settings


def _q(con, sql, params=()):
    return con.execute(sql, list(params)).fetchall()


def test_every_vintage_is_kept_with_the_runs_that_brought_and_superseded_it(history):
    con = warehouse.connect(history, read_only=True)
    rows = _q(con, "SELECT indicator, source_kind, value, status, valid_from_run, superseded_by_run FROM observation "
                   "ORDER BY indicator, source_kind, valid_from_run")
    assert rows == [
        ("budget_revenue", "submission", 1000.0, "E", "r1", "r2"),
        ("budget_revenue", "submission", 1100.0, "A", "r2", None),
        ("budget_revenue_domestic", "report", 5000.0, "E", "r1", "r2"),
        ("budget_revenue_domestic", "report", 5150.0, "A", "r2", None),
        ("grdp_growth", "report", 7.0, "E", "r1", "r2"),      # same words, but a new file: new vintage
        ("grdp_growth", "report", 7.0, "E", "r2", None),
        ("grdp_growth", "submission", 7.2, "A", "r3", None),
    ]
    cur = _q(con, "SELECT indicator, source_kind, value FROM observation_current ORDER BY ALL")
    assert cur == [("budget_revenue", "submission", 1100.0), ("budget_revenue_domestic", "report", 5150.0),
                   ("grdp_growth", "report", 7.0), ("grdp_growth", "submission", 7.2)]
    # the panel takes the province's spreadsheet before the text
    assert _q(con, "SELECT budget_revenue, budget_revenue_domestic, grdp_growth FROM panel") == [(1100.0, 5150.0, 7.2)]


def test_revision_view_sizes_the_resubmission_and_the_revised_text(history):
    con = warehouse.connect(history, read_only=True)
    rows = _q(con, "SELECT indicator, source_kind, old_value, old_status, old_run, new_value, new_status, new_run, "
                   "revision, revision_pct FROM revision ORDER BY indicator")
    assert rows == [
        ("budget_revenue", "submission", 1000.0, "E", "r1", 1100.0, "A", "r2", 100.0, 10.0),
        # the text estimate superseded by the official figure of the revised text: E -> A, +150 (+3%)
        ("budget_revenue_domestic", "report", 5000.0, "E", "r1", 5150.0, "A", "r2", 150.0, 3.0),
    ]  # the unchanged text figure (7.0 in both texts) is a new vintage but no revision


def test_estimate_revision_pairs_each_estimate_with_the_official_figure(history):
    con = warehouse.connect(history, read_only=True)
    rows = _q(con, """SELECT indicator, estimate_source_kind, estimate_value, estimate_run, official_source_kind,
                             official_value, official_run, round(revision, 6), revision_pct
                      FROM estimate_revision ORDER BY indicator, estimate_run""")
    assert rows == [
        ("budget_revenue", "submission", 1000.0, "r1", "submission", 1100.0, "r2", 100.0, 10.0),
        ("budget_revenue_domestic", "report", 5000.0, "r1", "report", 5150.0, "r2", 150.0, 3.0),
        # a text-only estimate, then the official figure in the province's spreadsheet
        ("grdp_growth", "report", 7.0, "r1", "submission", 7.2, "r3", 0.2, 2.8571),
        ("grdp_growth", "report", 7.0, "r2", "submission", 7.2, "r3", 0.2, 2.8571),
    ]


def test_as_of_a_run(history):
    con = warehouse.connect(history, read_only=True)
    q = "SELECT indicator, source_kind, value, status FROM observation_as_of_run(?) ORDER BY ALL"
    assert _q(con, q, ["r1"]) == [("budget_revenue", "submission", 1000.0, "E"),
                                  ("budget_revenue_domestic", "report", 5000.0, "E"),
                                  ("grdp_growth", "report", 7.0, "E")]
    assert _q(con, q, ["r2"]) == [("budget_revenue", "submission", 1100.0, "A"),
                                  ("budget_revenue_domestic", "report", 5150.0, "A"),
                                  ("grdp_growth", "report", 7.0, "E")]
    assert len(_q(con, q, ["r3"])) == 4


def test_as_of_a_date_through_run_query(history):
    sql = "SELECT indicator, value FROM observation_current WHERE source_kind = 'submission' ORDER BY ALL"
    df, note = run_query(history, sql, as_of="2018-01-15")
    assert df.values.tolist() == [["budget_revenue", 1000.0]]
    assert note.startswith("note: observation_current as of 2018-01-15T23:59:59")
    df, _ = run_query(history, sql, as_of="2018-01-20T07:59:00+07:00")  # a minute before r2 started
    assert df.values.tolist() == [["budget_revenue", 1000.0]]
    df, _ = run_query(history, sql, as_of="2018-01-20T08:00:00+07:00")
    assert df.values.tolist() == [["budget_revenue", 1100.0]]
    df, _ = run_query(history, sql, as_of="2018-01-05")  # before the first run: nothing yet
    assert df.empty
    df, _ = run_query(history, sql, as_of_run="r2")
    assert df.values.tolist() == [["budget_revenue", 1100.0]]
    # the views built on observation_current follow the as-of too
    df, _ = run_query(history, "SELECT budget_revenue, grdp_growth FROM panel", as_of_run="r1")
    assert df.values.tolist() == [[1000.0, 7.0]]


def test_as_of_errors_are_one_line(history):
    with pytest.raises(QueryError) as e:
        run_query(history, "SELECT 1", as_of_run="r9")
    assert "no run 'r9'" in str(e.value)
    with pytest.raises(QueryError) as e:
        run_query(history, "SELECT 1", as_of="last tuesday")
    assert "is not a date" in str(e.value)


def test_rerun_of_the_same_inputs_changes_nothing_but_the_attempt(history):
    con = warehouse.connect(history)
    before = warehouse.table_checksums(con)
    # the latest inputs (r3's) loaded again: the same run id, since the id is the hash of the inputs
    txt2 = [_obs(5150.0, sha=TXT_D, kind="report", indicator="budget_revenue_domestic", status="A",
                 locator="chars 118-190"),
            _obs(7.0, sha=TXT_D, kind="report", indicator="grdp_growth", locator="chars 300-352")]
    counts = _load(con, "r3", "2018-02-05T08:00:00+07:00",
                   [_obs(1100.0, sha=SUB_B, status="A"),
                    _obs(7.2, sha=SUB_B, indicator="grdp_growth", status="A", locator="Bieu_01!E5")] + txt2,
                   timings=None)
    assert counts["observation_inserted"] == 0 and counts["observation_superseded"] == 0
    assert warehouse.table_checksums(con) == before
    started, attempts = _q(con, "SELECT started_at, attempts FROM run WHERE run_id = 'r3'")[0]
    assert attempts == 2 and pd.Timestamp(started) == pd.Timestamp("2018-01-30T08:00:00+07:00")


def test_run_row_keeps_the_first_attempts_timings(settings):
    con = warehouse.connect(settings)
    _load(con, "r1", "2018-01-10T08:00:00+07:00", [_obs(1.0)], timings={"load": 1.5})
    _load(con, "r1", "2018-01-11T08:00:00+07:00", [_obs(1.0)], timings={"load": 7.0})
    timings, attempts, started = _q(con, "SELECT timings, attempts, started_at FROM run")[0]
    assert (timings, attempts) == ('{"load": 1.5}', 2)
    assert pd.Timestamp(started) == pd.Timestamp("2018-01-10T08:00:00+07:00")


def test_severity_follows_the_latest_validation_without_a_new_vintage(settings):
    con = warehouse.connect(settings)
    row = _obs(1.0)
    _load(con, "r1", "2018-01-10T08:00:00+07:00", [row])
    _load(con, "r2", "2018-01-11T08:00:00+07:00", [row | {"severity": "critical"}])
    assert _q(con, "SELECT valid_from_run, superseded_by_run, severity FROM observation") == [("r1", None, "critical")]
    assert _q(con, "SELECT count(*) FROM observation_current") == [(0,)]


def test_duplicated_and_vanished_figures(settings):
    """A figure the new run no longer finds is superseded (never deleted); identical figures are
    matched as a whole, null columns included."""
    con = warehouse.connect(settings)
    a, b = _obs(1.0), _obs(2.0, indicator="budget_expenditure", locator="Bieu_01!E20")
    b["qualifier"] = None
    _load(con, "r1", "2018-01-10T08:00:00+07:00", [a, b])
    counts = _load(con, "r2", "2018-01-11T08:00:00+07:00", [b])
    assert counts == counts | {"observation_inserted": 0, "observation_superseded": 1}
    assert _q(con, "SELECT indicator, superseded_by_run FROM observation ORDER BY 1") == [
        ("budget_expenditure", None), ("budget_revenue", "r2")]


def test_fast_arrow_conversion_equals_the_schema_conversion():
    df = pd.DataFrame([_obs(1.5), _obs(None, status="M")])
    df["cycle"], df["valid_from_run"] = CYCLE, "r1"
    df["original_value"] = pd.Series(["1,5", None], dtype=object)
    df["flag"] = [np.nan, pd.NA]
    df["qualifier"] = pd.Series([None, "hơn"], dtype="string")
    assert warehouse.to_arrow(df, "observation").equals(schema.to_arrow(df, "observation"))
    # values the fast path cannot take go through schema.conform: numbers in a text column
    df["original_value"] = pd.Series([1.5, "2"], dtype=object)
    assert warehouse.to_arrow(df, "observation").equals(schema.to_arrow(df, "observation"))
    with pytest.raises(KeyError):
        warehouse.to_arrow(df.assign(typo=1), "observation")
