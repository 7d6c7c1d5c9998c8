"""World Bank governance indicators for every country (one dataset, all years)."""

from __future__ import annotations

import requests

from connectors.config import Settings
from connectors.source import Batch, Extracted, Parsed, Partner, SourceSpec, provenance
from connectors.worldbank.client import WorldBankClient
from connectors.worldbank.parse import WgiPayloadError, parse_wgi_api, parse_wgi_workbook

WORKBOOK = "wgi_workbook"
API_PAGE = "wgi_api_page"


def extract(partners: list[Partner], settings: Settings, out: Extracted) -> None:
    client = WorldBankClient.from_settings(settings)
    mode = str(settings.source("worldbank")["mode"])
    out.report(total=1 if mode == "bulk" else 6)
    try:
        if mode == "bulk":
            out.record_response(None, client.bulk_workbook(), kind=WORKBOOK)
            out.report(advance=1)
        else:
            for response in client.api_series():
                out.record_response(None, response, kind=API_PAGE)
                out.report(advance=1)
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
    config={
        "worldbank": {
            # "bulk" downloads the publisher's WGI workbook (one request, all countries and
            # years); "api" pages through the World Bank API v2 for the six GOV_WGI_*.EST
            # series (source=3).
            "mode": "bulk",
            "url": "https://api.worldbank.org/v2",
            "bulk_url": "https://www.worldbank.org/content/dam/sites/govindicators/doc/wgidataset.xlsx",
            "rate_per_second": 2.0,
            "max_age_hours": 20,  # reused when younger (a nightly run revalidates)
        }
    },
    offline=offline,
    per_partner=False,
)
