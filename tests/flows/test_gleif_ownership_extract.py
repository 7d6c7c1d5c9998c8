"""The GLEIF ownership extract task against the loopback ReplayServer, without the flow:
children paging stays on the configured host, stops at the configured cap with a logged
reason, and every page is stored as it arrives and parses from the store."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from connectors.config import load_settings
from connectors.gleif_ownership import source as gleif_ownership
from connectors.replay import ReplayServer, Route
from connectors.source import Batch, Extracted, Partner, Stored
from flows.store import RawStore
from tests.journal import read_journal

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "gleif"
SHELL = "21380068P1DRHMJ8KU70"
JSONAPI = "application/vnd.api+json"


def lei_route(endpoint: str, file: str, **query: str) -> Route:
    return Route(
        path=f"/api/v1/lei-records/{SHELL}/{endpoint}",
        body=(FIXTURES / file).read_bytes(),
        content_type=JSONAPI,
        query=query,
    )


ROUTES = [
    # No relationship routes: the replay server answers 404 like the real API does.
    lei_route(
        "direct-parent-reporting-exception", f"direct-parent-reporting-exception_{SHELL}.json"
    ),
    lei_route(
        "ultimate-parent-reporting-exception", f"ultimate-parent-reporting-exception_{SHELL}.json"
    ),
    lei_route("direct-children", f"direct-children_{SHELL}.json", **{"page[number]": "1"}),
    # Page 2 is not recorded; a real empty page ends the paging there.
    lei_route(
        "direct-children",
        "direct-children_254900LNRYNOQ9YPU758_empty.json",
        **{"page[number]": "2"},
    ),
]


def extract(tmp_path: Path, base_url: str, max_pages: int = 5) -> list[dict[str, Any]]:
    """Run the extract function for Shell; returns its journal entries."""
    settings = load_settings(
        env={
            "PARTNERDD_GLEIF_URL": f"{base_url}/api/v1",
            "PARTNERDD_GLEIF_RATE_PER_SECOND": "0",
            "PARTNERDD_GLEIF_OWNERSHIP_MAX_CHILDREN_PAGES": str(max_pages),
        }
    )
    store = RawStore(tmp_path / "store")
    store.begin("run-1")
    shell = Partner("shell", "Shell plc", "GBR", "GB", lei=SHELL)
    gleif_ownership.extract([shell], settings, Extracted(gleif_ownership.SOURCE, store))
    store.close()
    return read_journal(store.journals / "run-1.jsonl")


def stored(entries: list[dict[str, Any]], store: RawStore) -> list[Stored]:
    return [
        Stored(
            response_id=e["response_id"],
            source=e["source"],
            kind=e["kind"],
            partner_id=e["partner_id"],
            url=e["url"],
            status=e["status"],
            headers=e["headers"],
            sha256=e["sha256"],
            fetched_at=datetime.fromisoformat(e["fetched_at"]),
            meta=e["meta"],
            store=store,
        )
        for e in entries
        if e["type"] == "response"
    ]


def test_children_paging_follows_next_on_our_own_host(tmp_path: Path) -> None:
    with ReplayServer(routes=ROUTES) as server:
        entries = extract(tmp_path, server.base_url, max_pages=5)
    children = [r for r in server.requests if r["path"].endswith("/direct-children")]
    # The recorded links.next points at api.gleif.org; only its query was used.
    assert [r["query"] for r in children] == [
        {"page[size]": "100", "page[number]": "1"},
        {"page[number]": "2", "page[size]": "15"},
    ]
    answers = stored(entries, RawStore(tmp_path / "store"))
    pages = [a for a in answers if a.kind == gleif_ownership.CHILDREN]
    assert len(pages) == 2 and all(p.url.startswith(server.base_url) for p in pages)
    batch = Batch(gleif_ownership.SOURCE, "shell", answers, {}, load_settings(env={}))
    parsed = gleif_ownership.parse(batch)
    assert parsed.problems == []
    rows = parsed.tables["raw.gleif__children"]
    assert len(rows) == 15 and {r["children_total"] for r in rows} == {106}
    assert ("5493009V2TKX7TKLBP02", "JP") in [(r["child_lei"], r["child_country"]) for r in rows]
    exceptions = parsed.tables["raw.gleif__ownership"]
    assert [(r["relation"], r["exception_reason"]) for r in exceptions] == [
        ("direct_parent", "NO_KNOWN_PERSON"),
        ("ultimate_parent", "NO_KNOWN_PERSON"),
    ]


def test_children_page_cap_is_logged_with_the_reason(tmp_path: Path) -> None:
    with ReplayServer(routes=ROUTES) as server:
        entries = extract(tmp_path, server.base_url, max_pages=1)
    assert sum(r["path"].endswith("/direct-children") for r in server.requests) == 1
    skipped = [e for e in entries if e["type"] == "log" and e["outcome"] == "skipped"]
    assert [(e["kind"], e["error"]) for e in skipped] == [
        ("children_page", "children paging stopped at max_children_pages=1")
    ]


@pytest.mark.parametrize(
    ("encoding", "label"),
    [("utf-16", "; charset=iso-8859-1"), ("cp1252", ""), ("utf-8", "; charset=utf-8")],
    ids=["utf-16-labelled-latin-1", "cp1252-unlabelled", "utf-8"],
)
def test_children_paging_and_rows_do_not_depend_on_the_pages_charset(
    tmp_path: Path, encoding: str, label: str
) -> None:
    """Page 1 in another charset (what the fault suite's charset faults serve): the next
    page is read from it as from the UTF-8 page, so the same pages are asked (page 2 with
    the recorded page[size]=15, as test_children_paging_follows_next_on_our_own_host) and
    the same children parsed."""
    first = (FIXTURES / f"direct-children_{SHELL}.json").read_bytes()
    routes = [
        *ROUTES[:2],
        Route(
            path=f"/api/v1/lei-records/{SHELL}/direct-children",
            body=first.decode("utf-8").encode(encoding),
            content_type=JSONAPI + label,
            query={"page[number]": "1"},
        ),
        ROUTES[3],
    ]
    with ReplayServer(routes=routes) as server:
        entries = extract(tmp_path, server.base_url)
    children = [r["query"] for r in server.requests if r["path"].endswith("/direct-children")]
    assert children == [
        {"page[size]": "100", "page[number]": "1"},
        {"page[number]": "2", "page[size]": "15"},
    ]
    answers = stored(entries, RawStore(tmp_path / "store"))
    batch = Batch(gleif_ownership.SOURCE, "shell", answers, {}, load_settings(env={}))
    parsed = gleif_ownership.parse(batch)
    assert parsed.problems == []
    rows = parsed.tables["raw.gleif__children"]
    assert len(rows) == 15 and {r["children_total"] for r in rows} == {106}
