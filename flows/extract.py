"""Extract tasks: one task per source batch (never one per request), returning raw responses
and a log row for every attempt. Nothing here parses or writes the database."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import requests
from prefect import task
from prefect.cache_policies import NO_CACHE

from connectors.config import Settings
from connectors.gleif.client import GleifClient
from connectors.http import RawResponse
from connectors.worldbank.client import WorldBankClient
from flows.progress import report
from flows.registry import Partner


@dataclass
class Extracted:
    """Responses to store raw, tagged with the partner they were fetched for (if any)."""

    source: str
    responses: list[tuple[str | None, RawResponse]] = field(default_factory=list)
    log: list[dict[str, Any]] = field(default_factory=list)

    def record(
        self,
        partner_id: str | None,
        url: str | None,
        outcome: str,
        *,
        response: RawResponse | None = None,
        error: str | None = None,
    ) -> None:
        if response is not None:
            self.responses.append((partner_id, response))
        self.log.append(
            {
                "source": self.source,
                "partner_id": partner_id,
                "url": response.url if response is not None else url,
                "status": response.status if response is not None else None,
                "outcome": outcome,
                "error": error,
                "payload_sha256": response.sha256 if response is not None else None,
            }
        )

    def record_response(self, partner_id: str | None, response: RawResponse) -> None:
        if response.ok:
            self.record(partner_id, None, "ok", response=response)
        else:
            snippet = response.body[:200].decode("utf-8", "replace")
            self.record(
                partner_id,
                None,
                "http_error",
                response=response,
                error=f"HTTP {response.status}: {snippet}",
            )


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


@task(name="extract-gleif", cache_policy=NO_CACHE)
def extract_gleif(partners: list[Partner], settings: Settings) -> Extracted:
    out = Extracted("gleif")
    client = GleifClient.from_settings(settings)
    with_lei = [p for p in partners if p.lei]
    report("gleif", total=len(with_lei))
    for partner in partners:
        if not partner.lei:
            out.record(
                partner.partner_id,
                None,
                "skipped",
                error="no LEI in the registry; name search comes with entity resolution",
            )
            continue
        url = f"{client.base_url}/lei-records/{partner.lei}"
        try:
            out.record_response(partner.partner_id, client.lei_record(partner.lei))
        except requests.RequestException as exc:
            out.record(partner.partner_id, url, "failed", error=_error_text(exc))
        report("gleif", advance=1)
    return out


@task(name="extract-worldbank", cache_policy=NO_CACHE)
def extract_worldbank(settings: Settings) -> Extracted:
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
        target = client.bulk_url if mode == "bulk" else client.base_url
        out.record(None, target, "failed", error=_error_text(exc))
    return out
