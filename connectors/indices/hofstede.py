"""Hofstede 6-D country scores (geerthofstede.com "dimension data matrix").

Layout: ``ctr;country;pdi;idv;mas;uai;ltowvs;ivr`` (CSV: ';', CRLF, integers) or the same
sheet as Excel 97 (XLS: unrounded ltowvs/ivr values). Missing values are ``#NULL!``.
The ``ctr`` codes are Hofstede's own (GER, SAL, CHI), not ISO, so the country is taken
from the ``country`` name; ``ctr`` is kept as ``raw_code`` in the unmapped report only.
Regions ("Africa East", "Arab countries") and sub-national groups ("Belgium French",
"Germany East") are reported as aggregates, never country rows.
"""

from __future__ import annotations

from connectors.countries import resolve
from connectors.indices.common import (
    IndexParse,
    Provenance,
    add_cell,
    add_unmapped,
    find_header,
    header_key,
    is_missing,
    read_tables,
)

SOURCE = "hofstede"
INDEX = "hofstede"
DIMENSIONS = ("pdi", "idv", "mas", "uai", "ltowvs", "ivr")
RELEASE_YEAR = 2015  # the 2015-08-16 release of the 6-D file


def parse_hofstede(
    body: bytes | str, source_url: str, sha256: str | None = None, year: int = RELEASE_YEAR
) -> IndexParse:
    """Parse the 6-D file (CSV or XLS). ``year`` is the file's release year."""
    table, header_at = find_header(read_tables(body), ("country", *DIMENSIONS), "Hofstede file")
    header = [header_key(c) for c in table[header_at]]
    name_col = header.index("country")
    code_col = header.index("ctr") if "ctr" in header else None
    ignored = [
        table[header_at][i]
        for i, h in enumerate(header)
        if h not in ("ctr", "country", *DIMENSIONS)
    ]
    prov = Provenance(INDEX, SOURCE, source_url, sha256)
    result = IndexParse(ignored_columns=ignored)
    for line, cells in enumerate(table[header_at + 1 :], start=header_at + 2):
        if all(is_missing(c) for c in cells):
            continue
        cells = cells + [""] * (len(header) - len(cells))
        name = cells[name_col].strip()
        code = cells[code_col].strip() if code_col is not None else None
        found = resolve(name)
        if found.iso3 is None:
            add_unmapped(result, prov, name, code, found.kind, line)
            continue
        for dimension in DIMENSIONS:
            add_cell(
                result,
                prov,
                iso3=found.iso3,
                raw_country=name,
                column=dimension,
                dimension=dimension,
                year=year,
                raw=cells[header.index(dimension)],
                line=line,
            )
    return result
