"""Company and person name normalisation and similarity, shared by entity resolution and
sanctions screening. Handles legal-form suffixes, diacritics, transliteration and word order."""

from __future__ import annotations

import re
from functools import lru_cache

from anyascii import anyascii
from rapidfuzz import fuzz

# Legal-form tokens dropped before comparing (after transliteration and lower-casing).
LEGAL_FORMS = frozenset(
    """
    ag se sa nv bv gmbh kg kgaa ohg ug mbh plc ltd limited llc llp lp inc incorporated corp
    corporation co company spa srl sas sarl sa de cv ab asa oy oyj as aps a/s pte pty bhd
    kk k.k. kabushiki kaisha holdings holding group the and of
    """.split()
)
_PUNCT = re.compile(r"[^\w\s]")
_SPACE = re.compile(r"\s+")


@lru_cache(maxsize=65536)
def normalise_name(name: str, *, drop_legal_forms: bool = True) -> str:
    """ASCII, lower case, no punctuation, legal forms removed: 'Société Générale S.A.' -> 'societe generale'."""
    text = anyascii(name or "").casefold()
    text = text.replace("&", " and ")
    text = _PUNCT.sub(" ", text.replace(".", ""))
    tokens = _SPACE.split(text.strip())
    if drop_legal_forms:
        kept = [t for t in tokens if t not in LEGAL_FORMS]
        tokens = kept or tokens
    return " ".join(t for t in tokens if t)


def name_similarity(a: str, b: str) -> float:
    """0..100, insensitive to word order, legal forms, case, accents and script."""
    na, nb = normalise_name(a), normalise_name(b)
    if not na or not nb:
        return 0.0
    if na == nb:
        return 100.0
    return float(fuzz.token_sort_ratio(na, nb))
