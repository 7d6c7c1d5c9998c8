"""GDELT client and feed collection over real HTTP against the loopback ReplayServer."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.config import Settings, load_settings
from connectors.news.adverse import tag_adverse
from connectors.news.client import GdeltClient, gdelt_phrase_query
from connectors.news.collect import collect_feeds, collect_gdelt, configured_feeds
from connectors.news.dedupe import dedupe_news
from connectors.replay import ReplayServer, Route
from connectors.web.extract import parse_page
from connectors.web.fetcher import SafeFetcher

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "news"
HTML = "text/html; charset=utf-8"


def settings(base_url: str = "") -> Settings:
    env = {"PARTNERDD_ALLOW_HOSTS": "127.0.0.1"}
    if base_url:
        env["PARTNERDD_GDELT_URL"] = base_url
    base = load_settings(env=env)
    return Settings(
        http={**base.http, "retries": 0},
        sources={**base.sources, "web": {"rate_per_second": 0.0}, "news": {"rate_per_second": 0.0}},
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
        batch = collect_gdelt(client, gdelt_phrase_query("SAP SE"), timespan="1w", maxrecords=50)
        query = server.requests[0]["query"]
    assert query == {
        "query": '"SAP SE"',
        "mode": "ArtList",
        "format": "json",
        "maxrecords": "50",
        "timespan": "1w",
        "sort": "DateDesc",
    }
    assert batch.failure_rows == [] and len(batch.news_rows) == 3
    assert batch.news_rows[0]["sha256"] == batch.responses[0].sha256
    assert batch.news_rows[0]["source_url"].startswith(server.base_url + "/doc/doc?")


@pytest.mark.parametrize(
    ("status", "body", "outcome"),
    [
        (429, b"Please limit requests to one every 5 seconds or contact kalev.leetaru5@gmail.com",
         "rate_limited"),
        (200, b"One or more of your keywords were too short, too long or too common.",
         "api_error"),
    ],
)  # fmt: skip
def test_gdelt_plaintext_answers_become_failure_rows(
    status: int, body: bytes, outcome: str
) -> None:
    route = Route("/doc/doc", body=body, status=status, content_type="text/plain")
    with ReplayServer(routes=[route]) as server:
        batch = collect_gdelt(GdeltClient(settings(server.base_url)), "sap")
    assert batch.news_rows == []
    assert [(f["status"], f["outcome"]) for f in batch.failure_rows] == [(status, outcome)]
    assert body.decode()[:20] in batch.failure_rows[0]["reason"]
    assert batch.responses[0].body == body  # kept raw as evidence


def test_gdelt_client_rejects_bad_arguments() -> None:
    client = GdeltClient(settings("http://127.0.0.1:9"))
    with pytest.raises(ValueError, match="maxrecords"):
        client.artlist("sap", maxrecords=500)
    with pytest.raises(ValueError, match="timespan"):
        client.artlist("sap", timespan="forever")


def test_feeds_from_partner_site_and_config_are_collected_deduplicated_and_tagged() -> None:
    home = b"""<html><head><title>Partner</title>
      <link rel="alternate" type="application/rss+xml" href="/feeds/uol.rss">
      <link rel="alternate" type="application/atom+xml" href="/feeds/heise.atom"></head></html>"""
    routes = [
        Route("/robots.txt", body=b"User-agent: *\nDisallow: /feeds/secret\n",
              content_type="text/plain"),
        Route("/", body=home, content_type=HTML),
        Route("/feeds/uol.rss", body=(FIXTURES / "uol_noticias_latin1.rss").read_bytes(),
              content_type="application/rss+xml"),
        Route("/feeds/heise.atom", body=(FIXTURES / "heise_developer.atom").read_bytes(),
              content_type="application/atom+xml"),
        Route("/feeds/qq.rss", body=(FIXTURES / "qq_news_china_gb2312.rss").read_bytes(),
              content_type="text/xml"),
        Route("/feeds/guardian.rss", body=(FIXTURES / "guardian_us.rss").read_bytes(),
              content_type="application/rss+xml; charset=UTF-8"),
        Route("/feeds/not-a-feed", body=b"<html><p>hello</p></html>", content_type=HTML),
    ]  # fmt: skip
    with ReplayServer(routes=routes) as server:
        base = server.base_url
        config_feeds = configured_feeds(
            Settings(
                http={},
                sources={"news": {"feeds": f"{base}/feeds/qq.rss, {base}/feeds/guardian.rss"}},
            )
        )
        fetcher = SafeFetcher(settings(), source="news")
        home_page = fetcher.fetch(base + "/")
        assert home_page.text is not None
        partner_feeds = [f["url"] for f in parse_page(home_page.text, base + "/")["feed_links"]]
        urls = (
            partner_feeds
            + config_feeds
            + [
                f"{base}/feeds/secret",
                f"{base}/feeds/not-a-feed",
                f"{base}/feeds/missing",
                f"{base}/feeds/uol.rss",  # listed twice: fetched once
            ]
        )
        batch = collect_feeds(fetcher, urls)
        requested = [r["path"] for r in server.requests]
    assert partner_feeds == [f"{base}/feeds/uol.rss", f"{base}/feeds/heise.atom"]
    assert "/feeds/secret" not in requested and requested.count("/feeds/uol.rss") == 1
    failures = {f["source_url"].rsplit("/", 1)[1]: f["outcome"] for f in batch.failure_rows}
    assert failures == {
        "secret": "robots_disallowed",
        "not-a-feed": "not_a_feed",
        "missing": "http_error",
    }
    titles = {r["title"] for r in batch.news_rows}
    assert "习近平为何如此强调崇尚英雄？" in titles
    assert "Ibope: Bolsonaro perde de Haddad, Ciro e Alckmin em simulações de 2º turno" in titles
    assert "Java-Anwendungsserver: Red Hat gibt WildFly 10 frei" in titles
    assert len(batch.news_rows) == 15 + 15 + 20 + 55
    assert len(dedupe_news(batch.news_rows)) == 15 + 15 + 20 + 55 - 1
    assert {r.source for r in batch.responses} == {"news"}
    assert any(t["phrase"] == "improbidade" for t in tag_adverse(batch.news_rows))
