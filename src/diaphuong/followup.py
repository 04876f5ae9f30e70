"""What to chase after a cycle: the follow-up workbook and draft reminder letters.

* ``followup.xlsx``: one row per thing to chase (province, indicator, what is wrong, the source
  locator, the deadline and how late), Vietnamese headers, autofilter, frozen header row. Every
  text cell is written with ``write_string`` and the workbook refuses to turn strings into
  formulas or links: a province's cell that reads ``=HYPERLINK(...)``, ``+1``, ``-2`` or ``@x``
  stays text.
* ``<code>_<ascii name>.docx``: for each province with something to chase, a draft "công văn đôn
  đốc" (reminder) in Vietnamese administrative style listing the missing, late, rejected and
  conflicting items. Placeholders in square brackets are for the department to fill in.
"""
from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

import pandas as pd

from diaphuong.calendar import add_working_days, cycle_calendar, to_local
from diaphuong.catalog.provinces import provinces
from diaphuong.completeness import _na
from diaphuong.periods import parse_period

HEADERS = [
    ("stt", "STT", 6),
    ("province_code", "Mã tỉnh", 8),
    ("province_name", "Tỉnh/thành phố", 24),
    ("indicator", "Mã chỉ tiêu", 26),
    ("indicator_name", "Chỉ tiêu", 40),
    ("measure_name", "Loại số", 16),
    ("problem", "Vấn đề", 30),
    ("detail", "Chi tiết", 60),
    ("value", "Số trong biểu", 14),
    ("text_value", "Số trong báo cáo lời văn", 14),
    ("locator", "Vị trí trong tệp nguồn", 44),
    ("deadline", "Hạn báo cáo", 12),
    ("received_at", "Thời điểm nhận", 17),
    ("days_late", "Số ngày trễ", 10),
    ("working_days_late", "Số ngày làm việc trễ", 12),
]

PROBLEM = {
    "no_report": "Chưa gửi biểu số liệu",
    "rejected_file": "Biểu số liệu gửi đến không đọc được",
    "late_report": "Gửi báo cáo muộn",
    "missing": "Thiếu chỉ tiêu",
    "invalid": "Số liệu không hợp lệ (bị loại)",
    "conflict": "Số liệu trong báo cáo lời văn và biểu không khớp",
    "text_only": "Chỉ có trong báo cáo lời văn, chưa có trong biểu",
    "unexpected_unit": "Đơn vị không thuộc danh sách báo cáo kỳ này",
    "receipt_from_mtime": "Tệp không có trong sổ nhận (inbox.csv)",
}
# rows about the department's own records, not for the province's letter
INTERNAL = {"unexpected_unit", "receipt_from_mtime"}

MEASURE_VI = {
    "value": "Giá trị", "yoy_pct": "% so cùng kỳ", "mom_pct": "% so tháng trước",
    "pct_of_plan": "% kế hoạch", "ytd_pct": "% lũy kế", "avg_yoy_pct": "% bình quân so cùng kỳ",
}


def _s(v) -> str:
    return "" if _na(v) else str(v)


def fmt_vi(x, decimals: int = 2) -> str:
    """A number as Vietnamese texts write it: 1.234,5 (trailing zeros dropped)."""
    if _na(x):
        return ""
    s = f"{float(x):,.{decimals}f}"
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s.replace(",", "\0").replace(".", ",").replace("\0", ".")


def _date_vi(d) -> str:
    return "" if _na(d) else pd.Timestamp(d).strftime("%d/%m/%Y")


def _indicator_name(key: str) -> str:
    try:
        from diaphuong.catalog.indicators import indicator
        return indicator(key).name_vi
    except Exception:
        return key


def _with_unit(x, key, measure) -> str:
    """'795.525 tỷ đồng', '7,5%': a figure with the unit the catalog gives its indicator."""
    v = fmt_vi(x, 4)
    if not v:
        return ""
    if measure != "value":
        return f"{v}%"
    try:
        from diaphuong.catalog.indicators import indicator
        from diaphuong.catalog.units import units
        code = indicator(key).unit
        name = "%" if code == "pct" else units()[code].name_vi
    except Exception:
        return v
    return f"{v}%" if name == "%" else f"{v} {name}"


