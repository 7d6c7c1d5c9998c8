"""LEI entity resolution by name (+ country) on recorded GLEIF search answers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from connectors.config import load_settings
from connectors.gleif.resolve import (
    GleifResolveError,
    parse_fuzzycompletions,
    parse_lei_candidates,
    pick,
    score_candidates,
    search_lei,
)
from connectors.http import PoliteSession, RawResponse, make_session
from connectors.replay import ReplayServer, Route

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "gleif"
SAP_SE = "529900D6BF99LW9R2E68"
SAP_FUND = "254900IDOKBRQ34N6D66"
SAP_DEUTSCHLAND = "5299000X9VHK01Y9R563"
FACEBOOK_LEIS = {"549300BACZP326UOBH06", "335800CZZQAMN5PMNQ89", "635400XSFNRXSVRFGR47"}
JSONAPI = "application/vnd.api+json"
SAP_SEARCH = (FIXTURES / "lei_records_filter-legalName_SAP_SE.json").read_bytes()
FACTBOOK = (FIXTURES / "fuzzycompletions_q-factbook.json").read_bytes()
EMPTY_LIST = (FIXTURES / "direct-children_254900LNRYNOQ9YPU758_empty.json").read_bytes()


def session() -> PoliteSession:
    return make_session("gleif", load_settings(env={}))


def search_route(name: str, body: bytes) -> Route:
    return Route(
        path="/api/v1/lei-records",
        body=body,
        content_type=JSONAPI,
        query={"filter[entity.legalName]": name, "page[size]": "10"},
    )


def sap_candidates() -> list[dict[str, Any]]:
    return parse_lei_candidates(SAP_SEARCH, "u")


# ------------------------------------------------------------------ parsing and scoring


def test_parse_the_three_real_sap_hits() -> None:
    rows = sap_candidates()
    assert [(r["lei"], r["legal_name"], r["country"], r["legal_form"]) for r in rows] == [
        (SAP_SE, "SAP SE", "DE", "SGST"),
        (SAP_FUND, "SAP SE ADRHEDGED", "US", "8888"),
        (SAP_DEUTSCHLAND, "SAP Deutschland SE & Co. KG", "DE", "8Z6G"),
    ]
    fund = rows[1]
    assert fund["legal_form_other"] == "Fund" and fund["category"] == "FUND"
    assert fund["other_names"] == ["SAP AG ADRPLUS FUND"]
    assert {r["status"] for r in rows} == {"ISSUED"}


def test_fund_lookalike_is_penalised() -> None:
    scored = {c["lei"]: c for c in score_candidates("SAP SE", "DE", sap_candidates())}
    fund = scored[SAP_FUND]
    assert fund["evidence"]["fund_lookalike"] is True
    assert fund["evidence"]["country_match"] is False
    assert fund["confidence"] < 0.2
    # The same record without the fund markers scores twice as high: the penalty is applied.
    real_fund = sap_candidates()[1]
    unmarked = {**real_fund, "legal_form_other": None, "category": "GENERAL"}
    as_company = score_candidates("SAP SE", "DE", [unmarked])[0]
    assert as_company["evidence"]["fund_lookalike"] is False
    assert fund["confidence"] == pytest.approx(as_company["confidence"] * 0.5, abs=0.002)
    assert scored[SAP_SE]["confidence"] == 1.0
    assert scored[SAP_SE]["evidence"]["name_exact"] is True


def test_sap_without_country_is_ambiguous_not_picked() -> None:
    # "SAP" equals "SAP SE" once the legal form is dropped, but without a country the two
    # other real hits carry the same word, so the resolver must not choose on its own.
    decision = pick(score_candidates("SAP", None, sap_candidates()))
    assert decision["decision"] == "ambiguous"
    assert decision["lei"] is None
    assert SAP_FUND in decision["reason"] and SAP_DEUTSCHLAND in decision["reason"]
    assert decision["candidates"][0]["lei"] == SAP_SE  # still ranked, for a human to confirm


def test_close_rivals_are_ambiguous() -> None:
    # Construct a rival from the real SAP SE record: the same name registered in AT.
    real = sap_candidates()
    rival = {**real[0], "lei": "RIVAL000000000000000", "country": "AT"}
    decision = pick(score_candidates("SAP SE", None, [real[0], rival]))
    assert decision["decision"] == "ambiguous"
    assert "within" in decision["reason"]


def test_wrong_country_gives_none() -> None:
    decision = pick(score_candidates("SAP SE", "FR", sap_candidates()))
    assert decision["decision"] == "none"
    assert decision["candidates"][0]["evidence"]["country_match"] is False


def test_exact_legal_name_without_country_is_picked() -> None:
    decision = pick(score_candidates("SAP SE", None, sap_candidates()))
    assert decision["decision"] == "picked" and decision["lei"] == SAP_SE


def test_parse_fuzzycompletions() -> None:
    rows = parse_fuzzycompletions(FACTBOOK, "u")
    assert {r["lei"] for r in rows} == FACEBOOK_LEIS
    assert rows[0]["legal_name"] == "FACEBOOK OPERATIONS, LLC"
    assert rows[0]["found_by"] == "fuzzycompletions" and rows[0]["country"] is None


def test_search_payload_errors_are_clear() -> None:
    with pytest.raises(GleifResolveError, match="no 'data' list"):
        parse_lei_candidates(b'{"errors": []}', "u")


# ------------------------------------------------------------------ HTTP through ReplayServer


def test_search_sap_se_in_germany_resolves_to_sap_se() -> None:
    seen: list[RawResponse] = []
    with ReplayServer(routes=[search_route("SAP SE", SAP_SEARCH)]) as server:
        scored = search_lei(session(), f"{server.base_url}/api/v1", "SAP SE", "DE", responses=seen)
    assert [(r["path"], r["query"]) for r in server.requests] == [
        ("/api/v1/lei-records", {"filter[entity.legalName]": "SAP SE", "page[size]": "10"})
    ]
    decision = pick(scored)
    assert decision["decision"] == "picked"
    assert decision["lei"] == SAP_SE
    best = decision["candidate"]
    assert best["evidence"] == {
        "matched_name": "SAP SE",
        "matched_on": "legal_name",
        "name_exact": True,
        "name_equal_without_legal_form": True,
        "country_match": True,
        "status_ok": True,
        "fund_lookalike": False,
        "found_by": "legal_name_filter",
    }
    assert best["sha256"] == seen[0].sha256
    assert best["source_url"].startswith(server.base_url)


def test_factbook_falls_back_to_fuzzycompletions() -> None:
    routes = [
        # A real empty JSON:API list (GLEIF answers 200 with data [] when nothing matches).
        search_route("factbook", EMPTY_LIST),
        Route(
            path="/api/v1/fuzzycompletions",
            body=FACTBOOK,
            content_type=JSONAPI,
            query={"field": "fulltext", "q": "factbook"},
        ),
        # The filter[lei] enrichment call is not recorded: the replay server answers 404.
    ]
    seen: list[RawResponse] = []
    with ReplayServer(routes=routes) as server:
        scored = search_lei(session(), f"{server.base_url}/api/v1", "factbook", responses=seen)
    assert [r["path"] for r in server.requests] == [
        "/api/v1/lei-records",
        "/api/v1/fuzzycompletions",
        "/api/v1/lei-records",
    ]
    assert server.requests[2]["query"]["filter[lei]"].count(",") == 2
    assert [r.status for r in seen] == [200, 200, 404]
    assert {c["lei"] for c in scored} == FACEBOOK_LEIS
    assert all(c["evidence"]["found_by"] == "fuzzycompletions" for c in scored)
    assert all(c["evidence"]["status_ok"] is None for c in scored)  # not enriched
    assert pick(scored)["decision"] != "picked"


def test_search_404_also_falls_back() -> None:
    routes = [
        Route(
            path="/api/v1/fuzzycompletions",
            body=FACTBOOK,
            content_type=JSONAPI,
            query={"q": "factbook"},
        )
    ]
    with ReplayServer(routes=routes) as server:
        scored = search_lei(session(), f"{server.base_url}/api/v1", "factbook")
    assert {c["lei"] for c in scored} == FACEBOOK_LEIS


def test_search_server_error_raises() -> None:
    routes = [Route(path="/api/v1/lei-records", status=400, body=b'{"errors": []}')]
    with ReplayServer(routes=routes) as server:
        with pytest.raises(GleifResolveError, match="HTTP 400"):
            search_lei(session(), f"{server.base_url}/api/v1", "SAP SE")


def test_empty_name_is_refused_before_any_request() -> None:
    with ReplayServer(routes=[]) as server:
        with pytest.raises(ValueError, match="non-empty"):
            search_lei(session(), f"{server.base_url}/api/v1", "  ")
    assert server.requests == []
