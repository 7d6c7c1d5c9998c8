"""A dossier rendered from a small real warehouse (no refresh): a sanctions candidate with its
matched fields, the review tier, and hostile text from the list escaped in every format."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from flows.dossier.data import dossier_data
from flows.dossier.render import render_html, render_json, render_markdown
from tests.fit.warehouse import empty_warehouse, partner, put, score

HOSTILE = "ACME <img src=x onerror=alert(1)> TRADING"


def test_sanctions_candidate_dossier(tmp_path: Path) -> None:
    con = empty_warehouse(tmp_path / "small.duckdb")
    partner(con, "acme", "NLD", sanctions_hit_count=1)
    put(
        con,
        "staging.stg_sanctions__entries",
        {
            "list_name": "OFAC_SDN",
            "entry_id": "7",
            "list_published": datetime(2021, 4, 1).date(),
            "source_url": "http://127.0.0.1/sdn.csv",
            "fetched_at": datetime(2026, 1, 5, tzinfo=UTC),
        },
    )
    put(
        con,
        "marts.partner_sanctions_hits",
        {
            "partner_id": "acme",
            "hit_key": "acme:OFAC_SDN:7",
            "list": "OFAC_SDN",
            "entry_id": "7",
            "listed_name": HOSTILE,
            "matched_name": "Acme",
            "score": 96.5,
            "matched_on": "legal_form_stripped",
            "matched_fields": "registry_name",
            "threshold": 90.0,
            "source_url": "http://127.0.0.1/sdn.csv",
        },
    )
    score(con)
    data = dossier_data(con, "acme")
    con.close()
    assert data["fit"]["tier"] == "review before contact"
    html = render_html(data)
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "<img" not in html
    assert "registry_name" in html and "legal_form_stripped" in html and "96.5" in html
    assert "sanctions termination right" in html  # agreement checklist, termination clause
    md = render_markdown(data)
    assert "&lt;img src=x onerror=alert\\(1\\)&gt;" in md and "<img" not in md
    assert json.loads(render_json(data))["sanctions"][0]["listed_name"] == HOSTILE


def test_a_failed_crawl_is_named_beside_the_site_facts_of_the_crawl_before(
    tmp_path: Path,
) -> None:
    con = empty_warehouse(tmp_path / "small.duckdb")
    partner(con, "acme", "NLD")
    put(
        con,
        "marts.partner_web_profile",
        {
            "partner_id": "acme",
            "web_status": "ok",
            "crawled_at": datetime(2026, 1, 5, 3, tzinfo=UTC),
            "failed_attempt_status": "timeout",
            "failed_attempt_reason": "ConnectTimeout: connect timed out",
            "home_title": "Acme Trading",
        },
    )
    score(con)
    html = render_html(dossier_data(con, "acme"))
    con.close()
    assert "Acme Trading" in html
    assert "latest crawl failed: timeout" in html
    assert (
        "ConnectTimeout: connect timed out; the site facts are from the crawl of 2026-01-05" in html
    )
