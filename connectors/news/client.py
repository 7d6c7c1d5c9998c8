"""GDELT DOC 2.0 API client (HTTP only; parsing lives in parse.py) and the configured feeds.

GDELT asks for about one request every 5 seconds; ``make_session("gdelt")`` enforces it through
``[sources.gdelt] rate_per_second = 0.2`` (a per-host limit shared by the whole process).
RSS/Atom feeds from partner sites and from config are fetched with ``SafeFetcher`` instead,
because their URLs come from the open web.
"""

from __future__ import annotations

import re

from connectors.config import Settings
from connectors.http import PoliteSession, RawResponse, make_session

MAX_RECORDS = 250
_TIMESPAN = re.compile(r"^\d+(min|h|hours|d|days|w|weeks|m|months)$")


def configured_feeds(settings: Settings) -> list[str]:
    """Feed URLs from [sources.news] feeds (a TOML list or a comma-separated string)."""
    raw = settings.source("news")["feeds"]
    items = raw.split(",") if isinstance(raw, str) else list(raw)
    return [str(item).strip() for item in items if str(item).strip()]


def gdelt_phrase_query(name: str, *extra_terms: str) -> str:
    """A DOC API query for an exact company name plus optional terms: '"SAP SE" fraud'."""
    clean = " ".join(name.replace('"', " ").split())
    if not clean:
        raise ValueError("empty name for a GDELT query")
    return " ".join([f'"{clean}"' if " " in clean else clean, *extra_terms])


class GdeltClient:
    """Builds DOC 2.0 requests from [sources.gdelt] url; returns RawResponse, never parses."""

    def __init__(self, settings: Settings) -> None:
        self.base_url = settings.source_url("gdelt")
        self.session: PoliteSession = make_session("gdelt", settings)

    def artlist(
        self, query: str, *, timespan: str, maxrecords: int, sort: str = "DateDesc"
    ) -> RawResponse:
        """GET {base}/doc/doc?query=..&mode=ArtList&format=json&maxrecords=..&timespan=.."""
        if not query.strip():
            raise ValueError("empty GDELT query")
        if not 1 <= maxrecords <= MAX_RECORDS:
            raise ValueError(f"maxrecords must be 1..{MAX_RECORDS}, got {maxrecords}")
        if not _TIMESPAN.match(timespan):
            raise ValueError(f"timespan {timespan!r} is not like 15min, 24h, 7d, 2w or 3months")
        params = {
            "query": query,
            "mode": "ArtList",
            "format": "json",
            "maxrecords": str(maxrecords),
            "timespan": timespan,
            "sort": sort,
        }
        return self.session.fetch(f"{self.base_url}/doc/doc", params=params)
