"""One offline refresh per test session for every dossier, portfolio, CLI and browser test here.

The registry is the demo registry (websites cleared, since the crawler would look them up
on the internet) plus one partner whose website is a loopback ReplayServer. Its home page
was written by us for this test (a shaped page, not a real payload): its <title> carries a
planted <script> that must render as text, and its text names capabilities the home company
seeks. A second extra partner carries markup in its registry name. Every other source
replays the demo snapshot."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest

from connectors.replay import ReplayServer, Route
from flows.offline import DEMO_PARTNERS, offline_sources
from flows.refresh import refresh
from tests.conftest import shared_state

PLANTED = "document.documentElement.setAttribute('data-pwned','yes')"
PLANTED_HOME = f"""<!doctype html><html lang="en"><head>
<title>Planted Manufacturing <script>{PLANTED}</script></title>
<script type="application/ld+json">{{"@context": "https://schema.org", "@type": "Organization",
 "name": "Planted Manufacturing Ltd", "numberOfEmployees": 2500}}</script>
</head><body><h1>Planted Manufacturing</h1>
<p>We offer contract manufacturing, logistics and warehousing for customers across Asia.</p>
</body></html>""".encode()
MARKUP_NAME = "Markup <b>Bold</b> | Co *star*"
DB = "partnerdd.duckdb"


def _registry(site: str) -> str:
    rows = list(csv.DictReader(io.StringIO(DEMO_PARTNERS.read_text(encoding="utf-8"))))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({**row, "website": ""})
    writer.writerow(
        {
            "partner_id": "planted",
            "name": "Planted Manufacturing Ltd",
            "website": site,
            "country": "JP",
            "lei": "",
            "cik": "",
        }
    )
    writer.writerow(
        {
            "partner_id": "markup",
            "name": MARKUP_NAME,
            "website": "",
            "country": "NL",
            "lei": "",
            "cik": "",
        }
    )
    return out.getvalue()


@pytest.fixture(scope="session")
def refreshed(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Built once per session (tests/conftest.py `shared_state`), read-only: `db`, `work`,
    `summary`."""

    def build(work: Path) -> dict[str, Any]:
        html = "text/html; charset=utf-8"
        site = ReplayServer(
            routes=[
                Route("/robots.txt", body=b"User-agent: *\nAllow: /\n", content_type="text/plain"),
                Route("/", body=PLANTED_HOME, content_type=html),
            ]
        )
        site.start()
        registry = work / "partners.csv"
        registry.write_text(_registry(site.base_url + "/"), encoding="utf-8")
        try:
            with offline_sources() as demo:
                overrides = {
                    **demo,
                    "PARTNERDD_WEB_OFFLINE": "0",
                    "PARTNERDD_WEB_RATE_PER_SECOND": "0",
                    "PARTNERDD_RETRIES": "0",
                }
                summary = refresh(str(registry), str(work / DB), overrides, str(work / "docs"))
        finally:
            site.stop()
        assert summary["status"] in ("ok", "ok_with_warnings"), summary["failures"]
        return {"summary": summary}

    state = shared_state(request, "dossier", build)
    return {**state, "db": state["work"] / DB}
