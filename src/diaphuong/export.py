"""The panel for Excel users: one row per province and period, one column per indicator, with
Vietnamese headings, units in the heading and Vietnamese number formats."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from diaphuong.catalog.indicators import indicators
from diaphuong.catalog.units import units
from diaphuong.errors import DiaphuongError
from diaphuong.settings import Settings

FIXED = {"period": "Kỳ", "province_code": "Mã tỉnh", "province_set": "Danh mục tỉnh", "province_name": "Tỉnh/thành phố"}


def panel_frame(settings: Settings, cycle: str) -> pd.DataFrame:
    from diaphuong.query import run_query

    safe = cycle.replace("'", "")
    df, _ = run_query(settings, f"""
        SELECT p.* FROM panel p
        WHERE p.period IN (SELECT DISTINCT period FROM observation WHERE cycle = '{safe}')
        ORDER BY p.period, p.province_code""")
    if df.empty:
        raise DiaphuongError(f"no figures for cycle {cycle} in the warehouse",
                             hint="list the cycles with: diaphuong sql \"SELECT cycle FROM cycle\"")
    keep = [c for c in df.columns if c in FIXED or not df[c].isna().all()]
    return df[keep]


# Excel number formats: the separators are placeholders that Excel draws in the reader's locale
# (1.234,5 in a Vietnamese Excel, 1,234.5 in an English one): the cell holds a number, never text.
COUNT_UNITS = ("persons", "enterprises", "projects", "visits", "households")


def number_format(unit: str | None) -> str:
    if unit in COUNT_UNITS:
        return "#,##0"
    if unit in ("pct", "pp"):
        return "0.0#"
    return "#,##0.0#"


def headings(columns: list[str]) -> list[str]:
    cat, us = indicators(), units()
    out = []
    for c in columns:
        if c in FIXED:
            out.append(FIXED[c])
        else:
            ind = cat[c]
            out.append(f"{ind.name_vi} ({us[ind.unit].name_vi})")
    return out


def export_panel(settings: Settings, cycle: str, fmt: str, out_path: Path | None = None) -> Path:
    """The panel of the cycle's periods as ``xlsx`` (sheet ``Bang_so_lieu``: Vietnamese headings
    with units, numbers as numbers with Excel number formats, never a formula; sheet ``Chu_thich``:
    each column's indicator key and unit) or ``csv`` (UTF-8 with BOM, Vietnamese headings)."""
    if fmt not in ("xlsx", "csv"):
        raise DiaphuongError(f"unknown export format {fmt!r}", hint="use xlsx or csv")
    df = panel_frame(settings, cycle)
    out_dir = settings.reports_dir / cycle
    out_path = out_path or out_dir / f"panel_{cycle}.{fmt}"
    out_path.parent.mkdir(parents=True, exist_ok=True)
    heads = headings(list(df.columns))
    if fmt == "csv":
        # Excel opens UTF-8 with a BOM correctly; a semicolon would be Excel-VN's list separator,
        # but a comma with a decimal point is what every other tool reads.
        df.set_axis(heads, axis=1).to_csv(out_path, index=False, encoding="utf-8-sig")
        return out_path
    import xlsxwriter

    cat, us = indicators(), units()
    wb = xlsxwriter.Workbook(str(out_path), {"strings_to_formulas": False, "strings_to_urls": False})
    ws = wb.add_worksheet("Bang_so_lieu")
    head = wb.add_format({"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#DDEBF7", "border": 1})
    fmts = {}
    for j, c in enumerate(df.columns):
        unit = cat[c].unit if c in cat else None
        fmts[j] = wb.add_format({"num_format": number_format(unit)})
    n_fixed = len([c for c in df.columns if c in FIXED])
    for j, h in enumerate(heads):
        ws.write_string(0, j, h, head)
        ws.set_column(j, j, 14 if j >= n_fixed else 18)
    for i, row in enumerate(df.itertuples(index=False), start=1):
        for j, v in enumerate(row):
            if v is None or v is pd.NA or (isinstance(v, float) and v != v):
                continue
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                ws.write_number(i, j, float(v), fmts[j])
            else:
                ws.write_string(i, j, str(v))  # never a formula, whatever the text starts with
    ws.freeze_panes(1, n_fixed)
    ws.autofilter(0, 0, len(df), len(heads) - 1)
    ws.set_row(0, 60)
    notes = wb.add_worksheet("Chu_thich")
    for j, h in enumerate(("Cột", "Mã chỉ tiêu", "Đơn vị", "Mã đơn vị")):
        notes.write_string(0, j, h, head)
    for i, (c, h) in enumerate(zip(df.columns, heads), start=1):
        notes.write_string(i, 0, h)
        notes.write_string(i, 1, c)
        if c in cat:
            notes.write_string(i, 2, us[cat[c].unit].name_vi)
            notes.write_string(i, 3, cat[c].unit)
    notes.write_string(len(heads) + 2, 0, f"Kỳ báo cáo {cycle}; số liệu hiện hành (observation_current), "
                                         "ưu tiên biểu số liệu của tỉnh trước báo cáo văn bản.")
    notes.set_column(0, 0, 60)
    notes.set_column(1, 3, 24)
    wb.close()
    return out_path
