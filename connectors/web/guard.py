"""Refuse fetches to addresses a public-web crawler has no business reaching (SSRF guard).

Every hop is checked on the IP addresses its host resolves to, before any connection is made.
Private, loopback, link-local (incl. cloud metadata 169.254.169.254), multicast, reserved,
unspecified and otherwise non-global addresses are refused, as are non-http(s) URLs, unless
the host name or the address is listed in the allow list (``PARTNERDD_ALLOW_HOSTS``:
comma-separated host names or CIDRs).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str], list[str]]
ALLOWED_SCHEMES = frozenset({"http", "https"})


class BlockedAddress(Exception):
    """The URL's scheme or one of its host's addresses may not be fetched; the message says why."""


class ResolutionFailed(Exception):
    """The host name has no address (DNS error); nothing was fetched."""


def system_resolver(host: str) -> list[str]:
    """All addresses the system resolver returns for host (IPv4 and IPv6)."""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise ResolutionFailed(f"cannot resolve {host!r}: {exc}") from exc
    return list(dict.fromkeys(str(info[4][0]).split("%")[0] for info in infos))


def _unwrap(ip: IPAddress) -> IPAddress:
    """The IPv4 address hidden in an IPv4-mapped (::ffff:a.b.c.d) IPv6 address, else ip."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def non_public_reason(ip: IPAddress) -> str | None:
    """Why ip is not a public unicast address, or None when it is."""
    ip = _unwrap(ip)
    checks = (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
        ("not globally routable", not ip.is_global),
    )
    for name, hit in checks:
        if hit:
            return name
    return None


@dataclass(frozen=True)
class AllowList:
    """Host names and networks exempt from the address check (from PARTNERDD_ALLOW_HOSTS)."""

    hosts: frozenset[str] = frozenset()
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, spec: str | Iterable[str]) -> AllowList:
        items = spec.split(",") if isinstance(spec, str) else list(spec)
        hosts: set[str] = set()
        networks: list[IPNetwork] = []
        for raw in items:
            item = raw.strip().lower().rstrip(".")
            if not item:
                continue
            try:
                networks.append(ipaddress.ip_network(item.strip("[]"), strict=False))
            except ValueError:
                hosts.add(item)
        return cls(frozenset(hosts), tuple(networks))

    def allows_host(self, host: str) -> bool:
        return host.lower().rstrip(".") in self.hosts

    def allows_ip(self, ip: IPAddress) -> bool:
        return any(_unwrap(ip) in net or ip in net for net in self.networks)


@dataclass(frozen=True)
class CheckedTarget:
    """A URL that passed the guard, with the addresses it may be fetched from."""

    url: str
    host: str
    port: int
    addresses: tuple[str, ...]


class AddressGuard:
    """Checks a URL's scheme and resolved addresses; the resolver is injectable for tests."""

    def __init__(self, allow: AllowList | None = None, resolver: Resolver | None = None) -> None:
        self.allow = allow or AllowList()
        self.resolver = resolver or system_resolver

    def check(self, url: str) -> CheckedTarget:
        """Return the vetted target or raise BlockedAddress / ResolutionFailed. Never connects."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in ALLOWED_SCHEMES:
            raise BlockedAddress(f"scheme {scheme or '(none)'!r} is not http(s): {url}")
        host = (parts.hostname or "").rstrip(".")
        if not host:
            raise BlockedAddress(f"no host in {url}")
        try:
            port = parts.port or (443 if scheme == "https" else 80)
        except ValueError as exc:
            raise BlockedAddress(f"bad port in {url}: {exc}") from exc
        addresses = self._addresses(host)
        if not addresses:
            raise ResolutionFailed(f"{host!r} resolved to no address")
        if not self.allow.allows_host(host):
            for text in addresses:
                ip = ipaddress.ip_address(text)
                reason = non_public_reason(ip)
                if reason and not self.allow.allows_ip(ip):
                    raise BlockedAddress(f"{host} resolves to {ip}, a {reason} address")
        return CheckedTarget(url=url, host=host, port=port, addresses=tuple(addresses))

    def _addresses(self, host: str) -> list[str]:
        try:
            return [str(ipaddress.ip_address(host))]
        except ValueError:
            pass
        resolved: list[str] = []
        for text in self.resolver(host):
            try:
                resolved.append(str(ipaddress.ip_address(text.split("%")[0])))
            except ValueError as exc:
                raise ResolutionFailed(f"resolver gave a non-address {text!r} for {host}") from exc
        return resolved
