"""Adverse-media tagging of news rows with the lexicon in config/adverse_media.toml.

``tag_adverse(rows)`` returns one row per (article, category, phrase) found in the title or
summary: url, category, phrase, lang (of the lexicon phrase), matched_text, field, evidence,
source_url. Matching is case- and accent-insensitive on word boundaries (connectors.web.phrases).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from connectors.config import config_file
from connectors.web.capabilities import Lexicon, load_lexicon, match_lexicon

ADVERSE_KEYS = (
    "url", "category", "phrase", "lang", "matched_text", "field", "evidence", "source_url",
)  # fmt: skip


def load_adverse_lexicon(path: Path | None = None) -> Lexicon:
    return load_lexicon(path or config_file("adverse_media.toml"), "categories")


def adverse_categories() -> tuple[str, ...]:
    """The category ids, in the lexicon's order: the one list of adverse-media categories
    (the marts' adverse_<category> columns follow it)."""
    return tuple(load_adverse_lexicon().entries)


def tag_adverse(rows: list[dict[str, Any]], lexicon: Lexicon | None = None) -> list[dict[str, Any]]:
    lexicon = lexicon or load_adverse_lexicon()
    out: list[dict[str, Any]] = []
    for row in rows:
        seen: set[tuple[str, str]] = set()
        for field in ("title", "summary"):
            text = row.get(field)
            if not text:
                continue
            for hit in match_lexicon(str(text), lexicon):
                key = (hit["category"], hit["phrase"])
                if key in seen:
                    continue
                seen.add(key)
                out.append(
                    {
                        "url": row.get("url"),
                        "category": hit["category"],
                        "phrase": hit["phrase"],
                        "lang": hit["lang"],
                        "matched_text": hit["matched_text"],
                        "field": field,
                        "evidence": hit["evidence"],
                        "source_url": row.get("source_url"),
                    }
                )
    return out
