"""Sanctions configuration: [sources.sanctions] (list URLs, OFAC publication date, screening
threshold; defaults declared in connectors/sanctions/source.py), each key overridden by
PARTNERDD_SANCTIONS_<KEY>."""

from __future__ import annotations

from dataclasses import dataclass

from connectors.config import ConfigError, Settings

SOURCE = "sanctions"
LIST_KEYS = ("ofac_sdn", "ofac_alt", "ofac_add", "un_sc")


@dataclass(frozen=True)
class SanctionsSettings:
    threshold: float
    include_weak: bool
    ofac_published: str | None
    urls: dict[str, str]


def sanctions_settings(settings: Settings) -> SanctionsSettings:
    """The lists' URLs are ``<list>_url`` keys, e.g. PARTNERDD_SANCTIONS_UN_SC_URL."""
    section = settings.source(SOURCE)
    threshold = float(section["threshold"])
    if not 0 <= threshold <= 100:
        raise ConfigError(f"sanctions threshold {threshold} must be within 0..100")
    return SanctionsSettings(
        threshold=threshold,
        include_weak=bool(section["include_weak"]),
        ofac_published=str(section["ofac_published"]).strip() or None,
        urls={key: str(section[f"{key}_url"]) for key in LIST_KEYS},
    )
