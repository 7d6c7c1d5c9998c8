"""GLEIF level-2 data (who owns whom) and the other names in lei-records.

Fetch functions return ``connectors.http.RawResponse`` (never parse); ``parse_*`` functions are
pure and return rows. connectors/gleif_ownership/source.py runs them per partner.

Real API behaviour this follows: when an entity reports no parent, ``/direct-parent-relationship``
(and ``/ultimate-parent-relationship``) answer **404**, and ``/direct-parent-reporting-exception``
(``/ultimate-...``) answers the reason (e.g. NO_KNOWN_PERSON, NON_CONSOLIDATING).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from connectors.http import PoliteSession, RawResponse

JSONAPI_HEADERS = {"Accept": "application/vnd.api+json"}
CHILDREN_PAGE_SIZE = 100

RELATIONS = ("direct_parent", "ultimate_parent")
RELATIONSHIP_TYPES = {
    "IS_DIRECTLY_CONSOLIDATED_BY": "direct_parent",
    "IS_ULTIMATELY_CONSOLIDATED_BY": "ultimate_parent",
}
EXCEPTION_CATEGORIES = {
    "DIRECT_ACCOUNTING_CONSOLIDATION_PARENT": "direct_parent",
    "ULTIMATE_ACCOUNTING_CONSOLIDATION_PARENT": "ultimate_parent",
}

OWNERSHIP_COLUMNS = (
    "child_lei",
    "relation",  # direct_parent | ultimate_parent
    "parent_lei",  # None when a reporting exception was filed instead
    "parent_name",  # from the parent's lei-record when it was fetched, else None
    "relationship_type",  # IS_DIRECTLY_CONSOLIDATED_BY | IS_ULTIMATELY_CONSOLIDATED_BY
    "relationship_status",  # ACTIVE | INACTIVE
    "period_start",  # start of the RELATIONSHIP_PERIOD, YYYY-MM-DD
    "exception_category",  # DIRECT_/ULTIMATE_ACCOUNTING_CONSOLIDATION_PARENT
    "exception_reason",  # NO_KNOWN_PERSON | NATURAL_PERSONS | NON_CONSOLIDATING | ...
    "source_url",
    "sha256",
)
CHILD_COLUMNS = ("parent_lei", "child_lei", "child_name", "child_country", "source_url", "sha256")
NAME_COLUMNS = ("lei", "name", "name_type", "language", "source_url")


class GleifOwnershipError(RuntimeError):
    """A GLEIF payload or answer that cannot be turned into rows; the message says why."""


def _get(session: PoliteSession, url: str, params: dict[str, str] | None = None) -> RawResponse:
    return session.fetch(url, params=params, headers=JSONAPI_HEADERS)


# ---------------------------------------------------------------- fetch (HTTP only)


def _lei_url(base_url: str, lei: str, endpoint: str) -> str:
    if not lei or not lei.isalnum():
        raise ValueError(f"not an LEI: {lei!r}")
    return f"{base_url.rstrip('/')}/lei-records/{lei}/{endpoint}"


def fetch_direct_parent_relationship(
    session: PoliteSession, base_url: str, lei: str
) -> RawResponse:
    return _get(session, _lei_url(base_url, lei, "direct-parent-relationship"))


def fetch_ultimate_parent_relationship(
    session: PoliteSession, base_url: str, lei: str
) -> RawResponse:
    return _get(session, _lei_url(base_url, lei, "ultimate-parent-relationship"))


def fetch_direct_parent_reporting_exception(
    session: PoliteSession, base_url: str, lei: str
) -> RawResponse:
    return _get(session, _lei_url(base_url, lei, "direct-parent-reporting-exception"))


def fetch_ultimate_parent_reporting_exception(
    session: PoliteSession, base_url: str, lei: str
) -> RawResponse:
    return _get(session, _lei_url(base_url, lei, "ultimate-parent-reporting-exception"))


def fetch_direct_parent(session: PoliteSession, base_url: str, lei: str) -> RawResponse:
    """The parent's full lei-record (404 when there is none)."""
    return _get(session, _lei_url(base_url, lei, "direct-parent"))


