"""The department's template and the submission reader: one test per fixture of
tests/fixtures/submissions/ (built by make_fixtures.py), asserting the exact observations or the
exact quarantine reason it yields, plus the template writer and the reader's limits."""
from __future__ import annotations

import hashlib
import os
import shutil
import zipfile
from datetime import date
from pathlib import Path

import pytest

from diaphuong import schema
from diaphuong.errors import LayoutError, UnreadableFile
from diaphuong.ingest import submissions as sub
from diaphuong.ingest.submissions import period_from_text, read_submission
from diaphuong.template import write_template

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "submissions"
CYCLE = "2026-H1"


def read(name, **kw):
    kw.setdefault("cycle", CYCLE)
    return read_submission(FIX / name, **kw)


def rows(r):
    """(locator, indicator, measure, value, unit, status, qualifier, flag) in reading order."""
    o = r.observations
    out = []
    for t in o.itertuples(index=False):
        v = None if t.value is None or t.value != t.value else round(float(t.value), 6)
        out.append((t.locator, t.indicator, t.measure, v, t.unit, t.status,
                    t.qualifier if isinstance(t.qualifier, str) else None,
                    t.flag if isinstance(t.flag, str) else None))
    return out


def base(first_row, *, sheet="Bieu_01", cols="EFG", status=("E", "E", "E", "P"), yoy_flag=None,
         yoy=(9.2, 12.6, 4.1), flag=None):
    """What the four base rows (grdp_growth, retail_sales, export_value, budget_revenue) yield."""
    v, y, p = cols
    pre = f"{sheet}!" if sheet else ""
    r = first_row
    out = [(f"{pre}{v}{r}", "grdp_growth", "value", 7.85, "pct", status[0], None, flag)]
    for k, (ind, unit, val, plan) in enumerate((("retail_sales", "bn_vnd", 45210.5, 52.3),
                                               ("export_value", "mn_usd", 1850.4, 48.9),
                                               ("budget_revenue", "bn_vnd", 12345.6, 61.7))):
        rr = r + 1 + k
        out += [(f"{pre}{v}{rr}", ind, "value", val, unit, status[k + 1], None, flag),
                (f"{pre}{y}{rr}", ind, "yoy_pct", yoy[k], "pct", status[k + 1], None, yoy_flag or flag),
                (f"{pre}{p}{rr}", ind, "pct_of_plan", plan, "pct", status[k + 1], None, flag)]
    return out


def no_quarantine(r):
    assert len(r.quarantine) == 0, r.quarantine.to_dict("records")


def quarantine(r):
    return [(t.locator, t.reason) for t in r.quarantine.itertuples(index=False)]


# ------------------------------------------------------------------ fixtures: on-template and layouts
def test_fixture_set_is_complete():
    files = [p for p in FIX.iterdir() if p.suffix != ".py"]
    assert len(files) >= 25
    assert (FIX / "make_fixtures.py").exists()


def test_01_on_template():
    r = read("01_on_template.xlsx")
    assert (r.province.code, r.province.province_set, r.province_source) == ("48", "2025", "content")
    assert (r.period, r.sheet) == ("2026-H1", "Bieu_01")
    assert rows(r) == [
        ("Bieu_01!E9", "retail_sales", "value", 45210.5, "bn_vnd", "E", None, None),
        ("Bieu_01!F9", "retail_sales", "yoy_pct", 9.2, "pct", "E", None, None),
        ("Bieu_01!G9", "retail_sales", "pct_of_plan", 52.3, "pct", "E", None, None),
        ("Bieu_01!E10", "export_value", "value", 1850.4, "mn_usd", "E", None, None),
        ("Bieu_01!F10", "export_value", "yoy_pct", 12.6, "pct", "E", None, None),
        ("Bieu_01!G10", "export_value", "pct_of_plan", 48.9, "pct", "E", None, None),
        ("Bieu_01!E12", "budget_revenue", "value", 12345.6, "bn_vnd", "P", None, None),
        ("Bieu_01!F12", "budget_revenue", "yoy_pct", 4.1, "pct", "P", None, None),
        ("Bieu_01!G12", "budget_revenue", "pct_of_plan", 61.7, "pct", "P", None, None),
        ("Bieu_01!E20", "grdp_growth", "value", 7.85, "pct", "E", None, None),
    ]
    no_quarantine(r)
    o = r.observations
    assert list(o.columns) == schema.TABLES["observation"].columns
    assert set(o["cycle"]) == {CYCLE} and set(o["period"]) == {CYCLE}
    assert set(o["province_code"]) == {"48"} and set(o["province_set"]) == {"2025"}
    assert set(o["source_kind"]) == {"submission"}
    sha = hashlib.sha256((FIX / "01_on_template.xlsx").read_bytes()).hexdigest()
    assert set(o["source_sha256"]) == {sha} and set(o["source_file"]) == {"01_on_template.xlsx"}
    assert o.loc[0, "original_value"] == "45210.5" and o.loc[0, "original_unit"] == "tỷ đồng"
    schema.conform(o, "observation")  # the frame fits the table


def test_02_names_not_codes():
    r = read("02_names_not_codes.xlsx")
    assert rows(r) == base(8, cols="DEF")
    assert "columns not found: indicator_code" in r.notes
    no_quarantine(r)


def test_03_columns_reordered():
    r = read("03_columns_reordered.xlsx")
    exp = base(8, cols="CGF")
    assert rows(r) == exp
    no_quarantine(r)


def test_04_columns_renamed():
    assert rows(read("04_columns_renamed.xlsx")) == base(8)


def test_05_english_headers():
    r = read("05_english_headers.xlsx")
    assert rows(r) == base(5)
    assert (r.province.code, r.period) == ("48", "2026-H1")


def test_06_columns_missing_and_extra():
    r = read("06_columns_missing_extra.xlsx")
    assert rows(r) == [
        ("Bieu_01!D8", "retail_sales", "value", 45210.5, "bn_vnd", "A", None, None),
        ("Bieu_01!F8", "retail_sales", "pct_of_plan", 52.3, "pct", "A", None, None),
        ("Bieu_01!D9", "export_value", "value", 1850.4, "mn_usd", "A", None, None),
        ("Bieu_01!F9", "export_value", "pct_of_plan", 48.9, "pct", "A", None, None),
    ]
    assert "columns not found: unit, yoy_index, status" in r.notes
    assert "columns ignored: E 'Người nhập'" in r.notes
    assert any("'Kế hoạch năm 2026' (the plan amount) not read" in n for n in r.notes)


def test_07_multirow_merged_header():
    r = read("07_multirow_merged_header.xlsx")
    # "Ước thực hiện 6 tháng" heads the value column: every figure is an estimate
    assert rows(r) == base(9, status=("E", "E", "E", "E"))
    assert "header on 2 rows (7-8)" in r.notes


def test_08_header_block_elsewhere():
    r = read("08_header_block_elsewhere.xlsx")
    assert (r.province.code, r.province_source, r.period) == ("52", "content", "2026-H1")
    assert rows(r) == base(2)


def test_09_several_sheets():
    r = read("09_several_sheets.xlsx")
    assert r.sheet == "Bieu_01"
    assert rows(r) == base(8)
    assert r.notes == ["sheet 'Bieu_01' read: it has 4 indicator rows; not read: 'Nhap_cu' (1 rows)"]


