"""Does a news item mention a partner? Name phrases in the partner's own script, legal form off.

General feeds from config carry news about everyone; an item is attributed to a partner only
when its title or summary contains the partner's name as a phrase ('Red Hat, Inc.' -> 'Red Hat',
'良品铺子股份有限公司' -> '良品铺子'), matched like the lexicons (case- and accent-insensitive, on
word boundaries; CJK anywhere). Names too short to be specific are never matched.
"""

from __future__ import annotations

import re
from typing import Any

from connectors.names import CJK_LEGAL_FORMS, LEGAL_FORMS
from connectors.web.phrases import find_phrase, fold

MIN_LATIN_CHARS = 3
MIN_CJK_CHARS = 2
_TOKEN_EDGE = re.compile(r"^[^\w]+|[^\w]+$")


def _is_cjk(text: str) -> bool:
    return any("\u3040" <= c <= "\u30ff" or "\u4e00" <= c <= "\u9fff" for c in text)


def mention_phrase(name: str) -> str | None:
    """The partner name as it appears in running text, or None when too short to be specific."""
    text = name
    for form in CJK_LEGAL_FORMS:
        text = text.replace(form, " ")
    words = [_TOKEN_EDGE.sub("", w) for w in text.replace(",", " ").split()]
    words = [w for w in words if w]
    while len(words) > 1 and fold(words[-1]).replace(".", "") in LEGAL_FORMS:
        words.pop()  # 'Red Hat Inc' -> 'Red Hat'; a one-word name is kept as it is
    if len(words) > 1 and fold(words[0]) == "the":
        words.pop(0)
    phrase = " ".join(words)
    minimum = MIN_CJK_CHARS if _is_cjk(phrase) else MIN_LATIN_CHARS
    return phrase if len(phrase.replace(" ", "")) >= minimum else None


def mentions(row: dict[str, Any], phrase: str) -> str | None:
    """The matched text when the item's title or summary names the phrase, else None."""
    for field in ("title", "summary"):
        text = row.get(field)
        if text:
            hits = find_phrase(str(text), phrase)
            if hits:
                return hits[0].matched_text
    return None
