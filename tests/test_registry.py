from pathlib import Path

import pytest

from flows.offline import DEMO_PARTNERS
from flows.registry import RegistryFileError, parse_registry, read_registry

HEADER = "partner_id,name,website,country,lei,cik\n"


def test_demo_registry_is_clean_and_normalised() -> None:
    partners, issues = read_registry(DEMO_PARTNERS)
    assert issues == []
    assert len(partners) >= 5
    assert len({p.country_iso3 for p in partners}) >= 4
    by_id = {p.partner_id: p for p in partners}
    assert by_id["fraport"].country_iso3 == "DEU"  # given as alpha-3
    assert by_id["sap"].country_iso3 == "DEU"  # given as alpha-2
    assert by_id["microsoft"].cik == "0000789019"  # zero-padded


def test_malformed_rows_are_reported_by_line_and_column_and_others_load() -> None:
    text = HEADER + (
        "sap,SAP SE,sap.com,DE,529900D6BF99LW9R2E68,\n"
        "narnia,Narnia Trading,,Narnia,,\n"
        "badlei,Bad Lei GmbH,,DE,529900D6BF99LW9R2E69,\n"
        "noname,,,US,,\n"
        "shell,Shell plc,,GB,21380068P1DRHMJ8KU70,12a\n"
        "infosys,Infosys,,IN,,\n"
    )
    partners, issues = parse_registry(text)
    assert [p.partner_id for p in partners] == ["sap", "infosys"]
    found = {(i.line, i.column) for i in issues}
    assert found == {(3, "country"), (4, "lei"), (5, "name"), (6, "cik")}
    country_issue = next(i for i in issues if i.column == "country")
    assert "line 3" in str(country_issue) and "Narnia" in str(country_issue)
    lei_issue = next(i for i in issues if i.column == "lei")
    assert "check digits" in lei_issue.message


def test_only_name_and_country_are_required_and_ids_are_generated() -> None:
    partners, issues = parse_registry("name,country\nToyota Motor Corporation,JPN\n")
    assert issues == []
    assert partners[0].partner_id == "toyota-motor-corporation"
    assert partners[0].country_iso2 == "JP"


def test_duplicate_partner_id_is_reported() -> None:
    partners, issues = parse_registry(HEADER + "a,A,,DE,,\na,B,,FR,,\n")
    assert len(partners) == 1
    assert issues[0].line == 3 and "duplicates" in issues[0].message


def test_missing_required_column_is_a_file_error(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("partner_id,name\nx,X\n")
    with pytest.raises(RegistryFileError, match="country"):
        read_registry(path)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            HEADER.encode() + "sap,SAP SE,,DE,,\nmüller,Müller AG,,DE,,\n".encode("latin-1"),
            "line 3, byte column 2: not UTF-8",
        ),
        (HEADER.encode(), "header but no partner rows"),
        (
            HEADER.encode() + b"sap,SAP SE,,DE,,,Walldorf, Germany\n",
            "line 2, column 7 ('Walldorf')",
        ),
    ],
    ids=["wrong-encoding", "header-only", "extra-fields"],
)
def test_an_unreadable_registry_is_refused_naming_file_line_and_column(
    tmp_path: Path, content: bytes, expected: str
) -> None:
    path = tmp_path / "partners.csv"
    path.write_bytes(content)
    with pytest.raises(RegistryFileError) as failure:
        read_registry(path)
    assert str(path) in str(failure.value) and expected in str(failure.value)
