"""Web staging keeps each partner's latest crawl that did not fail only, although landing
replaces a partner's rows table by table: a new crawl that finds no page leaves the old
crawl's page rows in raw, and staging must not show them; a crawl that could not fetch the
home page lands beside the one before, whose pages staging keeps. News is the other way
round: merged per article. Real DuckDB, real raw DDL and landing upserts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb
import pandas as pd
import pytest

from connectors.news import source as news
from connectors.source import Partner
from connectors.web import source as web
from flows import load
from flows.db import apply_schema

AT = datetime(2025, 5, 1, tzinfo=UTC)
LATER = AT + timedelta(days=1)
SHA = "ab" * 32


def land(con: duckdb.DuckDBPyConnection, landing: Any, table: str, rows: list[dict]) -> None:
    load.upsert(con, table, rows, key=landing[table])


def build(con: duckdb.DuckDBPyConnection, *models: str) -> None:
    for model in models:
        sql = load.model_sql("staging", model)
        con.execute(f"create or replace table staging.{model} as {sql}")


def web_fetch(partner_id: str, collection_id: str, outcome: str) -> dict[str, Any]:
    return {
        "partner_id": partner_id,
        "collection_id": collection_id,
        "kind": "page",
        "page_type": "home",
        "url": f"https://{partner_id}.example/",
        "fetched_at": AT,
        "outcome": outcome,
        "reason": None if outcome == "ok" else "HTTP 503",
    }


def web_page(partner_id: str, collection_id: str) -> dict[str, Any]:
    url = f"https://{partner_id}.example/"
    prov = {"source_url": url, "payload_sha256": SHA, "fetched_at": AT}
    return {"partner_id": partner_id, "collection_id": collection_id, "url": url,
            "final_url": url, "page_type": "home", "title": "Home", **prov}  # fmt: skip


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    apply_schema(connection)
    return connection


def crawled(con: duckdb.DuckDBPyConnection, *fetches: dict[str, Any]) -> None:
    """Fetch rows landed as the web parse lands them: with their crawl's key."""
    land(con, web.SPEC.landing, "raw.web__fetches", web.keyed_fetches(list(fetches)))


