"""A large batch goes to Great Expectations with its null/in-set-only text columns as pandas
categoricals (flows/build.py _categorical): the same rows are quarantined for the same
reasons as when every column comes as text, and the built table is the same."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.sec.parse import parse_companyfacts_columns
from connectors.sec.source import _fact_columns
from flows import build, load
from flows.db import open_work
from flows.landing import bump_version
from flows.models import ORDER
from flows.validate import Validator

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "sec"
PARAMS = {
    "partners": 2,
    "partners_with_lei": 0,
    "partners_with_cik": 2,
    "partners_with_website": 0,
    "index_files": 0,
    "current_year": 2026,
}


class _Answer:
    sha256 = "cd" * 32
    fetched_at = datetime(2026, 1, 1, tzinfo=UTC)


# Facts GX must reject: a missing unit, a non-numeric value, a period end in the future.
BAD = {
    "cik": 7,
    "entityName": "Bad Facts Inc.",
    "facts": {
        "us-gaap": {
            "Assets": {
                "label": "Assets",
                "units": {
                    "USD": [
                        {"end": "2024-12-31", "val": "n/a", "form": "10-K"},
                        {"end": "2024-12-31", "val": 1, "filed": "2999-01-01"},
                        {"end": "2024-12-31", "val": 2, "form": "10-K"},
                    ]
                },
            }
        }
    },
}


def _build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, from_rows: int) -> tuple:
    monkeypatch.setattr(build, "CATEGORICAL_FROM_ROWS", from_rows)
    monkeypatch.setattr(build, "VALIDATION_CHUNK", 3000)  # several chunks of the facts
    tmp_path.mkdir()
    con = open_work(tmp_path, {})
    for body in (
        (FIXTURES / "companyfacts_CIK0001640147_SNOW.json").read_bytes(),
        json.dumps(BAD).encode(),
    ):
        facts = parse_companyfacts_columns(body, "facts-url", sha256=_Answer.sha256)
        load.upsert(con, "raw.sec__facts", [], "cik", columns=[_fact_columns(facts, _Answer())])  # type: ignore[arg-type]
    con.execute("update raw.sec__facts set unit = null where cik = '0000000007' and value = 2")
    bump_version(con, "raw.sec__facts", "r1")
    con.execute(
        "insert into ops.runs (run_id, started_at, status, partners) "
        "values ('r1', now(), 'running', 2)"
    )
    model = next(m for m in ORDER if m.name == "stg_sec__facts")
    outcome = build.build_model(con, Validator(), model, {}, PARAMS, "r1", "f")
    quarantine = con.execute(
        "select row_index, expectation, column_name, reason, row_json "
        "from quarantine.stg_sec__facts order by all"
    ).fetchall()
    table = con.execute("select * from staging.stg_sec__facts order by all").fetchall()
    enums = "select count(*) from duckdb_types() where starts_with(type_name, ?)"
    made = con.execute(enums, [build.ENUM_PREFIX]).fetchall()[0][0]
    build.drop_scratch(con)
    left = con.execute(enums, [build.ENUM_PREFIX]).fetchall()[0][0]
    con.close()
    return outcome, quarantine, table, (made, left)


def test_categorical_columns_quarantine_the_same_rows_for_the_same_reasons(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = _build(tmp_path / "text", monkeypatch, from_rows=10**12)
    coded = _build(tmp_path / "coded", monkeypatch, from_rows=0)
    outcome, quarantine, table, left = coded
    assert outcome.status == "built" and outcome.validated == 8163 + 3
    reasons = {(q[1], q[2]) for q in quarantine}
    assert reasons == {
        ("expect_column_values_to_not_be_null", "value"),
        ("expect_column_values_to_not_be_null", "unit"),
        ("expect_column_values_to_be_in_set", "dates_not_in_future"),
    }
    assert outcome.quarantined == 3 and len(table) == 8163
    assert (quarantine, table) == (text[1], text[2])
    assert text[3] == (0, 0)
    # cik, taxonomy, concept, unit, source_url went as categoricals; their types are dropped
    assert left == (5, 0)
