"""Shared pieces of the country-index parsers: tables from CSV/XLSX/XLS bytes, country
classification, number cells and the parse result with its report lists.

Every parser returns an :class:`IndexParse`:

* ``rows``      one dict per (country, dimension, year) value:
                ``iso3, index, dimension, year, value, source, source_url, sha256, raw_country``
* ``unmapped``  one dict per data line whose country is not a country row:
                ``raw_country, raw_code, reason, line, source, source_url``; ``reason`` is
                ``"aggregate"`` (region or sub-national group), ``"unknown"`` (not resolvable)
                or ``"conflict"`` (name and code resolve to different countries)
* ``rejected``  one dict per cell that holds text where a number belongs (quarantine):
                ``iso3, raw_country, column, dimension, year, raw_value, reason, line, source,
                source_url``
* ``missing``   one dict per cell the publisher marks as missing (empty, ``#NULL!``):
                ``iso3, raw_country, column, dimension, year, raw_value, line, source``
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass, field
from typing import Any

from connectors import xlsx
from connectors.countries import resolve

MISSING_MARKERS = frozenset({"", "#null!", "..", "n/a", "na", "-", "#n/a"})
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"


class IndexFormatError(ValueError):
    """The payload does not have the layout the parser expects (names what is missing)."""


@dataclass
class IndexParse:
    rows: list[dict[str, Any]] = field(default_factory=list)
    unmapped: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    missing: list[dict[str, Any]] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)

    def extend(self, other: IndexParse) -> None:
        self.rows.extend(other.rows)
        self.unmapped.extend(other.unmapped)
        self.rejected.extend(other.rejected)
        self.missing.extend(other.missing)
        self.ignored_columns.extend(other.ignored_columns)


def decode_text(body: bytes | str) -> str:
    """UTF-8 (BOM stripped) when valid, else cp1252 (the Heritage file), never lossy."""
    if isinstance(body, str):
        return body.lstrip("\ufeff")
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError:
        return body.decode("cp1252")


def sniff_delimiter(text: str) -> str:
    """';' or ',' or tab, whichever the first non-empty line uses most."""
    first = next((line for line in text.splitlines() if line.strip(";, \t")), "")
    counts = {d: first.count(d) for d in (";", ",", "\t")}
    return max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def _xlsx_tables(body: bytes) -> list[list[list[str]]]:
    return [[[_cell_text(v) for v in row] for row in sheet] for sheet in xlsx.sheets(body)]


def _xls_tables(body: bytes) -> list[list[list[str]]]:
    import xlrd

    workbook = xlrd.open_workbook(file_contents=body)
    tables = []
    for sheet in workbook.sheets():
        table = []
        for r in range(sheet.nrows):
            cells = []
            for cell in sheet.row(r):
                if cell.ctype == xlrd.XL_CELL_ERROR:
                    cells.append(xlrd.error_text_from_code.get(cell.value, "#ERROR"))
                else:
                    cells.append(_cell_text(cell.value))
            table.append(cells)
        tables.append(table)
    return tables


def read_tables(body: bytes | str) -> list[list[list[str]]]:
    """All tables in a payload: one per sheet for XLSX/XLS, one for CSV (delimiter sniffed).

    Cells are strings; workbook numbers keep full precision (``repr``), whole numbers
    lose the ``.0``; XLS error cells become their Excel text (``#NULL!``).
    """
    if isinstance(body, bytes) and body.startswith(_ZIP_MAGIC):
        return _xlsx_tables(body)
    if isinstance(body, bytes) and body.startswith(_OLE2_MAGIC):
        return _xls_tables(body)
    text = decode_text(body)
    return [list(csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text)))]


def header_key(cell: str) -> str:
    """Header cell compared case- and whitespace-insensitively ('Investment Freedom ')."""
    return " ".join(cell.split()).casefold()


def find_header(
    tables: list[list[list[str]]], required: tuple[str, ...], what: str
) -> tuple[list[list[str]], int]:
    """The first table and row index whose header cells include every ``required`` key."""
    for table in tables:
        for index, row in enumerate(table[:50]):
            keys = {header_key(c) for c in row}
            if all(r in keys for r in required):
                return table, index
    raise IndexFormatError(f"{what}: no header row with columns {list(required)}")


@dataclass(frozen=True)
class CountryMatch:
    iso3: str | None
    reason: str | None  # None when iso3 is set


def classify_country(name: str, code: str | None = None) -> CountryMatch:
    """Resolve a publisher's country name (and ISO code when the file has one).

    The code wins when both resolve to the same country or the name does not resolve;
    two different countries are a conflict. Aggregates stay out of country rows.
    """
    by_name = resolve(name)
    by_code = resolve(code) if code and code.strip() else None
    if by_code is not None and by_code.kind == "country":
        if by_name.kind == "country" and by_name.iso3 != by_code.iso3:
            return CountryMatch(None, "conflict")
        if by_name.kind == "aggregate":
            return CountryMatch(None, "aggregate")
        return CountryMatch(by_code.iso3, None)
    if by_name.kind == "country":
        return CountryMatch(by_name.iso3, None)
    if by_name.kind == "aggregate" or (by_code is not None and by_code.kind == "aggregate"):
        return CountryMatch(None, "aggregate")
    return CountryMatch(None, "unknown")


def parse_number(raw: str) -> tuple[float | None, str | None]:
    """(value, None) for a plain number, (None, None) for a missing marker,
    (None, reason) for text that is not a plain number (never guessed)."""
    text = raw.strip()
    if text.casefold() in MISSING_MARKERS:
        return None, None
    if _NUMBER.fullmatch(text):
        value = float(text)
        if math.isfinite(value):
            return value, None
    return None, f"not a plain number: {raw!r} (left unparsed, not guessed)"


def is_missing(raw: str) -> bool:
    return raw.strip().casefold() in MISSING_MARKERS


@dataclass(frozen=True)
class Provenance:
    index: str
    source: str
    source_url: str
    sha256: str | None = None


def add_unmapped(
    result: IndexParse,
    prov: Provenance,
    raw_country: str,
    raw_code: str | None,
    reason: str,
    line: int,
) -> None:
    result.unmapped.append(
        {
            "raw_country": raw_country,
            "raw_code": raw_code,
            "reason": reason,
            "line": line,
            "source": prov.source,
            "source_url": prov.source_url,
        }
    )


def add_cell(
    result: IndexParse,
    prov: Provenance,
    *,
    iso3: str,
    raw_country: str,
    column: str,
    dimension: str,
    year: int,
    raw: str,
    line: int,
) -> None:
    """Turn one cell into a value row, a missing entry or a rejected entry."""
    value, problem = parse_number(raw)
    where = {
        "iso3": iso3,
        "raw_country": raw_country,
        "column": column,
        "dimension": dimension,
        "year": year,
    }
    if problem is not None:
        result.rejected.append(
            {
                **where,
                "raw_value": raw,
                "reason": problem,
                "line": line,
                "source": prov.source,
                "source_url": prov.source_url,
            }
        )
        return
    if value is None:
        result.missing.append({**where, "raw_value": raw, "line": line, "source": prov.source})
        return
    result.rows.append(
        {
            "iso3": iso3,
            "index": prov.index,
            "dimension": dimension,
            "year": year,
            "value": value,
            "source": prov.source,
            "source_url": prov.source_url,
            "sha256": prov.sha256,
            "raw_country": raw_country,
        }
    )
