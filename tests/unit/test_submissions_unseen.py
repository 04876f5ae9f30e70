"""The second, independent set of off-template submissions (tests/fixtures/submissions/unseen/,
built by make_unseen.py): each file yields exactly what expected.yaml, written by hand before the
reader was run on the files, says: the observations (locator, indicator, measure, value, unit,
status, qualifier, flags), the quarantined cells and rows (locator, reason), the province, the
period and the sheet, or the whole file's refusal with its reason."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from diaphuong import schema
from diaphuong.errors import LayoutError
from diaphuong.ingest.submissions import read_submission

UNSEEN = Path(__file__).resolve().parents[1] / "fixtures" / "submissions" / "unseen"
SPECS = yaml.safe_load((UNSEEN / "expected.yaml").read_text(encoding="utf-8"))


def _num(v):
    return None if v is None or v != v else round(float(v), 6)


def _flags(f) -> frozenset:
    """Flags as a set, without fuzzy_match (whether a name needed the fuzzy matcher is the
    matcher's business, not the file's)."""
    if not isinstance(f, str) or not f:
        return frozenset()
    return frozenset(x for x in f.split(",") if x and x != "fuzzy_match")


def test_the_set_is_complete():
    files = sorted(p.name for p in UNSEEN.iterdir() if p.suffix not in (".py", ".yaml"))
    assert len(files) >= 15
    assert files == sorted(SPECS)


@pytest.mark.parametrize("name", sorted(SPECS))
def test_unseen_file(name):
    spec = SPECS[name]
    if "refused" in spec:
        assert spec["refused"]["error"] == "LayoutError"
        with pytest.raises(LayoutError) as ei:
            read_submission(UNSEEN / name, cycle=str(spec["cycle"]))
        assert ei.value.reason == spec["refused"]["reason"]
        assert ei.value.file == name and ei.value.locator
        return
    r = read_submission(UNSEEN / name, cycle=str(spec["cycle"]))
    got = {(t.locator, t.indicator, t.measure, _num(t.value), t.unit, t.status,
            t.qualifier if isinstance(t.qualifier, str) else None, _flags(t.flag))
           for t in r.observations.itertuples(index=False)}
    want = {(o[0], o[1], o[2], _num(o[3]), o[4], o[5], o[6], _flags(o[7])) for o in spec["observations"]}
    assert got == want
    assert {(t.locator, t.reason) for t in r.quarantine.itertuples(index=False)} == \
        {(q[0], q[1]) for q in spec.get("quarantine") or []}
    assert r.province is not None and r.province.code == str(spec["province"])
    assert r.period == str(spec["period"])
    assert r.sheet == spec["sheet"]
    assert list(r.observations.columns) == schema.TABLES["observation"].columns
    schema.conform(r.observations, "observation")
    schema.conform(r.quarantine, "quarantine")


def test_transposed_table_is_refused_with_a_clear_message():
    with pytest.raises(LayoutError) as ei:
        read_submission(UNSEEN / "u05_transposed.xlsx", cycle="2025-H1")
    msg = str(ei.value)
    assert "turned on its side" in msg and "row 4" in msg and "Sheet1!B4" in msg
    assert ei.value.locator == "Sheet1!B4"


def test_notes_say_what_was_decided():
    r = read_submission(UNSEEN / "u08_hidden_columns.xlsx", cycle="2025-9M")
    assert "hidden columns not read: D 'Số liệu kỳ báo cáo'; G 'Cột phụ'" in r.notes
    r = read_submission(UNSEEN / "u14_last_year_column.xlsx", cycle="2025-9M")
    assert "column C 'Thực hiện 9 tháng năm 2024' is another year's figure: not read" in r.notes
    r = read_submission(UNSEEN / "u15_unit_above_table.xlsx", cycle="2025")
    assert "the unit 'triệu đồng' stated above the table (NS!E3) applied to 3 rows without a unit" in r.notes
    o = r.observations.set_index("locator")
    assert (o.loc["NS!D5", "original_value"], o.loc["NS!D5", "original_unit"]) == ("22145600", "triệu đồng")
    r = read_submission(UNSEEN / "u04_two_tables_side_by_side.xlsx", cycle="2025-9M")
    assert "2 tables side by side, from columns A, F: each read" in r.notes
    r = read_submission(UNSEEN / "u12_sheet_name_only.xlsx", cycle="2025-Q3")
    assert r.province_source == "content"
    assert "province Tỉnh Cà Mau (96) taken from the sheet name 'Cà Mau'" in r.notes
    r = read_submission(UNSEEN / "u18_two_sheets_two_periods.xlsx", cycle="2025-9M")
    assert r.notes[0] == "sheet '9 thang' read: it has 3 indicator rows; not read: 'Quy III' (3 rows, another period)"
    r = read_submission(UNSEEN / "u17_formula_errors.xlsx", cycle="2025-H1")
    q = r.quarantine.set_index("locator")
    assert q.loc["Bieu_01!G7", "raw_value"] == "#DIV/0!" and "Excel error #DIV/0!" in q.loc["Bieu_01!G7", "message"]
