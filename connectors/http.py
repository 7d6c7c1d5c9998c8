"""The one HTTP session factory every connector uses.

Timeouts, a named User-Agent, urllib3 retries on 429/5xx that honour Retry-After,
a per-host rate limit shared by all sessions in the process, and a response size cap.
Prefect task retries only cover whole-task failures; request-level retries live here,
so the two never stack.
"""

from __future__ import annotations

import copy
import hashlib
import socket
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3 import exceptions as urllib3_errors
from urllib3.util.retry import Retry

from connectors.budget import TimeBudget
from connectors.config import Settings

RETRY_STATUSES = (429, 500, 502, 503, 504)


def redact_url(url: str | None) -> str | None:
    """The URL without `user:pass@` credentials: never stored, never logged."""
    if not url or "@" not in url:
        return url
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


class ResponseTooLarge(requests.RequestException):
    """The body exceeded the configured cap; the partial body was discarded."""


class ResponseTooSlow(requests.Timeout):
    """The whole exchange took longer than the total cap (e.g. a server trickling bytes,
    which a read timeout alone never stops: it restarts with every byte)."""


class Cancelled(requests.RequestException):
    """The run was cancelled (SIGTERM, Ctrl-C) while this request waited or read."""


class _Cancellation:
    """Stops every request of the process at once: the run is being cancelled. Waits (rate
    limit, retry back-off) end, and in-flight reads are cut by shutting their sockets down
    (a read blocked on a trickling server would otherwise wait for its next byte)."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.by_signal = False  # a SIGTERM, not the end of a run that failed
        self._lock = threading.Lock()
        self._reading: set[Any] = set()

    def check(self) -> None:
        if self.event.is_set():
            raise Cancelled("the run was cancelled")

    def wait(self, seconds: float) -> None:
        """Sleep `seconds`, or raise Cancelled as soon as the run is cancelled."""
        if self.event.wait(max(seconds, 0.0)):
            raise Cancelled("the run was cancelled")

    def reading(self, raw: Any) -> None:
        with self._lock:
            self._reading.add(raw)

    def done(self, raw: Any) -> None:
        with self._lock:
            self._reading.discard(raw)

    def cancel(self, by_signal: bool = False) -> None:
        self.by_signal = self.by_signal or by_signal
        self.event.set()
        with self._lock:
            reading = list(self._reading)
        for raw in reading:
            sock = _socket_of(raw)
            try:
                if sock is not None:
                    sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed

    def reset(self) -> None:
        """A new run in the same process (`partnerdd serve`) starts uncancelled."""
        self.by_signal = False
        self.event.clear()


CANCELLATION = _Cancellation()


def _socket_of(raw: Any) -> socket.socket | None:
    """The socket a urllib3 response reads from: its connection's, or, once http.client
    has handed it to the response (a body read to the end of the connection), the
    response file's."""
    sock = getattr(getattr(raw, "_connection", None), "sock", None)
    if sock is None:
        file = getattr(getattr(raw, "_fp", None), "fp", None)  # BufferedReader(SocketIO)
        sock = getattr(getattr(file, "raw", None), "_sock", None)
    return sock if isinstance(sock, socket.socket) else None


class RetryAfterTooLong(requests.RequestException):
    """The server asked to retry later than the configured cap: the request is deferred to
    the next run instead of holding this one."""


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header's value whatever the case of its name (HTTP names are case-insensitive)."""
    wanted = name.lower()
    return next((v for k, v in headers.items() if k.lower() == wanted), None)


class AnswerStatus:
    """`ok` and `content_type` of an answer, fresh (RawResponse) or stored (flows' Stored)."""

    status: int
    headers: dict[str, str]

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def content_type(self) -> str:
        return header(self.headers, "Content-Type") or ""


@dataclass(frozen=True)
class RawResponse(AnswerStatus):
    """One HTTP exchange as it arrived, before it is stored (flows/store.py) and parsed."""

    source: str
    url: str
    status: int
    headers: dict[str, str]
    body: bytes
    fetched_at: datetime
    # None: fetched now; "not_modified": the server answered 304 and this is the stored
    # answer it confirmed; "fresh": the stored answer is younger than the source's max age
    # and no request was made.
    reused: str | None = None
    sha256: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sha256", hashlib.sha256(self.body).hexdigest())

    @property
    def size(self) -> int:
        return len(self.body)