def test_10_blank_and_subtotal_rows():
    r = read("10_blank_subtotal_rows.xlsx")
    assert rows(r) == [
        ("Bieu_01!E9", "grdp_growth", "value", 7.85, "pct", "E", None, None),
        ("Bieu_01!E11", "retail_sales", "value", 45210.5, "bn_vnd", "E", None, None),
        ("Bieu_01!F11", "retail_sales", "yoy_pct", 9.2, "pct", "E", None, None),
        ("Bieu_01!G11", "retail_sales", "pct_of_plan", 52.3, "pct", "E", None, None),
        ("Bieu_01!E12", "export_value", "value", 1850.4, "mn_usd", "E", None, None),
        ("Bieu_01!F12", "export_value", "yoy_pct", 12.6, "pct", "E", None, None),
        ("Bieu_01!G12", "export_value", "pct_of_plan", 48.9, "pct", "E", None, None),
        ("Bieu_01!E15", "budget_revenue", "value", 12345.6, "bn_vnd", "P", None, None),
        ("Bieu_01!F15", "budget_revenue", "yoy_pct", 4.1, "pct", "P", None, None),
        ("Bieu_01!G15", "budget_revenue", "pct_of_plan", 61.7, "pct", "P", None, None),
        ("Bieu_01!E16", "budget_revenue_domestic", "value", 10980.2, "bn_vnd", "P", None, None),
        ("Bieu_01!F16", "budget_revenue_domestic", "yoy_pct", 3.5, "pct", "P", None, None),
    ]
    assert "1 subtotal or grouping rows skipped" in r.notes
    no_quarantine(r)


def test_11_growth_written_instead_of_index():
    r = read("11_growth_not_index.xlsx")
    assert rows(r) == base(8, yoy_flag="growth_not_index")
    assert any("3 of 3 figures are growth rates" in n for n in r.notes)


def test_12_units_converted():
    r = read("12_units_converted.xlsx")
    assert rows(r) == [
        ("Bieu_01!E8", "retail_sales", "value", 45210.5, "bn_vnd", "E", None, "unit_converted"),
        ("Bieu_01!F8", "retail_sales", "yoy_pct", 9.2, "pct", "E", None, None),
        ("Bieu_01!G8", "retail_sales", "pct_of_plan", 52.3, "pct", "E", None, None),
        ("Bieu_01!E9", "export_value", "value", 1850.4, "mn_usd", "E", None, "unit_converted"),
        ("Bieu_01!F9", "export_value", "yoy_pct", 12.6, "pct", "E", None, None),
        ("Bieu_01!G9", "export_value", "pct_of_plan", 48.9, "pct", "E", None, None),
        ("Bieu_01!E10", "budget_revenue", "value", 12345.6, "bn_vnd", "P", None, "unit_converted"),
        ("Bieu_01!F10", "budget_revenue", "yoy_pct", 4.1, "pct", "P", None, None),
        ("Bieu_01!G10", "budget_revenue", "pct_of_plan", 61.7, "pct", "P", None, None),
        ("Bieu_01!E11", "visitors", "value", 2500.0, "th_visits", "E", None, "unit_converted"),
        ("Bieu_01!F11", "visitors", "yoy_pct", 18.0, "pct", "E", None, None),
        ("Bieu_01!E12", "jobs_created", "value", 25300.0, "persons", "E", None, "unit_converted"),
        ("Bieu_01!F12", "jobs_created", "yoy_pct", 1.2, "pct", "E", None, None),
        ("Bieu_01!G12", "jobs_created", "pct_of_plan", 50.6, "pct", "E", None, None),
    ]
    o = r.observations.set_index("locator")
    assert (o.loc["Bieu_01!E8", "original_value"], o.loc["Bieu_01!E8", "original_unit"]) == ("45.2105", "nghìn tỷ đồng")
    assert (o.loc["Bieu_01!E9", "original_value"], o.loc["Bieu_01!E9", "original_unit"]) == ("1.8504", "tỷ USD")
    assert o.loc["Bieu_01!E10", "original_unit"] == "triệu đồng"


def test_13_numbers_as_text_vietnamese():
    r = read("13_numbers_as_text_vi.xlsx")
    assert rows(r) == [
        ("Bieu_01!E8", "grdp_growth", "value", 7.85, "pct", "E", None, None),
        ("Bieu_01!E9", "retail_sales", "value", 45210.5, "bn_vnd", "E", None, None),
        ("Bieu_01!F9", "retail_sales", "yoy_pct", 9.2, "pct", "E", None, None),
        ("Bieu_01!G9", "retail_sales", "pct_of_plan", 52.3, "pct", "E", None, None),
        # "1.234" alone reads both ways; the file's "45.210,5" settles the convention
        ("Bieu_01!E10", "new_enterprises", "value", 1234.0, "enterprises", "E", None, None),
        ("Bieu_01!F10", "new_enterprises", "yoy_pct", 8.0, "pct", "E", None, None),
    ]
    assert r.observations.loc[1, "original_value"] == "45.210,5"


def test_14_english_numbers_csv():
    r = read("14_english_numbers.csv")
    assert r.sheet == "14_english_numbers"  # as Excel names the one sheet of a CSV
    s = "14_english_numbers!"
    assert rows(r) == [
        (s + "E4", "retail_sales", "value", 45210.5, "bn_vnd", "A", None, None),
        (s + "F4", "retail_sales", "yoy_pct", 9.2, "pct", "A", None, None),
        (s + "G4", "retail_sales", "pct_of_plan", 52.3, "pct", "A", None, None),
        (s + "E5", "export_value", "value", 1850.4, "mn_usd", "A", None, None),
        (s + "F5", "export_value", "yoy_pct", 12.6, "pct", "A", None, None),
        (s + "G5", "export_value", "pct_of_plan", 48.9, "pct", "A", None, None),
        (s + "E6", "new_enterprises", "value", 1234.0, "enterprises", "A", None, None),
        (s + "F6", "new_enterprises", "yoy_pct", 8.0, "pct", "A", None, None),
    ]
    assert "numbers written the English way (1,234.5)" in r.notes


def test_15_ambiguous_number_is_flagged():
    r = read("15_ambiguous_number.csv")
    assert rows(r) == [
        ("15_ambiguous_number!E4", "new_enterprises", "value", 1234.0, "enterprises", "A", None, "ambiguous_number"),
        ("15_ambiguous_number!E5", "fdi_projects", "value", 25.0, "projects", "A", None, None),
    ]


def test_16_percent_cells():
    r = read("16_percent_cells.xlsx")
    exp = base(8)
    exp = [(loc, ind, m, v, u, s, q, "percent_cell" if m != "value" else f) for loc, ind, m, v, u, s, q, f in exp]
    assert rows(r) == exp


def test_17_footnote_marks():
    r = read("17_footnote_marks.xlsx")
    assert rows(r) == [
        ("Bieu_01!E8", "retail_sales", "value", 45210.5, "bn_vnd", "E", None, "footnote"),
        ("Bieu_01!F8", "retail_sales", "yoy_pct", 9.2, "pct", "E", None, None),
        ("Bieu_01!G8", "retail_sales", "pct_of_plan", 52.3, "pct", "E", None, None),
        ("Bieu_01!E9", "budget_revenue", "value", 12345.6, "bn_vnd", "P", None, "footnote"),
        ("Bieu_01!F9", "budget_revenue", "yoy_pct", 4.1, "pct", "P", None, None),
        ("Bieu_01!G9", "budget_revenue", "pct_of_plan", 61.7, "pct", "P", None, None),
    ]
    no_quarantine(r)


def test_18_table_symbols():
    r = read("18_table_symbols.xlsx")
    assert rows(r) == [
        ("Bieu_01!E8", "fdi_projects", "value", None, "projects", "A", "nil", None),
        ("Bieu_01!F8", "fdi_projects", "yoy_pct", None, "pct", "A", "nil", None),
        ("Bieu_01!E9", "export_value", "value", None, "mn_usd", "M", "not_available", None),
        ("Bieu_01!F9", "export_value", "yoy_pct", None, "pct", "M", "not_available", None),
        ("Bieu_01!G9", "export_value", "pct_of_plan", 48.9, "pct", "E", None, None),
        ("Bieu_01!E10", "budget_revenue_import_export", "value", None, "bn_vnd", "M", "not_applicable", None),
        ("Bieu_01!F10", "budget_revenue_import_export", "yoy_pct", None, "pct", "M", "not_applicable", None),
    ]
    assert list(r.observations["original_value"][:4]) == ["-", "-", "..", "..."]


