"""The sources a refresh runs, in the order their landing tables load."""

from __future__ import annotations

from flows.sources import (
    gleif,
    gleif_ownership,
    indices,
    news,
    resolution,
    sanctions,
    sec,
    web,
    worldbank,
)
from flows.sources.base import SourceSpec

SOURCES: list[SourceSpec] = [
    resolution.SPEC,
    gleif.SPEC,
    worldbank.SPEC,
    indices.SPEC,
    sec.SPEC,
    gleif_ownership.SPEC,
    sanctions.SPEC,
    web.SPEC,
    news.SPEC,
]
