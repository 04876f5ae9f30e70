"""Scheduled deployments of the reporting-cycle flow, one per cycle kind, declared once from
``diaphuong.schedule.SCHEDULES``.

- ``diaphuong serve`` (:func:`serve_all`): this process serves them against the Prefect server
  that ``PREFECT_API_URL`` points at, and runs each flow run in a subprocess of its own.
- ``diaphuong serve --work-pool NAME`` (:func:`deploy_to_pool`): registers them on a process work
  pool instead; ``prefect worker start --pool NAME`` on one or several machines runs them."""
from __future__ import annotations

from pathlib import Path

from prefect import serve

from diaphuong.schedule import SCHEDULES
from diaphuong_flows.reporting_cycle import reporting_cycle

TIMEZONE = "Asia/Ho_Chi_Minh"
ENTRYPOINT = "flows/reporting_cycle.py:reporting_cycle"


def _schedules(spec):
    from prefect.schedules import Cron

    return [Cron(spec.cron, timezone=TIMEZONE)]


def _parameters(spec, raw_dir: str | None, warehouse_dir: str | None) -> dict:
    return {"kind": spec.kind, "raw_dir": raw_dir, "warehouse_dir": warehouse_dir}


def build_deployments(raw_dir: str | None = None, warehouse_dir: str | None = None):
    """One deployment per cycle kind: it processes the cycle of that kind that is due, then
    re-checks the previous open cycles for late arrivals."""
    out = []
    for spec in SCHEDULES:
        out.append(reporting_cycle.to_deployment(
            name=f"{spec.kind}",
            description=spec.description,
            schedules=_schedules(spec),
            parameters=_parameters(spec, raw_dir, warehouse_dir),
            tags=["diaphuong", spec.kind],
        ))
    return out


def serve_all(raw_dir: str | None = None, warehouse_dir: str | None = None, limit: int | None = None) -> None:
    serve(*build_deployments(raw_dir, warehouse_dir), limit=limit)


def project_dir() -> Path:
    """The checkout holding ``flows/`` (the code a work pool's workers load)."""
    return Path(__file__).resolve().parents[1]


def deploy_to_pool(pool: str, raw_dir: str | None = None, warehouse_dir: str | None = None,
                   source: str | Path | None = None) -> list:
    """Register the deployments on the process work pool ``pool`` (created if missing). Each
    worker loads the flow from ``source`` (default: this checkout; the same path must hold the
    code on every worker machine, with diaphuong installed) and reads ``raw_dir`` and writes
    ``warehouse_dir``: paths every worker machine must see (a shared file system). Returns the
    deployment ids."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectAlreadyExists
    from prefect.flows import Flow

    with get_client(sync_client=True) as client:
        try:
            client.create_work_pool(WorkPoolCreate(name=pool, type="process"))
        except ObjectAlreadyExists:
            pass
    remote = Flow.from_source(source=str(source or project_dir()), entrypoint=ENTRYPOINT)
    ids = []
    for spec in SCHEDULES:
        ids.append(remote.deploy(
            name=spec.kind, work_pool_name=pool, build=False, push=False, print_next_steps=False,
            description=spec.description, schedules=_schedules(spec),
            parameters=_parameters(spec, raw_dir, warehouse_dir), tags=["diaphuong", spec.kind],
        ))
    return ids


if __name__ == "__main__":  # pragma: no cover
    serve_all()
