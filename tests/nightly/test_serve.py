"""`partnerdd serve` against a real local Prefect server started by the test session (its
Prefect harness, loopback only): the deployment is registered with the configured cron
schedule and time zone, and a run triggered through the deployment publishes the database;
the on-demand request deployment is served next to it, and a request made through it
publishes its partner and attaches the dossier as an artifact."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from ruamel.yaml import YAML

from flows.operations import load_operations
from flows.request import FLOW_NAME as REQUEST_FLOW
from flows.serve import FLOW_NAME, REQUEST_DEPLOYMENT

ROOT = Path(__file__).parents[2]
DEPLOYMENT = f"{FLOW_NAME}/nightly-test"
REQUEST = f"{REQUEST_FLOW}/{REQUEST_DEPLOYMENT}"
STARTUP_SECONDS = 120  # Prefect 3.8.8 takes long to start on these machines


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(
        PYTHONPATH=str(ROOT),
        PREFECT_HOME=str(home),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_LOGGING_LEVEL="INFO",
        **extra,
    )
    return env


def _stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> int:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            return proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
    return proc.wait()


def _client_call(api: str, call: Any) -> Any:
    """Run `call(client)` with a Prefect client of the test's server."""
    import asyncio

    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    async def run() -> Any:
        async with get_client() as client:
            return await call(client)

    with temporary_settings(updates={PREFECT_API_URL: api}):
        return asyncio.run(run())


@pytest.fixture(scope="module")
def served(prefect_api: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    work = tmp_path_factory.mktemp("serve")
    db = work / "nightly.duckdb"
    env = _env(
        work / "home",
        PREFECT_API_URL=prefect_api,
        PREFECT_RUNNER_POLL_FREQUENCY="1",  # a triggered run starts within 1 s, not 10
        PARTNERDD_SCHEDULE_DEPLOYMENT="nightly-test",
        PARTNERDD_SCHEDULE_CRON="30 1 * * 1-5",
        PARTNERDD_SCHEDULE_TIMEZONE="America/New_York",
        PARTNERDD_SCHEDULE_DATABASE=str(db),
        PARTNERDD_SCHEDULE_REPORTS=str(work / "docs"),
    )
    log = (work / "serve.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "flows.cli", "serve", "--offline"],
        stdout=log, stderr=subprocess.STDOUT, env=env, cwd=work,
    )  # fmt: skip
    try:
        deployment = None
        deadline = time.monotonic() + STARTUP_SECONDS
        while deployment is None:
            assert proc.poll() is None, (work / "serve.log").read_text()
            assert time.monotonic() < deadline, "serve did not register the deployment"
            time.sleep(1)
            deployment = _client_call(prefect_api, _deployment_or_none)
        yield {"api": prefect_api, "db": db, "proc": proc, "deployment": deployment, "work": work}
    finally:
        _stop(proc)
        log.close()


async def _deployment_or_none(client: Any) -> Any:
    from prefect.exceptions import ObjectNotFound

    try:
        return await client.read_deployment_by_name(DEPLOYMENT)
    except ObjectNotFound:
        return None


def test_serve_registers_the_configured_cron_schedule(served: dict[str, Any]) -> None:
    deployment = served["deployment"]
    assert deployment.paused is False
    [schedule] = deployment.schedules
    assert schedule.active is True
    assert schedule.schedule.cron == "30 1 * * 1-5"
    assert schedule.schedule.timezone == "America/New_York"
    assert deployment.entrypoint == "flows.serve.scheduled_refresh"
    assert deployment.parameters["database"] == str(served["db"])
    assert deployment.parameters["offline"] is True
    assert deployment.parameters["partners"].endswith("demo/partners.csv")


def test_a_run_triggered_through_the_deployment_publishes_the_database(
    served: dict[str, Any],
) -> None:
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: served["api"]}):
        flow_run = run_deployment(DEPLOYMENT, timeout=600, poll_interval=2)
    log = (served["work"] / "serve.log").read_text(encoding="utf-8", errors="replace")
    assert flow_run.state is not None and flow_run.state.is_completed(), log[-3000:]
    with duckdb.connect(str(served["db"]), read_only=True) as con:
        runs = con.execute("select status from ops.runs").fetchall()
        partners = con.execute("select count(*) from marts.partner_profile").fetchone()
    assert runs == [("ok",)] and partners == (9,)


