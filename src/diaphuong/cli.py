"""The ``diaphuong`` command. Library errors become one-line messages with a hint."""
from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from diaphuong.errors import DiaphuongError
from diaphuong.settings import load_settings

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="diaphuong: the socio-economic database of Vietnam's provinces.")
# Piped output (a file, a pager, CI logs) gets wide tables instead of columns folded to 80 chars.
out = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 240)
err = Console(stderr=True, soft_wrap=True)

WarehouseOpt = Annotated[Optional[Path], typer.Option("--warehouse", help="Warehouse folder (default data/warehouse or $DIAPHUONG_WAREHOUSE)")]
RawOpt = Annotated[Optional[Path], typer.Option("--raw", help="Raw tree (default data/raw or $DIAPHUONG_RAW)")]


class Fmt(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"


class FailOn(str, Enum):
    critical = "critical"
    warning = "warning"


def _print_frame(df, fmt: Fmt, title: str | None = None) -> None:
    if fmt == Fmt.json:
        sys.stdout.write(df.to_json(orient="records", force_ascii=False, date_format="iso") + "\n")
    elif fmt == Fmt.csv:
        sys.stdout.write(df.to_csv(index=False))
    else:
        t = Table(title=title, show_lines=False)
        for c in df.columns:
            t.add_column(str(c), overflow="fold")
        for row in df.itertuples(index=False):
            t.add_row(*["" if v is None or (isinstance(v, float) and v != v) else str(v) for v in row])
        out.print(t)


class Runner(str, Enum):
    threads = "threads"
    dask = "dask"


@app.command()
def run(
    cycle: Annotated[Optional[str], typer.Option(help="One cycle (e.g. 2025-H2); default: every cycle under the raw tree")] = None,
    raw: RawOpt = None,
    warehouse: WarehouseOpt = None,
    fail_on: Annotated[Optional[FailOn], typer.Option("--fail-on", help="Exit 3 when findings of this severity (or worse) exist")] = None,
    kind: Annotated[Optional[str], typer.Option(help="As a scheduled run: the cycles of this kind due on --today (month, quarter, half, nine_months, year)")] = None,
    today: Annotated[Optional[str], typer.Option(help="With --kind: the date the schedule fires (YYYY-MM-DD, default today)")] = None,
    task_runner: Annotated[Runner, typer.Option("--task-runner", help="Where files are parsed: a thread pool, or a Dask cluster (prefect-dask)")] = Runner.threads,
    dask_address: Annotated[Optional[str], typer.Option("--dask-address", help="Scheduler of a running Dask cluster (tcp://host:8786); default: a local cluster")] = None,
    workers: Annotated[Optional[int], typer.Option(help="Threads (default $DIAPHUONG_WORKERS or the cores), or local Dask workers (default 2); with --dask-address, the cluster's worker processes (sizes the read tasks)")] = None,
    read_tasks: Annotated[Optional[int], typer.Option("--read-tasks", help="Split each cycle's files into this many read tasks (default: 16 files a task on threads, 2 tasks per worker on Dask)")] = None,
    progress: Annotated[Optional[bool], typer.Option("--progress/--no-progress", help="Progress bar (default: when stderr is a terminal)")] = None,
) -> None:
    """Run the reporting-cycle flow: ingest, extract, check, validate, load, report."""
    import os

    from diaphuong.prefect_env import configure

    settings = load_settings(raw_dir=raw, warehouse_dir=warehouse)
    if dask_address and task_runner != Runner.dask:
        raise DiaphuongError("--dask-address needs --task-runner dask")
    if dask_address and not os.environ.get("PREFECT_API_URL"):
        raise DiaphuongError("a remote Dask cluster needs a Prefect server that its workers can reach",
                             hint="start `prefect server start --host 0.0.0.0`, then set PREFECT_API_URL="
                                  "http://<server>:4200/api here and in the environment of every Dask worker")
    configure(settings.prefect_home)
    from contextlib import nullcontext

    from diaphuong.prefect_env import api_for_subprocesses, no_heartbeat
    from diaphuong.runlog import console, progress_bar
    from diaphuong_flows.reporting_cycle import with_task_runner

    flow = with_task_runner(task_runner.value, address=dask_address, workers=workers)
    if read_tasks is None and task_runner == Runner.dask:
        read_tasks = 2 * (workers or 2)  # every Dask task costs ~0.15 s: a few larger ones
    console()
    shared = api_for_subprocesses() if task_runner == Runner.dask else nullcontext()
    with no_heartbeat(), shared, progress_bar(progress):
        rows = flow(cycle=cycle, kind=kind, today=today, raw_dir=str(settings.raw_dir.resolve()),
                    warehouse_dir=str(settings.warehouse_dir.resolve()), read_tasks=read_tasks)
    t = Table(title="diaphuong run")
    for c in ("cycle", "expected", "received", "on time", "observations", "critical", "warning", "info"):
        t.add_column(c, justify="left" if c == "cycle" else "right")
    for r in rows:
        t.add_row(r["cycle"] + (" (unchanged)" if r.get("skipped") else ""), str(r["expected"]), str(r["received"]),
                  str(r["on_time"]), str(r["observations"]), str(r["critical"]), str(r["warning"]), str(r["info"]))
    out.print(t)
    out.print(f"warehouse: {settings.duckdb_path.resolve()}")
    for r in rows:
        out.print(f"report {r['cycle']}: {r['report']}")
    if fail_on:
        worst = sum(r["critical"] for r in rows) + (sum(r["warning"] for r in rows) if fail_on == FailOn.warning else 0)
        if worst:
            err.print(f"{worst} finding(s) at or above {fail_on.value}")
            raise typer.Exit(3)


@app.command()
def sql(
    query: Annotated[str, typer.Argument(help="A read-only SQL query")],
    format: Annotated[Fmt, typer.Option("--format", "-f")] = Fmt.table,
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="observation_current as it was at this date/time")] = None,
    as_of_run: Annotated[Optional[str], typer.Option("--as-of-run", help="observation_current as it was after this run")] = None,
    warehouse: WarehouseOpt = None,
) -> None:
    """Answer a read-only SQL query on the warehouse."""
    from diaphuong.query import run_query

    settings = load_settings(warehouse_dir=warehouse)
    df, note = run_query(settings, query, as_of=as_of, as_of_run=as_of_run)
    if note:
        err.print(note)
    _print_frame(df, format)


