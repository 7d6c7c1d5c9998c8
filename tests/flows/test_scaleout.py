"""Parsing on a Dask cluster (flows/scaleout.py): every source of the demo's stored payloads
parsed on a real LocalCluster of 2 worker processes, through Prefect's DaskTaskRunner and a
real Prefect API, lands exactly the rows the default path lands, and so does a whole demo
refresh run with the Dask runner; a parse task whose worker dies is parsed in the refresh's
process instead; the default imports no Dask."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import dask
import duckdb
import pytest

from connectors.config import PROJECT_ROOT, ConfigError, load_settings
from connectors.sec.source import SPEC as SEC
from connectors.source import Batch, Parsed, SourceSpec, declared_sources
from flows import landing, load, scaleout
from flows.db import open_work, store_path
from flows.operations import Run, load_operations
from flows.store import RawStore
from tests.conftest import DEMO_DB

ON_DASK = Run(task_runner="dask", dask_workers=2, dask_groups_per_task=2)


def _parse_again(store_root: Path, parser: Any, specs: list[SourceSpec]) -> dict[str, Any]:
    """Empty the sources' landing tables, parse every stored answer again with `parser`;
    every landing row (sorted), the parse problems and the groups parsed."""
    con = open_work(store_root)
    store = RawStore(store_root)
    settings = load_settings({})
    out: dict[str, Any] = {}
    try:
        for spec in specs:
            landing.forget_parsed(con, spec.name)
            for table in spec.landing:
                con.execute(f"delete from {load.ident(table)}")  # noqa: S608
            result = landing.parse_pending(con, store, spec, settings, "reparse", parser=parser)
            out[f"{spec.name} groups"] = result.groups
            out[f"{spec.name} problems"] = sorted(map(str, result.problems))
            for table in spec.landing:
                out[table] = con.execute(
                    f"select * from {load.ident(table)} order by all"  # noqa: S608
                ).fetchall()
    finally:
        con.close()
    return out


def _parse_task_runs() -> list[Any]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import TaskRunFilter, TaskRunFilterName

    with get_client(sync_client=True) as client:
        return client.read_task_runs(
            task_run_filter=TaskRunFilter(name=TaskRunFilterName(like_="parse-"))
        )


def test_parsed_on_a_dask_cluster_lands_the_rows_parsed_here(
    prefect_harness: None, demo_copies: tuple[Path, Path]
) -> None:
    here, there = demo_copies
    specs = declared_sources()
    expected = _parse_again(here, landing.parse_here, specs)
    with scaleout.parser(ON_DASK, there) as on_dask:
        assert isinstance(on_dask, scaleout.DaskParser)
        landed = _parse_again(there, on_dask, specs)
        workers = on_dask.runner.client.nthreads()
    assert len(workers) == 2
    assert expected["sec groups"] == 7 and len(expected["raw.sec__facts"]) > 8_000
    assert landed.keys() == expected.keys()
    for key in expected:
        assert landed[key] == expected[key], key
    runs = _parse_task_runs()
    # 2 groups per task: the sources' groups (7 SEC partners: 4 tasks) went as Prefect tasks
    sec_runs = [r for r in runs if r.name.startswith("parse-sec")]
    assert len(sec_runs) == 4 and all(r.state_type.value == "COMPLETED" for r in sec_runs)


def _landing_rows(db: Path, specs: list[SourceSpec]) -> dict[str, list[Any]]:
    """Every landing row of a refreshed database, without what differs from one fetch of the
    same answers to the next: landing._VOLATILE (fetch time, URLs with the replay server's
    port) and the payload hash (a GLEIF page's links name that port too)."""
    out = {}
    with duckdb.connect(str(store_path(db) / "work.duckdb"), read_only=True) as con:
        for table in [t for spec in specs for t in spec.landing]:
            schema, name = table.split(".")
            columns = [
                c
                for (c,) in con.execute(
                    "select column_name from information_schema.columns "
                    "where table_schema = ? and table_name = ? order by ordinal_position",
                    [schema, name],
                ).fetchall()
                if c not in landing._VOLATILE and c != "payload_sha256"
            ]
            listed = ", ".join(f'"{c}"' for c in columns)
            out[table] = con.execute(
                f"select {listed} from {load.ident(table)} order by all"  # noqa: S608
            ).fetchall()
    return out


def test_a_refresh_with_the_dask_runner_lands_what_the_default_refresh_lands(
    prefect_harness: None,
    demo_state: dict[str, Any],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from flows.offline import DEMO_PARTNERS, offline_sources
    from flows.refresh import refresh

    on_dask = {"PARTNERDD_RUN_TASK_RUNNER": "dask", "PARTNERDD_RUN_DASK_GROUPS_PER_TASK": "2"}
    with (
        caplog.at_level(logging.WARNING, logger="flows.parse_workers"),
        offline_sources() as overrides,
    ):
        summary = refresh(
            str(DEMO_PARTNERS), str(tmp_path / DEMO_DB), {**overrides, **on_dask},
            str(tmp_path / "docs"),
        )  # fmt: skip
    assert summary["status"] == demo_state["summary"]["status"]
    assert not [r for r in caplog.records if r.name == "flows.parse_workers"]  # none parsed here
    specs = declared_sources()
    landed, expected = (
        _landing_rows(tmp_path / DEMO_DB, specs),
        _landing_rows(demo_state["db"], specs),
    )
    assert sum(map(len, expected.values())) > 8_000
    for table in expected:
        assert landed[table] == expected[table], table


def _dies_on_a_worker(batch: Batch) -> Parsed:
    """SEC's parse, except on a Dask worker, whose process it ends (a worker lost)."""
    from distributed import get_worker

    try:
        get_worker()
    except ValueError:  # not on a worker: the refresh's process
        return SEC.parse(batch)
    os._exit(1)


def test_a_parse_task_lost_with_its_worker_is_parsed_here(
    prefect_harness: None, demo_copies: tuple[Path, Path], caplog: pytest.LogCaptureFixture
) -> None:
    here, there = demo_copies
    expected = _parse_again(here, landing.parse_here, [SEC])
    dying = replace(SEC, parse=_dies_on_a_worker)
    run = replace(ON_DASK, dask_groups_per_task=4)
    # the scheduler gives up on a task at its first lost worker (default: 3 more workers)
    with (
        dask.config.set({"distributed.scheduler.allowed-failures": 0}),
        caplog.at_level(logging.WARNING, logger="flows.parse_workers"),
        scaleout.parser(run, there) as on_dask,
    ):
        landed = _parse_again(there, on_dask, [dying])
    assert landed == expected
    lost = [r.getMessage() for r in caplog.records if "failed on the Dask cluster" in r.message]
    assert len(lost) == 2 and all("KilledWorker" in m for m in lost), lost


def test_the_default_parses_in_local_processes_and_imports_no_dask(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from flows import landing, parse_workers, scaleout\n"
        "from flows.operations import load_operations\n"
        "with scaleout.parser(load_operations({}).run, Path(sys.argv[1])) as p:\n"
        "    assert isinstance(p, parse_workers.ProcessParser) and p.workers == 1\n"
        "none = load_operations({'PARTNERDD_RUN_PARSE_PROCESSES': '0'}).run\n"
        "with scaleout.parser(none, Path(sys.argv[1])) as p:\n"
        "    assert p is landing.parse_here\n"
        "assert not {'dask', 'distributed', 'prefect_dask'} & set(sys.modules)\n"
    )
    subprocess.run(  # noqa: S603
        [sys.executable, "-c", code, str(tmp_path)], check=True, cwd=PROJECT_ROOT
    )


def test_run_settings_come_from_the_environment_and_are_checked() -> None:
    run = load_operations(
        {"PARTNERDD_RUN_TASK_RUNNER": "dask", "PARTNERDD_RUN_DASK_WORKERS": "3"}
    ).run
    assert (run.task_runner, run.dask_workers, run.dask_address) == ("dask", 3, "")
    with pytest.raises(ConfigError, match="task_runner 'ray' is not one of default, dask"):
        load_operations({"PARTNERDD_RUN_TASK_RUNNER": "ray"})