def _province_info(code: str, pset: str | None, on: date) -> tuple[str, str]:
    """(name_vi, name_ascii) of a unit: the row valid on ``on`` if any, else its latest name."""
    df = provinces()
    rows = df[df["code"] == code]
    if pset:
        rows = rows[rows["province_set"] == pset] if (rows["province_set"] == pset).any() else rows
    if rows.empty:
        return f"Đơn vị mã {code}", f"Don vi {code}"
    valid = rows[(rows["valid_from"] <= on) & rows["valid_to"].map(lambda v: v is None or v >= on)]
    r = (valid if not valid.empty else rows.sort_values("valid_from")).iloc[-1]
    return r["name_vi"], r["name_ascii"]


def letter_file_name(code: str, name_ascii: str) -> str:
    short = re.sub(r"^(?:Tinh|Thanh pho)\s+", "", name_ascii.strip(), flags=re.I)
    short = re.sub(r"[^A-Za-z0-9]+", "_", short).strip("_")
    return f"{code}_{short}.docx"


def _addressee(name_vi: str) -> str:
    """'Tỉnh Hà Giang' -> 'tỉnh Hà Giang' in running text."""
    for pre in ("Tỉnh ", "Thành phố "):
        if name_vi.startswith(pre):
            return pre.lower() + name_vi[len(pre):]
    return name_vi


# ----------------------------------------------------------------------------------------------


