"""A request never runs beside a refresh: it takes the same writer lock, and waits for it
(`--wait`) or is refused at once, naming the holder. A real `partnerdd refresh --offline`
process (reporting to the session's Prefect server) holds the lock while the request is
made in this process (the real Prefect engine); afterwards both runs are published, one
after the other."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from flows.cli import main
from flows.db import WriterBusy, refuse_if_busy, snapshot_dir
from flows.offline import DEMO_PARTNERS
from tests.nightly.test_concurrent_refresh import Refresh, _until
from tests.nightly.test_writer_lock import _hold


def _held(db: Path) -> bool:
    try:
        refuse_if_busy(db)
    except WriterBusy:
        return True
    return False


def _request(work: Path, db: Path, *args: str) -> int:
    return main(
        [
            "request", "SAP SE", "--country", "DE", "--offline",
            "--partners", str(work / "partners.csv"), "--db", str(db),
            "--reports", str(work / "request" / "docs"), *args,
        ]
    )  # fmt: skip


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def during_refresh(
    prefect_api: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    work = tmp_path_factory.mktemp("request-lock")
    db = work / "shared.duckdb"
    lines = DEMO_PARTNERS.read_text(encoding="utf-8").splitlines(keepends=True)
    (work / "partners.csv").write_text(
        "".join(line for line in lines if not line.startswith("sap,")), encoding="utf-8"
    )
    refresh = Refresh(work, "nightly", db, work / "partners.csv", 0, prefect_api)
    _until(lambda: _held(db), "the refresh holds the writer lock", [refresh])
    asked_at = datetime.now(UTC)
    code = _request(work, db, "--wait", "600")
    yield {
        "work": work, "db": db, "refresh": refresh, "refresh_code": refresh.finish(),
        "request_code": code, "asked_at": asked_at,
    }  # fmt: skip


def test_a_request_waits_for_the_running_refresh_and_both_are_published(
    during_refresh: dict[str, Any],
) -> None:
    d = during_refresh
    refresh = d["refresh"]
    assert d["refresh_code"] == 0, refresh.stderr()[-2000:]
    assert d["request_code"] == 0
    with duckdb.connect(str(d["db"]), read_only=True) as con:
        runs = con.execute(
            "select run_id, status, started_at, finished_at, summary from ops.runs "
            "order by started_at"
        ).fetchall()
        partners = {
            r[0] for r in con.execute("select partner_id from marts.partner_profile").fetchall()
        }
    (first, ok1, _, first_done, first_summary), (_, ok2, second_start, _, second_summary) = runs
    assert first == refresh.run_id() and (ok1, ok2) == ("ok", "ok")
    assert first_done > d["asked_at"]  # the refresh was running when the request was made ...
    assert second_start >= first_done  # ... and the request ran after it had published
    assert json.loads(first_summary)["partners"] == 8  # the refresh saw the registry before
    assert json.loads(second_summary)["only"] == ["sap-se"]
    assert "sap-se" in partners and len(partners) == 9
    registry = (d["work"] / "partners.csv").read_text(encoding="utf-8")
    assert registry.count("sap-se,SAP SE,,DE,,") == 1
    # the refresh's own result is intact: the file it published is kept as a snapshot
    with duckdb.connect(str(snapshot_dir(d["db"]) / f"{first}.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from marts.partner_profile").fetchone() == (8,)
        assert con.execute("select status from ops.runs").fetchall() == [("ok",)]


def test_a_request_is_refused_clearly_while_the_lock_is_held_and_changes_nothing(
    during_refresh: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    work, db = during_refresh["work"], during_refresh["db"]
    before = (_digest(work / "partners.csv"), _digest(db))
    holder = _hold(db)
    try:
        refused = _request(work, db)  # refused at once, before Prefect starts
        err = " ".join(capsys.readouterr().err.split())
        assert refused == 2
        assert f"is being refreshed by pid {holder.pid} (run holder-run) since 20" in err
        assert "--wait SECONDS" in err
        waited = _request(work, db, "--wait", "1")  # the flow waits 1 s, then gives up
        err = " ".join(capsys.readouterr().err.split())
        assert waited == 2 and "waited 1 s" in err
    finally:
        holder.kill()
        holder.wait()
    assert (_digest(work / "partners.csv"), _digest(db)) == before
