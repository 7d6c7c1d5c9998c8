"""World Bank governance indicators for every country (one dataset, all years)."""

from __future__ import annotations

import requests
from prefect import task
from prefect.cache_policies import NO_CACHE

from connectors.config import Settings
from connectors.http import RawResponse
from connectors.worldbank.client import WorldBankClient
from connectors.worldbank.parse import WgiPayloadError, parse_wgi_api, parse_wgi_workbook
from flows.progress import report
from flows.registry import Partner
from flows.sources.base import Extracted, Parsed, SourceSpec, provenance


@task(name="extract-worldbank", cache_policy=NO_CACHE)
def extract(partners: list[Partner], settings: Settings) -> Extracted:
    out = Extracted("worldbank")
    client = WorldBankClient.from_settings(settings)
    mode = str(settings.source("worldbank").get("mode", "bulk"))
    report("worldbank", total=1 if mode == "bulk" else 6)
    try:
        if mode == "bulk":
            out.record_response(None, client.bulk_workbook())
            report("worldbank", advance=1)
        else:
            for response in client.api_series():
                out.record_response(None, response)
                report("worldbank", advance=1)
    except requests.RequestException as exc:
        out.record_exception(None, client.bulk_url if mode == "bulk" else client.base_url, exc)
    return out


def _parse_one(response: RawResponse) -> list[dict[str, object]]:
    if response.body[:2] == b"PK":  # an xlsx workbook is a zip archive
        return parse_wgi_workbook(response.body)
    return parse_wgi_api(response.body)


@task(name="parse-worldbank", cache_policy=NO_CACHE)
def parse(extracted: Extracted) -> Parsed:
    parsed = Parsed()
    for partner_id, response in extracted.ok_responses():
        try:
            rows = _parse_one(response)
        except WgiPayloadError as exc:
            parsed.problem("worldbank", partner_id, response, str(exc))
            continue
        parsed.add("raw.worldbank__wgi", [{**r, **provenance(response)} for r in rows])
    return parsed


def offline(base_url: str) -> dict[str, str]:
    return {
        "PARTNERDD_WORLDBANK_MODE": "bulk",
        "PARTNERDD_WORLDBANK_BULK_URL": f"{base_url}/worldbank/wgidataset.xlsx",
        "PARTNERDD_WORLDBANK_URL": f"{base_url}/worldbank/v2",
    }


SPEC = SourceSpec(
    name="worldbank",
    extract=extract,
    parse=parse,
    landing={"raw.worldbank__wgi": None},
    offline=offline,
    needs_partners=False,
)
