"""GLEIF LEI records for partners whose LEI is known."""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

import requests

from connectors.config import Settings
from connectors.gleif.client import MAX_PAGE_SIZE, GleifClient
from connectors.gleif.ownership import GleifOwnershipError, parse_other_names
from connectors.gleif.parse import GleifPayloadError, parse_lei_records
from connectors.http import RawResponse, header
from connectors.source import Batch, Extracted, Parsed, Partner, SourceSpec, Stored, provenance

KIND = "lei_record"
BATCH_KIND = "lei_records_page"  # one page of many LEIs' records; meta["lei"]: whose this is


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def extract(partners: list[Partner], settings: Settings, out: Extracted) -> None:
    """The records of the partners' LEIs, `lei_batch_size` LEIs a request (1: one request
    per LEI at /lei-records/{lei}). A page is stored once and tagged for every partner it
    answers (its LEI in `meta`), so parse takes each partner's record out of it."""
    client = GleifClient.from_settings(settings)
    size = min(MAX_PAGE_SIZE, max(1, int(settings.source("gleif")["lei_batch_size"])))
    partners_of: dict[str, list[str]] = {}
    for partner in partners:
        if partner.lei:
            partners_of.setdefault(partner.lei, []).append(partner.partner_id)
        else:
            error = "no LEI given in the registry or resolved by name search"
            out.record(partner.partner_id, None, "skipped", error=error)
    out.report(total=len(partners_of))
    for leis in _chunks(sorted(partners_of), size):
        kind = KIND if size == 1 else BATCH_KIND
        url = f"{client.lei_records_url()}/{leis[0]}" if size == 1 else client.lei_records_url()
        try:
            response = client.lei_record(leis[0]) if size == 1 else client.lei_records(leis)
        except requests.RequestException as exc:
            for lei in leis:
                for partner_id in partners_of[lei]:
                    out.record_exception(partner_id, url, exc, kind=kind)
        else:
            answered = _answered(response) if kind == BATCH_KIND and response.ok else None
            for lei in leis:
                meta = {"lei": lei, "leis": len(leis)}
                if answered is None or lei in answered:
                    for partner_id in partners_of[lei]:
                        out.record_response(partner_id, response, kind=kind, meta=meta)
                else:
                    _record_absent(out, response, lei, partners_of[lei])
        out.report(advance=len(leis))


def _lei_of(resource: dict[str, Any]) -> Any:
    return (resource.get("attributes") or {}).get("lei") or resource.get("id")


def _record_absent(out: Extracted, page: RawResponse, lei: str, partner_ids: list[str]) -> None:
    """An LEI absent from a page has no record at GLEIF (as a 404 says for one record), or
    none in the offline snapshot."""
    unrecorded = (header(page.headers, "X-Replay-Unrecorded") or "").split(",")
    outcome, why = (
        ("not_recorded", "not recorded in the offline snapshot")
        if lei in unrecorded
        else ("http_error", "GLEIF has no record for this LEI (absent from the answer)")
    )
    for partner_id in partner_ids:
        out.record(partner_id, page.url, outcome, kind=BATCH_KIND, error=f"{why}: {lei}")


def _answered(page: RawResponse) -> set[str] | None:
    """The LEIs a page holds; None when it cannot be read (parse then says why)."""
    try:
        data = json.loads(page.body).get("data")
    except (ValueError, AttributeError):
        return None
    return {_lei_of(r) for r in data if isinstance(r, dict)} if isinstance(data, list) else None


_PAGES: OrderedDict[str, tuple[Any, dict[str, Any]]] = OrderedDict()  # the last few, by sha256
_PAGES_KEPT = 1  # partners are parsed in the order their pages were asked


def _page_records(response: Stored) -> tuple[Any, dict[str, Any]]:
    """A page's meta and its records by LEI, read and decoded once for all the partners it
    answers (parse is called per partner: decoding a 200-record page for each of them made
    the first run quadratic in the page size)."""
    if response.sha256 not in _PAGES:
        _PAGES[response.sha256] = _decode_page(response.body)
        if len(_PAGES) > _PAGES_KEPT:
            _PAGES.popitem(last=False)
    return _PAGES[response.sha256]


def _decode_page(body: bytes) -> tuple[Any, dict[str, Any]]:
    try:
        document = json.loads(body)
    except ValueError as exc:
        raise GleifPayloadError(f"not JSON: {exc}") from exc
    if not isinstance(document, dict) or not isinstance(document.get("data"), list):
        raise GleifPayloadError("no 'data' list in GLEIF lei-records page")
    records: dict[str, Any] = {}
    for record in document["data"]:
        if isinstance(record, dict):
            records.setdefault(_lei_of(record), record)
    return document.get("meta"), records


def _record_of(response: Stored) -> bytes:
    """The partner's record alone, as GLEIF answers /lei-records/{lei}, out of a page."""
    meta, records = _page_records(response)
    lei = response.meta["lei"]
    if lei not in records:
        raise GleifPayloadError(f"LEI {lei} is not in the answer: GLEIF has no record for it")
    return json.dumps({"meta": meta, "data": records[lei]}).encode()


def parse(batch: Batch) -> Parsed:
    parsed = Parsed()
    for partner_id, response in batch.ok_responses():
        try:
            body = _record_of(response) if response.kind == BATCH_KIND else response.body
            rows: list[dict[str, Any]] = parse_lei_records(body)
        except GleifPayloadError as exc:
            parsed.problem("gleif", partner_id, response, str(exc))
            continue
        parsed.add("raw.gleif__lei_records", [{**r, **provenance(response)} for r in rows])
        try:
            names = parse_other_names(body, response.url)
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
    kinds=(KIND, BATCH_KIND),
    # gleif_ownership and resolution use this URL and rate limit too
    config={
        "gleif": {
            "url": "https://api.gleif.org/api/v1",
            "rate_per_second": 5.0,
            "max_age_hours": 20,  # reused when younger (a nightly run revalidates)
            "lei_batch_size": 200,  # LEIs per /lei-records?filter[lei]= request (1: one each)
        }
    },
    offline=lambda base_url: {"PARTNERDD_GLEIF_URL": f"{base_url}/gleif"},
)
