"""Map page text to capabilities from config/capabilities.toml.

``map_capabilities(text, page_url, taxonomy)`` returns one row per (capability, phrase) found:
keys capability, label, phrase, lang, matched_text, page_url, evidence (a snippet), hits.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connectors.config import ConfigError, config_file
from connectors.web.phrases import find_phrase, fold_with_map

CAPABILITY_KEYS = (
    "capability", "label", "phrase", "lang", "matched_text", "page_url", "evidence", "hits",
)  # fmt: skip
LANGS = ("en", "de", "fr", "es", "pt", "it", "nl", "zh", "ja")


@dataclass(frozen=True)
class Lexicon:
    """category id -> (label, [(lang, phrase), ...]); used for capabilities and adverse media."""

    entries: dict[str, tuple[str, tuple[tuple[str, str], ...]]]


def load_lexicon(path: Path, table: str) -> Lexicon:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc
    section = raw.get(table)
    if not isinstance(section, dict) or not section:
        raise ConfigError(f"{path} has no [{table}.<id>] sections")
    entries = {}
    for key, body in section.items():
        phrases = tuple(
            (lang, str(phrase)) for lang in LANGS for phrase in body.get(lang, []) if phrase
        )
        if not phrases:
            raise ConfigError(f"[{table}.{key}] in {path} lists no phrases")
        entries[key] = (str(body.get("label", key)), phrases)
    return Lexicon(entries)


def load_taxonomy(path: Path | None = None) -> Lexicon:
    return load_lexicon(path or config_file("capabilities.toml"), "capabilities")


def match_lexicon(text: str, lexicon: Lexicon) -> list[dict[str, Any]]:
    """One dict per (category, phrase) present in text: category, label, phrase, lang,
    matched_text, evidence (first occurrence), hits (count)."""
    folded = fold_with_map(text)
    rows = []
    for key, (label, phrases) in lexicon.entries.items():
        seen: set[str] = set()
        for lang, phrase in phrases:
            if phrase in seen:
                continue
            seen.add(phrase)
            hits = find_phrase(text, phrase, folded)
            if hits:
                rows.append(
                    {
                        "category": key,
                        "label": label,
                        "phrase": phrase,
                        "lang": lang,
                        "matched_text": hits[0].matched_text,
                        "evidence": hits[0].evidence,
                        "hits": len(hits),
                    }
                )
    return rows


def map_capabilities(text: str, page_url: str, taxonomy: Lexicon) -> list[dict[str, Any]]:
    rows = []
    for hit in match_lexicon(text, taxonomy):
        capability = hit.pop("category")
        rows.append({"capability": capability, **hit, "page_url": page_url})
    return rows
