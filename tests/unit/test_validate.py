"""Rules between figures and outlier methods on small frames with hand-computed results; the GX
suites end to end (findings, summaries, exception_info, severity per observation, quiet console)."""
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from diaphuong import schema
from diaphuong.periods import parse_period
from diaphuong.validate import (
    RuleError,
    apply_rules,
    load_rules,
    outliers,
    parse_rules,
    run_suites,
    severity_by_row,
    validate,
)

ROOT = Path(__file__).resolve().parents[2]
EXPECTATIONS = ROOT / "expectations"
RULES = load_rules(EXPECTATIONS / "rules.yaml")
UNITS = {"grdp_growth": "pct", "retail_sales": "bn_vnd", "budget_revenue": "bn_vnd", "population": "th_persons",
         "budget_revenue_domestic": "bn_vnd", "budget_revenue_import_export": "bn_vnd", "cpi_yoy": "pct"}


def frame(rows, cycle="2025-9M", index=None, pset=None) -> pd.DataFrame:
    """Observation rows from (province, period, indicator, measure, value) tuples; the province set is
    the cycle's unless given (history re-mapped onto the 2025 set, as the observation_2025 view does)."""
    pset = pset or parse_period(cycle).province_set
    recs = []
    for i, (prov, period, ind, meas, val) in enumerate(rows):
        recs.append({
            "cycle": cycle, "period": period, "province_code": prov, "province_set": pset, "indicator": ind, "measure": meas, "value": val,
            "unit": UNITS.get(ind, "pct") if meas == "value" else "pct", "status": "A", "source_kind": "submission",
            "source_file": f"{prov}_{cycle}.xlsx", "source_sha256": "a" * 64, "locator": f"Biểu 01!C{i + 8}",
        })
    df = schema.conform(pd.DataFrame(recs), "observation")
    if index is not None:
        df.index = index
    return df


def rules(*ids):
    return [r for r in RULES if r.id in ids]


def one(findings: pd.DataFrame, **match) -> pd.Series:
    m = pd.Series(True, index=findings.index)
    for k, v in match.items():
        m &= findings[k] == v
    assert m.sum() == 1, findings[list(match) + ["value", "expected"]]
    return findings[m].iloc[0]


# ------------------------------------------------------------------ the rules file


def test_rules_file_has_the_required_rules():
    ids = {r.id for r in RULES}
    assert {"grdp_sector_shares_sum_100", "budget_revenue_components", "cumulative_not_decreasing",
            "yoy_pct_consistent", "pct_of_plan_consistent", "bounds_grdp_growth", "bounds_cpi_yoy"} <= ids
    for r in RULES:
        assert r.description_vi and r.description_en
        assert r.severity in ("critical", "warning", "info")


@pytest.mark.parametrize("bad, msg", [
    ({"operator": "=~"}, "operator"),
    ({"left": "#{no_such_indicator.value}"}, "unknown indicator"),
    ({"left": "#{grdp_growth.value@next_year}"}, "unknown offset"),
    ({"left": "__import__('os')"}, "not allowed|only optional"),
    ({"missing_value_strategy": "sometimes"}, "missing_value_strategy"),
    ({"severity": "fatal"}, "severity"),
    ({"left": "#{*.value}"}, "for_each"),
    ({"tolerance": "a lot"}, "tolerance"),
])
def test_malformed_rules_are_refused(bad, msg):
    base = {"id": "r", "left": "#{grdp_growth.value}", "operator": "<=", "right": "10",
            "missing_value_strategy": "skip_if_any_missing", "severity": "warning"}
    with pytest.raises(RuleError, match=msg):
        parse_rules([{**base, **bad}])


# ------------------------------------------------------------------ each rule


