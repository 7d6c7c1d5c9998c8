"""Shared fixtures: real loopback servers over recorded payloads and one Prefect harness."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

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


@contextmanager
def trickling_server(interval: float = 0.2) -> Iterator[tuple[str, list[int]]]:
    """A loopback server whose every answer promises 1,000 bytes and sends one per
    `interval`: each read arrives well within a read timeout, so only a cap on the whole
    exchange (or a cancellation) stops a client. Yields (url, the byte indexes sent)."""
    sent: list[int] = []

    class Trickle(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server naming)
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            try:
                for i in range(1000):
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    sent.append(i)
                    time.sleep(interval)
            except OSError:  # the client gave up
                pass

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Trickle)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/trickle", sent
    finally:
        server.shutdown()
        server.server_close()


# The fault suite's tally (tests/faults/tally.py), printed once per session whether the tests
# ran in this process or in xdist workers.
def pytest_sessionfinish(session: pytest.Session) -> None:
    from tests.faults.tally import TALLY

    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: hand the counts to the controller
        workeroutput["fault_tally"] = {k: dict(v) for k, v in TALLY.items()}


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    from tests.faults.tally import merge

    merge(getattr(node, "workeroutput", {}).get("fault_tally", {}))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    from tests.faults.tally import summary_lines

    lines = summary_lines()
    if lines:
        terminalreporter.section("faults tried per connector (tests/faults)")
        for line in lines:
            terminalreporter.write_line(line)
