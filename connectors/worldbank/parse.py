"""Pure parsers for the Worldwide Governance Indicators.

Two real shapes: the publisher's long-format workbook (wgidataset.xlsx: codeindyr, code,
countryname, year, indicator, estimate, stddev, nsource, pctrank, pctranklower,
pctrankupper; missing values are the string "..") and the API v2 JSON
([meta, [observation, ...]] where the second element may be null).
"""

from __future__ import annotations

import json
from typing import Any

from connectors import xlsx
from connectors.countries import resolve

# voice and accountability, political stability, government effectiveness, regulatory quality,
# rule of law, control of corruption
INDICATORS = ("va", "pv", "ge", "rq", "rl", "cc")
WGI_API_CODES = tuple(f"GOV_WGI_{code.upper()}.EST" for code in INDICATORS)
WORKBOOK_COLUMNS = (
    "codeindyr",
    "code",
    "countryname",
    "year",
    "indicator",
    "estimate",
    "stddev",
    "nsource",
    "pctrank",
    "pctranklower",
    "pctrankupper",
)


class WgiPayloadError(ValueError):
    """The payload is not a WGI workbook or API answer."""


def _number(value: Any) -> float | None:
    if value is None or value == ".." or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _row(
    wb_code: str, name: str | None, year: Any, indicator: str, values: dict[str, Any]
) -> dict[str, Any]:
    country = resolve(wb_code)
    return {
        "wb_code": wb_code,
        "country_name": name,
        "iso3": country.iso3,
        "country_kind": country.kind,
        "year": int(year) if year not in (None, "") else None,
        "indicator": indicator,
        "estimate": _number(values.get("estimate")),
        "stddev": _number(values.get("stddev")),
        "nsource": _number(values.get("nsource")),
        "pctrank": _number(values.get("pctrank")),
        "pctrank_lower": _number(values.get("pctranklower")),
        "pctrank_upper": _number(values.get("pctrankupper")),
    }


def parse_wgi_workbook(body: bytes) -> list[dict[str, Any]]:
    """Long rows from the bulk workbook, one per country, year and indicator."""
    try:
        rows = iter(xlsx.sheets(body)[0])
    except (xlsx.XlsxError, IndexError) as exc:
        raise WgiPayloadError(str(exc) or "workbook has no sheet") from exc
    header = tuple(str(h).strip().lower() if h is not None else "" for h in next(rows, ()))
    missing = [c for c in WORKBOOK_COLUMNS if c not in header]
    if missing:
        raise WgiPayloadError(f"workbook lacks columns {missing}; header is {header}")
    index = {name: header.index(name) for name in WORKBOOK_COLUMNS}
    out = []
    for values in rows:
        if values[index["code"]] in (None, ""):
            continue
        record = {name: values[i] for name, i in index.items()}
        indicator = str(record["indicator"]).strip().lower()
        out.append(
            _row(
                str(record["code"]).strip(),
                record["countryname"],
                record["year"],
                indicator,
                record,
            )
        )
    return out


def _api_document(body: bytes | str) -> list[Any]:
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise WgiPayloadError(f"not JSON: {exc}") from exc
    if not isinstance(document, list) or not document or not isinstance(document[0], dict):
        # the API answers errors as [{"message": [...]}]
        raise WgiPayloadError(f"unexpected World Bank API answer: {str(document)[:200]}")
    if "message" in document[0]:
        raise WgiPayloadError(f"World Bank API error: {_api_messages(document[0]['message'])}")
    return document


def _api_messages(messages: Any) -> str:
    """'120 Invalid value: The provided parameter value is not valid' from the error element."""
    if not isinstance(messages, list):
        return str(messages)[:200]
    parts = []
    for message in messages:
        if isinstance(message, dict):
            head = " ".join(str(message[k]) for k in ("id", "key") if message.get(k))
            parts.append(f"{head}: {message.get('value')}" if head else str(message.get("value")))
        else:
            parts.append(str(message))
    return "; ".join(parts)[:500]


def api_page_count(body: bytes | str) -> int:
    """`pages` of the paging element; the API sends it as an int or, on some endpoints
    (e.g. /sources), as a string."""
    pages = _api_document(body)[0].get("pages")
    try:
        return int(pages) if pages not in (None, "") else 1
    except (TypeError, ValueError) as exc:
        raise WgiPayloadError(f"World Bank API paging element has pages={pages!r}") from exc


def api_observations(body: bytes | str) -> list[dict[str, Any]]:
    """The observations of one page (the second element; null or absent on an empty page)."""
    document = _api_document(body)
    observations = document[1] if len(document) > 1 and document[1] else []
    if not isinstance(observations, list) or not all(isinstance(o, dict) for o in observations):
        raise WgiPayloadError("World Bank API page: the second element is not a list of objects")
    return observations


def parse_wgi_api(body: bytes | str) -> list[dict[str, Any]]:
    """Long rows from one API v2 page; observations with a null value are kept as None.
    A series other than the six GOV_WGI_*.EST is refused (it would land as a WGI indicator)."""
    out = []
    for obs in api_observations(body):
        code = (obs.get("indicator") or {}).get("id", "")
        if code not in WGI_API_CODES:
            raise WgiPayloadError(f"World Bank API page holds {code!r}, not a WGI estimate series")
        indicator = code.removeprefix("GOV_WGI_").removesuffix(".EST").lower()
        iso3 = obs.get("countryiso3code") or (obs.get("country") or {}).get("id", "")
        out.append(
            _row(
                iso3,
                (obs.get("country") or {}).get("value"),
                obs.get("date"),
                indicator,
                {"estimate": obs.get("value")},
            )
        )
    return out
