"""changes() matches keys inside DuckDB: the facts it reports for a hand-made history table
(new, gone, changed, moved provenance only, closed and reopened) and the first run's counts."""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb

from flows import changes

T0 = datetime(2026, 1, 1, tzinfo=UTC)  # the first run
T1 = datetime(2026, 1, 2, tzinfo=UTC)  # the second run: `since`


def _history() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("create schema history")
    con.execute(
        """
        create table history.partner_filings (
            partner_id varchar, accession varchar, form varchar, items varchar,
            fetched_at timestamptz, valid_from timestamptz, valid_to timestamptz,
            run_from varchar, run_to varchar)
        """
    )
    rows = [
        # unchanged, opened in the first run and still open
        ("p1", "a-1", "10-K", None, T0, T0, None, "r0", None),
        # gone: closed by the second run, nothing open under its key
        ("p1", "a-2", "8-K", "2.02", T0, T0, T1, "r0", "r1"),
        # changed: items moved
        ("p1", "a-3", "8-K", "5.02", T0, T0, T1, "r0", "r1"),
        ("p1", "a-3", "8-K", "5.02,9.01", T1, T1, None, "r1", None),
        # provenance only: a new fetched_at reopened it with the same facts
        ("p1", "a-4", "10-Q", None, T0, T0, T1, "r0", "r1"),
        ("p1", "a-4", "10-Q", None, T1, T1, None, "r1", None),
        # new, of a partner known before
        ("p1", "a-5", "10-K", None, T1, T1, None, "r1", None),
        # new, of a partner first seen now
        ("p2", "b-1", "20-F", None, T1, T1, None, "r1", None),
    ]
    con.executemany("insert into history.partner_filings values (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    return con


def test_changes_reports_new_gone_and_changed_facts_only() -> None:
    found = changes.changes(_history(), T1)
    got = {(c.what, c.key["accession"]): c for c in found}
    assert set(got) == {("gone", "a-2"), ("changed", "a-3"), ("new", "a-5"), ("new", "b-1")}
    assert got[("changed", "a-3")].fields == {"items": ("5.02", "5.02,9.01")}
    assert got[("gone", "a-2")].before is not None and got[("gone", "a-2")].after is None
    assert got[("new", "a-5")].partner_new is False
    assert got[("new", "b-1")].partner_new is True
    assert [c.key["accession"] for c in found] == ["a-2", "a-3", "a-5", "b-1"]  # by key


def test_first_run_counts_every_open_fact_as_new() -> None:
    con = _history()
    since = datetime.min.replace(tzinfo=UTC)
    assert changes.first_run_counts(con) == {("partner_filings", "new"): 5}
    assert {(c.what, c.key["accession"]) for c in changes.changes(con, since)} == {
        ("new", a) for a in ("a-1", "a-3", "a-4", "a-5", "b-1")
    }
    assert changes.counts(changes.changes(con, since)) == changes.first_run_counts(con)
    report = changes.markdown(changes.first_run_counts(con), [], changes.FIRST_RUN)
    assert "| partner_filings | 5 | 0 | 0 |" in report
