"""The offline embedded default: recorded real payloads served on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from connectors.config import for_every_source, resource_dir
from connectors.replay import ReplayServer
from connectors.source import declared_sources

DEMO_DIR = resource_dir("demo")
DEMO_PARTNERS = DEMO_DIR / "partners.csv"
SNAPSHOT_DIR = DEMO_DIR / "snapshot"


def source_overrides(base_url: str) -> dict[str, str]:
    """Environment overrides that point every source at the replay server."""
    overrides = {"PARTNERDD_OFFLINE": "1", "PARTNERDD_ALLOW_HOSTS": "127.0.0.1"}
    # The publishers' rate limits protect their servers; the replay server is our own
    # loopback one, so the offline demo does not wait for them.
    overrides.update(for_every_source("rate_per_second", "0"))
    for spec in declared_sources():
        overrides.update(spec.offline(base_url))
    return overrides


@contextmanager
def offline_sources(snapshot_dir: Path = SNAPSHOT_DIR) -> Iterator[dict[str, str]]:
    with ReplayServer(snapshot_dir) as server:
        yield source_overrides(server.base_url)
