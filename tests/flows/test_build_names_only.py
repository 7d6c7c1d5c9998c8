"""A column the checks name only in a column set (`columns:` / `exact_columns:`) goes to
Great Expectations as nulls (flows/build.py _selected): its values are not what a chunk's
memory is spent on. The set check still sees it, and a quarantined row is still reported
whole, with that column's real value."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from flows import build
from flows.db import open_work
from flows.landing import bump_version
from flows.models import ORDER
from flows.validate import Validator

ROWS = 500
PARAMS = {"partners": 5, "partners_with_cik": 5}
NAMES_ONLY = ["primary_document", "document_url"]  # stg_sec__filings' `columns:` list


def test_names_only_columns_go_to_gx_as_nulls_and_quarantine_keeps_their_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    con = open_work(tmp_path, {})
    con.execute(
        "insert into raw.sec__filings select 'k' || i, lpad((i % 5)::varchar, 10, '0'), "
        "case when i = 7 then 'not an accession' else '0000000001-24-' || lpad(i::varchar, 6, "
        "'0') end, '10-K', '2024-02-01', '2023-12-31', null, 'doc' || i || '.htm', null, null, "
        "'https://www.sec.gov/Archives/doc' || i || '.htm', 'https://data.sec.gov/s.json', "
        "'ab', timestamptz '2026-01-01 00:00:00+00' from range($n) as t(i)",
        {"n": ROWS},
    )
    bump_version(con, "raw.sec__filings", "r1")
    con.execute(
        "insert into ops.runs (run_id, started_at, status, partners) "
        "values ('r1', now(), 'running', 5)"
    )
    validator = Validator()
    seen: list[pd.DataFrame] = []
    validate = validator.validate

    def spy(name: str, frame: pd.DataFrame, *args: Any, **kwargs: Any) -> Any:
        seen.append(frame.copy())
        return validate(name, frame, *args, **kwargs)

    monkeypatch.setattr(validator, "validate", spy)
    monkeypatch.setattr(build, "VALIDATION_CHUNK", 200)  # several chunks
    model = next(m for m in ORDER if m.name == "stg_sec__filings")
    outcome = build.build_model(con, validator, model, {}, PARAMS, "r1", "f")
    assert (outcome.status, outcome.quarantined, outcome.loaded) == ("built", 1, ROWS - 1)
    assert len(seen) == 3
    for frame in seen:
        assert set(NAMES_ONLY) <= set(frame.columns)
        assert frame[NAMES_ONLY].isna().all().all()
        assert frame["accession"].notna().all()  # a column a check reads comes whole
    (row_json,) = con.execute(
        "select row_json from quarantine.stg_sec__filings where column_name = 'accession'"
    ).fetchone() or ("{}",)
    row = json.loads(row_json)
    assert row["accession"] == "not an accession"
    assert row["document_url"] == "https://www.sec.gov/Archives/doc7.htm"
    con.close()
