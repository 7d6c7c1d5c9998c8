"""HTTP access to the sanctions lists through the shared session factory. Never parses."""

from __future__ import annotations

from collections.abc import Mapping
from email.utils import parsedate_to_datetime

from connectors.http import Answer, PoliteSession, RawResponse, make_session

SOURCE = "sanctions"


def sanctions_session() -> PoliteSession:
    """The session for the sanctions lists ([sources.sanctions] gives the rate limit)."""
    return make_session(SOURCE)


def fetch_list(session: PoliteSession, url: str) -> RawResponse:
    """GET one list file; non-2xx answers are returned (the caller stores and decides)."""
    return session.fetch(url)


def fetch_lists(session: PoliteSession, urls: Mapping[str, str]) -> dict[str, RawResponse]:
    """GET every configured list, keyed like ``urls`` (ofac_sdn, ofac_alt, ofac_add, un_sc)."""
    return {key: fetch_list(session, url) for key, url in urls.items()}


def ofac_list_published(response: Answer, configured: str | None = None) -> tuple[str, str]:
    """(publication date YYYY-MM-DD, basis) for an OFAC CSV, which carries no date itself.

    Order: the date pinned in config ('config'), else the response's Last-Modified header
    ('last_modified', the server's timestamp of the file), else the fetch date ('fetched_at').
    """
    if configured:
        return configured, "config"
    header = response.headers.get("Last-Modified") or response.headers.get("last-modified")
    if header:
        try:
            return parsedate_to_datetime(header).date().isoformat(), "last_modified"
        except (TypeError, ValueError):
            pass  # malformed header: fall through to the fetch date
    return response.fetched_at.date().isoformat(), "fetched_at"