def test_19_status_words():
    r = read("19_status_words.xlsx")
    assert [(t[1], t[5], t[7]) for t in rows(r)] == [
        ("grdp_growth", "E", None), ("retail_sales", "P", None), ("export_value", "F", None),
        ("budget_revenue", "A", None), ("import_value", "P", None),  # from the note
        ("new_enterprises", "A", "status_unrecognised"),
    ]


def test_20_status_in_header():
    r = read("20_status_in_header.xlsx")
    assert rows(r) == base(7, status=("E", "E", "E", "E"))


def test_21_formulas_read_as_cached_values():
    r = read("21_formulas.xlsx")
    assert rows(r) == [
        ("Bieu_01!E8", "budget_revenue", "value", 12345.6, "bn_vnd", "P", None, None),
        ("Bieu_01!F8", "budget_revenue", "yoy_pct", 4.1, "pct", "P", None, None),
        ("Bieu_01!G8", "budget_revenue", "pct_of_plan", 61.7, "pct", "P", None, None),
        ("Bieu_01!E9", "budget_revenue_domestic", "value", 10980.2, "bn_vnd", "P", None, None),
        ("Bieu_01!F9", "budget_revenue_domestic", "yoy_pct", 3.5, "pct", "P", None, None),
        ("Bieu_01!E10", "budget_revenue_import_export", "value", 1365.4, "bn_vnd", "P", None, None),
        ("Bieu_01!F10", "budget_revenue_import_export", "yoy_pct", 9.8, "pct", "P", None, None),
    ]


# ------------------------------------------------------------------ cells and rows sent to quarantine
def test_22_unparseable_cell_quarantined_rest_loads():
    r = read("22_unparseable_cell.xlsx")
    assert quarantine(r) == [("Bieu_01!E9", "not_a_number")]
    q = r.quarantine.iloc[0]
    assert q["raw_value"] == "chưa có số liệu" and q["file"] == "22_unparseable_cell.xlsx"
    assert q["province_code"] == "48" and q["cycle"] == CYCLE
    assert (q["indicator"], q["measure"]) == ("export_value", "value")
    assert list(r.quarantine.columns) == schema.TABLES["quarantine"].columns
    assert [(t[0], t[1], t[2], t[3]) for t in rows(r)] == [
        ("Bieu_01!E8", "retail_sales", "value", 45210.5), ("Bieu_01!F8", "retail_sales", "yoy_pct", 9.2),
        ("Bieu_01!G8", "retail_sales", "pct_of_plan", 52.3), ("Bieu_01!F9", "export_value", "yoy_pct", 12.6),
        ("Bieu_01!G9", "export_value", "pct_of_plan", 48.9)]


def test_23_unknown_indicator_row():
    r = read("23_unknown_indicator.xlsx")
    assert quarantine(r) == [("Bieu_01!C9", "unknown_indicator")]
    assert "Số km đường giao thông" in r.quarantine.iloc[0]["raw_value"]
    assert [t[1] for t in rows(r)] == ["export_value"] * 3


def test_24_unit_mismatch_and_unknown_unit():
    r = read("24_unit_mismatch.xlsx")
    assert quarantine(r) == [("Bieu_01!D8", "unit_mismatch"), ("Bieu_01!D9", "unknown_unit")]
    assert rows(r) == [
        ("Bieu_01!F8", "export_value", "yoy_pct", 12.6, "pct", "E", None, None),
        ("Bieu_01!F9", "retail_sales", "yoy_pct", 9.2, "pct", "E", None, None),
    ]


def test_25_duplicate_row():
    r = read("25_duplicate_row.xlsx")
    assert quarantine(r) == [("Bieu_01!C9", "duplicate_indicator")]
    assert [(t[0], t[3]) for t in rows(r)] == [("Bieu_01!E8", 1850.4), ("Bieu_01!F8", 12.6), ("Bieu_01!G8", 48.9)]


def test_26_fuzzy_names_reported():
    r = read("26_fuzzy_names.xlsx")
    assert rows(r) == [
        ("Bieu_01!D8", "export_value", "value", 1850.4, "mn_usd", "A", None, "fuzzy_match"),
        ("Bieu_01!D9", "budget_revenue", "value", 12345.6, "bn_vnd", "A", None, "fuzzy_match"),
    ]
    assert any(n.startswith("fuzzy indicator matches: row 8: 'Kim nghạch xuất khẩu hàng hóa' -> export_value")
               for n in r.notes)


def test_27_rate_written_as_index():
    r = read("27_index_in_value.xlsx")
    assert rows(r) == [
        ("Bieu_01!E8", "grdp_growth", "value", 7.85, "pct", "E", None, "index_as_change"),
        ("Bieu_01!E9", "cpi_avg", "value", 3.2, "pct", "A", None, "index_as_change"),
    ]


def test_28_period_stated_in_the_file():
    r = read("28_period_stated.xlsx")
    assert r.period == "2026-Q1"
    assert set(r.observations["period"]) == {CYCLE}  # the cycle (folder) decides; the caller compares
    r2 = read("28_period_stated.xlsx", cycle=None)
    assert set(r2.observations["cycle"]) == {"2026-Q1"} and set(r2.observations["period"]) == {"2026-Q1"}


def test_29_template_2024_quirk_from_layouts():
    r = read("29_template_2024_quirk.xlsx")
    assert "layout quirks applied: template_2024" in r.notes
    assert [(t[0], t[2], t[3], t[7]) for t in rows(r) if t[2] == "yoy_pct"] == [
        ("Bieu_01!F7", "yoy_pct", 60.5, "growth_not_index"),
        ("Bieu_01!F8", "yoy_pct", 75.0, "growth_not_index"),
        ("Bieu_01!F9", "yoy_pct", 9.2, "growth_not_index"),
    ]


# ------------------------------------------------------------------ other formats and encodings
@pytest.mark.parametrize("name", ["30_legacy.xls", "31_ods.ods"])
def test_legacy_xls_and_ods(name):
    r = read(name)
    assert r.province.code == "48" and r.sheet == "Bieu_01"
    assert rows(r) == base(8)


@pytest.mark.parametrize("name", ["32_utf8_bom.csv", "33_utf16.csv", "34_cp1258.csv"])
def test_csv_encodings(name):
    r = read(name)
    stem = name[:-4]
    assert (r.province.code, r.period, r.sheet) == ("48", "2026-H1", stem)
    assert rows(r) == base(5, sheet=stem)
    assert list(r.observations["original_value"][:2]) == ["7,85", "45210,5"]


# ------------------------------------------------------------------ province from the file name
def test_province_from_code_prefix():
    r = read("48_code_prefix_no_header.xlsx")
    assert (r.province.code, r.province_source) == ("48", "file_name")
    assert rows(r) == base(2)


def test_province_from_name_in_file_name():
    r = read("bao_cao_bac_ninh_no_header.xlsx")
    assert (r.province.code, r.province.province_set, r.province_source) == ("24", "2025", "file_name")


def test_no_province_anywhere():
    r = read("no_province_anywhere.xlsx")
    assert r.province is None and r.province_source is None
    assert r.observations["province_code"].isna().all()
    assert len(r.observations) == 10


def test_province_by_the_old_list_before_the_merger(tmp_path):
    p = tmp_path / "bao_cao_bac_giang.xlsx"
    shutil.copy(FIX / "no_province_anywhere.xlsx", p)
    r = read_submission(p, cycle="2024-H1")
    assert (r.province.code, r.province.province_set) == ("24", "2008")


