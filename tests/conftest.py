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


# Scheduling over the two xdist workers (pyproject.toml: --dist loadfile
# --no-loadscope-reorder, with the scheduler below). Each test module is one unit of work, so
# its module-scoped fixtures (whole-flow refreshes) run once, on one worker; the modules go
# out costliest first (longest processing time first; seconds from `pytest --durations=0`
# on a loaded machine), so neither worker starts a long module when the other has run out
# of work. Unlisted modules follow in collection order. Last come the tests of SPREAD, each
# a unit of its own: many short independent tests (their module fixture costs a few seconds
# per worker) that fill whichever worker is free, so that both end together.
COSTLIEST_FIRST = (
    "tests/faults/test_refresh_faults.py",  # 168 s
    "tests/nightly/test_concurrent_refresh.py",  # 139 s
    "tests/flows/test_core.py",  # 134 s
    "tests/flows/test_scaleout.py",  # 115 s
    "tests/flows/test_time_budget.py",  # 82 s
    "tests/flows/test_request_plan.py",  # 73 s
    "tests/flows/test_request.py",  # 65 s
    "tests/nightly/test_serve.py",  # 57 s
    "tests/flows/test_conditional.py",  # 55 s
    "tests/flows/test_news_cursor.py",  # 50 s
    "tests/flows/test_build_memory.py",  # 35 s
    "tests/nightly/test_request_lock.py",  # 34 s
    "tests/flows/test_refresh_flow.py",  # 34 s
    "tests/flows/test_diligence_flow.py",  # 33 s
    "tests/dossier/test_dossier.py",  # 28 s
    "tests/flows/test_validate.py",  # 23 s
    "tests/flows/test_add_source.py",  # 21 s
    "tests/flows/test_parse_workers.py",  # 20 s
    "tests/flows/test_media_flow.py",  # 21 s
    "tests/test_install.py",  # 20 s
    "tests/flows/test_publish.py",  # 18 s
    "tests/connectors/test_worldbank.py",  # 11 s
    "tests/flows/test_cli.py",  # 10 s
    "tests/flows/test_build_partition.py",  # 10 s
    "tests/connectors/test_http.py",  # 9 s
    "tests/benchmarks/test_loader_bench.py",  # 5 s
    "tests/dossier/test_browser.py",  # 7 s
)
SPREAD = ("tests/faults/test_source_faults.py",)  # 194 s in 127 tests


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {module: i for i, module in enumerate(COSTLIEST_FIRST)}

    def order(item: pytest.Item) -> tuple[bool, int]:
        module = item.nodeid.split("::")[0]
        return module in SPREAD, rank.get(module, len(rank))

    items.sort(key=order)  # stable


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """loadfile, except that each test of a SPREAD module is a unit of its own (xdist's
    loadgroup would do it with marks, but its nodeid suffix is lost under pytest 9)."""
    from xdist.scheduler import LoadScopeScheduling

    class ModulesThenSpread(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::")[0]
            return nodeid if module in SPREAD else module

    return ModulesThenSpread(config, log)