def fetch_ultimate_parent(session: PoliteSession, base_url: str, lei: str) -> RawResponse:
    return _get(session, _lei_url(base_url, lei, "ultimate-parent"))


# relation -> its (relationship, reporting exception, parent record) fetchers
LEVEL_FETCHERS = {
    "direct_parent": (
        fetch_direct_parent_relationship,
        fetch_direct_parent_reporting_exception,
        fetch_direct_parent,
    ),
    "ultimate_parent": (
        fetch_ultimate_parent_relationship,
        fetch_ultimate_parent_reporting_exception,
        fetch_ultimate_parent,
    ),
}


def fetch_children_page(
    session: PoliteSession, base_url: str, lei: str, params: dict[str, str]
) -> RawResponse:
    """One page of ``/direct-children``. Later pages take only the query of the previous
    page's ``links.next`` (next_page_params), so paging never leaves the configured host."""
    return _get(session, _lei_url(base_url, lei, "direct-children"), params)


def first_children_page() -> dict[str, str]:
    return {"page[size]": str(CHILDREN_PAGE_SIZE), "page[number]": "1"}


def next_page_params(body: bytes | str) -> dict[str, str] | None:
    """Query parameters of the payload's ``links.next``, or None on the last page."""
    document = _load(body)
    next_link = (document.get("links") or {}).get("next")
    if not next_link:
        return None
    return dict(parse_qsl(urlsplit(str(next_link)).query, keep_blank_values=True))


# ---------------------------------------------------------------- parse (pure)


