"""The nightly refresh and on-demand requests as Prefect deployments (config/operations.toml
[schedule]).

`partnerdd serve` registers the deployment `partnerdd-scheduled-refresh/<deployment>` with
its cron schedule (explicit time zone) and, next to it, `partnerdd-request/on-demand`
(flows/request.py, parameters name and country, optionally website, lei, cik, pdf; same
database, reports and waiting time) on the Prefect server of PREFECT_API_URL, and runs each
flow run it is given, scheduled or triggered by hand, until stopped. Teams with their
own server and workers deploy the same flow with `prefect deploy` (prefect.yaml).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from prefect import flow, get_run_logger

from connectors.config import ConfigError
from flows.operations import Operations, Schedule

FLOW_NAME = "partnerdd-scheduled-refresh"
REQUEST_DEPLOYMENT = "on-demand"


@flow(name=FLOW_NAME, log_prints=True)
def scheduled_refresh(
    partners: str,
    database: str,
    reports: str,
    offline: bool = False,
    wait_seconds: float = 3600,
) -> dict[str, Any]:
    """One refresh of `database` from the registry `partners` (relative paths: from the
    working directory). It waits up to `wait_seconds` for a refresh already running on the
    same database. A run whose registry failed (nothing published) ends Failed."""
    from flows.offline import offline_sources
    from flows.refresh import refresh

    args = (str(Path(partners).resolve()), str(Path(database).resolve()))
    docs = str(Path(reports).resolve())
    if offline:
        with offline_sources() as overrides:
            summary = refresh(*args, overrides, docs, writer_wait=wait_seconds)
    else:
        summary = refresh(*args, None, docs, writer_wait=wait_seconds)
    if summary["status"] == "failed":
        raise RuntimeError(f"run {summary['run_id']} failed: nothing was published")
    for line in summary.get("partial", []):
        get_run_logger().warning("partial: %s", line)
    return summary


def deployment_parameters(schedule: Schedule) -> dict[str, Any]:
    return {
        "partners": str(schedule.partners),
        "database": str(schedule.database),
        "reports": str(schedule.reports),
        "offline": schedule.offline,
        "wait_seconds": schedule.wait_seconds,
    }


def request_parameters(schedule: Schedule) -> dict[str, Any]:
    """Defaults of the request deployment: the nightly's database, reports and waiting time
    (a request waits for a running refresh, never beside it)."""
    return {
        "database": str(schedule.database),
        "reports": str(schedule.reports),
        "offline": schedule.offline,
        "wait_seconds": schedule.wait_seconds,
    }


def api_url() -> str:
    """The Prefect server this process talks to (environment or Prefect profile)."""
    from prefect.settings import PREFECT_API_URL

    url = PREFECT_API_URL.value()
    if not url:
        raise ConfigError(
            "partnerdd serve needs a Prefect server: start one with `prefect server start` "
            "and set PREFECT_API_URL=http://127.0.0.1:4200/api (see README, 'Nightly refresh')"
        )
    return str(url)


def serve(ops: Operations) -> None:
    """Register the deployment with its cron schedule and run its flow runs; blocks until
    interrupted (SIGINT or SIGTERM). Stopping leaves the schedule active (Prefect 3.8.8's
    pause on shutdown races the exit and is not always applied): runs due meanwhile show
    as Late in the UI and run when `partnerdd serve` is back."""
    from prefect.deployments.runner import EntrypointType, RunnerDeployment
    from prefect.schedules import Cron

    schedule = ops.schedule
    try:
        ZoneInfo(schedule.timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(
            f"[schedule] timezone {schedule.timezone!r} is not an IANA time zone "
            "(e.g. 'Europe/Berlin', 'UTC')"
        ) from exc
    if not schedule.partners.is_file():
        raise ConfigError(
            f"the scheduled registry {schedule.partners} does not exist "
            "(config/operations.toml [schedule] partners, or PARTNERDD_SCHEDULE_PARTNERS)"
        )
    api_url()
    from prefect import serve as serve_deployments

    from flows.request import request_partner

    nightly = scheduled_refresh.to_deployment(
        name=schedule.deployment,
        schedule=Cron(schedule.cron, timezone=schedule.timezone),
        parameters=deployment_parameters(schedule),
        description=f"partnerdd refresh of {schedule.database} from {schedule.partners}",
        tags=["partnerdd"],
        # Runs import flows.serve from the installed package, whatever the working directory.
        entrypoint_type=EntrypointType.MODULE_PATH,
    )
    on_demand = request_partner.to_deployment(
        name=REQUEST_DEPLOYMENT,
        parameters=request_parameters(schedule),
        description=f"an on-demand dossier for one company, published to {schedule.database}",
        tags=["partnerdd", "request"],
        entrypoint_type=EntrypointType.MODULE_PATH,
    )
    # to_deployment is sync-compatible: called from sync code it returns the deployment
    serve_deployments(
        cast(RunnerDeployment, nightly), cast(RunnerDeployment, on_demand), pause_on_shutdown=False
    )