def test_grdp_shares_sum_with_and_without_product_taxes():
    S = "grdp_share_"
    obs = frame([
        ("01", "2025-9M", S + "agriculture", "value", 20.0), ("01", "2025-9M", S + "industry_construction", "value", 35.0),
        ("01", "2025-9M", S + "services", "value", 38.0), ("01", "2025-9M", S + "product_taxes", "value", 7.0),  # 100
        ("04", "2025-9M", S + "agriculture", "value", 25.0), ("04", "2025-9M", S + "industry_construction", "value", 35.0),
        ("04", "2025-9M", S + "services", "value", 40.0),                                       # 100 without taxes
        ("08", "2025-9M", S + "agriculture", "value", 20.0), ("08", "2025-9M", S + "industry_construction", "value", 30.0),
        ("08", "2025-9M", S + "services", "value", 40.0), ("08", "2025-9M", S + "product_taxes", "value", 5.0),  # 95
        ("11", "2025-9M", S + "agriculture", "value", 20.0), ("11", "2025-9M", S + "industry_construction", "value", 35.0),
        ("11", "2025-9M", S + "services", "value", 45.4),                                       # 100.4: within 0.5
        ("12", "2025-9M", S + "agriculture", "value", 20.0), ("12", "2025-9M", S + "services", "value", 30.0),  # skipped
    ])
    f = apply_rules(obs, None, rules("grdp_sector_shares_sum_100"))
    assert f["province_code"].tolist() == ["08"]
    r = f.iloc[0]
    assert r["value"] == 95.0 and r["expected"] == "== 100 ± 0.5" and r["severity"] == "warning"
    assert r["indicator"] == "grdp_share_agriculture" and r["locator"] == "Biểu 01!C15"
    d = json.loads(r["details"])
    assert d["references"]["grdp_share_product_taxes.value"]["value"] == 5.0
    assert d["difference"] == -5.0


def test_budget_revenue_equals_components_within_2_percent():
    B = "budget_revenue"
    obs = frame([
        ("01", "2025-9M", B, "value", 1000.0), ("01", "2025-9M", B + "_domestic", "value", 800.0),
        ("01", "2025-9M", B + "_import_export", "value", 190.0),      # 990: |10| <= 19.8
        ("04", "2025-9M", B, "value", 1000.0), ("04", "2025-9M", B + "_domestic", "value", 700.0),
        ("04", "2025-9M", B + "_import_export", "value", 200.0),      # 900: |100| > 18
        ("08", "2025-9M", B, "value", 1000.0), ("08", "2025-9M", B + "_domestic", "value", 500.0),  # skipped
    ])
    f = apply_rules(obs, None, rules("budget_revenue_components"))
    r = one(f, province_code="04")
    assert len(f) == 1 and r["value"] == 1000.0 and r["expected"] == "== 900 ± 18"


def test_missing_value_strategies():
    base = {"id": "components", "left": "#{budget_revenue.value}", "operator": "==",
            "right": "#{budget_revenue_domestic.value} + #{budget_revenue_import_export.value}", "tolerance": 0,
            "severity": "info"}
    obs = frame([
        ("01", "2025-9M", "budget_revenue", "value", 1000.0), ("01", "2025-9M", "budget_revenue_domestic", "value", 1000.0),
        ("04", "2025-9M", "budget_revenue", "value", 1000.0), ("04", "2025-9M", "budget_revenue_domestic", "value", 900.0),
        ("08", "2025-9M", "budget_revenue_domestic", "value", 900.0),
    ])

    def provs(strategy):
        return apply_rules(obs, None, parse_rules([{**base, "missing_value_strategy": strategy}]))["province_code"].tolist()

    assert provs("skip_if_any_missing") == []
    # a missing reference counts as 0: 1000 = 1000 + 0 holds, 1000 != 900 + 0, 0 != 900 + 0
    assert provs("skip_if_all_missing") == ["04", "08"]
    assert provs("never_skip") == ["04", "08"]


