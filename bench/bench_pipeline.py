"""Benchmark of the whole pipeline (``diaphuong run``) on years of synthetic reporting cycles.

The tree: ``diaphuong.demo.write_demo`` writes every monthly, quarterly, 6-month, 9-month and
yearly cycle of ``--years`` years from ``--start`` (default 2016-2025: 200 cycles) for the provinces
of each period, submissions and report texts (txt, docx, pdf) with their inbox. Generating takes a
while, so the tree is kept under ``bench/out/`` (git-ignored) and reused while its marker says it
is complete.

Then, each as its own ``diaphuong run`` process (the command an operator types, Prefect's
temporary server included), timed on the wall clock:

1. full run, default task runner (threads), into a fresh warehouse;
2. rerun with nothing changed into the same warehouse (every cycle is skipped: same inputs, same
   run id) -- its ratio to the full run (target <= 15 %);
3. full run with ``--task-runner dask`` (prefect-dask, a local cluster of 2 worker processes) into
   another fresh warehouse; the speed-up against 1, and whether the two warehouses hold the same
   rows (``warehouse.table_checksums``, per-attempt columns left out).

Memory: the peak resident memory of the process tree (the CLI, Prefect's server, Dask workers),
sampled every 0.2 s with psutil as the sum over the tree, and the largest single process
(``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`` of a wrapper process that runs the command).

    .venv/bin/python bench/bench_pipeline.py [--start 2016] [--years 10] [--skip-dask] [--workers N]
    .venv/bin/python bench/bench_pipeline.py --cycles 2025-11,2025-12   # a quick check

Figures go to stdout and to ``bench/out/bench_pipeline-<tree>.json``. The machine's other
load is printed too (load average): on a shared machine wall-clock figures move with it.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT / "src"))

WRAP = r"""
import json, resource, subprocess, sys
r = subprocess.run(sys.argv[2:], stdout=open(sys.argv[1], "wb"), stderr=subprocess.STDOUT)
print(json.dumps({"rc": r.returncode, "max_rss_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
"""


def cycles_for(start: int, years: int) -> list[str]:
    from diaphuong.schedule import KINDS, cycles_of_kind

    return [c for y in range(start, start + years) for k in KINDS for c in cycles_of_kind(k, y)]


def demo_tree(cycles: list[str], name: str, seed: int = 0) -> tuple[Path, float | None]:
    """The raw tree (generated once; the seconds it took, or None when reused)."""
    from diaphuong.demo import write_demo

    tree = OUT / f"demo-{name}-seed{seed}"
    marker = tree / ".complete"
    if marker.exists() and marker.read_text().split() == cycles and all((tree / c / "_truth.json").exists()
                                                                         for c in cycles):
        return tree, None
    shutil.rmtree(tree, ignore_errors=True)
    tree.mkdir(parents=True)
    t0 = time.perf_counter()
    for i, c in enumerate(cycles, 1):
        write_demo(tree, [c], seed=seed)
        print(f"  generated {c} ({i}/{len(cycles)}, {time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)
    marker.write_text("\n".join(cycles) + "\n")
    return tree, time.perf_counter() - t0


def code_snapshot() -> Path:
    """A copy of the code (package, flows, expectations) that the runs import instead of the
    checkout: other people editing the checkout during a long benchmark would otherwise change
    the code fingerprint between the full run and the rerun (and the rerun would redo it all)."""
    snap = OUT / "code"
    shutil.rmtree(snap, ignore_errors=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "src" / "diaphuong", snap / "diaphuong", ignore=ignore)
    shutil.copytree(ROOT / "flows", snap / "diaphuong_flows", ignore=ignore)
    shutil.copytree(ROOT / "expectations", snap / "expectations", ignore=ignore)
    return snap


def count_files(tree: Path) -> dict[str, int]:
    n = {"submissions": 0, "reports": 0}
    for kind in n:
        n[kind] = sum(1 for p in tree.glob(f"*/{kind}/*") if p.is_file())
    return n


def tree_rss(pid: int) -> int:
    import psutil

    try:
        p = psutil.Process(pid)
        procs = [p] + p.children(recursive=True)
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for q in procs:
        try:
            total += q.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


def timed_run(label: str, args: list[str], env: dict) -> dict:
    """One ``diaphuong run`` in a wrapper process: wall time, exit code, peak memory."""
    log = OUT / f"bench_pipeline-{label}.log"  # the run's console lines
    cmd = [sys.executable, "-c", WRAP, str(log), str(BIN / "diaphuong"), "run", "--no-progress", *args]
    try:
        import psutil  # noqa: F401
        sample = True
    except ImportError:
        sample = False
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True)
    peak = 0
    while proc.poll() is None:
        if sample:
            peak = max(peak, tree_rss(proc.pid))
        time.sleep(0.2)
    wall = time.perf_counter() - t0
    res = json.loads(proc.stdout.read().strip().splitlines()[-1])
    if res["rc"] != 0:
        sys.exit(f"{label}: diaphuong run exited {res['rc']}; see {log}")
    return {"label": label, "seconds": round(wall, 1), "peak_tree_rss_mb": round(peak / 2**20) if sample else None,
            "max_process_rss_mb": round(res["max_rss_kb"] / 1024), "stages": stage_totals(log), "log": str(log)}


def stage_totals(log: str) -> dict[str, float]:
    """Seconds per stage, summed over the cycles, from a run's console lines."""
    import re

    out: dict[str, float] = {}
    for m in re.finditer(r"^\S+ \S+\s+(\w[\w-]*)\s+([\d.]+) s  ", Path(log).read_text(), re.M):
        out[m.group(1)] = round(out.get(m.group(1), 0) + float(m.group(2)), 1)
    return out


def checksums(wh: Path) -> dict:
    from diaphuong import warehouse
    from diaphuong.settings import load_settings

    con = warehouse.connect(load_settings(warehouse_dir=wh), read_only=True)
    try:
        exclude = dict(warehouse.CHECKSUM_EXCLUDE)
        # the run rows of the two warehouses differ per attempt: when, how long, which Prefect run
        exclude["run"] = tuple(set(exclude.get("run", ())) | {"started_at", "finished_at", "timings",
                                                                "prefect_flow_run_id", "parameters", "attempts"})
        return warehouse.table_checksums(con, exclude)
    finally:
        con.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--start", type=int, default=2016)
    ap.add_argument("--years", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=None, help="threads of the default runner")
    ap.add_argument("--cycles", help="comma-separated cycles instead of --start/--years (a quick check)")
    ap.add_argument("--skip-dask", action="store_true")
    a = ap.parse_args()

    OUT.mkdir(parents=True, exist_ok=True)
    if a.cycles:
        cycles = [c.strip() for c in a.cycles.split(",") if c.strip()]
        name = "_".join(cycles) if len(cycles) <= 3 else f"{cycles[0]}_{len(cycles)}cycles"
    else:
        cycles = cycles_for(a.start, a.years)
        name = f"{a.start}-{a.start + a.years - 1}"
    tree, gen_s = demo_tree(cycles, name, a.seed)
    files = count_files(tree)
    n_files = files["submissions"] + files["reports"]
    n_cycles = len(cycles)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API_URL")}
    snap = code_snapshot()
    env["PYTHONPATH"] = str(snap)  # before the editable install's finder on the import path
    env["DIAPHUONG_EXPECTATIONS"] = str(snap / "expectations")
    env["DIAPHUONG_PREFECT_HOME"] = str(OUT / "prefect-home")
    env["PREFECT_HOME"] = str(OUT / "prefect-home")
    if a.workers:
        env["DIAPHUONG_WORKERS"] = str(a.workers)
    wh_default, wh_dask = OUT / "wh-default", OUT / "wh-dask"
    print(f"tree {tree}: {n_cycles} cycles, {n_files} files ({files['submissions']} submissions, "
          f"{files['reports']} report texts)" + (f", generated in {gen_s:.0f} s" if gen_s else ", reused"))
    print(f"cores {os.cpu_count()}, load average before {os.getloadavg()[0]:.2f}")

    results = {}
    shutil.rmtree(wh_default, ignore_errors=True)
    results["full"] = timed_run("full", ["--raw", str(tree), "--warehouse", str(wh_default)], env)
    print(f"full run      {results['full']['seconds']:8.1f} s  {n_files / results['full']['seconds']:6.1f} files/s  "
          f"peak tree RSS {results['full']['peak_tree_rss_mb']} MB, largest process {results['full']['max_process_rss_mb']} MB",
          flush=True)
    print("  stages (s, summed over cycles): " + ", ".join(f"{k} {v:.0f}" for k, v in results["full"]["stages"].items()))
    results["rerun"] = timed_run("rerun", ["--raw", str(tree), "--warehouse", str(wh_default)], env)
    ratio = results["rerun"]["seconds"] / results["full"]["seconds"]
    print(f"rerun         {results['rerun']['seconds']:8.1f} s  {100 * ratio:5.1f} % of the full run "
          f"(target <= 15 %)", flush=True)
    if not a.skip_dask:
        shutil.rmtree(wh_dask, ignore_errors=True)
        results["dask"] = timed_run("dask", ["--raw", str(tree), "--warehouse", str(wh_dask),
                                             "--task-runner", "dask", "--workers", "2"], env)
        same = checksums(wh_default) == checksums(wh_dask)
        speedup = results["full"]["seconds"] / results["dask"]["seconds"]
        results["dask"]["same_tables_as_default"] = same
        print(f"dask (2 wkr)  {results['dask']['seconds']:8.1f} s  speed-up x{speedup:.2f} against the default "
              f"runner; peak tree RSS {results['dask']['peak_tree_rss_mb']} MB; same tables: {same}", flush=True)
        p_def, p_dask = results["full"]["stages"].get("parse", 0), results["dask"]["stages"].get("parse", 0)
        if p_dask:
            print(f"  parse stage alone: {p_def:.0f} s on threads, {p_dask:.0f} s on Dask (x{p_def / p_dask:.2f})")
    after = count_files(tree)
    if after != files:
        print(f"WARNING: the tree changed during the benchmark ({files} -> {after}): figures not valid")
    summary = {"tree": str(tree), "tree_unchanged": after == files, "cycles": n_cycles, "files": files, "generate_seconds": gen_s,
               "cores": os.cpu_count(), "load_average_after": os.getloadavg(), "files_per_second":
               round(n_files / results["full"]["seconds"], 2), "rerun_ratio": round(ratio, 4), **results}
    path = OUT / f"bench_pipeline-{name}.json"
    path.write_text(json.dumps(summary, indent=2))
    print(f"load average after {os.getloadavg()[0]:.2f}; figures in {path}")


if __name__ == "__main__":
    main()
