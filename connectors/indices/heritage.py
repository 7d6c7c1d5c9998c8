"""Heritage Foundation Index of Economic Freedom (yearly data file, 2019 layout).

Layout: ``CountryID,Country Name,WEBNAME,Region,World Rank,Region Rank,2019 Score,
Property Rights,Judical Effectiveness,Government Integrity,...`` (cp1252, header cells with
trailing spaces, "Judical" misspelt). Index ``"heritage"``, one dimension per known column
(snake_case, see ``COLUMNS``); ``<year> Score`` becomes ``overall_score`` and gives the year.

Text in a numeric cell ("40.0 (2015 est.)", "$1,700 (2015 est.)", "38,000 ppl.") is not
guessed: the cell goes to ``rejected`` with the raw text and the reason, and no value row
is written for it. Empty cells go to ``missing``.

``ip_protection_rows`` turns Property Rights (0-100) into the ``ip_protection`` index,
dimension ``score``, on a 0-10 scale comparable to IPRI (see IP_INDEX.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from connectors.indices.common import (
    IndexFormatError,
    IndexParse,
    Provenance,
    add_cell,
    add_unmapped,
    classify_country,
    find_header,
    header_key,
    is_missing,
    read_tables,
)

SOURCE = "heritage"
INDEX = "heritage"
IP_INDEX = "ip_protection"
_SCORE_COLUMN = re.compile(r"^(\d{4}) score$")
_NON_VALUE_COLUMNS = frozenset({"countryid", "country name", "webname", "region"})
COLUMNS = {
    "world rank": "world_rank",
    "region rank": "region_rank",
    "property rights": "property_rights",
    "judical effectiveness": "judicial_effectiveness",
    "judicial effectiveness": "judicial_effectiveness",
    "government integrity": "government_integrity",
    "tax burden": "tax_burden",
    "gov't spending": "government_spending",
    "government spending": "government_spending",
    "fiscal health": "fiscal_health",
    "business freedom": "business_freedom",
    "labor freedom": "labor_freedom",
    "monetary freedom": "monetary_freedom",
    "trade freedom": "trade_freedom",
    "investment freedom": "investment_freedom",
    "financial freedom": "financial_freedom",
    "tariff rate (%)": "tariff_rate_pct",
    "income tax rate (%)": "income_tax_rate_pct",
    "corporate tax rate (%)": "corporate_tax_rate_pct",
    "tax burden % of gdp": "tax_burden_pct_gdp",
    "gov't expenditure % of gdp": "government_expenditure_pct_gdp",
    "population (millions)": "population_millions",
    "gdp (billions, ppp)": "gdp_billions_ppp",
    "gdp growth rate (%)": "gdp_growth_pct",
    "5 year gdp growth rate (%)": "gdp_growth_5y_pct",
    "gdp per capita (ppp)": "gdp_per_capita_ppp",
    "unemployment (%)": "unemployment_pct",
    "inflation (%)": "inflation_pct",
    "fdi inflow (millions)": "fdi_inflow_millions",
    "public debt (% of gdp)": "public_debt_pct_gdp",
}
REQUIRED_DIMENSIONS = ("property_rights", "judicial_effectiveness", "government_integrity")


def parse_heritage(body: bytes | str, source_url: str, sha256: str | None = None) -> IndexParse:
    """Parse the Index of Economic Freedom data file (CSV in cp1252/UTF-8, XLSX or XLS)."""
    table, header_at = find_header(read_tables(body), ("country name",), "Heritage file")
    raw_header = table[header_at]
    header = [header_key(c) for c in raw_header]
    year: int | None = None
    value_cols: list[tuple[int, str]] = []
    ignored: list[str] = []
    for i, key in enumerate(header):
        score = _SCORE_COLUMN.match(key)
        if score:
            year = int(score.group(1))
            value_cols.append((i, "overall_score"))
        elif key in COLUMNS:
            value_cols.append((i, COLUMNS[key]))
        elif key not in _NON_VALUE_COLUMNS and key:
            ignored.append(raw_header[i])
    if year is None:
        raise IndexFormatError("Heritage file: no '<year> Score' column, cannot tell the year")
    found = {dim for _, dim in value_cols}
    lacking = [d for d in REQUIRED_DIMENSIONS if d not in found]
    if lacking:
        raise IndexFormatError(f"Heritage file: columns for {lacking} not found in the header")

    name_col = header.index("country name")
    prov = Provenance(INDEX, SOURCE, source_url, sha256)
    result = IndexParse(ignored_columns=ignored)
    for line, cells in enumerate(table[header_at + 1 :], start=header_at + 2):
        if all(is_missing(c) for c in cells):
            continue
        cells = cells + [""] * (len(header) - len(cells))
        name = cells[name_col].strip()
        match = classify_country(name)
        if match.iso3 is None:
            add_unmapped(result, prov, name, None, match.reason or "unknown", line)
            continue
        for col, dimension in value_cols:
            add_cell(
                result,
                prov,
                iso3=match.iso3,
                raw_country=name,
                column=raw_header[col].strip(),
                dimension=dimension,
                year=year,
                raw=cells[col],
                line=line,
            )
    return result


def ip_protection_rows(heritage_rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """``ip_protection``/``score`` rows (0-10) from Heritage ``property_rights`` (0-100)."""
    out = []
    for row in heritage_rows:
        if row.get("index") != INDEX or row.get("dimension") != "property_rights":
            continue
        out.append(
            {
                **row,
                "index": IP_INDEX,
                "dimension": "score",
                "value": float(row["value"]) / 10.0,
                "derived_from": "heritage.property_rights / 10",
            }
        )
    return out
