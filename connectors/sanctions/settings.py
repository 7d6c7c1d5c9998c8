"""Sanctions configuration: config/sanctions.toml overridden by PARTNERDD_SANCTIONS_* variables."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from connectors.config import CONFIG_DIR, ConfigError

LIST_KEYS = ("ofac_sdn", "ofac_alt", "ofac_add", "un_sc")
DEFAULT_URLS = {
    "ofac_sdn": "https://www.treasury.gov/ofac/downloads/sdn.csv",
    "ofac_alt": "https://www.treasury.gov/ofac/downloads/alt.csv",
    "ofac_add": "https://www.treasury.gov/ofac/downloads/add.csv",
    "un_sc": "https://scsanctions.un.org/resources/xml/en/consolidated.xml",
}
DEFAULT_THRESHOLD = 90.0


@dataclass(frozen=True)
class SanctionsSettings:
    threshold: float
    include_weak: bool
    ofac_published: str | None
    urls: dict[str, str]


def load_sanctions_settings(
    env: Mapping[str, str] | None = None, path: Path | None = None
) -> SanctionsSettings:
    """Read config/sanctions.toml; PARTNERDD_SANCTIONS_THRESHOLD, _INCLUDE_WEAK,
    _OFAC_PUBLISHED and _<LIST>_URL (e.g. PARTNERDD_SANCTIONS_UN_SC_URL) override it."""
    env = os.environ if env is None else env
    path = path or CONFIG_DIR / "sanctions.toml"
    raw = tomllib.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    screening = raw.get("screening", {})
    threshold_text = env.get("PARTNERDD_SANCTIONS_THRESHOLD") or screening.get(
        "threshold", DEFAULT_THRESHOLD
    )
    try:
        threshold = float(threshold_text)
    except ValueError as exc:
        raise ConfigError(f"sanctions threshold {threshold_text!r} is not a number") from exc
    if not 0 <= threshold <= 100:
        raise ConfigError(f"sanctions threshold {threshold} must be within 0..100")
    weak_text = env.get("PARTNERDD_SANCTIONS_INCLUDE_WEAK")
    include_weak = (
        weak_text.strip().lower() in {"1", "true", "yes", "on"}
        if weak_text
        else bool(screening.get("include_weak", True))
    )
    published = env.get("PARTNERDD_SANCTIONS_OFAC_PUBLISHED") or raw.get("ofac", {}).get(
        "published", ""
    )
    lists = raw.get("lists", {})
    urls = {}
    for key in LIST_KEYS:
        override = env.get(f"PARTNERDD_SANCTIONS_{key.upper()}_URL")
        urls[key] = override or str(lists.get(key, {}).get("url") or DEFAULT_URLS[key])
    return SanctionsSettings(
        threshold=threshold,
        include_weak=include_weak,
        ofac_published=str(published).strip() or None,
        urls=urls,
    )
