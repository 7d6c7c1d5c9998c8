"""A table's first build writes its rows once, into the table itself (flows/build.py
_first_build): quarantined rows leave it, its state is recorded last, and a table that a
killed build left without a state is built again rather than trusted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from flows import build
from flows.db import open_work
from flows.models import ORDER
from flows.validate import Validator
from tests.flows.test_build_in_place import FIRST, _filing, _model, _night, _state
from tests.flows.test_build_partition import PARAMS


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


def test_a_table_with_rows_nobody_validated_is_emptied_before_a_build(tmp_path: Path) -> None:
    con = open_work(tmp_path, {})
    model = _model([FIRST])
    _night(con, model, "r1", 0)  # built: it has a state and keeps its rows
    con.execute("create schema if not exists staging")
    con.execute("create table staging.stg_sec__filings as select 1 as cik")  # no state
    build.empty_unbuilt(con, (model, *ORDER))
    assert _rows(con, "select count(*) from marts.partner_filings") == [(120,)]
    assert _rows(con, "select count(*) from staging.stg_sec__filings") == [(0,)]


def test_a_first_build_that_raises_leaves_its_table_empty(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    con = open_work(tmp_path, {})

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a validation bug")

    validator = Validator()
    monkeypatch.setattr(validator, "validate", broken)
    with pytest.raises(RuntimeError, match="a validation bug"):
        build.build_model(con, validator, _model([FIRST]), {}, PARAMS, "r1", "f")
    assert _rows(con, "select count(*) from marts.partner_filings") == [(0,)]
    assert not _rows(con, "select * from ops.table_state")
