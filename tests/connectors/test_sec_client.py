"""SecClient over real HTTP against the loopback ReplayServer (no traffic leaves 127.0.0.1)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.config import ConfigError, load_settings
from connectors.replay import ReplayServer, Route
from connectors.sec.client import SecClient, make_sec_client, sec_user_agent
from connectors.sec.parse import parse_company_tickers, parse_companyfacts, parse_submissions

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "sec"
CONTACT = "dd-team@example.com"
SHELL = "submissions_CIK0001306965_SHEL_20250802.json"
LPA = "companyfacts_CIK0001997711_LPA.json"
TICKERS = "company_tickers_trimmed.json"
JSON = "application/json"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture
def server() -> Iterator[ReplayServer]:
    routes = [
        Route("/submissions/CIK0001306965.json", body=fixture(SHELL), content_type=JSON),
        Route("/api/xbrl/companyfacts/CIK0001997711.json", body=fixture(LPA), content_type=JSON),
        Route("/files/company_tickers.json", body=fixture(TICKERS), content_type=JSON),
    ]
    with ReplayServer(routes=routes) as srv:
        yield srv


def user_agents(server: ReplayServer) -> list[str]:
    """The User-Agent of every request the server received (ReplayServer logs headers)."""
    return [request["headers"]["User-Agent"] for request in server.requests]


def env_for(server: ReplayServer, **extra: str) -> dict[str, str]:
    return {
        "PARTNERDD_SEC_URL": server.base_url,
        "PARTNERDD_SEC_TICKERS_URL": f"{server.base_url}/files/company_tickers.json",
        **extra,
    }


def live_client(server: ReplayServer) -> SecClient:
    return make_sec_client(load_settings(env_for(server, PARTNERDD_SEC_CONTACT=CONTACT)))


def test_submissions_fetched_with_contact_in_user_agent(server: ReplayServer) -> None:
    client = live_client(server)
    response = client.submissions(1306965)
    assert response.status == 200
    assert response.source == "sec"
    assert response.url == f"{server.base_url}/submissions/CIK0001306965.json"
    assert response.body == fixture(SHELL)
    assert [(r["method"], r["path"], r["query"]) for r in server.requests] == [
        ("GET", "/submissions/CIK0001306965.json", {})
    ]
    assert user_agents(server) == [f"partnerdd/0.1 ({CONTACT})"]
    parsed = parse_submissions(response.body, response.url, sha256=response.sha256)
    assert parsed["company"]["name"] == "Shell plc"
    assert parsed["company"]["sha256"] == response.sha256


def test_companyfacts_and_tickers(server: ReplayServer) -> None:
    client = live_client(server)
    facts = client.companyfacts("0001997711")
    assert facts.status == 200
    rows = parse_companyfacts(facts.body, facts.url)
    assert {row["cik"] for row in rows} == {"0001997711"}
    tickers = client.company_tickers()
    assert tickers.status == 200
    assert parse_company_tickers(tickers.body, tickers.url)[0]["ticker"] == "MSFT"
    assert [r["path"] for r in server.requests] == [
        "/api/xbrl/companyfacts/CIK0001997711.json",
        "/files/company_tickers.json",
    ]
    assert user_agents(server) == [f"partnerdd/0.1 ({CONTACT})"] * 2


def test_unknown_cik_returns_the_404_as_evidence(server: ReplayServer) -> None:
    response = live_client(server).submissions("320193")
    assert response.status == 404
    assert not response.ok
    assert server.requests[0]["path"] == "/submissions/CIK0000320193.json"


def test_bad_cik_fails_before_any_request(server: ReplayServer) -> None:
    client = live_client(server)
    with pytest.raises(ValueError):
        client.submissions("AAPL")
    assert server.requests == []


def test_missing_contact_fails_loudly_in_live_mode(server: ReplayServer) -> None:
    with pytest.raises(ConfigError, match="PARTNERDD_SEC_CONTACT is required"):
        make_sec_client(load_settings(env_for(server)), offline=False)
    with pytest.raises(ConfigError, match="PARTNERDD_SEC_CONTACT is required"):
        sec_user_agent(load_settings({"PARTNERDD_SEC_CONTACT": "   "}), offline=False)
    assert server.requests == []


def test_offline_mode_uses_placeholder_contact(server: ReplayServer) -> None:
    client = make_sec_client(load_settings(env_for(server)), offline=True)
    assert client.submissions("1306965").status == 200
    [user_agent] = user_agents(server)
    assert user_agent.startswith("partnerdd/0.1 (")
    assert "@" not in user_agent


def test_contact_with_header_breaking_characters_is_refused() -> None:
    with pytest.raises(ConfigError, match="PARTNERDD_SEC_CONTACT"):
        sec_user_agent(
            load_settings({"PARTNERDD_SEC_CONTACT": "a@b.c\r\nX-Evil: 1"}), offline=False
        )
    assert sec_user_agent(load_settings({"PARTNERDD_SEC_CONTACT": CONTACT}), offline=True) == (
        f"partnerdd/0.1 ({CONTACT})"
    )


def test_urls_built_from_configured_base() -> None:
    client = make_sec_client(load_settings({"PARTNERDD_SEC_CONTACT": CONTACT}))
    assert client.submissions_url("320193") == "https://data.sec.gov/submissions/CIK0000320193.json"
    assert client.companyfacts_url(1640147) == (
        "https://data.sec.gov/api/xbrl/companyfacts/CIK0001640147.json"
    )
    assert client.tickers_url == "https://www.sec.gov/files/company_tickers.json"
    assert client.session.rate_per_second == 10.0
