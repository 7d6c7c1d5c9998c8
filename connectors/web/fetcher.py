"""The safe, polite fetcher every web/feed request goes through.

Each hop (the first URL, every redirect target, robots.txt) is checked by the ``AddressGuard``
on its resolved addresses before any connection, the socket is opened to the vetted address
(``PinnedAdapter``), robots.txt is obeyed, and the body is capped (``ResponseTooLarge``). Every
call returns a ``FetchResult`` whose ``row`` records the outcome; failures are rows with a reason.

Row keys (``FETCH_ROW_KEYS``): kind (page|robots), url, final_url, status, fetched_at (UTC
datetime), content_type, charset, bytes, sha256, redirects, outcome (one of ``OUTCOMES``), reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit

import requests
from urllib3 import exceptions as urllib3_exceptions

from connectors.budget import BudgetSpent
from connectors.config import Settings
from connectors.http import PoliteSession, RawResponse, ResponseTooLarge, make_session
from connectors.web.charset import BadEncoding, decode_body
from connectors.web.guard import AddressGuard, AllowList, BlockedAddress, ResolutionFailed, Resolver
from connectors.web.pinning import PinnedAdapter, PinTable
from connectors.web.robots import RobotsCache, RobotsRules

OUTCOMES = (
    "ok",
    "robots_disallowed",
    "too_large",
    "timeout",
    "bad_encoding",
    "blocked_address",
    "bad_content_type",
    "http_error",
    "too_many_redirects",
    "page_cap",
    "error",
)
FETCH_ROW_KEYS = (
    "kind", "url", "final_url", "status", "fetched_at", "content_type", "charset", "bytes",
    "sha256", "redirects", "outcome", "reason",
)  # fmt: skip
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
ALLOWED_MEDIA_TYPES = frozenset(
    {
        "text/html",
        "application/xhtml+xml",
        "text/xml",
        "application/xml",
        "application/rss+xml",
        "application/atom+xml",
        "application/rdf+xml",
        "application/feed+json",
    }
)


def media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def _looks_like_markup(body: bytes) -> bool:
    head = body[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<!doctype html", b"<html", b"<?xml", b"<rss", b"<feed", b"<rdf"))


def _is_timeout(exc: BaseException) -> bool:
    """requests reports a read timeout after exhausted retries as ConnectionError(MaxRetryError(
    reason=ReadTimeoutError)); look through the wrappers for any timeout."""
    seen: set[int] = set()
    stack: list[object] = [exc]
    while stack:
        item = stack.pop()
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, requests.Timeout | urllib3_exceptions.TimeoutError | TimeoutError):
            return True
        stack.extend([*item.args, getattr(item, "reason", None), item.__cause__, item.__context__])
    return False


@dataclass
class FetchResult:
    row: dict[str, Any]
    response: RawResponse | None = None  # the final answer when one arrived (store it raw)
    text: str | None = None  # decoded body, only when outcome == "ok"

    @property
    def ok(self) -> bool:
        return self.row["outcome"] == "ok"


@dataclass
class _Walk:
    final_url: str
    redirects: int = 0
    response: RawResponse | None = None
    outcome: str = ""
    reason: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


class SafeFetcher:
    """Guarded, robots-obeying, rate-limited, size-capped GETs. Use one instance per partner
    (the page cap counts its calls to ``fetch``); share a ``RobotsCache`` across partners."""

    def __init__(
        self,
        settings: Settings,
        *,
        source: str = "web",
        resolver: Resolver | None = None,
        robots_cache: RobotsCache | None = None,
        max_pages: int | None = None,
        max_response_bytes: int | None = None,
    ) -> None:
        self.settings = settings
        conf = settings.source(source)  # max_pages, max_redirects, max_response_bytes, ...
        self.max_pages = int(max_pages if max_pages is not None else conf["max_pages"])
        self.max_redirects = int(conf["max_redirects"])
        self.session = self._session(source, max_response_bytes or int(conf["max_response_bytes"]))
        allow = AllowList.parse(str(self.settings.http["allow_hosts"]))
        self.guard = AddressGuard(allow, resolver)
        self.robots = robots_cache or RobotsCache(float(conf["robots_max_age_seconds"]))
        self.product_token = str(self.session.headers["User-Agent"]).split("/")[0].split()[0]
        self.pages_fetched = 0
        self.rows: list[dict[str, Any]] = []  # every outcome row, pages and robots.txt

    def _session(self, source: str, max_bytes: int) -> PoliteSession:
        session = make_session(source, self.settings, max_response_bytes=max_bytes)
        # No proxies or .netrc from the environment: credentials must never leak to crawled
        # sites, and a proxy would resolve names itself, defeating the address pinning.
        session.trust_env = False
        self.pins = PinTable()
        retries = session.get_adapter("http://").max_retries  # type: ignore[attr-defined]
        adapter = PinnedAdapter(self.pins, max_retries=retries)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        return session

    def close(self) -> None:
        self.session.close()

    # -- public -------------------------------------------------------------------------------

    def fetch(self, url: str) -> FetchResult:
        """GET url (following up to max_redirects checked redirects); never raises for I/O
        (BudgetSpent is no I/O: the source's time budget ran out before the request)."""
        url = urldefrag(url.strip())[0]
        if self.pages_fetched >= self.max_pages:
            capped = _Walk(url, outcome="page_cap", reason=f"page cap {self.max_pages} reached")
            return self._finish("page", url, capped)
        self.pages_fetched += 1
        walk = self._walk(url, obey_robots=True)
        if walk.outcome:
            return self._finish("page", url, walk)
        assert walk.response is not None
        raw = walk.response
        if not raw.ok:
            walk.outcome, walk.reason = "http_error", f"HTTP {raw.status}"
            return self._finish("page", url, walk)
        mtype = media_type(raw.content_type)
        if mtype not in ALLOWED_MEDIA_TYPES and not (not mtype and _looks_like_markup(raw.body)):
            walk.outcome = "bad_content_type"
            walk.reason = f"content type {raw.content_type or '(none)'!r} is not html/xml/feed"
            return self._finish("page", url, walk)
        try:
            decoded = decode_body(raw.body, raw.content_type)
        except BadEncoding as exc:
            walk.outcome, walk.reason = "bad_encoding", str(exc)
            return self._finish("page", url, walk)
        walk.outcome, walk.reason = "ok", f"charset from {decoded.charset_source}"
        walk.extra["charset"] = decoded.charset
        result = self._finish("page", url, walk)
        result.text = decoded.text
        return result

    def robots_rules(self, url: str) -> RobotsRules:
        return self.robots.rules_for(url, self._load_robots)

    # -- internals ----------------------------------------------------------------------------

    def _walk(self, url: str, *, obey_robots: bool) -> _Walk:
        walk = _Walk(url)
        current = url
        while True:
            walk.final_url = current
            try:
                target = self.guard.check(current)
            except BlockedAddress as exc:
                walk.outcome, walk.reason = "blocked_address", str(exc)
                return walk
            except ResolutionFailed as exc:
                walk.outcome, walk.reason = "error", f"dns: {exc}"
                return walk
            if obey_robots:
                rules = self.robots_rules(current)
                if not rules.allowed(current):
                    walk.outcome = "robots_disallowed"
                    walk.reason = f"robots.txt ({rules.note}) disallows {urlsplit(current).path}"
                    return walk
            ipv4 = [a for a in target.addresses if ":" not in a]
            self.pins.pin(target.host, target.port, (ipv4 or list(target.addresses))[0])
            try:
                raw = self.session.fetch(current, allow_redirects=False)
            except ResponseTooLarge as exc:
                walk.outcome, walk.reason = "too_large", str(exc)
                return walk
            except BudgetSpent:
                raise  # not a page outcome: the caller defers the whole crawl
            except requests.RequestException as exc:
                walk.outcome = "timeout" if _is_timeout(exc) else "error"
                walk.reason = f"{type(exc).__name__}: {exc}"
                return walk
            walk.response = raw
            location = raw.headers.get("Location") or raw.headers.get("location")
            if raw.status not in REDIRECT_STATUSES or not location:
                return walk
            walk.redirects += 1
            if walk.redirects > self.max_redirects:
                walk.outcome = "too_many_redirects"
                walk.reason = f"more than {self.max_redirects} redirects"
                return walk
            current = urldefrag(urljoin(current, location.strip()))[0]

    def _load_robots(self, page_url: str) -> RobotsRules:
        parts = urlsplit(page_url)
        robots_url = f"{parts.scheme}://{parts.netloc}/robots.txt"
        walk = self._walk(robots_url, obey_robots=False)
        self._finish("robots", robots_url, walk)
        raw = walk.response
        if walk.outcome == "too_many_redirects":
            return RobotsRules.allow_all("robots.txt unavailable (redirect loop)")
        if walk.outcome or raw is None:
            return RobotsRules.disallow_all(f"robots.txt unreachable: {walk.outcome}")
        if raw.ok:
            text = raw.body.decode("utf-8", errors="replace")
            return RobotsRules.parse(text, self.product_token)
        if 400 <= raw.status < 500:
            return RobotsRules.allow_all(f"robots.txt HTTP {raw.status}")
        return RobotsRules.disallow_all(f"robots.txt HTTP {raw.status}")

    def _finish(self, kind: str, url: str, walk: _Walk) -> FetchResult:
        raw = walk.response
        row: dict[str, Any] = {
            "kind": kind,
            "url": url,
            "final_url": walk.final_url,
            "status": raw.status if raw else None,
            "fetched_at": raw.fetched_at if raw else datetime.now(UTC),
            "content_type": raw.content_type if raw else None,
            "charset": walk.extra.get("charset"),
            "bytes": len(raw.body) if raw else None,
            "sha256": raw.sha256 if raw else None,
            "redirects": walk.redirects,
            "outcome": walk.outcome or ("ok" if raw and raw.ok else "http_error"),
            "reason": walk.reason,
        }
        self.rows.append(row)
        return FetchResult(row=row, response=raw)