@app.command()
def demo(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write the raw tree into")],
    cycles: Annotated[str, typer.Option(help="Comma-separated cycles, e.g. 2024-01,2024-Q1,2024-H1")],
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same files)")] = 0,
    clean: Annotated[bool, typer.Option("--clean/--mess", help="Without the injected reporting problems")] = False,
) -> None:
    """Write synthetic reporting cycles (submissions, report texts, inbox) for any period."""
    from diaphuong.demo import write_demo
    from diaphuong.periods import parse_period

    cs = [parse_period(c.strip()).code for c in cycles.split(",") if c.strip()]
    summary = write_demo(out_dir, cs, seed=seed, mess=not clean)
    out.print(f"wrote {len(cs)} cycle(s) to {out_dir}")
    if isinstance(summary, dict):
        for c in cs:
            info = summary.get(c) or {}
            if isinstance(info, dict) and info:
                out.print(f"  {c}: " + ", ".join(f"{k}={v}" for k, v in info.items() if isinstance(v, (int, str))))


@app.command()
def template(
    cycle: Annotated[str, typer.Option(help="Cycle the form is for, e.g. 2026-H1")],
    output: Annotated[Path, typer.Option("-o", "--output", help="The .xlsx to write")],
    province: Annotated[Optional[str], typer.Option(help="Province code or name to pre-fill")] = None,
) -> None:
    """Write the department's submission template (xlsx)."""
    from diaphuong.catalog.provinces import resolve_province
    from diaphuong.periods import parse_period
    from diaphuong.template import write_template

    code = resolve_province(province, on=parse_period(cycle).end).code if province else None
    path = write_template(output, cycle, code)
    out.print(f"wrote {path}")


@app.command()
def extract(
    paths: Annotated[list[Path], typer.Argument(help="Report files or folders (recursive)")],
    json_: Annotated[bool, typer.Option("--json", help="One JSON observation per line")] = False,
    province: Annotated[Optional[str], typer.Option(help="Province when the text does not say")] = None,
    period: Annotated[Optional[str], typer.Option(help="Period (DESIGN.md notation) when the text does not say")] = None,
) -> None:
    """Extract the figures that report texts state, with their source spans."""
    from diaphuong.extract import extract_paths, to_json_records

    df = extract_paths(list(paths), province=province, period=period)
    for f, msg in df.attrs.get("errors", []):
        err.print(f"error: {msg}")
    if json_:
        for rec in to_json_records(df):
            sys.stdout.write(json.dumps(rec, ensure_ascii=False) + "\n")
    else:
        cols = [c for c in ("province_code", "period", "indicator", "measure", "value", "unit", "status", "qualifier", "locator")
                if c in df.columns]
        _print_frame(df[cols], Fmt.table)


