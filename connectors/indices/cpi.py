"""Transparency International Corruption Perceptions Index (results and trends file).

Layout (CSV copy of TI's workbook, or the XLSX itself): title lines, then a header
``Country / Territory;ISO3;Region;CPI score 2024;Rank 2024;Sources 2024;Standard error 2024;...``
back to 2012. Header case varies ("CPI Score 2013"); 2012-2016 have no Rank columns.

Rows: index ``"cpi"``, dimensions ``score`` (0-100), ``rank``, ``sources`` (number of
source surveys) and ``standard_error``, one row per year present.
"""

from __future__ import annotations

import re

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

SOURCE = "cpi"
INDEX = "cpi"
_YEAR_COLUMN = re.compile(r"^(cpi score|rank|sources|standard error) (\d{4})$")
_DIMENSIONS = {
    "cpi score": "score",
    "rank": "rank",
    "sources": "sources",
    "standard error": "standard_error",
}


def parse_cpi(body: bytes | str, source_url: str, sha256: str | None = None) -> IndexParse:
    """Parse TI's CPI results-and-trends file (CSV with ';' or ',', or XLSX)."""
    table, header_at = find_header(read_tables(body), ("iso3",), "CPI file")
    header = [header_key(c) for c in table[header_at]]
    name_col = next((i for i, h in enumerate(header) if h.startswith("country")), None)
    if name_col is None:
        raise IndexFormatError("CPI file: no 'Country / Territory' column in the header")
    code_col = header.index("iso3")
    value_cols: list[tuple[int, str, int]] = []
    ignored: list[str] = []
    for i, key in enumerate(header):
        year_col = _YEAR_COLUMN.match(key)
        if year_col:
            value_cols.append((i, _DIMENSIONS[year_col.group(1)], int(year_col.group(2))))
        elif i not in (name_col, code_col) and key not in ("region", ""):
            ignored.append(table[header_at][i])
    if not any(dim == "score" for _, dim, _ in value_cols):
        raise IndexFormatError("CPI file: no 'CPI score <year>' columns in the header")

    prov = Provenance(INDEX, SOURCE, source_url, sha256)
    result = IndexParse(ignored_columns=ignored)
    for offset, cells in enumerate(table[header_at + 1 :], start=header_at + 2):
        if all(is_missing(c) for c in cells):
            continue
        cells = cells + [""] * (len(header) - len(cells))
        name, code = cells[name_col].strip(), cells[code_col].strip()
        match = classify_country(name, code)
        if match.iso3 is None:
            add_unmapped(result, prov, name, code, match.reason or "unknown", offset)
            continue
        for col, dimension, year in value_cols:
            add_cell(
                result,
                prov,
                iso3=match.iso3,
                raw_country=name,
                column=table[header_at][col],
                dimension=dimension,
                year=year,
                raw=cells[col],
                line=offset,
            )
    return result
