"""Country indices beyond governance: TI CPI, Hofstede's six dimensions, Heritage economic
freedom (whose Property Rights score is our IP-protection proxy, see
connectors/indices/IP_INDEX.md). One publisher file each, for all countries."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import requests

from connectors.config import Settings
from connectors.http import make_session
from connectors.indices.common import IndexFormatError, IndexParse
from connectors.indices.cpi import parse_cpi
from connectors.indices.heritage import ip_protection_rows, parse_heritage
from connectors.indices.hofstede import parse_hofstede
from connectors.source import Batch, Extracted, Parsed, Partner, SourceSpec

PARSERS: dict[str, Callable[[bytes, str, str], IndexParse]] = {
    "cpi": parse_cpi,
    "hofstede": parse_hofstede,
    "heritage": parse_heritage,
}
INDEX_SOURCES = tuple(PARSERS)  # each has its file URL in [sources.<name>] url
# A file listed in offline_skip is not fetched (e.g. the scale benchmark's offline runs); the
# coverage mart shows the gap with this reason.
UNBUNDLED_REASON = (
    "listed in [sources.indices] offline_skip (PARTNERDD_INDICES_OFFLINE_SKIP): not fetched"
)


def extract(partners: list[Partner], settings: Settings, out: Extracted) -> None:
    unbundled = set(filter(None, settings.source("indices")["offline_skip"].split(",")))
    out.report(total=len(INDEX_SOURCES))
    for name in INDEX_SOURCES:
        url = settings.source_url(name)
        if name in unbundled:
            out.record(None, url, "skipped", kind=name, error=f"{name}: {UNBUNDLED_REASON}")
        else:
            session = make_session(name, settings)
            try:
                response = session.fetch(url)
                if response.ok:
                    out.record_response(None, response, kind=name)
                else:  # the coverage mart reads "<file>: reason"
                    error = f"{name}: HTTP {response.status}"
                    out.record(None, url, "http_error", response=response, kind=name, error=error)
            except requests.RequestException as exc:
                error = f"{name}: {type(exc).__name__}: {exc}"
                out.record(None, url, "failed", kind=name, error=error)
            finally:
                session.close()
        out.report(advance=1)


def _rows(result: IndexParse) -> tuple[list[dict[str, Any]], ...]:
    values = result.rows + (ip_protection_rows(result.rows) if result.rows else [])
    issues = [{**u, "kind": "unmapped"} for u in result.unmapped] + [
        {**r, "kind": "rejected"} for r in result.rejected
    ]
    return values, issues


def parse(batch: Batch) -> Parsed:
    parsed = Parsed()
    for partner_id, response in batch.ok_responses():
        name = response.kind
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
    kinds=tuple(INDEX_SOURCES),
    config={
        # TI's results-and-trends workbook (XLSX; parse_cpi reads XLSX and the CSV copy)
        "cpi": {
            "url": "https://images.transparencycdn.org/images/CPI2024-Results-and-trends.xlsx",
            "rate_per_second": 1.0,
            "max_age_hours": 20,  # reused when younger (a nightly run revalidates)
        },
        # geerthofstede.com "dimension data matrix", standard version (CSV, ';')
        "hofstede": {
            "url": "https://geerthofstede.com/wp-content/uploads/2016/08/6-dimensions-for-website-2015-08-16.csv",
            "rate_per_second": 1.0,
            "max_age_hours": 20,  # reused when younger (a nightly run revalidates)
        },
        # Heritage's yearly data file (XLS, Excel 97); parse_heritage reads XLS/XLSX/CSV
        "heritage": {
            "url": "https://www.heritage.org/index/excel/2019/index2019_data.xls",
            "rate_per_second": 1.0,
            "max_age_hours": 20,  # reused when younger (a nightly run revalidates)
        },
        # comma-separated index files not to fetch (PARTNERDD_INDICES_OFFLINE_SKIP)
        "indices": {"offline_skip": ""},
    },
    offline=offline,
    per_partner=False,
)
