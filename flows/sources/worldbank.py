"""World Bank governance indicators for every country (one dataset, all years)."""

from __future__ import annotations

import requests
from prefect import task
from prefect.cache_policies import NO_CACHE

from connectors.config import Settings
from connectors.worldbank.client import WorldBankClient
from connectors.worldbank.parse import WgiPayloadError, parse_wgi_api, parse_wgi_workbook
from flows.progress import report
from flows.registry import Partner
from flows.sources.base import Batch, Extracted, Parsed, SourceSpec, provenance

WORKBOOK = "wgi_workbook"
API_PAGE = "wgi_api_page"


@task(name="extract-worldbank", cache_policy=NO_CACHE)
def extract(partners: list[Partner], settings: Settings, out: Extracted) -> None:
    client = WorldBankClient.from_settings(settings)
    mode = str(settings.source("worldbank")["mode"])
    report("worldbank", total=1 if mode == "bulk" else 6)
    try:
        if mode == "bulk":
            out.record_response(None, client.bulk_workbook(), kind=WORKBOOK)
            report("worldbank", advance=1)
        else:
            for response in client.api_series():
                out.record_response(None, response, kind=API_PAGE)
                report("worldbank", advance=1)
    except requests.RequestException as exc:
        url = client.bulk_url if mode == "bulk" else client.base_url
        out.record_exception(None, url, exc, kind=WORKBOOK if mode == "bulk" else API_PAGE)


def parse(batch: Batch) -> Parsed:
    parsed = Parsed()
    for partner_id, response in batch.ok_responses():
        read = parse_wgi_workbook if response.kind == WORKBOOK else parse_wgi_api
        try:
            rows = read(response.body)
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
    kinds=(WORKBOOK, API_PAGE),
    offline=offline,
    per_partner=False,
)