def followup_rows(cycle: str, reporting_status: pd.DataFrame, completeness: pd.DataFrame,
                  findings: pd.DataFrame | None, submissions: pd.DataFrame | None) -> pd.DataFrame:
    """One row per thing to chase (the workbook's rows), with an internal ``kind`` column."""
    cal = cycle_calendar(cycle)
    cycle = cal.cycle
    on = cal.period_end
    comp = completeness if completeness is not None else pd.DataFrame()
    rs = reporting_status if reporting_status is not None else pd.DataFrame()
    from diaphuong.completeness import attribute_files

    subs = attribute_files(submissions, cycle) if submissions is not None else pd.DataFrame()
    rows: list[dict] = []
    reported, pset_of = set(), {}
    if len(comp):
        for r in comp.to_dict("records"):
            pset_of[str(r["province_code"])] = _s(r.get("province_set")) or None
            if not _na(r.get("actual_reports")) and int(r["actual_reports"]) == 1:
                reported.add(str(r["province_code"]))
    rejected: dict[str, list[dict]] = {}
    if len(subs) and "outcome" in subs.columns:
        for r in subs[(subs["outcome"] == "quarantined") & subs["province_code"].notna()].to_dict("records"):
            if _s(r.get("kind")) in ("", "spreadsheet"):
                rejected.setdefault(str(r["province_code"]), []).append(r)

    def base(code, **kw):
        return {"province_code": code, "deadline": cal.deadline, **kw}

    if len(comp):
        for r in comp.to_dict("records"):
            code = str(r["province_code"])
            if not _na(r.get("expected_reports")) and int(r["expected_reports"]) == 0:
                rows.append(base(code, kind="unexpected_unit",
                                 detail=f"Đơn vị mã {code} (danh mục {_s(r.get('province_set')) or '?'}) gửi biểu số liệu "
                                        f"nhưng không thuộc danh sách {cal.province_set} phải báo cáo kỳ {cycle}",
                                 received_at=r.get("first_received_at")))
                continue
            if int(r.get("actual_reports") or 0) == 0:
                if code in rejected:
                    f0 = rejected[code][0]
                    rows.append(base(code, kind="rejected_file", locator=_s(f0.get("path")),
                                     detail=f"Tệp {_s(f0.get('path'))} không đọc được: {_s(f0.get('error'))}".rstrip(": "),
                                     received_at=f0.get("received_at")))
                else:
                    rows.append(base(code, kind="no_report",
                                     detail=f"Chưa nhận được biểu số liệu kỳ {parse_period(cycle).label_vi.lower()}"))
            elif int(r.get("actual_reports_on_time") or 0) == 0:
                rows.append(base(code, kind="late_report", received_at=r.get("first_received_at"),
                                 days_late=r.get("days_late"), working_days_late=r.get("working_days_late"),
                                 detail=f"Biểu số liệu đầu tiên đọc được nhận lúc {_fmt_ts(r.get('first_received_at'))}, "
                                        f"sau hạn {_date_vi(cal.deadline)}"))
    if len(rs):
        for r in rs.to_dict("records"):
            code = str(r["province_code"])
            st = r["status"]
            if st not in ("missing", "invalid", "conflict", "text_only"):
                continue
            if st in ("missing", "invalid") and code not in reported:
                continue  # the province-level row (no report / rejected file) covers it
            common = dict(indicator=r["indicator"], measure=r["measure"], locator=_s(r.get("locator")),
                          value=r.get("value"), text_value=r.get("text_value"))
            if st == "missing":
                d = _s(r.get("detail"))
                detail = ("Biểu ghi ký hiệu thiếu số liệu" if d.startswith("declared") else "Không có trong biểu số liệu")
            elif st == "invalid":
                detail = "Số liệu bị loại khi kiểm tra: " + _s(r.get("detail"))
            elif st == "conflict":
                ind, meas = r["indicator"], r["measure"]
                detail = (f"Báo cáo lời văn ghi {_with_unit(r.get('text_value'), ind, meas)}, biểu ghi "
                          f"{_with_unit(r.get('value'), ind, meas)} (chênh lệch vượt mức làm tròn)")
            else:
                detail = (f"Báo cáo lời văn ghi {_with_unit(r.get('text_value'), r['indicator'], r['measure'])}; "
                          "đề nghị bổ sung vào biểu số liệu")
            rows.append(base(code, kind=st, detail=detail, **common))
    if len(subs) and "received_at_source" in subs.columns:
        for r in subs[subs["received_at_source"] == "mtime"].to_dict("records"):
            rows.append(base(_s(r.get("province_code")) or None, kind="receipt_from_mtime", locator=_s(r.get("path")),
                             received_at=r.get("received_at"),
                             detail="Thời điểm nhận lấy theo thời gian sửa tệp; cần đối chiếu với sổ nhận"))
    cols = ["kind", "province_code", "province_name", "indicator", "indicator_name", "measure", "measure_name",
            "problem", "detail", "value", "text_value", "locator", "deadline", "received_at", "days_late",
            "working_days_late"]
    if not rows:
        return pd.DataFrame(columns=cols)
    df = pd.DataFrame(rows)
    for c in cols:
        if c not in df.columns:
            df[c] = None
    df["province_name"] = [(_province_info(c, pset_of.get(c), on)[0] if c else "") for c in df["province_code"]]
    df["indicator_name"] = [(_indicator_name(i) if not _na(i) else "") for i in df["indicator"]]
    df["measure_name"] = [MEASURE_VI.get(m, m) if not _na(m) else "" for m in df["measure"]]
    df["problem"] = df["kind"].map(PROBLEM)
    order = {k: i for i, k in enumerate(PROBLEM)}
    df["_o"] = df["kind"].map(order)
    df = df.sort_values(["province_code", "_o", "indicator", "measure"], na_position="last", kind="stable")
    return df[cols].reset_index(drop=True)


def _fmt_ts(v) -> str:
    if _na(v):
        return ""
    return to_local(v).strftime("%d/%m/%Y %H:%M")


