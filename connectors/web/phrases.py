"""Accent- and case-insensitive phrase matching on word boundaries, with evidence snippets.

Shared by the capability taxonomy and the adverse-media lexicon. A phrase may end with ``*``
to allow more word characters there ("betrug*" matches "Betrug" and "Betrugsverdacht") or start
with one to ask for at least one more before it, the first part of a compound ("*betrug"
matches "Steuerbetrug", not "betrug"). A phrase written with a capital first letter matches
only a capitalised word: German nouns are ("Betrug*" is not the verb "betrug", "amounted
to"). Phrases in scripts written without spaces (CJK, kana) match anywhere.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

SNIPPET_CHARS = 80


@lru_cache(maxsize=65536)
def _fold_char(char: str) -> str:
    decomposed = unicodedata.normalize("NFKD", char)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def fold(text: str) -> str:
    """Lower case without accents: 'Über Uns' -> 'uber uns', 'Straße' -> 'strasse'."""
    return "".join(_fold_char(c) for c in text)


def fold_with_map(text: str) -> tuple[str, list[int]]:
    """fold(text) plus, for each folded character, the index of its source character."""
    out: list[str] = []
    index: list[int] = []
    for i, char in enumerate(text):
        folded = _fold_char(char)
        out.append(folded)
        index.extend([i] * len(folded))
    return "".join(out), index


def _unspaced_script(char: str) -> bool:
    name = unicodedata.name(char, "")
    return name.startswith(("CJK", "HIRAGANA", "KATAKANA", "HANGUL", "THAI"))


@lru_cache(maxsize=8192)
def phrase_regex(phrase: str) -> re.Pattern[str]:
    prefix_wild = phrase.startswith("*")
    suffix_wild = phrase.endswith("*")
    core = fold(phrase.strip("*").strip())
    words = [re.escape(w) for w in core.split()]
    body = r"[\s\-]+".join(words)
    start = r"\w+" if prefix_wild else ("" if _unspaced_script(core[0]) else r"(?<!\w)")
    end = r"\w*" if suffix_wild else ("" if _unspaced_script(core[-1]) else r"(?!\w)")
    return re.compile(start + body + end)


@dataclass(frozen=True)
class PhraseHit:
    phrase: str
    matched_text: str
    start: int
    end: int
    evidence: str


def find_phrase(
    text: str, phrase: str, folded: tuple[str, list[int]] | None = None
) -> list[PhraseHit]:
    """Every occurrence of phrase in text, with the original matched text and a snippet."""
    folded_text, index = folded or fold_with_map(text)
    capital = phrase[:1].isupper()
    hits: list[PhraseHit] = []
    for match in phrase_regex(phrase).finditer(folded_text):
        if match.end() == match.start():
            continue
        start = index[match.start()]
        end = index[match.end() - 1] + 1
        if capital and not text[start].isupper():
            continue
        lo, hi = max(0, start - SNIPPET_CHARS), min(len(text), end + SNIPPET_CHARS)
        snippet = " ".join(text[lo:hi].split())
        hits.append(PhraseHit(phrase, text[start:end], start, end, snippet))
    return hits
