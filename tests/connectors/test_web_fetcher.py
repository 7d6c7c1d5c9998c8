"""SafeFetcher over real HTTP against loopback servers only (127.0.0.1; 127.0.0.2 must stay silent).

Anything non-loopback (10.0.0.1, metadata addresses, ...) is tested at the guard only, with a
resolver stub, in test_web_guard.py: no packet ever leaves the machine.
"""

from __future__ import annotations

import threading
import tracemalloc
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from connectors.config import Settings, load_settings
from connectors.replay import ReplayServer, Route
from connectors.web.fetcher import FETCH_ROW_KEYS, OUTCOMES, SafeFetcher
from connectors.web.guard import ResolutionFailed

HTML = "text/html; charset=utf-8"
ROBOTS = b"User-agent: *\nDisallow: /private\n"


def settings(**http: Any) -> Settings:
    """Real config, loopback 127.0.0.1 allowed through the env variable, no retries or waits."""
    base = load_settings(env={"PARTNERDD_ALLOW_HOSTS": "127.0.0.1"})
    return Settings(
        http={**base.http, "retries": 0, **http},
        sources={**base.sources, "web": {**base.sources["web"], "rate_per_second": 0.0}},
    )


def paths(server: ReplayServer) -> list[str]:
    return [r["path"] for r in server.requests]


@pytest.fixture
def site() -> Iterator[ReplayServer]:
    routes = [
        Route("/robots.txt", body=ROBOTS, content_type="text/plain"),
        Route(
            "/", body="<html><title>Accueil – Société</title></html>".encode(), content_type=HTML
        ),
        Route(
            "/latin",
            body="<meta charset=iso-8859-1><p>Ação".encode("latin-1"),
            content_type="text/html",
        ),  # fmt: skip
        Route("/moved", status=301, headers={"Location": "/"}),
        Route("/loop", status=302, headers={"Location": "/loop"}),
        Route("/report.pdf", body=b"%PDF-1.4", content_type="application/pdf"),
        Route("/private/secret", body=b"<html>secret</html>", content_type=HTML),
        Route("/binary", body=bytes(range(256)) * 8, content_type="text/html"),
    ]
    with ReplayServer(routes=routes) as server:
        yield server


@pytest.fixture
def other_loopback() -> Iterator[ReplayServer]:
    """A server on 127.0.0.2, which the allow list (127.0.0.1 only) does not cover."""
    routes = [Route("/", body=b"<html>should never be fetched</html>", content_type=HTML)]
    with ReplayServer(routes=routes, host="127.0.0.2") as server:
        yield server


def test_ok_row_has_every_key_decoded_text_and_raw_response(site: ReplayServer) -> None:
    fetcher = SafeFetcher(settings())
    result = fetcher.fetch(site.base_url + "/#top")
    assert result.ok
    assert set(result.row) == set(FETCH_ROW_KEYS)
    assert result.row["outcome"] in OUTCOMES
    assert result.row["status"] == 200 and result.row["charset"] == "utf-8"
    assert result.text is not None and "Accueil – Société" in result.text
    assert result.response is not None
    assert result.row["sha256"] == result.response.sha256
    assert result.row["bytes"] == len(result.response.body)
    ua = str(load_settings(env={}).http["user_agent"])
    assert {r["headers"]["User-Agent"] for r in site.requests} == {ua}
    assert paths(site) == ["/robots.txt", "/"]  # fragment stripped, robots first


def test_charset_from_meta_when_header_has_none(site: ReplayServer) -> None:
    result = SafeFetcher(settings()).fetch(site.base_url + "/latin")
    assert result.row["charset"] == "cp1252" and "meta" in result.row["reason"]
    assert result.text is not None and "Ação" in result.text


def test_undecodable_body_is_a_bad_encoding_row(site: ReplayServer) -> None:
    result = SafeFetcher(settings()).fetch(site.base_url + "/binary")
    assert result.row["outcome"] == "bad_encoding"
    assert result.response is not None and result.text is None


def test_redirect_is_followed_hop_by_hop(site: ReplayServer) -> None:
    result = SafeFetcher(settings()).fetch(site.base_url + "/moved")
    assert result.ok and result.row["redirects"] == 1
    assert result.row["final_url"] == site.base_url + "/"
    assert paths(site) == ["/robots.txt", "/moved", "/"]


def test_redirect_loop_stops_at_the_cap(site: ReplayServer) -> None:
    result = SafeFetcher(settings()).fetch(site.base_url + "/loop")
    assert result.row["outcome"] == "too_many_redirects"
    assert paths(site).count("/loop") == 6  # the first request plus 5 allowed redirects


def test_content_type_outside_html_xml_feeds_is_refused(site: ReplayServer) -> None:
    result = SafeFetcher(settings()).fetch(site.base_url + "/report.pdf")
    assert result.row["outcome"] == "bad_content_type"
    assert "application/pdf" in result.row["reason"]


def test_http_error_is_a_row(site: ReplayServer) -> None:
    result = SafeFetcher(settings()).fetch(site.base_url + "/missing")
    assert (result.row["outcome"], result.row["status"]) == ("http_error", 404)


def test_robots_disallowed_path_never_reaches_the_server(site: ReplayServer) -> None:
    fetcher = SafeFetcher(settings())
    result = fetcher.fetch(site.base_url + "/private/secret")
    again = fetcher.fetch(site.base_url + "/private/secret?x=1")
    assert result.row["outcome"] == again.row["outcome"] == "robots_disallowed"
    assert "/private/secret" not in paths(site)
    assert paths(site) == ["/robots.txt"]  # fetched once, then cached
    assert [r["kind"] for r in fetcher.rows] == ["robots", "page", "page"]


