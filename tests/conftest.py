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


def table_counts(db: Path, tables: tuple[str, ...]) -> dict[str, int]:
    """Row count per table, read-only: what an idempotent rerun must leave unchanged."""
    import duckdb

    query = "select count(*) from {}"  # table names come from the tests' own constants
    with duckdb.connect(str(db), read_only=True) as con:
        return {t: con.execute(query.format(t)).fetchone()[0] for t in tables}
