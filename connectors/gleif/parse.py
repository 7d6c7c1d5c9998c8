"""Pure parsers for GLEIF API v1 JSON:API payloads."""

from __future__ import annotations

import json
from typing import Any

LEI_RECORD_COLUMNS = (
    "lei",
    "legal_name",
    "legal_name_language",
    "legal_form_id",
    "legal_form_other",
    "jurisdiction",
    "entity_status",
    "entity_category",
    "legal_address_lines",
    "legal_address_city",
    "legal_address_region",
    "legal_address_country",
    "legal_address_postal_code",
    "hq_address_lines",
    "hq_address_city",
    "hq_address_region",
    "hq_address_country",
    "hq_address_postal_code",
    "registration_status",
    "initial_registration_date",
    "last_update_date",
    "next_renewal_date",
    "managing_lou",
    "corroboration_level",
    "golden_copy_publish_date",
)


class GleifPayloadError(ValueError):
    """The payload is not a GLEIF lei-records document."""


def _address(prefix: str, address: dict[str, Any] | None) -> dict[str, Any]:
    address = address or {}
    lines = [line for line in address.get("addressLines") or [] if line]
    return {
        f"{prefix}_lines": "; ".join(lines) or None,
        f"{prefix}_city": address.get("city"),
        f"{prefix}_region": address.get("region"),
        f"{prefix}_country": address.get("country"),
        f"{prefix}_postal_code": address.get("postalCode"),
    }


def _record(resource: dict[str, Any], publish_date: str | None) -> dict[str, Any]:
    attributes = resource.get("attributes") or {}
    entity = attributes.get("entity") or {}
    registration = attributes.get("registration") or {}
    legal_name = entity.get("legalName") or {}
    legal_form = entity.get("legalForm") or {}
    row: dict[str, Any] = {
        "lei": attributes.get("lei") or resource.get("id"),
        "legal_name": legal_name.get("name"),
        "legal_name_language": legal_name.get("language"),
        "legal_form_id": legal_form.get("id"),
        "legal_form_other": legal_form.get("other"),
        "jurisdiction": entity.get("jurisdiction"),
        "entity_status": entity.get("status"),
        "entity_category": entity.get("category"),
        **_address("legal_address", entity.get("legalAddress")),
        **_address("hq_address", entity.get("headquartersAddress")),
        "registration_status": registration.get("status"),
        "initial_registration_date": registration.get("initialRegistrationDate"),
        "last_update_date": registration.get("lastUpdateDate"),
        "next_renewal_date": registration.get("nextRenewalDate"),
        "managing_lou": registration.get("managingLou"),
        "corroboration_level": registration.get("corroborationLevel"),
        "golden_copy_publish_date": publish_date,
    }
    return row


def parse_lei_records(body: bytes | str) -> list[dict[str, Any]]:
    """Rows (LEI_RECORD_COLUMNS) from a /lei-records/{lei} or /lei-records?filter[...] payload."""
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise GleifPayloadError(f"not JSON: {exc}") from exc
    if not isinstance(document, dict) or "data" not in document:
        raise GleifPayloadError("no 'data' member in GLEIF payload")
    publish_date = ((document.get("meta") or {}).get("goldenCopy") or {}).get("publishDate")
    data = document["data"]
    resources = data if isinstance(data, list) else [data]
    rows = []
    for resource in resources:
        if not isinstance(resource, dict) or resource.get("type") != "lei-records":
            found = resource.get("type") if isinstance(resource, dict) else resource
            raise GleifPayloadError(f"unexpected resource {found!r}, not an lei-records one")
        rows.append(_record(resource, publish_date))
    return rows
