"""Country normalisation for the index publishers' names (config/country_aliases.toml)."""

from __future__ import annotations

import pytest

from connectors.countries import resolve
from connectors.indices.common import classify_country


@pytest.mark.parametrize(
    ("raw", "iso3"),
    [
        ("U.S.A.", "USA"),
        ("Great Britain", "GBR"),
        ("Korea South", "KOR"),
        ("Korea; South", "KOR"),
        ("Korea, North ", "PRK"),
        ("Czech Republic", "CZE"),
        ("Czech Rep", "CZE"),
        ("Slovak Rep", "SVK"),
        ("Kyrgyz Rep", "KGZ"),
        ("Bosnia", "BIH"),
        ("Dominican Rep", "DOM"),
        ("Taiwan", "TWN"),
        ("Burma", "MMR"),
        ("Congo, Republic of", "COG"),
        ("Congo, Democratic Republic of the Congo", "COD"),
        ("Guinea Bissau", "GNB"),
        ("São Tomé and Príncipe", "STP"),
        ("Micronesia", "FSM"),
        ("Macau", "MAC"),
        ("KSV", "XKX"),
        ("DE", "DEU"),
        ("de", "DEU"),
        ("DEU", "DEU"),
        ("JP", "JPN"),
        ("JPN", "JPN"),
    ],
)
def test_publisher_names_and_iso_codes_resolve(raw: str, iso3: str) -> None:
    found = resolve(raw)
    assert (found.kind, found.iso3) == ("country", iso3)


@pytest.mark.parametrize(
    "raw",
    [
        "Africa East",
        "Africa West",
        "Arab countries",
        "Belgium French",
        "Canada French",
        "Germany East",
        "South Africa white",
        "Switzerland German",
    ],
)
def test_regions_and_subnational_groups_are_aggregates(raw: str) -> None:
    found = resolve(raw)
    assert (found.kind, found.iso3) == ("aggregate", None)


def test_classify_prefers_code_and_flags_conflicts() -> None:
    assert classify_country("Korea; South", "KOR").iso3 == "KOR"
    assert classify_country("Democratic Republic of the Congo", "COD").iso3 == "COD"
    assert classify_country("Somewhere new", "FRA").iso3 == "FRA"
    assert classify_country("Germany", "JPN").reason == "conflict"
    assert classify_country("Arab countries").reason == "aggregate"
    assert classify_country("Atlantis").reason == "unknown"
