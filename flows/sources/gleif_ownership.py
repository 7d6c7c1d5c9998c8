"""GLEIF level-2 data for partners with an LEI (given or resolved): direct and ultimate parent
(relationship record, or the reporting exception with its reason) and direct children.

API semantics followed: a parent-relationship endpoint answering 404 means "no relationship
reported", and the reporting-exception endpoint then says why. A 404 there as well (or any
other non-2xx answer) is logged as an http_error and produces no row: a missing answer never
becomes a fact.
"""

from __future__ import annotations

import json
import re
from typing import Any

import requests
from prefect import task
from prefect.cache_policies import NO_CACHE

from connectors.config import Settings
from connectors.gleif import ownership as gl
from connectors.http import PoliteSession, RawResponse, make_session
from flows.progress import report
from flows.registry import Partner
from flows.sources.base import Extracted, Parsed, SourceSpec

SOURCE = "gleif_ownership"
_LEVELS = {
    "direct_parent": (
        gl.fetch_direct_parent_relationship,
        gl.fetch_direct_parent_reporting_exception,
        gl.fetch_direct_parent,
    ),
    "ultimate_parent": (
        gl.fetch_ultimate_parent_relationship,
        gl.fetch_ultimate_parent_reporting_exception,
        gl.fetch_ultimate_parent,
    ),
}
_ENDPOINT = re.compile(r"/lei-records/([0-9A-Za-z]{20})/([a-z-]+)")


def _level(
    session: PoliteSession, base_url: str, lei: str, relation: str, partner_id: str, out: Extracted
) -> None:
    fetch_relationship, fetch_exception, fetch_parent = _LEVELS[relation]
    relationship = fetch_relationship(session, base_url, lei)
    if relationship.status == 404:
        out.record(
            partner_id,
            None,
            "ok",
            response=relationship,
            error="404: no relationship reported; asking the reporting-exception endpoint",
        )
        out.record_response(partner_id, fetch_exception(session, base_url, lei))
        return
    out.record_response(partner_id, relationship)
    if relationship.ok:
        out.record_response(partner_id, fetch_parent(session, base_url, lei))


def _children(
    session: PoliteSession, base_url: str, lei: str, max_pages: int, partner_id: str, out: Extracted
) -> None:
    pages = gl.fetch_direct_children(session, base_url, lei, max_pages=max_pages)
    for page in pages:
        out.record_response(partner_id, page)
    if gl.children_truncated(pages):
        out.record(
            partner_id,
            pages[-1].url,
            "skipped",
            error=f"children paging stopped at max_children_pages={max_pages}",
        )


@task(name="extract-gleif-ownership", cache_policy=NO_CACHE)
def extract(partners: list[Partner], settings: Settings) -> Extracted:
    out = Extracted(SOURCE)
    session = make_session("gleif", settings)
    base_url = settings.source_url("gleif")
    max_pages = int(settings.sources.get(SOURCE, {}).get("max_children_pages", 5))
    seen: set[str] = set()
    report(SOURCE, total=sum(1 for p in partners if p.lei))
    for partner in partners:
        if not partner.lei:
            out.record(partner.partner_id, None, "skipped", error="no LEI given or resolved")
            continue
        if partner.lei in seen:
            continue
        seen.add(partner.lei)
        try:
            for relation in gl.RELATIONS:
                _level(session, base_url, partner.lei, relation, partner.partner_id, out)
            _children(session, base_url, partner.lei, max_pages, partner.partner_id, out)
        except requests.RequestException as exc:
            out.record_exception(partner.partner_id, f"{base_url}/lei-records/{partner.lei}", exc)
        report(SOURCE, advance=1)
    return out


def _meta(response: RawResponse) -> dict[str, Any]:
    return {"payload_sha256": response.sha256, "fetched_at": response.fetched_at}


def _children_total(body: bytes) -> int | None:
    total = ((json.loads(body).get("meta") or {}).get("pagination") or {}).get("total")
    return int(total) if isinstance(total, int) else None


def _parse_one(
    parsed: Parsed,
    endpoint: str,
    lei: str,
    response: RawResponse,
    names: dict[tuple[str, str], Any],
) -> None:
    if endpoint.endswith("-parent-relationship"):
        relation = endpoint.removesuffix("-relationship").replace("-", "_")
        rows = gl.parse_parent_relationship(response.body, response.url, names.get((lei, relation)))
    elif endpoint.endswith("-parent-reporting-exception"):
        rows = gl.parse_reporting_exception(response.body, response.url)
    elif endpoint == "direct-children":
        total = _children_total(response.body)
        children = gl.parse_direct_children(response.body, lei, response.url)
        parsed.add(
            "raw.gleif__children",
            [{**_drop_sha(c), "children_total": total, **_meta(response)} for c in children],
        )
        return
    else:
        return  # the parents' own records were read for their names already
    parsed.add("raw.gleif__ownership", [{**_drop_sha(r), **_meta(response)} for r in rows])


def _drop_sha(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != "sha256"}


@task(name="parse-gleif-ownership", cache_policy=NO_CACHE)
def parse(extracted: Extracted) -> Parsed:
    parsed = Parsed()
    ok: list[tuple[str | None, str, str, RawResponse]] = []
    for partner_id, response in extracted.responses:
        match = _ENDPOINT.search(response.url)
        if response.ok and match:
            ok.append((partner_id, match.group(1).upper(), match.group(2), response))
    names: dict[tuple[str, str], Any] = {}
    for partner_id, lei, endpoint, response in ok:
        if endpoint in ("direct-parent", "ultimate-parent"):
            try:
                parent_name = gl.parse_lei_record_name(response.body)[1]
                names[(lei, endpoint.replace("-", "_"))] = parent_name
            except gl.GleifOwnershipError as exc:
                parsed.problem(SOURCE, partner_id, response, str(exc))
    for partner_id, lei, endpoint, response in ok:
        try:
            _parse_one(parsed, endpoint, lei, response, names)
        except (gl.GleifOwnershipError, ValueError) as exc:
            parsed.problem(SOURCE, partner_id, response, str(exc))
    return parsed


def offline(base_url: str) -> dict[str, str]:
    return {}  # shares [sources.gleif] url, which gleif.offline already points at the replay


SPEC = SourceSpec(
    name=SOURCE,
    extract=extract,
    parse=parse,
    landing={"raw.gleif__ownership": "child_lei", "raw.gleif__children": "parent_lei"},
    offline=offline,
)
