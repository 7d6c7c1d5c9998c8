"""GLEIF ownership (level 2), children, other names and registration facts on real payloads."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.config import load_settings
from connectors.gleif.ownership import (
    GleifOwnershipError,
    collect_ownership,
    fetch_direct_children,
    gleif_base_url,
    parse_direct_children,
    parse_lei_record_name,
    parse_other_names,
    parse_parent_relationship,
    parse_registration,
    parse_reporting_exception,
)
from connectors.http import PoliteSession, make_session
from connectors.replay import ReplayServer, Route

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "gleif"
APPLE_ENERGY = "549300YX4S1LLSMK2627"
APPLE_INC = "HWUPKR0MPOU8FGXBT394"
SHELL = "21380068P1DRHMJ8KU70"
MICROSOFT = "INR2EJN1ERAN0W5ZP974"
FRAPORT = "5299001ERX0K10IZUL40"
JSONAPI = "application/vnd.api+json"


def body(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


# ------------------------------------------------------------------ parsers


def test_direct_parent_relationship_row() -> None:
    raw = body(f"direct-parent-relationship_{APPLE_ENERGY}.json")
    rows = parse_parent_relationship(raw, "https://x/direct-parent-relationship", "Apple Inc.")
    assert len(rows) == 1
    row = rows[0]
    assert row["child_lei"] == APPLE_ENERGY
    assert row["relation"] == "direct_parent"
    assert row["parent_lei"] == APPLE_INC
    assert row["parent_name"] == "Apple Inc."
    assert row["relationship_type"] == "IS_DIRECTLY_CONSOLIDATED_BY"
    assert row["relationship_status"] == "ACTIVE"
    assert row["period_start"] == "2018-04-10"  # RELATIONSHIP_PERIOD, not ACCOUNTING_PERIOD
    assert row["exception_category"] is None and row["exception_reason"] is None
    assert row["source_url"] == "https://x/direct-parent-relationship"
    assert len(row["sha256"]) == 64


def test_ultimate_parent_relationship_row() -> None:
    raw = body(f"ultimate-parent-relationship_{APPLE_ENERGY}.json")
    (row,) = parse_parent_relationship(raw, "u")
    assert row["relation"] == "ultimate_parent"
    assert row["relationship_type"] == "IS_ULTIMATELY_CONSOLIDATED_BY"
    assert row["parent_lei"] == APPLE_INC
    assert row["period_start"] == "2018-11-03"
    assert row["parent_name"] is None  # not passed: the relationship record has no names


def test_parent_record_name() -> None:
    assert parse_lei_record_name(body(f"direct-parent_{APPLE_ENERGY}.json")) == (
        APPLE_INC,
        "Apple Inc.",
    )


@pytest.mark.parametrize(
    ("file", "lei", "relation", "category", "reason"),
    [
        (
            f"direct-parent-reporting-exception_{SHELL}.json",
            SHELL,
            "direct_parent",
            "DIRECT_ACCOUNTING_CONSOLIDATION_PARENT",
            "NO_KNOWN_PERSON",
        ),
        (
            f"ultimate-parent-reporting-exception_{SHELL}.json",
            SHELL,
            "ultimate_parent",
            "ULTIMATE_ACCOUNTING_CONSOLIDATION_PARENT",
            "NO_KNOWN_PERSON",
        ),
        (
            f"direct-parent-reporting-exception_{MICROSOFT}.json",
            MICROSOFT,
            "direct_parent",
            "DIRECT_ACCOUNTING_CONSOLIDATION_PARENT",
            "NON_CONSOLIDATING",
        ),
        (
            f"ultimate-parent-reporting-exception_{MICROSOFT}.json",
            MICROSOFT,
            "ultimate_parent",
            "ULTIMATE_ACCOUNTING_CONSOLIDATION_PARENT",
            "NON_CONSOLIDATING",
        ),
    ],
)
def test_reporting_exception_rows(
    file: str, lei: str, relation: str, category: str, reason: str
) -> None:
    (row,) = parse_reporting_exception(body(file), "u")
    assert row["child_lei"] == lei
    assert row["relation"] == relation
    assert row["parent_lei"] is None and row["relationship_type"] is None
    assert row["exception_category"] == category
    assert row["exception_reason"] == reason


def test_wrong_payload_type_is_an_error() -> None:
    with pytest.raises(GleifOwnershipError, match="relationship-records"):
        parse_parent_relationship(body(f"direct-parent-reporting-exception_{SHELL}.json"), "u")
    with pytest.raises(GleifOwnershipError, match="error document"):
        parse_reporting_exception(b'{"errors": [{"status": "404"}]}', "u")
    with pytest.raises(GleifOwnershipError, match="not JSON"):
        parse_direct_children(b"<html>", FRAPORT, "u")


def test_fraport_children() -> None:
    rows = parse_direct_children(body(f"direct-children_{FRAPORT}.json"), FRAPORT, "u")
    assert [(r["child_lei"], r["child_name"], r["child_country"]) for r in rows] == [
        ("254900RX3NW13DDG3905", "Lima Airport Partners S.R.L.", "PE"),
        ("529900YR7EORVQ2U3353", "FRAPORT MALTA BUSINESS SERVICES LTD", "MT"),
    ]
    assert {r["parent_lei"] for r in rows} == {FRAPORT}


def test_microsoft_children_include_github_and_chinese_name() -> None:
    rows = parse_direct_children(body(f"direct-children_{MICROSOFT}.json"), MICROSOFT, "u")
    assert len(rows) == 12
    names = {r["child_name"]: r["child_country"] for r in rows}
    assert names["GITHUB INC"] == "US"
    assert names["微软(中国)有限公司"] == "CN"


def test_empty_children_page() -> None:
    raw = body("direct-children_254900LNRYNOQ9YPU758_empty.json")
    assert parse_direct_children(raw, "254900LNRYNOQ9YPU758", "u") == []


def test_other_and_transliterated_names() -> None:
    shell = parse_other_names(body(f"single_lei_record_{SHELL}.json"), "u")
    assert shell == [
        {
            "lei": SHELL,
            "name": "ROYAL DUTCH SHELL PLC",
            "name_type": "PREVIOUS_LEGAL_NAME",
            "language": "en",
            "source_url": "u",
        }
    ]
    children = parse_other_names(body(f"direct-children_{SHELL}.json"), "u")
    assert {
        "lei": "5493009V2TKX7TKLBP02",
        "name": "SHELL JAPAN LIMITED",
        "name_type": "PREFERRED_ASCII_TRANSLITERATED_LEGAL_NAME",
        "language": "ja",
        "source_url": "u",
    } in children
    assert parse_other_names(body(f"single_lei_record_{APPLE_ENERGY}.json"), "u") == []


def test_registration_facts_lapsed_and_issued() -> None:
    (nfa,) = parse_registration(body("single_lei_record_335800CCCPHKUOXPC332.json"), "u")
    assert nfa["lei"] == "335800CCCPHKUOXPC332"
    assert nfa["registration_status"] == "LAPSED"
    assert nfa["last_update"] == "2024-05-10"
    (apple,) = parse_registration(body(f"single_lei_record_{APPLE_ENERGY}.json"), "u")
    assert apple == {
        "lei": APPLE_ENERGY,
        "registration_status": "ISSUED",
        "next_renewal_date": "2026-03-08",
        "last_update": "2025-03-04",
        "managing_lou": "5493001KJTIIGC8Y1R12",
        "source_url": "u",
    }


# ------------------------------------------------------------------ HTTP through ReplayServer


def lei_route(lei: str, endpoint: str, file: str, **query: str) -> Route:
    return Route(
        path=f"/api/v1/lei-records/{lei}/{endpoint}",
        body=body(file),
        content_type=JSONAPI,
        query=query,
    )


def session() -> PoliteSession:
    return make_session("gleif", load_settings(env={}))


def test_base_url_from_config_and_env() -> None:
    assert gleif_base_url(load_settings(env={})) == "https://api.gleif.org/api/v1"
    env = {"PARTNERDD_GLEIF_URL": "http://127.0.0.1:9/api/v1/"}
    assert gleif_base_url(load_settings(env=env)) == "http://127.0.0.1:9/api/v1"


def test_collect_ownership_with_parents() -> None:
    a = APPLE_ENERGY
    routes = [
        lei_route(a, "direct-parent-relationship", f"direct-parent-relationship_{a}.json"),
        lei_route(a, "ultimate-parent-relationship", f"ultimate-parent-relationship_{a}.json"),
        lei_route(a, "direct-parent", f"direct-parent_{a}.json"),
        lei_route(a, "ultimate-parent", f"ultimate-parent_{a}.json"),
        lei_route(a, "direct-children", "direct-children_254900LNRYNOQ9YPU758_empty.json"),
    ]
    with ReplayServer(routes=routes) as server:
        result = collect_ownership(session(), f"{server.base_url}/api/v1", a)
    paths = [r["path"].rsplit("/", 1)[1] for r in server.requests]
    assert paths == [
        "direct-parent-relationship",
        "direct-parent",
        "ultimate-parent-relationship",
        "ultimate-parent",
        "direct-children",
    ]
    assert [(r["relation"], r["parent_lei"], r["parent_name"]) for r in result.ownership] == [
        ("direct_parent", APPLE_INC, "Apple Inc."),
        ("ultimate_parent", APPLE_INC, "Apple Inc."),
    ]
    assert result.ownership[0]["source_url"].endswith(f"{a}/direct-parent-relationship")
    assert result.ownership[0]["sha256"] == result.responses[0].sha256
    assert result.children == [] and result.children_truncated is False
    assert len(result.responses) == 5


def test_collect_ownership_falls_back_to_reporting_exception_on_404() -> None:
    s = SHELL
    routes = [
        # No relationship routes: the replay server answers 404 like the real API does.
        lei_route(
            s, "direct-parent-reporting-exception", f"direct-parent-reporting-exception_{s}.json"
        ),
        lei_route(
            s,
            "ultimate-parent-reporting-exception",
            f"ultimate-parent-reporting-exception_{s}.json",
        ),
    ]
    with ReplayServer(routes=routes) as server:
        result = collect_ownership(session(), f"{server.base_url}/api/v1", s, with_children=False)
    assert [r.status for r in result.responses] == [404, 200, 404, 200]
    assert [(r["relation"], r["exception_reason"]) for r in result.ownership] == [
        ("direct_parent", "NO_KNOWN_PERSON"),
        ("ultimate_parent", "NO_KNOWN_PERSON"),
    ]


def test_collect_ownership_raises_when_neither_answers() -> None:
    with ReplayServer(routes=[]) as server:
        with pytest.raises(GleifOwnershipError, match="reporting-exception endpoint answered"):
            collect_ownership(session(), f"{server.base_url}/api/v1", SHELL)


def test_children_paging_follows_next_on_our_own_host() -> None:
    s = SHELL
    routes = [
        lei_route(s, "direct-children", f"direct-children_{s}.json", **{"page[number]": "1"}),
        # Page 2 is not recorded; serve a real empty page so paging ends there.
        lei_route(
            s,
            "direct-children",
            "direct-children_254900LNRYNOQ9YPU758_empty.json",
            **{"page[number]": "2"},
        ),
    ]
    with ReplayServer(routes=routes) as server:
        pages = fetch_direct_children(session(), f"{server.base_url}/api/v1", s)
    # The recorded links.next points at api.gleif.org; only its query was used.
    assert [r["query"] for r in server.requests] == [
        {"page[size]": "100", "page[number]": "1"},
        {"page[number]": "2", "page[size]": "15"},
    ]
    assert all(p.url.startswith(server.base_url) for p in pages)
    rows = [row for p in pages for row in parse_direct_children(p.body, s, p.url)]
    assert len(rows) == 15
    assert ("5493009V2TKX7TKLBP02", "JP") in [(r["child_lei"], r["child_country"]) for r in rows]


def test_children_page_cap_is_reported() -> None:
    s = SHELL
    routes = [
        lei_route(
            s, "direct-parent-reporting-exception", f"direct-parent-reporting-exception_{s}.json"
        ),
        lei_route(
            s,
            "ultimate-parent-reporting-exception",
            f"ultimate-parent-reporting-exception_{s}.json",
        ),
        lei_route(s, "direct-children", f"direct-children_{s}.json"),
    ]
    with ReplayServer(routes=routes) as server:
        result = collect_ownership(session(), f"{server.base_url}/api/v1", s, max_children_pages=1)
    assert sum(r["path"].endswith("direct-children") for r in server.requests) == 1
    assert len(result.children) == 15  # page 1 of 8 (106 children in total)
    assert result.children_truncated is True
