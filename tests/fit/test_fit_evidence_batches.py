"""marts.partner_fit_evidence is computed a batch of partners at a time (each batch's facts
loaded with it, its frame landed before the next is computed): the mart, its history and its
quarantine end as a build of all partners at once leaves them, over a first build, a build of
some partners and a whole rebuild in place; and a batch holds a fraction of what the whole
computation held (at 10,000 partners the whole peaked at 1.8 GB)."""

from __future__ import annotations

import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from connectors.config import load_settings
from flows import build
from flows.landing import bump_version
from flows.marts import partner_fit_evidence
from flows.models import ORDER
from flows.validate import Validator
from tests.fit.warehouse import HOME, empty_warehouse, partner, put

CHECKS = """
partner_fit_evidence:
  rows: {min: 1}
  checks:
    evidence_key: [not_null, unique]
    score: {between: {min: 0, max: 60}}
"""
PARTNERS = 7
COUNTRIES = ("DEU", "IND", "JPN", "USA")
CONTEXT = {"home": HOME, "env": {}, "run_id": "test", "settings": load_settings({})}
MODEL = next(m for m in ORDER if m.name == "partner_fit_evidence")


def _warehouse(path: Path, partners: int) -> duckdb.DuckDBPyConnection:
    con = empty_warehouse(path)
    for iso3, rl in zip(COUNTRIES, (1.5, -0.4, 1.2, 0.9), strict=True):
        put(
            con,
            "marts.country_profile",
            {"iso3": iso3, "index_name": "wgi", "dimension": "rl", "year": 2023, "value": rl},
        )
    for i in range(partners):
        partner(
            con,
            f"p{i:04d}",
            COUNTRIES[i % len(COUNTRIES)],
            employees_site=str(50 * (i + 1)),
            sanctions_hit_count=i % 3,
        )
    return con


def _night(
    con: duckdb.DuckDBPyConnection, validator: Validator, run: str, day: int
) -> build.ModelOutcome:
    con.execute(
        "insert into ops.runs (run_id, started_at, status, partners) values (?, ?, 'running', ?)",
        [run, datetime(2026, 11, 1, tzinfo=UTC) + timedelta(days=day), PARTNERS],
    )
    params = {"partners": PARTNERS}
    outcome = build.build_model(con, validator, MODEL, CONTEXT, params, run, "config")
    build.drop_scratch(con)
    return outcome


def _profile_moved(con: duckdb.DuckDBPyConnection, run: str, ids: list[str], keyed: bool) -> None:
    """Some partners' profiles changed; with `keyed`, the version records which (as a build
    in place of partner_profile does), so only they are computed again."""
    con.execute(
        "update marts.partner_profile "
        "set employees_site = (employees_site::integer + 1000)::varchar "
        "where partner_id in (select unnest($ids::varchar[]))",
        {"ids": ids},
    )
    version = bump_version(con, "marts.partner_profile", run)
    if keyed:
        con.execute(
            "insert into ops.landed_keys select 'marts.partner_profile(partner_id)', $v, "
            "unnest($ids::varchar[])",
            {"v": version, "ids": ids},
        )


def _state(con: duckdb.DuckDBPyConnection) -> list[list[Any]]:
    return [
        con.execute(sql).fetchall()
        for sql in (
            "select * from marts.partner_fit_evidence order by all",
            "select * from history.partner_fit_evidence order by all",
            "select * exclude (quarantined_at) from quarantine.partner_fit_evidence order by all",
        )
    ]


def _nights(tmp_path: Path, name: str, batch: int, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    monkeypatch.setattr(partner_fit_evidence, "BATCH_PARTNERS", batch)
    (tmp_path / "checks").mkdir(exist_ok=True)
    (tmp_path / "checks" / "marts.yml").write_text(CHECKS)
    validator = Validator(expectations_dir=tmp_path / "checks")
    con = _warehouse(tmp_path / f"{name}.duckdb", PARTNERS)
    bump_version(con, "marts.partner_profile", "r0")
    outcomes = [_night(con, validator, "r1", 1)]  # first build
    _profile_moved(con, "r2", ["p0001", "p0002", "p0005"], keyed=True)
    outcomes.append(_night(con, validator, "r2", 2))  # of these partners only
    _profile_moved(con, "r3", ["p0006"], keyed=False)
    outcomes.append(_night(con, validator, "r3", 3))  # every partner, in place
    frames = len(list(partner_fit_evidence.compute(con, CONTEXT)))
    state = _state(con)
    con.close()
    summary = [(o.status, o.rows_in, o.validated, o.quarantined, o.history) for o in outcomes]
    return [summary, frames, *state]


def test_evidence_built_in_batches_equals_it_built_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outcomes, frames, *batched = _nights(tmp_path, "batched", 2, monkeypatch)
    whole_outcomes, whole_frames, *whole = _nights(tmp_path, "whole", 1000, monkeypatch)
    assert (frames, whole_frames) == (4, 1)
    assert outcomes == whole_outcomes
    assert batched == whole
    table, history, quarantine = batched
    assert [o[0] for o in outcomes] == ["built"] * 3
    assert outcomes[1][2] < outcomes[0][2]  # the second night validated the 3 partners' rows
    assert quarantine and any(row[-1] is not None for row in history)  # closed rows
    assert {row[0] for row in table} == {f"p{i:04d}" for i in range(PARTNERS)}


def test_a_batch_holds_a_fraction_of_the_whole_computation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    con = _warehouse(tmp_path / "w.duckdb", 400)

    def peak(batch: int) -> tuple[int, int]:
        """Peak traced memory while the frames are consumed one at a time, and the rows."""
        monkeypatch.setattr(partner_fit_evidence, "BATCH_PARTNERS", batch)
        rows = 0
        tracemalloc.start()
        try:
            for frame in partner_fit_evidence.compute(con, CONTEXT):
                rows += len(frame)
                del frame
            return tracemalloc.get_traced_memory()[1], rows
        finally:
            tracemalloc.stop()

    whole, whole_rows = peak(1000)
    batched, batched_rows = peak(50)
    con.close()
    assert batched_rows == whole_rows > 400 * 10
    assert batched < whole / 3, (batched, whole)
