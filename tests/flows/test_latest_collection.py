"""Web and news staging keep each partner's latest crawl only, although landing replaces a
partner's rows table by table: a new crawl that finds no page leaves the old crawl's page rows
in raw, and staging must not show them. Real DuckDB, real raw DDL and landing upserts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import duckdb
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


def article(partner_id: str, collection_id: str) -> dict[str, Any]:
    return {"partner_id": partner_id, "collection_id": collection_id,
            "url": f"https://news.example/{partner_id}", "title": "Fine for Example AG",
            "origin": "gdelt", "attribution": "gdelt_query",
            "source_url": "https://api.gdelt.example/doc", "payload_sha256": SHA,
            "fetched_at": AT}  # fmt: skip


def test_news_of_an_earlier_collection_do_not_linger(con: duckdb.DuckDBPyConnection) -> None:
    landing = news.SPEC.landing
    land(con, landing, "raw.news__fetches", [news_fetch("a", "c1"), news_fetch("b", "c1")])
    land(con, landing, "raw.news__articles", [article("a", "c1"), article("b", "c1")])
    tag = {"category": "litigation", "phrase": "fined", "source_url": "u", "payload_sha256": SHA}
    adverse = [{**article(p, "c1"), **tag} for p in ("a", "b")]
    land(con, landing, "raw.news__adverse", [{k: r[k] for k in ADVERSE} for r in adverse])
    land(con, landing, "raw.news__fetches", [news_fetch("a", "c2")])  # nothing found for a now
    build(con, "stg_news__fetches", "stg_news__articles", "stg_news__adverse")
    for model in ("stg_news__articles", "stg_news__adverse"):
        table = load.ident(f"staging.{model}")
        rows = con.sql(f"select partner_id, collection_id from {table}").fetchall()  # noqa: S608
        assert rows == [("b", "c1")], model


ADVERSE = ("partner_id", "collection_id", "url", "title", "category", "phrase", "source_url",
           "payload_sha256", "fetched_at")  # fmt: skip