def _write_workbook(path: Path, rows: pd.DataFrame, cycle: str, completeness: pd.DataFrame) -> None:
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False,
                                         "strings_to_numbers": False, "remove_timezone": True})
    try:
        head = wb.add_format({"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#DDEBF7", "border": 1})
        wrap = wb.add_format({"text_wrap": True, "valign": "top"})
        top = wb.add_format({"valign": "top"})
        num = wb.add_format({"num_format": "#,##0.####", "valign": "top"})
        dfmt = wb.add_format({"num_format": "dd/mm/yyyy", "valign": "top"})
        tfmt = wb.add_format({"num_format": "dd/mm/yyyy hh:mm", "valign": "top"})
        ws = wb.add_worksheet("Theo_doi")
        for j, (_, label, width) in enumerate(HEADERS):
            ws.write_string(0, j, label, head)
            ws.set_column(j, j, width)
        for i, r in enumerate(rows.to_dict("records"), start=1):
            for j, (key, _, _) in enumerate(HEADERS):
                v = i if key == "stt" else r.get(key)
                if _na(v) or v == "":
                    ws.write_blank(i, j, None, top)
                elif key in ("deadline",):
                    ws.write_datetime(i, j, datetime.combine(pd.Timestamp(v).date(), datetime.min.time()), dfmt)
                elif key == "received_at":
                    ws.write_datetime(i, j, to_local(v).replace(tzinfo=None), tfmt)
                elif key in ("value", "text_value", "days_late", "working_days_late", "stt"):
                    ws.write_number(i, j, float(v), num)
                else:
                    ws.write_string(i, j, str(v), wrap if key in ("detail", "locator", "indicator_name") else top)
        ws.freeze_panes(1, 0)
        ws.autofilter(0, 0, max(len(rows), 1), len(HEADERS) - 1)
        # summary sheet
        cal = cycle_calendar(cycle)
        ss = wb.add_worksheet("Tong_hop")
        ss.set_column(0, 0, 42)
        ss.set_column(1, 1, 18)
        c = completeness if completeness is not None else pd.DataFrame()
        exp = int(c["expected_reports"].fillna(0).sum()) if len(c) else 0
        act = int(c["actual_reports"].fillna(0).sum()) if len(c) else 0
        ont = int(c["actual_reports_on_time"].fillna(0).sum()) if len(c) else 0
        lines = [
            ("Kỳ báo cáo", f"{cycle} ({parse_period(cycle).label_vi})"),
            ("Hạn báo cáo", cal.deadline),
            ("Số tỉnh/thành phố phải báo cáo", exp),
            ("Số tỉnh/thành phố đã gửi biểu đọc được", act),
            ("Số tỉnh/thành phố gửi đúng hạn", ont),
            ("Tỷ lệ báo cáo (%)", 100.0 * act / exp if exp else None),
            ("Tỷ lệ đúng hạn (%)", 100.0 * ont / exp if exp else None),
            ("Số việc cần đôn đốc", len(rows)),
        ]
        for i, (label, v) in enumerate(lines):
            ss.write_string(i, 0, label, head)
            if v is None:
                ss.write_blank(i, 1, None)
            elif isinstance(v, date):
                ss.write_datetime(i, 1, datetime.combine(v, datetime.min.time()), dfmt)
            elif isinstance(v, (int, float)):
                ss.write_number(i, 1, float(v), num)
            else:
                ss.write_string(i, 1, str(v))
    finally:
        wb.close()


