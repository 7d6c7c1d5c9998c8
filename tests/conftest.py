"""Shared fixtures: real loopback servers over recorded payloads and one Prefect harness."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
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


@pytest.fixture(scope="session")
def prefect_api(prefect_harness: None) -> str:
    """The API URL of this session's Prefect server: a process started by a test and pointed
    at it (PREFECT_API_URL) starts no temporary server of its own (7-22 s each)."""
    from prefect.settings import PREFECT_API_URL

    return str(PREFECT_API_URL.value())


def shared_state(
    request: pytest.FixtureRequest, name: str, build: Callable[[Path], dict[str, Any]]
) -> dict[str, Any]:
    """What `build(work)` leaves in `work` (a refreshed database, its store, its reports) and
    returns (JSON), built once per test session even when pytest-xdist runs several workers:
    the first to take the lock builds it (with this worker's Prefect harness), the others
    wait and read it. Its files are made read-only, so a test that would change the shared
    state fails at once: such a test works on its own `copy_state`."""
    base = request.getfixturevalue("tmp_path_factory").getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base  # the session's
    work, result = root / f"shared-{name}", root / f"shared-{name}.json"
    with (root / f"shared-{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not result.exists():
            shutil.rmtree(work, ignore_errors=True)  # what a failed build left
            work.mkdir()
            request.getfixturevalue("prefect_harness")
            built = build(work)
            for path in work.rglob("*"):
                if path.is_file():
                    path.chmod(0o444)
            result.write_text(json.dumps(built), encoding="utf-8")
    return {**json.loads(result.read_text(encoding="utf-8")), "work": work}


def copy_state(state: dict[str, Any], destination: Path) -> Path:
    """A writable copy of a shared state's directory (files are small: about 0.1-0.5 s)."""
    shutil.copytree(state["work"], destination, copy_function=shutil.copyfile, dirs_exist_ok=True)
    return destination


DEMO_DB = "partnerdd.duckdb"


@pytest.fixture(scope="session")
def demo_state(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The offline demo refresh (`partnerdd refresh --offline`: the demo registry against the
    recorded snapshot on loopback), once per session: `db`, `work`, `summary`. Read-only."""

    def build(work: Path) -> dict[str, Any]:
        from flows.offline import DEMO_PARTNERS, offline_sources
        from flows.refresh import refresh

        with offline_sources() as overrides:
            summary = refresh(
                str(DEMO_PARTNERS), str(work / DEMO_DB), overrides, str(work / "docs")
            )
        return {"summary": summary}

    state = shared_state(request, "demo", build)
    return {**state, "db": state["work"] / DEMO_DB}


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
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
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


# The costliest modules first (measured with `pytest --durations=40`), so that the two xdist
# workers (--dist loadfile --no-loadscope-reorder, pyproject.toml) end together rather than one
# starting a long module when the other has run out of work. Unlisted modules follow in
# collection order.
COSTLIEST_FIRST = (
    "tests/nightly/test_concurrent_refresh.py",
    "tests/faults/test_refresh_faults.py",
    "tests/flows/test_core.py",
    "tests/nightly/test_request_lock.py",
    "tests/nightly/test_serve.py",
    "tests/flows/test_conditional.py",
    "tests/flows/test_media_flow.py",
    "tests/dossier/test_dossier.py",
    "tests/flows/test_request.py",
    "tests/faults/test_source_faults.py",
    "tests/flows/test_diligence_flow.py",
    "tests/flows/test_news_cursor.py",
    "tests/test_install.py",
    "tests/flows/test_add_source.py",
    "tests/flows/test_refresh_flow.py",
    "tests/dossier/test_browser.py",
    "tests/flows/test_cli.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {module: i for i, module in enumerate(COSTLIEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))  # stable
