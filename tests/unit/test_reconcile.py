"""Report text against submission: a conflict only beyond the text's stated rounding."""
import pandas as pd
import pytest

from diaphuong.reconcile import COLUMNS, compare, reconcile, stated_precision, worst_by_cell


def _obs(kind, value, *, ind="grdp_growth", measure="value", unit="pct", original=None, qualifier=None,
         prov="01", period="2025-H2", sha=None, file=None, loc=None, superseded=None):
    sha = sha or ("s" if kind == "submission" else "t") + prov
    file = file or ("2025-H2/submissions/01.xlsx" if kind == "submission" else "2025-H2/reports/01.docx")
    loc = loc or ("Bieu_01!E5" if kind == "submission" else "chars 120-160")
    return {"cycle": "2025-H2", "period": period, "province_code": prov, "province_set": "2025",
            "indicator": ind, "measure": measure, "value": value, "unit": unit, "status": "E",
            "qualifier": qualifier, "original_value": original, "source_kind": kind, "source_file": file,
            "source_sha256": sha, "locator": loc, "sentence": "câu" if kind == "report" else None,
            "superseded_by_run": superseded}


def _one(text_kw, sheet_kw):
    rows = [_obs("report", **text_kw)]
    if sheet_kw is not None:
        rows.append(_obs("submission", **sheet_kw))
    out = reconcile(pd.DataFrame(rows))
    assert len(out) == 1
    return out.iloc[0]


@pytest.mark.parametrize("text,original,sheet,kind", [
    (8.2, "8,2", 8.16, "agree"),        # the example: 8,2 % in text, 8.16 in the sheet
    (8.2, "8,2", 8.24, "agree"),
    (8.2, "8,2", 8.26, "conflict"),     # 0.06 > 0.05
    (8.2, "8,2", 8.14, "conflict"),
    (8.3, "8,3", 8.25, "agree"),        # a tie may round either way
    (8.2, "8,2", 8.25, "agree"),
    (8.16, "8,16", 8.2, "conflict"),    # the text is more precise than the sheet's difference
    (8.0, "8", 8.4, "agree"),           # an integer percent: half a unit is 0.5
    (8.0, "8", 8.6, "conflict"),
    (8.16, "8.16", 8.16, "agree"),      # English decimal point
    (-2.3, "2,3", -2.34, "agree"),      # 'giảm 2,3%': the sign comes from the verb
])
def test_percent_at_stated_precision(text, original, sheet, kind):
    r = _one(dict(value=text, original=original), dict(value=sheet))
    assert r["kind"] == kind


def test_levels_rounded_by_the_writer():
    kw = dict(ind="budget_revenue", unit="bn_vnd")
    # "3.300 tỷ": trailing zeros = rounded; tolerance min(50, 1% of 3300 = 33)
    assert _one(dict(value=3300.0, original="3.300", **kw), dict(value=3287.0, **kw))["kind"] == "agree"
    assert _one(dict(value=3300.0, original="3.300", **kw), dict(value=3250.0, **kw))["kind"] == "conflict"
    r = _one(dict(value=3300.0, original="3.300", **kw), dict(value=3287.0, **kw))
    assert r["tolerance"] == pytest.approx(33.0)
    # "hơn 3.300 tỷ" (more than): up to 5 % above, not below beyond rounding
    assert _one(dict(value=3300.0, original="hơn 3.300", **kw), dict(value=3370.0, **kw))["kind"] == "agree"
    assert _one(dict(value=3300.0, original="hơn 3.300", **kw), dict(value=3460.0, **kw))["kind"] == "agree"
    assert _one(dict(value=3300.0, original="hơn 3.300", **kw), dict(value=3600.0, **kw))["kind"] == "conflict"
    assert _one(dict(value=3300.0, original="hơn 3.300", **kw), dict(value=3100.0, **kw))["kind"] == "conflict"
    # "gần 3.300" (nearly): below is fine, above beyond rounding is not
    assert _one(dict(value=3300.0, original="3.300", qualifier="gần", **kw), dict(value=3180.0, **kw))["kind"] == "agree"
    assert _one(dict(value=3300.0, original="3.300", qualifier="gần", **kw), dict(value=3400.0, **kw))["kind"] == "conflict"
    # an exact count with no trailing zeros keeps half a unit
    assert _one(dict(value=1234.0, original="1.234", **kw), dict(value=1235.0, **kw))["kind"] == "conflict"


