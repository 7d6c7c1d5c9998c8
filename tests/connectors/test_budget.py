"""A source's time budget one level down (connectors/budget.py), over real loopback HTTP: past
it, a session makes no new request (the server never sees one) and a per-partner pool defers
the partners it has not begun, each with its `deferred` row and the reason; what was answered
before is stored. The whole refresh: tests/flows/test_time_budget.py."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from connectors.budget import BudgetSpent, TimeBudget
from connectors.config import load_settings
from connectors.http import make_session
from connectors.replay import ReplayServer, Route
from connectors.source import Extracted, Partner
from connectors.workers import for_each_partner
from flows.store import RawStore
from tests.journal import read_journal

LATENCY = 0.2  # each answer takes longer than the budget below
BUDGET = 0.05


def test_past_its_budget_a_session_makes_no_new_request() -> None:
    budget = TimeBudget("test", BUDGET)
    session = make_session("test", replace(load_settings({}), budget=budget))
    with ReplayServer(routes=[Route("/a", body=b"a")], latency=LATENCY) as server:
        budget.start()
        assert session.fetch(f"{server.base_url}/a").body == b"a"  # in flight: it finishes
        with pytest.raises(BudgetSpent, match="time budget of 0.05 s"):
            session.fetch(f"{server.base_url}/a")
        assert len(server.requests) == 1
    assert budget.reached


def test_an_unstarted_or_unlimited_budget_stops_nothing() -> None:
    unlimited = TimeBudget("test", 0)
    unlimited.start()
    for budget in (TimeBudget("test", BUDGET), unlimited):  # the first is never started
        assert not budget.spent()
        budget.check()
        assert not budget.reached


def test_a_pool_defers_the_partners_it_has_not_begun(tmp_path: Path) -> None:
    partners = [Partner(f"p{i}", f"P {i}", "DEU", "DE") for i in range(6)]
    budget = TimeBudget("test", BUDGET)
    session = make_session("test", replace(load_settings({}), budget=budget))
    store = RawStore(tmp_path)
    store.begin("run")
    routes = [Route(path=f"/x/{p.partner_id}", body=p.partner_id.encode()) for p in partners]
    with ReplayServer(routes=routes, latency=LATENCY) as server:

        def work(partner: Partner, sink: Extracted) -> None:
            url = f"{server.base_url}/x/{partner.partner_id}"
            sink.record_response(partner.partner_id, session.fetch(url), kind="x")

        budget.start()
        for_each_partner(Extracted("test", store), partners, work, size=1, budget=budget)
        asked = len(server.requests)
    store.close()
    entries = read_journal(tmp_path / "journal" / "run.jsonl")
    answered = [e["partner_id"] for e in entries if e["type"] == "response"]
    deferred = [e for e in entries if e["type"] == "log" and e["outcome"] == "deferred"]
    assert answered == ["p0"] and asked == 1  # one at a time: the first answer spends it
    assert sorted(e["partner_id"] for e in deferred) == [p.partner_id for p in partners[1:]]
    assert all("deferred to the next run" in e["error"] for e in deferred)
