"""GLEIF LEI records for partners whose LEI is known."""

from __future__ import annotations

from typing import Any

import requests

from connectors.config import Settings
from connectors.gleif.client import GleifClient
from connectors.gleif.ownership import GleifOwnershipError, parse_other_names
from connectors.gleif.parse import GleifPayloadError, parse_lei_records
from connectors.source import Batch, Extracted, Parsed, Partner, SourceSpec, provenance

KIND = "lei_record"


def extract(partners: list[Partner], settings: Settings, out: Extracted) -> None:
    client = GleifClient.from_settings(settings)
    out.report(total=sum(1 for p in partners if p.lei))
    for partner in partners:
        if not partner.lei:
            out.record(
                partner.partner_id,
                None,
                "skipped",
                error="no LEI given in the registry or resolved by name search",
            )
            continue
        url = f"{client.base_url}/lei-records/{partner.lei}"
        try:
            out.record_response(partner.partner_id, client.lei_record(partner.lei), kind=KIND)
        except requests.RequestException as exc:
            out.record_exception(partner.partner_id, url, exc, kind=KIND)
        out.report(advance=1)


def parse(batch: Batch) -> Parsed:
    parsed = Parsed()
    for partner_id, response in batch.ok_responses():
        try:
            rows: list[dict[str, Any]] = parse_lei_records(response.body)
        except GleifPayloadError as exc:
            parsed.problem("gleif", partner_id, response, str(exc))
            continue
        parsed.add("raw.gleif__lei_records", [{**r, **provenance(response)} for r in rows])
        try:
            names = parse_other_names(response.body, response.url)
        except GleifOwnershipError as exc:
            parsed.problem("gleif", partner_id, response, str(exc))
            continue
        parsed.add(
            "raw.gleif__other_names",
            [{**n, **provenance(response)} for n in names],
        )
    return parsed


SPEC = SourceSpec(
    name="gleif",
    extract=extract,
    parse=parse,
    landing={"raw.gleif__lei_records": "lei", "raw.gleif__other_names": "lei"},
    kinds=(KIND,),
    # gleif_ownership and resolution use this URL and rate limit too
    config={
        "gleif": {
            "url": "https://api.gleif.org/api/v1",
            "rate_per_second": 5.0,
            "max_age_hours": 20,  # reused when younger (a nightly run revalidates)
        }
    },
    offline=lambda base_url: {"PARTNERDD_GLEIF_URL": f"{base_url}/gleif"},
)
