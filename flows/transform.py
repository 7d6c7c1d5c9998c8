"""Parse tasks: raw responses -> landing rows. A payload that does not parse becomes a
log row with the reason; its bytes are already stored in raw.http_responses."""

from __future__ import annotations

from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from connectors.gleif.parse import parse_lei_records
from connectors.http import RawResponse
from connectors.worldbank.parse import parse_wgi_api, parse_wgi_workbook
from flows.extract import Extracted

Parsed = tuple[list[dict[str, Any]], list[dict[str, Any]]]


def _provenance(response: RawResponse) -> dict[str, Any]:
    return {
        "source_url": response.url,
        "payload_sha256": response.sha256,
        "fetched_at": response.fetched_at,
    }


def _parse_each(extracted: Extracted, parser: Any) -> Parsed:
    rows: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    for partner_id, response in extracted.responses:
        if not response.ok:
            continue
        try:
            parsed = parser(response)
        except ValueError as exc:
            errors.append(
                {
                    "source": extracted.source,
                    "partner_id": partner_id,
                    "url": response.url,
                    "status": response.status,
                    "outcome": "parse_error",
                    "error": str(exc),
                    "payload_sha256": response.sha256,
                }
            )
            continue
        rows.extend({**row, **_provenance(response)} for row in parsed)
    return rows, errors


@task(name="parse-gleif", cache_policy=NO_CACHE)
def parse_gleif(extracted: Extracted) -> Parsed:
    return _parse_each(extracted, lambda r: parse_lei_records(r.body))


def _parse_wgi(response: RawResponse) -> list[dict[str, Any]]:
    if response.body[:2] == b"PK":  # xlsx is a zip archive
        return parse_wgi_workbook(response.body)
    return parse_wgi_api(response.body)


@task(name="parse-worldbank", cache_policy=NO_CACHE)
def parse_worldbank(extracted: Extracted) -> Parsed:
    return _parse_each(extracted, _parse_wgi)
