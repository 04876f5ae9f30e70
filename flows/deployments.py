"""Scheduled deployments of the reporting-cycle flow, one per cycle kind, declared once from
``diaphuong.schedule.SCHEDULES``. ``diaphuong serve`` (or ``python -m diaphuong_flows.deployments``)
serves them against the Prefect server that ``PREFECT_API_URL`` points at."""
from __future__ import annotations

from prefect import serve

from diaphuong.schedule import SCHEDULES
from diaphuong_flows.reporting_cycle import reporting_cycle

TIMEZONE = "Asia/Ho_Chi_Minh"


def build_deployments(raw_dir: str | None = None, warehouse_dir: str | None = None):
    """One deployment per cycle kind: it processes the cycle of that kind that is due, then
    re-checks the previous open cycles for late arrivals."""
    from prefect.schedules import Cron

    out = []
    for spec in SCHEDULES:
        out.append(reporting_cycle.to_deployment(
            name=f"{spec.kind}",
            description=spec.description,
            schedules=[Cron(spec.cron, timezone=TIMEZONE)],
            parameters={"kind": spec.kind, "raw_dir": raw_dir, "warehouse_dir": warehouse_dir},
            tags=["diaphuong", spec.kind],
        ))
    return out


def serve_all(raw_dir: str | None = None, warehouse_dir: str | None = None, limit: int | None = None) -> None:
    serve(*build_deployments(raw_dir, warehouse_dir), limit=limit)


if __name__ == "__main__":  # pragma: no cover
    serve_all()