class ReusedResponse(RawResponse):
    """A stored answer handed back again (no request, or after a 304): its body is read from
    the store only if the caller reads it, so reusing a large answer costs no decompression
    when only its identity is recorded."""

    def __init__(
        self, cached: CachedAnswer, source: str, reused: str, at: datetime, cache: AnswerCache
    ) -> None:
        values = {
            "source": source, "url": cached.url, "status": cached.status,
            "headers": cached.headers, "fetched_at": at, "reused": reused,
            "sha256": cached.sha256, "_size": cached.size, "_cache": cache,
        }  # fmt: skip
        for name, value in values.items():
            object.__setattr__(self, name, value)

    @property
    def body(self) -> bytes:
        return self._cache.body(self.sha256)  # type: ignore[attr-defined]

    @property
    def size(self) -> int:
        return int(self._size)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class CachedAnswer:
    """The last answer stored for a URL (2xx, or a final 404/410), with what is needed to
    revalidate it."""

    url: str
    status: int
    sha256: str
    size: int
    headers: dict[str, str]
    fetched_at: datetime


class AnswerCache(Protocol):
    """Stored answers by URL (flows/revalidate.py builds one from the raw store)."""

    def lookup(self, url: str) -> CachedAnswer | None: ...

    def body(self, sha256: str) -> bytes: ...


class Answer(Protocol):
    """What parse code reads of an answer, fresh (RawResponse) or stored (flows' Stored)."""

    url: str
    status: int
    headers: dict[str, str]
    sha256: str
    fetched_at: datetime


class HostRateLimiter:
    """Minimum interval between requests to one host, shared across threads and sessions.

    Each request takes the next free slot of its host before it is sent and waits for it,
    so threads overlap their round trips but never start requests faster than the rate.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next_slot: dict[str, float] = {}

    def wait(self, host: str, per_second: float) -> None:
        if per_second <= 0:
            return
        interval = 1.0 / per_second
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next_slot.get(host, now))
            self._next_slot[host] = slot + interval
        CANCELLATION.wait(slot - time.monotonic())


RATE_LIMITER = HostRateLimiter()
# The limiter key and rate of the request this thread is making, so that urllib3's retries
# (below PoliteSession.request) take a slot of the same limiter.
_PACING = threading.local()


class PoliteRetry(Retry):
    """urllib3 Retry whose back-off never undercuts the source's rate limit, and whose every
    retry takes a slot of the host's limiter like the first attempt.

    Retries happen inside the adapter, below PoliteSession.request and its rate limiter, so
    without this a 429 without Retry-After would be retried after 0.5 s even for a host that
    asks for one request every 5 s. Retry-After, when sent, still wins (urllib3 sleeps for it).
    """

    def __init__(
        self,
        *args: Any,
        min_backoff: float = 0.0,
        max_retry_after: float = float("inf"),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.min_backoff = min_backoff
        self.max_retry_after = max_retry_after

    def new(self, **kwargs: Any) -> PoliteRetry:
        retry = super().new(**kwargs)
        retry.min_backoff = self.min_backoff
        retry.max_retry_after = self.max_retry_after
        return retry

    def get_backoff_time(self) -> float:
        return max(float(super().get_backoff_time()), self.min_backoff)

    def sleep(self, response: Any = None) -> None:
        """Sleep before the retry, unless the server's Retry-After passes the cap."""
        after = self.get_retry_after(response) if response is not None else None
        if after is not None and after > self.max_retry_after:
            raise RetryAfterTooLong(
                f"deferred to the next run: the server asks to retry after {after:.0f} s, "
                f"over the cap of {self.max_retry_after:.0f} s (max_retry_after_seconds)"
            )
        # urllib3 sleeps for Retry-After when sent, else for the back-off; a cancelled run
        # stops waiting at once
        CANCELLATION.wait(after if after is not None else self.get_backoff_time())
        # a retry is a request too: it takes its slot, or retries after a 429 from several
        # threads would come on top of the allowed rate
        key, rate = getattr(_PACING, "slot", ("", 0.0))
        RATE_LIMITER.wait(key, rate)