# ------------------------------------------------------------------ whole files refused
@pytest.mark.parametrize("name, exc, reason", [
    ("xx_empty.xlsx", UnreadableFile, "empty"),
    ("xx_empty_workbook.xlsx", UnreadableFile, "empty"),
    ("xx_not_a_spreadsheet.xlsx", UnreadableFile, "not_a_spreadsheet"),
    ("xx_word_document.xlsx", UnreadableFile, "not_a_spreadsheet"),
    ("xx_corrupt.xlsx", UnreadableFile, "corrupt"),
    ("xx_encrypted.xlsx", UnreadableFile, "encrypted"),
    ("xx_zip_bomb.xlsx", UnreadableFile, "zip_bomb"),
    ("xx_too_many_cells.xlsx", UnreadableFile, "too_many_cells"),
    ("xx_far_apart_cells.xlsx", UnreadableFile, "too_many_cells"),
    ("xx_far_apart_cells.xls", UnreadableFile, "too_many_cells"),
    ("xx_ods_repeated_rows.ods", UnreadableFile, "too_many_cells"),
    ("xx_binary.csv", UnreadableFile, "binary"),
    ("xx_no_table.xlsx", LayoutError, "no_table"),
    ("xx_no_indicator_rows.xlsx", LayoutError, "no_indicator_rows"),
])
def test_whole_file_refused(name, exc, reason):
    with pytest.raises(exc) as ei:
        read(name)
    assert ei.value.reason == reason
    assert ei.value.file == name
    assert name in str(ei.value)


def test_cell_count_checked_after_loading(monkeypatch):
    monkeypatch.setitem(sub.LIMITS, "cells", 50)
    with pytest.raises(UnreadableFile) as ei:
        read("01_on_template.xlsx")
    assert ei.value.reason == "too_many_cells"


def test_raw_file_never_modified():
    p = FIX / "12_units_converted.xlsx"
    before = (p.read_bytes(), p.stat().st_mtime_ns)
    read("12_units_converted.xlsx")
    assert (p.read_bytes(), p.stat().st_mtime_ns) == before


def test_source_file_and_sha_passed_through():
    r = read("01_on_template.xlsx", source_file="2026-H1/submissions/48.xlsx", sha256="abc")
    assert set(r.observations["source_file"]) == {"2026-H1/submissions/48.xlsx"}
    assert set(r.observations["source_sha256"]) == {"abc"}


# ------------------------------------------------------------------ layouts.yaml is data
def test_new_alias_in_layouts_yaml_needs_no_code(tmp_path, monkeypatch):
    data = tmp_path / "data"
    data.mkdir()
    src = sub.DATA
    shutil.copy(src / "template.yaml", data / "template.yaml")
    shutil.copy(src / "name_variants.csv", data / "name_variants.csv")
    text = (src / "layouts.yaml").read_text(encoding="utf-8")
    text = text.replace("  value: [", "  value: [con số thực tế, ")
    (data / "layouts.yaml").write_text(text, encoding="utf-8")
    f = tmp_path / "odd.csv"
    f.write_text("Tỉnh/thành phố:;Huế\nKỳ báo cáo:;Quý II năm 2026\nMã chỉ tiêu;Con số thực tế\n"
                 "export_value;950,5\n", encoding="utf-8")
    with pytest.raises(LayoutError):
        read_submission(f, cycle="2026-Q2")
    monkeypatch.setattr(sub, "DATA", data)
    for fn in (sub.layouts, sub._layout_with):
        fn.cache_clear()
    try:
        r = read_submission(f, cycle="2026-Q2")
        assert rows(r) == [("odd!B4", "export_value", "value", 950.5, "mn_usd", "A", None, None)]
        assert r.province.code == "46" and r.period == "2026-Q2"
    finally:
        monkeypatch.undo()
        for fn in (sub.layouts, sub._layout_with):
            fn.cache_clear()


# ------------------------------------------------------------------ periods in words
@pytest.mark.parametrize("text, code", [
    ("6 tháng đầu năm 2026", "2026-H1"), ("6 tháng cuối năm 2025", "2025-H2"), ("Quý II/2025", "2025-Q2"),
    ("Quý IV năm 2024", "2024-Q4"), ("Tháng 9 năm 2025", "2025-09"), ("tháng 10/2026", "2026-10"),
    ("9 tháng năm 2024", "2024-9M"), ("9 tháng đầu năm 2024", "2024-9M"), ("Năm 2025", "2025"),
    ("Ước tính 6 tháng đầu năm 2026", "2026-H1"), ("2025-Q3", "2025-Q3"), ("H1 2026", "2026-H1"),
    ("không rõ", None),
    # date ranges: whole months of one year that make a period
    ("01/01/2025 - 30/06/2025", "2025-H1"), ("Từ 01/7/2025 đến 30/9/2025", "2025-Q3"),
    ("01/01/2025 - 31/12/2025", "2025"), ("01/01/2025 - 30/09/2025", "2025-9M"), ("01/03/2026-31/03/2026", "2026-03"),
    ("01/07/2025 - 31/12/2025", "2025-H2"), ("15/01/2025 - 30/06/2025", None), ("Ngày lập: 03/07/2025", None),
    # English
    ("9 months of 2025", "2025-9M"), ("first 6 months of 2026", "2026-H1"), ("Quarter III 2025", "2025-Q3"),
    ("third quarter of 2025", "2025-Q3"), ("September 2025", "2025-09"),
])
def test_period_from_text(text, code):
    assert period_from_text(text) == code


# ------------------------------------------------------------------ the template
def test_template_layout_and_round_trip(tmp_path):
    from python_calamine import CalamineWorkbook

    from diaphuong.catalog.indicators import required_for
    from diaphuong.template import template_spec

    p = write_template(tmp_path / "t.xlsx", "2025-9M", "79", prepared_on=date(2025, 10, 3),
                       values={"export_value": {"value": 30500.25, "yoy_pct": 12.5, "status": "Sơ bộ",
                                                "note": "số liệu Hải quan"},
                               "population": {"value": 9500.0}})
    wb = CalamineWorkbook.from_path(p)
    assert wb.sheet_names == ["Bieu_01"]
    g = wb.get_sheet_by_name("Bieu_01").to_python(skip_empty_area=False)
    spec = template_spec()
    assert g[0][0] == spec["title"]
    assert g[2][:3] == ["Tỉnh/thành phố:", "", "Thành phố Hồ Chí Minh"]
    assert g[3][:3] == ["Kỳ báo cáo:", "", "9 tháng năm 2025"]
    assert g[4][:3] == ["Ngày lập:", "", "03/10/2025"]
    assert g[6] == [c["label"] for c in spec["columns"]]
    req = list(dict.fromkeys(required_for("nine_months")["indicator"]))
    codes = [row[1] for row in g[7:]]
    extra = [] if "population" in req else ["population"]
    assert codes == req + extra
    assert [row[0] for row in g[7:]] == list(range(1, len(codes) + 1))
    r = read_submission(p, cycle="2025-9M")
    assert r.province.code == "79"
    assert rows(r) == [
        (f"Bieu_01!E{8 + codes.index('export_value')}", "export_value", "value", 30500.25, "mn_usd", "P", None, None),
        (f"Bieu_01!F{8 + codes.index('export_value')}", "export_value", "yoy_pct", 12.5, "pct", "P", None, None),
        (f"Bieu_01!E{8 + codes.index('population')}", "population", "value", 9500.0, "th_persons", "A", None, None),
    ]
    with zipfile.ZipFile(p) as z:
        xml = z.read("xl/worksheets/sheet1.xml").decode()
    assert xml.count("<dataValidation ") == len(codes) + 1  # one unit list per row, one status list
    assert '"Ước tính,Sơ bộ,Chính thức"' in xml
    assert '"triệu USD' in xml or "triệu USD" in xml


def test_template_without_province_and_with_symbols(tmp_path):
    p = write_template(tmp_path / "blank.xlsx", "2026-03", values={"cpi_mom": {"value": "-"}},
                       prepared_on=date(2026, 4, 2))
    r = read_submission(p, cycle="2026-03")
    assert r.province is None
    assert [(t[1], t[2], t[3], t[5], t[6]) for t in rows(r)] == [("cpi_mom", "value", None, "A", "nil")]


