"""The core's promises: a killed refresh loses nothing it stored, a failing source fails
alone, reparse needs no network, and credentials in a URL are never kept."""

from __future__ import annotations

import json
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

from connectors.replay import ReplayServer, Route
from flows.db import store_path
from flows.offline import DEMO_PARTNERS, SNAPSHOT_DIR, source_overrides
from flows.refresh import new_run_id, refresh, reparse
from tests.conftest import DEMO_DB, copy_state, trickling_server


def _profile(db: Path) -> list[tuple[Any, ...]]:
    """The published facts an uninterrupted run and a recovered one must agree on."""
    with duckdb.connect(str(db), read_only=True) as con:
        return (
            con.execute(
                "select partner_id, legal_name, lei, lei_status, gov_rl, gov_cc, governance_year "
                "from marts.partner_profile order by partner_id"
            ).fetchall()
            + con.execute(
                "select partner_id, fiscal_year, metric, value from marts.partner_financials "
                "order by all"
            ).fetchall()
        )


@pytest.fixture(scope="module")
def server() -> Iterator[ReplayServer]:
    with ReplayServer(SNAPSHOT_DIR) as replay:
        yield replay


@pytest.fixture(scope="module")
def uninterrupted(demo_state: dict[str, Any]) -> dict[str, Any]:
    """The session's offline demo refresh (read-only): what an uninterrupted run publishes."""
    return {**demo_state, "profile": _profile(demo_state["db"])}


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _prefect_servers_of(pid: int) -> list[int]:
    """The Prefect temporary servers that process `pid` started."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            command = (stat.parent / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if parent == pid and b"prefect.server.api.server" in command:
            found.append(int(stat.parent.name))
    return found


def _journal_responses(db: Path) -> list[dict[str, Any]]:
    entries = []
    for path in (store_path(db) / "journal").glob("*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue
            if entry.get("type") == "response":
                entries.append(entry)
    return entries


def _start_refresh(
    db: Path, server: ReplayServer, tmp_path: Path, extra: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """`partnerdd refresh` of the demo registry in a process of its own, to be signalled."""
    env = {
        **os.environ,
        **source_overrides(server.base_url),
        **(extra or {}),
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
        "PREFECT_LOGGING_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "flows.cli", "refresh", "--partners", str(DEMO_PARTNERS)]
    return subprocess.Popen(  # noqa: S603 (our own CLI)
        [*command, "--db", str(db), "--reports", str(tmp_path / "docs")],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def test_sigkill_loses_nothing_stored_and_the_next_run_completes(
    prefect_harness: None, uninterrupted: dict[str, Any], server: ReplayServer, tmp_path: Path
) -> None:
    db = tmp_path / "k.duckdb"
    process = _start_refresh(db, server, tmp_path)
    deadline = time.monotonic() + 240
    try:
        while len(_journal_responses(db)) < 8:
            assert process.poll() is None, "the refresh ended before it could be killed"
            assert time.monotonic() < deadline, "no responses were stored in time"
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert not db.exists()  # nothing was published by the killed run
    orphans = [int(p) for p in (store_path(db) / "server.pids").read_text().split()]
    stored = _journal_responses(db)
    payloads = store_path(db) / "payloads"
    assert len(stored) >= 8
    assert all((payloads / e["sha256"][:2] / f"{e['sha256']}.gz").exists() for e in stored)

    summary = refresh(
        str(DEMO_PARTNERS), str(db), source_overrides(server.base_url), str(tmp_path / "docs")
    )
    assert summary["status"] == "ok", summary["partial"]
    assert summary["recovered_responses"] == len(stored)
    time.sleep(1)
    assert not [pid for pid in orphans if _alive(pid)]  # the next run stopped them
    assert _profile(db) == uninterrupted["profile"]
    with duckdb.connect(str(db), read_only=True) as con:
        runs = con.execute("select count(distinct run_id) from raw.responses").fetchall()
    assert runs == [(2,)]  # the killed run's answers are kept beside the new ones
    assert not list(tmp_path.glob(".k.duckdb.publishing*"))


def test_a_whole_dataset_source_failing_on_a_first_run_fails_alone(
    prefect_harness: None, tmp_path: Path
) -> None:
    with ReplayServer(SNAPSHOT_DIR) as replay:
        replay.add(
            Route(
                path="/worldbank/wgidataset.xlsx",
                status=404,
                body=b"<html>moved</html>",
                content_type="text/html",
            )
        )
        overrides = source_overrides(replay.base_url)
        base = replay.base_url.replace("http://", "http://partnerdd:s3cret-token@")
        overrides["PARTNERDD_GLEIF_URL"] = f"{base}/gleif"
        db = tmp_path / "first.duckdb"
        summary = refresh(str(DEMO_PARTNERS), str(db), overrides, str(tmp_path / "docs"))
    assert summary["status"] == "partial"
    assert any(line.startswith("source worldbank failed") for line in summary["partial"])
    with duckdb.connect(str(db), read_only=True) as con:
        sanctions = con.execute("select count(*) from staging.stg_sanctions__entries").fetchall()
        governance = con.execute(
            "select count(*), count(gov_rl), count(legal_name) from marts.partner_profile"
        ).fetchall()
        gap = con.execute(
            "select distinct gap_reason from marts.country_coverage where index_name = 'wgi'"
        ).fetchall()
        status = con.execute("select status from ops.runs").fetchall()
    assert sanctions[0][0] > 1000  # every other source loaded and was published
    assert governance == [(9, 0, 7)]  # governance unknown, identities (7 GLEIF records) known
    assert len(gap) == 1 and "404" in gap[0][0]  # the unknown says why
    assert status == [("partial",)]
    # Credentials in a configured URL are used, never stored or logged.
    assert b"s3cret-token" not in db.read_bytes()
    store = store_path(db)
    for path in [*store.rglob("*.jsonl"), store / "work.duckdb"]:
        assert b"s3cret-token" not in path.read_bytes(), path


def test_reparse_rebuilds_marts_from_stored_payloads_without_a_request(
    prefect_harness: None,
    uninterrupted: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    from connectors.gleif import source as gleif

    db = copy_state(uninterrupted, tmp_path) / DEMO_DB
    real = gleif.parse_lei_records

    def fixed_parser(body: bytes) -> list[dict[str, Any]]:  # "a parser fix"
        return [{**r, "legal_name": f"{r['legal_name']} (fixed)"} for r in real(body)]

    monkeypatch.setattr(gleif, "parse_lei_records", fixed_parser)
    with ReplayServer(SNAPSHOT_DIR) as replay:
        for key, value in source_overrides(replay.base_url).items():
            monkeypatch.setenv(key, value)
        summary = reparse(str(db), "gleif", str(tmp_path / "docs"))
        assert replay.requests == []
    assert summary["status"] == "ok"
    with duckdb.connect(str(db), read_only=True) as con:
        names = con.execute(
            "select legal_name from marts.partner_profile where legal_name is not null"
        ).fetchall()
    assert len(names) == 7 and all(n.endswith("(fixed)") for (n,) in names)


def test_sigterm_stops_a_refresh_stuck_on_a_trickling_server(
    prefect_harness: None, uninterrupted: dict[str, Any], server: ReplayServer, tmp_path: Path
) -> None:
    """What a scheduler's cancel sends: the run stops within seconds although a request is
    held by a server sending a byte a second (the read timeout never fires; the total cap is
    minutes), is recorded as cancelled, publishes nothing, and keeps what it stored."""
    db = tmp_path / "t.duckdb"
    with trickling_server(interval=1.0) as (url, sent):
        process = _start_refresh(db, server, tmp_path, {"PARTNERDD_WORLDBANK_BULK_URL": url})
        deadline = time.monotonic() + 240
        try:
            while not sent or len(_journal_responses(db)) < 8:
                assert process.poll() is None, "the refresh ended before it could be stopped"
                assert time.monotonic() < deadline, "the trickling request was never made"
                time.sleep(0.1)
            servers = _prefect_servers_of(process.pid)
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)  # without the cancellation: until the 300 s total cap
        finally:
            if process.poll() is None:
                process.kill()
        assert len(sent) < 1000  # the trickle was cut, not waited out
    assert process.returncode == 128 + signal.SIGTERM
    assert servers and not [pid for pid in servers if _alive(pid)]  # stopped, not orphaned
    assert not db.exists()  # nothing was published by the cancelled run
    with duckdb.connect(str(store_path(db) / "work.duckdb"), read_only=True) as con:
        runs = con.execute("select status, summary from ops.runs").fetchall()
    assert [status for status, _ in runs] == ["cancelled"]
    assert "termination signal" in json.loads(runs[0][1])["error"]
    stored = _journal_responses(db)
    assert len(stored) >= 8  # what was fetched before the signal stays for the next run

    summary = refresh(
        str(DEMO_PARTNERS), str(db), source_overrides(server.base_url), str(tmp_path / "docs")
    )
    assert summary["status"] == "ok", summary["partial"]
    assert _profile(db) == uninterrupted["profile"]  # a rerun after the fault = a clean run


def test_run_ids_sort_in_the_order_the_runs_began() -> None:
    """Landing takes a group's latest run as its greatest id: a killed run and the next one
    can begin within one second (with ids to the second, a random suffix ordered them)."""
    ids = [new_run_id() for _ in range(20)]
    assert sorted(ids) == ids
    assert len(set(ids)) == len(ids)
