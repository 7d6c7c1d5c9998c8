"""Index file downloads through the real HTTP code, against the loopback ReplayServer."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from connectors.config import Settings, load_settings
from connectors.http import RawResponse, make_session
from connectors.indices.cpi import parse_cpi
from connectors.indices.heritage import parse_heritage
from connectors.indices.hofstede import parse_hofstede
from connectors.replay import ReplayServer, Route

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "indices"


def routes() -> list[Route]:
    served = {
        "/ti/CPI2024.csv": "CPI2024_GlobalResultsTrends.csv",
        "/hofstede/6d.csv": "6-dimensions-for-website-2015-08-16.csv",
        "/heritage/2019.csv": "heritage_economic_freedom_index2019_data.csv",
    }
    return [
        Route(path=path, body=(FIXTURES / name).read_bytes(), content_type="text/csv")
        for path, name in served.items()
    ]


def settings_for(base: str) -> Settings:
    settings = load_settings(env={})
    sources = {
        **settings.sources,
        "cpi": {"url": f"{base}/ti/CPI2024.csv", "rate_per_second": 0.0},
        "hofstede": {"url": f"{base}/hofstede/6d.csv"},
        "heritage": {"url": f"{base}/heritage/2019.csv"},
    }
    return replace(settings, sources=sources)


def fetch(name: str, settings: Settings) -> RawResponse:
    """What the indices extract does for one file: [sources.<name>] url, rate and session."""
    return make_session(name, settings).fetch(settings.source_url(name))


def test_fetch_and_parse_all_three_sources() -> None:
    with ReplayServer(routes=routes()) as server:
        settings = settings_for(server.base_url)

        cpi_raw = fetch("cpi", settings)
        hofstede_raw = fetch("hofstede", settings)
        heritage_raw = fetch("heritage", settings)

    assert [r["path"] for r in server.requests] == [
        "/ti/CPI2024.csv",
        "/hofstede/6d.csv",
        "/heritage/2019.csv",
    ]
    assert cpi_raw.ok and cpi_raw.source == "cpi"
    assert cpi_raw.body == (FIXTURES / "CPI2024_GlobalResultsTrends.csv").read_bytes()
    assert hofstede_raw.source == "hofstede" and heritage_raw.source == "heritage"

    cpi = parse_cpi(cpi_raw.body, cpi_raw.url, cpi_raw.sha256)
    denmark = [
        r for r in cpi.rows if (r["iso3"], r["dimension"], r["year"]) == ("DNK", "score", 2024)
    ]
    assert denmark[0]["value"] == 90
    assert denmark[0]["source_url"] == f"{server.base_url}/ti/CPI2024.csv"
    assert denmark[0]["sha256"] == cpi_raw.sha256

    hofstede = parse_hofstede(hofstede_raw.body, hofstede_raw.url, hofstede_raw.sha256)
    assert any(
        r["iso3"] == "JPN" and r["dimension"] == "mas" and r["value"] == 95 for r in hofstede.rows
    )
    heritage = parse_heritage(heritage_raw.body, heritage_raw.url, heritage_raw.sha256)
    assert any(r["iso3"] == "DNK" and r["dimension"] == "property_rights" for r in heritage.rows)


def test_urls_come_from_config_with_env_overrides() -> None:
    settings = load_settings(env={})
    assert settings.source_url("cpi").endswith("CPI2024-Results-and-trends.xlsx")
    assert settings.source_url("hofstede").endswith("6-dimensions-for-website-2015-08-16.csv")
    assert settings.source_url("heritage").startswith("https://www.heritage.org/")
    configured = load_settings(env={"PARTNERDD_CPI_URL": "http://127.0.0.1:9/x.csv"})
    assert configured.source_url("cpi") == "http://127.0.0.1:9/x.csv"