def test_cumulative_figure_does_not_fall_within_the_year():
    hist = frame([
        ("01", "2025-Q1", "budget_revenue", "value", 200.0), ("01", "2025-H1", "budget_revenue", "value", 500.0),
        ("04", "2025-H1", "budget_revenue", "value", 500.0), ("08", "2025-H1", "population", "value", 900.0),
        ("11", "2024-H1", "budget_revenue", "value", 500.0),
    ], cycle="2025-H1", pset="2025")
    obs = frame([
        ("01", "2025-9M", "budget_revenue", "value", 480.0),   # < H1 (the latest earlier cumulative): critical
        ("04", "2025-9M", "budget_revenue", "value", 800.0),   # fine
        ("04", "2025-Q3", "budget_revenue", "value", 100.0),   # a quarter is not cumulative: not compared
        ("08", "2025-9M", "population", "value", 880.0),       # a stock: excluded
        ("11", "2025-9M", "budget_revenue", "value", 100.0),   # only last year's H1: not compared
    ])
    f = apply_rules(obs, hist, rules("cumulative_not_decreasing"))
    r = one(f, province_code="01")
    assert len(f) == 1
    assert r["severity"] == "critical" and r["value"] == 480.0 and r["expected"] == ">= 500"
    assert r["period"] == "2025-9M"
    assert json.loads(r["details"])["references"]["budget_revenue.value@previous_cumulative"]["period"] == "2025-H1"


def test_cumulative_uses_figures_of_the_same_cycle_too():
    obs = frame([("01", "2025-Q1", "retail_sales", "value", 300.0), ("01", "2025-H1", "retail_sales", "value", 250.0)],
                cycle="2025-H1")  # set 2008: the rule works on either set
    f = apply_rules(obs, None, rules("cumulative_not_decreasing"))
    assert f["period"].tolist() == ["2025-H1"] and f["expected"].tolist() == [">= 300"]


def test_yoy_pct_agrees_with_last_years_value():
    hist = frame([("01", "2024-9M", "retail_sales", "value", 1000.0), ("04", "2024-9M", "retail_sales", "value", 1000.0),
                  ("08", "2024-9M", "retail_sales", "value", 1000.0)], cycle="2024-9M", pset="2025")
    obs = frame([
        ("01", "2025-9M", "retail_sales", "value", 1100.0), ("01", "2025-9M", "retail_sales", "yoy_pct", 10.0),
        ("04", "2025-9M", "retail_sales", "value", 1100.0), ("04", "2025-9M", "retail_sales", "yoy_pct", 12.0),
        ("08", "2025-9M", "retail_sales", "value", 1100.0), ("08", "2025-9M", "retail_sales", "yoy_pct", 10.1),
        ("11", "2025-9M", "retail_sales", "value", 1100.0), ("11", "2025-9M", "retail_sales", "yoy_pct", 30.0),
    ])
    f = apply_rules(obs, hist, rules("yoy_pct_consistent"))
    r = one(f, province_code="04")   # 08 is within rounding; 11 has no history
    assert len(f) == 1 and r["measure"] == "yoy_pct" and r["value"] == 12.0 and r["expected"] == "== 10 ± 0.15"
    assert r["locator"] == "Biểu 01!C11"


def test_pct_of_plan_agrees_with_the_plan_implied_earlier_in_the_year():
    hist = frame([("01", "2025-H1", "budget_revenue", "value", 500.0), ("01", "2025-H1", "budget_revenue", "pct_of_plan", 50.0),
                  ("04", "2025-H1", "budget_revenue", "value", 500.0), ("04", "2025-H1", "budget_revenue", "pct_of_plan", 50.0)],
                 cycle="2025-H1", pset="2025")
    obs = frame([
        ("01", "2025-9M", "budget_revenue", "value", 800.0), ("01", "2025-9M", "budget_revenue", "pct_of_plan", 80.0),
        ("04", "2025-9M", "budget_revenue", "value", 800.0), ("04", "2025-9M", "budget_revenue", "pct_of_plan", 70.0),
    ])
    f = apply_rules(obs, hist, rules("pct_of_plan_consistent"))
    r = one(f, province_code="04")
    assert len(f) == 1 and r["value"] == 70.0 and r["expected"] == "== 80 ± 0.5"


