import math

import pytest

from connectors.config import load_settings
from connectors.http import make_session
from connectors.replay import ReplayServer, Route
from connectors.worldbank.client import WorldBankClient
from connectors.worldbank.parse import (
    WGI_API_CODES,
    WgiPayloadError,
    api_observations,
    api_page_count,
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


# Real World Bank API v2 answers (jkkitakita/wbdata-go cassettes, recorded 2021-06-13; see
# tests/fixtures/worldbank/PROVENANCE.md). They are GDP and source pages, not WGI: no real
# recorded GOV_WGI_* answer exists; the envelope is the same for every v2 indicator query.
REAL_PAGE = "api_v2_countries_JPN+USA_indicators_NY.GDP.MKTP.CD_p1.json"
REAL_ERROR = "api_v2_error_invalid_indicator.json"


def _client(server: ReplayServer) -> WorldBankClient:
    settings = load_settings({"PARTNERDD_WORLDBANK_URL": server.base_url + "/v2"})
    return WorldBankClient(
        make_session("worldbank", settings), settings.source_url("worldbank"), "unused"
    )


def test_real_paging_element_ints_and_strings() -> None:
    assert api_page_count(fixture_bytes("worldbank", REAL_PAGE)) == 3  # 122 rows, 50 a page
    footnoted = "api_v2_countries_JPN+USA_indicators_2series_source2_footnote_perpage2.json"
    assert api_page_count(fixture_bytes("worldbank", footnoted)) == 4  # sourceid null here
    # /sources sends all four paging fields as strings ("page":"1","pages":"2")
    assert api_page_count(fixture_bytes("worldbank", "api_v2_sources.json")) == 2


def test_real_observations_keep_null_values_aggregates_and_footnotes() -> None:
    observations = api_observations(fixture_bytes("worldbank", REAL_PAGE))
    assert len(observations) == 50
    first = observations[0]  # 2020 was not yet published when recorded: null, not 0
    assert (first["countryiso3code"], first["date"], first["value"]) == ("JPN", "2020", None)
    assert observations[1]["value"] == pytest.approx(5081769542379.77)
    mrv = "api_v2_countries_all_indicators_NY.GDP.MKTP.CD_mrv1_perpage2.json"
    arab_world = api_observations(fixture_bytes("worldbank", mrv))[0]
    assert (arab_world["country"]["id"], arab_world["countryiso3code"]) == ("1A", "ARB")
    footnoted = "api_v2_countries_JPN+USA_indicators_2series_source2_footnote_perpage2.json"
    assert [o["footnote"] for o in api_observations(fixture_bytes("worldbank", footnoted))] == [
        "",
        "",
    ]


def test_a_real_page_of_another_series_is_refused_not_landed_as_wgi() -> None:
    with pytest.raises(WgiPayloadError, match=r"'NY\.GDP\.MKTP\.CD', not a WGI"):
        parse_wgi_api(fixture_bytes("worldbank", REAL_PAGE))


def test_real_error_answered_with_http_200_is_an_error_with_its_message() -> None:
    body = fixture_bytes("worldbank", REAL_ERROR)
    message = "World Bank API error: 120 Invalid value: The provided parameter value is not valid"
    for read in (parse_wgi_api, api_page_count, api_observations):
        with pytest.raises(WgiPayloadError) as caught:
            read(body)
        assert str(caught.value) == message


def test_client_stops_a_series_at_a_real_200_error_and_goes_on_with_the_next() -> None:
    """Served with HTTP 200, as the API does. Before, the page count raised out of the
    generator and the other five series were never asked."""
    rl = "/v2/country/all/indicator/GOV_WGI_RL.EST"
    routes = [
        Route(path=rl, body=fixture_bytes("worldbank", REAL_ERROR), content_type="application/json")
    ]
    with ReplayServer(routes=routes) as server:
        responses = list(_client(server).api_series())
        asked = [(r["path"], r["query"].get("page")) for r in server.requests]
    assert [r.status for r in responses if r.url.split("?")[0].endswith("GOV_WGI_RL.EST")] == [200]
    assert asked.count((rl, "2")) == 0  # no second page of the failed series
    assert len(responses) == len(WGI_API_CODES)  # every series asked once (others: 404)


def test_client_follows_the_real_paging_element() -> None:
    """A real page 1 of 3 makes the client ask page 2 (not recorded: 404, the series stops)."""
    va = "/v2/country/all/indicator/GOV_WGI_VA.EST"
    routes = [
        Route(
            path=va,
            query={"page": "1"},
            body=fixture_bytes("worldbank", REAL_PAGE),
            content_type="application/json",
        )
    ]
    with ReplayServer(routes=routes) as server:
        list(_client(server).api_series())
        asked = [r["query"].get("page") for r in server.requests if r["path"] == va]
    assert asked == ["1", "2"]
