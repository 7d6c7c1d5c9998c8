"""GDELT DOC 2.0 API client (HTTP only; parsing lives in parse.py) and the configured feeds.

GDELT asks for about one request every 5 seconds; ``make_session("gdelt")`` enforces it through
``[sources.gdelt] rate_per_second = 0.2`` (a per-host limit shared by the whole process).
RSS/Atom feeds from partner sites and from config are fetched with ``SafeFetcher`` instead,
because their URLs come from the open web.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from connectors.config import Settings
from connectors.http import PoliteSession, RawResponse, make_session

MAX_RECORDS = 250
_TIMESPAN = re.compile(r"^(\d+)(min|h|hours|d|days|w|weeks|m|months)$")
_START = re.compile(r"^\d{14}$")
START_FORMAT = "%Y%m%d%H%M%S"
# A month counted short, so that a start "within the window" is inside GDELT's own window too.
_UNIT = {
    "min": timedelta(minutes=1), "h": timedelta(hours=1), "hours": timedelta(hours=1),
    "d": timedelta(days=1), "days": timedelta(days=1), "w": timedelta(weeks=1),
    "weeks": timedelta(weeks=1), "m": timedelta(days=28), "months": timedelta(days=28),
}  # fmt: skip


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
        self,
        query: str,
        *,
        timespan: str,
        maxrecords: int,
        sort: str = "DateDesc",
        startdatetime: str | None = None,
    ) -> RawResponse:
        """GET {base}/doc/doc?query=..&mode=ArtList&format=json&maxrecords=..&timespan=..

        With `startdatetime` (YYYYMMDDHHMMSS, UTC) the request asks for the articles seen
        since then instead of the `timespan` window (GDELT takes one or the other)."""
        if not query.strip():
            raise ValueError("empty GDELT query")
        if not 1 <= maxrecords <= MAX_RECORDS:
            raise ValueError(f"maxrecords must be 1..{MAX_RECORDS}, got {maxrecords}")
        if not _TIMESPAN.match(timespan):
            raise ValueError(f"timespan {timespan!r} is not like 15min, 24h, 7d, 2w or 3months")
        if startdatetime is not None and not _START.match(startdatetime):
            raise ValueError(f"startdatetime {startdatetime!r} is not YYYYMMDDHHMMSS")
        window = {"startdatetime": startdatetime} if startdatetime else {"timespan": timespan}
        params = {
            "query": query,
            "mode": "ArtList",
            "format": "json",
            "maxrecords": str(maxrecords),
            **window,
            "sort": sort,
        }
        return self.session.fetch(f"{self.base_url}/doc/doc", params=params)


def gdelt_start(latest_seen: datetime | None, timespan: str, now: datetime) -> str | None:
    """GDELT's `startdatetime` for a partner whose latest article seen is `latest_seen`: that
    time (inclusive: an article seen in the same second is not missed; landing merges the
    repeat), or None (ask for the `timespan` window) when nothing was seen or it lies
    before the window, which is then all the cursor would ask for (GDELT searches a rolling
    window of its last 3 months)."""
    if latest_seen is None:
        return None
    match = _TIMESPAN.match(timespan)
    if match is None:
        return None  # artlist() refuses the timespan with its reason
    window = int(match.group(1)) * _UNIT[match.group(2)]
    seen = latest_seen if latest_seen.tzinfo else latest_seen.replace(tzinfo=UTC)
    if seen <= now - window:
        return None
    return min(seen, now).astimezone(UTC).strftime(START_FORMAT)
