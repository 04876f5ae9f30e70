"""Benchmark of the data-quality report: one cycle of 63 provinces x 40 indicator columns (with
three earlier cycles for the trends), built as a synthetic warehouse.

Prints the page size (target < 2 MB) and the browser render time in headless Chromium (median of
a few runs; target < 2 s): the page's own clock (navigation start -> load event with the layout of
the whole page forced) and, as an upper bound, the wall time of the whole Chromium process (start,
load, scripts, layout, DOM dump, exit).

    .venv/bin/python bench/bench_report.py [--runs 5] [--provinces 63] [--columns 40] [--keep DIR]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from diaphuong.report import build_report_data, render_report
from diaphuong.report.browser import find_chromium, render_timing
from diaphuong.report.sample import build_sample_warehouse

SIZE_TARGET = 2 * 1024 * 1024
RENDER_TARGET_S = 2.0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--provinces", type=int, default=63)
    ap.add_argument("--columns", type=int, default=40)
    ap.add_argument("--keep", type=Path, help="write the page here instead of a temporary folder")
    a = ap.parse_args(argv)

    con = duckdb.connect()
    t0 = time.perf_counter()
    cycle = build_sample_warehouse(con, n_provinces=a.provinces, n_columns=a.columns)
    t_fill = time.perf_counter() - t0
    t0 = time.perf_counter()
    data = build_report_data(con, cycle, chronic_k=2, chronic_n=3)
    t_data = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        base = a.keep or Path(tmp)
        t0 = time.perf_counter()
        page = render_report(data, base / cycle / "index.html")
        t_render = time.perf_counter() - t0
        size = page.stat().st_size
        n_cells = sum(len(r) for r in data["grid"])
        n_find = sum(s["count"] for s in data["findings"])
        print(f"cycle {cycle}: {len(data['provinces'])} provinces x {len(data['columns'])} columns = {n_cells} cells, "
              f"{n_find} findings, {len(data['conflicts'])} conflicts, "
              f"{sum(len(data['changes'][k]) for k in ('new', 'revised', 'withdrawn'))} changes")
        print(f"python: fill warehouse {t_fill:.2f} s, build_report_data {t_data:.3f} s, render_report {t_render:.3f} s")
        ok_size = size < SIZE_TARGET
        print(f"page size: {size / 1024 / 1024:.2f} MB ({size:,} bytes)  target < 2 MB: {'OK' if ok_size else 'OVER'}")
        if not find_chromium():
            print("browser render time: skipped (no headless Chromium; apt-get install -y chromium)")
            return 0 if ok_size else 1
        render_timing(page)  # warm the disk cache and Chromium's shared libraries
        runs = [render_timing(page) for _ in range(a.runs)]
        page_s = statistics.median(r.page_ms for r in runs) / 1000
        wall_s = statistics.median(r.wall_s for r in runs)
        ok_render = page_s < RENDER_TARGET_S
        print(f"browser render time (median of {a.runs}): page {page_s:.2f} s "
              f"[{', '.join(f'{r.page_ms / 1000:.2f}' for r in runs)}]  target < 2 s: {'OK' if ok_render else 'OVER'}")
        print(f"  whole chromium process incl. start-up and exit (median): {wall_s:.2f} s")
        if a.keep:
            print(f"page kept: {page}")
    return 0 if ok_size and ok_render else 1


if __name__ == "__main__":
    sys.exit(main())
