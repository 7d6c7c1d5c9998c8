"""Country indices beyond governance: TI CPI, Hofstede's six dimensions, Heritage economic
freedom (whose Property Rights score is our IP-protection proxy, see
connectors/indices/IP_INDEX.md). One publisher file each, for all countries."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import requests
from prefect import task
from prefect.cache_policies import NO_CACHE

from connectors.config import Settings
from connectors.http import make_session
from connectors.indices.client import INDEX_SOURCES, index_url
from connectors.indices.common import IndexFormatError, IndexParse
from connectors.indices.cpi import parse_cpi
from connectors.indices.heritage import ip_protection_rows, parse_heritage
from connectors.indices.hofstede import parse_hofstede
from flows.progress import report
from flows.registry import Partner
from flows.sources.base import Extracted, Parsed, SourceSpec

PARSERS: dict[str, Callable[[bytes, str, str], IndexParse]] = {
    "cpi": parse_cpi,
    "hofstede": parse_hofstede,
    "heritage": parse_heritage,
}
# The demo bundles only public-domain, CC0 and CC-BY payloads. These publishers' files are
# CC BY-ND (TI) or not openly licensed (Hofstede, Heritage), so offline runs skip them and
# the coverage mart shows the gap; tests use them as fixtures.
UNBUNDLED_REASON = (
    "the offline snapshot does not bundle this publisher's file (its licence is not "
    "public-domain/CC0/CC-BY); a live refresh downloads it"
)


@task(name="extract-indices", cache_policy=NO_CACHE)
def extract(partners: list[Partner], settings: Settings) -> Extracted:
    out = Extracted("indices")
    unbundled = set(filter(None, settings.source("indices").get("offline_skip", "").split(",")))
    report("indices", total=len(INDEX_SOURCES))
    for name in INDEX_SOURCES:
        url = index_url(name, settings)
        if name in unbundled:
            out.record(None, url, "skipped", error=f"{name}: {UNBUNDLED_REASON}")
        else:
            session = make_session(name, settings)
            try:
                response = out.record_response(None, session.fetch(url))
                out.context[response.sha256] = name
                if not response.ok:  # the coverage mart reads "<file>: reason"
                    out.log[-1]["error"] = f"{name}: {out.log[-1]['error']}"
            except requests.RequestException as exc:
                out.record(None, url, "failed", error=f"{name}: {type(exc).__name__}: {exc}")
            finally:
                session.close()
        report("indices", advance=1)
    return out


def _rows(result: IndexParse) -> tuple[list[dict[str, Any]], ...]:
    values = result.rows + (ip_protection_rows(result.rows) if result.rows else [])
    issues = [{**u, "kind": "unmapped"} for u in result.unmapped] + [
        {**r, "kind": "rejected"} for r in result.rejected
    ]
    return values, issues


@task(name="parse-indices", cache_policy=NO_CACHE)
def parse(extracted: Extracted) -> Parsed:
    parsed = Parsed()
    for partner_id, response in extracted.ok_responses():
        name = extracted.context.get(response.sha256)
        if name is None:
            continue
        try:
            result = PARSERS[name](response.body, response.url, response.sha256)
        except IndexFormatError as exc:
            parsed.problem("indices", partner_id, response, f"{name}: {exc}")
            continue
        values, issues = _rows(result)
        keep = {"payload_sha256": response.sha256, "fetched_at": response.fetched_at}
        parsed.add(
            "raw.indices__values",
            [
                {
                    "iso3": v["iso3"],
                    "index_name": v["index"],
                    "dimension": v["dimension"],
                    "year": v["year"],
                    "value": v["value"],
                    "source": v["source"],
                    "raw_country": v.get("raw_country"),
                    "derived_from": v.get("derived_from"),
                    "source_url": response.url,
                    **keep,
                }
                for v in values
            ],
        )
        parsed.add(
            "raw.indices__issues",
            [
                {
                    "source": name,
                    "kind": i["kind"],
                    "raw_country": i.get("raw_country"),
                    "raw_code": i.get("raw_code"),
                    "column_name": i.get("column"),
                    "raw_value": i.get("raw_value"),
                    "reason": i.get("reason"),
                    "line": i.get("line"),
                    "source_url": response.url,
                    **keep,
                }
                for i in issues
            ],
        )
    return parsed


def offline(base_url: str) -> dict[str, str]:
    """The demo serves the publishers' files bundled verbatim in demo/snapshot/indices
    (attribution and terms in its PROVENANCE.md; routes in routes.d/indices.json)."""
    bundled = {
        "CPI": "CPI2024_GlobalResultsTrends.csv",
        "HOFSTEDE": "6-dimensions-for-website-2015-08-16.csv",
        "HERITAGE": "heritage_economic_freedom_index2019_data.csv",
    }
    return {f"PARTNERDD_{name}_URL": f"{base_url}/indices/{file}" for name, file in bundled.items()}


SPEC = SourceSpec(
    name="indices",
    extract=extract,
    parse=parse,
    # a file that failed this run keeps its previous rows: replace per publisher file
    landing={"raw.indices__values": "source", "raw.indices__issues": "source"},
    offline=offline,
    needs_partners=False,
)
