"""A loopback HTTP server that answers with recorded responses.

The offline demo, the tests and (later) the benchmarks run the real connectors against it.
A snapshot directory holds the recorded bodies plus ``routes.json``::

    {"routes": [
      {"path": "/gleif/lei-records/5299...", "file": "gleif/single_lei_record_5299....json",
       "content_type": "application/vnd.api+json", "status": 200,
       "query": {"page[size]": "10"}, "headers": {"X-Extra": "1"},
       "fail_first": 2, "fail_status": 429, "fail_headers": {"Retry-After": "1"}}
    ]}

The request log (method, path, query, headers) lets tests prove what did or did not arrive.
Like a real publisher's server, every 2xx answer carries an ETag (a hash of its body) and a
request whose If-None-Match names it gets 304 Not Modified without a body.

``latency`` (seconds) delays every answer, as a distant publisher's server would (the request
benchmark uses 0.1 s); ``latencies`` maps a path prefix (one per publisher, as for
``rate_limits``) to its own delay instead, so one publisher can be slower than the others.

``rate_limits`` (off by default) maps a path prefix (one per publisher on this one host, e.g.
``/gleif/``) to the requests per second it allows, as a bucket holding one second's requests
(at least two, so a request sent on time after one delayed on its way is not refused): a
request beyond it gets ``429 Too Many Requests`` with ``Retry-After`` (whole seconds until the
bucket has room), like a publisher enforcing its fair-access limit. ``limited`` counts those
answers per prefix; every logged request carries its arrival time (``at``, monotonic).

A ``CollectionRoute`` (``"type": "collection"`` in a manifest) answers a JSON:API collection
filtered by ids, as GLEIF answers ``/lei-records?filter[lei]=A,B,C``: composed from the
single-resource answers this server has for each id (those it has none for are named in
``X-Replay-Unrecorded``).

A route matches on the exact path and, when given, on every listed query parameter.
A ``PatternRoute`` (code only, not in routes.json) matches a regular expression instead and
renders the body from the named groups, so one route serves many ids (the scale benchmark's
synthetic partners); when it renders None the id is unknown and the next route is tried.
Anything unmatched gets a JSON 404, like a real API for an unknown id.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from connectors.http import header


@dataclass
class Route:
    path: str
    file: str | None = None
    body: bytes | None = None
    status: int = 200
    content_type: str = "application/octet-stream"
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    # Fault injection: the first `fail_first` matching requests get `fail_status` instead.
    fail_first: int = 0
    fail_status: int = 503
    fail_headers: dict[str, str] = field(default_factory=dict)
    hits: int = 0

    def matches(self, path: str, query: dict[str, str]) -> bool:
        return path == self.path and self._query_matches(query)

    def _query_matches(self, query: dict[str, str]) -> bool:
        return all(query.get(k) == v for k, v in self.query.items())

    def answer(self, path: str, snapshot_dir: Path | None) -> bytes | None:
        """The body for a matched request; None when this route does not know the id."""
        if self.body is not None:
            return self.body
        if self.file is not None:
            assert snapshot_dir is not None
            return (snapshot_dir / self.file).read_bytes()
        return b""


@dataclass(kw_only=True)
class PatternRoute(Route):
    """``path`` is a regular expression over the whole path; ``render`` builds the body from
    its named groups, or returns None for an id it does not know."""

    render: Callable[[dict[str, str]], bytes | None]

    def __post_init__(self) -> None:
        self._regex = re.compile(self.path)

    def matches(self, path: str, query: dict[str, str]) -> bool:
        return self._regex.fullmatch(path) is not None and self._query_matches(query)

    def answer(self, path: str, snapshot_dir: Path | None) -> bytes | None:
        match = self._regex.fullmatch(path)
        return None if match is None else self.render(match.groupdict())


@dataclass(kw_only=True)
class CollectionRoute(Route):
    """``path`` plus a ``param`` of comma-separated ids: the records the server answers at
    ``item`` (a path with ``{}`` for the id) for those ids, as one JSON:API page (``data``,
    ``meta.pagination``, ``links``; ``page[size]``, default 10, and ``page[number]``). Ids the
    server has no record for are left out, as the real API leaves out unknown LEIs."""

    param: str
    item: str

    def matches(self, path: str, query: dict[str, str]) -> bool:
        return path == self.path and self.param in query and self._query_matches(query)

    def compose(
        self, base_url: str, query: dict[str, str], record: Callable[[str], bytes | None]
    ) -> tuple[bytes, list[str]]:
        """The page, and the ids this server has no recording for."""
        asked = list(dict.fromkeys(i for i in query[self.param].split(",") if i))
        bodies = {i: record(self.item.format(i)) for i in asked}
        found = [json.loads(body) for body in bodies.values() if body is not None]
        size = max(1, int(query.get("page[size]", "10")))
        number = max(1, int(query.get("page[number]", "1")))
        page = found[(number - 1) * size : number * size]
        last = max(1, -(-len(found) // size))

        def link(n: int) -> str:
            return f"{base_url}{self.path}?" + urlencode({**query, "page[number]": str(n)})

        links = {"first": link(1), "last": link(last)}
        if number > 1:
            links["prev"] = link(number - 1)
        if number < last:
            links["next"] = link(number + 1)
        start = (number - 1) * size + 1
        meta = dict(found[0].get("meta") or {}) if found else {}
        meta["pagination"] = {
            "currentPage": number, "perPage": size, "from": start if page else None,
            "to": start + len(page) - 1 if page else None, "total": len(found), "lastPage": last,
        }  # fmt: skip
        document = {"meta": meta, "links": links, "data": [r["data"] for r in page]}
        return json.dumps(document).encode(), [i for i, body in bodies.items() if body is None]


ROUTE_TYPES: dict[str, type[Route]] = {"collection": CollectionRoute}


def load_routes(snapshot_dir: Path) -> list[Route]:
    """routes.json plus one routes.d/<source>.json fragment per source, same format."""
    manifests = [snapshot_dir / "routes.json", *sorted((snapshot_dir / "routes.d").glob("*.json"))]
    routes: list[Route] = []
    for path in manifests:
        if path.exists():
            routes.extend(
                ROUTE_TYPES[r.pop("type")](**r) if "type" in r else Route(**r)
                for r in json.loads(path.read_text(encoding="utf-8"))["routes"]
            )
    return routes


class ReplayServer:
    """Serve routes on 127.0.0.1 (an ephemeral port by default) in a background thread."""

    def __init__(
        self,
        snapshot_dir: Path | None = None,
        routes: list[Route] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        etags: bool = True,
        latency: float = 0.0,
        rate_limits: dict[str, float] | None = None,
        latencies: dict[str, float] | None = None,
    ) -> None:
        self.snapshot_dir = snapshot_dir
        self.latency = latency  # seconds before each answer (a live-shaped round trip)
        self.latencies = dict(latencies or {})  # path prefix -> its own latency
        self.rate_limits = dict(rate_limits or {})
        self.limited: dict[str, int] = dict.fromkeys(self.rate_limits, 0)
        self._buckets: dict[str, tuple[float, float]] = {}  # prefix -> (tokens, at)
        self.etags = etags  # 2xx answers carry an ETag; a matching If-None-Match gets 304
        self.routes: list[Route] = list(routes or [])
        if snapshot_dir is not None:
            self.routes.extend(load_routes(snapshot_dir))
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((host, port), self._handler_class())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        host = host.decode() if isinstance(host, bytes) else host
        return f"http://{host}:{port}"

    def add(self, route: Route) -> None:
        self.routes.insert(0, route)

    def start(self) -> ReplayServer:
        # stop() waits until the serving loop looks again: every 0.5 s by default, for every
        # replay server an offline refresh or a test stops.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> ReplayServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _over_limit(self, path: str) -> float | None:
        """Seconds until the path's publisher allows another request, or None: allowed now
        (and counted)."""
        prefix = next((p for p in self.rate_limits if path.startswith(p)), None)
        if prefix is None or self.rate_limits[prefix] <= 0:
            return None
        rate = self.rate_limits[prefix]
        capacity = max(2.0, rate)
        with self._lock:
            now = time.monotonic()
            tokens, at = self._buckets.get(prefix, (capacity, now))
            tokens = min(capacity, tokens + (now - at) * rate)
            if tokens >= 1.0:
                self._buckets[prefix] = (tokens - 1.0, now)
                return None
            self._buckets[prefix] = (tokens, now)
            self.limited[prefix] += 1
            return (1.0 - tokens) / rate

    def _log(
        self, method: str, target: str, request_headers: dict[str, str], limited: bool = False
    ) -> dict[str, str]:
        """Log the request (what arrived, whether it was refused for the rate); its query."""
        parts = urlsplit(target)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        entry = {"method": method, "path": parts.path, "query": query, "headers": request_headers}
        with self._lock:
            self.requests.append({**entry, "limited": limited, "at": time.monotonic()})
        return query

    def _item_body(self, path: str) -> bytes | None:
        """The recorded 200 answer for a single resource, for a collection to include."""
        for route in self.routes:
            if route.status == 200 and not route.query and route.matches(path, {}):
                body = route.answer(path, self.snapshot_dir)
                if body is not None:
                    return body
        return None

    def _resolve(
        self, method: str, target: str, request_headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        parts = urlsplit(target)
        query = self._log(method, target, request_headers)
        for route in self.routes:
            if not route.matches(parts.path, query):
                continue
            extra: dict[str, str] = {}
            body: bytes | None
            if isinstance(route, CollectionRoute):
                body, unrecorded = route.compose(self.base_url, query, self._item_body)
                if unrecorded:  # the refresh tells "not recorded" from "no such id"
                    extra["X-Replay-Unrecorded"] = ",".join(unrecorded)
            else:
                body = route.answer(parts.path, self.snapshot_dir)
            if body is None:
                continue
            with self._lock:
                route.hits += 1
                failing = route.hits <= route.fail_first
            if failing:
                return route.fail_status, dict(route.fail_headers), b"injected fault"
            headers = {"Content-Type": route.content_type, **route.headers, **extra}
            if self.etags and 200 <= route.status < 300:
                etag = headers.setdefault("ETag", f'"{hashlib.sha1(body).hexdigest()}"')  # noqa: S324 (a validator, not security)
                asked = header(request_headers, "If-None-Match")
                if asked is not None and etag in (t.strip() for t in asked.split(",")):
                    return 304, {"ETag": etag}, b""
            return route.status, headers, body
        error = json.dumps(
            {
                "errors": [
                    {
                        "status": "404",
                        "title": "Not Found",
                        "detail": f"no recorded response for {target}",
                    }
                ]
            }
        )
        # The header tells the refresh "not recorded in the snapshot" from a real 404.
        headers = {"Content-Type": "application/json", "X-Replay-Unrecorded": "1"}
        return 404, headers, error.encode()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self, with_body: bool) -> None:
                path = urlsplit(self.path).path
                wait = server._over_limit(path)
                delay = next(
                    (v for p, v in server.latencies.items() if path.startswith(p)), server.latency
                )
                if delay > 0:
                    time.sleep(delay)
                if wait is not None:
                    server._log(self.command, self.path, dict(self.headers.items()), limited=True)
                    status, body = 429, b"rate limit exceeded"
                    headers = {"Retry-After": str(max(1, math.ceil(wait)))}
                else:
                    status, headers, body = server._resolve(
                        self.command, self.path, dict(self.headers.items())
                    )
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if with_body:
                    self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802 (http.server naming)
                self._answer(with_body=True)

            def do_HEAD(self) -> None:  # noqa: N802
                self._answer(with_body=False)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

        return Handler
