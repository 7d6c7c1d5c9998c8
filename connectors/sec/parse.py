"""Pure parsers for SEC EDGAR JSON payloads. No I/O: bytes/str in, dicts and rows out.

Every CIK in the output is the 10-digit zero-padded string. Every row carries `source_url`
and `sha256` (None when the caller did not pass it) so later stages can cite the evidence.
Malformed payloads raise ValueError naming the URL; nothing is dropped silently.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import repeat
from typing import Any

import orjson

from connectors.countries import to_iso3
from connectors.sec.cik import normalise_cik
from connectors.sec.edgar_codes import edgar_code_to_iso3, is_us_state_code
from connectors.sec.metrics import derive_annual_metrics

ARCHIVES_BASE = "https://www.sec.gov/Archives/edgar/data"
_PLACEHOLDER_EIN = "000000000"

__all__ = [
    "CompanyFacts",
    "derive_annual_metrics",
    "parse_company_tickers",
    "parse_companyfacts",
    "parse_companyfacts_columns",
    "parse_submissions",
]

Row = dict[str, Any]
JsonObject = dict[str, Any]


def _load_object(body: bytes | str, source_url: str | None) -> dict[str, Any]:
    try:
        data = orjson.loads(body)  # company facts run to megabytes: a third faster
    except orjson.JSONDecodeError:
        try:  # what orjson refuses but JSON allows (integers beyond 64 bits), or the error
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ValueError(f"{source_url}: not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise ValueError(f"{source_url}: expected a JSON object, got {type(data).__name__}")
    return data


def _text(value: Any) -> str | None:
    """Strip; '' and the literal 'None' (an edgartools re-serialisation artefact) become None."""
    if value is None:
        return None
    text = str(value).strip()
    return None if text in ("", "None", "null") else text


def _date(value: Any) -> str | None:
    """'2004-10-28T04:00:00.000Z' or '2004-10-28' -> '2004-10-28'."""
    text = _text(value)
    return text[:10] if text else None


# ---------------------------------------------------------------- submissions


def _address_country(address: JsonObject, label: str) -> tuple[str | None, str | None]:
    """(iso3, evidence) from one EDGAR address block, or (None, None)."""
    code = _text(address.get("countryCode"))
    if code:
        iso3 = to_iso3(code) or edgar_code_to_iso3(code)
        if iso3:
            return iso3, f"addresses.{label}.countryCode={code}"
    state = _text(address.get("stateOrCountry"))
    if state:
        iso3 = edgar_code_to_iso3(state)
        if iso3:
            return iso3, f"addresses.{label}.stateOrCountry={state}"
    description = _text(address.get("stateOrCountryDescription"))
    if description and len(description) > 2 and not is_us_state_code(state):
        iso3 = to_iso3(description)
        if iso3:
            return iso3, f"addresses.{label}.stateOrCountryDescription={description}"
    return None, None


def _company_country(data: JsonObject) -> tuple[str | None, str]:
    addresses = data.get("addresses") or {}
    for label in ("business", "mailing"):
        block = addresses.get(label)
        if isinstance(block, dict):
            iso3, evidence = _address_country(block, label)
            if iso3:
                return iso3, str(evidence)
    return None, "no recognisable country in business or mailing address"


def _incorporation_country(data: JsonObject) -> str | None:
    code = _text(data.get("stateOfIncorporation"))
    iso3 = edgar_code_to_iso3(code)
    if iso3:
        return iso3
    description = _text(data.get("stateOfIncorporationDescription"))
    if description and len(description) > 2:
        return to_iso3(description)
    return None


def _company(data: JsonObject, cik: str, source_url: str | None, sha256: str | None) -> Row:
    country, country_evidence = _company_country(data)
    business = (data.get("addresses") or {}).get("business") or {}
    ein = _text(data.get("ein"))
    tickers = data.get("tickers") or []
    exchanges = data.get("exchanges") or []
    return {
        "cik": cik,
        "name": _text(data.get("name")),
        "tickers": [str(t) for t in tickers if _text(t)],
        "exchanges": [str(e) for e in exchanges if _text(e)],
        "sic": _text(data.get("sic")),
        "sic_description": _text(data.get("sicDescription")),
        "state_of_incorporation": _text(data.get("stateOfIncorporation")),
        "incorporation_country": _incorporation_country(data),
        "country": country,
        "country_evidence": country_evidence,
        "business_street1": _text(business.get("street1")),
        "business_street2": _text(business.get("street2")),
        "business_city": _text(business.get("city")),
        "business_state_or_country": _text(business.get("stateOrCountry")),
        "business_zip": _text(business.get("zipCode")),
        "fiscal_year_end": _text(data.get("fiscalYearEnd")),
        "entity_type": _text(data.get("entityType")),
        "filer_category": _text(data.get("category")),
        "ein": None if ein == _PLACEHOLDER_EIN else ein,
        "lei": _text(data.get("lei")),
        "website": _text(data.get("website")),
        "phone": _text(data.get("phone")),
        "source_url": source_url,
        "sha256": sha256,
    }


def _former_names(
    data: JsonObject, cik: str, source_url: str | None, sha256: str | None
) -> list[Row]:
    rows = []
    for entry in data.get("formerNames") or []:
        rows.append(
            {
                "cik": cik,
                "name": _text(entry.get("name")),
                "date_from": _date(entry.get("from")),
                "date_to": _date(entry.get("to")),
                "source_url": source_url,
                "sha256": sha256,
            }
        )
    return rows


def _filing_rows(
    columns: JsonObject, cik: str, source_url: str | None, sha256: str | None
) -> list[Row]:
    """EDGAR stores filings column-wise (parallel arrays); turn them into rows."""
    accessions = columns.get("accessionNumber")
    if not isinstance(accessions, list):
        raise ValueError(f"{source_url}: filings have no accessionNumber array")
    count = len(accessions)
    for name, values in columns.items():
        if isinstance(values, list) and len(values) != count:
            raise ValueError(
                f"{source_url}: filings array {name!r} has {len(values)} entries, "
                f"accessionNumber has {count}"
            )

    def column(name: str) -> list[Any]:
        values = columns.get(name)
        return values if isinstance(values, list) else [None] * count

    cik_number = int(cik)
    rows = []
    for accession, form, filed, report, accepted, doc, desc, items, xbrl, ixbrl, size in zip(
        accessions,
        column("form"),
        column("filingDate"),
        column("reportDate"),
        column("acceptanceDateTime"),
        column("primaryDocument"),
        column("primaryDocDescription"),
        column("items"),
        column("isXBRL"),
        column("isInlineXBRL"),
        column("size"),
        strict=True,
    ):
        accession_text = _text(accession)
        document = _text(doc)
        document_url = (
            f"{ARCHIVES_BASE}/{cik_number}/{accession_text.replace('-', '')}/{document}"
            if accession_text and document
            else None
        )
        rows.append(
            {
                "cik": cik,
                "accession": accession_text,
                "form": _text(form),
                "filing_date": _date(filed),
                "report_date": _date(report),
                "acceptance_datetime": _text(accepted),
                "primary_document": document,
                "primary_doc_description": _text(desc),
                "items": _text(items),
                "is_xbrl": bool(xbrl) if xbrl is not None else None,
                "is_inline_xbrl": bool(ixbrl) if ixbrl is not None else None,
                "size": size,
                "document_url": document_url,
                "source_url": source_url,
                "sha256": sha256,
            }
        )
    return rows


def parse_submissions(
    body: bytes | str, source_url: str | None, *, sha256: str | None = None
) -> dict[str, Any]:
    """Parse data.sec.gov/submissions/CIK##########.json (2022 and 2025 schemas).

    Returns {"company": {...}, "former_names": [...], "filings": [...], "filing_pages": [...]}:
    - company: cik, name, tickers (list), exchanges (list), sic, sic_description,
      state_of_incorporation (raw EDGAR code, e.g. "2M"), incorporation_country (ISO3),
      country (ISO3 of the business address, else mailing), country_evidence (which field),
      business_street1, business_street2, business_city, business_state_or_country,
      business_zip, fiscal_year_end ("MMDD"), entity_type, filer_category,
      ein (None for the foreign filers' "000000000"), lei, website, phone, source_url, sha256
    - former_names: cik, name, date_from, date_to (ISO dates), source_url, sha256
    - filings (the "recent" block only): cik, accession, form, filing_date, report_date,
      acceptance_datetime, primary_document, primary_doc_description, items, is_xbrl,
      is_inline_xbrl, size, document_url, source_url, sha256
    - filing_pages (pages of older filings, not fetched by the refresh):
      cik, name, filing_count, filing_from, filing_to
    """
    data = _load_object(body, source_url)
    if "cik" not in data:
        raise ValueError(f"{source_url}: no 'cik' in submissions payload")
    try:
        cik = normalise_cik(data["cik"])
    except ValueError as exc:
        raise ValueError(f"{source_url}: {exc}") from exc
    filings = data.get("filings") or {}
    recent = filings.get("recent") or {}
    pages = [
        {
            "cik": cik,
            "name": _text(page.get("name")),
            "filing_count": page.get("filingCount"),
            "filing_from": _date(page.get("filingFrom")),
            "filing_to": _date(page.get("filingTo")),
        }
        for page in filings.get("files") or []
    ]
    return {
        "company": _company(data, cik, source_url, sha256),
        "former_names": _former_names(data, cik, source_url, sha256),
        "filings": _filing_rows(recent, cik, source_url, sha256) if recent else [],
        "filing_pages": pages,
    }


# ---------------------------------------------------------------- company facts


# The long row of one fact, column by column: (row key, key in the fact's JSON object).
_FACT_FIELDS = (
    ("period_start", "start"), ("period_end", "end"), ("fiscal_year", "fy"),
    ("fiscal_period", "fp"), ("form", "form"), ("filed", "filed"), ("accession", "accn"),
    ("frame", "frame"),
)  # fmt: skip
FACT_KEYS = (
    "cik", "entity_name", "taxonomy", "concept", "label", "unit", "value",
    *(key for key, _ in _FACT_FIELDS), "problem", "source_url", "sha256",
)  # fmt: skip


_NUMBER_TYPES = frozenset({int, float})  # not bool, whose facts are a problem


def _fact_problem(value: Any, end: Any) -> str | None:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return f"non-numeric value {value!r}"
    if not end:
        return "no period end"
    return None


@dataclass
class CompanyFacts:
    """A company-facts payload as columns: one list per varying row key, equal in length
    (`columns`: taxonomy, concept, label, unit, value, period_start, period_end, fiscal_year,
    fiscal_period, form, filed, accession, frame, problem); cik, entity_name, source_url and
    sha256 are the same for every fact. A company has thousands of facts: no dict each."""

    cik: str
    entity_name: str | None
    source_url: str | None
    sha256: str | None
    columns: dict[str, list[Any]]

    def __len__(self) -> int:
        return len(self.columns["value"])

    def rows(self, indexes: Iterable[int] | None = None) -> list[Row]:
        """The facts (or those at `indexes`) as the long rows of parse_companyfacts."""
        shared = {
            "cik": self.cik,
            "entity_name": self.entity_name,
            "source_url": self.source_url,
            "sha256": self.sha256,
        }
        picked = range(len(self)) if indexes is None else list(indexes)
        parts = [
            [shared[key]] * len(picked)
            if key in shared
            else (self.columns[key] if indexes is None else [self.columns[key][i] for i in picked])
            for key in FACT_KEYS
        ]
        return [dict(zip(FACT_KEYS, values, strict=True)) for values in zip(*parts, strict=True)]


def parse_companyfacts_columns(
    body: bytes | str, source_url: str | None, *, sha256: str | None = None
) -> CompanyFacts:
    """Parse api/xbrl/companyfacts/CIK##########.json into columns (see CompanyFacts and
    parse_companyfacts, whose rows these are)."""
    data = _load_object(body, source_url)
    if not isinstance(data.get("facts"), dict):
        raise ValueError(f"{source_url}: no 'facts' object in companyfacts payload")
    try:
        cik = normalise_cik(data.get("cik", ""))
    except ValueError as exc:
        raise ValueError(f"{source_url}: {exc}") from exc
    groups: list[tuple[Any, Any, Any, Any]] = []  # (taxonomy, concept, label, unit)
    sizes: list[int] = []
    facts: list[Any] = []
    for taxonomy, concepts in data["facts"].items():
        for concept, detail in concepts.items():
            label = detail.get("label")
            for unit, unit_facts in (detail.get("units") or {}).items():
                groups.append((taxonomy, concept, label, unit))
                sizes.append(len(unit_facts))
                facts.extend(unit_facts)
    columns: dict[str, list[Any]] = {}
    for position, key in enumerate(("taxonomy", "concept", "label", "unit")):
        column: list[Any] = []
        for group, size in zip(groups, sizes, strict=True):
            column.extend([group[position]] * size)
        columns[key] = column
    columns["value"] = list(map(dict.get, facts, repeat("val")))  # a third faster than a loop
    for key, field in _FACT_FIELDS:
        columns[key] = list(map(dict.get, facts, repeat(field)))
    values, ends = columns["value"], columns["period_end"]
    if all(map(_NUMBER_TYPES.__contains__, map(type, values))) and all(ends):
        columns["problem"] = [None] * len(values)  # what a company's facts almost always are
    else:
        columns["problem"] = list(map(_fact_problem, values, ends))
    return CompanyFacts(cik, _text(data.get("entityName")), source_url, sha256, columns)


def parse_companyfacts(
    body: bytes | str, source_url: str | None, *, sha256: str | None = None
) -> list[Row]:
    """Parse api/xbrl/companyfacts/CIK##########.json into one long row per reported fact.

    Row keys: cik, entity_name, taxonomy, concept, label, unit, value (int or float as filed),
    period_start (None for instants), period_end, fiscal_year and fiscal_period (SEC's fy/fp:
    the fiscal year/period of the *report* that carried the fact, not of the fact's period),
    form, filed, accession, frame, problem (None, or why the fact is unusable), source_url,
    sha256.
    """
    return parse_companyfacts_columns(body, source_url, sha256=sha256).rows()


# ---------------------------------------------------------------- tickers


def parse_company_tickers(
    body: bytes | str, source_url: str | None = None, *, sha256: str | None = None
) -> list[Row]:
    """Parse www.sec.gov/files/company_tickers.json ({"0": {"cik_str", "ticker", "title"}}).

    Row keys: cik (10-digit), ticker, title, source_url, sha256. One row per ticker, so a
    company with several share classes appears several times with the same cik.
    """
    data = _load_object(body, source_url)
    rows = []
    for key, entry in data.items():
        if not isinstance(entry, dict) or "cik_str" not in entry:
            raise ValueError(f"{source_url}: entry {key!r} has no cik_str")
        try:
            cik = normalise_cik(entry["cik_str"])
        except ValueError as exc:
            raise ValueError(f"{source_url}: entry {key!r}: {exc}") from exc
        rows.append(
            {
                "cik": cik,
                "ticker": _text(entry.get("ticker")),
                "title": _text(entry.get("title")),
                "source_url": source_url,
                "sha256": sha256,
            }
        )
    return rows
