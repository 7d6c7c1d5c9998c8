"""Landing rows held column-wise (connectors.source.Columns) land exactly as the same rows
as dicts: SEC company facts with usable and unusable facts, upserted by CIK."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from connectors.sec.parse import parse_companyfacts_columns
from connectors.sec.source import _fact_columns
from connectors.source import Columns
from flows import load
from flows.db import SQL_DIR

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "sec"


class _Answer:
    sha256 = "ab" * 32
    fetched_at = datetime(2026, 1, 1, tzinfo=UTC)


ODD = {
    "cik": 5,
    "entityName": " Odd Co ",
    "facts": {
        "us-gaap": {
            "Assets": {
                "label": "Assets",
                "units": {
                    "USD": [
                        {"end": "2024-12-31", "val": "n/a", "form": "10-K"},
                        {"val": 3, "form": "10-K"},
                        {"end": "2024-12-31", "val": True},
                        {"end": "2024-06-30", "start": "2024-01-01", "val": 2.5, "fy": 2024},
                    ]
                },
            }
        }
    },
}


def _landing() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("create schema raw")
    con.execute((SQL_DIR / "raw" / "sec.sql").read_text(encoding="utf-8"))
    return con


def _facts(body: bytes) -> Columns:
    parsed = parse_companyfacts_columns(body, "facts-url", sha256=_Answer.sha256)
    return _fact_columns(parsed, _Answer())  # type: ignore[arg-type]


def test_columns_land_as_the_same_rows_as_dicts() -> None:
    bodies = [(FIXTURES / "companyfacts_CIK0001640147_SNOW.json").read_bytes()]
    bodies.append(json.dumps(ODD).encode())
    by_columns, by_rows = _landing(), _landing()
    for body in bodies:
        facts = _facts(body)
        assert load.upsert(by_columns, "raw.sec__facts", [], key="cik", columns=[facts]) == len(
            facts
        )
        load.upsert(by_rows, "raw.sec__facts", facts.rows(), key="cik")
    query = "select * from raw.sec__facts order by all"
    landed = by_columns.execute(query).fetchall()
    assert len(landed) == 8163 + 4
    assert landed == by_rows.execute(query).fetchall()
    odd = by_columns.execute(
        "select value, value_text, problem from raw.sec__facts where cik = '0000000005' "
        "order by problem nulls first"
    ).fetchall()
    assert odd == [
        (2.5, None, None),
        (None, "3", "no period end"),
        (None, "n/a", "non-numeric value 'n/a'"),
        (None, "True", "non-numeric value True"),
    ]


def test_columns_replace_their_key_and_keep_two_parts_of_one_key() -> None:
    con = _landing()
    body = json.dumps(ODD).encode()
    load.upsert(con, "raw.sec__facts", [], key="cik", columns=[_facts(body)])
    load.upsert(con, "raw.sec__facts", [], key="cik", columns=[_facts(body), _facts(body)])
    count = con.execute("select count(*) from raw.sec__facts").fetchall()[0][0]
    assert count == 8  # the first load replaced, both parts of the second kept


def test_parts_land_together_as_they_land_one_by_one() -> None:
    together, apart = _landing(), _landing()
    bodies = [(FIXTURES / "companyfacts_CIK0001640147_SNOW.json").read_bytes()]
    bodies.append(json.dumps(ODD).encode())
    load.upsert(together, "raw.sec__facts", [], key="cik", columns=[_facts(b) for b in bodies])
    for body in bodies:
        load.upsert(apart, "raw.sec__facts", [], key="cik", columns=[_facts(body)])
    query = "select * from raw.sec__facts order by all"
    assert together.execute(query).fetchall() == apart.execute(query).fetchall()


def test_parts_whose_types_differ_still_land() -> None:
    con = _landing()
    shared = {"source_url": "u", "payload_sha256": "ab" * 32, "fetched_at": _Answer.fetched_at}
    parts = [
        Columns({"cik": ["0000000009"], "value": [1.5]}, dict(shared)),
        Columns({"cik": ["0000000010"], "value": ["7"]}, dict(shared)),  # text: not one table
    ]
    assert load.upsert(con, "raw.sec__facts", [], key="cik", columns=parts) == 2
    landed = con.execute("select cik, value from raw.sec__facts order by cik").fetchall()
    assert landed == [("0000000009", 1.5), ("0000000010", 7.0)]
