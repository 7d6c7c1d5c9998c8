"""Connect only to the IP address the guard vetted (no DNS rebinding between check and connect).

requests/urllib3 normally resolve the host again when they open a socket; an attacker's DNS
could answer with a public address to the guard and a private one to the connection. The
``PinnedAdapter`` swaps urllib3's connection classes for ones that open the socket to the
address recorded in a ``PinTable`` for (host, port) and refuse when none was recorded. TLS still
uses the host name for SNI and certificate checks, and the Host header is unchanged.
"""

from __future__ import annotations

import socket
import threading
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.util import connection


def _key(host: str, port: int) -> tuple[str, int]:
    return host.strip("[]").lower().rstrip("."), int(port)


class PinTable:
    """Thread-safe map (host, port) -> vetted IP address."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pins: dict[tuple[str, int], str] = {}

    def pin(self, host: str, port: int, address: str) -> None:
        with self._lock:
            self._pins[_key(host, port)] = address

    def get(self, host: str, port: int) -> str | None:
        with self._lock:
            return self._pins.get(_key(host, port))


def _pinned_new_conn(self: Any) -> socket.socket:
    address = self._pins.get(self.host, self.port)
    if address is None:
        raise NewConnectionError(self, f"no vetted address for {self.host}:{self.port}; refusing")
    try:
        return connection.create_connection(
            (address, self.port),
            self.timeout,
            source_address=self.source_address,
            socket_options=self.socket_options,
        )
    except TimeoutError as exc:
        raise ConnectTimeoutError(self, f"connection to {self.host} ({address}) timed out") from exc
    except OSError as exc:
        raise NewConnectionError(self, f"cannot connect to {self.host} ({address}): {exc}") from exc


def _pool_classes(pins: PinTable) -> dict[str, type[HTTPConnectionPool]]:
    http_conn = type(
        "PinnedHTTPConnection", (HTTPConnection,), {"_pins": pins, "_new_conn": _pinned_new_conn}
    )
    https_conn = type(
        "PinnedHTTPSConnection", (HTTPSConnection,), {"_pins": pins, "_new_conn": _pinned_new_conn}
    )
    http_pool = type(
        "PinnedHTTPConnectionPool", (HTTPConnectionPool,), {"ConnectionCls": http_conn}
    )
    https_pool = type(
        "PinnedHTTPSConnectionPool", (HTTPSConnectionPool,), {"ConnectionCls": https_conn}
    )
    return {"http": http_pool, "https": https_pool}


class PinnedAdapter(HTTPAdapter):
    """HTTPAdapter whose connections go to the pinned address only."""

    def __init__(self, pins: PinTable, **kwargs: Any) -> None:
        self.pins = pins
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _pool_classes(self.pins)
