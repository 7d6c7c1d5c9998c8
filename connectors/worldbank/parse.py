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
        raise WgiPayloadError(f"World Bank API error: {document[0]['message']}")
    return document


def api_page_count(body: bytes | str) -> int:
    return int(_api_document(body)[0].get("pages") or 1)


def parse_wgi_api(body: bytes | str) -> list[dict[str, Any]]:
    """Long rows from one API v2 page; observations with a null value are kept as None."""
    document = _api_document(body)
    observations = document[1] if len(document) > 1 and document[1] else []
    out = []
    for obs in observations:
        code = (obs.get("indicator") or {}).get("id", "")
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