def test_robots_5xx_disallows_all_and_4xx_allows_all() -> None:
    page = Route("/", body=b"<html>hi</html>", content_type=HTML)
    with ReplayServer(routes=[Route("/robots.txt", status=503), page]) as down:
        result = SafeFetcher(settings()).fetch(down.base_url + "/")
        assert result.row["outcome"] == "robots_disallowed"
        assert paths(down) == ["/robots.txt"]
    with ReplayServer(routes=[Route("/robots.txt", status=404), page]) as missing:
        assert SafeFetcher(settings()).fetch(missing.base_url + "/").ok
        assert paths(missing) == ["/robots.txt", "/"]


def test_direct_link_to_unlisted_loopback_is_refused_before_connecting(
    other_loopback: ReplayServer,
) -> None:
    result = SafeFetcher(settings()).fetch(other_loopback.base_url + "/")
    assert result.row["outcome"] == "blocked_address"
    assert "127.0.0.2" in result.row["reason"] and result.response is None
    assert other_loopback.requests == []


def test_redirect_to_unlisted_loopback_is_refused_before_connecting(
    site: ReplayServer, other_loopback: ReplayServer
) -> None:
    site.add(Route("/jump", status=302, headers={"Location": other_loopback.base_url + "/"}))
    result = SafeFetcher(settings()).fetch(site.base_url + "/jump")
    assert result.row["outcome"] == "blocked_address"
    assert result.row["final_url"] == other_loopback.base_url + "/"
    assert other_loopback.requests == []
    assert paths(site) == ["/robots.txt", "/jump"]


def test_connection_goes_to_the_vetted_address_not_a_new_dns_answer(site: ReplayServer) -> None:
    """partner.test does not exist in real DNS; the fetch can only succeed through the pin."""
    port = site.base_url.rsplit(":", 1)[1]
    answers: list[str] = []

    def resolver(host: str) -> list[str]:
        answers.append(host)
        if host != "partner.test":
            raise ResolutionFailed(host)
        return ["127.0.0.1"]

    result = SafeFetcher(settings(), resolver=resolver).fetch(f"http://partner.test:{port}/")
    assert result.ok, result.row
    assert {r["headers"]["Host"] for r in site.requests} == {f"partner.test:{port}"}
    assert answers == ["partner.test", "partner.test"]  # robots.txt hop and page hop


def test_host_resolving_to_metadata_address_is_refused_without_traffic(site: ReplayServer) -> None:
    fetcher = SafeFetcher(settings(), resolver=lambda host: ["169.254.169.254"])
    result = fetcher.fetch("http://cloud-metadata.test/latest/meta-data/")
    assert result.row["outcome"] == "blocked_address"
    assert site.requests == []


def test_page_cap_per_partner(site: ReplayServer) -> None:
    fetcher = SafeFetcher(settings(), max_pages=2)
    outcomes = [fetcher.fetch(site.base_url + p).row["outcome"] for p in ("/", "/latin", "/")]
    assert outcomes == ["ok", "ok", "page_cap"]
    assert paths(site) == ["/robots.txt", "/", "/latin"]


def test_configured_web_rate_limit_is_polite() -> None:
    fetcher = SafeFetcher(load_settings(env={}))
    assert 0 < fetcher.session.rate_per_second <= 1.0
    assert fetcher.session.trust_env is False


# -- size cap and timeout, with tiny hand-written loopback handlers ----------------------------

FIFTY_MB = 50 * 1024 * 1024


class _StreamingServer:
    """Streams FIFTY_MB of generated HTML with no Content-Length (so only streaming can cap it)."""

    def __init__(self) -> None:
        self.sent = 0
        self.requests: list[str] = []
        self.release = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def do_GET(self) -> None:  # noqa: N802
                outer.requests.append(self.path)
                if self.path == "/robots.txt":
                    self.send_response(404)
                    self.end_headers()
                    return
                if self.path == "/slow":
                    outer.release.wait(10)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.end_headers()
                chunk = b"<p>" + b"x" * 65533
                try:
                    while outer.sent < FIFTY_MB:
                        self.wfile.write(chunk)
                        outer.sent += len(chunk)
                except OSError:
                    return  # the client hung up at its cap

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> _StreamingServer:
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def test_fifty_megabyte_body_is_cut_at_the_cap_without_buffering_it() -> None:
    with _StreamingServer() as server:
        fetcher = SafeFetcher(settings(), max_response_bytes=5 * 1024 * 1024)
        tracemalloc.start()
        try:
            result = fetcher.fetch(server.base_url + "/huge")
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        fetcher.close()
    assert result.row["outcome"] == "too_large"
    assert "5242880" in result.row["reason"]
    assert result.response is None
    assert peak < 20 * 1024 * 1024, f"peak traced memory {peak} bytes"
    assert server.sent < FIFTY_MB  # the server was cut off, the client did not drain it


def test_slow_server_gives_a_timeout_row() -> None:
    with _StreamingServer() as server:
        fetcher = SafeFetcher(settings(read_timeout_seconds=0.3))
        result = fetcher.fetch(server.base_url + "/slow")
        server.release.set()
    assert result.row["outcome"] == "timeout"
    assert "/slow" in server.requests
