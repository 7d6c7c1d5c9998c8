"""Nightly operation over one replay server: a second refresh with nothing changed upstream
makes only conditional requests (or none, where still fresh) and changes no fact; a third
with one upstream change closes exactly the affected rows and `changes` lists exactly it;
answers changed upstream are fetched in full; `full=True` ignores everything held."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import duckdb
import pytest

from connectors.config import for_every_source
from connectors.replay import ReplayServer, Route
from flows import changes
from flows.offline import DEMO_PARTNERS, SNAPSHOT_DIR, source_overrides
from flows.refresh import refresh

SAP_LEI = "529900D6BF99LW9R2E68"
SAP_RECORD = f"/gleif/lei-records/{SAP_LEI}"
OFAC_ALT = "/sanctions/ofac/alt.csv"


def _rows(db: Path, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    with duckdb.connect(str(db), read_only=True) as con:
        cursor = con.execute(sql, params or [])
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _log(db: Path, run_id: str) -> list[dict[str, Any]]:
    return _rows(
        db,
        "select source, url, status, outcome, reused from ops.fetch_log "
        "where run_id = ? and status is not null order by url",  # answers, not skips
        [run_id],
    )


def _history(db: Path, run_id: str) -> dict[str, list[tuple[str, str]]]:
    """(mart, partner or country) of the history rows a run opened and closed."""
    out: dict[str, list[tuple[str, str]]] = {"opened": [], "closed": []}
    with duckdb.connect(str(db), read_only=True) as con:
        marts = [
            r[0]
            for r in con.execute(
                "select table_name from duckdb_tables() where schema_name = 'history'"
            ).fetchall()
        ]
        for mart in marts:
            columns = {r[0] for r in con.execute(f"describe history.{mart}").fetchall()}
            who = "partner_id" if "partner_id" in columns else "iso3"
            if who not in columns:
                who = "partner_iso3"
            for event, column in (("opened", "run_from"), ("closed", "run_to")):
                rows = con.execute(
                    f"select {who} from history.{mart} where {column} = ?",  # noqa: S608
                    [run_id],
                ).fetchall()
                out[event] += [(mart, str(r[0])) for r in rows]
    return out


def _where(url: str) -> str:
    """Path and query of a logged URL (the replay server's port aside)."""
    parts = urlsplit(url)
    return f"{parts.path}?{urlencode(sorted(parse_qsl(parts.query)))}"


def _asked(request: dict[str, Any]) -> str:
    return f"{request['path']}?{urlencode(sorted(request['query'].items()))}"


def _conditional(request: dict[str, Any]) -> bool:
    return any(k.lower() in ("if-none-match", "if-modified-since") for k in request["headers"])


@pytest.fixture(scope="module")
def nights(prefect_harness: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    work = tmp_path_factory.mktemp("nights")
    db = work / "p.duckdb"
    out: dict[str, Any] = {"db": db}
    with ReplayServer(SNAPSHOT_DIR) as server:
        env = source_overrides(server.base_url)

        def night(name: str, overrides: dict[str, str], full: bool = False) -> None:
            mark = len(server.requests)
            summary = refresh(str(DEMO_PARTNERS), str(db), {**env, **overrides}, str(work), full)
            out[name] = {
                "summary": summary,
                "log": _log(db, summary["run_id"]),
                "requests": server.requests[mark:],
                "history": _history(db, summary["run_id"]),
            }

        night("first", {})
        night("quiet", {})  # configured max ages: sanctions revalidated, the rest fresh
        night(
            "revalidate", for_every_source("max_age_hours", "0")
        )  # every answer revalidated, none changed

        record = json.loads((SNAPSHOT_DIR / f"gleif/single_lei_record_{SAP_LEI}.json").read_bytes())
        record["data"]["attributes"]["registration"]["status"] = "LAPSED"
        server.add(
            Route(
                SAP_RECORD,
                body=json.dumps(record).encode(),
                content_type="application/vnd.api+json",
            )
        )
        original = (SNAPSHOT_DIR / "sanctions/ofac_alt_subset_2021.csv").read_bytes()
        server.add(Route(OFAC_ALT, body=original + b"\n", content_type="text/csv"))  # bytes only
        night("changed", {"PARTNERDD_GLEIF_MAX_AGE_HOURS": "0"})
        with duckdb.connect(str(db), read_only=True) as con:
            since, label = changes.resolve_since(con, None)
            found = changes.changes(con, since)
            out["changes"] = (
                found,
                changes.alerts(found, changes.load_rules({}), changes.partners_by_country(con)),
            )
        night("full", {}, full=True)
        yield out


def test_a_quiet_night_asks_only_conditionally_and_changes_no_fact(nights: dict) -> None:
    first, quiet = nights["first"], nights["quiet"]
    assert quiet["summary"]["status"] in ("ok", "ok_with_warnings")
    assert all(row["reused"] is None for row in first["log"])
    assert quiet["requests"], "sanctions lists have a max age of 0: asked every run"
    assert all(_conditional(r) for r in quiet["requests"])
    assert {r["path"].split("/")[1] for r in quiet["requests"]} == {"sanctions"}
    reused = {row["reused"] for row in quiet["log"]}
    assert reused == {"fresh", "not_modified"}
    assert {row["source"] for row in quiet["log"] if row["reused"] == "not_modified"} == {
        "sanctions"
    }
    assert quiet["history"] == {"opened": [], "closed": []}
    assert first["history"]["opened"] and not first["history"]["closed"]


def test_revalidating_every_answer_gets_304s_and_changes_no_fact(nights: dict) -> None:
    first, night = nights["first"], nights["revalidate"]
    held = {_where(r["url"]) for r in first["log"] if r["status"] == 200}
    conditional = {_asked(r) for r in night["requests"] if _conditional(r)}
    assert conditional == held  # every answer held was revalidated (404s carry no ETag)
    by_url = {_where(r["url"]): r for r in night["log"] if r["status"] == 200}
    assert {u for u, r in by_url.items() if r["reused"] == "not_modified"} == held
    assert night["history"] == {"opened": [], "closed": []}


def test_one_upstream_change_closes_exactly_its_rows_and_is_listed(nights: dict) -> None:
    night = nights["changed"]
    by_url = {_where(r["url"]): r for r in night["log"] if r["status"] == 200}
    assert by_url[f"{SAP_RECORD}?"]["reused"] is None  # changed: fetched in full
    assert by_url[f"{OFAC_ALT}?"]["reused"] is None  # bytes changed, facts did not
    others = [r for u, r in by_url.items() if u.startswith("/gleif/") and u != f"{SAP_RECORD}?"]
    assert others and all(r["reused"] == "not_modified" for r in others)

    closed, opened = night["history"]["closed"], night["history"]["opened"]
    assert ("partner_profile", "sap") in closed and ("partner_profile", "sap") in opened
    assert {who for _, who in closed} == {"sap"}  # nobody else's facts moved
    assert {who for _, who in opened} == {"sap"}

    found, raised = nights["changes"]
    assert {c.what for c in found} <= {"changed", "new"}  # e.g. a new red-flag evidence row
    assert {c.row.get("partner_id") for c in found} == {"sap"}
    profile = [c for c in found if c.mart == "partner_profile"]
    assert profile and profile[0].fields["lei_status"] == ("ISSUED", "LAPSED")
    lei = [a for a in raised if a.category == "lei"]
    assert sorted((a.subject, a.text) for a in lei) == [
        ("sap", "lei_lapsed False -> True"),
        ("sap", "lei_status ISSUED -> LAPSED"),
    ]
    assert {a.subject for a in raised} == {"sap"}


def test_full_fetches_everything_again(nights: dict) -> None:
    night = nights["full"]
    assert night["summary"]["status"] in ("ok", "ok_with_warnings")
    assert night["requests"] and not any(_conditional(r) for r in night["requests"])
    assert all(row["reused"] is None for row in night["log"])
