"""GLEIF ownership (level 2), children and other names parsed from real payloads."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.gleif.ownership import (
    GleifOwnershipError,
    parse_direct_children,
    parse_lei_record_name,
    parse_other_names,
    parse_parent_relationship,
    parse_reporting_exception,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "gleif"
APPLE_ENERGY = "549300YX4S1LLSMK2627"
APPLE_INC = "HWUPKR0MPOU8FGXBT394"
SHELL = "21380068P1DRHMJ8KU70"
MICROSOFT = "INR2EJN1ERAN0W5ZP974"
FRAPORT = "5299001ERX0K10IZUL40"


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


@pytest.mark.parametrize("level", ["direct-parent", "ultimate-parent"])
def test_parent_record_name(level: str) -> None:
    assert parse_lei_record_name(body(f"{level}_{APPLE_ENERGY}.json")) == (APPLE_INC, "Apple Inc.")


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
