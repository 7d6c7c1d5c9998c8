import math

import pytest

from connectors.config import load_settings
from connectors.http import make_session
from connectors.replay import ReplayServer, Route
from connectors.worldbank.client import WorldBankClient
from connectors.worldbank.parse import (
    WGI_API_CODES,
    WgiPayloadError,
    parse_wgi_api,
    parse_wgi_workbook,
)
from tests.conftest import fixture_bytes


@pytest.fixture(scope="module")
def workbook_rows() -> list[dict]:
    return parse_wgi_workbook(fixture_bytes("worldbank", "wgidataset_2024release.xlsx"))


def _value(rows: list[dict], iso3: str, year: int, indicator: str) -> dict:
    (row,) = [
        r for r in rows if r["iso3"] == iso3 and r["year"] == year and r["indicator"] == indicator
    ]
    return row


def test_workbook_has_every_published_row(workbook_rows: list[dict]) -> None:
    assert len(workbook_rows) == 32100  # 214 economies x 25 years x 6 indicators
    assert {r["indicator"] for r in workbook_rows} == {"va", "pv", "ge", "rq", "rl", "cc"}
    assert min(r["year"] for r in workbook_rows) == 1996
    assert max(r["year"] for r in workbook_rows) == 2023


def test_workbook_values_match_the_publisher(workbook_rows: list[dict]) -> None:
    germany_cc = _value(workbook_rows, "DEU", 2023, "cc")
    assert germany_cc["estimate"] == pytest.approx(1.6641662, abs=1e-6)
    assert germany_cc["country_name"] == "Germany"
    afghanistan = _value(workbook_rows, "AFG", 1996, "cc")
    assert afghanistan["estimate"] == pytest.approx(-1.2917048, abs=1e-6)
    assert afghanistan["stddev"] == pytest.approx(0.3405070, abs=1e-6)
    assert afghanistan["nsource"] == 2


def test_missing_marker_becomes_null_not_zero(workbook_rows: list[dict]) -> None:
    samoa = _value(workbook_rows, "ASM", 1996, "cc")
    assert samoa["estimate"] is None and samoa["stddev"] is None


def test_world_bank_codes_map_to_iso3_and_former_economies_are_flagged(
    workbook_rows: list[dict],
) -> None:
    romania = {r["iso3"] for r in workbook_rows if r["wb_code"] == "ROU" or r["wb_code"] == "ROM"}
    assert romania == {"ROU"}
    antilles = {r["country_kind"] for r in workbook_rows if r["wb_code"] == "ANT"}
    assert antilles == {"aggregate"}
    assert all(r["iso3"] for r in workbook_rows if r["country_kind"] == "country")


def test_not_a_workbook_is_a_clear_error() -> None:
    with pytest.raises(WgiPayloadError):
        parse_wgi_workbook(b"PK\x03\x04 truncated")


def test_api_pages_parse_and_client_follows_paging() -> None:
    page1 = fixture_bytes("worldbank", "api_shaped_GOV_WGI_RL.EST_page1.json")
    page2 = fixture_bytes("worldbank", "api_shaped_GOV_WGI_RL.EST_page2.json")
    rows = parse_wgi_api(page1) + parse_wgi_api(page2)
    germany = next(r for r in rows if r["iso3"] == "DEU")
    assert germany["indicator"] == "rl" and germany["year"] == 2023
    assert germany["estimate"] == pytest.approx(1.5512078, abs=1e-6)
    aggregate = next(r for r in rows if r["wb_code"] == "AFW")
    assert aggregate["estimate"] is None and aggregate["country_kind"] != "country"

    path = "/v2/country/all/indicator/GOV_WGI_RL.EST"
    routes = [
        Route(
            path=path,
            query={"page": "1", "source": "3"},
            body=page1,
            content_type="application/json",
        ),
        Route(
            path=path,
            query={"page": "2", "source": "3"},
            body=page2,
            content_type="application/json",
        ),
    ]
    with ReplayServer(routes=routes) as server:
        settings = load_settings({"PARTNERDD_WORLDBANK_URL": server.base_url + "/v2"})
        client = WorldBankClient(
            make_session("worldbank", settings), settings.source_url("worldbank"), "unused"
        )
        responses = list(client.api_series())
    rl = [r for r in responses if "GOV_WGI_RL.EST" in r.url]
    assert [r.status for r in rl] == [200, 200]
    # the other five series are not recorded: one 404 each, and paging stops there
    assert sum(1 for r in responses if r.status == 404) == len(WGI_API_CODES) - 1


def test_api_error_answer_is_a_clear_error() -> None:
    body = (
        b'[{"message":[{"id":"120","key":"Invalid value",'
        b'"value":"The provided parameter value is not valid"}]}]'
    )
    with pytest.raises(WgiPayloadError, match="World Bank API error"):
        parse_wgi_api(body)


def test_float_estimates_are_finite(workbook_rows: list[dict]) -> None:
    values = [r["estimate"] for r in workbook_rows if r["estimate"] is not None]
    assert all(math.isfinite(v) and -3.5 < v < 3.0 for v in values)
