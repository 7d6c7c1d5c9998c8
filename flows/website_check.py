"""A requested company's website checked with the crawler's address guard before it goes into
the registry: a private, loopback or link-local address (or a non-http(s) URL) is refused
unless `[http] allow_hosts` / PARTNERDD_ALLOW_HOSTS lists it. A name that does not resolve
here is not refused (the crawler checks every hop again when it fetches)."""

from __future__ import annotations

from connectors.web.guard import AddressGuard, AllowList, BlockedAddress, ResolutionFailed, Resolver


def check_website(url: str, allow_hosts: str, resolver: Resolver | None = None) -> None:
    """Raise BlockedAddress when `url` may not be crawled; never connects."""
    try:
        AddressGuard(AllowList.parse(allow_hosts), resolver).check(url)
    except (ResolutionFailed, OSError):
        return
    except BlockedAddress:
        raise
