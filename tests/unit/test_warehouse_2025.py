"""observation_2025: history re-expressed on the 34 units, hand-computed for the new Hồ Chí Minh
City (79) = old Bình Dương (74) + Bà Rịa - Vũng Tàu (77) + Hồ Chí Minh City (79)."""
import pandas as pd
import pytest

from diaphuong import schema, warehouse
from diaphuong.settings import load_settings

UNITS = {"value": None, "yoy_pct": "pct", "pct_of_plan": "pct"}
LEVEL_UNIT = {"budget_revenue": "bn_vnd", "grdp_constant_prices": "bn_vnd", "grdp_current_prices": "bn_vnd",
              "retail_sales": "bn_vnd"}


def _rows(period, province_set, table):
    """table: (indicator, measure) -> {province: value or (value, status)}"""
    out = []
    for (ind, measure), by in table.items():
        for prov, v in by.items():
            value, status = v if isinstance(v, tuple) else (v, "A")
            out.append({"period": period, "province_code": prov, "province_set": province_set, "indicator": ind,
                        "measure": measure, "value": value, "unit": UNITS[measure] or LEVEL_UNIT.get(ind, "pct"),
                        "status": status, "source_kind": "submission", "source_file": f"{period}/{prov}.xlsx",
                        "source_sha256": (prov * 32)[:64], "locator": f"Bieu_01!{measure[:1].upper()}{len(out) + 5}"})
    return pd.DataFrame(out)


def _load(con, cycle, df):
    run = f"run-{cycle}"
    warehouse.load_cycle(con, warehouse.CycleBatch(cycle, run, {}, df, schema.empty_frame("observation"),
                                                   {"run_id": run, "cycle": cycle, "outcome": "completed",
                                                    "started_at": pd.Timestamp(f"{cycle[:4]}-12-01T00:00Z")}))


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    settings = load_settings(warehouse_dir=tmp_path_factory.mktemp("wh2025"), raw_dir=tmp_path_factory.mktemp("raw"))
    con = warehouse.connect(settings)
    _load(con, "2017-H1", _rows("2017-H1", "2008", {
        ("budget_revenue", "value"): {"74": 27000.0, "77": 26000.0, "79": 185000.0},
    }))
    _load(con, "2018-H1", _rows("2018-H1", "2008", {
        ("budget_revenue", "value"): {"74": (30000.0, "E"), "77": 25000.0, "79": 200000.0},
        ("budget_revenue", "yoy_pct"): {"74": 10.0, "77": -5.0, "79": 8.0},
        ("budget_revenue", "pct_of_plan"): {"74": 50.0, "77": 40.0, "79": 50.0},
        ("grdp_growth", "value"): {"74": 8.0, "77": 2.0, "79": 7.5},
        ("grdp_constant_prices", "value"): {"74": 54000.0, "77": 102000.0, "79": 376250.0},
        ("grdp_current_prices", "value"): {"74": 100000.0, "77": 200000.0, "79": 700000.0},
        ("grdp_share_services", "value"): {"74": 30.0, "77": 20.0, "79": 60.0},
        ("cpi_yoy", "value"): {"74": 3.1, "77": 2.9, "79": 3.4, "01": 3.5},
    }))
    _load(con, "2019-H1", _rows("2019-H1", "2008", {
        ("budget_revenue", "value"): {"74": 31000.0, "79": 210000.0},            # 77 did not report
        ("grdp_growth", "value"): {"74": 7.0, "77": 3.0, "79": 8.0},
        ("retail_sales", "yoy_pct"): {"74": 12.0, "77": 9.0, "79": 11.0},
        ("retail_sales", "value"): {"74": 50000.0, "79": 400000.0},             # no level for 77, none a year before
    }))
    _load(con, "2025-H2", _rows("2025-H2", "2025", {
        ("budget_revenue", "value"): {"79": 300000.0},
    }))
    yield con
    con.close()


def _get(con, period, indicator, measure="value", code="79"):
    df = con.execute("SELECT * FROM observation_2025 WHERE period = ? AND province_code = ? AND indicator = ? "
                     "AND measure = ?", [period, code, indicator, measure]).df()
    assert len(df) == 1, df
    return df.iloc[0]


def test_additive_level_is_the_sum_of_the_three_members(con):
    r = _get(con, "2018-H1", "budget_revenue")
    assert r["value"] == 30000 + 25000 + 200000
    assert (r["units_summed"], r["units_in_merger"], r["method"], r["unit"]) == (3, 3, "crosswalk_sum", "bn_vnd")
    assert pd.isna(r["break_flag"])
    assert r["status"] == "E"  # one member's figure is an estimate: so is the sum
    assert _get(con, "2018-H1", "grdp_constant_prices")["value"] == 54000 + 102000 + 376250