def test_growth_and_cpi_bounds():
    obs = frame([("01", "2025-9M", "grdp_growth", "value", 25.0), ("04", "2025-9M", "grdp_growth", "value", 7.0),
                 ("01", "2025-9M", "cpi_yoy", "value", -3.5), ("04", "2025-9M", "cpi_yoy", "value", -3.0)])
    f = apply_rules(obs, None, rules("bounds_grdp_growth", "bounds_cpi_yoy"))
    assert sorted(zip(f["rule"], f["province_code"], f["value"])) == [
        ("bounds_cpi_yoy", "01", -3.5), ("bounds_grdp_growth", "01", 25.0)]
    assert one(f, rule="bounds_grdp_growth")["expected"] == "between -10 and 20"


def test_a_submission_figure_is_preferred_over_the_report_text():
    obs = frame([("01", "2025-9M", "grdp_growth", "value", 7.0), ("01", "2025-9M", "grdp_growth", "value", 70.0)])
    obs.loc[1, "source_kind"] = "report"
    assert apply_rules(obs, None, rules("bounds_grdp_growth")).empty


def test_history_on_another_province_set_is_not_matched():
    hist = frame([("01", "2024-9M", "retail_sales", "value", 1000.0)], cycle="2024-9M")  # set 2008, not mapped
    obs = frame([("01", "2025-9M", "retail_sales", "value", 1100.0), ("01", "2025-9M", "retail_sales", "yoy_pct", 50.0)])
    assert apply_rules(obs, hist, rules("yoy_pct_consistent")).empty


# ------------------------------------------------------------------ outliers


def _quarters(prov, ind, meas, values, start_year=2023):
    periods = [f"{start_year + (i + 3) // 4}-Q{(i + 3) % 4 + 1}" for i in range(len(values))]  # 2023-Q4, 2024-Q1, ...
    return [(prov, p, ind, meas, v) for p, v in zip(periods, values)]


def test_outlier_against_own_history():
    hist = frame(_quarters("01", "grdp_growth", "value", [6.0, 6.2, 6.4, 6.6, 6.8]), cycle="2024-Q4", pset="2025")
    obs = frame([("01", "2025-Q3", "grdp_growth", "value", 9.0), ("01", "2025-Q3", "cpi_yoy", "value", 4.0)],
                cycle="2025-Q3")
    f = outliers(obs, hist)
    r = one(f, rule="outlier_history")
    assert len(f) == 1 and r["value"] == 9.0 and r["period"] == "2025-Q3"
    d = json.loads(r["details"])
    # median 6.4, |x - median| = .4 .2 0 .2 .4 -> MAD 0.2; score = 0.6745 * 2.6 / 0.2
    assert d["median"] == pytest.approx(6.4) and d["mad"] == pytest.approx(0.2)
    assert d["score"] == pytest.approx(8.7685) and d["n"] == 5 and d["scale"] == "mad"
    assert d["lower"] == pytest.approx(6.4 - 3.5 * 0.2 / 0.6745) and d["upper"] == pytest.approx(7.437806, abs=1e-6)
    assert r["expected"] == "between 5.36219 and 7.43781"
    obs.loc[0, "value"] = 7.0  # score 0.6745 * 0.6 / 0.2 = 2.02: not an outlier
    assert outliers(obs, hist).empty


def test_outlier_mad_zero_uses_mean_absolute_deviation():
    hist = frame(_quarters("01", "grdp_growth", "value", [5.0, 5.0, 5.0, 5.0, 6.0]), cycle="2024-Q4", pset="2025")
    obs = frame([("01", "2025-Q3", "grdp_growth", "value", 6.0)], cycle="2025-Q3")
    d = json.loads(one(outliers(obs, hist), rule="outlier_history")["details"])
    # MAD 0; mean |x - 5| = 0.2 -> score = 1 / (1.253314 * 0.2) = 3.989
    assert d["mad"] == 0 and d["scale"] == "mean_abs_deviation" and d["score"] == pytest.approx(3.98942, abs=1e-4)
    obs.loc[0, "value"] = 5.8   # 0.8 / 0.2507 = 3.19
    assert outliers(obs, hist).empty


