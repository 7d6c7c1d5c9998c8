"""Publishing writes only the tables that moved: the new file starts as a copy of the
published one, a staging table or mart whose version did not move (and its history) keeps
its stored blocks, and the result equals the writer database table for table."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from flows.db import _tables, apply_schema, publish
from flows.landing import record_keys


def _set(con: duckdb.DuckDBPyConnection, table: str, rows: int, version: int) -> None:
    con.execute(
        f"create or replace table {table} as "  # noqa: S608 (the test's own names)
        "select range as n, 'x' || range as s from range(?)",
        [rows],
    )
    con.execute(
        "insert or replace into ops.table_state (table_name, version) values (?, ?)",
        [table, version],
    )


def _blocks(db: Path, table: str) -> list[int]:
    schema, name = table.split(".")
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            "select block_id from pragma_storage_info(?) where block_id >= 0 order by all",
            [f"{schema}.{name}"],
        ).fetchall()
    return [r[0] for r in rows]


def _contents(con: duckdb.DuckDBPyConnection, database: str) -> dict[str, list[tuple]]:
    con.execute(f"use {database}")
    try:
        return {
            f"{s}.{t}": con.execute(f'select * from {database}.{s}."{t}" order by all').fetchall()  # noqa: S608
            for s, t in _tables(con)
        }
    finally:
        con.execute("use work")


def test_only_the_moved_tables_are_written_and_the_file_equals_the_writer(
    tmp_path: Path,
) -> None:
    db = tmp_path / "published.duckdb"
    with duckdb.connect(str(tmp_path / "work.duckdb")) as con:
        apply_schema(con)
        con.execute("create schema if not exists history")
        _set(con, "staging.moves", 300_000, 1)
        _set(con, "marts.stays", 300_000, 1)
        _set(con, "history.stays", 300_000, 1)  # follows marts.stays' version
        _set(con, "staging.goes", 10, 1)
        publish(con, db, keep=0)
        before = {t: _blocks(db, t) for t in ("staging.moves", "marts.stays", "history.stays")}

        _set(con, "staging.moves", 300_001, 2)
        con.execute("drop table staging.goes")
        _set(con, "history.arrives", 300_000, 1)  # written first: a whole rewrite would
        publish(con, db, keep=0)  # move every later table's blocks

        assert _blocks(db, "marts.stays") == before["marts.stays"]
        assert _blocks(db, "history.stays") == before["history.stays"]
        assert _blocks(db, "staging.moves") != before["staging.moves"]
        con.execute(f"attach '{db}' as pub (read_only)")
        published, written = _contents(con, "pub"), _contents(con, "work")
        assert published == written
        assert "staging.goes" not in published and len(published["history.arrives"]) == 300_000


def _facts(con: duckdb.DuckDBPyConnection, version: int, input_version: int) -> None:
    con.execute(
        "insert or replace into ops.table_state (table_name, version, inputs) values (?, ?, ?)",
        ["staging.facts", version, json.dumps({"raw.facts": input_version})],
    )


def test_a_partitioned_table_gets_only_the_rows_of_the_keys_landed_since(tmp_path: Path) -> None:
    db = tmp_path / "published.duckdb"
    partitions = {"staging.facts": ("cik", "raw.facts")}
    published = "select cik, n from pub.staging.facts order by all"
    with duckdb.connect(str(tmp_path / "work.duckdb")) as con:
        apply_schema(con)
        con.execute(
            "create table staging.facts as select * from (values ('a', 1), ('b', 1)) t(cik, n)"
        )
        _facts(con, 1, 1)
        publish(con, db, keep=0, partitions=partitions)

        # raw.facts version 2 landed company b; a's row changes with no key recorded, which
        # a build never does: it shows that only b's rows are written
        record_keys(con, "raw.facts", 2, {"b"})
        con.execute("update staging.facts set n = n + 1")
        _facts(con, 2, 2)
        publish(con, db, keep=0, partitions=partitions)
        con.execute(f"attach '{db}' as pub (read_only)")
        assert con.execute(published).fetchall() == [("a", 1), ("b", 2)]
        con.execute("detach pub")

        # version 3 replaced the whole input (no keys): the whole table is written
        _facts(con, 3, 3)
        publish(con, db, keep=0, partitions=partitions)
        con.execute(f"attach '{db}' as pub (read_only)")
        assert con.execute(published).fetchall() == [("a", 2), ("b", 2)]


def test_a_large_table_that_moved_a_little_gets_only_its_changed_rows(tmp_path: Path) -> None:
    db = tmp_path / "published.duckdb"
    with duckdb.connect(str(tmp_path / "work.duckdb")) as con:
        apply_schema(con)
        _set(con, "marts.big", 300_000, 1)
        publish(con, db, keep=0)
        before = _blocks(db, "marts.big")

        con.execute("update marts.big set s = 'changed' where n in (5, 150000)")
        con.execute("delete from marts.big where n in (7, 299999)")
        con.execute("insert into marts.big values (300000, 'new')")
        con.execute("update ops.table_state set version = 2 where table_name = 'marts.big'")
        publish(con, db, keep=0)

        after = _blocks(db, "marts.big")
        assert len(set(before) & set(after)) >= len(before) - 4  # not a rewrite
        con.execute(f"attach '{db}' as pub (read_only)")
        assert _contents(con, "pub") == _contents(con, "work")
