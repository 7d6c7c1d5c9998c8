"""Parsing on local worker processes (flows/parse_workers.py): every source of the demo's
stored payloads, parsed with the SEC partners past the first two sent to real worker
processes, lands exactly the rows an in-process parse lands; a task whose worker process
dies is parsed in the refresh's process instead; a source with few changed partners starts
no process."""

from __future__ import annotations

import logging
import multiprocessing
import os
from dataclasses import replace
from pathlib import Path

import pytest

from connectors.sec.source import SPEC as SEC
from connectors.source import Batch, Parsed, declared_sources
from flows import landing, parse_workers
from tests.flows.test_scaleout import _parse_again


@pytest.fixture
def sent_early(monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo has 7 SEC partners: send those past the second, two per task."""
    monkeypatch.setattr(parse_workers, "IN_PROCESS_GROUPS", 2)
    monkeypatch.setattr(parse_workers, "GROUPS_PER_TASK", 2)


def test_parsed_on_worker_processes_lands_the_rows_parsed_here(
    demo_copies: tuple[Path, Path], sent_early: None
) -> None:
    here, there = demo_copies
    specs = declared_sources()
    expected = _parse_again(here, landing.parse_here, specs)
    parser = parse_workers.ProcessParser(there, workers=1)
    try:
        landed = _parse_again(there, parser, specs)
        assert parser._pool is not None  # the SEC partners past the second were sent
    finally:
        parser.close()
    assert expected["sec groups"] == 7 and len(expected["raw.sec__facts"]) > 8_000
    assert landed.keys() == expected.keys()
    for key in expected:
        assert landed[key] == expected[key], key


def test_a_source_with_few_changed_partners_starts_no_process(
    demo_copies: tuple[Path, Path],
) -> None:
    here, there = demo_copies
    expected = _parse_again(here, landing.parse_here, [SEC])
    parser = parse_workers.ProcessParser(there, workers=1)
    try:
        assert _parse_again(there, parser, [SEC]) == expected
        assert parser._pool is None
    finally:
        parser.close()


def _dies_in_a_worker(batch: Batch) -> Parsed:
    """SEC's parse, except in a worker process, which it ends (a worker lost)."""
    if multiprocessing.parent_process() is not None:
        os._exit(1)
    return SEC.parse(batch)


def test_a_task_lost_with_its_worker_process_is_parsed_here(
    demo_copies: tuple[Path, Path],
    sent_early: None,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(parse_workers, "GROUPS_PER_TASK", 3)  # the 5 sent: 2 tasks
    here, there = demo_copies
    expected = _parse_again(here, landing.parse_here, [SEC])
    parser = parse_workers.ProcessParser(there, workers=1)
    try:
        with caplog.at_level(logging.WARNING, logger="flows.parse_workers"):
            landed = _parse_again(there, parser, [replace(SEC, parse=_dies_in_a_worker)])
    finally:
        parser.close()
    assert landed == expected
    lost = [r.getMessage() for r in caplog.records if "on a local worker process" in r.message]
    assert len(lost) == 2 and all("BrokenProcessPool" in m for m in lost), lost


_KILLED_PARENT = """
import sys, time
from pathlib import Path
from connectors.sec.source import SPEC
from flows.parse_workers import ProcessParser
parser = ProcessParser(Path(sys.argv[1]), workers=1)
parser.submit(SPEC, []).result()  # no batch to parse: the pool and its worker start
print(*(p.pid for p in parser._pool._processes.values()), flush=True)
time.sleep(120)
"""


def test_a_worker_ends_when_the_refresh_is_killed(tmp_path: Path) -> None:
    """SIGKILL runs no shutdown: the worker notices that its parent is gone and ends."""
    import signal
    import subprocess
    import sys
    import time

    from connectors.config import PROJECT_ROOT

    parent = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", _KILLED_PARENT, str(tmp_path)],
        cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert parent.stdout is not None
    worker = int(parent.stdout.readline())
    os.kill(worker, 0)  # running
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    for _ in range(100):
        try:
            os.kill(worker, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    os.kill(worker, signal.SIGKILL)
    raise AssertionError(f"worker {worker} outlived its killed refresh")
