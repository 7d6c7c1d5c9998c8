"""The sources a refresh runs, in the order their landing tables load."""

from __future__ import annotations

from flows.sources import gleif, indices, worldbank
from flows.sources.base import SourceSpec

SOURCES: list[SourceSpec] = [gleif.SPEC, worldbank.SPEC, indices.SPEC]
