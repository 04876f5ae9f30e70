"""The department's submission form as .xlsx (``diaphuong template``), laid out from
``catalog/data/template.yaml``.

The sheet has the title, the header block (``Tỉnh/thành phố:``, ``Kỳ báo cáo:``, ``Ngày lập:``), then
one table row per indicator that the cycle kind requires, pre-filled with STT, the indicator key,
its Vietnamese name and the catalog unit, with drop-downs for the unit (the units of that
indicator's family) and the status (``status_choices``). ``values`` fills rows, which is how the
demo generator writes filled submissions.

Numbers are numeric cells formatted ``#,##0.0#``: Excel shows the separators of the reader's locale,
so a Vietnamese Excel shows ``1.234,5``; the stored value is the exact float.
"""
from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from pathlib import Path

import xlsxwriter
import yaml

from diaphuong.catalog.indicators import indicators, required_for
from diaphuong.catalog.provinces import DATA, province_name
from diaphuong.catalog.units import units
from diaphuong.errors import UnknownIndicator
from diaphuong.periods import parse_period

__all__ = ["template_spec", "write_template", "MEASURE_COLUMNS"]

# template column key -> key of the ``values`` dict entry (and the measure it carries)
MEASURE_COLUMNS = ("value", "yoy_index", "pct_of_plan")


@lru_cache(maxsize=1)
def template_spec() -> dict:
    """``catalog/data/template.yaml`` as a dict."""
    return yaml.safe_load((DATA / "template.yaml").read_text(encoding="utf-8"))


def _family_unit_names(unit_code: str) -> list[str]:
    u = units()
    fam = u[unit_code].family
    names = [x.name_vi for x in u.values() if x.family == fam]
    return names


def _col_letter(i: int) -> str:
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def write_template(path: Path, cycle: str, province_code: str | None = None, *,
                   values: dict[str, dict] | None = None, prepared_on: date | None = None) -> Path:
    """Write the form for ``cycle`` (and ``province_code``, whose name goes in the header) to ``path``.

    ``values``: ``{indicator: {"value": float, "yoy_index": float, "pct_of_plan": float,
    "status": "Ước tính", "note": str, "unit": "triệu USD"}}``; every entry is optional. A number
    may also be a string (a table symbol such as ``"-"`` or ``".."``, or a number as text), written
    as text. ``"yoy_pct"`` is accepted in place of ``"yoy_index"`` (written as 100 + yoy_pct).
    Indicators in ``values`` that the cycle kind does not require get rows after the required ones.
    """
    path = Path(path)
    spec = template_spec()
    period = parse_period(cycle)
    cat = indicators()
    req = list(dict.fromkeys(required_for(period.requirement_kind)["indicator"]))
    values = values or {}
    for k in values:
        if k not in cat:
            raise UnknownIndicator(f"write_template: unknown indicator {k!r}")
    extra = [k for k in cat if k in values and k not in req]
    rows = req + extra
    when = prepared_on or date.today()
    pname = province_name(province_code, period.end) if province_code else ""

    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False,
                                         "strings_to_urls": False, "in_memory": True})
    created = datetime(when.year, when.month, when.day)
    wb.set_properties({"title": spec["title"], "author": "diaphuong", "created": created,
                       "comments": f"template {spec['version']}; cycle {period.code}"})
    ws = wb.add_worksheet(spec["sheet_name"])
    cols = spec["columns"]
    ncol = len(cols)
    last = _col_letter(ncol - 1)

    f_title = wb.add_format({"bold": True, "font_size": 13, "align": "center", "valign": "vcenter"})
    f_label = wb.add_format({"bold": True})
    f_head = wb.add_format({"bold": True, "text_wrap": True, "align": "center", "valign": "vcenter",
                            "border": 1, "bg_color": "#DDEBF7"})
    f_text = wb.add_format({"border": 1, "valign": "top"})
    f_wrap = wb.add_format({"border": 1, "text_wrap": True, "valign": "top"})
    f_center = wb.add_format({"border": 1, "align": "center", "valign": "top"})
    f_num = wb.add_format({"border": 1, "num_format": "#,##0.0#", "valign": "top"})
    f_input = wb.add_format({"border": 1, "valign": "top", "bg_color": "#FFF2CC"})
    f_num_input = wb.add_format({"border": 1, "num_format": "#,##0.0#", "valign": "top",
                                 "bg_color": "#FFF2CC"})

    widths = {"stt": 5, "indicator_code": 24, "indicator_name": 48, "unit": 16, "value": 16,
              "yoy_index": 18, "pct_of_plan": 15, "status": 14, "note": 28}
    for j, c in enumerate(cols):
        ws.set_column(j, j, widths.get(c["key"], 14))

    ws.merge_range(f"A1:{last}1", spec["title"], f_title)
    hb = spec["header"]
    ws.write_string(2, 0, hb["province"], f_label)
    ws.write_string(2, 2, pname)
    ws.write_string(3, 0, hb["period"], f_label)
    ws.write_string(3, 2, period.label_vi)
    ws.write_string(4, 0, hb["prepared_on"], f_label)
    ws.write_string(4, 2, when.strftime("%d/%m/%Y"))

    head = 6
    ws.set_row(head, 45)
    for j, c in enumerate(cols):
        ws.write_string(head, j, c["label"], f_head)
    keys = [c["key"] for c in cols]
    colno = {k: j for j, k in enumerate(keys)}

    for n, key in enumerate(rows):
        r = head + 1 + n
        ind = cat[key]
        v = values.get(key, {})
        unit_text = v.get("unit") or units()[ind.unit].name_vi
        ws.write_number(r, colno["stt"], n + 1, f_center)
        ws.write_string(r, colno["indicator_code"], key, f_text)
        ws.write_string(r, colno["indicator_name"], ind.name_vi, f_wrap)
        ws.write_string(r, colno["unit"], unit_text, f_input)
        ws.data_validation(r, colno["unit"], r, colno["unit"], {
            "validate": "list", "source": _family_unit_names(ind.unit),
            "error_type": "warning", "error_message": "Chọn một đơn vị tính trong danh sách",
        })
        for mkey in MEASURE_COLUMNS:
            x = v.get(mkey)
            if x is None and mkey == "yoy_index" and v.get("yoy_pct") is not None:
                x = 100.0 + float(v["yoy_pct"])
            j = colno[mkey]
            if x is None:
                ws.write_blank(r, j, None, f_num_input)
            elif isinstance(x, str):
                ws.write_string(r, j, x, f_input)
            else:
                ws.write_number(r, j, float(x), f_num_input)
        ws.write_string(r, colno["status"], v.get("status") or "", f_input)
        ws.write_string(r, colno["note"], v.get("note") or "", f_input)

    if rows:
        r0, r1 = head + 1, head + len(rows)
        ws.data_validation(r0, colno["status"], r1, colno["status"], {
            "validate": "list", "source": list(spec["status_choices"]),
            "error_type": "warning", "error_message": "Chọn: " + ", ".join(spec["status_choices"]),
        })
    ws.freeze_panes(head + 1, 3)
    wb.close()
    return path