def test_outlier_needs_enough_history_and_the_same_period_class():
    hist = frame(_quarters("01", "grdp_growth", "value", [6.0, 6.2, 6.4, 6.6]), cycle="2024-Q4", pset="2025")   # 4 < 5
    obs = frame([("01", "2025-Q3", "grdp_growth", "value", 9.0)], cycle="2025-Q3")
    assert outliers(obs, hist).empty
    assert len(outliers(obs, hist, min_history=4)) == 1
    obs9 = frame([("01", "2025-9M", "grdp_growth", "value", 9.0)], cycle="2025-9M")  # quarters are not 9 months
    assert outliers(obs9, hist, min_history=4).empty


def test_outlier_across_provinces_for_rates_not_levels():
    provs = ["01", "04", "08", "11", "12", "14"]
    yoy = [5.0, 6.0, 7.0, 8.0, 9.0, 30.0]
    lev = [100.0, 200.0, 300.0, 400.0, 500.0, 90000.0]
    obs = frame([(p, "2025-9M", "retail_sales", "yoy_pct", v) for p, v in zip(provs, yoy)]
                + [(p, "2025-9M", "retail_sales", "value", v) for p, v in zip(provs, lev)])
    f = outliers(obs, None)
    r = one(f, rule="outlier_cross_province")
    assert len(f) == 1 and r["province_code"] == "14" and r["measure"] == "yoy_pct"
    d = json.loads(r["details"])
    # median 7.5; deviations .5 .5 1.5 1.5 2.5 22.5 -> MAD 1.5; score 0.6745 * 22.5 / 1.5
    assert d["median"] == 7.5 and d["mad"] == 1.5 and d["score"] == pytest.approx(10.1175) and d["n"] == 6
    assert outliers(obs.iloc[:5], None).empty                                # 5.0 ... 9.0: no outlier
    four = obs[obs["province_code"].isin(["01", "04", "08", "14"])]          # 5, 6, 7, 30: too few provinces
    assert outliers(four, None).empty and len(outliers(four, None, min_provinces=4)) == 1


# ------------------------------------------------------------------ the suites (GX), once for the module


@pytest.fixture(scope="module")
def gx_run(tmp_path_factory):
    obs = frame([
        ("01", "2025-Q3", "grdp_growth", "value", 7.5),
        ("01", "2025-Q3", "retail_sales", "value", 99_999_999.0),   # above the catalog range: critical
        ("01", "2025-Q3", "retail_sales", "yoy_pct", 8.0),
        ("99", "2025-Q3", "export_value", "value", 100.0),           # unknown province, wrong unit
        ("01", "2025-X", "cpi_yoy", "value", 3.1),                   # bad period notation
        ("04", "2025-Q3", "retail_sales", "yoy_pct", 900.0),         # above the change range: warning
    ], cycle="2025-Q3", index=range(100, 106))
    obs.loc[103, "unit"] = "bn_vnd"
    obs.loc[104, "status"] = "Q"
    docs = tmp_path_factory.mktemp("docs")
    res = validate(obs, None, suites_dir=EXPECTATIONS, docs_dir=docs)
    return obs, res, docs


def test_suite_findings_name_rows_and_rules(gx_run):
    obs, res, _ = gx_run
    f = res.findings
    assert list(f.columns) == schema.TABLES["finding"].columns
    got = set(zip(f["rule"], f["locator"]))
    assert {("range.value.max", "Biểu 01!C9"), ("range.change.max", "Biểu 01!C13"),
            ("observation.province.valid_for_set", "Biểu 01!C11"), ("observation.unit.matches_catalog", "Biểu 01!C11"),
            ("observation.period.notation", "Biểu 01!C12"), ("observation.status.allowed", "Biểu 01!C12")} <= got
    r = one(f, rule="range.value.max")
    assert r["severity"] == "critical" and r["value"] == 99_999_999.0 and r["expected"] == "between 50 and 2.5e+06"
    assert r["indicator"] == "retail_sales" and r["cycle"] == "2025-Q3" and r["source_file"] == "01_2025-Q3.xlsx"
    assert one(f, rule="observation.unit.matches_catalog")["expected"] == "unit mn_usd"
    assert json.loads(r["details"])["rows_from"] == "gx_unexpected_index_list"


