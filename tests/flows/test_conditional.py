"""Nightly operation over one replay server: a second refresh with nothing changed upstream
makes only conditional requests (or none, where still fresh) and changes no fact; a third
with one upstream change closes exactly the affected rows and `changes` lists exactly it;
a night where Microsoft's real recorded submissions gain one 8-K (added by us at the top of
the recent list, the oldest filing moving off it as on EDGAR) opens exactly that filing and
`partnerdd changes` alerts on exactly it; answers changed upstream are fetched in full;
`full=True` ignores everything held."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import duckdb
import pytest

from connectors.config import for_every_source
from connectors.replay import ReplayServer, Route
from flows import changes, cli
from flows.offline import DEMO_PARTNERS, SNAPSHOT_DIR, source_overrides
from flows.refresh import refresh

SAP_LEI = "529900D6BF99LW9R2E68"
SAP_RECORD = f"/gleif/lei-records/{SAP_LEI}"
LEIS = "filter[lei]"
OFAC_ALT = "/sanctions/ofac/alt.csv"
MSFT_SUBMISSIONS = "/sec/submissions/CIK0000789019.json"
NEW_8K = {
    "accessionNumber": "0001193125-25-180001", "filingDate": "2025-08-05",
    "reportDate": "2025-08-04", "acceptanceDateTime": "2025-08-05T20:05:12.000Z", "act": "34",
    "form": "8-K", "fileNumber": "001-37845", "filmNumber": "251190001", "items": "5.02",
    "core_type": "8-K", "size": 201345, "isXBRL": 1, "isInlineXBRL": 1,
    "primaryDocument": "msft-20250804.htm", "primaryDocDescription": "8-K",
}  # fmt: skip


def _with_new_8k() -> tuple[bytes, str]:
    """Microsoft's recorded submissions with NEW_8K first in filings.recent and the oldest
    filing gone from it (EDGAR keeps about 1,000 there); returns the body and that accession."""
    data = json.loads(
        (SNAPSHOT_DIR / "sec/submissions_CIK0000789019_MSFT_20250802.json").read_bytes()
    )
    recent = data["filings"]["recent"]
    dropped = recent["accessionNumber"][-1]
    for name, values in recent.items():
        recent[name] = [NEW_8K[name], *values[:-1]]
    return json.dumps(data).encode(), dropped


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
        with duckdb.connect(str(db), read_only=True) as con:
            out["first"]["counted"] = changes.first_run_counts(con)
            out["first"]["listed"] = changes.counts(
                changes.changes(con, datetime.min.replace(tzinfo=UTC))
            )
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
        body, out["dropped"] = _with_new_8k()
        server.add(Route(MSFT_SUBMISSIONS, body=body, content_type="application/json"))
        night("filing", {"PARTNERDD_SEC_MAX_AGE_HOURS": "0"})
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            code = cli.main(["changes", "--db", str(db), "--format", "json"])
        out["filing"]["changes"] = (code, json.loads(printed.getvalue()))
        night("full", {}, full=True)
        yield out


def test_the_first_run_counts_every_current_fact_as_new(nights: dict) -> None:
    first = nights["first"]
    assert first["summary"]["changes"]["since"] == changes.FIRST_RUN
    assert first["counted"] == first["listed"]  # counted in SQL = listed one by one
    assert first["counted"][("partner_profile", "new")] == 9
    assert first["summary"]["changes"]["facts_changed"] == sum(first["counted"].values())


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
    # the demo's LEI records come as one page (filter[lei]); SAP's changed, so the page did
    pages = [u for u in by_url if SAP_LEI in dict(parse_qsl(urlsplit(u).query)).get(LEIS, "")]
    assert len(pages) == 1 and by_url[pages[0]]["reused"] is None  # fetched in full
    assert by_url[f"{OFAC_ALT}?"]["reused"] is None  # bytes changed, facts did not
    others = [r for u, r in by_url.items() if u.startswith("/gleif/") and u != pages[0]]
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


def test_one_new_8k_upstream_is_the_one_change_and_alert(nights: dict) -> None:
    night = nights["filing"]
    assert night["summary"]["status"] in ("ok", "ok_with_warnings")
    by_url = {_where(r["url"]): r for r in night["log"] if r["status"] == 200}
    assert by_url[f"{MSFT_SUBMISSIONS}?"]["reused"] is None  # changed: fetched in full
    assert night["history"] == {"opened": [("partner_filings", "microsoft")], "closed": []}
    code, listed = night["changes"]
    assert code == 0
    assert [(c["mart"], c["what"], c["key"]) for c in listed["changes"]] == [
        (
            "partner_filings",
            "new",
            {"partner_id": "microsoft", "accession": NEW_8K["accessionNumber"]},
        )
    ]
    assert listed["alerts"] == [
        {
            "category": "filing",
            "subject": "microsoft",
            "text": f"new 8-K filed 2025-08-05 (accession {NEW_8K['accessionNumber']}, items 5.02)",
            "partners": [],
        }
    ]
    # the filing that left the recent list is still there: SEC has no cursor, landing merges
    (kept,) = _rows(
        nights["db"],
        "select count(*) as n from marts.partner_filings where accession = ?",
        [nights["dropped"]],
    )
    assert kept["n"] == 1


def test_filings_of_every_sec_partner_are_landed(nights: dict) -> None:
    rows = _rows(
        nights["db"],
        "select partner_id, count(*) as n, count(*) filter (where form in ('8-K', '6-K')) as "
        "current_reports from marts.partner_filings group by 1 order by 1",
    )
    by_partner = {r["partner_id"]: r for r in rows}
    assert set(by_partner) == {
        "apple", "infosys", "microsoft", "sap", "shell", "snowflake", "toyota"
    }  # fmt: skip
    assert by_partner["microsoft"]["n"] == 1011  # 1,010 recorded, the new 8-K
    assert by_partner["sap"]["current_reports"] == 361  # SAP's 6-Ks, as recorded
    report = nights["first"]["summary"]["tables"]
    for model in ("stg_sec__filings", "partner_filings"):
        assert report[model]["failures"] == [] and report[model]["quarantined"] == 0, report[model]


def test_full_fetches_everything_again(nights: dict) -> None:
    night = nights["full"]
    assert night["summary"]["status"] in ("ok", "ok_with_warnings")
    assert night["requests"] and not any(_conditional(r) for r in night["requests"])
    assert all(row["reused"] is None for row in night["log"])
