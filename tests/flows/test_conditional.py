"""Conditional and incremental fetching: a second refresh revalidates what it holds (a 304
reuses the stored answer), answers younger than their source's max age are reused without a
request, an upstream change is fetched in full, and `full=True` ignores all of it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import duckdb
import pytest

from connectors.config import load_settings
from connectors.replay import ReplayServer, Route
from flows.offline import DEMO_PARTNERS, SNAPSHOT_DIR, source_overrides
from flows.refresh import refresh

CHANGED = "/sanctions/ofac/alt.csv"


def _revalidate_all() -> dict[str, str]:
    """Overrides setting every source's max age to 0: revalidate, never reuse unasked."""
    return {
        f"PARTNERDD_{name.upper()}_MAX_AGE_HOURS": "0"
        for name, section in load_settings({}).sources.items()
        if "max_age_hours" in section
    }


def _log(db: Path, run_id: str) -> list[dict[str, Any]]:
    with duckdb.connect(str(db), read_only=True) as con:
        cursor = con.execute(
            "select source, url, status, outcome, reused from ops.fetch_log "
            "where run_id = ? and url is not null order by url",
            [run_id],
        )
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _marts(db: Path) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return (
            con.execute(
                "select * exclude (fetched_at) from marts.partner_financials order by all"
            ).fetchall()
            + con.execute(
                "select partner_id, legal_name, lei, lei_status, gov_rl from marts.partner_profile "
                "order by all"
            ).fetchall()
        )


def _where(url: str) -> str:
    """Path and query of a logged URL (the replay server's port aside)."""
    parts = urlsplit(url)
    return f"{parts.path}?{urlencode(sorted(parse_qsl(parts.query)))}"


def _asked(request: dict[str, Any]) -> str:
    return f"{request['path']}?{urlencode(sorted(request['query'].items()))}"


@pytest.fixture(scope="module")
def runs(prefect_harness: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    work = tmp_path_factory.mktemp("conditional")
    db = work / "p.duckdb"
    with ReplayServer(SNAPSHOT_DIR) as server:
        env = source_overrides(server.base_url)
        out: dict[str, Any] = {"db": db}
        first = refresh(str(DEMO_PARTNERS), str(db), env, str(work))
        out["first"] = (first, _log(db, first["run_id"]), _marts(db))

        original = (SNAPSHOT_DIR / "sanctions/ofac_alt_subset_2021.csv").read_bytes()
        server.add(Route(CHANGED, body=original + b"\n", content_type="text/csv"))
        mark = len(server.requests)
        second = refresh(str(DEMO_PARTNERS), str(db), {**env, **_revalidate_all()}, str(work))
        out["second"] = (second, _log(db, second["run_id"]), _marts(db), server.requests[mark:])

        mark = len(server.requests)
        third = refresh(str(DEMO_PARTNERS), str(db), env, str(work))  # config's max ages
        out["third"] = (third, _log(db, third["run_id"]), server.requests[mark:])

        mark = len(server.requests)
        full = refresh(str(DEMO_PARTNERS), str(db), env, str(work), full=True)
        out["full"] = (full, _log(db, full["run_id"]), server.requests[mark:])
        yield out


def test_a_second_run_revalidates_and_reuses_what_did_not_change(runs: dict) -> None:
    _, first_log, first_marts = runs["first"]
    summary, log, marts, requests = runs["second"]
    assert summary["status"] in ("ok", "ok_with_warnings")
    assert all(row["reused"] is None for row in first_log)
    held = {_where(r["url"]) for r in first_log if r["status"] == 200}
    changed = f"{CHANGED}?"
    assert changed in held and len(held) > 20

    conditional = {_asked(r) for r in requests if "If-None-Match" in r["headers"]}
    assert conditional == held  # every answer held was revalidated, nothing else
    by_url = {_where(r["url"]): r for r in log if r["status"] == 200}
    assert by_url[changed]["reused"] is None  # changed upstream: fetched in full
    unchanged = {p for p, r in by_url.items() if r["reused"] == "not_modified"}
    assert unchanged == held - {changed}
    assert marts == first_marts


def test_answers_younger_than_their_max_age_are_reused_without_a_request(runs: dict) -> None:
    _, log, requests = runs["third"]
    fresh = {row["source"] for row in log if row["reused"] == "fresh"}
    assert {"sec", "gleif", "worldbank"} <= fresh
    held = {_where(r["url"]) for r in runs["second"][1] if r["status"] == 200}
    asked = {_asked(r) for r in requests}
    # only answers with a max age of 0 (sanctions) are asked again; errors (404) are not held
    assert {p for p in asked & held if not p.startswith("/sanctions/")} == set()
    assert {p for p in held if p.startswith("/sanctions/")} <= asked
    sanctions = [row for row in log if row["source"] == "sanctions"]
    assert sanctions and all(row["reused"] == "not_modified" for row in sanctions)  # max age 0


def test_full_fetches_everything_again(runs: dict) -> None:
    summary, log, requests = runs["full"]
    assert summary["status"] in ("ok", "ok_with_warnings")
    assert requests and not any("If-None-Match" in r["headers"] for r in requests)
    assert all(row["reused"] is None for row in log)
