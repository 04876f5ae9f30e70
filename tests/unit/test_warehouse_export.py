"""`diaphuong export`: the panel for Excel users (xlsx and csv)."""
import csv

import pandas as pd
import pytest
from openpyxl import load_workbook
from python_calamine import CalamineWorkbook

from diaphuong import schema, warehouse
from diaphuong.catalog.indicators import indicator
from diaphuong.catalog.units import units
from diaphuong.errors import DiaphuongError
from diaphuong.export import export_panel
from diaphuong.settings import load_settings

CYCLE = "2025-H2"


@pytest.fixture
def settings(tmp_path):
    s = load_settings(warehouse_dir=tmp_path / "wh", raw_dir=tmp_path / "raw")
    rows = []
    for prov, rev, ent, growth in (("01", 250123.4, 15234.0, 8.25), ("79", 612000.5, 41002.0, 7.9)):
        for ind, v, unit in (("budget_revenue", rev, "bn_vnd"), ("new_enterprises", ent, "enterprises"),
                             ("grdp_growth", growth, "pct")):
            rows.append({"period": CYCLE, "province_code": prov, "province_set": "2025", "indicator": ind,
                         "measure": "value", "value": v, "unit": unit, "status": "E", "source_kind": "submission",
                         "source_file": f"{CYCLE}/{prov}.xlsx", "source_sha256": prov * 32,
                         "locator": f"Bieu_01!E{len(rows) + 8}"})
    # a text figure that starts like a formula must stay text (never a formula)
    con = warehouse.connect(s)
    warehouse.load_cycle(con, warehouse.CycleBatch(CYCLE, "r1", {}, pd.DataFrame(rows), schema.empty_frame("observation"),
                                                   {"run_id": "r1", "cycle": CYCLE, "outcome": "completed"}))
    con.execute("UPDATE province SET name_vi = '=HYPERLINK(\"x\")' WHERE code = '79' AND province_set = '2025'")
    con.close()
    return s


def test_xlsx_has_vietnamese_headings_with_units_numbers_and_no_formulas(settings, tmp_path):
    path = export_panel(settings, CYCLE, "xlsx", tmp_path / "panel.xlsx")
    wb = load_workbook(path)  # not read-only: formulas would show as data_type "f"
    ws = wb["Bang_so_lieu"]
    head = [c.value for c in ws[1]]
    rev = indicator("budget_revenue")
    assert head[:4] == ["Kỳ", "Mã tỉnh", "Danh mục tỉnh", "Tỉnh/thành phố"]
    assert f"{rev.name_vi} (tỷ đồng)" in head
    assert f"{indicator('new_enterprises').name_vi} ({units()['enterprises'].name_vi})" in head
    assert f"{indicator('grdp_growth').name_vi} (%)" in head
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)
    body = {r[1]: r for r in ws.iter_rows(min_row=2, values_only=True)}
    assert set(body) == {"01", "79"}  # codes stay text, with their leading zero
    j = head.index(f"{rev.name_vi} (tỷ đồng)")
    assert body["01"][j] == 250123.4 and isinstance(body["01"][j], float)
    assert body["79"][3] == '=HYPERLINK("x")'  # written as text
    cell = ws.cell(row=2, column=j + 1)
    assert (cell.data_type, cell.number_format) == ("n", "#,##0.0#")
    ent = ws.cell(row=2, column=head.index(f"{indicator('new_enterprises').name_vi} (doanh nghiệp)") + 1)
    assert ent.number_format == "#,##0"
    notes = [r for r in wb["Chu_thich"].iter_rows(min_row=2, values_only=True) if r[1]]
    assert ("budget_revenue", "tỷ đồng", "bn_vnd") in {r[1:4] for r in notes}


def test_xlsx_reads_back_as_numbers_with_calamine(settings, tmp_path):
    path = export_panel(settings, CYCLE, "xlsx", tmp_path / "panel.xlsx")
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Bang_so_lieu").to_python()
    assert rows[0][0] == "Kỳ"
    nums = [v for r in rows[1:] for v in r[4:] if v != ""]
    assert nums and all(isinstance(v, float) for v in nums)


def test_csv_has_vietnamese_headings_and_a_bom(settings, tmp_path):
    path = export_panel(settings, CYCLE, "csv", tmp_path / "panel.csv")
    assert path.read_bytes()[:3] == b"\xef\xbb\xbf"
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][:2] == ["Kỳ", "Mã tỉnh"]
    assert f"{indicator('budget_revenue').name_vi} (tỷ đồng)" in rows[0]
    assert [r[1] for r in rows[1:]] == ["01", "79"]


def test_unknown_cycle_and_format_are_one_line_errors(settings, tmp_path):
    with pytest.raises(DiaphuongError, match="no figures for cycle 2030-H1"):
        export_panel(settings, "2030-H1", "xlsx", tmp_path / "x.xlsx")
    with pytest.raises(DiaphuongError, match="unknown export format"):
        export_panel(settings, CYCLE, "ods", tmp_path / "x.ods")