def test_template_rejects_unknown_indicator(tmp_path):
    from diaphuong.errors import UnknownIndicator

    with pytest.raises(UnknownIndicator):
        write_template(tmp_path / "x.xlsx", "2026-H1", values={"gdp": {"value": 1.0}})


# ------------------------------------------------------------------ names, totals, comparison cells
@pytest.mark.parametrize("text, key, unit", [
    ("Thu NSNN", "budget_revenue", None), ("Tổng mức BLHH và DTDV tiêu dùng", "retail_sales", None),
    ("Số DN ĐKTL mới", "new_enterprises", None), ("Thu XSKT", None, None),
    ("Kim ngạch xuất khẩu (triệu USD)", "export_value", "triệu USD"),
    ("Vốn FDI đăng ký, triệu USD", "fdi_registered_capital", "triệu USD"),
    ("Tốc độ tăng tổng sản phẩm trên địa bàn (GRDP)", "grdp_growth", None),  # an acronym, not a unit
    ("Tỷ trọng nông, lâm nghiệp và thủy sản", "grdp_share_agriculture", None),  # a comma, not a unit
])
def test_names_abbreviations_and_units_in_names(text, key, unit):
    m, u, _foot = sub._match_name(text)
    assert (m.key if m else None, u) == (key, unit)


@pytest.mark.parametrize("label, total", [
    ("Tổng cộng", True), ("Tổng cộng (I + II)", True), ("Cộng (A+B)", True), ("TỔNG SỐ", True), ("Trong đó:", True),
    ("Tổng mức bán lẻ hàng hóa khác", False), ("Tổng vốn vay ưu đãi", False), ("Cộng đồng dân cư", False),
])
def test_total_lines_are_told_from_unknown_indicators(label, total):
    from diaphuong.text.normalize import fold
    assert sub._is_total_label(fold(label)) is total


def test_a_change_written_with_its_sign_among_indices(tmp_path):
    """One "+7,5%" in a column of indices is a change; the indices are still indices."""
    p = tmp_path / "48_mixed.csv"
    p.write_text("Mã chỉ tiêu;Thực hiện kỳ báo cáo;So với cùng kỳ (%)\n"
                 "retail_sales;45210,5;109,2\nexport_value;1850,4;+7,5%\nbudget_revenue;12345,6;104,1\n"
                 "import_value;1500;giảm 2,0%\n", encoding="utf-8")
    r = read_submission(p, cycle="2026-H1")
    yoy = [(t[0], t[3], t[7]) for t in rows(r) if t[2] == "yoy_pct"]
    assert yoy == [("48_mixed!C2", 9.2, None), ("48_mixed!C3", 7.5, "growth_not_index"),
                   ("48_mixed!C4", 4.1, None), ("48_mixed!C5", -2.0, "growth_not_index")]
    assert any("2 figures written as changes" in n for n in r.notes)


def test_the_template_header_is_taken_as_the_scan_would_take_it():
    r = read("01_on_template.xlsx")
    data = (FIX / "01_on_template.xlsx").read_bytes()
    sh = sub._sheets_of(data, "x", sub._open(data, FIX / "01_on_template.xlsx", "x"))[0]
    fast = sub._template_header(sh, min(len(sh.rows), sub.HEADER_SCAN_ROWS))
    scan = sub._scan_header(sh, sub.layouts().base, sub._merge_fill(sh, 60), ())
    assert (fast.header_row, fast.header_height, fast.cols, fast.data_start, fast.score) == \
        (scan.header_row, scan.header_height, scan.cols, scan.data_start, scan.score)
    assert r.sheet == "Bieu_01"


def test_words_in_an_index_column_do_not_stop_it_being_read_as_index(tmp_path):
    """A signature under the table and a "chưa có" in the comparison column hold no figure: the
    column of indices is still read as indices, and the word is quarantined for its cell."""
    import xlsxwriter

    from diaphuong.ingest.submissions import _template_columns

    p = tmp_path / "48_da_nang.xlsx"
    wb = xlsxwriter.Workbook(str(p))
    ws = wb.add_worksheet("Bieu_01")
    ws.write(0, 0, "Tỉnh/thành phố: Thành phố Đà Nẵng")
    ws.write(1, 0, "Kỳ báo cáo: 6 tháng đầu năm 2026")
    for j, label in enumerate(_template_columns()[0]):
        ws.write(3, j, label)
    data = [("retail_sales", 45210.5, 109.2), ("export_value", 1850.4, "chưa có"), ("budget_revenue", 12345.6, 104.1)]
    for i, (code, value, yoy) in enumerate(data, start=4):
        ws.write(i, 1, code)
        ws.write(i, 4, value)
        ws.write(i, 5, yoy)
    ws.write(9, 1, "Người lập biểu")
    ws.write(9, 5, "Thủ trưởng đơn vị")  # under the comparison column
    wb.close()
    r = read_submission(p, cycle=CYCLE)
    got = [(t[0], t[1], t[2], t[3]) for t in rows(r)]
    assert got == [("Bieu_01!E5", "retail_sales", "value", 45210.5), ("Bieu_01!F5", "retail_sales", "yoy_pct", 9.2),
                   ("Bieu_01!E6", "export_value", "value", 1850.4),
                   ("Bieu_01!E7", "budget_revenue", "value", 12345.6),
                   ("Bieu_01!F7", "budget_revenue", "yoy_pct", 4.1)]
    assert quarantine(r) == [("Bieu_01!F6", "not_a_number")]


@pytest.mark.parametrize("header, yoy, expected, flag", [
    ("Growth y/y (%)", 7.5, 7.5, "growth_not_index"),
    ("Tăng trưởng (%)", 107.5, 7.5, None),
    ("Tốc độ tăng (%)", 7.5, 7.5, "growth_not_index"),
])
def test_growth_headers_are_the_comparison_column(tmp_path, header, yoy, expected, flag):
    import xlsxwriter

    p = tmp_path / "22_quang_ninh.xlsx"
    wb = xlsxwriter.Workbook(str(p))
    ws = wb.add_worksheet("Report")
    for j, h in enumerate(["Indicator", "Unit", "Actual", header, "Plan (%)"]):
        ws.write(0, j, h)
    for i, (name, unit, value) in enumerate([("Kim ngạch xuất khẩu", "triệu USD", 1850.4),
                                             ("Thu ngân sách nhà nước", "tỷ đồng", 12345.6),
                                             ("Tổng mức bán lẻ hàng hóa và doanh thu dịch vụ tiêu dùng", "tỷ đồng", 45210.5)],
                                            start=1):
        ws.write(i, 0, name)
        ws.write(i, 1, unit)
        ws.write(i, 2, value)
        ws.write(i, 3, yoy)
    wb.close()
    r = read_submission(p, cycle=CYCLE)
    got = [(t[0], t[1], t[2], t[3], t[7]) for t in rows(r) if t[2] == "yoy_pct"]
    assert got == [(f"Report!D{i}", ind, "yoy_pct", expected, flag)
                   for i, ind in ((2, "export_value"), (3, "budget_revenue"), (4, "retail_sales"))]


