"""A table's first build writes its rows once, into the table itself (flows/build.py
_first_build): quarantined rows leave it, its state is recorded last, and a table that a
killed build left without a state is built again rather than trusted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from flows import build
from flows.db import open_work
from tests.flows.test_build_in_place import FIRST, _filing, _model, _night, _state


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[Any, ...]]:
    return con.execute(sql).fetchall()


def test_a_first_build_quarantines_its_bad_rows_and_records_its_state(tmp_path: Path) -> None:
    con = open_work(tmp_path, {})
    rows = [*FIRST, {**_filing(3, 100), "form": None}]  # form is not_null
    outcome = _night(con, _model([rows]), "r1", 0)
    assert (outcome.status, outcome.validated, outcome.quarantined, outcome.loaded) == (
        "built",
        121,
        1,
        120,
    )
    table, history, quarantine = _state(con)
    assert len(table) == 120 and None not in {r[3] for r in table}
    assert quarantine == [("expect_column_values_to_not_be_null", "form", "p3:100")]
    assert len(history) == 120  # every row opens
    state = _rows(
        con, "select row_count from ops.table_state where table_name = 'marts.partner_filings'"
    )
    assert state == [(120,)]
    assert not _rows(con, "select * from duckdb_tables() where schema_name = 'build_scratch'")


def test_a_table_a_killed_first_build_left_is_built_again(tmp_path: Path) -> None:
    con = open_work(tmp_path, {})
    rows = [*FIRST, {**_filing(3, 100), "form": None}]
    model = _model([rows])
    # what a build killed after writing the table and before recording its state leaves:
    # every row, the one that fails validation too, and no ops.table_state row
    source = build._model_source(con, model, {})
    con.execute("create schema if not exists marts")
    con.execute(f"create table marts.partner_filings as select * from {source}")  # noqa: S608
    build.drop_scratch(con)
    outcome = _night(con, model, "r1", 0)
    assert (outcome.status, outcome.validated, outcome.quarantined) == ("built", 121, 1)
    table, _, quarantine = _state(con)
    assert len(table) == 120 and None not in {r[3] for r in table}
    assert quarantine == [("expect_column_values_to_not_be_null", "form", "p3:100")]