class PoliteSession(requests.Session):
    """requests.Session with default timeouts, a per-host rate limit and a body size cap."""

    def __init__(
        self,
        source: str,
        *,
        user_agent: str,
        timeout: tuple[float, float],
        rate_per_second: float,
        max_response_bytes: int,
        retry: Retry,
        total_timeout: float = float("inf"),
        answers: AnswerCache | None = None,
        max_age: timedelta = timedelta(0),
        budget: TimeBudget | None = None,
    ) -> None:
        super().__init__()
        self.source = source
        self.budget = budget
        self.answers = answers
        self.max_age = max_age
        self.timeout = timeout
        self.total_timeout = total_timeout
        self.rate_per_second = rate_per_second
        self.max_response_bytes = max_response_bytes
        self.headers["User-Agent"] = user_agent
        adapter = HTTPAdapter(max_retries=retry)
        self.mount("http://", adapter)
        self.mount("https://", adapter)

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", self.timeout)
        host = urlsplit(url if isinstance(url, str) else url.decode()).netloc
        CANCELLATION.check()
        self._within_budget()
        # keyed by the settings section too: on one replay server (one host for every
        # source) each publisher keeps its own limit, as it does on its own host
        _PACING.slot = (f"{self.source}@{host}", self.rate_per_second)
        RATE_LIMITER.wait(*_PACING.slot)
        self._within_budget()  # the wait for a slot may have used up the rest
        return super().request(method, url, *args, **kwargs)

    def _within_budget(self) -> None:
        """A request not yet made is not made once the extract's time budget is spent."""
        if self.budget is not None:
            self.budget.check()

    def fetch(
        self,
        url: str,
        params: Mapping[str, str] | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        allow_redirects: bool = True,
    ) -> RawResponse:
        """GET url and return the whole body (up to the cap) with status and headers.

        Non-2xx answers are returned, not raised: the caller stores them as raw evidence
        and decides. Network errors, an over-size body, an exchange (retries included) longer
        than the total cap and a Retry-After over its cap raise.

        With an answer cache, a stored answer younger than the source's max age is returned
        without a request, and an older one is revalidated (If-None-Match /
        If-Modified-Since): a 304 returns the stored answer, marked `reused`.
        """
        cached = self._cached(url, params)
        if cached is not None and datetime.now(UTC) - cached.fetched_at < self.max_age:
            return self._reuse(cached, "fresh", cached.fetched_at)
        headers = {**(headers or {}), **_conditions(cached)}
        deadline = time.monotonic() + self.total_timeout
        try:
            answer = self.get(
                url, params=params, headers=headers, stream=True, allow_redirects=allow_redirects
            )
        except requests.RequestException as exc:
            if urlsplit(url).path in str(exc):
                raise
            raise _naming(exc, url) from exc
        with answer as resp:
            if resp.status_code == 304 and cached is not None:
                # read to its (empty) end, so that the connection goes back to the pool:
                # closed unread, every revalidation opened a new connection (and TLS session)
                self._read(resp, deadline)
                return self._reuse(cached, "not_modified", datetime.now(UTC))
            declared = resp.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > self.max_response_bytes:
                raise ResponseTooLarge(
                    f"{resp.url}: Content-Length {declared} exceeds cap {self.max_response_bytes}"
                )
            CANCELLATION.reading(resp.raw)
            try:
                CANCELLATION.check()  # a cancellation just before reading found no socket
                body = self._read(resp, deadline)
            finally:
                CANCELLATION.done(resp.raw)
            return RawResponse(
                source=self.source,
                url=redact_url(resp.url) or resp.url,
                status=resp.status_code,
                headers=dict(resp.headers),
                body=body,
                fetched_at=datetime.now(UTC),
            )

    def _read(self, resp: requests.Response, deadline: float) -> bytes:
        """The whole body, within the size cap, the total time cap and the run's life."""
        chunks: list[bytes] = []
        size = 0
        # read1: whatever one socket read brings (a read of 64 KiB would wait for all of it,
        # byte by byte), so the caps are checked as bytes trickle in
        try:
            while chunk := resp.raw.read1(65536, decode_content=True):
                size += len(chunk)
                if size > self.max_response_bytes:
                    raise ResponseTooLarge(
                        f"{resp.url}: body exceeds cap of {self.max_response_bytes} bytes"
                    )
                if time.monotonic() > deadline:
                    raise ResponseTooSlow(
                        f"{redact_url(resp.url)}: no whole answer within the total cap of "
                        f"{self.total_timeout:.0f} s ({size} bytes so far)"
                    )
                chunks.append(chunk)
        except urllib3_errors.HTTPError as exc:
            # a body cut short, undecodable or stalled: what requests' own readers raise, so
            # that a connector's `except requests.RequestException` holds for the body too
            raise _as_requests_error(exc, resp.url) from exc
        finally:
            CANCELLATION.check()  # a connection cut by a cancellation is not an answer
        return b"".join(chunks)

    def _cached(self, url: str, params: Mapping[str, str] | None) -> CachedAnswer | None:
        if self.answers is None:
            return None
        full = requests.Request("GET", url, params=params).prepare().url or url
        return self.answers.lookup(redact_url(full) or full)

    def _reuse(self, cached: CachedAnswer, how: str, at: datetime) -> RawResponse:
        assert self.answers is not None
        return ReusedResponse(cached, self.source, how, at, self.answers)