def _letter(path: Path, cycle: str, code: str, name_vi: str, items: pd.DataFrame, reply_by: date) -> None:
    from docx import Document
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt

    cal = cycle_calendar(cycle)
    label = parse_period(cycle).label_vi
    label_l = label[0].lower() + label[1:]
    doc = Document()
    sec = doc.sections[0]
    sec.page_height, sec.page_width = Cm(29.7), Cm(21.0)
    sec.top_margin, sec.bottom_margin, sec.left_margin, sec.right_margin = Cm(2), Cm(2), Cm(3), Cm(1.5)
    normal = doc.styles["Normal"]
    normal.font.name = "Times New Roman"
    normal.font.size = Pt(13)

    def para(text="", *, bold=False, italic=False, align=None, size=None, indent=True, space_after=6):
        p = doc.add_paragraph()
        if align is not None:
            p.alignment = align
        elif indent:
            p.paragraph_format.first_line_indent = Cm(1)
            p.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
        p.paragraph_format.space_after = Pt(space_after)
        if text:
            run = p.add_run(text)
            run.bold, run.italic = bold, italic
            if size:
                run.font.size = Pt(size)
        return p

    def cell_lines(cell, lines):
        cell.paragraphs[0].text = ""
        first = True
        for text, bold, italic, size in lines:
            p = cell.paragraphs[0] if first else cell.add_paragraph()
            first = False
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            p.paragraph_format.space_after = Pt(0)
            run = p.add_run(text)
            run.bold, run.italic = bold, italic
            run.font.size = Pt(size)

    t = doc.add_table(rows=1, cols=2)
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    cell_lines(t.cell(0, 0), [
        ("[TÊN CƠ QUAN CHỦ QUẢN]", False, False, 12),
        ("[TÊN ĐƠN VỊ]", True, False, 12),
        ("Số: ......./[ký hiệu]", False, False, 13),
        (f"V/v đôn đốc gửi báo cáo tình hình kinh tế - xã hội {label_l}", False, False, 12),
    ])
    cell_lines(t.cell(0, 1), [
        ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", True, False, 12),
        ("Độc lập - Tự do - Hạnh phúc", True, False, 13),
        ("", False, False, 13),
        (f"[Địa danh], ngày ...... tháng ...... năm {reply_by.year}", False, True, 13),
    ])
    para("")
    para(f"Kính gửi: Ủy ban nhân dân {_addressee(name_vi)}.", align=WD_ALIGN_PARAGRAPH.CENTER)
    para(f"Thực hiện chế độ báo cáo định kỳ về tình hình kinh tế - xã hội, các tỉnh, thành phố gửi báo cáo "
         f"{label_l} (biểu số liệu theo mẫu và báo cáo bằng văn bản) về [Tên đơn vị] chậm nhất ngày "
         f"{_date_vi(cal.deadline)}. Qua rà soát các tệp đã nhận, [Tên đơn vị] thấy báo cáo của "
         f"{_addressee(name_vi)} còn những nội dung sau:")
    sections = [
        ("no_report", "Chưa nhận được biểu số liệu của kỳ báo cáo."),
        ("rejected_file", "Biểu số liệu gửi đến không đọc được, cần gửi lại:"),
        ("late_report", "Báo cáo gửi muộn so với thời hạn:"),
        ("missing", "Các chỉ tiêu còn thiếu trong biểu số liệu:"),
        ("invalid", "Các số liệu không hợp lệ, đề nghị kiểm tra và gửi lại:"),
        ("conflict", "Số liệu trong báo cáo bằng văn bản không khớp với biểu số liệu, đề nghị rà soát, đính chính:"),
        ("text_only", "Số liệu mới có trong báo cáo bằng văn bản, đề nghị bổ sung vào biểu số liệu:"),
    ]
    n = 0
    for kind, heading in sections:
        sub = items[items["kind"] == kind]
        if sub.empty:
            continue
        n += 1
        para(f"{n}. {heading}", bold=True)
        if kind == "no_report":
            continue
        for r in sub.to_dict("records"):
            if kind == "rejected_file":
                text = f"Tệp {_s(r.get('locator'))}: {_s(r.get('detail'))}"
            elif kind == "late_report":
                text = (f"Nhận lúc {_fmt_ts(r.get('received_at'))}, chậm {int(r['days_late'] or 0)} ngày "
                        f"({int(r['working_days_late'] or 0)} ngày làm việc) so với hạn {_date_vi(cal.deadline)}.")
            else:
                what = f"{r['indicator_name']} ({r['measure_name'].lower()})"
                ind, meas = r.get("indicator"), r.get("measure")
                if kind == "conflict":
                    text = (f"{what}: báo cáo bằng văn bản ghi {_with_unit(r.get('text_value'), ind, meas)}, "
                            f"biểu số liệu ghi {_with_unit(r.get('value'), ind, meas)} [{_s(r.get('locator'))}]")
                elif kind == "text_only":
                    text = f"{what}: báo cáo bằng văn bản ghi {_with_unit(r.get('text_value'), ind, meas)}"
                elif kind == "invalid":
                    text = f"{what}: {_s(r.get('detail'))}" + (f" [{_s(r.get('locator'))}]" if _s(r.get("locator")) else "")
                else:
                    text = what
            p = doc.add_paragraph(style="List Bullet")
            p.paragraph_format.space_after = Pt(2)
            p.add_run(text)
    para(f"Đề nghị Ủy ban nhân dân {_addressee(name_vi)} chỉ đạo các cơ quan liên quan kiểm tra, gửi bổ sung, "
         f"đính chính số liệu về [Tên đơn vị] trước ngày {_date_vi(reply_by)}. Trường hợp đã gửi, đề nghị "
         f"thông báo lại để [Tên đơn vị] đối chiếu.")
    para("Trân trọng./.", indent=True)
    t2 = doc.add_table(rows=1, cols=2)
    left = t2.cell(0, 0)
    left.paragraphs[0].text = ""
    r0 = left.paragraphs[0].add_run("Nơi nhận:")
    r0.bold, r0.italic = True, True
    r0.font.size = Pt(12)
    for line in ("- Như trên;", "- [Lãnh đạo đơn vị] (để b/c);", "- Lưu: VT, [đơn vị soạn thảo]."):
        p = left.add_paragraph()
        p.paragraph_format.space_after = Pt(0)
        p.add_run(line).font.size = Pt(11)
    cell_lines(t2.cell(0, 1), [
        ("[QUYỀN HẠN, CHỨC VỤ CỦA NGƯỜI KÝ]", True, False, 13),
        ("", False, False, 13), ("", False, False, 13), ("", False, False, 13),
        ("[Họ và tên]", True, False, 13),
    ])
    p = doc.add_paragraph()
    p.paragraph_format.space_before = Pt(12)
    note = p.add_run(f"(Dự thảo do diaphuong lập từ kết quả kiểm tra kỳ {cycle}; mã tỉnh {code}.)")
    note.italic = True
    note.font.size = Pt(9)
    doc.save(str(path))


