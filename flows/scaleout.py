"""Parsing on a Dask cluster: parse tasks submitted through Prefect's DaskTaskRunner
(`prefect-dask`), the rows landed by the refresh's own process, the one writer.

Chosen by config/operations.toml `[run] task_runner = "dask"` (PARTNERDD_RUN_TASK_RUNNER);
the default parses on local processes (flows/parse_workers.py) and imports no Dask. A parse
task is a pure function of what it is sent: each group's batch (the answers' metadata, the extract's
records, the settings) with its answers' bodies as stored (gzip), so a worker never opens
the raw store or the DuckDB file and a cluster on other machines needs only partnerdd
installed. The results come back in the order the groups were sent, so the landing chunks,
and the rows, are those of the default path. A parse task the cluster loses (a worker
killed, out of memory) is parsed in the refresh's process instead, with a warning.

The cluster: the one at `[run] dask_address`, or a LocalCluster of `dask_workers` processes
started at the first parse task (not before: a run with nothing to parse starts none).
"""

from __future__ import annotations

import contextlib
import gzip
import logging
import pickle
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prefect import Flow, task
from prefect.cache_policies import NO_CACHE
from prefect.context import FlowRunContext

from connectors.config import ConfigError
from connectors.source import Batch, Parsed, SourceSpec
from flows.landing import GroupParser, parse_here, parse_safely
from flows.operations import Run
from flows.parse_workers import ProcessParser, SentInOrder, detached
from flows.store import RawStore

log = logging.getLogger(__name__)
TASKS_PER_WORKER = 2  # parse tasks in flight per worker thread: one running, one queued


@dataclass(frozen=True)
class ShippedPayloads:
    """The stored bodies of one batch's answers, sent along with it to a worker."""

    blobs: dict[str, bytes]

    def body(self, sha256: str) -> bytes:
        if sha256 not in self.blobs:
            raise FileNotFoundError(f"payload {sha256} is missing from the raw store")
        return gzip.decompress(self.blobs[sha256])


def ship(batch: Batch, store: RawStore) -> Batch:
    """The batch as a worker gets it: bodies included (flows/parse_workers.py, detached)."""
    blobs: dict[str, bytes] = {}
    for answer in batch.responses:
        if answer.sha256 not in blobs:
            with contextlib.suppress(FileNotFoundError):  # raised where the parse reads it
                blobs[answer.sha256] = store.compressed(answer.sha256)
    return detached(batch, ShippedPayloads(blobs))


@task(name="parse", cache_policy=NO_CACHE, persist_result=False)
def parse_groups(parse: Callable[[Batch], Parsed], batches: bytes) -> list[Parsed]:
    """The groups' rows. `batches` come pickled: neither Prefect nor Dask walks through
    them as they would through parameters (each answer, record and payload)."""
    return [parse_safely(parse, batch) for batch in pickle.loads(batches)]


def _parsing() -> None:
    """What the workers are told their parse tasks' flow is (DaskParser._submit)."""


# A task submitted inside a flow run carries the run's context to the worker, the flow object
# included, pickled by value: the refresh flow's function, with every global it uses (the
# run's cancellation, the progress display: thread locks), does not pickle. The task runs
# stay linked to the refresh's flow run; only the flow object is this stand-in.
PARSE_FLOW: Flow[[], None] = Flow(_parsing, name="partnerdd-parse")


class DaskParser(SentInOrder):
    """Sends `per_task` changed groups per Prefect task to the runner's cluster."""

    where = "the Dask cluster"

    def __init__(self, runner: Any, store: RawStore, per_task: int) -> None:
        self.runner = runner
        self.store = store
        self.per_task = per_task
        self._window = 0

    def ship(self, batch: Batch) -> Batch:
        return ship(batch, self.store)

    def window(self) -> int:
        if not self._window:  # the cluster exists from the first submit on
            threads = sum(self.runner.client.nthreads().values())
            self._window = max(1, threads) * TASKS_PER_WORKER
        return self._window

    def submit(self, spec: SourceSpec, batches: list[Batch]) -> Any:
        run = FlowRunContext.get()
        with run.model_copy(update={"flow": PARSE_FLOW}) if run else contextlib.nullcontext():
            return self.runner.submit(
                parse_groups.with_options(name=f"parse-{spec.name}"),
                {"parse": spec.parse, "batches": pickle.dumps(batches)},
            )


def _runner(run: Run) -> Any:
    try:
        from prefect_dask import DaskTaskRunner
    except ImportError as exc:
        raise ConfigError(
            "[run] task_runner = 'dask' needs prefect-dask: pip install 'partnerdd[dask]'"
        ) from exc
    if run.dask_address:
        return DaskTaskRunner(address=run.dask_address)
    return DaskTaskRunner(
        cluster_kwargs={
            "n_workers": run.dask_workers,
            "threads_per_worker": 1,  # a parse holds the GIL: processes, not threads
            "processes": True,
            "dashboard_address": None,
            "silence_logs": logging.WARNING,
        }
    )


@contextlib.contextmanager
def parser(run: Run, store_root: Path) -> Iterator[GroupParser]:
    """The parser `landing.parse_pending` uses for this run: by default a ProcessParser of
    `[run] parse_processes` local processes (parse_here with none), a DaskParser when
    `[run] task_runner = "dask"`; either's processes end on exit."""
    if run.task_runner != "dask":
        if not run.parse_processes:
            yield parse_here
            return
        local = ProcessParser(store_root, run.parse_processes)
        try:
            yield local
        finally:
            local.close()
        return
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    # The workers report their task runs to this run's Prefect API. Without one configured
    # that is the temporary server of this process, which a worker cannot find by itself (it
    # would start its own, 7-22 s each, and record the tasks there): name it for them.
    api_url = PREFECT_API_URL.value()
    if not api_url:
        with get_client(sync_client=True) as client:
            api_url = str(client.api_url)
    with temporary_settings({PREFECT_API_URL: api_url}), _runner(run) as runner:
        yield DaskParser(runner, RawStore(store_root), run.dask_groups_per_task)