@app.command()
def status(
    cycle: Annotated[Optional[str], typer.Option(help="Cycle (default: the latest loaded)")] = None,
    json_: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
    warehouse: WarehouseOpt = None,
) -> None:
    """The scorecard of a cycle, worst first (who has not reported what, who was late)."""
    from diaphuong.completeness import status_frame
    from diaphuong.query import run_query

    settings = load_settings(warehouse_dir=warehouse)
    if cycle is None:
        latest, _ = run_query(settings, "SELECT cycle FROM cycle ORDER BY period_end DESC, cycle DESC LIMIT 1")
        if latest.empty:
            raise DiaphuongError("the warehouse holds no cycle yet", hint="run `diaphuong run` first")
        cycle = str(latest.iloc[0, 0])
    df, note = run_query(settings, f"SELECT * FROM scorecard WHERE cycle = '{cycle.replace(chr(39), '')}'")
    if note:
        err.print(note)
    if df.empty:
        raise DiaphuongError(f"no scorecard rows for cycle {cycle}", hint="check the cycle with `diaphuong sql \"SELECT cycle FROM cycle\"`")
    _print_frame(df if json_ else status_frame(df), Fmt.json if json_ else Fmt.table, title=f"Kỳ báo cáo {cycle}")


@app.command()
def report(
    cycle: Annotated[str, typer.Option(help="Cycle to report on")],
    warehouse: WarehouseOpt = None,
) -> None:
    """Write the data-quality report and the follow-up workbook and letters of a cycle."""
    from diaphuong.pipeline import write_outputs

    settings = load_settings(warehouse_dir=warehouse)
    path = write_outputs(settings, cycle)
    out.print(f"wrote {path}")


class ExportFmt(str, Enum):
    xlsx = "xlsx"
    csv = "csv"


@app.command()
def export(
    cycle: Annotated[str, typer.Option(help="Cycle whose periods to export")],
    format: Annotated[ExportFmt, typer.Option("--format", "-f")] = ExportFmt.xlsx,
    output: Annotated[Optional[Path], typer.Option("-o", "--output", help="File to write (default reports/<cycle>/panel_<cycle>.<fmt>)")] = None,
    warehouse: WarehouseOpt = None,
) -> None:
    """Write the panel (province x period, one column per indicator) for Excel users."""
    from diaphuong.export import export_panel

    settings = load_settings(warehouse_dir=warehouse)
    out.print(f"wrote {export_panel(settings, cycle, format.value, output)}")


@app.command()
def expectations(
    write: Annotated[bool, typer.Option("--write", help="Write the generated suites into expectations/")] = False,
) -> None:
    """Generate the structural Great Expectations suites from the schema and the catalog."""
    from diaphuong.expectations_gen import write_suites

    settings = load_settings()
    if not write:
        out.print("use --write to (re)generate the suites in " + str(settings.expectations_dir))
        return
    for p in write_suites(settings.expectations_dir):
        out.print(f"wrote {p}")


@app.command()
def serve(
    raw: RawOpt = None,
    warehouse: WarehouseOpt = None,
    work_pool: Annotated[Optional[str], typer.Option("--work-pool", help="Register the deployments on this process work pool (run by `prefect worker start --pool NAME` on one or more machines) instead of serving them from this process")] = None,
) -> None:
    """Serve the scheduled deployments (one per cycle kind) against a Prefect server.

    Start the server first with Prefect's own command (`prefect server start`) and point
    PREFECT_API_URL at it (e.g. http://127.0.0.1:4200/api). See docs/operations.md."""
    import os

    from diaphuong.prefect_env import configure

    settings = load_settings(raw_dir=raw, warehouse_dir=warehouse)
    if not os.environ.get("PREFECT_API_URL"):
        raise DiaphuongError("PREFECT_API_URL is not set: schedules only fire on a running Prefect server",
                             hint="run `prefect server start` in another terminal, then "
                                  "export PREFECT_API_URL=http://127.0.0.1:4200/api")
    configure(settings.prefect_home)
    raw_dir, wh_dir = str(settings.raw_dir.resolve()), str(settings.warehouse_dir.resolve())
    if work_pool:
        from diaphuong_flows.deployments import deploy_to_pool

        ids = deploy_to_pool(work_pool, raw_dir, wh_dir)
        out.print(f"{len(ids)} deployments on work pool {work_pool!r} (raw {raw_dir}, warehouse {wh_dir}); "
                  f"start workers with: prefect worker start --pool {work_pool}")
        return
    from diaphuong_flows.deployments import serve_all

    serve_all(raw_dir, wh_dir)


def main() -> None:
    try:
        app()
    except DiaphuongError as e:
        err.print(f"[red]error:[/red] {e}", markup=True, highlight=False)
        if e.hint:
            err.print(f"hint: {e.hint}", highlight=False)
        sys.exit(2)


if __name__ == "__main__":  # pragma: no cover
    main()