def test_suite_summary(gx_run):
    _, res, _ = gx_run
    s = res.suite_results.set_index("suite")
    assert list(res.suite_results.columns) == schema.TABLES["suite_result"].columns
    assert set(s.index) == {"observation.structure", "observation.ranges"}
    assert (s["evaluated"] == s["successful"] + s["unsuccessful"]).all()
    assert s.loc["observation.ranges", "unsuccessful"] == 2
    assert s.loc["observation.ranges", "success_percent"] == 50.0


def test_severity_by_observation(gx_run):
    obs, res, _ = gx_run
    sev = res.severity_by_observation
    assert list(sev.index) == list(obs.index)
    assert sev.to_dict() == {100: None, 101: "critical", 102: None, 103: "critical", 104: "critical", 105: "warning"}


def test_severity_by_row_takes_the_worst():
    f = pd.DataFrame({"severity": ["info", "critical", "warning"], "_rows": [[0, 1], [1], [1, 2]]})
    assert severity_by_row(f, 4).tolist() == [1, 3, 2, 0]


def test_data_docs_render_offline(gx_run):
    import re

    _, _, docs = gx_run
    pages = sorted(docs.rglob("*.html"))
    assert (docs / "index.html") in pages and any("validations" in p.parts for p in pages)
    tag = re.compile(r"<(script|link|img)\b[^>]*>", re.I)
    url = re.compile(r"""\b(src|href)\s*=\s*["']([^"']+)["']""", re.I)
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert not re.search(r"url\(\s*['\"]?https?://", text), page
        for t in tag.finditer(text):
            for _, u in url.findall(t.group(0)):
                assert not u.startswith(("http://", "https://", "//")), (page, u)
                if not u.startswith(("#", "data:")):
                    assert (page.parent / u.split("?")[0]).resolve().exists(), (page, u)
    css = (docs / "static" / "styles" / "data_docs_default_styles.css").read_text(encoding="utf-8")
    assert "https://" not in css.replace("https://greatexpectations.io", "")


def test_errored_expectation_is_a_critical_finding(tmp_path):
    suite = {"name": "observation.broken", "meta": {"table": "observation"}, "expectations": [
        {"type": "expect_column_values_to_be_between", "kwargs": {"column": "no_such_column", "min_value": 0},
         "meta": {"rule": "broken.rule"}, "severity": "info"}]}
    (tmp_path / "observation.broken.json").write_text(json.dumps(suite), encoding="utf-8")
    obs = frame([("01", "2025-Q3", "grdp_growth", "value", 7.5)], cycle="2025-Q3")
    f, s = run_suites(obs, suites_dir=tmp_path)
    r = one(f, rule="broken.rule")
    assert r["severity"] == "critical" and "could not be evaluated" in r["message"]
    assert "column(s) missing from the observation frame: no_such_column" in r["message"]
    assert s["unsuccessful"].tolist() == [1]


def test_many_failing_rows_are_found_without_gx_row_lists(tmp_path, monkeypatch):
    """Above GX_ROW_LIMIT failing rows, the rows come from the pandas mirror of the expectation."""
    import diaphuong.validate as v

    for name in ("observation.structure", "observation.ranges"):
        shutil.copy(EXPECTATIONS / f"{name}.json", tmp_path)
    obs = frame([("01", "2025-Q3", "retail_sales", "value", 9e9), ("04", "2025-Q3", "retail_sales", "value", 9e9),
                 ("08", "2025-Q3", "retail_sales", "value", 100.0), ("99", "2025-Q3", "retail_sales", "value", 100.0)],
                cycle="2025-Q3")
    obs.loc[[0, 1], "status"] = "Q"
    gx_rows, _ = run_suites(obs, suites_dir=tmp_path)
    monkeypatch.setattr(v, "GX_ROW_LIMIT", 0)
    mirror, _ = run_suites(obs, suites_dir=tmp_path)
    key = ["rule", "locator", "severity", "expected"]
    assert sorted(map(tuple, gx_rows[key].values)) == sorted(map(tuple, mirror[key].values))
    assert {json.loads(d)["rows_from"] for d in mirror["details"]} == {"pandas_mirror"}
    assert len(mirror[mirror["rule"] == "range.value.max"]) == 2