def staged_pages(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    build(con, "stg_web__fetches", "stg_web__pages")
    select = "select partner_id, collection_id from staging.stg_web__pages order by all"
    return con.sql(select).fetchall()


def test_web_pages_of_an_earlier_crawl_do_not_linger(con: duckdb.DuckDBPyConnection) -> None:
    crawled(con, web_fetch("a", "c1", "ok"), web_fetch("b", "c1", "ok"))
    land(con, web.SPEC.landing, "raw.web__pages", [web_page("a", "c1"), web_page("b", "c1")])
    # The next crawl of partner a fetched its home page, whose page then did not parse: only
    # its fetch rows are replaced.
    crawled(con, {**web_fetch("a", "c2", "ok"), "fetched_at": LATER})
    assert con.execute("select count(*) from raw.web__pages").fetchall() == [(2,)]
    assert staged_pages(con) == [("b", "c1")]


def test_a_crawl_that_could_not_fetch_the_home_page_keeps_the_pages_before(
    con: duckdb.DuckDBPyConnection,
) -> None:
    crawled(con, web_fetch("a", "c1", "ok"), web_fetch("b", "c1", "ok"))
    land(con, web.SPEC.landing, "raw.web__pages", [web_page("a", "c1"), web_page("b", "c1")])
    crawled(con, {**web_fetch("a", "c2", "http_error"), "fetched_at": LATER})
    assert staged_pages(con) == [("a", "c1"), ("b", "c1")]
    attempts = con.sql(
        "select partner_id, collection_id, outcome, latest_attempt, published "
        "from staging.stg_web__fetches order by all"
    ).fetchall()
    assert attempts == [
        ("a", "c1", "ok", False, True),
        ("a", "c2", "http_error", True, False),
        ("b", "c1", "ok", True, True),
    ]
    # a's next crawl succeeds: it replaces c1, and the failed c2 is no longer staged
    crawled(con, {**web_fetch("a", "c3", "ok"), "fetched_at": LATER + timedelta(days=1)})
    land(con, web.SPEC.landing, "raw.web__pages", [web_page("a", "c3")])
    assert staged_pages(con) == [("a", "c3"), ("b", "c1")]
    build(con, "stg_web__fetches")
    assert con.sql("select count(*) from staging.stg_web__fetches").fetchall() == [(2,)]


def test_a_site_no_longer_in_the_registry_stages_no_page(con: duckdb.DuckDBPyConnection) -> None:
    """A skip did not fail: the partner has no site to crawl, so its old pages go."""
    crawled(con, web_fetch("a", "c1", "ok"))
    land(con, web.SPEC.landing, "raw.web__pages", [web_page("a", "c1")])
    partner = Partner("a", "A AG", "DEU", "DE")
    skipped = {**web.skipped_row(partner, "c2", web.NO_WEBSITE), "fetched_at": LATER}
    crawled(con, skipped)
    assert staged_pages(con) == []


def test_web_fetches_landed_before_the_crawl_key_get_one() -> None:
    """Each was its partner's only crawl: one that fetched its home page did not fail."""
    con = duckdb.connect()
    apply_schema(con)
    con.execute("alter table raw.web__fetches drop column crawl_key")
    con.execute("alter table raw.web__fetches drop column crawl_failed")
    old = [web_fetch("a", "c1", "ok"), web_fetch("b", "c1", "http_error")]
    con.register("old", pd.DataFrame(old))
    con.execute("insert into raw.web__fetches by name select * from old")
    apply_schema(con)  # what opening an existing database does
    keys = con.sql(
        "select partner_id, crawl_key, crawl_failed from raw.web__fetches order by all"
    ).fetchall()
    assert keys == [("a", "a|done", False), ("b", "b|failed", True)]
    assert [(k["crawl_key"], k["crawl_failed"]) for k in web.keyed_fetches(old)] == [
        ("a|done", False),
        ("b|failed", True),
    ]


def news_fetch(partner_id: str, collection_id: str) -> dict[str, Any]:
    return {"partner_id": partner_id, "collection_id": collection_id, "kind": "gdelt",
            "url": "https://api.gdelt.example/doc", "outcome": "ok", "items": 1,
            "fetched_at": AT}  # fmt: skip


def article(partner_id: str, collection_id: str, path: str = "") -> dict[str, Any]:
    url = f"https://news.example/{partner_id}{path}"
    return {"partner_id": partner_id, "collection_id": collection_id,
            "article_key": news.article_key(partner_id, {"canonical_url": url}),
            "url": url, "canonical_url": url, "title": f"Fine for Example AG {path}",
            "origin": "gdelt", "attribution": "gdelt_query",
            "source_url": "https://api.gdelt.example/doc", "payload_sha256": SHA,
            "fetched_at": AT}  # fmt: skip


def tagged(row: dict[str, Any]) -> dict[str, Any]:
    tag = {"category": "litigation", "phrase": "fined", "source_url": "u", "payload_sha256": SHA}
    return {k: v for k, v in {**row, **tag}.items() if k in ADVERSE}


def test_news_articles_are_merged_per_article(con: duckdb.DuckDBPyConnection) -> None:
    """News is fetched since the latest article seen, so a run adds articles: a partner whose
    fetch found nothing (or failed) keeps its articles, an article seen again is replaced,
    and the tags it no longer carries do not linger."""
    landing = news.SPEC.landing
    land(con, landing, "raw.news__fetches", [news_fetch("a", "c1"), news_fetch("b", "c1")])
    land(con, landing, "raw.news__articles", [article("a", "c1"), article("b", "c1")])
    land(con, landing, "raw.news__adverse", [tagged(article(p, "c1")) for p in ("a", "b")])
    land(con, landing, "raw.news__fetches", [news_fetch("a", "c2"), news_fetch("b", "c2")])
    # a: nothing new; b: its article again (no longer tagged) and a new one
    land(con, landing, "raw.news__articles", [article("b", "c2"), article("b", "c2", "/new")])
    build(con, "stg_news__fetches", "stg_news__articles", "stg_news__adverse")
    rows = con.sql(
        "select partner_id, collection_id, url from staging.stg_news__articles order by url"
    ).fetchall()
    assert rows == [
        ("a", "c1", "https://news.example/a"),
        ("b", "c2", "https://news.example/b"),
        ("b", "c2", "https://news.example/b/new"),
    ]
    tags = con.sql("select partner_id, collection_id from staging.stg_news__adverse").fetchall()
    assert tags == [("a", "c1")]


def test_news_rows_landed_before_the_article_key_get_one() -> None:
    con = duckdb.connect()
    apply_schema(con)
    con.execute("alter table raw.news__articles drop column article_key")
    con.execute("alter table raw.news__adverse drop column article_key")
    old = {k: v for k, v in article("a", "c1").items() if k != "article_key"}
    con.register("old", pd.DataFrame([old]))
    con.execute("insert into raw.news__articles by name select * from old")
    con.execute("insert into raw.news__adverse by name select * from (select * exclude "
                "(canonical_url, origin, attribution) from old), (select 'litigation' as "
                "category, 'fined' as phrase)")  # fmt: skip
    apply_schema(con)  # what opening an existing database does
    keys = con.sql(
        "select (select article_key from raw.news__articles), "
        "(select article_key from raw.news__adverse)"
    ).fetchall()
    assert keys == [(article("a", "c1")["article_key"],) * 2]


ADVERSE = ("partner_id", "collection_id", "article_key", "url", "title", "category", "phrase",
           "source_url", "payload_sha256", "fetched_at")  # fmt: skip