_LETTER_RE = re.compile(r"^\d{2}_[A-Za-z0-9_]+\.docx$")


def write_followup(out_dir: Path, cycle: str, reporting_status: pd.DataFrame, completeness: pd.DataFrame,
                   findings: pd.DataFrame | None, submissions: pd.DataFrame | None, *,
                   reply_by: date | None = None, as_of: date | None = None, reply_working_days: int = 5
                   ) -> list[Path]:
    """Write ``out_dir/followup.xlsx`` and one draft letter per province with something to chase.

    ``reply_by`` (the date the letters ask for) defaults to ``reply_working_days`` working days
    after the later of the deadline and ``as_of`` (today in Vietnam when not given). Letters left
    by an earlier run for provinces with nothing left to chase are removed. Returns the paths
    written, the workbook first."""
    cal = cycle_calendar(cycle)
    cycle = cal.cycle
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = followup_rows(cycle, reporting_status, completeness, findings, submissions)
    wb = out_dir / "followup.xlsx"
    _write_workbook(wb, rows, cycle, completeness)
    written = [wb]
    if as_of is None:
        as_of = datetime.now(tz=to_local(pd.Timestamp.now(tz="UTC")).tzinfo).date()
    if reply_by is None:
        reply_by = add_working_days(max(cal.deadline, as_of), reply_working_days)
    pset = {}
    if completeness is not None and len(completeness):
        pset = dict(zip(completeness["province_code"].astype(str), completeness["province_set"]))
    letters = set()
    chase = rows[~rows["kind"].isin(INTERNAL) & rows["province_code"].notna()] if len(rows) else rows
    for code, items in (chase.groupby("province_code", sort=True) if len(chase) else []):
        name_vi, name_ascii = _province_info(str(code), _s(pset.get(str(code))) or None, cal.period_end)
        path = out_dir / letter_file_name(str(code), name_ascii)
        _letter(path, cycle, str(code), name_vi, items, reply_by)
        letters.add(path.name)
        written.append(path)
    for old in out_dir.glob("*.docx"):
        if _LETTER_RE.match(old.name) and old.name not in letters:
            old.unlink()
    return written
