"""Real refresh processes on one database: one writer at a time, readers never disturbed.

Each refresh is `partnerdd refresh --offline` in its own process (the replay server over the
recorded demo payloads), as two people or a schedule and a person would start them. They
report to the session's Prefect server (PREFECT_API_URL), as processes with a configured
server do, instead of starting a temporary server each (7-22 s apiece); a process's own
temporary server is covered by tests/flows/test_core.py (SIGKILL, SIGTERM).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from flows.db import snapshot_dir, writer_lock
from flows.offline import DEMO_PARTNERS

ROOT = Path(__file__).parents[2]
EXTRA_PARTNER = "extra-co,Extra Test Co,,DE,,\n"
READER = """
import sys, time
from pathlib import Path
from flows.analyst_sql import connect_analyst
db, stop = Path(sys.argv[1]), Path(sys.argv[2])
while True:
    last = stop.exists()
    with connect_analyst(db) as con:  # a new read-only connection per query, as `partnerdd sql`
        partners = con.execute("select count(*) from marts.partner_profile").fetchone()[0]
        run = con.execute(
            "select run_id from ops.runs order by finished_at desc limit 1").fetchone()[0]
    print(partners, run, flush=True)
    if last:
        break
    time.sleep(0.2)
"""


def _env(home: Path, **extra: str) -> dict[str, str]:
    home.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(
        PYTHONPATH=str(ROOT),
        PREFECT_HOME=str(home),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_LOGGING_LEVEL="WARNING",
        COLUMNS="200",
        **extra,
    )
    return env


class Refresh:
    """`partnerdd refresh --offline` running in its own process."""

    def __init__(
        self, work: Path, name: str, db: Path, registry: Path, wait: float, api: str
    ) -> None:
        self.name = name
        self.out = work / f"{name}.out"
        self.err = work / f"{name}.err"
        command = [
            sys.executable, "-m", "flows.cli", "refresh", "--offline", "--partners",
            str(registry), "--db", str(db), "--reports", str(work / name / "docs"),
            "--wait", str(wait),
        ]  # fmt: skip
        with self.out.open("w") as out, self.err.open("w") as err:
            self.proc = subprocess.Popen(
                command,
                stdout=out,
                stderr=err,
                env=_env(work / name / "prefect", PREFECT_API_URL=api),
                cwd=ROOT,
            )

    def stderr(self) -> str:
        return " ".join(self.err.read_text(encoding="utf-8").split())  # rich wraps lines

    def finish(self, timeout: float = 600) -> int:
        return self.proc.wait(timeout=timeout)

    def run_id(self) -> str:
        found = re.search(r"^run (\S+): ok", self.out.read_text(encoding="utf-8"), re.M)
        assert found, (self.out.read_text(), self.stderr())
        return found.group(1)


def _until(done: Any, what: str, procs: list[Refresh], timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        for r in procs:
            assert r.proc.poll() is None or done(), f"{r.name} ended: {r.stderr()[-2000:]}"
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.5)


@pytest.fixture(scope="module")
def two_at_once(
    prefect_api: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """Three refreshes of one database started at once while the lock is held (so that all
    reach it together): `a` and `b` with --wait, `c` without. Then the lock is let go."""
    work = tmp_path_factory.mktemp("concurrent")
    db = work / "shared.duckdb"
    with writer_lock(db, run_id="test-holder"):
        a, b = (Refresh(work, n, db, DEMO_PARTNERS, 900, prefect_api) for n in ("a", "b"))
        c = Refresh(work, "c", db, DEMO_PARTNERS, 0, prefect_api)
        _until(lambda: all("waiting up to" in r.stderr() for r in (a, b)), "a, b wait", [a, b])
        c_code = c.finish()
    yield {"db": db, "work": work, "a": a, "b": b, "c": c, "c_code": c_code,
           "a_code": a.finish(), "b_code": b.finish(), "api": prefect_api}  # fmt: skip


def test_without_wait_a_second_refresh_is_refused_naming_the_running_one(
    two_at_once: dict[str, Any],
) -> None:
    c = two_at_once["c"]
    assert two_at_once["c_code"] == 2
    assert f"WriterBusy: {two_at_once['db']} is being refreshed by pid {os.getpid()} " in (
        c.stderr()
    )
    assert "(run test-holder) since 20" in c.stderr() and "--wait SECONDS" in c.stderr()
    assert "Traceback" not in c.stderr()  # refused before it started anything


def test_two_refreshes_at_once_one_waits_and_no_run_is_lost(two_at_once: dict[str, Any]) -> None:
    a, b = two_at_once["a"], two_at_once["b"]
    assert (two_at_once["a_code"], two_at_once["b_code"]) == (0, 0), (
        a.stderr()[-2000:],
        b.stderr()[-2000:],
    )
    me = f"pid {os.getpid()} (run test-holder) since "
    assert me in a.stderr() and me in b.stderr()  # both waited for the lock held by the test
    assert "leaked" not in a.stderr() + b.stderr()  # by DuckDB's bindings (flows/startup.py)
    with duckdb.connect(str(two_at_once["db"]), read_only=True) as con:
        runs = con.execute("select run_id, status from ops.runs order by finished_at").fetchall()
    assert sorted(runs) == sorted([(a.run_id(), "ok"), (b.run_id(), "ok")])
    first, second = (a, b) if runs[0][0] == a.run_id() else (b, a)
    # the second ran after the first had published: it waited for it by pid and run
    assert f"pid {first.proc.pid} (run {first.run_id()}) since " in second.stderr()
    assert f"pid {second.proc.pid}" not in first.stderr()
    kept = [p.name for p in snapshot_dir(two_at_once["db"]).iterdir()]
    assert kept == [f"{first.run_id()}.duckdb"]  # the database the first run published


def test_readers_keep_working_during_a_refresh_and_see_the_new_data(
    two_at_once: dict[str, Any],
) -> None:
    db, work = two_at_once["db"], two_at_once["work"]
    registry = work / "partners_plus_one.csv"
    registry.write_text(DEMO_PARTNERS.read_text(encoding="utf-8") + EXTRA_PARTNER, "utf-8")
    stop = work / "stop-reading"
    notebook = duckdb.connect(str(db), read_only=True)  # kept open, as a notebook does
    before = notebook.execute("select count(*) from marts.partner_profile").fetchone()
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(db), str(stop)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(work / "reader"),
    )
    refresh = Refresh(work, "d", db, registry, 0, two_at_once["api"])
    code = refresh.finish()
    stop.touch()
    out, errors = reader.communicate(timeout=120)
    assert code == 0, refresh.stderr()
    assert reader.returncode == 0 and not errors, errors  # not one failed query
    seen = [(int(n), run) for n, run in (line.split() for line in out.splitlines())]
    assert len(seen) > 2
    assert seen[0][0] == before[0] == 9  # the old run while the refresh worked ...
    assert seen[-1] == (10, refresh.run_id())  # ... the new one after its publish
    changes = [i for i in range(1, len(seen)) if seen[i] != seen[i - 1]]
    assert len(changes) == 1  # old data, then new data: never anything in between
    # A connection kept open keeps seeing the file it opened until it is closed ...
    assert notebook.execute("select count(*) from marts.partner_profile").fetchone() == (9,)
    again = duckdb.connect(str(db), read_only=True)  # ... and so does a new one meanwhile
    assert again.execute("select count(*) from marts.partner_profile").fetchone() == (9,)
    again.close()
    notebook.close()  # all of this process's connections to the file closed: reconnect
    with duckdb.connect(str(db), read_only=True) as fresh:
        assert fresh.execute("select count(*) from marts.partner_profile").fetchone() == (10,)
