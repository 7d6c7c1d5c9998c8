"""Faults the loopback replay server answers with instead of a recorded response.

What a publisher's server or the network between does wrong, served for real on loopback so
that the connectors meet it through their real HTTP code (the fault suite, tests/faults)::

    with FaultyReplayServer(SNAPSHOT_DIR) as server:
        server.inject(Fault("truncated", r"/gleif/lei-records/5299.*", label="gleif"))
        ...                    # that request gets half its body, then the connection closes
        server.clear()         # every fault gone: the recorded answers again

A fault matches a request like a route (a regular expression over the whole path, and every
listed query parameter) and answers it until cleared, or its first `times` requests only.
Faults that need the recorded answer (truncated, charset) read it through the server's routes.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from connectors.http import header
from connectors.replay import ReplayServer

ERROR_PAGE = (
    b"<!DOCTYPE html><html><head><title>503 Service Unavailable</title></head><body>"
    b"<h1>Service Unavailable</h1><p>The server is temporarily unable to service your "
    b"request. Please try again later.</p></body></html>"
)
STALL_SECONDS = 60.0  # a stalled or trickling answer ends at the latest then, or when cleared
TRICKLE_INTERVAL = 0.05  # seconds between bytes: every read is quick, the whole is not
OVERSIZE_LIMIT = 256 << 20  # an unending body stops here if the client never hangs up
BOMB_SIZE = 256 << 20  # what the gzip bomb inflates to (about 250 KB on the wire)

CONDITIONAL_HEADERS = ("if-none-match", "if-modified-since")


@dataclass
class Fault:
    """`kind` (one of FAULTS) for requests to paths matching `path`; `label` says whom it is
    aimed at (a connector), for tallies; `hits` counts the requests it answered."""

    kind: str
    path: str
    query: dict[str, str] = field(default_factory=dict)
    times: int | None = None
    label: str = ""
    hits: int = 0

    def __post_init__(self) -> None:
        if self.kind not in FAULTS:
            raise ValueError(f"unknown fault {self.kind!r}; faults: {', '.join(FAULTS)}")
        self._regex = re.compile(self.path)

    def matches(self, path: str, query: dict[str, str]) -> bool:
        return self._regex.fullmatch(path) is not None and all(
            query.get(k) == v for k, v in self.query.items()
        )


class FaultyReplayServer(ReplayServer):
    """A ReplayServer whose requests matching an injected Fault get the fault."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.faults: list[Fault] = []
        self.released = threading.Event()  # set: stalled and trickling answers end now
        self._blackhole: socket.socket | None = None
        self._queued: list[socket.socket] = []
        super().__init__(*args, **kwargs)

    def inject(self, fault: Fault) -> Fault:
        with self._lock:
            self.faults.append(fault)
            self.released.clear()
        return fault

    def clear(self) -> list[Fault]:
        """Remove every fault (ending the answers still stalling); returns them."""
        with self._lock:
            gone, self.faults = self.faults, []
        self.released.set()
        return gone

    def __enter__(self) -> FaultyReplayServer:
        self.start()
        return self

    def stop(self) -> None:
        self.clear()
        for sock in [*self._queued, *([self._blackhole] if self._blackhole else [])]:
            sock.close()
        super().stop()

    @property
    def blackhole_url(self) -> str:
        """A loopback address that never accepts a connection: connecting to it times out."""
        with self._lock:
            if self._blackhole is None:
                self._blackhole, self._queued = _blackhole()
            port = self._blackhole.getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def recorded(self, handler: BaseHTTPRequestHandler) -> tuple[int, dict[str, str], bytes]:
        """The answer the routes give this request in full (it is logged like any request;
        a conditional request gets the body, not a 304: the fault decides what is sent)."""
        asked = {k: v for k, v in handler.headers.items() if k.lower() not in CONDITIONAL_HEADERS}
        return self._resolve(handler.command, handler.path, asked)

    def _fault_for(self, handler: BaseHTTPRequestHandler) -> Fault | None:
        parts = urlsplit(handler.path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        with self._lock:
            for fault in self.faults:
                if fault.matches(parts.path, query) and (
                    fault.times is None or fault.hits < fault.times
                ):
                    fault.hits += 1
                    return fault
        return None

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self
        base: Any = super()._handler_class()

        class Handler(base):
            def _answer(self, with_body: bool) -> None:
                fault = server._fault_for(self)
                if fault is None:
                    super()._answer(with_body)
                    return
                try:
                    FAULTS[fault.kind](server, self)
                except OSError:  # the client gave up (a cap, a timeout): as intended
                    pass
                self.close_connection = True

        return Handler


def _blackhole() -> tuple[socket.socket, list[socket.socket]]:
    """A listening socket whose accept queue is full (backlog 0, one connection waiting,
    never accepted): the kernel drops further SYNs, so a client's connect times out."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    queued = []
    for _ in range(2):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        try:
            sock.connect(listener.getsockname())
        except BlockingIOError:
            pass
        queued.append(sock)
    return listener, queued


# ------------------------------------------------------------------------------ the faults

Serve = Callable[[FaultyReplayServer, Any], None]


def _send(
    h: Any, status: int, body: bytes, content_type: str = "text/plain", **headers: str
) -> None:
    h.send_response(status)
    h.send_header("Content-Type", content_type)
    for name, value in headers.items():
        h.send_header(name.replace("_", "-"), value)
    h.send_header("Content-Length", str(len(body)))
    h.send_header("Connection", "close")
    h.end_headers()
    if h.command != "HEAD":
        h.wfile.write(body)


def _server_errors(server: FaultyReplayServer, h: Any) -> None:
    """A burst of 5xx answers (502, 503, 504 in turn) longer than the client's retries."""
    server.recorded(h)
    status = (502, 503, 504)[len(server.requests) % 3]
    _send(h, status, ERROR_PAGE, "text/html")


def _rate_limited_for_an_hour(server: FaultyReplayServer, h: Any) -> None:
    server.recorded(h)
    _send(h, 429, b'{"error": "Too Many Requests"}', "application/json", Retry_After="3600")


def _rate_limited(server: FaultyReplayServer, h: Any) -> None:
    """429 without Retry-After: the client backs off on its own."""
    server.recorded(h)
    _send(h, 429, b"Too Many Requests", "text/plain")


def _connect_timeout(server: FaultyReplayServer, h: Any) -> None:
    """Sent on to an address that never accepts the connection."""
    server.recorded(h)
    _send(h, 307, b"", Location=server.blackhole_url + h.path)


def _read_timeout(server: FaultyReplayServer, h: Any) -> None:
    """The request is read, and nothing ever answers it."""
    server.recorded(h)
    server.released.wait(STALL_SECONDS)


def _trickle(server: FaultyReplayServer, h: Any) -> None:
    """The recorded status line and headers at once, then its body a byte at a time: each
    read is within any read timeout, the whole exchange is not."""
    status, headers, body = server.recorded(h)
    h.send_response(status)
    h.send_header("Content-Type", header(headers, "Content-Type") or "application/octet-stream")
    h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    for i in range(len(body)):
        h.wfile.write(body[i : i + 1])
        h.wfile.flush()
        if server.released.wait(TRICKLE_INTERVAL):
            return


def _truncated(server: FaultyReplayServer, h: Any) -> None:
    """The recorded answer's first half, then the connection closes (its Content-Length
    promised all of it)."""
    status, headers, body = server.recorded(h)
    h.send_response(status)
    h.send_header("Content-Type", header(headers, "Content-Type") or "application/octet-stream")
    h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    h.wfile.write(body[: len(body) // 2])
    h.wfile.flush()


def _html_error_page(server: FaultyReplayServer, h: Any) -> None:
    """A proxy's or CDN's error page, with status 200."""
    server.recorded(h)
    _send(h, 200, ERROR_PAGE, "text/html; charset=utf-8")


def _charset(server: FaultyReplayServer, h: Any, encoding: str, label: str) -> None:
    """The recorded answer with only its text's encoding and its Content-Type label changed:
    its other headers stay, so an answer the snapshot lacks is still marked unrecorded (a
    page beyond the recorded ones is not turned into a publisher's real 404)."""
    status, headers, body = server.recorded(h)
    media = (header(headers, "Content-Type") or "application/octet-stream").split(";")[0]
    try:
        body = body.decode("utf-8").encode(encoding, errors="xmlcharrefreplace")
    except UnicodeDecodeError:
        pass  # not text (a workbook): only its label is wrong
    kept = {name: value for name, value in headers.items() if name.lower() != "content-type"}
    _send(h, status, body, f"{media}{label}", **kept)


def _wrong_charset(server: FaultyReplayServer, h: Any) -> None:
    """The recorded text in UTF-16 (with its byte-order mark), labelled ISO-8859-1."""
    _charset(server, h, "utf-16", "; charset=iso-8859-1")


def _missing_charset(server: FaultyReplayServer, h: Any) -> None:
    """The recorded text in Windows-1252 (what it cannot hold as character references),
    with no charset in its Content-Type."""
    _charset(server, h, "cp1252", "")


def _oversize(server: FaultyReplayServer, h: Any) -> None:
    """A body with no Content-Length that does not end: only the client's size cap stops it."""
    server.recorded(h)
    h.send_response(200)
    h.send_header("Content-Type", "application/octet-stream")
    h.send_header("Connection", "close")
    h.end_headers()
    chunk = b"\0" * 65536
    for _ in range(OVERSIZE_LIMIT // len(chunk)):
        h.wfile.write(chunk)


def _redirect_loop(server: FaultyReplayServer, h: Any) -> None:
    """302 to the very address asked for, however often it is asked."""
    server.recorded(h)
    _send(h, 302, b"", Location=h.path)


@cache
def gzip_bomb() -> bytes:
    """BOMB_SIZE zero bytes, gzip-compressed (built once)."""
    deflate = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: the gzip format
    block = b"\0" * (1 << 20)
    return b"".join(deflate.compress(block) for _ in range(BOMB_SIZE >> 20)) + deflate.flush()


def _gzip_bomb(server: FaultyReplayServer, h: Any) -> None:
    """A small gzip body (Content-Encoding: gzip) that inflates far beyond any size cap."""
    server.recorded(h)
    _send(h, 200, gzip_bomb(), "application/json", Content_Encoding="gzip")


UNEXPECTED = {
    "json": json.dumps({"data": 42, "meta": None, "links": "none"}).encode(),
    "xml": b"<?xml version='1.0' encoding='utf-8'?><unexpected><item/></unexpected>",
    "csv": b"unexpected;columns\n1;2\n",
    "html": b"<html><body><p>unexpected</p></body></html>",
}


def _unexpected_shape(server: FaultyReplayServer, h: Any) -> None:
    """A well-formed answer of a shape nobody expects (JSON, XML, CSV or HTML like the
    recorded one): what makes a connector's code raise what it never anticipated."""
    status, headers, _ = server.recorded(h)
    content_type = header(headers, "Content-Type") or "application/json"
    kind = next((k for k in UNEXPECTED if k in content_type), "json")
    if kind == "json" and "csv" in h.path:
        kind = "csv"
    _send(h, 200, UNEXPECTED[kind], content_type)


FAULTS: dict[str, Serve] = {
    "5xx_burst": _server_errors,
    "429_retry_after": _rate_limited_for_an_hour,
    "429_no_retry_after": _rate_limited,
    "connect_timeout": _connect_timeout,
    "read_timeout": _read_timeout,
    "trickle": _trickle,
    "truncated": _truncated,
    "html_200": _html_error_page,
    "wrong_charset": _wrong_charset,
    "missing_charset": _missing_charset,
    "oversize": _oversize,
    "redirect_loop": _redirect_loop,
    "gzip_bomb": _gzip_bomb,
    "unexpected_shape": _unexpected_shape,
}
