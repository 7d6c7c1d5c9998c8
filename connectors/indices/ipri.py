"""International Property Rights Index (Property Rights Alliance), when a file is available.

IPRI is not openly downloadable for this project (see IP_INDEX.md), so this parser follows
the layout of the IPRI country tables as published in the report (0-10 scores): a country
column, an optional ISO3 and year column, the overall score and the three components

====================================  =================================
header (case-insensitive, any of)     dimension
====================================  =================================
IPRI, IPRI score, overall score        ``score``
LP, legal and political environment    ``legal_political_environment``
PPR, physical property rights          ``physical_property_rights``
IPR, intellectual property rights      ``intellectual_property_rights``
====================================  =================================

The layout is an assumption checked only against a small file shaped by the team
(tests/fixtures/indices/ipri_shaped.csv); adjust ``COLUMNS`` when a real file arrives.
"""

from __future__ import annotations

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
    parse_number,
    read_tables,
)

SOURCE = "ipri"
INDEX = "ipri"
IP_INDEX = "ip_protection"
COLUMNS = {
    "ipri": "score",
    "ipri score": "score",
    "overall score": "score",
    "lp": "legal_political_environment",
    "legal and political environment": "legal_political_environment",
    "ppr": "physical_property_rights",
    "physical property rights": "physical_property_rights",
    "ipr": "intellectual_property_rights",
    "intellectual property rights": "intellectual_property_rights",
}
_NAME_COLUMNS = ("country", "economy")
_CODE_COLUMNS = ("iso3", "iso", "code")


def parse_ipri(
    body: bytes | str, source_url: str, sha256: str | None = None, year: int | None = None
) -> IndexParse:
    """Parse an IPRI country table (CSV/XLSX/XLS). ``year`` is used when no Year column."""
    tables = read_tables(body)
    table, header_at = None, -1
    for name in _NAME_COLUMNS:
        try:
            table, header_at = find_header(tables, (name,), "IPRI file")
            break
        except IndexFormatError:
            continue
    if table is None:
        raise IndexFormatError("IPRI file: no 'Country' column in the header")
    raw_header = table[header_at]
    header = [header_key(c) for c in raw_header]
    name_col = next(i for i, h in enumerate(header) if h in _NAME_COLUMNS)
    code_col = next((i for i, h in enumerate(header) if h in _CODE_COLUMNS), None)
    year_col = header.index("year") if "year" in header else None
    if year_col is None and year is None:
        raise IndexFormatError("IPRI file: no Year column; pass year=")
    value_cols = [(i, COLUMNS[h]) for i, h in enumerate(header) if h in COLUMNS]
    if not any(dim == "score" for _, dim in value_cols):
        raise IndexFormatError("IPRI file: no overall score column (IPRI / IPRI score)")
    used = {name_col, code_col, year_col, *(i for i, _ in value_cols)}
    ignored = [raw_header[i] for i in range(len(header)) if i not in used and header[i]]

    prov = Provenance(INDEX, SOURCE, source_url, sha256)
    result = IndexParse(ignored_columns=ignored)
    for line, cells in enumerate(table[header_at + 1 :], start=header_at + 2):
        if all(is_missing(c) for c in cells):
            continue
        cells = cells + [""] * (len(header) - len(cells))
        name = cells[name_col].strip()
        code = cells[code_col].strip() if code_col is not None else None
        match = classify_country(name, code)
        if match.iso3 is None:
            add_unmapped(result, prov, name, code, match.reason or "unknown", line)
            continue
        row_year = year
        if year_col is not None:
            parsed, problem = parse_number(cells[year_col])
            if parsed is None or not parsed.is_integer():
                result.rejected.append(
                    {
                        "iso3": match.iso3,
                        "raw_country": name,
                        "column": raw_header[year_col],
                        "dimension": None,
                        "year": None,
                        "raw_value": cells[year_col],
                        "reason": problem or "year missing",
                        "line": line,
                        "source": SOURCE,
                        "source_url": source_url,
                    }
                )
                continue
            row_year = int(parsed)
        assert row_year is not None
        for col, dimension in value_cols:
            add_cell(
                result,
                prov,
                iso3=match.iso3,
                raw_country=name,
                column=raw_header[col],
                dimension=dimension,
                year=row_year,
                raw=cells[col],
                line=line,
            )
    return result


def ip_protection_rows(ipri_rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """``ip_protection``/``score`` (0-10): the IPR component, or the overall IPRI score
    for a country-year that has no IPR component."""
    by_key: dict[tuple[str, int], dict[str, Mapping[str, Any]]] = {}
    for row in ipri_rows:
        if row.get("index") == INDEX:
            by_key.setdefault((row["iso3"], row["year"]), {})[row["dimension"]] = row
    out = []
    for dims in by_key.values():
        pick = (
            "intellectual_property_rights"
            if "intellectual_property_rights" in dims
            else ("score" if "score" in dims else None)
        )
        if pick is None:
            continue
        out.append(
            {
                **dims[pick],
                "index": IP_INDEX,
                "dimension": "score",
                "value": float(dims[pick]["value"]),
                "derived_from": f"ipri.{pick}",
            }
        )
    return out
