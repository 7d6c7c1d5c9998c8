"""SEC EDGAR parsers on real recorded payloads (tests/fixtures/sec, see PROVENANCE.md)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from connectors.sec.cik import normalise_cik
from connectors.sec.edgar_codes import edgar_code_to_iso3
from connectors.sec.parse import (
    parse_company_tickers,
    parse_companyfacts,
    parse_companyfacts_columns,
    parse_submissions,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "sec"


def load(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def submissions(name: str) -> dict:
    return parse_submissions(load(name), f"https://data.sec.gov/submissions/{name}", sha256="abc")


# ------------------------------------------------------------------ normalise_cik


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("320193", "0000320193"),
        (320193, "0000320193"),
        ("0001306965", "0001306965"),
        ("CIK0001318605", "0001318605"),
        (" 789019 ", "0000789019"),
    ],
)
def test_normalise_cik_pads_to_ten_digits(value: str | int, expected: str) -> None:
    assert normalise_cik(value) == expected


@pytest.mark.parametrize("value", ["", "12a45", "12345678901", "-5", 0, -1, "0000000000", True])
def test_normalise_cik_rejects_bad_values(value: str | int) -> None:
    with pytest.raises(ValueError):
        normalise_cik(value)


# ------------------------------------------------------------------ submissions


def test_shell_2025_foreign_filer() -> None:
    parsed = submissions("submissions_CIK0001306965_SHEL_20250802.json")
    company = parsed["company"]
    assert company["cik"] == "0001306965"
    assert company["name"] == "Shell plc"
    assert company["tickers"] == ["SHEL", "RYDAF"]
    assert company["exchanges"] == ["NYSE", "OTC"]
    assert company["state_of_incorporation"] == "X0"
    assert company["incorporation_country"] == "GBR"
    assert company["country"] == "GBR"
    assert company["country_evidence"] == "addresses.business.stateOrCountry=X0"
    assert company["sic"] == "1311"
    assert company["ein"] is None  # "000000000" placeholder for foreign filers
    assert company["lei"] is None
    assert company["source_url"].endswith("submissions_CIK0001306965_SHEL_20250802.json")
    assert company["sha256"] == "abc"
    assert parsed["former_names"] == [
        {
            "cik": "0001306965",
            "name": "Royal Dutch Shell plc",
            "date_from": "2004-10-28",
            "date_to": "2022-01-13",
            "source_url": company["source_url"],
            "sha256": "abc",
        }
    ]
    forms = Counter(row["form"] for row in parsed["filings"])
    assert len(parsed["filings"]) == 1000
    assert forms["6-K"] == 749
    assert forms["20-F"] >= 1
    assert parsed["filing_pages"] == [
        {
            "cik": "0001306965",
            "name": "CIK0001306965-submissions-001.json",
            "filing_count": 896,
            "filing_from": "2004-10-28",
            "filing_to": "2013-05-21",
        }
    ]


def test_sap_incorporated_in_germany_code_2m() -> None:
    parsed = submissions("submissions_CIK0001000184_SAP_20250802.json")
    company = parsed["company"]
    assert company["state_of_incorporation"] == "2M"
    assert company["incorporation_country"] == "DEU"
    assert company["country"] == "DEU"
    assert company["business_city"] == "WALLDORF"
    assert [row["name"] for row in parsed["former_names"]][0] == "SAP AG"
    assert parsed["filing_pages"] == []
    assert len(parsed["filings"]) == 655


def test_microsoft_and_apple_us_filers() -> None:
    msft = submissions("submissions_CIK0000789019_MSFT_20250802.json")
    assert msft["company"]["name"] == "MICROSOFT CORP"
    assert msft["company"]["country"] == "USA"
    assert msft["company"]["incorporation_country"] == "USA"
    assert msft["company"]["fiscal_year_end"] == "0630"
    assert msft["company"]["ein"] == "911144442"
    assert msft["former_names"] == []
    assert len(msft["filings"]) == 1010
    assert [p["name"] for p in msft["filing_pages"]] == [
        "CIK0000789019-submissions-001.json",
        "CIK0000789019-submissions-002.json",
    ]
    latest_10k = next(row for row in msft["filings"] if row["form"] == "10-K")
    assert latest_10k["accession"] == "0000950170-25-100235"
    assert latest_10k["report_date"] == "2025-06-30"
    assert latest_10k["document_url"] == (
        "https://www.sec.gov/Archives/edgar/data/789019/000095017025100235/msft-20250630.htm"
    )

    aapl = submissions("submissions_CIK0000320193_AAPL_20250802.json")
    assert aapl["company"]["state_of_incorporation"] == "CA"
    assert aapl["company"]["fiscal_year_end"] == "0927"
    assert aapl["former_names"][0]["name"] == "APPLE INC"
    assert len(aapl["filings"]) == 1005


def test_infosys_empty_incorporation_state_and_k7_address() -> None:
    company = submissions("submissions_CIK0001067491_INFY_20250802.json")["company"]
    assert company["state_of_incorporation"] is None
    assert company["incorporation_country"] is None
    assert company["country"] == "IND"
    assert company["country_evidence"] == "addresses.business.stateOrCountry=K7"


def test_tesla_2022_schema_with_unpadded_cik_and_none_string() -> None:
    parsed = submissions("submissions_CIK0001318605_TSLA.json")
    company = parsed["company"]
    assert company["cik"] == "0001318605"
    assert company["name"] == "Tesla, Inc."
    assert company["business_street1"] == "3500 DEER CREEK RD"
    assert company["business_street2"] is None  # the file has the string "None"
    assert company["country"] == "USA"
    assert company["state_of_incorporation"] == "DE"  # Delaware, not Germany
    assert company["incorporation_country"] == "USA"
    assert company["lei"] is None
    assert parsed["former_names"][0]["name"] == "TESLA MOTORS INC"
    assert len(parsed["filings"]) == 1001
    first = parsed["filings"][0]
    assert first["accession"] == "0001790565-22-000015"
    assert first["form"] == "4"
    assert first["filing_date"] == "2022-11-30"
    assert first["report_date"] == "2022-11-28"
    assert first["primary_document"] == "xslF345X03/edgardoc.xml"


def test_submissions_bad_input_fails_loudly() -> None:
    with pytest.raises(ValueError, match="not valid JSON"):
        parse_submissions(b"<html>rate limited</html>", "u")
    with pytest.raises(ValueError, match="no 'cik'"):
        parse_submissions(b'{"name": "x"}', "u")
    broken = {
        "cik": "1",
        "filings": {"recent": {"accessionNumber": ["a", "b"], "form": ["10-K"]}},
    }
    with pytest.raises(ValueError, match="'form' has 1 entries"):
        parse_submissions(json.dumps(broken), "u")


def test_edgar_codes() -> None:
    assert edgar_code_to_iso3("X0") == "GBR"
    assert edgar_code_to_iso3("2M") == "DEU"
    assert edgar_code_to_iso3("K7") == "IND"
    assert edgar_code_to_iso3("M0") == "JPN"
    assert edgar_code_to_iso3("A6") == "CAN"
    assert edgar_code_to_iso3("E9") == "CYM"
    assert edgar_code_to_iso3("WA") == "USA"
    assert edgar_code_to_iso3("P8") is None
    assert edgar_code_to_iso3("") is None


# ------------------------------------------------------------------ company facts


def test_companyfacts_snowflake_long_rows() -> None:
    rows = parse_companyfacts(load("companyfacts_CIK0001640147_SNOW.json"), "snow-url")
    assert len(rows) == 8163
    assert {row["cik"] for row in rows} == {"0001640147"}
    assert {row["taxonomy"] for row in rows} == {"dei", "us-gaap", "srt"}
    assert all(row["problem"] is None for row in rows)
    revenue = [
        row
        for row in rows
        if row["concept"] == "RevenueFromContractWithCustomerExcludingAssessedTax"
        and row["period_start"] == "2024-02-01"
        and row["period_end"] == "2025-01-31"
    ]
    assert revenue == [
        {
            "cik": "0001640147",
            "entity_name": "SNOWFLAKE INC.",
            "taxonomy": "us-gaap",
            "concept": "RevenueFromContractWithCustomerExcludingAssessedTax",
            "label": "Revenue from Contract with Customer, Excluding Assessed Tax",
            "unit": "USD",
            "value": 3626396000,
            "period_start": "2024-02-01",
            "period_end": "2025-01-31",
            "fiscal_year": 2025,
            "fiscal_period": "FY",
            "form": "10-K",
            "filed": "2025-03-21",
            "accession": "0001640147-25-000052",
            "frame": "CY2024",
            "problem": None,
            "source_url": "snow-url",
            "sha256": None,
        }
    ]


def test_companyfacts_lpa_ifrs_with_string_cik() -> None:
    rows = parse_companyfacts(load("companyfacts_CIK0001997711_LPA.json"), "lpa-url")
    assert {row["cik"] for row in rows} == {"0001997711"}
    assert {row["taxonomy"] for row in rows} == {"dei", "ifrs-full"}
    assets_2024 = [
        row for row in rows if row["concept"] == "Assets" and row["period_end"] == "2024-12-31"
    ]
    assert [(r["value"], r["form"], r["period_start"]) for r in assets_2024] == [
        (607019578, "20-F", None)
    ]


def test_companyfacts_tesla_large_file() -> None:
    rows = parse_companyfacts(load("companyfacts_CIK0001318605_TSLA.json"), "tsla-url")
    assert len(rows) == 17718
    assert Counter(row["taxonomy"] for row in rows).keys() == {"dei", "us-gaap"}
    units = {row["unit"] for row in rows}
    assert {"USD", "shares", "USD/shares", "sqft"} <= units


def test_companyfacts_flags_unusable_facts_instead_of_dropping_them() -> None:
    body = {
        "cik": 1,
        "entityName": "X",
        "facts": {
            "us-gaap": {
                "Assets": {
                    "label": "Assets",
                    "units": {"USD": [{"end": "2024-12-31", "val": "n/a", "form": "10-K"}]},
                }
            }
        },
    }
    rows = parse_companyfacts(json.dumps(body), "u")
    assert len(rows) == 1
    assert rows[0]["problem"] == "non-numeric value 'n/a'"
    with pytest.raises(ValueError, match="no 'facts'"):
        parse_companyfacts(b'{"cik": 1}', "u")


# ------------------------------------------------------------------ tickers


def test_company_tickers() -> None:
    rows = parse_company_tickers(load("company_tickers_trimmed.json"), "tickers-url")
    assert len(rows) == 300
    assert rows[0] == {
        "cik": "0000789019",
        "ticker": "MSFT",
        "title": "MICROSOFT CORP",
        "source_url": "tickers-url",
        "sha256": None,
    }
    shell = next(row for row in rows if row["ticker"] == "SHEL")
    assert shell["cik"] == "0001306965"
    assert shell["title"] == "Shell plc"


def test_company_tickers_rejects_entry_without_cik() -> None:
    with pytest.raises(ValueError, match="entry '0' has no cik_str"):
        parse_company_tickers(b'{"0": {"ticker": "X", "title": "Y"}}')


def test_companyfacts_columns_hold_the_same_facts_as_the_rows() -> None:
    body = load("companyfacts_CIK0001318605_TSLA.json")
    columns = parse_companyfacts_columns(body, "tsla-url", sha256="h")
    assert len(columns) == 17718
    assert columns.rows() == parse_companyfacts(body, "tsla-url", sha256="h")
    assert columns.rows([0, 5]) == [columns.rows()[0], columns.rows()[5]]
