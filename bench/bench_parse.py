"""Benchmark of the submission parse stage against a bare python-calamine read.

Generates N submissions (default 1,000; about 60 sheet rows each: the header block, 37 indicator
rows, section headings, a subtotal, footnotes and signatures) in a temporary raw tree
(``<tmp>/<cycle>/submissions/``), in five layouts (the template; names instead of codes with
reordered columns; growth instead of the index; numbers typed as text; units other than the
catalog's), registers them as the pipeline does (``register_files``: the sha256 of each file, not
timed: that is the discover stage), then in the same run times, interleaved, best of N rounds:

* bare:  ``CalamineWorkbook.from_path(p)`` + ``to_python()`` of the first sheet, per file;
* parse: ``read_submissions([SubmissionFile(path, source_file, sha256), ...], cycle=, on=)``,
  exactly as ``pipeline.parse_submission_files`` calls it for the spreadsheets of a read task
  (the reader takes them stage by stage in batches of 16: bytes, container checks, calamine,
  tables; format sniffing, zip and extent checks, header and layout detection, indicator
  matching, number parsing, conversions; the observation and quarantine rows as light ``Rows``,
  no DataFrame per file), then, once for all the files, the ``observation`` and ``quarantine``
  DataFrames built from those rows (``frame_of``, what ``pipeline.assemble`` does with a cycle's
  files): the parse stage's whole output, included;
* pipeline (for information): ``pipeline.parse_submission_files`` itself, which adds the
  pipeline's own per-file bookkeeping (the ``submission`` row, lateness, its constants on the
  rows), and the same one-off frames.

Prints files/s, sheet rows/s, observations/s, the peak Python memory of each stage (tracemalloc,
in a separate pass so it does not slow the timed one), the process's max RSS, and the ratio
parse/bare (target <= 2) on wall-clock time and on CPU time (process time: what other processes
on a shared machine do not change).

    .venv/bin/python bench/bench_parse.py [--files 1000] [--repeat 5] [--keep DIR] [--by-layout]
"""
from __future__ import annotations

import argparse
import gc
import random
import resource
import shutil
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import xlsxwriter
from python_calamine import CalamineWorkbook

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from diaphuong.catalog.indicators import indicators  # noqa: E402
from diaphuong.catalog.provinces import provinces_on  # noqa: E402
from diaphuong.catalog.units import units  # noqa: E402
from diaphuong.ingest.discover import register_files  # noqa: E402
from diaphuong.ingest.submissions import SubmissionFile, frame_of, read_submissions  # noqa: E402
from diaphuong.periods import parse_period  # noqa: E402

CYCLE = "2025"
HEAD = ["STT", "Mã chỉ tiêu", "Tên chỉ tiêu", "Đơn vị tính", "Thực hiện kỳ báo cáo",
        "Kỳ báo cáo so với cùng kỳ năm trước (%)", "So với kế hoạch năm (%)", "Tình trạng số liệu", "Ghi chú"]
GROUPS = {"national_accounts": "A. TÀI KHOẢN QUỐC GIA", "industry_trade": "B. CÔNG NGHIỆP, THƯƠNG MẠI",
          "public_finance": "C. TÀI CHÍNH CÔNG", "investment": "D. ĐẦU TƯ", "prices": "E. GIÁ CẢ"}
SCALE = {"bn_vnd": ("nghìn tỷ đồng", 1e-3), "mn_usd": ("tỷ USD", 1e-3), "persons": ("nghìn người", 1e-3)}


LAYOUTS = ("on the template", "names instead of codes, reordered", "growth written instead of the index",
           "numbers typed as text", "units other than the catalog's")  # make_file's variants, in order


def _vi(x: float) -> str:
    s = f"{x:,.2f}"
    return s.replace(",", "_").replace(".", ",").replace("_", ".")


