"""GLEIF level-2 data for partners with an LEI (given or resolved): direct and ultimate parent
(relationship record, or the reporting exception with its reason) and direct children.

API semantics followed: a parent-relationship endpoint answering 404 means "no relationship
reported", and the reporting-exception endpoint then says why. A 404 there as well (or any
other non-2xx answer) is logged as an http_error and produces no row: a missing answer never
becomes a fact.
"""

from __future__ import annotations

import json
from typing import Any

from connectors.config import Settings
from connectors.gleif import ownership as gl
from connectors.http import PoliteSession, make_session
from connectors.source import Batch, Extracted, Parsed, Partner, SourceSpec, Stored
from connectors.workers import for_each_partner, workers

SOURCE = "gleif_ownership"
CHILDREN = "children_page"
KINDS = tuple(
    f"{relation}_{part}"
    for relation in gl.RELATIONS
    for part in ("relationship", "exception", "record")
) + (CHILDREN,)


def _level(
    session: PoliteSession, base_url: str, lei: str, relation: str, partner_id: str, out: Extracted
) -> None:
    fetch_relationship, fetch_exception, fetch_parent = gl.LEVEL_FETCHERS[relation]
    meta = {"lei": lei, "relation": relation}
    relationship = fetch_relationship(session, base_url, lei)
    if relationship.status == 404:
        note = "404: no relationship reported; asking the reporting-exception endpoint"
        out.record_response(
            partner_id, relationship, kind=f"{relation}_relationship", meta=meta, note=note
        )
        out.record_response(
            partner_id, fetch_exception(session, base_url, lei), kind=f"{relation}_exception",
            meta=meta,
        )  # fmt: skip
        return
    out.record_response(partner_id, relationship, kind=f"{relation}_relationship", meta=meta)
    if relationship.ok:
        parent = fetch_parent(session, base_url, lei)
        out.record_response(partner_id, parent, kind=f"{relation}_record", meta=meta)


def _children(
    session: PoliteSession, base_url: str, lei: str, max_pages: int, partner_id: str, out: Extracted
) -> None:
    """Pages are stored one by one as they arrive; a page that cannot be read stops the
    paging of this partner only (its parse step reports why)."""
    params: dict[str, str] | None = gl.first_children_page()
    pages = 0
    while params is not None and pages < max_pages:
        page = gl.fetch_children_page(session, base_url, lei, params)
        pages += 1
        out.record_response(partner_id, page, kind=CHILDREN, meta={"lei": lei, "page": pages})
        if not page.ok:
            return
        try:
            params = gl.next_page_params(page.body)
        except gl.GleifOwnershipError as exc:
            out.record(partner_id, page.url, "parse_error", kind=CHILDREN, error=str(exc))
            return
    if params is not None:
        url = f"{base_url}/lei-records/{lei}/direct-children"
        error = f"children paging stopped at max_children_pages={max_pages}"
        out.record(partner_id, url, "skipped", kind=CHILDREN, error=error)


def extract(partners: list[Partner], settings: Settings, out: Extracted) -> None:
    session = make_session("gleif", settings)
    base_url = settings.source_url("gleif")
    conf = settings.source(SOURCE)
    max_pages = int(conf["max_children_pages"])
    todo: dict[str, Partner] = {}
    for partner in partners:
        if not partner.lei:
            out.record(partner.partner_id, None, "skipped", error="no LEI given or resolved")
        else:
            todo.setdefault(partner.lei, partner)

    def fetch_levels(partner: Partner, sink: Extracted) -> None:
        lei = str(partner.lei)
        try:
            for relation in gl.RELATIONS:
                _level(session, base_url, lei, relation, partner.partner_id, sink)
            _children(session, base_url, lei, max_pages, partner.partner_id, sink)
        except Exception as exc:  # one partner's failure is its own row, the rest go on
            sink.record_exception(partner.partner_id, f"{base_url}/lei-records/{lei}", exc)

    out.report(total=len(todo))
    for_each_partner(out, todo.values(), fetch_levels, workers(conf), settings.budget)


def _meta(response: Stored) -> dict[str, Any]:
    return {"payload_sha256": response.sha256, "fetched_at": response.fetched_at}


def _children_total(body: bytes) -> int | None:
    total = ((json.loads(body).get("meta") or {}).get("pagination") or {}).get("total")
    return int(total) if isinstance(total, int) else None


def _drop_sha(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != "sha256"}


def _parse_one(parsed: Parsed, response: Stored, names: dict[str, Any]) -> None:
    lei = str(response.meta["lei"])
    relation = str(response.meta.get("relation", ""))
    if response.kind == CHILDREN:
        body = response.body
        total = _children_total(body)
        children = gl.parse_direct_children(body, lei, response.url)
        parsed.add(
            "raw.gleif__children",
            [{**_drop_sha(c), "children_total": total, **_meta(response)} for c in children],
        )
        return
    if response.kind.endswith("_relationship"):
        rows = gl.parse_parent_relationship(response.body, response.url, names.get(relation))
    elif response.kind.endswith("_exception"):
        rows = gl.parse_reporting_exception(response.body, response.url)
    else:
        return  # the parents' own records were read for their names already
    parsed.add("raw.gleif__ownership", [{**_drop_sha(r), **_meta(response)} for r in rows])


def _answered(responses: list[Stored], relation: str) -> bool:
    """A relation is answered by a relationship record, or by a 404 there (none reported)
    and a final answer of the reporting-exception endpoint (a record, or none)."""
    final = {r.kind for r in responses if r.ok or r.status in (404, 410)}
    return f"{relation}_relationship" in {r.kind for r in responses if r.ok} or (
        f"{relation}_exception" in final
        and any(r.kind == f"{relation}_relationship" and r.status == 404 for r in responses)
    )


def parse(batch: Batch) -> Parsed:
    parsed = Parsed()
    ok = [(pid, r) for pid, r in batch.ok_responses()]
    names: dict[str, Any] = {}
    for partner_id, response in ok:
        if response.kind.endswith("_record"):
            try:
                names[str(response.meta["relation"])] = gl.parse_lei_record_name(response.body)[1]
            except gl.GleifOwnershipError as exc:
                parsed.problem(SOURCE, partner_id, response, str(exc))
    for partner_id, response in ok:
        try:
            _parse_one(parsed, response, names)
        except (gl.GleifOwnershipError, ValueError) as exc:
            parsed.problem(SOURCE, partner_id, response, str(exc))
    complete = all(_answered(batch.responses, relation) for relation in gl.RELATIONS)
    if not complete or any(p["kind"] != CHILDREN for p in parsed.problems):
        # A partner's ownership rows are replaced as a whole: with a relation unanswered or
        # unreadable this run (the fetch log says why), they keep the previous run's.
        parsed.tables.pop("raw.gleif__ownership", None)
    return parsed


SPEC = SourceSpec(
    name=SOURCE,
    extract=extract,
    parse=parse,
    landing={"raw.gleif__ownership": "child_lei", "raw.gleif__children": "parent_lei"},
    kinds=KINDS,
    # Parents, reporting exceptions and children share [sources.gleif] url and rate limit
    # (which the gleif source's offline overrides point at the replay server).
    # max_children_pages: of 100 children each; a capped list is logged, never silent.
    # workers: partners fetched at once, within [sources.gleif] rate limit
    config={SOURCE: {"max_children_pages": 5, "workers": 8}},
)