def _naming(exc: requests.RequestException, url: str) -> requests.RequestException:
    """The same error saying which URL failed, where its message does not (a redirect loop,
    a Retry-After over the cap): a fetch log row names the request, not only its partner."""
    named = copy.copy(exc)
    named.args = (f"{redact_url(url)}: {exc}",)
    return named


def _as_requests_error(exc: urllib3_errors.HTTPError, url: str) -> requests.RequestException:
    """The requests exception for a urllib3 error raised while reading a body (as
    requests.Response.iter_content maps them)."""
    where = redact_url(url)
    if isinstance(exc, urllib3_errors.ProtocolError):  # e.g. fewer bytes than Content-Length
        return requests.exceptions.ChunkedEncodingError(f"{where}: {exc}")
    if isinstance(exc, urllib3_errors.DecodeError):
        return requests.exceptions.ContentDecodingError(f"{where}: {exc}")
    if isinstance(exc, urllib3_errors.ReadTimeoutError):
        return requests.exceptions.ReadTimeout(f"{where}: {exc}")
    return requests.exceptions.ConnectionError(f"{where}: {exc}")


def _conditions(cached: CachedAnswer | None) -> dict[str, str]:
    """The validators of a stored answer as request headers (RFC 9110 13.1)."""
    if cached is None:
        return {}
    out = {}
    if etag := header(cached.headers, "ETag"):
        out["If-None-Match"] = etag
    if modified := header(cached.headers, "Last-Modified"):
        out["If-Modified-Since"] = modified
    return out


def make_session(
    source: str,
    settings: Settings,
    *,
    user_agent: str | None = None,
    max_response_bytes: int | None = None,
) -> PoliteSession:
    """Build the session for one source from config (rate limit from [sources.<source>])."""
    http = settings.http
    src = settings.sources.get(source, {})
    rate = float(src.get("rate_per_second", 0) or 0)
    retry = PoliteRetry(
        total=int(http["retries"]),
        backoff_factor=float(http["backoff_factor"]),
        status_forcelist=RETRY_STATUSES,
        allowed_methods=frozenset({"GET", "HEAD"}),
        respect_retry_after_header=True,
        raise_on_status=False,
        min_backoff=1.0 / rate if rate > 0 else 0.0,
        max_retry_after=float(http["max_retry_after_seconds"]),
    )
    return PoliteSession(
        source,
        user_agent=user_agent or str(http["user_agent"]),
        timeout=(float(http["connect_timeout_seconds"]), float(http["read_timeout_seconds"])),
        rate_per_second=rate,
        max_response_bytes=int(max_response_bytes or http["max_response_bytes"]),
        retry=retry,
        total_timeout=float(http["total_timeout_seconds"]),
        answers=settings.answers,
        max_age=timedelta(hours=float(src.get("max_age_hours", 0) or 0)),
        budget=settings.budget,
    )
