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
    if fmt != "xlsx":
        raise DiaphuongError(f"unknown export format {fmt!r}", hint="use xlsx or csv")
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(out_path))
    ws = wb.add_worksheet("Bang_so_lieu")
    head = wb.add_format({"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#DDEBF7", "border": 1})
    num = wb.add_format({"num_format": "#,##0.00"})
    for j, h in enumerate(heads):
        ws.write_string(0, j, h, head)
        ws.set_column(j, j, 14 if j >= len(FIXED) else 18)
    for i, row in enumerate(df.itertuples(index=False), start=1):
        for j, v in enumerate(row):
            if v is None or (isinstance(v, float) and v != v):
                continue
            if isinstance(v, (int, float)):
                ws.write_number(i, j, float(v), num)
            else:
                ws.write_string(i, j, str(v))  # never a formula, whatever the text starts with
    ws.freeze_panes(1, len([c for c in df.columns if c in FIXED]))
    ws.autofilter(0, 0, len(df), len(heads) - 1)
    ws.set_row(0, 60)
    wb.close()
    return out_path
