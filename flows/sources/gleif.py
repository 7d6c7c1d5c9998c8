"""GLEIF LEI records for partners whose LEI is known."""

from __future__ import annotations

from typing import Any

import requests
from prefect import task
from prefect.cache_policies import NO_CACHE

from connectors.config import Settings
from connectors.gleif.client import GleifClient
from connectors.gleif.ownership import GleifOwnershipError, parse_other_names
from connectors.gleif.parse import GleifPayloadError, parse_lei_records
from flows.progress import report
from flows.registry import Partner
from flows.sources.base import Batch, Extracted, Parsed, SourceSpec, provenance

KIND = "lei_record"


@task(name="extract-gleif", cache_policy=NO_CACHE)
def extract(partners: list[Partner], settings: Settings, out: Extracted) -> None:
    client = GleifClient.from_settings(settings)
    report("gleif", total=sum(1 for p in partners if p.lei))
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
        report("gleif", advance=1)


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


def offline(base_url: str) -> dict[str, str]:
    return {"PARTNERDD_GLEIF_URL": f"{base_url}/gleif"}


SPEC = SourceSpec(
    name="gleif",
    extract=extract,
    parse=parse,
    landing={"raw.gleif__lei_records": "lei", "raw.gleif__other_names": "lei"},
    kinds=(KIND,),
    offline=offline,
)
