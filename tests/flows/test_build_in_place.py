"""A mart whose new build differs in a few rows is brought up to date in place: the rows
gone are deleted, the changed ones inserted, and its history looks only at those rows
(flows/build.py, flows/history.py). The table and its history end exactly as a rewrite of
the whole mart leaves them, quarantine included."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from flows import build
from flows.db import open_work
from flows.models import PythonModel
from flows.validate import Validator
from tests.flows.test_build_partition import PARAMS

FETCHED = datetime(2026, 11, 1, tzinfo=UTC)


def _filing(
    partner: int, n: int, form: str = "10-K", fetched: datetime = FETCHED
) -> dict[str, Any]:
    return {
        "partner_id": f"p{partner}",
        "cik": f"{partner:010d}",
        "accession": f"0000{partner}-26-{n:06d}",
        "form": form,
        "filing_date": f"2026-{1 + n % 12:02d}-01",
        "report_date": None,
        "primary_document": f"d{n}.htm",
        "document_url": f"https://www.sec.gov/Archives/edgar/data/{partner}/d{n}.htm",
        "filing_key": f"p{partner}:{n}",
        "source_url": f"https://data.sec.gov/submissions/CIK{partner:010d}.json",
        "fetched_at": fetched,
    }


FIRST = [_filing(p, n) for p in (1, 2, 3) for n in range(40)]


def _next_night() -> list[dict[str, Any]]:
    rows = [dict(r) for r in FIRST if r["filing_key"] != "p2:5"]  # a filing withdrawn
    rows[0]["form"] = "10-K/A"  # a fact changed
    rows[1]["fetched_at"] = FETCHED + timedelta(days=1)  # fetched again, same facts
    rows.append(_filing(3, 99, form="8-K"))  # a new filing
    rows.append({**_filing(3, 100), "form": None})  # quarantined: form is not_null
    return rows


def _model(frames: list[list[dict[str, Any]]]) -> PythonModel:
    def compute(con: duckdb.DuckDBPyConnection, context: dict[str, Any]) -> pd.DataFrame:
        return pd.DataFrame(frames[0])

    return PythonModel("partner_filings", compute)


def _night(con: duckdb.DuckDBPyConnection, model: PythonModel, run: str, day: int) -> Any:
    con.execute(
        "insert into ops.runs (run_id, started_at, status, partners) values (?, ?, 'running', 3)",
        [run, FETCHED + timedelta(days=day)],
    )
    outcome = build.build_model(con, Validator(), model, {}, PARAMS, run, "f")
    build.drop_scratch(con)
    return outcome


def _state(con: duckdb.DuckDBPyConnection) -> list[list[Any]]:
    return [
        con.execute(sql).fetchall()
        for sql in (
            "select * from marts.partner_filings order by all",
            "select * exclude (valid_to, run_to), valid_to, run_to "
            "from history.partner_filings order by all",
            "select expectation, column_name, row_json->>'filing_key' "
            "from quarantine.partner_filings order by all",
        )
    ]


def _two_nights(
    tmp_path: Path, name: str, monkeypatch: pytest.MonkeyPatch, in_place: bool
) -> tuple[list[list[Any]], list[bool], Any]:
    used: list[bool] = []
    gone_rows = build._gone_rows

    def spy(*args: Any) -> bool:
        used.append(gone_rows(*args) and in_place)
        return used[-1]

    monkeypatch.setattr(build, "_gone_rows", spy)
    (tmp_path / name).mkdir()
    con = open_work(tmp_path / name, {})
    frames = [FIRST]
    model = _model(frames)
    _night(con, model, "r1", 0)
    frames[0] = _next_night()
    second = _night(con, model, "r2", 1)
    return _state(con), used, second


def test_a_few_changed_rows_are_written_in_place_and_end_as_a_rewrite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    in_place, used, second = _two_nights(tmp_path, "in-place", monkeypatch, True)
    assert used == [True]  # the second night went in place
    assert second.validated == 4 and second.quarantined == 1
    assert second.history == {"opened": 2, "closed": 2}  # 10-K/A and the 8-K; 10-K and p2:5
    rewritten, used, _ = _two_nights(tmp_path, "rewrite", monkeypatch, False)
    assert used == [False]
    assert in_place == rewritten
    table, history, quarantine = in_place
    assert len(table) == 120  # 120 - withdrawn + new; the quarantined row stays out
    assert quarantine == [("expect_column_values_to_not_be_null", "form", "p3:100")]
    open_forms = sorted(r[3] for r in history if "p1:0" in r and r[-2] is None)
    assert open_forms == ["10-K/A"]