def test_province_on_its_own_line_and_a_comparison_between_years(tmp_path):
    """An official letterhead ("ỦY BAN NHÂN DÂN" / "TỈNH NGHỆ AN"), a title starting with "Tình
    hình", and the comparison column headed by the two years ("9T 2026 so với 9T 2025 (%)")."""
    import xlsxwriter

    p = tmp_path / "bao_cao_9_thang.xlsx"
    wb = xlsxwriter.Workbook(str(p))
    ws = wb.add_worksheet("BC 9T")
    ws.write(0, 0, "ỦY BAN NHÂN DÂN")
    ws.write(1, 0, "TỈNH NGHỆ AN")
    ws.write(3, 2, "TÌNH HÌNH KINH TẾ - XÃ HỘI 9 THÁNG NĂM 2026")
    for j, h in enumerate(["STT", "Chỉ tiêu", "ĐVT", "Thực hiện 9 tháng năm 2025", "Ước thực hiện 9 tháng năm 2026",
                           "9T 2026 so với 9T 2025 (%)"]):
        ws.write(5, j, h)
    for i, (name, unit, last, now, idx) in enumerate([("Tổng mức bán lẻ", "nghìn tỷ đồng", 70.1, 78.456, 111.9),
                                                      ("Số khách du lịch", "nghìn lượt", 4100.0, 4500.5, 109.8)],
                                                     start=6):
        for j, v in enumerate((i - 5, name, unit, last, now, idx)):
            ws.write(i, j, v)
    wb.close()
    r = read_submission(p, cycle="2026-9M")
    assert (r.province.code, r.province.province_set) == ("40", "2025")
    assert [(t[0], t[1], t[2], t[3]) for t in rows(r)] == [
        ("BC 9T!E7", "retail_sales", "value", 78456.0), ("BC 9T!F7", "retail_sales", "yoy_pct", 11.9),
        ("BC 9T!E8", "visitors", "value", 4500.5), ("BC 9T!F8", "visitors", "yoy_pct", 9.8)]
    assert any("another year's figure" in n for n in r.notes)
    no_quarantine(r)


def _workbook(path, sheet: str, rows: dict[tuple[int, int], list]):
    """A one-sheet .xlsx: each (row, column) key starts a run of cells written to the right."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet(sheet)
    for (r, c), values in rows.items():
        ws.write_row(r, c, values)
    wb.close()
    return path


def test_a_table_that_starts_away_from_a1_keeps_its_cell_addresses(tmp_path):
    """calamine gives the range from its first cell; the reader pads it back to A1 so every
    locator is the cell's own address (the template moved two rows down and one column right)."""
    p = _workbook(tmp_path / "offset.xlsx", "Bieu_01", {
        (2, 1): ["Tỉnh/thành phố:", "Nghệ An"], (3, 1): ["Kỳ báo cáo:", "Năm 2025"],
        (5, 1): ["STT", "Mã chỉ tiêu", "Tên chỉ tiêu", "Đơn vị tính", "Thực hiện kỳ báo cáo",
                 "Kỳ báo cáo so với cùng kỳ năm trước (%)"],
        (6, 1): [1, "export_value", "Kim ngạch xuất khẩu hàng hóa", "triệu USD", 2210.4, 105.3]})
    r = read_submission(p, cycle="2025")
    o = r.observations.set_index("locator")
    assert list(o.index) == ["Bieu_01!F7", "Bieu_01!G7"]
    assert (o.loc["Bieu_01!F7", "value"], o.loc["Bieu_01!G7", "value"]) == (2210.4, 5.3)
    assert r.province.code == "40"
    # the grid is the one calamine pads itself, cell for cell
    import python_calamine as pc

    sh = pc.CalamineWorkbook.from_path(str(p)).get_sheet_by_index(0)
    assert sh.start == (2, 1)
    assert sub._grid(sh) == sh.to_python(skip_empty_area=False)


def test_number_convention_votes_count_every_number_of_a_text():
    """The vote by text shape gives what counting each number token of each text gives: a cell
    of two numbers votes twice, a line break splits nothing a number could span, digits of
    another script and words are kept apart."""
    from diaphuong.text.numbers import _TOKEN_RE, _evidence

    def by_token(texts):
        ev = [_evidence(t) for s in texts for t in _TOKEN_RE.findall(s)]
        return ev.count("vi"), ev.count("en")

    texts = ["1.234,5", "12.345.678", "1,234.50", "2.000,0 (tăng 1.234,5)", "0,125", "1,250",
             "Thủ trưởng đơn vị", "3,5\n4.567,8", "٣,٥", "-7,25*", "1.234", ""]
    assert sub._votes(texts) == by_token(texts) == (9, 1)


def test_numbers_typed_as_text_with_signs(tmp_path):
    """Figures typed as text in the Vietnamese way: a negative value is a value, a signed figure
    in the comparison column states a change; the convention comes from the figure columns."""
    p = _workbook(tmp_path / "text_numbers.xlsx", "Bieu_01", {
        (0, 0): ["Mã chỉ tiêu", "Tên chỉ tiêu", "Đơn vị tính", "Thực hiện kỳ báo cáo",
                 "Kỳ báo cáo so với cùng kỳ năm trước (%)"],
        (1, 0): ["export_value", "Kim ngạch xuất khẩu hàng hóa", "triệu USD", "2.210,4", "105,3"],
        (2, 0): ["import_value", "Kim ngạch nhập khẩu hàng hóa", "triệu USD", "1.105,25", "-2,5"],
        (3, 0): ["grdp_growth", "Tốc độ tăng trưởng GRDP", "%", "-1,5", ""]})
    r = read_submission(p, cycle="2025")
    got = {(o.locator, o.value, o.original_value, o.flag) for o in r.observations.itertuples()}
    assert ("Bieu_01!D2", 2210.4, "2.210,4", None) in got
    assert ("Bieu_01!E2", 5.3, "105,3", None) in got  # an index: 105,3 is +5.3 %
    assert ("Bieu_01!D3", 1105.25, "1.105,25", None) in got
    assert ("Bieu_01!E3", -2.5, "-2,5", "growth_not_index") in got  # the sign says it is a change
    assert ("Bieu_01!D4", -1.5, "-1,5", None) in got  # a negative growth rate, not an index
    assert len(got) == 5
    assert "numbers written the English way (1,234.5)" not in r.notes


def test_a_symbol_in_a_growth_column_is_not_flagged_as_growth(tmp_path):
    """A column read as growth (7,5) flags its figures; a symbol in it states no figure."""
    p = _workbook(tmp_path / "growth_symbol.xlsx", "Bieu_01", {
        (0, 0): ["Mã chỉ tiêu", "Thực hiện kỳ báo cáo", "Kỳ báo cáo so với cùng kỳ năm trước (%)"],
        (1, 0): ["export_value", 2210.4, 7.5], (2, 0): ["import_value", 1105.2, -3.2],
        (3, 0): ["retail_sales", 5012.0, "x"]})
    o = read_submission(p, cycle="2025").observations.set_index("locator")
    assert o.loc["Bieu_01!C2", "flag"] == o.loc["Bieu_01!C3", "flag"] == "growth_not_index"
    assert o.loc["Bieu_01!C4", "qualifier"] == "not_applicable"
    assert o.loc["Bieu_01!C4", "flag"] is None


def test_far_cells_of_a_legacy_xls_are_refused_before_calamine_builds_the_grid(monkeypatch):
    """A 6 kB .xls with one cell at IV65536 would make calamine build 16.8 million cells (about a
    gigabyte): its cell records are read first and the file is refused without calamine."""
    def no_calamine(*a, **k):
        raise AssertionError("calamine was asked to read the sheet")

    monkeypatch.setattr(sub, "_calamine_sheets", no_calamine)
    with pytest.raises(UnreadableFile) as ei:
        read("xx_far_apart_cells.xls")
    assert ei.value.reason == "too_many_cells"
    assert "sheet 'Bieu_01' spans 65536 rows x 256 columns of cells (limit 200000)" in str(ei.value)


def test_the_legacy_xls_pre_scan_measures_the_template_as_read():
    """The pre-scan of a legacy .xls lets a normal one through (calamine reads it as before)."""
    sub._check_xls_extent((FIX / "30_legacy.xls").read_bytes(), "30_legacy.xls")
    assert len(read("30_legacy.xls").observations) == 10


