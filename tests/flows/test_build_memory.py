"""A first build larger than the writer's memory limit builds: its work tables spill to disk
(flows/build.py SCRATCH). As temp tables they did not: DuckDB keeps a few bytes per row of
a temp table in memory, and the 81.6 M-row first build of stg_sec__facts at 10,000
partners ran out of the 256 MB limit. Here 2.5 M rows under a 36 MB limit: a temp table of
2.2 M of them does not fit (one of 1 M fits in 32 MB)."""

from __future__ import annotations

from pathlib import Path

from flows import build
from flows.db import open_work
from flows.landing import bump_version
from flows.models import ORDER
from flows.validate import Validator

ROWS = 2_500_000
CIKS = 500
PARAMS = {
    "partners": CIKS,
    "partners_with_lei": 0,
    "partners_with_cik": CIKS,
    "partners_with_website": 0,
    "index_files": 0,
    "current_year": 2026,
}


def test_a_first_build_larger_than_the_memory_limit_builds_and_quarantines(
    tmp_path: Path,
) -> None:
    con = open_work(tmp_path, {"PARTNERDD_DUCKDB_MEMORY_LIMIT": "36MB"})
    con.execute(
        "insert into raw.sec__facts select lpad((i % $ciks)::varchar, 10, '0'), 'Entity', "
        "'us-gaap', 'Assets', 'Assets', 'USD', "
        "case when i % 1000000 = 7 then null else i end, "  # 3 facts without a value
        "null, '2023-01-01', '2023-12-31', 2023, 'FY', '10-K', '2024-02-01', "
        "'0000000000-24-000001', null, null, 'https://data.sec.gov/facts.json', 'ab', "
        "timestamptz '2026-01-01 00:00:00+00' from range($rows) as t(i)",
        {"ciks": CIKS, "rows": ROWS},
    )
    bump_version(con, "raw.sec__facts", "r1")
    con.execute(
        "insert into ops.runs (run_id, started_at, status, partners) "
        "values ('r1', now(), 'running', $n)",
        {"n": CIKS},
    )
    model = next(m for m in ORDER if m.name == "stg_sec__facts")
    outcome = build.build_model(con, Validator(), model, {}, PARAMS, "r1", "f")
    assert (outcome.status, outcome.failures) == ("built", [])
    assert (outcome.validated, outcome.quarantined, outcome.loaded) == (ROWS, 3, ROWS - 3)
    built = con.execute(
        "select count(*), count(distinct cik), count(*) filter (where value is null) "
        "from staging.stg_sec__facts"
    ).fetchall()
    assert built == [(ROWS - 3, CIKS, 0)]
    quarantined = con.execute(
        "select column_name, count(*) from quarantine.stg_sec__facts group by all"
    ).fetchall()
    assert quarantined == [("value", 3)]
    build.drop_scratch(con)
    left = con.execute(
        "select count(*) from duckdb_tables() where schema_name = ?", [build.SCRATCH]
    ).fetchall()
    assert left == [(0,)]
    con.close()
