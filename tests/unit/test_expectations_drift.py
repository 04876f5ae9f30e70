"""The committed suites in expectations/ are what the generator writes (no drift)."""
import json
import re
from pathlib import Path

import pytest

from diaphuong.expectations_gen import (
    PERIOD_REGEX,
    WRITE_COMMAND,
    derive_columns,
    generated_suites,
    suite_json,
    suite_path,
    write_suites,
)
from diaphuong.periods import is_period

ROOT = Path(__file__).resolve().parents[2]
EXPECTATIONS = ROOT / "expectations"
HINT = f"the committed suites drifted from the schema/catalog: run `{WRITE_COMMAND}` and commit expectations/"


@pytest.mark.parametrize("name", sorted(generated_suites()))
def test_committed_suite_matches_generator(name):
    p = suite_path(EXPECTATIONS, name)
    assert p.exists(), f"{p.name} missing; {HINT}"
    committed = json.loads(p.read_text(encoding="utf-8"))
    assert committed == generated_suites()[name], HINT
    assert p.read_text(encoding="utf-8") == suite_json(generated_suites()[name]), f"{p.name} formatting; {HINT}"


def test_no_stale_generated_suites():
    generated = set(generated_suites())
    for p in EXPECTATIONS.glob("*.json"):
        meta = json.loads(p.read_text(encoding="utf-8")).get("meta") or {}
        if meta.get("generated_by") == "diaphuong.expectations_gen":
            assert p.stem in generated, f"{p.name} is no longer generated; delete it ({HINT})"


def test_generation_is_deterministic(tmp_path):
    a = [p.read_bytes() for p in write_suites(tmp_path / "a")]
    b = [p.read_bytes() for p in write_suites(tmp_path / "b")]
    assert a == b
    assert [p.name for p in write_suites(tmp_path / "a")] == [f"{n}.json" for n in generated_suites()]


def test_suites_cover_the_tables_and_key_checks():
    s = generated_suites()
    assert {"observation.structure", "observation.ranges", "submission.structure"} <= set(s)
    rules = {e["meta"]["rule"] for e in s["observation.structure"]["expectations"]}
    assert {"observation.columns", "observation.key_unique", "observation.period.notation",
            "observation.indicator.in_catalog", "observation.unit.matches_catalog",
            "observation.province.valid_for_set", "observation.measure.allowed", "observation.cycle.not_null",
            "observation.value.type"} <= rules
    key = [e for e in s["observation.structure"]["expectations"] if e["meta"]["rule"] == "observation.key_unique"][0]
    assert key["kwargs"]["column_list"] == ["cycle", "period", "province_code", "indicator", "measure", "source_kind"]
    bounds = s["observation.ranges"]["meta"]["bounds"]
    assert bounds["grdp_growth"]["value"] == [-30, 40]
    for suite in s.values():
        for e in suite["expectations"]:
            assert e["severity"] in ("critical", "warning", "info")


@pytest.mark.parametrize("text", ["2025", "2025-01", "2025-12", "2025-Q3", "2025-H1", "2025-H2", "2024-9M",
                                  "2025-6M", "2025-2M", "2025-13", "2025-Q5", "2025-H3", "2025-0M", "2025-13M",
                                  "25-Q1", "2025-q1", "2025-00", "2025-10M"])
def test_period_regex_agrees_with_parser(text):
    assert bool(re.match(PERIOD_REGEX, text)) == (is_period(text) and text == text.upper()), text


def test_derived_columns():
    import pandas as pd

    df = pd.DataFrame({
        "cycle": ["2025-Q3", "2025-Q1", "2025-Q3"], "province_set": ["2025", "2008", "2025"],
        "province_code": ["01", "01", "99"], "indicator": ["retail_sales", "retail_sales", "grdp_growth"],
        "measure": ["value", "yoy_pct", "value"], "unit": ["bn_vnd", "pct", "pct"], "value": [1.0, 2.0, 3.0],
    }, index=[10, 11, 12])
    d = derive_columns(df, "observation")
    assert d["row_id"].tolist() == [0, 1, 2]
    assert d["province_key"].tolist() == ["2025:01", "2008:01", "2025:99"]
    assert d["cycle_set"].tolist() == ["2025", "2008", "2025"]
    assert d["unit_key"].tolist() == ["retail_sales:bn_vnd", "*:pct", "grdp_growth:pct"]
    assert d["value_min"].tolist()[0] == 50 and pd.isna(d["value_min"].iloc[1])
    assert d["change_max"].tolist()[1] == 100 and pd.isna(d["change_max"].iloc[0])
    assert d["value_max"].tolist()[2] == 40
    assert list(df.columns) == ["cycle", "province_set", "province_code", "indicator", "measure", "unit", "value"]
