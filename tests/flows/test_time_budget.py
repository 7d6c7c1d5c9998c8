"""Each source's time budget per run, through the real refresh (Prefect, DuckDB, loopback HTTP):
SEC's answers are slow (a per-publisher latency on the replay server) and its budget is
smaller than its requests need, two partners at a time. The run ends partial naming SEC and
its budget; what SEC answered before the budget ran out is landed and published; the partners
it did not reach are in ops.fetch_log as deferred with the reason; every other source
completes. The next run, with the default budget, asks SEC only for the deferred partners and
ends equal to a clean run of the same registry in another database."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from connectors.replay import ReplayServer
from connectors.source import Partner
from flows.budgets import least_recently_answered
from flows.db import open_work
from flows.offline import DEMO_PARTNERS, SNAPSHOT_DIR, source_overrides
from flows.refresh import refresh
from tests.faults.test_refresh_faults import _facts

# Seconds per SEC answer: 7 partners x 2 requests, two partners at a time; the seventh
# partner begins after three others on one worker, at 3 s at the earliest: past the budget.
SEC_LATENCY = 0.5
BUDGET = "2.5"
# Apple and Snowflake first: the two whose company facts the demo recorded (the first
# request of each worker is made whatever the machine's load, so a partner reached whole is
# one of them, and the SEC tables' row-count bounds over the partners reached hold).
FIRST = ("apple", "snowflake")
CIK = re.compile(r"CIK(\d{10})")


def _rows(db: Path, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    with duckdb.connect(str(db), read_only=True) as con:
        cursor = con.execute(sql, params)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _sec_ciks(server: ReplayServer, since: int) -> set[str]:
    """The CIKs whose SEC files were asked for after the first `since` requests."""
    return {
        m.group(1)
        for r in server.requests[since:]
        if r["path"].startswith("/sec/") and (m := CIK.search(r["path"]))
    }


@pytest.fixture(scope="module")
def runs(prefect_harness: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    work = tmp_path_factory.mktemp("time-budget")
    header, *lines = DEMO_PARTNERS.read_text(encoding="utf-8").splitlines()
    lines.sort(key=lambda line: line.split(",")[0] not in FIRST)
    registry = work / "partners.csv"
    registry.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    with ReplayServer(SNAPSHOT_DIR, latencies={"/sec/": SEC_LATENCY}) as server:
        env = source_overrides(server.base_url)
        clean_db, db = work / "clean.duckdb", work / "p.duckdb"
        clean = refresh(str(registry), str(clean_db), env, str(work / "docs-clean"))
        budgeted = {
            **env,
            "PARTNERDD_SEC_TIME_BUDGET_SECONDS": BUDGET,
            "PARTNERDD_SEC_WORKERS": "2",
        }
        before = len(server.requests)
        first = refresh(str(registry), str(db), budgeted, str(work / "docs"))
        first_asked = {r["path"] for r in server.requests[before:] if CIK.search(r["path"])}
        first_facts = _facts(db)
        filed = _rows(db, "select distinct partner_id from marts.partner_filings", [])
        asked = len(server.requests)
        second = refresh(str(registry), str(db), env, str(work / "docs"))
        yield {
            "db": db,
            "clean": clean,
            "clean_facts": _facts(clean_db),
            "first": first,
            "first_facts": first_facts,
            "first_filed": {r["partner_id"] for r in filed},
            "first_asked": first_asked,
            "second": second,
            "second_ciks": _sec_ciks(server, asked),
        }


def _sec_log(runs: dict, run: str) -> list[dict[str, Any]]:
    return _rows(
        runs["db"],
        "select partner_id, kind, outcome, error from ops.fetch_log "
        "where run_id = ? and source = 'sec'",
        [runs[run]["run_id"]],
    )


def test_a_source_past_its_budget_makes_the_run_partial_and_defers_what_it_did_not_reach(
    runs: dict,
) -> None:
    first = runs["first"]
    assert first["status"] == "partial"
    # the budget is the only reason: every other source completed
    assert len(first["partial"]) == 1, first["partial"]
    assert first["partial"][0].startswith(f"source sec ran out of its time budget of {BUDGET} s")
    log = _sec_log(runs, "first")
    deferred = {r["partner_id"] for r in log if r["outcome"] == "deferred"}
    assert deferred, log
    assert all("time budget" in r["error"] for r in log if r["outcome"] == "deferred")
    others = _rows(
        runs["db"],
        "select source, outcome from ops.fetch_log where run_id = ? and source <> 'sec' "
        "and outcome not in ('ok', 'skipped', 'not_recorded')",
        [first["run_id"]],
    )
    assert others == []


def test_what_the_source_answered_within_its_budget_is_published(runs: dict) -> None:
    log = _sec_log(runs, "first")
    answered = {r["partner_id"] for r in log if r["kind"] == "submissions" and r["outcome"] == "ok"}
    assert answered  # the first request starts at once: the budget cannot stop it
    assert runs["first_filed"] == answered
    counted = _rows(
        runs["db"],
        "select requests from marts.source_requests where run_id = ? and source = 'sec'",
        [runs["first"]["run_id"]],
    )
    assert counted == [{"requests": len(runs["first_asked"])}]  # what was deferred was not asked
    assert len(runs["first_facts"]["partner_filings"]) < len(runs["clean_facts"]["partner_filings"])


def test_the_next_run_asks_only_for_the_deferred_and_ends_equal_to_a_clean_run(
    runs: dict,
) -> None:
    deferred_ciks = {
        r["cik"]
        for r in _rows(
            runs["db"],
            "select distinct p.cik from ops.fetch_log f join raw.partners p using (partner_id) "
            "where f.run_id = ? and f.source = 'sec' and f.outcome = 'deferred'",
            [runs["first"]["run_id"]],
        )
    }
    assert runs["second_ciks"] == deferred_ciks
    second = runs["second"]
    assert second["status"] == runs["clean"]["status"], second["partial"]
    assert _facts(runs["db"]) == runs["clean_facts"]


def test_a_budget_reaches_first_the_partners_answered_least_recently(tmp_path: Path) -> None:
    """So a source asked afresh every run (news) does not ask the same first partners each
    night while the rest wait for ever: the deferred come first, then the oldest answers."""
    partners = [Partner(pid, pid, "DEU", "DE") for pid in ("a", "b", "c", "d", "e")]
    con = open_work(tmp_path, {})
    try:
        for pid, outcome, day in [
            ("a", "ok", 3), ("b", "ok", 1), ("c", "deferred", 3), ("d", "http_error", 2),
            ("e", "ok", 1), ("c", "ok", 1), ("b", "deferred", 4),
        ]:  # fmt: skip
            con.execute(
                "insert into ops.fetch_log (run_id, source, partner_id, outcome, occurred_at) "
                "values ('r', 'news', ?, ?, ?)",
                [pid, outcome, datetime(2026, 12, day, tzinfo=UTC)],
            )
        con.execute(
            "insert into ops.fetch_log (run_id, source, partner_id, outcome, occurred_at) "
            "values ('r', 'sec', 'a', 'ok', ?)",
            [datetime(2026, 11, 1, tzinfo=UTC)],
        )
        ordered = least_recently_answered(con, "news", [*partners, Partner("f", "f", "DEU", "DE")])
    finally:
        con.close()
    assert [p.partner_id for p in ordered] == ["f", "b", "c", "e", "d", "a"]