def test_a_file_past_the_size_limit_is_refused_and_a_large_one_is_read_whole(tmp_path, monkeypatch):
    """The first read takes 64 KiB; a larger file is measured, refused past the limit, else read
    to its end (a CSV of 150 kB with its rows padded by a notes column)."""
    monkeypatch.setitem(sub.LIMITS, "file_bytes", 400_000)
    rows = ["Mã chỉ tiêu;Thực hiện kỳ báo cáo;Ghi chú", "export_value;2.210,4;" + "x" * 70_000,
            "import_value;1.105,2;" + "y" * 80_000]
    big = tmp_path / "large.csv"
    big.write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert 2 * sub._FIRST_READ < big.stat().st_size < 400_000
    monkeypatch.setitem(sub.LIMITS, "csv_bytes", 400_000)
    r = read_submission(big, cycle="2025")
    assert list(r.observations["value"]) == [2210.4, 1105.2]
    huge = tmp_path / "huge.csv"
    huge.write_bytes(b"x" * 500_000)
    with pytest.raises(UnreadableFile) as ei:
        read_submission(huge, cycle="2025")
    assert ei.value.reason == "too_large" and "500000 bytes (limit 400000)" in str(ei.value)


@pytest.mark.parametrize("name", ["01_on_template.xlsx", "30_legacy.xls", "32_utf8_bom.csv"])
def test_short_reads_are_read_on_to_the_end(name, monkeypatch):
    """A read that returns less than asked (a network drive, a pipe) is not taken for the whole
    file: a zip needs its directory's end, an Office file whole sectors, anything else its size."""
    whole = read(name).observations
    real_read = os.read
    monkeypatch.setattr(os, "read", lambda fd, n: real_read(fd, min(n, 1000)))
    assert read(name).observations.equals(whole)


def test_figures_typed_as_text_under_the_unit_and_index_rules(tmp_path):
    """A value typed as text is converted from its unit, read as the change an index states, or
    quarantined for a unit that cannot be its indicator's, as a number cell would be; its text
    as written is kept."""
    p = _workbook(tmp_path / "text_rules.xlsx", "Bieu_01", {
        (0, 0): ["Mã chỉ tiêu", "Đơn vị tính", "Thực hiện kỳ báo cáo", "Kỳ báo cáo so với cùng kỳ năm trước (%)"],
        (1, 0): ["export_value", "tỷ USD", "2,5", "107,5"],
        (2, 0): ["iip_growth", "%", "108,2", ""],
        (3, 0): ["grdp_growth", "%", "-1,5", ""],
        (4, 0): ["import_value", "người", "1.234,5", "99,0"]})
    r = read_submission(p, cycle="2025")
    got = {(o.locator, o.value, o.unit, o.original_value, o.flag) for o in r.observations.itertuples()}
    assert ("Bieu_01!C2", 2500.0, "mn_usd", "2,5", "unit_converted") in got
    assert ("Bieu_01!C3", 8.2, "pct", "108,2", "index_as_change") in got
    assert ("Bieu_01!C4", -1.5, "pct", "-1,5", None) in got
    q = r.quarantine.set_index("locator")
    assert q.loc["Bieu_01!B5", "reason"] == "unit_mismatch" and q.loc["Bieu_01!B5", "raw_value"] == "1.234,5 người"


def test_the_cycle_frame_is_the_same_from_row_tuples_or_their_arrays():
    """The reader keeps each file's rows as one array; a part holding row tuples (or none) gives
    the same frame, with the per-file columns repeated over each file's rows."""
    a, b = read("01_on_template.xlsx").obs_rows, read("02_names_not_codes.xlsx").obs_rows
    a.const.update(source_file="a.xlsx", province_code="48")
    b.const.update(source_file="b.xlsx", province_code="01")
    as_tuples = sub.Rows(b.table, b.per_row, [tuple(r) for r in b.rows], dict(b.const))
    empty = sub.Rows(b.table, b.per_row, [], dict(b.const))
    df = sub.frame_of([a, empty, as_tuples])
    assert df.equals(sub.frame_of([a, b]))
    assert list(df.columns) == list(schema.TABLES["observation"].columns)
    assert str(df["value"].dtype) == "float64"
    assert list(df["source_file"]) == ["a.xlsx"] * len(a) + ["b.xlsx"] * len(b)
    assert df["indicator"].tolist() == [r[0] for r in a.rows] + [r[0] for r in b.rows]


def test_locators_are_made_once_per_column_and_grow():
    locs = sub._locators("Bieu_01!E", 10)
    assert locs[:3] == ["Bieu_01!E1", "Bieu_01!E2", "Bieu_01!E3"]
    assert sub._locators("Bieu_01!E", 5) is locs  # shared by the files that have the column
    longer = sub._locators("Bieu_01!E", 5000)
    assert len(longer) >= 5000 and longer[4999] == "Bieu_01!E5000" and longer[:10] == locs[:10]


def test_clean_files_share_one_empty_quarantine_that_nothing_writes_into(tmp_path):
    """A file with nothing quarantined gets the one shared empty quarantine (a cycle keeps nothing
    per clean file for it); the pipeline's per-file constants never land on it."""
    from diaphuong.calendar import cycle_calendar
    from diaphuong.ingest.discover import register_files
    from diaphuong.pipeline import parse_submission_file

    a, b = read("01_on_template.xlsx"), read("03_columns_reordered.xlsx")
    assert a.q_rows is b.q_rows is sub._NO_QUARANTINE and len(a.q_rows) == 0
    assert a.quarantine.empty and list(a.quarantine.columns) == list(schema.TABLES["quarantine"].columns)
    inbox = tmp_path / "2026-H1" / "submissions"
    inbox.mkdir(parents=True)
    shutil.copy(FIX / "01_on_template.xlsx", inbox / "48_da_nang.xlsx")
    f = register_files(tmp_path, "2026-H1").to_dict("records")[0]
    res = parse_submission_file(tmp_path, "2026-H1", f, cycle_calendar("2026-H1"))
    assert len(res.observations) == len(a.observations) and res.quarantine.empty
    assert sub._NO_QUARANTINE.const == {} and len(sub._NO_QUARANTINE.rows) == 0


def _patched_sheet(tmp_path, name, patch):
    """A small workbook whose sheet XML is patched (what a crafted or broken file looks like)."""
    src = _workbook(tmp_path / f"source_{name}", "Bieu_01", {
        (0, 0): ["Mã chỉ tiêu", "Thực hiện kỳ báo cáo"], (1, 0): ["export_value", 2210.4],
        (2, 0): ["import_value", 1105.2]})
    p = tmp_path / name
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as out:
        for item in zin.infolist():
            data = zin.read(item.filename)
            out.writestr(item, patch(data) if item.filename == "xl/worksheets/sheet1.xml" else data)
    return p


@pytest.mark.parametrize("patch", [
    lambda d: d.replace(b'<c r="B3"', b'<c r="XFD1048576"'),  # a far cell inside a near row
    lambda d: d.replace(b'<c r="B3"', b'<c r="xfd1048576"'),  # the same in lower case
    lambda d: d.replace(b'<row r="2"', b'<row r="1048575"').replace(b'<c r="B2"', b'<c r="B1048575"'),
    # XML allows other quotes and spaces, which calamine reads alike
    lambda d: d.replace(b'<c r="B3"', b"<c r='XFD1048576'"),
    lambda d: d.replace(b'<c r="B3"', b'<c r = "XFD1048576"'),
    lambda d: d.replace(b'<c r="B3"', b'<c\tr="XFD1048576"'),
    lambda d: d.replace(b'<c r="B3"', b'<c\r\nr="XFD1048576"'),
    lambda d: d.replace(b'<c r="B3"', b'<c r="B3" r="XFD1048576"'),  # the last one counts
    # bytes that are not UTF-8 before it do not blind the scan
    lambda d: d.replace(b"<sheetData>", b"<!-- \xff\xfe\xc3( --><sheetData>").replace(
        b'<c r="B3"', b'<c r="XFD1048576"'),
])
def test_far_cells_are_refused_before_calamine_builds_the_grid(tmp_path, patch):
    """calamine places cells by their own references and would allocate 17 billion cells (and
    abort the process): every reference counts, in whatever row element it stands."""
    p = _patched_sheet(tmp_path, "crafted.xlsx", patch)
    with pytest.raises(UnreadableFile) as ei:
        read_submission(p, cycle="2025")
    assert ei.value.reason == "too_many_cells"
    assert "columns of cells (limit 200000)" in str(ei.value)


