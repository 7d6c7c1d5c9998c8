"""Deduplicate news rows by canonical URL and by normalised title."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from connectors.web.phrases import fold

TRACKING_PARAMS = frozenset(
    """fbclid gclid dclid gbraid wbraid msclkid yclid mc_cid mc_eid igshid _ga _gl ocid cmpid
    icid ito spm wt_mc wt_zmc at_medium at_campaign ref_src ref_url guccounter""".split()
)
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hsa_", "wt.", "at_")
MIN_TITLE_KEY_CHARS = 16  # shorter titles ("Home", "News") are too generic to merge on
_NON_WORD = re.compile(r"[\W_]+")


def _is_tracking(name: str) -> bool:
    low = name.lower()
    return low in TRACKING_PARAMS or low.startswith(TRACKING_PREFIXES)


def canonical_url(url: str | None) -> str | None:
    """Lower-case scheme/host, no default port, fragment, tracking params or trailing slash."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    port = parts.port
    netloc = (
        host
        if port is None or (scheme, port) in {("http", 80), ("https", 443)}
        else (f"{host}:{port}")
    )
    path = parts.path.rstrip("/")
    query = urlencode(
        [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)]
    )
    return urlunsplit((scheme, netloc, path, query, ""))


def normalised_title(title: str | None) -> str | None:
    """Accent-free lower-case words: 'Société  Générale: fraude!' -> 'societe generale fraude'."""
    if not title:
        return None
    key = " ".join(_NON_WORD.sub(" ", fold(title)).split())
    return key or None


def dedupe_news(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Keep the first row per canonical URL and per normalised title (titles of at least
    MIN_TITLE_KEY_CHARS). Adds canonical_url, title_key and duplicates (how many were merged)."""
    kept: list[dict[str, Any]] = []
    by_url: dict[str, dict[str, Any]] = {}
    by_title: dict[str, dict[str, Any]] = {}
    for row in rows:
        url_key = canonical_url(row.get("url"))
        title_key = normalised_title(row.get("title"))
        if title_key and len(title_key) < MIN_TITLE_KEY_CHARS:
            title_key = None
        first = (by_url.get(url_key) if url_key else None) or (
            by_title.get(title_key) if title_key else None
        )
        if first is not None:
            first["duplicates"] += 1
            continue
        new = {**row, "canonical_url": url_key, "title_key": title_key, "duplicates": 0}
        kept.append(new)
        if url_key:
            by_url[url_key] = new
        if title_key:
            by_title[title_key] = new
    return kept
