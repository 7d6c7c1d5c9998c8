"""Per-partner work on a bounded pool (connectors/workers.py) over real loopback HTTP: the
requests overlap, yet only the calling thread writes to the raw store, each partner's entries
stay together, and a partner whose work raises is its own failed row."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from connectors.config import load_settings
from connectors.http import make_session
from connectors.replay import ReplayServer, Route
from connectors.source import Extracted, Partner
from connectors.workers import for_each_partner
from flows.store import RawStore
from tests.journal import read_journal


class WriterThreads(RawStore):
    """The real raw store, noting which thread writes each journal line."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.writers: set[int] = set()

    def journal(self, entry: dict[str, Any]) -> None:
        self.writers.add(threading.get_ident())
        super().journal(entry)


def test_workers_fetch_concurrently_and_one_thread_writes(tmp_path: Path) -> None:
    partners = [Partner(f"p{i}", f"P {i}", "DEU", "DE") for i in range(12)]
    routes = [Route(path=f"/x/{p.partner_id}", body=p.partner_id.encode()) for p in partners]
    store = WriterThreads(tmp_path)
    store.begin("run")
    session = make_session("test", load_settings({}))
    in_flight, most = 0, 0
    lock = threading.Lock()

    with ReplayServer(routes=routes, latency=0.2) as server:

        def work(partner: Partner, sink: Extracted) -> None:
            nonlocal in_flight, most
            if partner.partner_id == "p3":
                raise ValueError("a connector bug for this partner")
            with lock:
                in_flight += 1
                most = max(most, in_flight)
            try:
                for part in ("a", "b"):
                    url = f"{server.base_url}/x/{partner.partner_id}"
                    sink.record_response(partner.partner_id, session.fetch(url), kind=part)
            finally:
                with lock:
                    in_flight -= 1

        for_each_partner(Extracted("test", store), partners, work, size=4)
    store.close()

    assert store.writers == {threading.get_ident()}  # the calling thread only
    assert 1 < most <= 4  # requests overlapped, never more than the pool
    entries = read_journal(tmp_path / "journal" / "run.jsonl")
    order = [e["partner_id"] for e in entries if e["type"] == "response"]
    fetched = [p.partner_id for p in partners if p.partner_id != "p3"]
    assert sorted(order) == sorted(fetched * 2)
    assert all(order[i] == order[i + 1] for i in range(0, len(order), 2))  # kept together
    failed = [e for e in entries if e["type"] == "log" and e["outcome"] == "failed"]
    assert [(e["partner_id"], e["error"]) for e in failed] == [
        ("p3", "ValueError: a connector bug for this partner")
    ]
