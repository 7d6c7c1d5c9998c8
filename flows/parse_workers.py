"""Parsing on local worker processes while the refresh's process lands the rows.

A source with many changed groups (SEC company facts: 2.5 MB of JSON and about 8,000 fact
rows per company) is parsed by `[run] parse_processes` worker processes, so the refresh's
process, the one writer, only lands: parsing and landing overlap on two cores instead of
taking turns on one. A worker reads the bodies from the raw store's files itself (the same
disk) and sends back each company's facts as an Arrow table, which crosses processes as
buffers: the writer never holds the parse's Python lists (what made Dask's workers cost
the writer as much as parsing did; README, "Scale-out with Dask").

The first groups of a source are parsed in the refresh's process: a source with few changed
groups (a nightly rerun, the demo) never waits for a process to start. The results come
back in the order the groups were sent, so the landing chunks and rows are those of an
in-process parse. A task a worker loses (killed, out of memory) is parsed in the refresh's
process instead, with a warning.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pyarrow as pa

from connectors.source import Batch, Columns, Parsed, PayloadReader, SourceSpec
from flows.landing import parse_safely
from flows.store import PayloadFiles

log = logging.getLogger(__name__)
IN_PROCESS_GROUPS = 40  # a source's first changed groups: parsed before any process starts
GROUPS_PER_TASK = 4
TASKS_PER_WORKER = 2  # in flight per worker: one running, one queued (bounded memory)


def detached(batch: Batch, payloads: PayloadReader) -> Batch:
    """The batch as another process gets it: its answers' bodies read from `payloads`, the
    settings without what this run holds for fetching (the stored answers, cursors and time
    budget, which a parse never reads and which do not pickle)."""
    return replace(
        batch,
        responses=[replace(answer, store=payloads) for answer in batch.responses],
        settings=replace(batch.settings, answers=None, cursors={}, budget=None),
    )


def parse_packed(parse: Callable[[Batch], Parsed], batches: list[Batch]) -> list[Parsed]:
    """What a worker runs: each batch parsed, its rows made Arrow tables where Arrow can type
    them (the writer then lands them as they come; pickled dicts would cost it about as much
    as landing them)."""
    results = []
    for batch in batches:
        parsed = parse_safely(parse, batch)
        for table, rows in list(parsed.tables.items()):
            packed = _arrow(rows)
            if packed is not None:
                parsed.add_columns(table, Columns({}, _table=packed))
                del parsed.tables[table]
        for parts in parsed.columns.values():
            for part in parts:
                part.table()
        results.append(parsed)
    return results


def _arrow(rows: list[dict[str, Any]]) -> pa.Table | None:
    """The rows as a table of every key any row has (a key a row lacks: null there)."""
    names = dict.fromkeys(key for row in rows for key in row)
    try:
        return pa.table({name: [row.get(name) for row in rows] for name in names}) if rows else None
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        return None


def _end_with(parent: int) -> None:
    """A worker's initializer: end the worker when the refresh that started it has ended,
    also when it was killed (SIGKILL runs no shutdown): no orphaned process is left."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(1)

    threading.Thread(target=watch, name="end-with-refresh", daemon=True).start()


@dataclass
class _Task:
    batches: list[Batch] = field(default_factory=list)
    future: Any = None  # what .result() gives the task's list of Parsed


class SentInOrder:
    """A GroupParser that sends changed groups, `per_task` a task, to other processes, keeps
    at most window() tasks in flight and yields in the order it was given; a source's first
    `here_first` changed groups are parsed in this process. A task whose result raises (its
    worker lost) is parsed here instead, with a warning naming `where`."""

    per_task = GROUPS_PER_TASK
    here_first = 0
    where = "another process"

    def ship(self, batch: Batch) -> Batch:
        raise NotImplementedError

    def submit(self, spec: SourceSpec, batches: list[Batch]) -> Any:
        raise NotImplementedError

    def window(self) -> int:
        raise NotImplementedError

    def __call__(
        self, spec: SourceSpec, groups: Iterable[tuple[str | None, Batch | None]]
    ) -> Iterator[tuple[str | None, Parsed | None]]:
        waiting: deque[tuple[str | None, _Task | None]] = deque()  # in the order given
        sent: deque[_Task] = deque()
        filling = _Task()
        changed = 0
        for group, batch in groups:
            if batch is not None:
                changed += 1
            if batch is None and waiting:  # its turn comes after the groups sent before it
                waiting.append((group, None))
                continue
            if batch is None or changed <= self.here_first:  # nothing was sent yet
                yield group, None if batch is None else parse_safely(spec.parse, batch)
                continue
            filling.batches.append(self.ship(batch))
            waiting.append((group, filling))
            if len(filling.batches) == self.per_task:
                filling.future = self.submit(spec, filling.batches)
                sent.append(filling)
                filling = _Task()
            while sent and len(sent) > self.window():
                yield from self._take(spec, waiting, sent.popleft())
        if filling.batches:
            filling.future = self.submit(spec, filling.batches)
            sent.append(filling)
        while sent:
            yield from self._take(spec, waiting, sent.popleft())
        while waiting:  # unchanged groups after the last task
            group, _ = waiting.popleft()
            yield group, None

    def _take(
        self, spec: SourceSpec, waiting: deque[tuple[str | None, _Task | None]], task: _Task
    ) -> Iterator[tuple[str | None, Parsed | None]]:
        """Yield every waiting group up to and including the last of `task`."""
        try:
            results = task.future.result()
        except Exception as exc:  # the worker was lost: parse its groups here
            log.warning(
                "%s: a parse task failed on %s (%s: %s); its %d groups are parsed in this "
                "process",
                spec.name, self.where, type(exc).__name__, exc, len(task.batches),
            )  # fmt: skip
            results = [parse_safely(spec.parse, batch) for batch in task.batches]
        taken = iter(results)
        remaining = len(results)
        while waiting and remaining:
            group, owner = waiting.popleft()
            if owner is None:
                yield group, None
                continue
            remaining -= 1
            yield group, next(taken)
        task.batches = []


class ProcessParser(SentInOrder):
    """Sends a source's changed groups past its first IN_PROCESS_GROUPS to a pool of
    `workers` local processes, started at the first such group and kept for the run
    (close() ends it)."""

    where = "a local worker process"

    def __init__(self, store_root: Path, workers: int) -> None:
        self.payloads = PayloadFiles(store_root)
        self.workers = workers
        self.per_task = GROUPS_PER_TASK
        self.here_first = IN_PROCESS_GROUPS
        self._pool: ProcessPoolExecutor | None = None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def ship(self, batch: Batch) -> Batch:
        return detached(batch, self.payloads)

    def window(self) -> int:
        return self.workers * TASKS_PER_WORKER

    def submit(self, spec: SourceSpec, batches: list[Batch]) -> Future[list[Parsed]]:
        for _ in range(2):
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    max_workers=self.workers,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_end_with,
                    initargs=(os.getpid(),),
                )
            try:
                return self._pool.submit(parse_packed, spec.parse, batches)
            except BrokenProcessPool:  # a worker was lost earlier: start a new pool
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None
        raise AssertionError("unreachable: a new pool takes a task")
