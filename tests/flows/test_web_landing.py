"""The web source's landing and staging when a partner's home page fails (real extract, raw
store, parse and landing against the loopback fault server, then the web staging models
built on that database): the pages, organisations, links and capabilities of the crawl
before stay staged while the failed crawl shows as the latest attempt with its reason, and
a crawl after the fault clears stages what a clean one does. A first crawl that fails
stages no fact (unknown)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connectors.replay_faults import Fault, FaultyReplayServer
from connectors.source import Partner
from connectors.web.source import SPEC
from flows import load
from flows.db import open_work, records
from flows.offline import SNAPSHOT_DIR
from tests.faults.sources import FAULT_ENV, VOLATILE, land, revalidating, settings_env, site_routes

SITES = ("sap", "apple")
FACTS = ("stg_web__pages", "stg_web__organizations", "stg_web__links", "stg_web__capabilities")
STAGING = ("stg_web__fetches", *FACTS)


@pytest.fixture(scope="module")
def server() -> Iterator[FaultyReplayServer]:
    with FaultyReplayServer(SNAPSHOT_DIR, routes=site_routes(list(SITES))) as replay:
        yield replay


def _partners(server: FaultyReplayServer) -> list[Partner]:
    return [Partner(p, p.upper(), "DEU", "DE", website=f"{server.base_url}/{p}/") for p in SITES]


def _staged(root: Path) -> dict[str, Any]:
    """The web staging models built on the store's landing tables: each fact table's rows
    without the columns that say when or from which crawl, and each partner's fetches."""
    con = open_work(root)
    try:
        for model in STAGING:
            sql = load.model_sql("staging", model)
            con.execute(f"create or replace table staging.{model} as {sql}")
        facts, partners = {}, {}
        for model in FACTS:
            rows = records(con, f"select * from staging.{model}")  # noqa: S608
            facts[model] = sorted(
                repr(sorted((k, v) for k, v in r.items() if k not in VOLATILE)) for r in rows
            )
            partners[model] = {r["partner_id"] for r in rows}
        fetches = records(
            con,
            "select partner_id, kind, page_type, outcome, reason, latest_attempt, published "
            "from staging.stg_web__fetches where kind <> 'robots' order by all",
        )
    finally:
        con.close()
    return {"facts": facts, "partners": partners, "fetches": fetches}


def _homes(staged: dict[str, Any], partner_id: str) -> list[tuple[str, bool, bool]]:
    """(outcome, latest_attempt, published) of each staged crawl's home page fetch."""
    return sorted(
        (f["outcome"], f["latest_attempt"], f["published"])
        for f in staged["fetches"]
        if f["partner_id"] == partner_id and f["page_type"] == "home"
    )


@pytest.mark.parametrize("kind", ["connect_timeout", "redirect_loop", "gzip_bomb"])
def test_a_failed_home_page_keeps_the_facts_of_the_crawl_before(
    kind: str, server: FaultyReplayServer, tmp_path: Path
) -> None:
    partners, env = _partners(server), settings_env(server.base_url)
    assert not land(tmp_path, SPEC, partners, env).failures()
    clean = _staged(tmp_path)
    assert all(clean["facts"][m] for m in ("stg_web__pages", "stg_web__capabilities"))

    server.inject(Fault(kind, "/sap/"))
    try:
        faulted = land(tmp_path, SPEC, partners, {**revalidating(env), **FAULT_ENV.get(kind, {})})
    finally:
        server.clear()
    (failure,) = [f for f in faulted.failures() if f["url"].endswith("/sap/")]
    assert failure["error"]
    staged = _staged(tmp_path)
    assert staged["facts"] == clean["facts"]  # sap's pages and capabilities still staged
    # the failed crawl is sap's latest attempt, with its reason; the one before is published
    (failed,) = [f for f in staged["fetches"] if f["partner_id"] == "sap" and f["latest_attempt"]]
    assert failed["outcome"] != "ok" and failed["reason"] and not failed["published"]
    assert _homes(staged, "sap") == [("ok", False, True), (failed["outcome"], True, False)]
    assert _homes(staged, "apple") == [("ok", True, True)]

    rerun = land(tmp_path, SPEC, partners, revalidating(env))  # the fault cleared
    assert not rerun.failures()
    assert _staged(tmp_path) == clean


def test_a_first_crawl_that_failed_stages_no_fact(
    server: FaultyReplayServer, tmp_path: Path
) -> None:
    server.inject(Fault("redirect_loop", "/sap/"))
    try:
        land(tmp_path, SPEC, _partners(server), settings_env(server.base_url))
    finally:
        server.clear()
    staged = _staged(tmp_path)
    assert _homes(staged, "sap") == [("too_many_redirects", True, True)]
    assert staged["partners"] == {  # the test pages declare no schema.org organisation
        **dict.fromkeys(FACTS, {"apple"}),
        "stg_web__organizations": set(),
    }
