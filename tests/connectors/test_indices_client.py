"""Index file downloads through the real HTTP code, against the loopback ReplayServer."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from connectors.config import Settings, load_settings
from connectors.indices.client import (
    DEFAULT_URLS,
    fetch_cpi,
    fetch_heritage,
    fetch_hofstede,
    fetch_index_file,
    index_url,
)
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


def test_fetch_and_parse_all_three_sources() -> None:
    with ReplayServer(routes=routes()) as server:
        settings = settings_for(server.base_url)

        cpi_raw = fetch_cpi(settings)
        hofstede_raw = fetch_hofstede(settings)
        heritage_raw = fetch_heritage(settings)

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


def test_non_2xx_is_returned_as_evidence_not_raised() -> None:
    with ReplayServer(routes=[Route(path="/gone.xlsx", status=410, body=b"gone")]) as server:
        settings = settings_for(server.base_url)
        missing = fetch_index_file("cpi", settings, url=f"{server.base_url}/nowhere.xlsx")
        gone = fetch_index_file("heritage", settings, url=f"{server.base_url}/gone.xlsx")
    assert missing.status == 404 and not missing.ok
    assert gone.status == 410 and gone.body == b"gone"


def test_urls_come_from_config_with_published_defaults() -> None:
    settings = load_settings(env={})
    bare = replace(settings, sources={})
    assert index_url("cpi", bare) == DEFAULT_URLS["cpi"]
    assert index_url("hofstede", bare).endswith("6-dimensions-for-website-2015-08-16.csv")
    assert index_url("heritage", bare).startswith("https://www.heritage.org/")
    configured = replace(settings, sources={"cpi": {"url": "http://127.0.0.1:9/x.csv"}})
    assert index_url("cpi", configured) == "http://127.0.0.1:9/x.csv"
    with pytest.raises(ValueError, match="unknown index source"):
        index_url("ipri", bare)
