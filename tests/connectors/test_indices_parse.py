"""Parsers of the country indices, run on the saved real payloads (tests/fixtures/indices)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from connectors.indices.common import IndexFormatError, IndexParse
from connectors.indices.cpi import parse_cpi
from connectors.indices.heritage import ip_protection_rows, parse_heritage
from connectors.indices.hofstede import parse_hofstede

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "indices"
CPI_FILE = FIXTURES / "CPI2024_GlobalResultsTrends.csv"
HOFSTEDE_CSV = FIXTURES / "6-dimensions-for-website-2015-08-16.csv"
HOFSTEDE_XLS = FIXTURES / "6-dimensions-for-website-2015-08-16.xls"
HERITAGE_FILE = FIXTURES / "heritage_economic_freedom_index2019_data.csv"

ROW_KEYS = {
    "iso3",
    "index",
    "dimension",
    "year",
    "value",
    "source",
    "source_url",
    "sha256",
    "raw_country",
}


def value(result: IndexParse, iso3: str, dimension: str, year: int) -> float:
    found = [
        r["value"]
        for r in result.rows
        if (r["iso3"], r["dimension"], r["year"]) == (iso3, dimension, year)
    ]
    assert len(found) == 1, (iso3, dimension, year, found)
    return float(found[0])


@pytest.fixture(scope="module")
def cpi() -> IndexParse:
    return parse_cpi(CPI_FILE.read_bytes(), "https://example.test/cpi.csv", sha256="abc")


@pytest.fixture(scope="module")
def hofstede() -> IndexParse:
    return parse_hofstede(HOFSTEDE_CSV.read_bytes(), "https://example.test/6d.csv")


@pytest.fixture(scope="module")
def heritage() -> IndexParse:
    return parse_heritage(HERITAGE_FILE.read_bytes(), "https://example.test/heritage.csv")


# --- CPI -------------------------------------------------------------------------------


def test_cpi_published_scores(cpi: IndexParse) -> None:
    assert value(cpi, "DNK", "score", 2024) == 90
    assert value(cpi, "DNK", "rank", 2024) == 1
    assert value(cpi, "DNK", "standard_error", 2024) > 0
    assert value(cpi, "AFG", "score", 2024) == 17
    assert value(cpi, "AFG", "standard_error", 2024) == pytest.approx(5.76)
    assert value(cpi, "AFG", "score", 2012) == 8  # lower-case "CPI Score 2012" header
    assert value(cpi, "KOR", "score", 2024) == 64  # "Korea; South" in the file
    assert value(cpi, "PRK", "score", 2024) == 15
    assert value(cpi, "XKX", "score", 2024) > 0  # TI's code KSV
    assert value(cpi, "ZWE", "score", 2024) == 21  # last line, no trailing newline


def test_cpi_shape_and_provenance(cpi: IndexParse) -> None:
    countries = {r["iso3"] for r in cpi.rows}
    assert len(countries) == 180 + 1  # every data line is a country
    assert cpi.unmapped == []
    assert cpi.rejected == []
    assert {r["year"] for r in cpi.rows} == set(range(2012, 2025))
    assert {r["dimension"] for r in cpi.rows} == {"score", "rank", "sources", "standard_error"}
    assert not any(r["dimension"] == "rank" and r["year"] <= 2016 for r in cpi.rows)
    row = cpi.rows[0]
    assert set(row) == ROW_KEYS
    assert (row["index"], row["source"], row["sha256"]) == ("cpi", "cpi", "abc")
    assert row["source_url"] == "https://example.test/cpi.csv"


def test_cpi_empty_cells_are_reported_missing(cpi: IndexParse) -> None:
    brunei_2024 = [m for m in cpi.missing if m["iso3"] == "BRN" and m["year"] == 2024]
    assert {m["dimension"] for m in brunei_2024} == {"score", "rank", "sources", "standard_error"}
    assert not any(r["iso3"] == "BRN" and r["year"] == 2024 for r in cpi.rows)


def test_cpi_xlsx_gives_the_same_rows(cpi: IndexParse) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    import csv

    # SHAPED: a workbook built here from the CSV's cells, to exercise the XLSX path.
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    text = CPI_FILE.read_bytes().decode("utf-8-sig")
    for cells in csv.reader(io.StringIO(text, newline=""), delimiter=";"):
        sheet.append([float(c) if c.replace(".", "", 1).isdigit() else c for c in cells])
    buffer = io.BytesIO()
    workbook.save(buffer)
    from_xlsx = parse_cpi(buffer.getvalue(), "https://example.test/cpi.xlsx", sha256="abc")
    strip = [{k: v for k, v in r.items() if k != "source_url"} for r in from_xlsx.rows]
    assert strip == [{k: v for k, v in r.items() if k != "source_url"} for r in cpi.rows]


def test_cpi_conflicting_name_and_code_is_unmapped() -> None:
    body = "Country / Territory;ISO3;Region;CPI score 2024\nDenmark;JPN;WE/EU;90\n"
    result = parse_cpi(body.encode(), "u")
    assert result.rows == []
    assert result.unmapped[0]["reason"] == "conflict"
    assert result.unmapped[0]["raw_country"] == "Denmark"


def test_cpi_without_header_is_a_clear_error() -> None:
    with pytest.raises(IndexFormatError, match="iso3"):
        parse_cpi(b"just;some;text\n1;2;3\n", "u")


# --- Hofstede --------------------------------------------------------------------------


def test_hofstede_published_scores(hofstede: IndexParse) -> None:
    assert value(hofstede, "DEU", "pdi", 2015) == 35
    assert value(hofstede, "DEU", "ltowvs", 2015) == 83
    assert value(hofstede, "JPN", "mas", 2015) == 95
    assert value(hofstede, "JPN", "uai", 2015) == 92
    assert value(hofstede, "USA", "idv", 2015) == 91  # "U.S.A."
    assert value(hofstede, "GBR", "pdi", 2015) == 35  # "Great Britain"
    assert value(hofstede, "KOR", "ltowvs", 2015) == 100  # "Korea South"
    assert value(hofstede, "CZE", "uai", 2015) == 74  # "Czech Rep"
    assert value(hofstede, "SVK", "mas", 2015) == 110  # "Slovak Rep", above 100
    assert value(hofstede, "TWN", "pdi", 2015) == 58
    assert value(hofstede, "SLV", "pdi", 2015) == 66  # ctr "SAL"


def test_hofstede_aggregates_reported_not_rows(hofstede: IndexParse) -> None:
    assert {(u["raw_country"], u["reason"]) for u in hofstede.unmapped} == {
        ("Africa East", "aggregate"),
        ("Africa West", "aggregate"),
        ("Arab countries", "aggregate"),
        ("Belgium French", "aggregate"),
        ("Belgium Netherl", "aggregate"),
        ("Canada French", "aggregate"),
        ("Germany East", "aggregate"),
        ("South Africa white", "aggregate"),
        ("Switzerland French", "aggregate"),
        ("Switzerland German", "aggregate"),
    }
    assert {u["raw_code"] for u in hofstede.unmapped} >= {"AFE", "ARA", "GEE"}
    countries = {r["iso3"] for r in hofstede.rows} | {m["iso3"] for m in hofstede.missing}
    assert len(countries) == 100  # 110 data lines - 10 aggregates, none unknown
    assert "DEU" in countries and value(hofstede, "DEU", "pdi", 2015) == 35  # not Germany East


def test_hofstede_null_is_missing_not_zero(hofstede: IndexParse) -> None:
    albania = {m["dimension"]: m["raw_value"] for m in hofstede.missing if m["iso3"] == "ALB"}
    assert albania == {"pdi": "#NULL!", "idv": "#NULL!", "mas": "#NULL!", "uai": "#NULL!"}
    assert value(hofstede, "ALB", "ltowvs", 2015) == 61
    assert hofstede.rejected == []


def test_hofstede_xls_matches_csv_up_to_rounding(hofstede: IndexParse) -> None:
    xls = parse_hofstede(HOFSTEDE_XLS.read_bytes(), "https://example.test/6d.xls")
    assert value(xls, "DEU", "pdi", 2015) == 35
    assert value(xls, "ALB", "ltowvs", 2015) == pytest.approx(61.46, abs=0.01)
    assert round(value(xls, "ALB", "ltowvs", 2015)) == value(hofstede, "ALB", "ltowvs", 2015)
    assert value(xls, "DOM", "ivr", 2015) == pytest.approx(54.24, abs=0.01)  # only in the XLS
    assert {m["dimension"] for m in xls.missing if m["iso3"] == "DOM"} == {
        "pdi",
        "idv",
        "mas",
        "uai",
    }
    assert [u["raw_country"] for u in xls.unmapped if u["reason"] != "aggregate"] == []
    assert len([m for m in xls.missing if m["raw_value"] == "#NULL!"]) > 100


# --- Heritage --------------------------------------------------------------------------


def test_heritage_published_scores(heritage: IndexParse) -> None:
    assert value(heritage, "AFG", "property_rights", 2019) == pytest.approx(19.6)
    assert value(heritage, "AFG", "judicial_effectiveness", 2019) == pytest.approx(29.6)
    assert value(heritage, "AFG", "government_integrity", 2019) == pytest.approx(25.2)
    assert value(heritage, "AFG", "overall_score", 2019) == pytest.approx(51.5)
    assert value(heritage, "ZWE", "property_rights", 2019) == pytest.approx(29.7)
    assert value(heritage, "ALB", "investment_freedom", 2019) == 70  # "Investment Freedom "
    assert value(heritage, "CIV", "overall_score", 2019) > 0  # cp1252 "Côte d'Ivoire"
    assert value(heritage, "STP", "property_rights", 2019) > 0  # "São Tomé and Príncipe"


def test_heritage_all_186_lines_are_countries(heritage: IndexParse) -> None:
    assert heritage.unmapped == []
    countries = {r["iso3"] for r in heritage.rows} | {m["iso3"] for m in heritage.missing}
    assert len(countries) == 186
    assert {"MMR", "COD", "COG", "PRK", "KOR", "MAC", "FSM", "XKX", "TWN"} <= countries


def test_heritage_text_cells_are_rejected_not_guessed(heritage: IndexParse) -> None:
    rejected = {(r["iso3"], r["column"]): r for r in heritage.rejected}
    assert set(rejected) == {
        ("PRK", "GDP (Billions, PPP)"),
        ("PRK", "GDP per Capita (PPP)"),
        ("LIE", "Population (Millions)"),
        ("LIE", "GDP (Billions, PPP)"),
        ("LIE", "GDP per Capita (PPP)"),
        ("LIE", "Unemployment (%)"),
    }
    north_korea_gdp = rejected[("PRK", "GDP (Billions, PPP)")]
    assert north_korea_gdp["raw_value"] == "40.0 (2015 est.)"
    assert "not guessed" in north_korea_gdp["reason"]
    assert not any(
        r["iso3"] == "PRK" and r["dimension"] == "gdp_billions_ppp" for r in heritage.rows
    )
    assert value(heritage, "PRK", "property_rights", 2019) > 0  # the rest of the line is kept


def test_heritage_empty_cells_are_missing(heritage: IndexParse) -> None:
    iraq = {m["dimension"] for m in heritage.missing if m["iso3"] == "IRQ"}
    assert {"overall_score", "world_rank", "trade_freedom"} <= iraq
    liechtenstein = {m["dimension"] for m in heritage.missing if m["iso3"] == "LIE"}
    assert "property_rights" in liechtenstein


def test_ip_protection_is_property_rights_on_0_to_10(heritage: IndexParse) -> None:
    ip = {r["iso3"]: r for r in ip_protection_rows(heritage.rows)}
    assert ip["AFG"]["value"] == pytest.approx(1.96)
    assert ip["AFG"]["index"] == "ip_protection" and ip["AFG"]["dimension"] == "score"
    assert ip["AFG"]["derived_from"] == "heritage.property_rights / 10"
    assert ip["AFG"]["source_url"] == "https://example.test/heritage.csv"
    assert "LIE" not in ip  # no property-rights score, no invented value
    assert all(0 <= r["value"] <= 10 for r in ip.values())


def test_heritage_without_year_score_column_is_an_error() -> None:
    with pytest.raises(IndexFormatError, match="Score"):
        parse_heritage(b"Country Name,Property Rights\nDenmark,80\n", "u")
