"""The reporting-cycle flow: one Prefect task per stage (and per batch of files for reading), each
calling a plain function of ``diaphuong.pipeline``. No logic lives here."""
from __future__ import annotations

import os
import time
from contextlib import ExitStack, contextmanager
from datetime import date
from pathlib import Path
from typing import Iterator

from prefect import flow, task, unmapped
from prefect.futures import as_completed
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from diaphuong import pipeline, schema
from diaphuong.ingest.discover import discover_cycles
from diaphuong.errors import DiaphuongError, WarehouseLocked
from diaphuong.runlog import LOGGER, BarTask, StageFailed, bar_task, run_log, stage, stage_failed
from diaphuong.schedule import cycles_due
from diaphuong.settings import Settings, load_settings
from diaphuong.warehouse import write_lock

@task(name="plan", cache_policy=NO_CACHE)
def plan(settings: Settings, cycle: str, parameters: dict) -> pipeline.CyclePlan:
    return pipeline.plan_cycle(settings, cycle, parameters)


# How often a read task retries a file that failed, and how long it waits in between.
FILE_RETRIES, FILE_RETRY_DELAY = 2, 1

# Files per read task (unless ``read_tasks`` says how many tasks): a task's spreadsheets are read
# together, stage by stage (``pipeline.parse_submission_files``), which costs about 13 % less
# than reading them one by one; the tasks still spread over the workers.
READ_BATCH = 16


@task(name="read-files", cache_policy=NO_CACHE, task_run_name="read {n} files from {first}")
def read_files(cache_dir: Path, raw_dir: Path, cycle: str, fs: list[dict], cal, n: int, first: str) -> list:
    """Read several files, or reuse each one's cached result for the same bytes: the spreadsheets
    together (stage by stage), then each report text on its own; if the joint read raises, each
    spreadsheet on its own instead. A file whose own read raises is retried (transient I/O); one
    that still fails is returned as ``(path, error)`` so that the flow names every failed file."""
    sheets = [f for f in fs if f["kind"] == "spreadsheet"]
    done = {}
    if sheets:
        try:
            done = dict(zip((f["path"] for f in sheets),
                            pipeline.cached_file_results(cache_dir, raw_dir, cycle, sheets, cal)))
        except Exception:  # noqa: BLE001 - one file's error: each file on its own below
            done = {}
    out = []
    for f in fs:
        if f["path"] in done:
            out.append(done[f["path"]])
            continue
        for attempt in range(FILE_RETRIES + 1):
            try:
                out.append(pipeline.cached_file_result(cache_dir, raw_dir, cycle, f, cal))
                break
            except Exception as e:  # noqa: BLE001 - retried, then reported with its file
                if attempt == FILE_RETRIES:
                    out.append((f["path"], f"{type(e).__name__}: {e}"))
                else:
                    time.sleep(FILE_RETRY_DELAY)
    return out


@task(name="assemble", cache_policy=NO_CACHE)
def assemble(cycle: str, results: list, inbox_errors: list) -> pipeline.Assembled:
    return pipeline.assemble(cycle, results, inbox_errors)


@task(name="completeness", cache_policy=NO_CACHE)
def completeness(p: pipeline.CyclePlan, asm: pipeline.Assembled) -> pipeline.Checked:
    return pipeline.check_reporting(p, asm)


@task(name="validate", cache_policy=NO_CACHE)
def validate(settings: Settings, p: pipeline.CyclePlan, asm: pipeline.Assembled) -> pipeline.Validated:
    return pipeline.validate_cycle(settings, p, asm, pipeline.history(settings, p.cycle))


@task(name="load", cache_policy=NO_CACHE)
def load(settings: Settings, batch) -> dict:
    return pipeline.load_batch(settings, batch)


@task(name="export-parquet", cache_policy=NO_CACHE)
def export(settings: Settings) -> tuple[Path, str]:
    return pipeline.export_if_stale(settings)


@task(name="report", cache_policy=NO_CACHE)
def report(settings: Settings, cycle: str) -> Path:
    return pipeline.write_outputs(settings, cycle)


@contextmanager
def _stage(timer: pipeline.Timer, cycle: str, name: str, bar: BarTask | None = None) -> Iterator[None]:
    """Time a stage; any error becomes a :class:`StageFailed` that names the cycle and stage."""
    if bar is not None:
        bar.describe(f"{cycle} {name}")
    t0 = time.perf_counter()
    with timer.stage(name):
        try:
            yield
        except StageFailed as e:
            e.seconds = time.perf_counter() - t0
            raise
        except Exception as e:  # noqa: BLE001 - re-raised with the stage named
            failed = StageFailed(cycle, name, e)
            failed.seconds = time.perf_counter() - t0
            raise failed from e


