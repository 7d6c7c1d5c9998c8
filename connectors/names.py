"""Company and person name normalisation and similarity, shared by entity resolution and
sanctions screening. Handles legal-form suffixes, diacritics, transliteration and word order."""

from __future__ import annotations

import re
from functools import lru_cache

from anyascii import anyascii
from rapidfuzz import fuzz

# Legal-form tokens dropped before comparing (after transliteration and lower-casing).
# Dots are removed before splitting, so "S.A." is "sa", "S.A.C." is "sac", "LTDA." is "ltda".
LEGAL_FORMS = frozenset(
    """
    ag se sa nv bv gmbh kg kgaa ohg ug mbh plc ltd limited llc llp lp inc incorporated corp
    corporation co company spa srl sas sarl sa de cv ab asa oy oyj as aps a/s pte pty bhd
    kk k.k. kabushiki kaisha holdings holding group the and of
    ltda sac saic sae sapi slu sl lda eirl sasu eurl bvba cvba sprl scrl
    ooo oao zao pao ojsc cjsc pjsc jsc tov
    sro spzoo kft zrt nyrt doo ead
    pvt pllc lllp publ gbr mbb eg ev
    aktiengesellschaft kommanditgesellschaft
    """.split()
)
# Multi-word legal forms (already transliterated, lower case, punctuation turned into spaces).
# Removed as whole phrases before token filtering so that their words, which can be real name
# words on their own ("open", "stock", "private"), are only dropped inside the phrase.
LEGAL_FORM_PHRASES = (
    "open joint stock company",
    "closed joint stock company",
    "public joint stock company",
    "joint stock company",
    "limited liability company",
    "limited liability partnership",
    "private limited company",
    "private limited",
    "public limited company",
    "sociedad anonima",
    "sociedade anonima",
    "societe anonyme",
    "societa per azioni",
    "gesellschaft mit beschrankter haftung",
    "s de rl",
    "sp z oo",
    "obshchestvo s ogranichennoi otvetstvennostiu",
    "aktsionernoe obshchestvo",
)
# Legal forms written in CJK scripts, removed from the original text before transliteration
# (anyascii joins a CJK run into one word, so they cannot be removed as tokens afterwards).
CJK_LEGAL_FORMS = (
    "股份有限公司",
    "有限责任公司",
    "有限責任公司",
    "有限公司",
    "株式会社",
    "合同会社",
    "有限会社",
    "(株)",
    "（株）",
    "주식회사",
    "유한회사",
)
_PUNCT = re.compile(r"[^\w\s]")
_SPACE = re.compile(r"\s+")
_PHRASES = tuple(
    re.compile(r"(?:^|\s)" + re.escape(p) + r"(?=\s|$)")
    for p in sorted(LEGAL_FORM_PHRASES, key=len, reverse=True)
)


def drop_cjk_legal_forms(text: str) -> str:
    """Remove CJK legal forms (有限公司, 株式会社, ...) before transliteration blurs them."""
    for form in CJK_LEGAL_FORMS:
        text = text.replace(form, " ")
    return text


def fold_case_and_punctuation(text: str) -> str:
    """Casefold, '&' -> 'and', punctuation to spaces, single spaces."""
    text = text.casefold().replace("&", " and ")
    text = _PUNCT.sub(" ", text.replace(".", ""))
    return _SPACE.sub(" ", text).strip()


def without_legal_forms(text: str) -> list[str]:
    """Tokens of `text` with legal-form phrases and words removed; all tokens when nothing
    else would remain (a company called just "Holding AG" keeps its name)."""
    tokens = text.split(" ") if text else []
    stripped = text
    for phrase in _PHRASES:
        stripped = phrase.sub(" ", stripped)
    kept = [t for t in _SPACE.sub(" ", stripped).strip().split(" ") if t and t not in LEGAL_FORMS]
    return kept or tokens


@lru_cache(maxsize=65536)
def normalise_name(name: str, *, drop_legal_forms: bool = True) -> str:
    """ASCII, lower case, no punctuation, legal forms removed.

    'Société Générale S.A.' -> 'societe generale'.

    Non-Latin scripts are transliterated with anyascii ('ООО Газпром' -> 'gazprom',
    '微软(中国)有限公司' -> 'weiruan zhongguo').
    """
    text = name or ""
    if drop_legal_forms:
        text = drop_cjk_legal_forms(text)
    text = fold_case_and_punctuation(anyascii(text))
    tokens = without_legal_forms(text) if drop_legal_forms else text.split(" ") if text else []
    return " ".join(t for t in tokens if t)


def name_similarity(a: str, b: str) -> float:
    """0..100, insensitive to word order, legal forms, case, accents and script."""
    na, nb = normalise_name(a), normalise_name(b)
    if not na or not nb:
        return 0.0
    if na == nb:
        return 100.0
    return float(fuzz.token_sort_ratio(na, nb))
