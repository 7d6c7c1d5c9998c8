"""Shared fixtures: real loopback servers over recorded payloads and one Prefect harness."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

FIXTURES = Path(__file__).parent / "fixtures"


def fixture_bytes(source: str, name: str) -> bytes:
    return (FIXTURES / source / name).read_bytes()


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


PUBLISHED_RAW = ("raw.partners", "raw.responses")


def table_counts(db: Path, tables: tuple[str, ...]) -> dict[str, int]:
    """Row count per table, read-only: what an idempotent rerun must leave unchanged.
    Landing tables (raw.<source>__<entity>) live in the writer database of the store."""
    import duckdb

    from flows.db import store_path

    query = "select count(*) from {}"  # table names come from the tests' own constants
    counts = {}
    with (
        duckdb.connect(str(db), read_only=True) as published,
        duckdb.connect(str(store_path(db) / "work.duckdb"), read_only=True) as work,
    ):
        for t in tables:
            con = work if t.startswith("raw.") and t not in PUBLISHED_RAW else published
            counts[t] = con.execute(query.format(t)).fetchall()[0][0]
    return counts
