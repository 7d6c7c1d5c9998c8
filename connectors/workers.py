"""Per-partner work of one source on a bounded thread pool, with one writer.

Workers only fetch: what a worker records for its partner (answers, fetch-log rows, extract
records) is held in that partner's buffer, and the calling thread writes the buffers to the
raw store as partners complete. So the store keeps one writer per source, a partner's
entries stay together in the journal, and memory is bounded by the partners in flight
(at most twice the pool's size). Each host's rate limit is held by the process-wide limiter
(connectors/http.py) whatever the number of threads, so the pool only lets requests overlap
their latency: the pace becomes the allowed rate, not the round trip.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

from connectors.budget import TimeBudget
from connectors.source import Extracted, Partner, PayloadStore

DEFAULT_WORKERS = 8


class _Buffer:
    """A PayloadStore that holds writes until `replay` hands them to the real store."""

    def __init__(self, store: PayloadStore) -> None:
        self.run_id = store.run_id
        self._store = store
        self._calls: list[tuple[str, dict[str, Any]]] = []

    def put(self, **kwargs: Any) -> dict[str, Any]:
        self._calls.append(("put", kwargs))
        return {}

    def log(self, row: Mapping[str, Any]) -> None:
        self._calls.append(("log", {"row": row}))

    def journal(self, entry: dict[str, Any]) -> None:
        self._calls.append(("journal", {"entry": entry}))

    def body(self, sha256: str) -> bytes:
        return self._store.body(sha256)

    def replay(self) -> None:
        for name, kwargs in self._calls:
            getattr(self._store, name)(**kwargs)
        self._calls.clear()


def workers(settings_section: Mapping[str, Any]) -> int:
    """The pool size a source's settings ask for (`workers`), at least one."""
    return max(1, int(settings_section.get("workers", DEFAULT_WORKERS)))


def for_each_partner(
    out: Extracted,
    partners: Iterable[Partner],
    work: Callable[[Partner, Extracted], None],
    size: int,
    budget: TimeBudget | None = None,
) -> None:
    """work(partner, sink) for every partner, `size` at a time; the sink records like `out`.

    An exception `work` lets through is that partner's failed row; the others go on. A
    partner not begun when the source's time budget is spent is deferred, not worked on.
    """

    def run(partner: Partner) -> _Buffer:
        buffer = _Buffer(out.store)
        sink = Extracted(out.source, buffer)
        if sink.deferred(partner.partner_id, budget):
            return buffer
        try:
            work(partner, sink)
        except Exception as exc:  # one partner's failure is its own row
            sink.record_exception(partner.partner_id, None, exc)
        return buffer

    todo = iter(partners)
    with ThreadPoolExecutor(max_workers=size, thread_name_prefix=f"extract-{out.source}") as pool:
        running: set[Future[_Buffer]] = set()
        try:
            while True:
                for partner in todo:
                    running.add(pool.submit(run, partner))
                    if len(running) >= 2 * size:
                        break
                if not running:
                    return
                done, running = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    future.result().replay()
                    out.report(advance=1)
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
