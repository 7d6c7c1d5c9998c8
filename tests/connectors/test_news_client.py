"""GDELT client over real HTTP against the loopback ReplayServer, and configured feeds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from connectors.config import Settings, load_settings
from connectors.news.client import (
    GdeltClient,
    configured_feeds,
    gdelt_phrase_query,
    gdelt_start,
)
from connectors.news.parse import parse_gdelt_artlist
from connectors.replay import ReplayServer, Route

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "news"


def settings(base_url: str = "") -> Settings:
    env = {"PARTNERDD_ALLOW_HOSTS": "127.0.0.1"}
    if base_url:
        env["PARTNERDD_GDELT_URL"] = base_url
    base = load_settings(env=env)
    return Settings(
        http={**base.http, "retries": 0},
        sources={**base.sources, "gdelt": {**base.sources["gdelt"], "rate_per_second": 0.0}},
    )


def test_gdelt_session_keeps_one_request_per_five_seconds() -> None:
    client = GdeltClient(load_settings(env={}))
    assert client.session.rate_per_second == pytest.approx(0.2)
    assert client.base_url == "https://api.gdeltproject.org/api/v2"


def test_gdelt_artlist_request_and_rows() -> None:
    body = (FIXTURES / "gdelt_artlist_shaped.json").read_bytes()
    route = Route("/doc/doc", body=body, content_type="application/json",
                  query={"mode": "ArtList", "format": "json"})  # fmt: skip
    with ReplayServer(routes=[route]) as server:
        client = GdeltClient(settings(server.base_url))
        raw = client.artlist(gdelt_phrase_query("SAP SE"), timespan="1w", maxrecords=50)
        query = server.requests[0]["query"]
    assert query == {
        "query": '"SAP SE"',
        "mode": "ArtList",
        "format": "json",
        "maxrecords": "50",
        "timespan": "1w",
        "sort": "DateDesc",
    }
    rows = parse_gdelt_artlist(raw.body, source_url=raw.url, sha256=raw.sha256, status=raw.status)
    assert len(rows) == 3 and rows[0]["sha256"] == raw.sha256
    assert rows[0]["source_url"].startswith(server.base_url + "/doc/doc?")


def test_gdelt_artlist_since_a_start_sends_no_timespan() -> None:
    """The shaped answer (tests/fixtures/news/PROVENANCE.md: no real GDELT answer exists)."""
    body = (FIXTURES / "gdelt_artlist_shaped.json").read_bytes()
    route = Route("/doc/doc", body=body, content_type="application/json")
    with ReplayServer(routes=[route]) as server:
        client = GdeltClient(settings(server.base_url))
        client.artlist("SAP", timespan="3months", maxrecords=75, startdatetime="20240615170000")
        query = server.requests[0]["query"]
    assert query["startdatetime"] == "20240615170000" and "timespan" not in query


def test_gdelt_start_from_the_latest_article_seen() -> None:
    now = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    seen = datetime(2026, 11, 22, 19, 15, 30, tzinfo=timezone(timedelta(hours=1)))
    assert gdelt_start(seen, "3months", now) == "20261122181530"  # in UTC
    assert gdelt_start(None, "3months", now) is None  # nothing seen: the timespan window
    # before the window: the window is all the cursor would ask for (GDELT's is 3 months)
    assert gdelt_start(now - timedelta(days=100), "3months", now) is None
    assert gdelt_start(now - timedelta(days=8), "1w", now) is None
    assert gdelt_start(now - timedelta(days=6), "1w", now) == "20261117020000"
    assert gdelt_start(now + timedelta(hours=1), "1w", now) == "20261123020000"  # clock skew


def test_gdelt_client_rejects_bad_arguments() -> None:
    client = GdeltClient(settings("http://127.0.0.1:9"))
    with pytest.raises(ValueError, match="maxrecords"):
        client.artlist("sap", timespan="1w", maxrecords=500)
    with pytest.raises(ValueError, match="timespan"):
        client.artlist("sap", timespan="forever", maxrecords=75)
    with pytest.raises(ValueError, match="startdatetime"):
        client.artlist("sap", timespan="1w", maxrecords=75, startdatetime="2024-06-15")


def test_configured_feeds_from_a_list_or_a_comma_separated_string() -> None:
    base = load_settings(env={})
    assert configured_feeds(base) == []
    listed = Settings(http={}, sources={"news": {"feeds": ["http://a/x.rss", " ", "http://b/y"]}})
    assert configured_feeds(listed) == ["http://a/x.rss", "http://b/y"]
    env = {"PARTNERDD_NEWS_FEEDS": "http://a/x.rss, http://b/y ,"}
    assert configured_feeds(load_settings(env=env)) == ["http://a/x.rss", "http://b/y"]
