"""Fetch + parse + failure rows for news, so nothing is lost between HTTP and the tables.

``NewsBatch`` fields: news_rows (NEWS_KEYS, see parse.py), failure_rows ({source_url, status,
outcome, reason}), fetch_rows (SafeFetcher rows for feeds), responses (RawResponse to store raw).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import requests

from connectors.config import Settings
from connectors.http import RawResponse
from connectors.news.client import GdeltClient
from connectors.news.parse import (
    FeedError,
    GdeltError,
    GdeltRateLimited,
    parse_feed,
    parse_gdelt_artlist,
)
from connectors.web.charset import BadEncoding
from connectors.web.fetcher import SafeFetcher


@dataclass
class NewsBatch:
    news_rows: list[dict[str, Any]] = field(default_factory=list)
    failure_rows: list[dict[str, Any]] = field(default_factory=list)
    fetch_rows: list[dict[str, Any]] = field(default_factory=list)
    responses: list[RawResponse] = field(default_factory=list)

    def fail(self, source_url: str, status: int | None, outcome: str, reason: str) -> None:
        self.failure_rows.append(
            {"source_url": source_url, "status": status, "outcome": outcome, "reason": reason}
        )


def configured_feeds(settings: Settings) -> list[str]:
    """Feed URLs from [sources.news] feeds (a TOML list or a comma-separated string)."""
    raw = settings.sources.get("news", {}).get("feeds", [])
    items = raw.split(",") if isinstance(raw, str) else list(raw)
    return [str(item).strip() for item in items if str(item).strip()]


def collect_gdelt(client: GdeltClient, query: str, **artlist_kwargs: Any) -> NewsBatch:
    """One ArtList request; rate limits, plaintext errors and network errors become failure rows."""
    batch = NewsBatch()
    try:
        raw = client.artlist(query, **artlist_kwargs)
    except requests.RequestException as exc:
        batch.fail(f"{client.base_url}/doc/doc", None, "error", f"{type(exc).__name__}: {exc}")
        return batch
    batch.responses.append(raw)
    try:
        batch.news_rows = parse_gdelt_artlist(
            raw.body, source_url=raw.url, sha256=raw.sha256, status=raw.status
        )
    except GdeltRateLimited as exc:
        batch.fail(raw.url, raw.status, "rate_limited", str(exc))
    except GdeltError as exc:
        batch.fail(raw.url, raw.status, "api_error", str(exc))
    return batch


def collect_feeds(fetcher: SafeFetcher, feed_urls: Iterable[str]) -> NewsBatch:
    """Fetch each feed through the safe fetcher and parse it; each failure is a row."""
    batch = NewsBatch()
    start = len(fetcher.rows)
    for url in dict.fromkeys(feed_urls):
        result = fetcher.fetch(url)
        if result.response is not None:
            batch.responses.append(result.response)
        if not result.ok or result.response is None:
            batch.fail(url, result.row["status"], result.row["outcome"], result.row["reason"])
            continue
        raw = result.response
        try:
            batch.news_rows.extend(
                parse_feed(raw.body, feed_url=url, content_type=raw.content_type, sha256=raw.sha256)
            )
        except BadEncoding as exc:
            batch.fail(url, raw.status, "bad_encoding", str(exc))
        except FeedError as exc:
            batch.fail(url, raw.status, "not_a_feed", str(exc))
    batch.fetch_rows = fetcher.rows[start:]
    return batch