def test_the_stage_prints_nothing(capfd, tmp_path):
    obs = frame([("01", "2025-Q3", "grdp_growth", "value", 70.0)], cycle="2025-Q3")
    validate(obs, None, suites_dir=EXPECTATIONS, docs_dir=tmp_path / "gx")
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_make_docs_offline_rewrites_known_cdns_and_refuses_unknown(tmp_path):
    from diaphuong.errors import DiaphuongError
    from diaphuong.validate import make_docs_offline

    page = tmp_path / "validations" / "s" / "p.html"
    page.parent.mkdir(parents=True)
    page.write_text(
        '<script src="https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js" '
        'integrity="sha384-x" crossorigin="anonymous"></script>\n'
        '<link rel="icon" href="../../../static/images/favicon.ico">\n'
        '<a href="https://greatexpectations.io">GX</a>\n', encoding="utf-8")
    make_docs_offline(tmp_path)
    text = page.read_text(encoding="utf-8")
    assert '<script src="../../static/vendor/bootstrap/4.3.1/js/bootstrap.min.js"></script>' in text
    assert 'href="../../static/images/favicon.ico"' in text        # depth recomputed
    assert '<a href="https://greatexpectations.io">' in text        # a link is not a download
    assert (tmp_path / "static/vendor/bootstrap/4.3.1/js/bootstrap.min.js").exists()
    page.write_text('<script src="https://cdn.example.org/new.js"></script>', encoding="utf-8")
    with pytest.raises(DiaphuongError, match="cdn.example.org/new.js"):
        make_docs_offline(tmp_path)
    make_docs_offline(tmp_path, strict=False)
    assert page.read_text(encoding="utf-8") == '<script src="data:,"></script>'


def test_rules_and_outliers_need_only_the_history_columns_the_pipeline_reads():
    """pipeline.history selects HISTORY_COLUMNS only (a third of the time on ten years): every
    finding, its details and its source locators are the same as with the whole rows."""
    from diaphuong.pipeline import HISTORY_COLUMNS

    hist = pd.concat([
        frame([("01", "2024-9M", "retail_sales", "value", 1000.0), ("04", "2024-9M", "retail_sales", "value", 1000.0)],
              cycle="2024-9M", pset="2025"),
        frame([("01", "2025-H1", "budget_revenue", "value", 500.0), ("01", "2025-H1", "budget_revenue", "pct_of_plan", 50.0),
               ("04", "2025-H1", "budget_revenue", "value", 500.0)], cycle="2025-H1", pset="2025"),
        frame(_quarters("01", "grdp_growth", "value", [6.0, 6.2, 6.4, 6.6, 6.8]), cycle="2024-Q4", pset="2025"),
    ], ignore_index=True)
    obs = frame([
        ("01", "2025-9M", "retail_sales", "value", 1100.0), ("01", "2025-9M", "retail_sales", "yoy_pct", 10.0),
        ("04", "2025-9M", "retail_sales", "value", 1100.0), ("04", "2025-9M", "retail_sales", "yoy_pct", 12.0),
        ("01", "2025-9M", "budget_revenue", "value", 480.0), ("01", "2025-9M", "budget_revenue", "pct_of_plan", 70.0),
    ])
    quarter = frame([("01", "2025-Q3", "grdp_growth", "value", 9.0)], cycle="2025-Q3")
    narrow = hist[list(HISTORY_COLUMNS)]
    full_rules, narrow_rules = apply_rules(obs, hist, RULES), apply_rules(obs, narrow, RULES)
    assert len(full_rules) >= 3  # yoy, cumulative, pct_of_plan: each reads the history
    pd.testing.assert_frame_equal(full_rules, narrow_rules)
    full_out, narrow_out = outliers(quarter, hist), outliers(quarter, narrow)
    assert len(full_out) >= 1
    pd.testing.assert_frame_equal(full_out, narrow_out)
