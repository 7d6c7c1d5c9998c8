"""Web staging keeps each partner's latest crawl only, although landing replaces a partner's
rows table by table: a new crawl that finds no page leaves the old crawl's page rows in raw,
and staging must not show them. News is the other way round: merged per article. Real DuckDB,
real raw DDL and landing upserts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import duckdb
import pandas as pd
import pytest

from connectors.news import source as news
from connectors.web import source as web
from flows import load
from flows.db import apply_schema

AT = datetime(2025, 5, 1, tzinfo=UTC)
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


def test_web_pages_of_an_earlier_crawl_do_not_linger(con: duckdb.DuckDBPyConnection) -> None:
    landing = web.SPEC.landing
    land(con, landing, "raw.web__fetches", [web_fetch("a", "c1", "ok"), web_fetch("b", "c1", "ok")])
    land(con, landing, "raw.web__pages", [web_page("a", "c1"), web_page("b", "c1")])
    # The next crawl of partner a fails before any page: only its fetch rows are replaced.
    land(con, landing, "raw.web__fetches", [web_fetch("a", "c2", "http_error")])
    assert con.execute("select count(*) from raw.web__pages").fetchall() == [(2,)]
    build(con, "stg_web__fetches", "stg_web__pages")
    pages = con.sql("select partner_id, collection_id from staging.stg_web__pages").fetchall()
    assert pages == [("b", "c1")]


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
