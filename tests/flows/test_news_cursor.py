"""News since the last article seen, through the real refresh flow (Prefect engine, DuckDB,
loopback HTTP): the second night's GDELT request carries `startdatetime` from the first night's
latest article, the earlier articles stay, a partner whose GDELT fetch failed keeps its
articles, and `full=True` sends no cursor.

No real GDELT answer exists anywhere we could find: the answers here are the team's shaped
ArtList fixture (tests/fixtures/news/gdelt_artlist_shaped.json, see its PROVENANCE.md) with
`seendate`s moved to the last days (GDELT searches its last 3 months only, and so does the
cursor), and a typed plaintext error. Every other source replays the offline demo snapshot.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from connectors.replay import ReplayServer, Route
from flows import changes
from flows.offline import offline_sources
from flows.refresh import refresh

SHAPED = Path(__file__).resolve().parent.parent / "fixtures" / "news" / "gdelt_artlist_shaped.json"
SAP, ACME = "SAP", '"Acme Widgets"'
NOW = datetime.now(UTC).replace(microsecond=0)
SEEN = "%Y%m%dT%H%M%SZ"


def _answer(*articles: tuple[dict[str, Any], datetime]) -> bytes:
    return json.dumps(
        {"articles": [{**a, "seendate": at.strftime(SEEN)} for a, at in articles]}
    ).encode()


SHAPED_ARTICLES = json.loads(SHAPED.read_bytes())["articles"]  # three SAP articles
FIRST = [(a, NOW - timedelta(days=3 - i, hours=2)) for i, a in enumerate(SHAPED_ARTICLES)]
LATEST = max(at for _, at in FIRST)
NEW = {
    **SHAPED_ARTICLES[1],
    "url": "https://www.example-news.com/business/sap-new-cloud-deal",
    "title": "SAP signs new cloud deal with European carmaker",
}
ACME_ARTICLE = {
    **SHAPED_ARTICLES[1],
    "url": "https://www.example-news.com/business/acme-widgets-expands",
    "title": "Acme Widgets expands its plant in Ohio",
}


def _gdelt(query: str, body: bytes, **more: str) -> Route:
    return Route(
        "/gdelt/doc/doc", body=body, content_type="application/json", query={"query": query, **more}
    )


def _rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.fixture(scope="module")
def nights(prefect_harness: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    work = tmp_path_factory.mktemp("cursor")
    registry = work / "partners.csv"
    registry.write_text(
        "partner_id,name,website,country,lei,cik\nsap,SAP SE,,DE,,\nacme,Acme Widgets,,US,,\n",
        encoding="utf-8",
    )
    db = work / "news.duckdb"
    out: dict[str, Any] = {"db": db}
    news = ReplayServer(
        routes=[
            _gdelt(SAP, _answer(*FIRST)),
            _gdelt(ACME, _answer((ACME_ARTICLE, NOW - timedelta(days=2)))),
        ]
    ).start()
    try:
        with offline_sources() as demo:
            overrides = {
                **demo,
                "PARTNERDD_NEWS_OFFLINE": "0",
                "PARTNERDD_RETRIES": "0",
                "PARTNERDD_GDELT_RATE_PER_SECOND": "0",
                "PARTNERDD_GDELT_URL": news.base_url + "/gdelt",
            }

            def night(name: str, full: bool = False) -> None:
                mark = len(news.requests)
                summary = refresh(str(registry), str(db), overrides, str(work / "docs"), full)
                asked = {r["query"]["query"]: r["query"] for r in news.requests[mark:]}
                news_rows = _rows(
                    db, "select partner_id, url from marts.partner_news order by 1, 2"
                )
                out[name] = {"summary": summary, "asked": asked, "news": news_rows}

            night("first")
            news.add(_gdelt(ACME, b"Invalid query: the service is busy."))  # typed, not recorded
            cursor = LATEST.strftime("%Y%m%d%H%M%S")
            # the latest article again (the cursor is inclusive) and one new one
            news.add(_gdelt(SAP, _answer((FIRST[-1][0], LATEST), (NEW, NOW)), startdatetime=cursor))
            night("second")
            with duckdb.connect(str(db), read_only=True) as con:
                since, _ = changes.resolve_since(con, None)
                out["changes"] = changes.changes(con, since)
                out["closed"] = con.execute(
                    "select count(*) from history.partner_news where run_to = ?",
                    [out["second"]["summary"]["run_id"]],
                ).fetchall()[0][0]
            out["gdelt_outcomes"] = _rows(
                db,
                "select partner_id, outcome from marts.partner_news_fetches "
                "where kind = 'gdelt' order by 1",
            )
            night("full", full=True)
    finally:
        news.stop()
    yield out


def test_the_first_night_asks_for_the_timespan_window(nights: dict) -> None:
    first = nights["first"]
    assert first["summary"]["status"] in ("ok", "ok_with_warnings"), first["summary"]["partial"]
    assert first["asked"][SAP]["timespan"] == "3months"
    assert "startdatetime" not in first["asked"][SAP]
    assert len([r for r in first["news"] if r[0] == "sap"]) == 3


def test_the_second_night_asks_since_the_latest_article_and_keeps_the_earlier(
    nights: dict,
) -> None:
    second = nights["second"]
    sap = second["asked"][SAP]
    assert sap["startdatetime"] == LATEST.strftime("%Y%m%d%H%M%S")
    assert "timespan" not in sap
    first_urls = {url for pid, url in nights["first"]["news"] if pid == "sap"}
    now_urls = {url for pid, url in second["news"] if pid == "sap"}
    assert now_urls == first_urls | {NEW["url"]}
    assert nights["closed"] == 0  # no article of the first night was closed
    news = [c for c in nights["changes"] if c.mart == "partner_news"]
    assert [(c.what, c.key["partner_id"], c.key["url"]) for c in news] == [
        ("new", "sap", NEW["url"])
    ]


def test_a_partner_whose_gdelt_fetch_failed_keeps_its_articles(nights: dict) -> None:
    assert ("acme", "api_error") in nights["gdelt_outcomes"]
    assert "acme" not in {c.key.get("partner_id") for c in nights["changes"] if c.what == "gone"}
    assert ("acme", ACME_ARTICLE["url"]) in nights["second"]["news"]
    # acme's cursor still stands on its one article: asked since then on the next night too
    assert nights["second"]["asked"][ACME]["startdatetime"] == (NOW - timedelta(days=2)).strftime(
        "%Y%m%d%H%M%S"
    )


def test_full_sends_no_cursor(nights: dict) -> None:
    full = nights["full"]
    assert full["summary"]["status"] in ("ok", "ok_with_warnings")
    for query in (SAP, ACME):
        assert full["asked"][query]["timespan"] == "3months"
        assert "startdatetime" not in full["asked"][query]
    assert NEW["url"] in {url for _, url in full["news"]}  # merged, not replaced
