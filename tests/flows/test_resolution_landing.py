"""The resolution source's landing when a search fails (real extract, raw store, parse and
landing against the loopback fault server): a CIK an earlier run resolved stays, and stays
the partner's CIK for the later sources, while the failure is in the fetch log with its
reason; a first run whose search failed lands nothing for that scheme (unknown), not an
`error` decision."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.replay_faults import Fault, FaultyReplayServer
from connectors.resolution.source import IDENTIFIERS, SPEC
from connectors.source import Partner
from flows.db import open_work
from flows.offline import SNAPSHOT_DIR
from flows.refresh import identified_partners
from tests.faults.sources import Landed, land, revalidating, settings_env

# LEIs given, CIKs to be found in the SEC ticker list: Apple's is there, Fraport's is not.
APPLE = Partner("apple", "Apple Inc.", "USA", "US", lei="HWUPKR0MPOU8FGXBT394")
FRAPORT = Partner("fraport", "Fraport AG", "DEU", "DE", lei="5299001ERX0K10IZUL40")
PARTNERS = [APPLE, FRAPORT]
TICKERS = r"/sec/files/company_tickers\.json"


@pytest.fixture(scope="module")
def server() -> Iterator[FaultyReplayServer]:
    with FaultyReplayServer(SNAPSHOT_DIR) as replay:
        yield replay


def _failing(server: FaultyReplayServer, root: Path, env: dict[str, str]) -> Landed:
    server.inject(Fault("5xx_burst", TICKERS))
    try:
        return land(root, SPEC, PARTNERS, env)
    finally:
        server.clear()


def _identifiers(root: Path) -> dict[tuple[str, str], tuple[str | None, str]]:
    """(partner, scheme) -> (value, status); one row each."""
    con = open_work(root)
    try:
        select = f"select partner_id, scheme, value, status from {IDENTIFIERS}"  # noqa: S608
        rows = con.execute(select).fetchall()
    finally:
        con.close()
    found = {(p, s): (v, status) for p, s, v, status in rows}
    assert len(found) == len(rows), rows
    return found


def test_a_failed_ticker_list_keeps_the_cik_resolved_before(
    server: FaultyReplayServer, tmp_path: Path
) -> None:
    env = settings_env(server.base_url)
    clean = land(tmp_path, SPEC, PARTNERS, env)
    assert not clean.failures()
    before = _identifiers(tmp_path)
    assert before[("apple", "cik")] == ("0000320193", "resolved")
    assert before[("fraport", "cik")] == (None, "none")

    faulted = _failing(server, tmp_path, revalidating(env))  # a night later: asked again
    (failure,) = faulted.failures()
    assert failure["kind"] == "company_tickers" and failure["outcome"] == "http_error"
    assert failure["error"].startswith("HTTP 50")
    assert _identifiers(tmp_path) == before  # the decisions stand, none replaced by `error`
    con = open_work(tmp_path)
    try:  # what the later sources are given: the CIK resolved before
        found = {p.partner_id: p.cik for p in identified_partners(con, PARTNERS, [SPEC])}
    finally:
        con.close()
    assert found == {"apple": "0000320193", "fraport": None}


def test_a_first_run_whose_ticker_list_failed_lands_no_cik_decision(
    server: FaultyReplayServer, tmp_path: Path
) -> None:
    faulted = _failing(server, tmp_path, settings_env(server.base_url))
    assert [f["kind"] for f in faulted.failures()] == ["company_tickers"]
    assert _identifiers(tmp_path) == {
        ("apple", "lei"): (APPLE.lei, "given"),
        ("fraport", "lei"): (FRAPORT.lei, "given"),
    }


def test_rows_landed_before_the_key_get_it_and_are_replaced_by_the_next_decision(
    server: FaultyReplayServer, tmp_path: Path
) -> None:
    con = open_work(tmp_path)
    try:  # a store written when rows were replaced per partner (no identifier_key)
        con.execute(f"alter table {IDENTIFIERS} drop column identifier_key")  # noqa: S608
        con.execute(
            f"insert into {IDENTIFIERS} (partner_id, scheme, status, evidence) "  # noqa: S608
            "values ('apple', 'cik', 'error', 'company tickers answered HTTP 503')"
        )
    finally:
        con.close()
    land(tmp_path, SPEC, PARTNERS, settings_env(server.base_url))
    assert _identifiers(tmp_path)[("apple", "cik")] == ("0000320193", "resolved")
