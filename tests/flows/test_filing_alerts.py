"""Watched-form filing alerts over real DuckDB history tables (flows/history.py record, then
flows/changes.py changes and alerts): a watched form first seen in a run is an alert; an
unwatched form, a filing that is merely re-fetched, and the whole filing list of a partner
seen for the first time (just added or just given a CIK) are not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import duckdb
import pandas as pd

from flows import changes, history

T1 = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)
T2 = T1 + timedelta(days=1)
RULES = {"watch": {"forms": ["10-K", "20-F", "8-K", "6-K"]}}


def filing(partner_id: str, accession: str, form: str, fetched: datetime) -> dict[str, object]:
    return {
        "partner_id": partner_id, "cik": "0000789019", "accession": accession, "form": form,
        "filing_date": "2026-11-21", "items": "2.02" if form == "8-K" else None,
        "filing_key": f"{partner_id}:{accession}", "source_url": f"http://127.0.0.1/{fetched}",
        "fetched_at": fetched,
    }  # fmt: skip


def night(con: duckdb.DuckDBPyConnection, rows: list[dict[str, object]], run: str, at: datetime):
    con.register("rows", pd.DataFrame(rows))
    con.execute("delete from marts.partner_filings")
    con.execute("insert into marts.partner_filings by name select * from rows")
    con.unregister("rows")
    return history.record(con, "partner_filings", run, at)


def test_only_watched_forms_first_seen_of_known_partners_alert() -> None:
    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute(
        "create table marts.partner_filings (partner_id varchar, cik varchar, accession varchar, "
        "form varchar, filing_date date, items varchar, filing_key varchar, source_url varchar, "
        "fetched_at timestamptz)"
    )
    first = [
        filing("msft", "0001-25-000001", "10-K", T1),
        filing("msft", "0001-25-000002", "4", T1),
    ]
    assert night(con, first, "run1", T1) == {"opened": 2, "closed": 0}
    second = [
        *[{**row, "fetched_at": T2, "source_url": "http://127.0.0.1/again"} for row in first],
        filing("msft", "0001-25-000003", "8-K", T2),  # new, watched
        filing("msft", "0001-25-000004", "SC 13G/A", T2),  # new, not watched
        filing("snow", "0002-25-000001", "8-K", T2),  # a partner new to the mart
    ]
    assert night(con, second, "run2", T2) == {"opened": 3, "closed": 0}
    found = changes.changes(con, T2)
    assert sorted((c.what, c.key["accession"], c.partner_new) for c in found) == [
        ("new", "0001-25-000003", False),
        ("new", "0001-25-000004", False),
        ("new", "0002-25-000001", True),
    ]
    raised = changes.alerts(found, RULES, {})
    assert [(a.category, a.subject, a.text) for a in raised] == [
        ("filing", "msft", "new 8-K filed 2026-11-21 (accession 0001-25-000003, items 2.02)")
    ]