def test_sum_is_a_break_when_a_member_did_not_report(con):
    r = _get(con, "2019-H1", "budget_revenue")
    assert pd.isna(r["value"])
    assert (r["break_flag"], r["units_summed"], r["units_in_merger"]) == ("break_incomplete", 2, 3)


def test_growth_recomputed_from_last_years_levels(con):
    # budget revenue yoy: weights = each member's budget revenue of 2017-H1
    r = _get(con, "2018-H1", "budget_revenue", "yoy_pct")
    expected = (27000 * 1.10 + 26000 * 0.95 + 185000 * 1.08) / (27000 + 26000 + 185000) - 1   # 254200 / 238000 - 1
    assert r["value"] == pytest.approx(100 * expected, abs=1e-4)
    assert r["value"] == pytest.approx(6.8067, abs=1e-4)
    assert r["value"] != pytest.approx((10 - 5 + 8) / 3, abs=0.1)  # not the plain mean (4.33)
    assert r["method"] == "growth_from_levels_last_year" and pd.isna(r["break_flag"])
    # GRDP growth 2019-H1: weights = GRDP at constant prices of 2018-H1 (in the warehouse)
    r = _get(con, "2019-H1", "grdp_growth")
    expected = (54000 * 1.07 + 102000 * 1.03 + 376250 * 1.08) / (54000 + 102000 + 376250) - 1   # 569190 / 532250 - 1
    assert r["value"] == pytest.approx(100 * expected, abs=1e-4)
    assert r["value"] == pytest.approx(6.9403, abs=1e-4)
    assert r["method"] == "growth_from_levels_last_year"


def test_growth_recomputed_from_this_periods_levels_when_last_year_is_missing(con):
    # no 2017-H1 GRDP in the warehouse: L(t-1) = L(t) / (1 + g): 54000/1.08 = 50000,
    # 102000/1.02 = 100000, 376250/1.075 = 350000; g = 532250 / 500000 - 1 = 6.45 %
    r = _get(con, "2018-H1", "grdp_growth")
    assert r["value"] == pytest.approx(6.45, abs=1e-9)
    assert r["method"] == "growth_from_levels_this_period"
    assert (r["units_summed"], r["unit"]) == (3, "pct")


def test_growth_without_levels_is_a_break_not_an_average(con):
    r = _get(con, "2019-H1", "retail_sales", "yoy_pct")
    assert pd.isna(r["value"])
    assert r["break_flag"] == "break_no_levels"
    assert r["units_summed"] == 3  # every member reported its rate; what is missing is a level


def test_shares_and_pct_of_plan_are_weighted_by_their_levels(con):
    r = _get(con, "2018-H1", "grdp_share_services")
    assert r["value"] == pytest.approx((30 * 100000 + 20 * 200000 + 60 * 700000) / 1_000_000)  # 49.0
    assert r["method"] == "share_from_levels"
    # plans: 30000/0.5 = 60000, 25000/0.4 = 62500, 200000/0.5 = 400000
    r = _get(con, "2018-H1", "budget_revenue", "pct_of_plan")
    assert r["value"] == pytest.approx(100 * 255000 / 522500, abs=1e-4)
    assert r["method"] == "pct_of_plan_from_plans"


def test_indices_are_breaks_for_merged_units_and_kept_for_unchanged_ones(con):
    r = _get(con, "2018-H1", "cpi_yoy")
    assert pd.isna(r["value"]) and r["break_flag"] == "break_not_additive"
    hn = _get(con, "2018-H1", "cpi_yoy", code="01")  # Hà Nội: the same territory before and after
    assert hn["value"] == 3.5 and hn["method"] == "same_unit" and pd.isna(hn["break_flag"])


def test_figures_of_the_34_units_are_as_reported(con):
    r = _get(con, "2025-H2", "budget_revenue")
    assert (r["value"], r["method"], r["province_set"]) == (300000.0, "as_reported", "2025")
    # one series across the merger
    s = con.execute("SELECT period, value FROM observation_2025 WHERE province_code = '79' "
                    "AND indicator = 'budget_revenue' AND measure = 'value' ORDER BY period").fetchall()
    assert s == [("2017-H1", 238000.0), ("2018-H1", 255000.0), ("2019-H1", None), ("2025-H2", 300000.0)]


def test_rules_cover_growth_shares_and_plans():
    rules = {(i, m): (r, w) for i, m, r, w in warehouse.reaggregation_rules()}
    assert rules[("grdp_growth", "value")] == ("growth", "grdp_constant_prices")
    assert rules[("budget_revenue", "yoy_pct")] == ("growth", "budget_revenue")
    assert rules[("grdp_share_agriculture", "value")] == ("share", "grdp_current_prices")
    assert ("cpi_yoy", "value") not in rules and ("grdp_growth_services", "value") not in rules
