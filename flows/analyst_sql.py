"""Analyst SQL on the published database, and nothing else.

The connection is read-only, with DuckDB's external access disabled (no file read or
written outside the database: `copy … to`, `export database`, `attach`, `read_csv` of a
local file, `install`/`load` of an extension all fail) and its configuration locked (a
query cannot `set` that back). Every statement of a `;`-separated script runs in turn and
each result is shown. CSV export neutralises spreadsheet formulas (OWASP CSV injection).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import duckdb

from flows.db import DatabaseMissing

# Settings applied when the database is opened, before any analyst statement runs.
ANALYST_CONFIG = {"enable_external_access": False, "lock_configuration": True}
# A cell starting with one of these is read as a formula by Excel, LibreOffice or Sheets.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class StatementResult:
    sql: str
    columns: list[str]
    rows: list[tuple[Any, ...]]
    more: bool  # rows beyond the limit were left out


def connect_analyst(path: Path) -> duckdb.DuckDBPyConnection:
    if not path.exists():
        raise DatabaseMissing(f"{path} does not exist yet: run `partnerdd refresh` first")
    return duckdb.connect(str(path), read_only=True, config=dict(ANALYST_CONFIG))


def run_script(
    con: duckdb.DuckDBPyConnection, script: str, limit: int
) -> Iterator[StatementResult]:
    """Each statement of `script` in order, with its first `limit` rows (no columns for a
    statement without a result set). Raises duckdb.Error at the first statement that
    fails, after yielding the results before it."""
    for statement in con.extract_statements(script):
        cursor = con.execute(statement)
        columns = [d[0] for d in cursor.description] if cursor.description else []
        rows = cursor.fetchmany(limit + 1) if columns else []
        yield StatementResult(statement.query.strip(), columns, rows[:limit], len(rows) > limit)


def csv_cell(value: Any) -> Any:
    """A text cell a spreadsheet would evaluate gets a leading `'`: it shows as text."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def write_csv(out: IO[str], columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    writer = csv.writer(out)
    writer.writerow([csv_cell(c) for c in columns])
    for row in rows:
        writer.writerow([csv_cell(v) for v in row])
