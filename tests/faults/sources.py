"""One source's real fetch, parse and landing against the faulty replay server, without the
flow (no Prefect): what a refresh does for that source, so that each fault can be tried on
each connector in a fraction of a second instead of a whole refresh."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from connectors.config import for_every_source, load_settings
from connectors.replay import Route
from connectors.source import Extracted, Partner, SourceSpec
from flows import landing, revalidate
from flows.db import columns, open_work, records
from flows.offline import source_overrides
from flows.revalidate import StoredAnswers
from flows.store import RawStore
from tests.conftest import FIXTURES

# Columns that say when, in which collection or from which payload bytes a row was made, not
# what it says (a body read right despite a wrong charset label is other bytes, same facts).
VOLATILE = {"fetched_at", "collection_id", "row_id", "occurred_at", "loaded_at", "payload_sha256"}
# Tables that record each fetch's outcome: a fault is meant to show there.
OUTCOME_TABLES = {"raw.web__fetches", "raw.news__fetches", "raw.news__feed_fetches"}
NOT_FAILURES = ("ok", "skipped", "not_recorded")
# The test sites share one loopback host, so which partner's crawl reads its robots.txt first
# (and has the row) varies from run to run. A partner's last crawl that failed (its home page
# could not be fetched) stays beside its last one that did not fail until the next failed one
# replaces it; staging shows it only while it is the latest (tests/flows/test_web_landing.py).
ROW_FILTERS = {"raw.web__fetches": " where kind <> 'robots' and not crawl_failed"}
HTML = "text/html; charset=utf-8"
SITE_LINKS = ("/about", "/imprint", "/kontakt")  # the page's own links (site-absolute)
ATOM_LINK = b'<link rel="alternate" type="application/atom+xml" href="news.atom" title="News">'


@dataclass
class Landed:
    """What one run of a source left: its fetch log rows and its landing tables' content."""

    fetch_log: list[dict[str, Any]]
    tables: dict[str, list[tuple[Any, ...]]]

    def failures(self) -> list[dict[str, Any]]:
        return [r for r in self.fetch_log if r["outcome"] not in NOT_FAILURES]


def settings_env(base_url: str, **extra: str) -> dict[str, str]:
    """Every source at the replay server (web and news too), with small caps, one retry and
    no back-off before it; timeouts generous enough for a busy machine (see FAULT_ENV)."""
    return {
        **source_overrides(base_url),
        "PARTNERDD_WEB_OFFLINE": "0",
        "PARTNERDD_NEWS_OFFLINE": "0",
        "PARTNERDD_GDELT_URL": f"{base_url}/gdelt",
        "PARTNERDD_GDELT_RATE_PER_SECOND": "0",
        "PARTNERDD_NEWS_RATE_PER_SECOND": "0",
        "PARTNERDD_WEB_RATE_PER_SECOND": "0",
        "PARTNERDD_NEWS_AS_OF": "2024-07-01",
        "PARTNERDD_BACKOFF_FACTOR": "0",
        "PARTNERDD_RETRIES": "1",
        "PARTNERDD_CONNECT_TIMEOUT_SECONDS": "5",
        "PARTNERDD_READ_TIMEOUT_SECONDS": "5",
        "PARTNERDD_TOTAL_TIMEOUT_SECONDS": "20",
        "PARTNERDD_MAX_RESPONSE_BYTES": str(16 << 20),
        "PARTNERDD_WEB_MAX_RESPONSE_BYTES": str(2 << 20),
        "PARTNERDD_NEWS_MAX_RESPONSE_BYTES": str(2 << 20),
        **extra,
    }


# The run that meets a timing fault waits a fraction of a second for it, without a retry
# (tests/connectors/test_http.py covers retries); its other requests may time out too on a
# busy machine, which only adds failures to that run.
FAULT_ENV = {
    "connect_timeout": {"PARTNERDD_CONNECT_TIMEOUT_SECONDS": "0.25", "PARTNERDD_RETRIES": "0"},
    "read_timeout": {"PARTNERDD_READ_TIMEOUT_SECONDS": "0.25", "PARTNERDD_RETRIES": "0"},
    "trickle": {"PARTNERDD_TOTAL_TIMEOUT_SECONDS": "0.5"},
}


def revalidating(env: dict[str, str]) -> dict[str, str]:
    """A night later: every stored answer is asked again (conditionally)."""
    return {**env, **for_every_source("max_age_hours", "0")}


def site_routes(partner_ids: list[str]) -> list[Route]:
    """A small website per partner under /<partner_id>/ on the replay server: a real page
    (fairkom's about page, German) declaring a real Atom feed (heise developer), the pages
    it links to, and a robots.txt that allows everything; a GDELT answer shaped like the
    documented one."""
    page = (FIXTURES / "company_html" / "fairkom.eu.about.html").read_bytes()
    home = page.replace(b"</head>", ATOM_LINK + b"</head>", 1)
    feed = (FIXTURES / "news" / "heise_developer.atom").read_bytes()
    routes = [
        Route("/robots.txt", body=b"User-agent: *\nAllow: /\n", content_type="text/plain"),
        *(Route(link, body=page, content_type=HTML) for link in SITE_LINKS),
        Route(
            "/gdelt/doc/doc",
            body=(FIXTURES / "news" / "gdelt_artlist_shaped.json").read_bytes(),
            content_type="application/json",
        ),
    ]
    for pid in partner_ids:
        routes += [
            Route(f"/{pid}/", body=home, content_type=HTML),
            Route(f"/{pid}/news.atom", body=feed, content_type="application/atom+xml"),
        ]
    return routes


def land(root: Path, spec: SourceSpec, partners: list[Partner], env: dict[str, str]) -> Landed:
    """Extract, store, ingest, parse and land `spec` for `partners` like a refresh does
    (stored answers revalidated or reused, cursors), in the store at `root`."""
    settings = load_settings(env)
    store = RawStore(root)
    con = open_work(root, env)
    run_id = uuid.uuid4().hex
    try:
        settings = replace(
            settings,
            answers=StoredAnswers.load(con, store),
            cursors=revalidate.cursors(con, [spec]),
        )
        store.begin(run_id)
        try:
            spec.extract(partners, settings, Extracted(spec.name, store))
        except Exception as exc:  # the flow's task fails this source alone, and says why
            store.log({"source": spec.name, "outcome": "failed", "error": f"raised {exc!r}"})
            raised = True
        else:
            raised = False
        store.close()
        landing.ingest(con, store.journals / f"{run_id}.jsonl")
        if not raised:
            landing.parse_pending(con, store, spec, settings, run_id)
        log = records(
            con,
            "select kind, partner_id, url, status, outcome, error from ops.fetch_log "
            "where run_id = ? order by occurred_at",
            [run_id],
        )
        return Landed(log, {table: _content(con, table) for table in spec.landing})
    finally:
        con.close()


def _content(con: Any, table: str) -> list[tuple[Any, ...]]:
    kept = [name for name, _ in columns(con, table) if name not in VOLATILE]
    select = ", ".join(f'"{name}"' for name in kept)
    where = ROW_FILTERS.get(table, "")
    rows = con.execute(f"select {select} from {table}{where}").fetchall()  # noqa: S608
    return sorted(rows, key=repr)
