"""The synthetic-cycle generator (diaphuong.demo): determinism, province sets, plausible values,
a truth file that lists every injected mess, and report texts that agree with the submissions."""
from __future__ import annotations

import csv
import hashlib
import json
import zipfile
from datetime import date
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from diaphuong.catalog.indicators import indicators
from diaphuong.catalog.provinces import crosswalk
from diaphuong.demo import _old_unit_record, format_vi, generate_values, write_demo
from diaphuong.errors import DiaphuongError
from diaphuong.periods import parse_period

SEED = 7


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("demo")
    truths = write_demo(out, ["2018-H1", "2025-H2"], seed=SEED)
    return out, truths


def _hashes(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _sheet_rows(path: Path) -> list[list]:
    wb = CalamineWorkbook.from_path(str(path))
    return wb.get_sheet_by_index(0).to_python()


def _template_table(path: Path) -> dict[str, dict]:
    """Rows of a template-layout xlsx keyed by indicator code (columns from the header row)."""
    rows = _sheet_rows(path)
    head = next(i for i, r in enumerate(rows) if "Mã chỉ tiêu" in r)
    cols = rows[head]
    return {r[cols.index("Mã chỉ tiêu")]: dict(zip(cols, r)) for r in rows[head + 1:] if r[cols.index("Mã chỉ tiêu")]}


def _inbox(folder: Path) -> list[dict]:
    with (folder / "inbox.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


# --- small pieces ---------------------------------------------------------------------------


def test_format_vi():
    assert format_vi(29232.75, 2) == "29.232,75"
    assert format_vi(7.5, 2, strip=True) == "7,5"
    assert format_vi(1234567, 0) == "1.234.567"
    assert format_vi(-1.25, 1) == "-1,3"  # half up, like a statistician rounds
    assert format_vi(0.0, 1) == "0,0"


def test_values_deterministic_and_seed_dependent():
    a = generate_values("2024-Q1", seed=3)
    b = generate_values("2024-Q1", seed=3)
    c = generate_values("2024-Q1", seed=4)
    assert a == b
    assert a != c


@pytest.mark.parametrize("cycle,n", [("2018-H1", 63), ("2024-01", 63), ("2024-9M", 63), ("2025-06", 63),
                                     ("2025-07", 34), ("2025-H2", 34), ("2025", 34), ("2026-Q1", 34)])
def test_values_cover_provinces_and_stay_in_catalog_ranges(cycle, n):
    cat = indicators()
    vals = generate_values(cycle, seed=SEED)
    assert len(vals) == n
    for code, inds in vals.items():
        for k, e in inds.items():
            ind = cat[k]
            assert e["unit"] == ind.unit
            if ind.value_min is not None:
                assert ind.value_min <= e["value"] <= ind.value_max, (cycle, code, k, e["value"])
            if e["yoy_pct"] is not None and ind.change_min is not None:
                assert ind.change_min <= e["yoy_pct"] <= ind.change_max, (cycle, code, k, e["yoy_pct"])
        shares = [inds[f"grdp_share_{s}"]["value"] for s in
                  ("agriculture", "industry_construction", "services", "product_taxes") if f"grdp_share_{s}" in inds]
        if shares:
            assert sum(shares) == pytest.approx(100, abs=0.011)
        if "grdp_growth" in inds:
            assert 2 < inds["grdp_growth"]["value"] < 14
        if "cpi_yoy" in inds:
            assert 1 <= inds["cpi_yoy"]["value"] <= 5
        b = inds.get("budget_revenue_domestic"), inds.get("budget_revenue_import_export")
        if all(b):
            assert inds["budget_revenue"]["value"] == pytest.approx(b[0]["value"] + b[1]["value"], abs=0.051)


def test_merged_units_sum_the_old_ones():
    """A 2025 unit's additive levels are the sums of the 2008 units that formed it."""
    p = parse_period("2025-H2")
    vals = generate_values(p.code, seed=SEED)
    cw = crosswalk()
    for new in ("79", "01", "25"):
        olds = list(cw[cw["new_code"] == new]["old_code"])
        expected = sum(_old_unit_record(SEED, o, p)["budget_revenue"]["value"] for o in olds)
        assert vals[new]["budget_revenue"]["value"] == pytest.approx(expected, rel=1e-3)
    # Hồ Chí Minh City (with Bình Dương and Bà Rịa - Vũng Tàu) is the largest economy of the 34
    grdp = {c: v["grdp_current_prices"]["value"] for c, v in vals.items()}
    assert max(grdp, key=grdp.get) == "79"


# --- the written tree -----------------------------------------------------------------------


def test_same_seed_same_bytes(tree, tmp_path):
    out, _ = tree
    write_demo(tmp_path, ["2025-H2"], seed=SEED)
    assert _hashes(tmp_path / "2025-H2") == _hashes(out / "2025-H2")
    # re-running into the same folder replaces the earlier files and leaves nothing stale
    write_demo(tmp_path, ["2025-H2"], seed=SEED + 1, report_formats=("txt",))
    truth = json.loads((tmp_path / "2025-H2" / "_truth.json").read_text(encoding="utf-8"))
    on_disk = {p.relative_to(tmp_path / "2025-H2").as_posix() for p in (tmp_path / "2025-H2").rglob("*")
               if p.is_file()}
    assert on_disk == {f["path"] for f in truth["files"]} | {"inbox.csv", "_truth.json"}


def test_refuses_a_folder_it_did_not_write(tmp_path):
    (tmp_path / "2018-H1" / "submissions").mkdir(parents=True)
    (tmp_path / "2018-H1" / "submissions" / "01_real.xlsx").write_bytes(b"real data")
    with pytest.raises(DiaphuongError):
        write_demo(tmp_path, ["2018-H1"], seed=1)
    assert (tmp_path / "2018-H1" / "submissions" / "01_real.xlsx").read_bytes() == b"real data"


@pytest.mark.parametrize("cycle,n,pset", [("2018-H1", 63, "2008"), ("2025-H2", 34, "2025")])
def test_layout_and_province_counts(tree, cycle, n, pset):
    out, truths = tree
    t = truths[cycle]
    folder = out / cycle
    assert t["province_set"] == pset and len(t["provinces_expected"]) == n == len(t["provinces"])
    assert json.loads((folder / "_truth.json").read_text(encoding="utf-8"))["provinces_expected"] == t["provinces_expected"]
    assert t["deadline"] == {"2018-H1": "2018-06-20", "2025-H2": "2025-12-22"}[cycle]  # 2025-12-20 is a Saturday
    missing = {m["province"] for m in t["mess_injected"]["missing"]}
    for code, pt in t["provinces"].items():
        if code in missing:
            assert pt["submission"] is None
        else:
            assert (folder / pt["submission"]).is_file()
            assert pt["submission"].startswith("submissions/")
    inbox = _inbox(folder)
    assert list(inbox[0]) == ["file", "received_at", "sender", "note"]
    for row in inbox:
        assert (folder / row["file"]).is_file(), row
        assert row["received_at"].endswith("+07:00")
        date.fromisoformat(row["received_at"][:10])
    listed = {r["file"] for r in inbox}
    for f in t["files"]:
        assert (folder / f["path"]).is_file()
        assert (f["path"] in listed) == f["in_inbox"]
    # a few of each report format, PDFs only for a handful
    fmts = [pt["report_format"] for pt in t["provinces"].values() if pt["report"]]
    assert {"txt", "docx", "pdf"} <= set(fmts)
    assert 1 <= fmts.count("pdf") <= 5
    assert sum(f["format"] == "csv" for f in t["files"]) >= 2


def test_truth_lists_every_mess(tree):
    out, truths = tree
    for cycle, t in truths.items():
        folder = out / cycle
        m = t["mess_injected"]
        for kind in ("missing", "late", "missing_indicator", "blank_cell", "off_unit", "growth_as_change",
                     "off_layout", "text_contradiction", "resubmission", "corrupt", "unlisted_file", "sender_only"):
            assert m[kind], f"{cycle}: no {kind}"
        inbox = {r["file"]: r for r in _inbox(folder)}
        deadline = date.fromisoformat(t["deadline"])

        assert any(x["report_only"] for x in m["missing"])
        for x in m["missing"]:
            assert not any(f["province"] == x["province"] and f["kind"] == "spreadsheet" for f in t["files"])
        for x in m["late"]:
            assert date.fromisoformat(inbox[x["file"]]["received_at"][:10]) > deadline
            assert x["days_late"] > 0
        on_time = [pt for c, pt in t["provinces"].items() if pt["received_at"] and not pt["late"]]
        assert all(date.fromisoformat(pt["received_at"][:10]) <= deadline for pt in on_time)
        for x in m["missing_indicator"]:
            assert x["indicator"] not in _template_table(folder / x["file"])
        for x in m["blank_cell"]:
            row = _template_table(folder / x["file"])[x["indicator"]]
            col = {"value": "Thực hiện kỳ báo cáo", "yoy_index": "Kỳ báo cáo so với cùng kỳ năm trước (%)"}[x["column"]]
            assert row[col] in ("", None)
        for x in m["off_unit"]:
            row = _template_table(folder / x["file"])[x["indicator"]]
            assert row["Đơn vị tính"] == x["unit_written"] != "tỷ đồng"
            assert row["Thực hiện kỳ báo cáo"] == pytest.approx(x["value"] * 1000, rel=1e-6)
        for x in m["growth_as_change"]:
            table = _template_table(folder / x["file"])
            yoy = [r["Kỳ báo cáo so với cùng kỳ năm trước (%)"] for r in table.values()]
            yoy = [v for v in yoy if isinstance(v, float)]
            assert yoy and all(v < 60 for v in yoy)
        for x in m["off_layout"]:
            rows = _sheet_rows(folder / x["file"])
            if x["variant"] == "no_header":
                assert rows[0][0] == "STT"
            if x["variant"] == "names_only":
                assert not any(str(c) in indicators() for r in rows for c in r)
        for x in m["resubmission"]:
            assert inbox[x["second_file"]]["received_at"] > inbox[x["first_file"]]["received_at"]
            first = _template_table(folder / x["first_file"])[x["indicator"]]["Thực hiện kỳ báo cáo"]
            second = _template_table(folder / x["second_file"])[x["indicator"]]["Thực hiện kỳ báo cáo"]
            assert first == x["first_value"] != second == x["corrected_value"]
        for x in m["corrupt"]:
            with pytest.raises(zipfile.BadZipFile):
                zipfile.ZipFile(folder / x["file"]).testzip()
        for x in m["unlisted_file"]:
            assert (folder / x["file"]).is_file() and x["file"] not in inbox
        for x in m["sender_only"]:
            assert x["file"] == "submissions/bao_cao_so_lieu.xlsx"
            assert inbox[x["file"]]["sender"] == x["sender"]
            assert t["provinces"][x["province"]]["name_vi"].split(" ", 1)[-1] in x["sender"]
            rows = _sheet_rows(folder / x["file"])
            assert not any("Tỉnh" in str(c) or "Thành phố" in str(c) for r in rows for c in r)
        for x in m["text_contradiction"]:
            text = _report_text(folder, x["file"])
            fig = next(f for f in t["provinces"][x["province"]]["text_figures"]
                       if f["indicator"] == x["indicator"] and f["measure"] == "value" and f["kind"] == "outturn")
            assert not fig["agrees"]
            assert abs(fig["value"] - x["submission_value"]) > 5 * fig["tolerance"] + 0.05 * abs(x["submission_value"]) \
                or (x["indicator"] == "grdp_growth" and abs(fig["value"] - x["submission_value"]) >= 1.4)
            if x["file"].endswith((".txt", ".docx")):
                assert text[fig["start"]:fig["end"]] == fig["text"]


def _report_text(folder: Path, rel: str) -> str:
    path = folder / rel
    if rel.endswith(".txt"):
        return path.read_text(encoding="utf-8")
    if rel.endswith(".docx"):
        import docx

        return "\n\n".join(p.text for p in docx.Document(str(path)).paragraphs)
    import pypdf

    return "\n".join(pg.extract_text() for pg in pypdf.PdfReader(str(path)).pages)


def test_report_figures_match_the_submission(tree):
    """For provinces whose text agrees, every outturn figure the text states is the submission's
    value within the rounding the text used; the figure sits at its recorded span."""
    out, truths = tree
    checked = 0
    for cycle, t in truths.items():
        folder = out / cycle
        bad = {x["province"] for k in ("off_unit", "growth_as_change", "blank_cell", "missing_indicator",
                                       "off_layout", "corrupt", "resubmission", "sender_only")
               for x in t["mess_injected"][k]}
        for code, pt in t["provinces"].items():
            if not pt["report"] or pt["report_format"] == "pdf":
                continue
            text = _report_text(folder, pt["report"])
            assert len(text) == pt["report_chars"]
            for f in pt["text_figures"]:
                assert text[f["start"]:f["end"]] == f["text"], (code, f)
            sub = None
            if pt["submission"] and pt["submission_format"] == "xlsx" and code not in bad:
                sub = _template_table(folder / pt["submission"])
            for f in pt["text_figures"]:
                if f["kind"] != "outturn" or not f["agrees"]:
                    continue
                truth = pt["values"][f["indicator"]][f["measure"]]
                assert abs(f["value"] - truth) <= f["tolerance"] + 1e-9, (cycle, code, f, truth)
                if sub is not None and f["indicator"] in sub:
                    row = sub[f["indicator"]]
                    cell = {"value": row["Thực hiện kỳ báo cáo"], "pct_of_plan": row["So với kế hoạch năm (%)"],
                            "yoy_pct": (row["Kỳ báo cáo so với cùng kỳ năm trước (%)"] or 0) - 100}[f["measure"]]
                    assert abs(f["value"] - cell) <= f["tolerance"] + 1e-6, (cycle, code, f, cell)
                    checked += 1
            # plan figures ("kế hoạch năm", "dự toán ... được giao") are stated, never as outturns
            for f in pt["text_figures"]:
                if f["kind"] == "plan":
                    assert f["period"] == str(parse_period(cycle).year)
    assert checked > 500


def test_pdf_reports_readable(tree):
    out, truths = tree
    t = truths["2025-H2"]
    pdfs = [pt for pt in t["provinces"].values() if pt["report_format"] == "pdf"]
    assert pdfs and t["pdf"]["written"]
    text = _report_text(out / "2025-H2", pdfs[0]["report"])
    assert "BÁO CÁO" in text and pdfs[0]["name_vi"].split(" ", 1)[-1].upper() in text


def test_no_mess(tmp_path):
    t = write_demo(tmp_path, ["2025-07"], seed=2, mess=False, report_formats=("txt",))["2025-07"]
    assert all(not v for v in t["mess_injected"].values())
    assert len(t["provinces"]) == 34
    deadline = date.fromisoformat(t["deadline"])
    for pt in t["provinces"].values():
        assert pt["submission"] and pt["report"] and not pt["late"]
        assert date.fromisoformat(pt["received_at"][:10]) <= deadline
        assert all(f["agrees"] is not False for f in pt["text_figures"])