def _load(body: bytes | str) -> dict[str, Any]:
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise GleifOwnershipError(f"GLEIF payload is not JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise GleifOwnershipError("GLEIF payload is not a JSON object")
    if "errors" in document and "data" not in document:
        raise GleifOwnershipError(f"GLEIF error document: {document['errors']!r}")
    return document


def _sha256(body: bytes | str) -> str:
    data = body.encode("utf-8") if isinstance(body, str) else body
    return hashlib.sha256(data).hexdigest()


def _single_resource(document: dict[str, Any], expected_type: str) -> dict[str, Any]:
    data = document.get("data")
    if not isinstance(data, dict) or data.get("type") != expected_type:
        found = data.get("type") if isinstance(data, dict) else type(data).__name__
        raise GleifOwnershipError(f"expected one {expected_type!r} resource, got {found!r}")
    return data


def _resources(document: dict[str, Any], expected_type: str) -> list[dict[str, Any]]:
    data = document.get("data")
    resources = data if isinstance(data, list) else [data] if isinstance(data, dict) else None
    if resources is None:
        raise GleifOwnershipError("GLEIF payload has no 'data' member")
    for resource in resources:
        if not isinstance(resource, dict) or resource.get("type") != expected_type:
            raise GleifOwnershipError(f"expected {expected_type!r} resources")
    return resources


def _date(value: Any) -> str | None:
    return str(value)[:10] if value else None


def _empty_ownership_row(
    child_lei: str, relation: str, source_url: str, sha: str
) -> dict[str, Any]:
    return {
        "child_lei": child_lei,
        "relation": relation,
        "parent_lei": None,
        "parent_name": None,
        "relationship_type": None,
        "relationship_status": None,
        "period_start": None,
        "exception_category": None,
        "exception_reason": None,
        "source_url": source_url,
        "sha256": sha,
    }


def parse_parent_relationship(
    body: bytes | str, source_url: str, parent_name: str | None = None
) -> list[dict[str, Any]]:
    """One OWNERSHIP_COLUMNS row from a ``/...-parent-relationship`` payload.

    ``relation`` follows the relationship type; ``parent_name`` is passed in by the caller
    (the relationship record carries only the parent's LEI; see parse_lei_record_name).
    """
    resource = _single_resource(_load(body), "relationship-records")
    relationship = (resource.get("attributes") or {}).get("relationship") or {}
    rel_type = relationship.get("type")
    if rel_type not in RELATIONSHIP_TYPES:
        raise GleifOwnershipError(f"unknown parent relationship type {rel_type!r}")
    start = relationship.get("startNode") or {}
    end = relationship.get("endNode") or {}
    if not start.get("id") or not end.get("id"):
        raise GleifOwnershipError("relationship record without start or end node")
    period_start = next(
        (
            _date(p.get("startDate"))
            for p in relationship.get("periods") or []
            if p.get("type") == "RELATIONSHIP_PERIOD"
        ),
        None,
    )
    row = _empty_ownership_row(start["id"], RELATIONSHIP_TYPES[rel_type], source_url, _sha256(body))
    row.update(
        {
            "parent_lei": end["id"] if end.get("type", "LEI") == "LEI" else None,
            "parent_name": parent_name,
            "relationship_type": rel_type,
            "relationship_status": relationship.get("status"),
            "period_start": period_start,
        }
    )
    if row["parent_lei"] is None:
        row["exception_reason"] = f"end node type {end.get('type')!r} is not an LEI"
    return [row]


def parse_reporting_exception(body: bytes | str, source_url: str) -> list[dict[str, Any]]:
    """One OWNERSHIP_COLUMNS row (no parent, with category and reason) from a
    ``/...-parent-reporting-exception`` payload."""
    resource = _single_resource(_load(body), "reporting-exceptions")
    attributes = resource.get("attributes") or {}
    category = attributes.get("category")
    if category not in EXCEPTION_CATEGORIES:
        raise GleifOwnershipError(f"unknown reporting-exception category {category!r}")
    lei = attributes.get("lei")
    if not lei:
        raise GleifOwnershipError("reporting exception without lei")
    row = _empty_ownership_row(lei, EXCEPTION_CATEGORIES[category], source_url, _sha256(body))
    row.update({"exception_category": category, "exception_reason": attributes.get("reason")})
    return [row]


def parse_lei_record_name(body: bytes | str) -> tuple[str, str | None]:
    """(lei, legal name) of a single lei-record payload, e.g. ``/direct-parent``."""
    resource = _single_resource(_load(body), "lei-records")
    attributes = resource.get("attributes") or {}
    legal_name = ((attributes.get("entity") or {}).get("legalName") or {}).get("name")
    return str(attributes.get("lei") or resource.get("id")), legal_name


def parse_direct_children(
    body: bytes | str, parent_lei: str, source_url: str
) -> list[dict[str, Any]]:
    """CHILD_COLUMNS rows from one ``/direct-children`` page (an empty page gives [])."""
    sha = _sha256(body)
    rows = []
    for resource in _resources(_load(body), "lei-records"):
        attributes = resource.get("attributes") or {}
        entity = attributes.get("entity") or {}
        rows.append(
            {
                "parent_lei": parent_lei,
                "child_lei": attributes.get("lei") or resource.get("id"),
                "child_name": (entity.get("legalName") or {}).get("name"),
                "child_country": (entity.get("legalAddress") or {}).get("country"),
                "source_url": source_url,
                "sha256": sha,
            }
        )
    return rows


def parse_other_names(body: bytes | str, source_url: str) -> list[dict[str, Any]]:
    """NAME_COLUMNS rows for the otherNames and transliteratedOtherNames of lei-records.

    Works on a single record or a list payload. ``name_type`` is GLEIF's type
    (PREVIOUS_LEGAL_NAME, TRADING_OR_OPERATING_NAME, ALTERNATIVE_LANGUAGE_LEGAL_NAME,
    PREFERRED_/AUTO_ASCII_TRANSLITERATED_LEGAL_NAME). The legal name itself is not repeated.
    """
    rows = []
    for resource in _resources(_load(body), "lei-records"):
        attributes = resource.get("attributes") or {}
        entity = attributes.get("entity") or {}
        lei = attributes.get("lei") or resource.get("id")
        for key in ("otherNames", "transliteratedOtherNames"):
            for other in entity.get(key) or []:
                if not other.get("name"):
                    continue
                rows.append(
                    {
                        "lei": lei,
                        "name": other["name"],
                        "name_type": other.get("type") or key,
                        "language": other.get("language"),
                        "source_url": source_url,
                    }
                )
    return rows
