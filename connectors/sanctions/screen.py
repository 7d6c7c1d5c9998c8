"""Screen partner names against sanctions-list names.

The score of a pair is rapidfuzz's ``token_sort_ratio`` on ``connectors.names.normalise_name``
(ASCII, lower case, no punctuation, legal forms dropped), so word order, case, accents, script
and legal-form suffixes do not lower it. For every hit, ``matched_on`` names the normalisations
without which the score would have been lower (found by switching each off in turn), plus
``fuzzy`` when the normalised names are still not identical.

Blocking: the index maps every normalised token and every 4-character token prefix to the
names that contain it; a candidate is only compared with names sharing at least one key.
A name that shares no token and no token prefix with the candidate cannot reach a useful
token_sort_ratio, so this loses nothing that would pass a sensible threshold (>= 80), while
screening ~10 partners against ~20k names compares each with only a few dozen names.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from anyascii import anyascii
from rapidfuzz import fuzz

from connectors.names import (
    drop_cjk_legal_forms,
    fold_case_and_punctuation,
    normalise_name,
    without_legal_forms,
)

HIT_COLUMNS = (
    "list_name",
    "entry_id",
    "listed_name",  # the entry's primary name
    "matched_name",  # the list name (primary or alias) that matched
    "name_type",  # primary | aka | fka | weak
    "score",  # 0..100
    "matched_on",  # list[str], see NORMALISATIONS
    "candidate_name",
    "source_url",
)
# Normalisations reported in matched_on, in the order they are applied.
NORMALISATIONS = ("case_punctuation", "diacritics", "transliteration", "legal_form", "word_order")
PREFIX_LEN = 4


def _is_latin(char: str) -> bool:
    return unicodedata.name(char, "").startswith("LATIN") or unicodedata.combining(char) > 0


def normalise_with(name: str, enabled: frozenset[str]) -> str:
    """normalise_name with some normalisations switched off (all on == normalise_name).

    case_punctuation: casefold, '&' -> 'and', drop punctuation; diacritics: ASCII for Latin
    letters with accents; transliteration: ASCII for other scripts (anyascii); legal_form:
    drop legal-form words and phrases. word_order is applied by the comparison, not here.
    """
    text = name or ""
    if "legal_form" in enabled:
        text = drop_cjk_legal_forms(text)
    chars = []
    for char in text:
        if char.isascii():
            chars.append(char)
        elif _is_latin(char):
            chars.append(anyascii(char) if "diacritics" in enabled else char)
        else:
            chars.append(anyascii(char) if "transliteration" in enabled else char)
    text = "".join(chars)
    if "case_punctuation" in enabled:
        text = fold_case_and_punctuation(text)
    text = " ".join(text.split())
    if "legal_form" in enabled:
        tokens = without_legal_forms(text)
    else:
        tokens = text.split(" ") if text else []
    return " ".join(t for t in tokens if t)


def _compare(a: str, b: str, word_order: bool) -> float:
    if not a or not b:
        return 0.0
    if a == b:
        return 100.0
    return float(fuzz.token_sort_ratio(a, b) if word_order else fuzz.ratio(a, b))


def explain_match(candidate: str, listed: str) -> tuple[float, list[str]]:
    """(score, matched_on) for one pair; see the module docstring."""
    full = frozenset(NORMALISATIONS)
    score = _compare(normalise_name(candidate), normalise_name(listed), word_order=True)
    if candidate.strip() == listed.strip():
        return score, ["exact"]
    used = []
    for step in NORMALISATIONS:
        enabled = full - {step}
        without = _compare(
            normalise_with(candidate, enabled),
            normalise_with(listed, enabled),
            word_order=step != "word_order",
        )
        if without < score:
            used.append(step)
    if score < 100.0:
        used.append("fuzzy")
    return score, used


def _keys(normalised: str) -> set[str]:
    keys = set()
    for token in normalised.split():
        keys.add("t:" + token)
        if len(token) >= PREFIX_LEN:
            keys.add("p:" + token[:PREFIX_LEN])
    return keys


@dataclass
class NamesIndex:
    """Sanctions names with their normalised form and a token/prefix -> names posting map."""

    names: list[dict[str, Any]] = field(default_factory=list)
    normalised: list[str] = field(default_factory=list)
    primary_names: dict[tuple[str, str], str] = field(default_factory=dict)
    postings: dict[str, list[int]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.names)

    def candidates(self, candidate_name: str) -> set[int]:
        """Positions of the names sharing a token or token prefix with candidate_name."""
        found: set[int] = set()
        for key in _keys(normalise_name(candidate_name)):
            found.update(self.postings.get(key, ()))
        return found


def build_names_index(
    name_rows: Iterable[Mapping[str, Any]], *, include_weak: bool = True
) -> NamesIndex:
    """Index name rows (connectors.sanctions.parse NAME_COLUMNS) from any number of lists.

    include_weak=False leaves out 'weak' aliases (config [screening] include_weak).
    """
    index = NamesIndex()
    for row in name_rows:
        name = str(row.get("name") or "").strip()
        if not name:
            raise ValueError(f"name row without a name: {dict(row)!r}")
        if not include_weak and row.get("name_type") == "weak":
            continue
        position = len(index.names)
        normalised = normalise_name(name)
        index.names.append(dict(row))
        index.normalised.append(normalised)
        if row.get("name_type") == "primary":
            index.primary_names[(str(row["list_name"]), str(row["entry_id"]))] = name
        for key in _keys(normalised):
            index.postings.setdefault(key, []).append(position)
    return index


def screen(candidate_name: str, names_index: NamesIndex, threshold: float) -> list[dict[str, Any]]:
    """Hits (HIT_COLUMNS) scoring >= threshold, best first, one (the best name) per entry."""
    query = normalise_name(candidate_name)
    if not query:
        raise ValueError(f"candidate name {candidate_name!r} is empty after normalisation")
    best: dict[tuple[str, str], tuple[float, int]] = {}
    for position in names_index.candidates(candidate_name):
        score = _compare(query, names_index.normalised[position], word_order=True)
        if score < threshold:
            continue
        row = names_index.names[position]
        key = (str(row["list_name"]), str(row["entry_id"]))
        if key not in best or score > best[key][0]:
            best[key] = (score, position)
    hits = []
    for (list_name, entry_id), (_, position) in best.items():
        row = names_index.names[position]
        score, matched_on = explain_match(candidate_name, str(row["name"]))
        hits.append(
            {
                "list_name": list_name,
                "entry_id": entry_id,
                "listed_name": names_index.primary_names.get((list_name, entry_id), row["name"]),
                "matched_name": row["name"],
                "name_type": row.get("name_type"),
                "score": round(score, 1),
                "matched_on": matched_on,
                "candidate_name": candidate_name,
                "source_url": row.get("source_url"),
            }
        )
    hits.sort(key=lambda h: (-h["score"], h["list_name"], h["entry_id"]))
    return hits
