"""Loading the same inputs twice changes nothing: the pipeline's stages run twice from the raw
files (parsed again, no cache) into one warehouse, and every table's checksum is the same after
the second load. Left out of the comparison, by design per attempt: ``run.finished_at`` and
``run.attempts`` (a rerun on the same inputs is the same run, and counts its attempts)."""
from pathlib import Path

import pytest

from diaphuong import pipeline, warehouse
from diaphuong.ingest.discover import tree_hash
from diaphuong.settings import load_settings

RAW = Path(__file__).resolve().parents[2] / "data" / "raw"
CYCLE = "2025-H2"


def _run(settings, params: dict) -> tuple[str, dict]:
    timer = pipeline.Timer()
    with timer.stage("plan"):
        plan = pipeline.plan_cycle(settings, CYCLE, params)
    with timer.stage("parse"):
        results = [pipeline.cached_file_result(None, settings.raw_dir, CYCLE, f, plan.calendar)
                   for f in plan.files.to_dict("records")]
    asm = pipeline.assemble(CYCLE, results, plan.inbox_errors)
    chk = pipeline.check_reporting(plan, asm)
    with timer.stage("validate"):
        val = pipeline.validate_cycle(settings, plan, asm, pipeline.history(settings, CYCLE))
    batch = pipeline.build_batch(plan, asm, chk, val, timer.timings)
    return plan.run_id, pipeline.load_batch(settings, batch)


def _checksums(settings) -> dict:
    con = warehouse.connect(settings, read_only=True)
    try:
        return warehouse.table_checksums(con)
    finally:
        con.close()


@pytest.mark.skipif(not (RAW / CYCLE).is_dir(), reason="sample raw tree not present")
def test_loading_the_same_inputs_twice_changes_no_table(tmp_path):
    settings = load_settings(raw_dir=RAW, warehouse_dir=tmp_path / "wh")
    raw_before = tree_hash(RAW)
    params = {"_raw_dir": str(RAW)}
    run1, first = _run(settings, params)
    assert first["observation_inserted"] > 1000
    after_first = _checksums(settings)

    run2, second = _run(settings, params)
    assert run2 == run1  # same inputs, same code, same parameters: the same run
    assert second["observation_inserted"] == 0 and second["observation_superseded"] == 0
    after_second = _checksums(settings)
    assert after_second == after_first, {t: (after_first[t], after_second[t]) for t in after_first
                                         if after_first[t] != after_second[t]}

    con = warehouse.connect(settings, read_only=True)
    try:
        assert con.execute("SELECT attempts FROM run WHERE run_id = ?", [run1]).fetchone() == (2,)
        # the checksums did compare the per-table contents (nothing is empty by accident)
        for t in ("observation", "submission", "reporting_status", "completeness", "finding", "run"):
            assert con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] > 0, t
    finally:
        con.close()
    assert tree_hash(RAW) == raw_before  # raw inputs are read, never modified