def test_scale_words_and_units():
    kw = dict(ind="budget_revenue")
    # "3,3 nghìn tỷ" stored as 3300 bn_vnd: one decimal of nghìn tỷ = 100 tỷ, half = 50
    assert _one(dict(value=3300.0, original="3,3", unit="bn_vnd", **kw),
                dict(value=3340.0, unit="bn_vnd", **kw))["kind"] == "agree"
    assert _one(dict(value=3300.0, original="3,3", unit="bn_vnd", **kw),
                dict(value=3360.0, unit="bn_vnd", **kw))["kind"] == "conflict"
    # text kept in nghìn tỷ, sheet in tỷ: converted before comparing
    r = _one(dict(value=3.3, original="3,3", unit="tn_vnd", **kw), dict(value=3310.0, unit="bn_vnd", **kw))
    assert r["kind"] == "agree" and r["tolerance"] == pytest.approx(50.0)


def test_range_and_missing_original():
    assert _one(dict(value=7.25, original="7-7,5"), dict(value=7.3))["kind"] == "agree"
    assert _one(dict(value=7.25, original="từ 7 đến 7,5"), dict(value=7.8))["kind"] == "conflict"
    tol, q, bounds = stated_precision("7-7,5", 7.25, level=False)
    assert q == "range" and bounds == (7.0, 7.5)
    # without the text as written, the stored value's digits decide
    assert _one(dict(value=8.2), dict(value=8.16))["kind"] == "agree"


def test_text_only_and_output_columns():
    rows = [_obs("report", 8.2, original="8,2"),
            _obs("submission", 8.16, period="2025-Q4"),          # another period: not the same figure
            _obs("report", 12.0, ind="iip_growth", original="12")]
    out = reconcile(pd.DataFrame(rows))
    assert list(out.columns) == COLUMNS
    assert set(out["kind"]) == {"text_only"}
    assert out["text_locator"].iloc[0] == "2025-H2/reports/01.docx: chars 120-160"
    assert out["value"].isna().all()


def test_both_locators_and_detail_on_conflict():
    r = _one(dict(value=7.5, original="7,5"), dict(value=7.0))
    assert r["kind"] == "conflict"
    assert r["locator"] == "2025-H2/submissions/01.xlsx: Bieu_01!E5"
    assert r["text_locator"] == "2025-H2/reports/01.docx: chars 120-160"
    assert r["value"] == 7.0 and r["text_value"] == 7.5
    assert r["difference"] == pytest.approx(0.5)
    assert "7,5" in r["detail"]


def test_superseded_figures_are_ignored():
    rows = [_obs("report", 7.5, original="7,5"),
            _obs("submission", 7.0, sha="old", superseded="run-1"),   # older vintage
            _obs("submission", 7.52, sha="new")]
    assert reconcile(pd.DataFrame(rows)).iloc[0]["kind"] == "agree"
    rows = [_obs("report", 7.5, original="7,5"), _obs("submission", 7.0, sha="a"), _obs("submission", 7.5, sha="b")]
    subs = pd.DataFrame([{"sha256": "a", "outcome": "accepted"}, {"sha256": "b", "outcome": "superseded"}])
    assert reconcile(pd.DataFrame(rows), subs).iloc[0]["kind"] == "conflict"
    assert reconcile(pd.DataFrame(rows)).iloc[0]["kind"] == "agree"    # any matching sheet figure agrees


def test_worst_by_cell_and_compare():
    rows = [_obs("report", 7.5, original="7,5", loc="chars 1-5"), _obs("report", 7.0, original="7", loc="chars 9-12"),
            _obs("submission", 7.0)]
    out = reconcile(pd.DataFrame(rows))
    assert sorted(out["kind"]) == ["agree", "conflict"]
    w = worst_by_cell(out)
    assert len(w) == 1 and w.iloc[0]["kind"] == "conflict"
    assert compare(8.2, 8.16, 0.05) and not compare(8.2, 8.26, 0.05)
    assert reconcile(pd.DataFrame(columns=COLUMNS)).empty