def make_file(path: Path, rnd: random.Random, prov_name: str, variant: int) -> None:
    cat = indicators()
    U = units()
    wb = xlsxwriter.Workbook(str(path), {"in_memory": True})
    ws = wb.add_worksheet("Bieu_01")
    num = wb.add_format({"num_format": "#,##0.0#"})
    ws.write(0, 0, "BÁO CÁO MỘT SỐ CHỈ TIÊU KINH TẾ - XÃ HỘI CHỦ YẾU")
    ws.write(2, 0, "Tỉnh/thành phố:")
    ws.write(2, 2, prov_name)
    ws.write(3, 0, "Kỳ báo cáo:")
    ws.write(3, 2, "Năm 2025")
    ws.write(4, 0, "Ngày lập:")
    ws.write(4, 2, "15/01/2026")
    order = list(range(9))
    head = list(HEAD)
    if variant == 1:  # names instead of codes, columns reordered
        order = [0, 2, 4, 3, 6, 5, 7, 8]
        head[2] = "Chỉ tiêu"
    for j, k in enumerate(order):
        ws.write(6, j, head[k])
    r = 7
    group = None
    n = 0
    for key, ind in cat.items():
        if ind.group != group and ind.group in GROUPS:
            ws.write(r, 1 if variant != 1 else 1, GROUPS[ind.group])
            r += 1
        group = ind.group
        n += 1
        lo = ind.value_min if ind.value_min is not None else 0
        hi = ind.value_max if ind.value_max is not None else 100
        value = round(rnd.uniform(lo, lo + (hi - lo) / 50), 2)
        unit = U[ind.unit].name_vi
        if variant == 4 and ind.unit in SCALE:
            unit, f = SCALE[ind.unit]
            value = value * f
        idx = round(rnd.uniform(95, 115), 1)
        plan = round(rnd.uniform(40, 110), 1)
        if variant == 2:
            idx = round(idx - 100, 1)
        cells = [n, key, ind.name_vi, unit, value, idx if ind.unit != "pct" else None,
                 plan if ind.additive else None, rnd.choice(["Ước tính", "Sơ bộ", "Chính thức"]), None]
        for j, k in enumerate(order):
            v = cells[k]
            if v is None:
                continue
            if variant == 3 and k in (4, 5, 6):
                ws.write_string(r, j, _vi(v))
            elif isinstance(v, (int, float)):
                ws.write_number(r, j, v, num)
            else:
                ws.write_string(r, j, v)
        r += 1
        if key == "budget_revenue_local":
            ws.write(r, 2 if variant != 1 else 1, "Tổng cộng")
            ws.write_number(r, 4 if variant != 1 else 2, 1.0)
            r += 1
    r += 1
    ws.write(r, 1, "(*) Số liệu ước tính, sẽ cập nhật khi có số chính thức")
    ws.write(r + 2, 1, "Người lập biểu")
    ws.write(r + 2, 5, "Thủ trưởng đơn vị")
    ws.write(r + 6, 1, "Nguyễn Văn A")
    ws.write(r + 6, 5, "Trần Thị B")
    wb.close()


def generate(folder: Path, n: int, seed: int = 7) -> list[Path]:
    rnd = random.Random(seed)
    names = list(provinces_on(__import__("datetime").date(2025, 12, 31))["name_vi"])
    paths = []
    for i in range(n):
        p = folder / f"{i:04d}_submission.xlsx"
        make_file(p, rnd, names[i % len(names)], i % 5)
        paths.append(p)
    return paths


def bare(files: list[dict], raw: Path) -> int:
    rows = 0
    for f in files:
        wb = CalamineWorkbook.from_path(str(raw / f["path"]))
        data = wb.get_sheet_by_name(wb.sheet_names[0]).to_python()
        rows += len(data)
    return rows


def _frames(obs_parts: list, q_parts: list) -> tuple[int, int]:
    """The cycle's two DataFrames from the files' rows, built once (as pipeline.assemble does)."""
    o = frame_of(obs_parts) if obs_parts else None
    q = frame_of([p for p in q_parts if len(p)]) if any(len(p) for p in q_parts) else None
    return (0 if o is None else len(o)), (0 if q is None else len(q))


def parse(files: list[dict], raw: Path) -> tuple[int, int]:
    """The parse stage as pipeline.parse_submission_files makes its call, and the frames of its output."""
    on = parse_period(CYCLE).end
    reads = read_submissions([SubmissionFile(raw / f["path"], f["path"], f["sha256"]) for f in files],
                             cycle=CYCLE, on=on)
    obs_parts, q_parts = [], []
    for r in reads:
        if isinstance(r, Exception):
            raise r
        obs_parts.append(r.obs_rows)
        q_parts.append(r.q_rows)
    return _frames(obs_parts, q_parts)


def pipeline_stage(files: list[dict], raw: Path) -> tuple[int, int]:
    from diaphuong.calendar import cycle_calendar
    from diaphuong.pipeline import parse_submission_files

    cal = cycle_calendar(CYCLE)
    obs_parts, q_parts = [], []
    for r in parse_submission_files(raw, CYCLE, files, cal):
        obs_parts.append(r._obs)
        q_parts.append(r._q)
    return _frames(obs_parts, q_parts)