async def _request_deployment(client: Any) -> Any:
    return await client.read_deployment_by_name(REQUEST)


def test_the_request_deployment_is_served_next_to_the_nightly(served: dict[str, Any]) -> None:
    deployment = _client_call(served["api"], _request_deployment)
    assert deployment.entrypoint == "flows.request.request_partner"
    assert not deployment.schedules  # on demand only
    assert deployment.parameters["database"] == str(served["db"])
    assert deployment.parameters["offline"] is True
    schema = deployment.parameter_openapi_schema
    assert {"name", "country"} <= set(schema["required"])
    assert {"website", "lei", "cik", "pdf"} <= set(schema["properties"])


def test_a_request_through_the_deployment_publishes_it_and_attaches_its_dossier(
    served: dict[str, Any],
) -> None:
    """Made as from the UI: only name and country. The name resolves to nothing in the
    recorded payloads, so its dossier is the "insufficient data" one."""
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        ArtifactFilterKey,
    )
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: served["api"]}):
        flow_run = run_deployment(
            REQUEST,
            parameters={"name": "Nowhere Widgets GmbH", "country": "DE"},
            timeout=600,
            poll_interval=2,
        )
    log = (served["work"] / "serve.log").read_text(encoding="utf-8", errors="replace")
    assert flow_run.state is not None and flow_run.state.is_completed(), log[-3000:]
    with duckdb.connect(str(served["db"]), read_only=True) as con:
        partners = con.execute("select count(*) from marts.partner_profile").fetchone()
        tier = con.execute(
            "select tier from marts.partner_fit where partner_id = 'nowhere-widgets-gmbh'"
        ).fetchone()
    assert partners == (10,) and tier == ("insufficient data",)
    registry = (served["work"] / "data" / "partners.csv").read_text(encoding="utf-8")
    assert registry.count("\n") == 11 and registry.endswith(
        "nowhere-widgets-gmbh,Nowhere Widgets GmbH,,DE,,\n"
    )  # the demo registry (never edited itself) and the new line

    async def artifacts(client: Any) -> Any:
        return await client.read_artifacts(
            artifact_filter=ArtifactFilter(
                key=ArtifactFilterKey(any_=["partnerdd-request"]),
                flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run.id]),
            )
        )

    [artifact] = _client_call(served["api"], artifacts)
    assert "insufficient data" in artifact.data
    assert "dossier-nowhere-widgets-gmbh.html" in artifact.data


def test_stopping_serve_leaves_the_schedule_active(served: dict[str, Any]) -> None:
    assert _stop(served["proc"]) == 0
    deployment = _client_call(served["api"], _deployment_or_none)
    assert deployment.paused is False and deployment.schedules[0].active is True


def test_prefect_yaml_matches_the_configured_schedule() -> None:
    """prefect.yaml (own server and workers) deploys the same flow on the same schedule."""
    spec = YAML(typ="safe").load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    [deployment] = spec["deployments"]
    schedule = load_operations({}, base=ROOT).schedule
    [cron] = deployment["schedules"]
    assert (cron["cron"], cron["timezone"]) == (schedule.cron, schedule.timezone)
    module, function = deployment["entrypoint"].split(":")
    assert (module, function) == ("flows/serve.py", "scheduled_refresh")
    parameters = deployment["parameters"]
    assert ROOT / parameters["partners"] == schedule.partners
    assert ROOT / parameters["database"] == schedule.database
    assert ROOT / parameters["reports"] == schedule.reports
    assert (parameters["offline"], parameters["wait_seconds"]) == (
        schedule.offline,
        schedule.wait_seconds,
    )


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({}, "partnerdd serve needs a Prefect server"),
        ({"PARTNERDD_SCHEDULE_TIMEZONE": "Berlin"}, "is not an IANA time zone"),
    ],
)
def test_serve_refuses_a_missing_server_or_time_zone(
    tmp_path: Path, extra: dict[str, str], message: str
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "flows.cli", "serve", "--offline"],
        env=_env(tmp_path / "home", **extra),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert message in " ".join(done.stderr.split())
