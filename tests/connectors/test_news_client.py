"""GDELT client over real HTTP against the loopback ReplayServer, and configured feeds."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.config import Settings, load_settings
from connectors.news.client import GdeltClient, configured_feeds, gdelt_phrase_query
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


def test_gdelt_client_rejects_bad_arguments() -> None:
    client = GdeltClient(settings("http://127.0.0.1:9"))
    with pytest.raises(ValueError, match="maxrecords"):
        client.artlist("sap", timespan="1w", maxrecords=500)
    with pytest.raises(ValueError, match="timespan"):
        client.artlist("sap", timespan="forever", maxrecords=75)


def test_configured_feeds_from_a_list_or_a_comma_separated_string() -> None:
    base = load_settings(env={})
    assert configured_feeds(base) == []
    listed = Settings(http={}, sources={"news": {"feeds": ["http://a/x.rss", " ", "http://b/y"]}})
    assert configured_feeds(listed) == ["http://a/x.rss", "http://b/y"]
    env = {"PARTNERDD_NEWS_FEEDS": "http://a/x.rss, http://b/y ,"}
    assert configured_feeds(load_settings(env=env)) == ["http://a/x.rss", "http://b/y"]
