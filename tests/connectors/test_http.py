"""The shared session factory against a real loopback server (no mocks)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from connectors.config import ConfigError, load_settings
from connectors.http import (
    CachedAnswer,
    PoliteRetry,
    ResponseTooLarge,
    ResponseTooSlow,
    make_session,
)
from connectors.replay import ReplayServer, Route
from tests.conftest import trickling_server


def _settings(**env: str):  # type: ignore[no-untyped-def]
    return load_settings({"PARTNERDD_BACKOFF_FACTOR": "0", **env})


def test_retries_a_503_honouring_retry_after_then_succeeds() -> None:
    route = Route(
        path="/x", body=b"ok", fail_first=2, fail_status=503, fail_headers={"Retry-After": "0"}
    )
    with ReplayServer(routes=[route]) as server:
        response = make_session("test", _settings()).fetch(server.base_url + "/x")
    assert response.status == 200 and response.body == b"ok"
    assert len(server.requests) == 3


def test_gives_up_after_the_configured_retries_and_returns_the_answer() -> None:
    route = Route(
        path="/x", body=b"ok", fail_first=100, fail_status=429, fail_headers={"Retry-After": "0"}
    )
    with ReplayServer(routes=[route]) as server:
        settings = _settings()
        response = make_session("test", settings).fetch(server.base_url + "/x")
    assert response.status == 429  # returned as evidence, not raised
    assert len(server.requests) == int(settings.http["retries"]) + 1


def test_declared_oversize_body_is_refused() -> None:
    route = Route(path="/big", body=b"x" * 2048)
    with ReplayServer(routes=[route]) as server:
        session = make_session("test", _settings(), max_response_bytes=1024)
        with pytest.raises(ResponseTooLarge, match="exceeds cap"):
            session.fetch(server.base_url + "/big")


def test_user_agent_and_timeouts_come_from_config() -> None:
    with ReplayServer(routes=[Route(path="/x", body=b"ok")]) as server:
        session = make_session("test", _settings(PARTNERDD_USER_AGENT="partnerdd-test/1"))
        session.fetch(server.base_url + "/x")
    assert server.requests[0]["headers"]["User-Agent"] == "partnerdd-test/1"
    assert session.timeout == (10.0, 60.0)


def test_retry_backoff_never_undercuts_the_source_rate_limit() -> None:
    session = make_session("gdelt", _settings())  # about one request every 5 s
    retry = session.get_adapter("https://api.gdeltproject.org").max_retries
    assert isinstance(retry, PoliteRetry)
    assert retry.get_backoff_time() >= 5.0
    assert retry.new(total=1).get_backoff_time() >= 5.0  # kept across urllib3's copies


def test_env_overrides_and_bad_values() -> None:
    settings = load_settings({"PARTNERDD_GLEIF_URL": "http://127.0.0.1:1/api/"})
    assert settings.source_url("gleif") == "http://127.0.0.1:1/api"
    with pytest.raises(ConfigError, match="PARTNERDD_RETRIES"):
        load_settings({"PARTNERDD_RETRIES": "many"})


def test_a_retry_after_over_the_cap_defers_instead_of_sleeping() -> None:
    route = Route(
        path="/x", body=b"ok", fail_first=1, fail_status=429, fail_headers={"Retry-After": "3600"}
    )
    with ReplayServer(routes=[route]) as server:
        session = make_session("test", _settings(PARTNERDD_MAX_RETRY_AFTER_SECONDS="60"))
        with pytest.raises(requests.RequestException, match="deferred to the next run.*3600 s"):
            session.fetch(server.base_url + "/x")
    assert len(server.requests) == 1  # asked once, no hour-long sleep, no retry


def test_a_trickling_server_is_stopped_by_the_total_cap() -> None:
    with trickling_server() as (url, sent):
        session = make_session(
            "test",
            _settings(PARTNERDD_TOTAL_TIMEOUT_SECONDS="1", PARTNERDD_READ_TIMEOUT_SECONDS="5"),
        )
        with pytest.raises(ResponseTooSlow, match="total cap of 1 s"):
            session.fetch(url)
    assert 0 < len(sent) < 1000  # stopped mid-body, not after the whole trickle


def test_one_host_limit_holds_across_threads_retries_included() -> None:
    """Eight threads share the source's limit, and so do their retries: a server allowing 40
    requests/s (a burst of 40), whose first 80 answers are 429 with `Retry-After: 0`, refuses
    none of the 80 requests and 80 retries sent at the source's 40/s, and refuses some of the
    same sent without a limit."""

    def refused(rate: str) -> int:
        faults = {"fail_first": 80, "fail_status": 429, "fail_headers": {"Retry-After": "0"}}
        route = Route(path="/x", body=b"ok", **faults)  # type: ignore[arg-type]
        with ReplayServer(routes=[route], rate_limits={"/": 40.0}) as server:
            settings = _settings(PARTNERDD_GLEIF_RATE_PER_SECOND=rate, PARTNERDD_RETRIES="20")
            session = make_session("gleif", settings)
            with ThreadPoolExecutor(max_workers=8) as pool:
                answers = list(pool.map(lambda _: session.fetch(server.base_url + "/x"), range(80)))
        if rate != "0":
            assert [a.status for a in answers] == [200] * 80
            assert len(server.requests) == 80 + 80
        return server.limited["/"]

    assert refused("40") == 0
    assert refused("0") > 0


def test_revalidations_answered_304_keep_one_connection() -> None:
    """A 304 left unread closed its connection, so a night of revalidations opened one
    TCP (live: TLS) connection per request; read to its end, the connection is reused."""
    opened: list[int] = []

    class NotModified(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            opened.append(1)

        def do_GET(self) -> None:  # noqa: N802 (http.server naming)
            self.send_response(304)
            self.send_header("ETag", '"v1"')
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    class Stored:
        def lookup(self, url: str) -> CachedAnswer:
            return CachedAnswer(
                url, 200, "ab" * 32, 2, {"ETag": '"v1"'}, datetime(2026, 1, 1, tzinfo=UTC)
            )

        def body(self, sha256: str) -> bytes:
            return b"{}"

    server = ThreadingHTTPServer(("127.0.0.1", 0), NotModified)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        session = make_session("sec", replace(_settings(), answers=Stored()))
        answers = [session.fetch(f"http://127.0.0.1:{server.server_port}/f{i}") for i in range(10)]
    finally:
        server.shutdown()
        server.server_close()
    assert [a.reused for a in answers] == ["not_modified"] * 10
    assert len(opened) == 1
