"""A model declared `-- partition by: <column>` rebuilds only the rows of the key values its
raw input landed since its last build (flows/build.py), and ends equal to a whole build:
the SEC company facts of one new or changed CIK do not rebuild every other CIK's facts."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from connectors.sec.parse import parse_companyfacts_columns
from connectors.sec.source import SPEC as SEC
from connectors.sec.source import _fact_columns
from flows import build, load
from flows.db import open_work, table_exists
from flows.landing import bump_version, record_keys
from flows.models import ORDER, SqlModel
from flows.validate import Validator

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "sec"
SNOWFLAKE = (FIXTURES / "companyfacts_CIK0001640147_SNOW.json").read_bytes()
PARAMS = {
    "partners": 3,
    "partners_with_lei": 0,
    "partners_with_cik": 3,
    "partners_with_website": 0,
    "index_files": 0,
    "current_year": 2026,
}
FACTS = next(m for m in ORDER if m.name == "stg_sec__facts")


class _Answer:
    sha256 = "cd" * 32
    fetched_at = datetime(2026, 1, 1, tzinfo=UTC)


def _company(cik: int, shift: float = 0.0, bad: bool = False) -> bytes:
    """Snowflake's real facts under another CIK; `shift` changes every value, `bad` adds a
    fact without a unit's value (quarantined)."""
    doc = json.loads(SNOWFLAKE)
    doc["cik"] = cik
    for concept in doc["facts"]["us-gaap"].values():
        for facts in concept["units"].values():
            for fact in facts:
                fact["val"] = fact["val"] + shift
    if bad:
        doc["facts"]["us-gaap"]["Assets"]["units"]["USD"].append(
            {"end": "2024-12-31", "val": "n/a", "form": "10-K"}
        )
    return json.dumps(doc).encode()


def _land(
    con: duckdb.DuckDBPyConnection, run: str, bodies: list[bytes], keyed: bool = True
) -> None:
    """What landing does for raw.sec__facts: upsert by CIK, a new version, its keys."""
    parts = [
        _fact_columns(parse_companyfacts_columns(b, "facts-url", sha256=_Answer.sha256), _Answer())  # type: ignore[arg-type]
        for b in bodies
    ]
    load.upsert(con, "raw.sec__facts", [], "cik" if keyed else None, columns=parts)
    version = bump_version(con, "raw.sec__facts", run)
    if keyed:
        record_keys(con, "raw.sec__facts", version, {str(p.constant["cik"]) for p in parts})
    con.execute(
        "insert into ops.runs (run_id, started_at, status, partners) "
        "values (?, now(), 'running', 3)",
        [run],
    )


def _build(con: duckdb.DuckDBPyConnection, validator: Validator, run: str) -> tuple[Any, int]:
    """The outcome and how many rows the build computed (its work table, before cleanup;
    a first build computes them into the table itself, every row of it)."""
    outcome = build.build_model(con, validator, FACTS, {}, PARAMS, run, "f")
    if table_exists(con, build.ROWS):
        computed = int(load.scalar(con, f"select count(*) from {build.ROWS}"))  # noqa: S608
    else:
        computed = outcome.rows_in
    build.drop_scratch(con)
    build.prune_landed_keys(con, ORDER)
    return outcome, computed


def _state(con: duckdb.DuckDBPyConnection) -> tuple[list[Any], list[Any]]:
    table = con.execute("select * from staging.stg_sec__facts order by all").fetchall()
    quarantine = con.execute(
        "select expectation, column_name, reason, row_json->>'cik' "
        "from quarantine.stg_sec__facts order by all"
    ).fetchall()
    return table, quarantine


def test_the_facts_model_is_partitioned_by_the_landing_key() -> None:
    assert FACTS.partition == SEC.landing["raw.sec__facts"] == "cik"
    for model in ORDER:
        if model.partition is not None and isinstance(model, SqlModel):
            assert f"{model.partition} as {model.partition}," in load.model_sql(
                model.layer, model.name
            )


def test_a_partial_build_rebuilds_only_the_landed_ciks_and_equals_a_whole_build(
    tmp_path: Path,
) -> None:
    validator = Validator()
    per_company = len(parse_companyfacts_columns(SNOWFLAKE, "u", sha256="x").columns["value"])
    (tmp_path / "nightly").mkdir()
    (tmp_path / "whole").mkdir()
    con = open_work(tmp_path / "nightly", {})
    _land(con, "r1", [_company(1), _company(7, bad=True)])
    first, computed = _build(con, validator, "r1")
    assert first.status == "built" and first.quarantined == 1 and computed == 2 * per_company + 1

    # the next night: company 1 changed, company 2 is new; company 7 is not touched
    _land(con, "r2", [_company(1, shift=1.0), _company(2)])
    second, computed = _build(con, validator, "r2")
    assert computed == 2 * per_company  # not company 7's rows
    # company 2's facts are all new, company 1's changed where a value moved
    assert second.status == "built" and per_company < second.validated <= 2 * per_company
    assert second.rows_in == second.loaded == 3 * per_company  # 7's reject stays out
    assert con.execute("select count(*) from ops.landed_keys").fetchone() == (0,)
    partial = _state(con)
    assert [q[3] for q in partial[1]] == ["0000000007"]  # company 7's reject kept

    # the same raw rows built whole in one go
    whole_con = open_work(tmp_path / "whole", {})
    _land(whole_con, "r1", [_company(1, shift=1.0), _company(2), _company(7, bad=True)])
    _build(whole_con, validator, "r1")
    assert partial == _state(whole_con)

    # a version that replaced the whole input without keys: built whole again
    _land(con, "r3", [_company(1, shift=1.0), _company(2), _company(7)], keyed=False)
    third, computed = _build(con, validator, "r3")
    assert computed == 3 * per_company  # every row (company 7 now clean)
    assert third.quarantined == 0 and _state(con)[1] == []
