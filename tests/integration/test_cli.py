"""The CLI verbs on real inputs: one-line errors with hints, JSON shapes for machines."""
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from diaphuong.cli import app

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def test_extract_json_lines_have_the_documented_shape():
    res = runner.invoke(app, ["extract", "--json", str(ROOT / "data" / "raw" / "2025-H2" / "reports" / "48_da_nang.txt")])
    assert res.exit_code == 0, res.output
    recs = [json.loads(line) for line in res.stdout.splitlines() if line.strip()]
    assert len(recs) > 20
    for r in recs:
        assert set(r) == {"indicator", "measure", "value", "unit", "province_code", "period", "status",
                          "qualifier", "source"}
        assert set(r["source"]) == {"file", "start", "end", "sentence"}
        assert r["province_code"] == "48"
    text = (ROOT / "data" / "raw" / "2025-H2" / "reports" / "48_da_nang.txt").read_text(encoding="utf-8")
    r = recs[0]
    assert r["source"]["start"] < r["source"]["end"] <= len(text)


def test_extract_with_province_and_period_for_a_loose_file(tmp_path):
    f = tmp_path / "note.txt"
    f.write_text("Tổng thu ngân sách nhà nước trên địa bàn ước đạt 3.370 tỷ đồng, tăng 17,7% so với cùng kỳ, "
                 "đạt 59,9% dự toán.", encoding="utf-8")
    res = runner.invoke(app, ["extract", "--json", "--province", "Gia Lai", "--period", "2024-H1", str(f)])
    assert res.exit_code == 0, res.output
    got = {(r["indicator"], r["measure"], r["value"]) for r in map(json.loads, res.stdout.splitlines())}
    assert got == {("budget_revenue", "value", 3370.0), ("budget_revenue", "yoy_pct", 17.7),
                   ("budget_revenue", "pct_of_plan", 59.9)}


def test_status_json_and_table(sample_warehouse):
    wh = sample_warehouse[0]
    res = runner.invoke(app, ["status", "--cycle", "2025-H2", "--json", "--warehouse", str(wh)])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    assert len(rows) == 34
    assert rows[0]["rank"] == 1  # worst first
    table = runner.invoke(app, ["status", "--warehouse", str(wh)])
    assert table.exit_code == 0 and "2025-H2" in table.stdout


def test_template_writes_the_form(tmp_path):
    out = tmp_path / "bieu.xlsx"
    res = runner.invoke(app, ["template", "--cycle", "2026-H1", "--province", "Đà Nẵng", "-o", str(out)])
    assert res.exit_code == 0, res.output
    from python_calamine import CalamineWorkbook

    rows = CalamineWorkbook.from_path(str(out)).get_sheet_by_index(0).to_python()
    flat = " ".join(str(c) for r in rows for c in r)
    assert "Thành phố Đà Nẵng" in flat and "6 tháng đầu năm 2026" in flat and "Mã chỉ tiêu" in flat


def test_demo_writes_cycles(tmp_path):
    res = runner.invoke(app, ["demo", "--out", str(tmp_path / "raw"), "--cycles", "2024-6M,2025-Q3", "--seed", "3"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "raw" / "2024-H1" / "inbox.csv").exists()
    assert len(list((tmp_path / "raw" / "2025-Q3" / "submissions").iterdir())) >= 30


@pytest.mark.parametrize("args,needle", [
    (["sql", "--warehouse", "/nonexistent/wh", "SELECT 1"], "no warehouse"),
    (["template", "--cycle", "2026-Q5", "-o", "x.xlsx"], "not a cycle"),
    (["template", "--cycle", "2026-H1", "--province", "Quảng", "-o", "x.xlsx"], "ambiguous province"),
])
def test_errors_are_one_line_with_a_hint(args, needle):
    import subprocess
    import sys

    exe = Path(sys.executable).with_name("diaphuong")
    res = subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=120)
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert lines[0].startswith("error:") and needle in lines[0]
    assert lines[1].startswith("hint:")
    assert "Traceback" not in res.stderr