def timed(fn, *a):
    gc.collect()
    w, c = time.perf_counter(), time.process_time()
    out = fn(*a)
    return time.perf_counter() - w, time.process_time() - c, out


def traced_peak(fn, *a) -> int:
    gc.collect()
    tracemalloc.start()
    fn(*a)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--keep", type=Path, default=None)
    ap.add_argument("--no-pipeline", action="store_true", help="skip the informational pipeline line")
    ap.add_argument("--by-layout", action="store_true",
                    help="also the ratio of each of the five layouts (their files alone, same rounds)")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="diaphuong-bench-"))
    try:
        t0 = time.perf_counter()
        sub = tmp / CYCLE / "submissions"
        sub.mkdir(parents=True)
        generate(sub, args.files)
        gen = time.perf_counter() - t0
        files = register_files(tmp, CYCLE).to_dict("records")  # the discover stage: sha256 of each file
        size = sum(f["size_bytes"] for f in files)
        # warm-up: page cache, imports, catalog loading (a few files each)
        bare(files[:5], tmp)
        parse(files[:5], tmp)
        runs = {"bare": [], "parse": []}
        rows = obs = q = 0
        for _ in range(args.repeat):  # interleaved, best of N
            w, c, rows = timed(bare, files, tmp)
            runs["bare"].append((w, c))
            w, c, (obs, q) = timed(parse, files, tmp)
            runs["parse"].append((w, c))
        pipe = None
        if not args.no_pipeline:
            pipeline_stage(files[:5], tmp)
            pipe = min((timed(pipeline_stage, files, tmp)[:2] for _ in range(max(1, args.repeat // 2))),
                       key=lambda x: x[0])
        b = min(w for w, _c in runs["bare"])
        p = min(w for w, _c in runs["parse"])
        bc = min(c for _w, c in runs["bare"])
        pc = min(c for _w, c in runs["parse"])
        mem_b = traced_peak(bare, files, tmp)
        mem_p = traced_peak(parse, files, tmp)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        n = len(files)
        print(f"files: {n} xlsx, {size / n / 1024:.1f} kB and {rows / n:.0f} sheet rows each "
              f"(generated in {gen:.1f} s)")
        print(f"{'stage':<9}{'seconds':>9}{'cpu s':>8}{'files/s':>10}{'rows/s':>11}{'obs/s':>10}{'peak MiB':>10}")
        print(f"{'bare':<9}{b:>9.3f}{bc:>8.3f}{n / b:>10.0f}{rows / b:>11.0f}{'-':>10}{mem_b / 2**20:>10.1f}")
        print(f"{'parse':<9}{p:>9.3f}{pc:>8.3f}{n / p:>10.0f}{rows / p:>11.0f}{obs / p:>10.0f}{mem_p / 2**20:>10.1f}")
        if pipe is not None:
            print(f"{'pipeline':<9}{pipe[0]:>9.3f}{pipe[1]:>8.3f}{n / pipe[0]:>10.0f}{rows / pipe[0]:>11.0f}"
                  f"{obs / pipe[0]:>10.0f}{'-':>10}   (parse_submission_files: + the pipeline's bookkeeping)")
        print(f"observations: {obs} ({obs / n:.0f} per file), quarantined cells/rows: {q}")
        print(f"ratio parse/bare: {p / b:.2f}x wall, {pc / bc:.2f}x cpu (target <= 2.00x); "
              f"runs bare {['%.3f' % w for w, _c in runs['bare']]}, parse {['%.3f' % w for w, _c in runs['parse']]}")
        print(f"process max RSS: {rss:.0f} MiB (peak MiB above: tracemalloc, Python allocations per stage)")
        if args.by_layout:
            for v, label in enumerate(LAYOUTS):
                sub_files = [f for f in files if int(Path(f["path"]).name[:4]) % len(LAYOUTS) == v]
                bw = min(timed(bare, sub_files, tmp)[0] for _ in range(args.repeat))
                pw = min(timed(parse, sub_files, tmp)[0] for _ in range(args.repeat))
                m = len(sub_files)
                print(f"  {label:<36} bare {1e6 * bw / m:5.0f} us/file, parse {1e6 * pw / m:5.0f} us/file: "
                      f"{pw / bw:.2f}x")
    finally:
        if args.keep:
            shutil.copytree(tmp, args.keep, dirs_exist_ok=True)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
