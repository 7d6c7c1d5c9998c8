"""The writer lock waits or refuses, never sticks; publish keeps the last N snapshots."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from flows.db import (
    WriterBusy,
    apply_schema,
    publish,
    refuse_if_busy,
    snapshot_dir,
    store_path,
    writer_lock,
)

HOLDER = """
import sys, time
from pathlib import Path
from flows.db import writer_lock
with writer_lock(Path(sys.argv[1]), run_id="holder-run"):
    print("held", flush=True)
    time.sleep(600)
"""


def _hold(db: Path) -> subprocess.Popen[str]:
    """Another process holding the writer lock (it is killed, never released)."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(db)], stdout=subprocess.PIPE, text=True, env=env
    )
    assert proc.stdout is not None and proc.stdout.readline() == "held\n"
    return proc


def test_refused_at_once_naming_the_holder_and_since_when(tmp_path: Path) -> None:
    db = tmp_path / "busy.duckdb"
    refuse_if_busy(db)  # no refresh ever ran
    holder = _hold(db)
    try:
        with pytest.raises(WriterBusy, match=f"pid {holder.pid} \\(run holder-run\\)"):
            refuse_if_busy(db)  # what `partnerdd refresh` checks before it starts anything
        with pytest.raises(WriterBusy) as refused:
            with writer_lock(db):
                pass
        message = str(refused.value)
        assert f"pid {holder.pid} (run holder-run) since 20" in message
        assert "--wait SECONDS" in message and "waited" not in message
        with pytest.raises(WriterBusy, match=r"waited 1 s"):
            with writer_lock(db, wait=1):
                pass
    finally:
        holder.kill()
        holder.wait()
    refuse_if_busy(db)  # the killed holder left nothing stuck
    with writer_lock(db):
        pass


def test_a_waiting_writer_gets_the_lock_when_a_killed_holder_dies(tmp_path: Path) -> None:
    db = tmp_path / "wait.duckdb"
    holder = _hold(db)
    notes: list[str] = []

    def note(text: str) -> None:
        notes.append(text)
        holder.send_signal(signal.SIGKILL)  # the holder dies mid-run: no clean release

    try:
        with writer_lock(db, wait=120, run_id="waiter", notify=note) as store:
            assert store == store_path(db)
            text = (store / "writer.lock").read_text()
            assert text.startswith(f"pid {os.getpid()} (run waiter) since ")
    finally:
        holder.kill()
        holder.wait()
    assert len(notes) == 1
    assert f"waiting up to 120 s for pid {holder.pid} (run holder-run)" in notes[0]


def _publish_run(con: duckdb.DuckDBPyConnection, db: Path, run_id: str, keep: int) -> None:
    now = datetime.now(UTC)
    con.execute(
        "insert into ops.runs (run_id, started_at, finished_at, status, partners) "
        "values (?, ?, ?, 'ok', 0)",
        [run_id, now, now],
    )
    publish(con, db, keep=keep)


def test_publish_keeps_the_last_n_replaced_files_as_snapshots(tmp_path: Path) -> None:
    db = tmp_path / "pub.duckdb"
    runs = [f"20260101T00000{i}-run{i}" for i in range(5)]
    with duckdb.connect(str(tmp_path / "work.duckdb")) as con:
        apply_schema(con)
        for run_id in runs:
            _publish_run(con, db, run_id, keep=3)
            time.sleep(0.01)
    kept = sorted(p.name for p in snapshot_dir(db).iterdir())
    assert kept == [f"{r}.duckdb" for r in runs[1:4]]  # the newest 3 replaced files
    for run_id in runs[1:4]:  # each is the database that run published, opened read-only
        with duckdb.connect(str(snapshot_dir(db) / f"{run_id}.duckdb"), read_only=True) as old:
            latest = old.execute(
                "select run_id from ops.runs order by finished_at desc limit 1"
            ).fetchall()
        assert latest == [(run_id,)]
    with duckdb.connect(str(db), read_only=True) as current:
        assert current.execute("select count(*) from ops.runs").fetchall() == [(5,)]


def test_no_snapshot_is_kept_when_keep_is_zero(tmp_path: Path) -> None:
    db = tmp_path / "pub.duckdb"
    with duckdb.connect(str(tmp_path / "work.duckdb")) as con:
        apply_schema(con)
        for run_id in ("20260101T000000-a", "20260101T000001-b"):
            _publish_run(con, db, run_id, keep=0)
    assert not snapshot_dir(db).exists()


def test_a_reentrant_holder_runs_a_writer_inside_its_block_others_are_still_refused(
    tmp_path: Path,
) -> None:
    """`partnerdd request` holds the lock while it edits the registry and runs its refresh
    inside; another process is refused all along, and the lock file names the request."""
    db = tmp_path / "request.duckdb"
    with writer_lock(db, holder="request 'SAP SE'", reentrant=True) as store:
        with writer_lock(db, run_id="inner-run") as inner:  # the refresh, same thread
            assert inner == store
            text = (store / "writer.lock").read_text()
            assert text.startswith(f"pid {os.getpid()} (request 'SAP SE') since ")
            other = subprocess.run(
                [sys.executable, "-c", "import sys; from pathlib import Path; "
                 "from flows.db import refuse_if_busy; refuse_if_busy(Path(sys.argv[1]))",
                 str(db)],
                capture_output=True, text=True,
                env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])},
            )  # fmt: skip
            assert other.returncode != 0 and "(request 'SAP SE')" in other.stderr
    with writer_lock(db):  # released; taken without `reentrant` it is not reentrant
        with pytest.raises(WriterBusy):
            with writer_lock(db):
                pass