def test_a_wide_but_small_sheet_is_read(tmp_path):
    """A reference past column Z makes the reader measure the sheet; a small one is read."""
    p = _patched_sheet(tmp_path, "wide.xlsx", lambda d: d.replace(b'<c r="B3"', b'<c r="AB3"'))
    r = read_submission(p, cycle="2025")
    assert list(r.observations["locator"]) == ["Bieu_01!B2"]


@pytest.mark.parametrize("patch", [
    lambda d: d.replace(b'<c r="B2"', b"<c r='B2'"),
    lambda d: d.replace(b'<c r="B2"', b'<c\n r = "B2"'),
])
def test_near_references_quoted_or_spaced_otherwise_are_read(tmp_path, patch):
    """A sheet measured by the tolerant pattern (another quote, spaces, a line break) is read as
    any other when its references are near."""
    p = _patched_sheet(tmp_path, "odd_quotes.xlsx", patch)
    r = read_submission(p, cycle="2025")
    assert list(r.observations["locator"]) == ["Bieu_01!B2", "Bieu_01!B3"]
    assert list(r.observations["value"]) == [2210.4, 1105.2]


def test_a_reference_without_a_row_is_a_corrupt_sheet_not_a_crash(tmp_path):
    p = _patched_sheet(tmp_path, "bad_ref.xlsx", lambda d: d.replace(b'<c r="B3"', b'<c r="AB"'))
    with pytest.raises(UnreadableFile) as ei:
        read_submission(p, cycle="2025")
    assert ei.value.reason == "corrupt" and "Bieu_01" in str(ei.value)


def _same(a, b):
    """Two reads give the same observations, quarantine, province, period, sheet and notes."""
    return (a.observations.equals(b.observations) and a.quarantine.equals(b.quarantine)
            and (a.province, a.province_source, a.period, a.sheet, a.notes)
            == (b.province, b.province_source, b.period, b.sheet, b.notes))


def test_several_files_read_together_give_what_each_gives_alone_and_errors_in_place(monkeypatch):
    """read_submissions takes the files stage by stage in batches: every fixture (the readable
    ones, and the corrupt, encrypted, empty, bomb and table-less ones among them) gives the same
    result as read alone, its error in its place, in the order given; the batches are cut by file
    count and by bytes held (here 3 files, 40 kB), and one file's failure costs the others nothing."""
    monkeypatch.setattr(sub, "_BATCH_FILES", 3)
    monkeypatch.setattr(sub, "_BATCH_BYTES", 40_000)
    names = sorted(p.name for p in FIX.iterdir() if p.is_file() and p.suffix in (".xlsx", ".xls", ".ods", ".csv"))
    names.insert(1, "missing_file.xlsx")  # cannot be opened: its error, read at the first stage
    got = sub.read_submissions([FIX / n for n in names], cycle=CYCLE)
    assert len(got) == len(names)
    n_errors = 0
    for name, res in zip(names, got):
        try:
            alone = read(name)
        except (UnreadableFile, LayoutError) as e:
            assert type(res) is type(e) and str(res) == str(e) and res.reason == e.reason, name
            n_errors += 1
            continue
        assert _same(res, alone), name
    assert n_errors >= 10 and len(names) - n_errors >= 30
    assert isinstance(got[1], UnreadableFile) and got[1].reason == "unreadable"


def test_batch_takes_name_and_hash_as_given():
    """A SubmissionFile's recorded name and sha256 are the ones its observations carry."""
    f = sub.SubmissionFile(FIX / "01_on_template.xlsx", "2026-H1/submissions/01.xlsx", "ab" * 32)
    (r,) = sub.read_submissions([f], cycle=CYCLE)
    assert set(r.observations["source_file"]) == {"2026-H1/submissions/01.xlsx"}
    assert set(r.observations["source_sha256"]) == {"ab" * 32}
    (r2,) = sub.read_submissions([FIX / "01_on_template.xlsx"], cycle=CYCLE)
    digest = hashlib.sha256((FIX / "01_on_template.xlsx").read_bytes()).hexdigest()
    assert set(r2.observations["source_file"]) == {"01_on_template.xlsx"}
    assert set(r2.observations["source_sha256"]) == {digest}


@pytest.mark.parametrize("cells, order", [
    (500_000, ["check", "check", "check", "read", "read", "table", "table"]),
    (1, ["check", "check", "check", "read", "table", "read", "table"])], ids=["small-grids", "grids-past-the-bound"])
def test_a_batch_checks_every_file_before_calamine_and_bounds_the_grids_it_holds(monkeypatch, cells, order):
    """Stage order: the container checks of every file of a batch run before calamine opens any
    of them (a crafted sheet in the batch is refused before calamine is reached); the tables are
    read once the grids calamine made hold more than ``_BATCH_CELLS`` cells, or at the batch's end."""
    monkeypatch.setattr(sub, "_BATCH_CELLS", cells)
    calls = []
    real_open, real_sheets, real_read = sub._open, sub._sheets_of, sub._read_sheets

    def spy(kind, fn):
        return lambda *a: calls.append(kind) or fn(*a)

    monkeypatch.setattr(sub, "_open", spy("check", real_open))
    monkeypatch.setattr(sub, "_sheets_of", spy("read", real_sheets))
    monkeypatch.setattr(sub, "_read_sheets", spy("table", real_read))
    names = ["01_on_template.xlsx", "xx_far_apart_cells.xlsx", "30_legacy.xls"]
    got = sub.read_submissions([FIX / n for n in names], cycle=CYCLE)
    assert calls == order
    assert isinstance(got[1], UnreadableFile) and got[1].reason == "too_many_cells"
    assert _same(got[0], read(names[0])) and _same(got[2], read(names[2]))


def test_the_pipeline_reads_a_tasks_spreadsheets_together_each_with_its_own_outcome(tmp_path):
    """parse_submission_files: a readable form, a format diaphuong does not read, a corrupt file
    and a second form, in one call: each gets its own result, in the order given (the corrupt one
    quarantined whole, the unsupported one refused by format), and a form's rows are what reading
    it alone gives."""
    from diaphuong.calendar import cycle_calendar
    from diaphuong.ingest.discover import register_files
    from diaphuong.pipeline import parse_submission_file, parse_submission_files

    inbox = tmp_path / "2026-H1" / "submissions"
    inbox.mkdir(parents=True)
    shutil.copy(FIX / "01_on_template.xlsx", inbox / "a_48_da_nang.xlsx")
    (inbox / "b_01_ha_noi.numbers").write_bytes(b"not read")
    shutil.copy(FIX / "xx_corrupt.xlsx", inbox / "c_04_cao_bang.xlsx")
    shutil.copy(FIX / "03_columns_reordered.xlsx", inbox / "d_08_tuyen_quang.xlsx")
    fs = register_files(tmp_path, "2026-H1").to_dict("records")
    assert [f["rel"] for f in fs] == ["submissions/a_48_da_nang.xlsx", "submissions/b_01_ha_noi.numbers",
                                      "submissions/c_04_cao_bang.xlsx", "submissions/d_08_tuyen_quang.xlsx"]
    cal = cycle_calendar("2026-H1")
    got = parse_submission_files(tmp_path, "2026-H1", fs, cal)
    assert [r.submission["path"] for r in got] == [f["path"] for f in fs]
    assert [r.submission["outcome"] for r in got][1:3] == ["quarantined", "quarantined"]
    assert list(got[1].quarantine["reason"]) == ["unsupported_format"]
    assert list(got[2].quarantine["reason"]) == ["corrupt"]
    for k in (0, 3):
        alone = parse_submission_file(tmp_path, "2026-H1", fs[k], cal)
        assert got[k].submission["outcome"] == alone.submission["outcome"] != "quarantined"
        assert got[k].observations.equals(alone.observations) and len(got[k].observations) >= 10