def parse_files(settings: Settings, p: pipeline.CyclePlan, read_tasks: int | None = None
                ) -> tuple[list[pipeline.FileResult], int]:
    """Read every file of the plan on the flow's task runner (threads, or Dask workers), in
    ``read-files`` tasks of ``READ_BATCH`` files, or split into ``read_tasks`` tasks. Returns the
    results in the plan's file order and how many came from the per-file cache. Every file is
    tried; then a failure names each file that failed (after its retries)."""
    files = p.files.to_dict("records")
    cached = sum(pipeline._cache_path(settings.cache_dir, p.cycle, f).exists() for f in files)
    common = (unmapped(settings.cache_dir), unmapped(settings.raw_dir), unmapped(p.cycle))
    k = -(-len(files) // min(read_tasks, len(files))) if read_tasks and files else READ_BATCH  # files per task
    batches = [files[i:i + k] for i in range(0, len(files), k)]
    futures = read_files.map(*common, batches, unmapped(p.calendar), [len(b) for b in batches],
                             [b[0]["path"] for b in batches])
    sizes = {id(fut): len(b) for fut, b in zip(futures, batches)}
    with bar_task(f"{p.cycle} files", len(files)) as bar:
        for fut in as_completed(list(futures)):
            bar.advance(sizes.get(id(fut), 1))
    results, failed = [], []
    for batch, fut in zip(batches, futures):
        try:
            got = fut.result()
        except Exception as e:  # noqa: BLE001 - collected, then raised naming every file
            failed.extend((f["path"], f"{type(e).__name__}: {e}") for f in batch)
            continue
        for item in got:
            (failed if isinstance(item, tuple) else results).append(item)
    if failed:
        raise StageFailed(p.cycle, "parse", failed[0][1], files=failed)
    return results, cached


def process_cycle(settings: Settings, cycle: str, parameters: dict, bar: BarTask | None = None,
                  read_tasks: int | None = None) -> dict:
    timer = pipeline.Timer()
    with _stage(timer, cycle, "plan", bar):
        p = plan(settings, cycle, parameters)
        done_before = pipeline.already_loaded(settings, p)
    stage(cycle, "plan", timer.timings["plan"], files=len(p.files), run=p.run_id)
    if done_before:
        with _stage(timer, cycle, "skipped", bar):
            row = pipeline.record_repeat(settings, p)
        row["timings"], row["skipped"] = timer.timings, True
        stage(cycle, "skipped", timer.timings["skipped"], f"same inputs as run {p.run_id}: nothing read, attempt counted")
        return row
    with _stage(timer, cycle, "parse", bar):
        results, cached = parse_files(settings, p, read_tasks)
    stage(cycle, "parse", timer.timings["parse"], files=len(results), read=len(results) - cached,
          from_cache=cached, quarantined=sum(r.submission["outcome"] == "quarantined" for r in results))
    with _stage(timer, cycle, "assemble", bar):
        asm = assemble(cycle, results, p.inbox_errors)
    stage(cycle, "assemble", timer.timings["assemble"], observations=len(asm.observations),
          superseded=len(asm.observations_superseded), quarantine_rows=len(asm.quarantine))
    with _stage(timer, cycle, "completeness", bar):
        chk = completeness(p, asm)
    stage(cycle, "completeness", timer.timings["completeness"], status_rows=len(chk.reporting_status),
          findings=len(chk.findings))
    with _stage(timer, cycle, "validate", bar):
        val = validate(settings, p, asm)
    stage(cycle, "validate", timer.timings["validate"], findings=len(val.findings), suites=len(val.suite_results))
    with _stage(timer, cycle, "load", bar):
        batch = pipeline.build_batch(p, asm, chk, val, timer.timings)
        loaded = load(settings, batch)
    stage(cycle, "load", timer.timings["load"], inserted=loaded.get("observation_inserted", 0),
          superseded=loaded.get("observation_superseded", 0))
    with _stage(timer, cycle, "report", bar):
        report_path = report(settings, cycle)
    stage(cycle, "report", timer.timings["report"], report=str(report_path))
    row = pipeline.summary_row(cycle, batch.frames["completeness"], loaded, batch.frames["finding"],
                               settings.duckdb_path, report_path)
    row["timings"] = timer.timings
    return row


def export_at_end(settings: Settings, bar: BarTask | None, *, failing: bool, log_path) -> None:
    """The Parquet export, once per run, when the warehouse holds loads it does not. While an
    earlier error is on its way out, a failing export is logged and that error is the one raised."""
    timer = pipeline.Timer()
    try:
        with _stage(timer, "run", "export", bar):
            folder, outcome = export(settings)
    except StageFailed as e:
        stage_failed(e)
        if failing:
            LOGGER.error("the Parquet export failed too (%s); log: %s", e.cause, log_path)
            return
        LOGGER.error("run failed at stage export (%s); log: %s", e.warehouse_state, log_path)
        raise
    what = pipeline.EXPORT_OUTCOMES[outcome]
    if outcome == "written":
        what = f"{len(schema.TABLES)} {what} {folder}"
    stage("run", "export", timer.timings["export"], what)


# Reading files is CPU-bound Python: more threads than cores only add contention (measured: 64
# files in 9.7 s with Prefect's default pool, 3.8 s with 2 workers on 2 cores).
WORKERS = int(os.environ.get("DIAPHUONG_WORKERS", os.cpu_count() or 2))


@flow(name="reporting-cycle", log_prints=False, task_runner=ThreadPoolTaskRunner(max_workers=WORKERS))
def reporting_cycle(cycle: str | None = None, kind: str | None = None, today: str | None = None,
                    raw_dir: str | None = None, warehouse_dir: str | None = None,
                    read_tasks: int | None = None) -> list[dict]:
    """Process one cycle, the cycles of a kind that are due (scheduled runs: ``kind`` and
    optionally ``today``), or every cycle under the raw tree, into the warehouse and its reports.
    ``read_tasks``: split each cycle's files into that many read tasks (default: tasks of
    ``READ_BATCH`` files; on Dask, a few larger tasks, as each task costs ~0.15 s of orchestration)."""
    settings = load_settings(raw_dir=raw_dir, warehouse_dir=warehouse_dir)
    # absolute paths: Great Expectations' Data Docs and Dask workers need them
    settings = settings.with_(raw_dir=settings.raw_dir.resolve(), warehouse_dir=settings.warehouse_dir.resolve())
    if cycle:
        cycles = [cycle]
    elif kind:
        cycles = cycles_due(kind, date.fromisoformat(today) if today else date.today(), settings.raw_dir)
    else:
        cycles = discover_cycles(settings.raw_dir)
    params = {"_raw_dir": str(settings.raw_dir), "_flow_run_id": str(flow_run.get_id() or "")}
    rows = []
    with ExitStack() as held:
        try:
            held.enter_context(write_lock(settings))
        except WarehouseLocked as e:
            LOGGER.error("%s", e)
            raise
        log_path = held.enter_context(run_log(settings.logs_dir))
        LOGGER.info("run of %s: raw %s, warehouse %s", ", ".join(cycles) or "no cycle", settings.raw_dir,
                    settings.warehouse_dir)
        bar = held.enter_context(bar_task("cycles", len(cycles)))
        failing = interrupted = False
        try:
            for c in cycles:
                try:
                    rows.append(process_cycle(settings, c, params, bar, read_tasks))
                    bar.advance()
                except StageFailed as e:
                    stage_failed(e)
                    LOGGER.error("%s failed at stage %s (%s); log: %s", c, e.stage, e.warehouse_state, log_path)
                    raise
                except Exception as e:
                    LOGGER.error("%s failed: %s: %s (the warehouse is as it was before this cycle); log: %s", c,
                                 type(e).__name__, e, log_path)
                    raise
        except Exception:
            failing = True
            raise
        except BaseException:  # Ctrl-C, a cancelled run: leave at once; the next run exports
            interrupted = True
            raise
        finally:
            # once per run, after the cycles (also after a failed one: what was loaded is exported)
            if not interrupted:
                export_at_end(settings, bar, failing=failing, log_path=log_path)
        LOGGER.info("log: %s", log_path)
    create_markdown_artifact(key="reporting-cycle-summary", markdown=pipeline.summary_markdown(rows),
                             description="diaphuong: cycles processed")
    create_table_artifact(key="reporting-cycle-table", table=[{k: v for k, v in r.items() if k != "timings"} for r in rows])
    return rows


TASK_RUNNERS = ("threads", "dask")


def with_task_runner(runner: str = "threads", *, address: str | None = None, workers: int | None = None):
    """The flow on another task runner: ``threads`` (the default pool, ``workers`` threads) or
    ``dask`` (prefect-dask: a local cluster of ``workers`` processes, 2 by default, or the running
    scheduler at ``address``). Files are parsed on the runner; the other stages run in the flow."""
    if runner == "threads":
        if workers is None:
            return reporting_cycle
        return reporting_cycle.with_options(task_runner=ThreadPoolTaskRunner(max_workers=workers))
    if runner != "dask":
        raise DiaphuongError(f"unknown task runner {runner!r}", hint="one of " + ", ".join(TASK_RUNNERS))
    try:
        from prefect_dask import DaskTaskRunner
    except ImportError:
        raise DiaphuongError("the dask task runner needs the prefect-dask package",
                             hint="pip install prefect-dask==0.3.7") from None
    import logging

    # distributed logs every worker and client at INFO through Prefect's console handler
    logging.getLogger("distributed").setLevel(logging.WARNING)
    if address:
        tr = DaskTaskRunner(address=address)
    else:
        tr = DaskTaskRunner(cluster_kwargs={"n_workers": workers or 2, "threads_per_worker": 1, "processes": True,
                                            "dashboard_address": None})
    return reporting_cycle.with_options(task_runner=tr)
