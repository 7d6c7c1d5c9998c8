"""Resolve a partner's name (and country) to an LEI through the GLEIF API.

Caller rule: **a given LEI always wins over a search.** When the partner registry already
holds an LEI (checked with ``connectors.identifiers.lei_checksum_ok``), fetch that record and
do not call ``search_lei``; a search is only for partners without an LEI, and its result is a
proposal with a confidence, not a fact.

Flow: ``search_lei`` asks ``/lei-records?filter[entity.legalName]=<name>&page[size]=10``; when
that finds nothing it falls back to ``/fuzzycompletions?field=fulltext&q=<name>`` (typos),
enriching the suggested LEIs with one ``/lei-records?filter[lei]=a,b,c`` call. Every candidate
gets a confidence 0..1 and ``evidence``; ``pick`` then returns one candidate only when it is
clearly best, and says "ambiguous" or "none" otherwise (it never silently picks).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from connectors.http import PoliteSession, RawResponse
from connectors.names import name_similarity, normalise_name

from .ownership import JSONAPI_HEADERS

__all__ = [
    "CANDIDATE_COLUMNS",
    "fetch_fuzzycompletions",
    "fetch_lei_records_by_leis",
    "fetch_lei_search",
    "parse_fuzzycompletions",
    "parse_lei_candidates",
    "pick",
    "score_candidates",
    "search_lei",
]

SEARCH_PAGE_SIZE = 10
CANDIDATE_COLUMNS = (
    "lei",
    "legal_name",
    "other_names",  # list[str]: previous / trading / transliterated names
    "country",  # legal address country, ISO alpha-2
    "legal_form",  # GLEIF ELF code, e.g. SGST; 8888 means "other" (see legal_form_other)
    "legal_form_other",
    "category",  # GENERAL | FUND | BRANCH | SOLE_PROPRIETOR | ...
    "entity_status",  # ACTIVE | INACTIVE
    "status",  # registration status: ISSUED | LAPSED | RETIRED | ...
    "found_by",  # legal_name_filter | fuzzycompletions
    "source_url",
    "sha256",
    # added by score_candidates:
    "query",  # the searched name
    "query_country",
    "name_score",  # 0..100, connectors.names.name_similarity on the best of the names
    "confidence",  # 0..1
    "evidence",  # dict, see score_candidates
)

# Confidence factors (multiplied onto name_score / 100).
COUNTRY_MISMATCH = 0.4
COUNTRY_UNKNOWN = 0.9  # the caller gave no country, or the candidate's is unknown
LEGAL_FORM_ONLY = 0.95  # names equal only once legal forms are dropped ("SAP" vs "SAP SE")
OTHER_NAME = 0.95  # matched on a previous / trading name rather than the legal name
STATUS_LAPSED = 0.9  # LEI not renewed: the entity usually still exists
STATUS_INACTIVE = 0.6  # retired / annulled LEI or inactive entity
FUND_LOOKALIKE = 0.5  # a fund named after the company ("SAP SE ADRHEDGED")
UNENRICHED = 0.8  # fuzzy completion whose lei-record could not be fetched

PICK_MIN_CONFIDENCE = 0.85
PICK_MARGIN = 0.15
GOOD_REGISTRATION = {"ISSUED", "PENDING_TRANSFER", "PENDING_ARCHIVAL"}


class GleifResolveError(RuntimeError):
    """A search answer that cannot be turned into candidates; the message says why."""


# ---------------------------------------------------------------- fetch (HTTP only)


def fetch_lei_search(session: PoliteSession, base_url: str, name: str) -> RawResponse:
    params = {"filter[entity.legalName]": name, "page[size]": str(SEARCH_PAGE_SIZE)}
    return session.fetch(f"{base_url.rstrip('/')}/lei-records", params, headers=JSONAPI_HEADERS)


def fetch_fuzzycompletions(session: PoliteSession, base_url: str, text: str) -> RawResponse:
    params = {"field": "fulltext", "q": text}
    return session.fetch(
        f"{base_url.rstrip('/')}/fuzzycompletions", params, headers=JSONAPI_HEADERS
    )


def fetch_lei_records_by_leis(
    session: PoliteSession, base_url: str, leis: Sequence[str]
) -> RawResponse:
    params = {"filter[lei]": ",".join(leis), "page[size]": str(max(len(leis), 1))}
    return session.fetch(f"{base_url.rstrip('/')}/lei-records", params, headers=JSONAPI_HEADERS)


# ---------------------------------------------------------------- parse (pure)


def _load(body: bytes | str) -> dict[str, Any]:
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise GleifResolveError(f"GLEIF search payload is not JSON: {exc}") from exc
    if not isinstance(document, dict) or not isinstance(document.get("data"), list):
        raise GleifResolveError("GLEIF search payload has no 'data' list")
    return document


def _sha256(body: bytes | str) -> str:
    return hashlib.sha256(body.encode("utf-8") if isinstance(body, str) else body).hexdigest()


def parse_lei_candidates(
    body: bytes | str, source_url: str, found_by: str = "legal_name_filter"
) -> list[dict[str, Any]]:
    """Candidate rows (CANDIDATE_COLUMNS up to sha256) from a ``/lei-records`` list payload."""
    sha = _sha256(body)
    rows = []
    for resource in _load(body)["data"]:
        if resource.get("type") != "lei-records":
            raise GleifResolveError(f"unexpected resource type {resource.get('type')!r}")
        attributes = resource.get("attributes") or {}
        entity = attributes.get("entity") or {}
        legal_form = entity.get("legalForm") or {}
        others = [
            o["name"]
            for key in ("otherNames", "transliteratedOtherNames")
            for o in entity.get(key) or []
            if o.get("name")
        ]
        rows.append(
            {
                "lei": attributes.get("lei") or resource.get("id"),
                "legal_name": (entity.get("legalName") or {}).get("name"),
                "other_names": others,
                "country": (entity.get("legalAddress") or {}).get("country"),
                "legal_form": legal_form.get("id"),
                "legal_form_other": legal_form.get("other"),
                "category": entity.get("category"),
                "entity_status": entity.get("status"),
                "status": (attributes.get("registration") or {}).get("status"),
                "found_by": found_by,
                "source_url": source_url,
                "sha256": sha,
            }
        )
    return rows


def parse_fuzzycompletions(body: bytes | str, source_url: str) -> list[dict[str, Any]]:
    """Candidate rows from ``/fuzzycompletions``: only lei and name are known (the rest None).

    Completions without a related lei-record (plain text suggestions) are skipped.
    """
    sha = _sha256(body)
    rows = []
    for item in _load(body)["data"]:
        related = ((item.get("relationships") or {}).get("lei-records") or {}).get("data") or {}
        lei = related.get("id")
        if not lei:
            continue
        rows.append(
            {
                "lei": lei,
                "legal_name": (item.get("attributes") or {}).get("value"),
                "other_names": [],
                "country": None,
                "legal_form": None,
                "legal_form_other": None,
                "category": None,
                "entity_status": None,
                "status": None,
                "found_by": "fuzzycompletions",
                "source_url": source_url,
                "sha256": sha,
            }
        )
    return rows


# ---------------------------------------------------------------- scoring (pure)


def _is_fund(candidate: dict[str, Any]) -> bool:
    other = str(candidate.get("legal_form_other") or "").casefold()
    return (
        candidate.get("category") == "FUND"
        or (candidate.get("legal_form") == "8888" and "fund" in other)
        or "fund" in other
    )


def _score_one(name: str, country_iso2: str | None, candidate: dict[str, Any]) -> dict[str, Any]:
    legal_name = str(candidate.get("legal_name") or "")
    legal_score = name_similarity(name, legal_name)
    other_scores = [(name_similarity(name, o), o) for o in candidate.get("other_names") or []]
    best_other = max(other_scores, default=(0.0, None))
    on_other = best_other[0] * OTHER_NAME > legal_score
    name_score = best_other[0] if on_other else legal_score
    matched_name = best_other[1] if on_other else legal_name
    confidence = name_score / 100.0 * (OTHER_NAME if on_other else 1.0)

    exact = normalise_name(name, drop_legal_forms=False) == normalise_name(
        str(matched_name), drop_legal_forms=False
    )
    core = normalise_name(name) == normalise_name(str(matched_name))
    if core and not exact:
        confidence *= LEGAL_FORM_ONLY

    cand_country = candidate.get("country")
    if country_iso2 and cand_country:
        country_match: bool | None = cand_country.upper() == country_iso2.upper()
        confidence *= 1.0 if country_match else COUNTRY_MISMATCH
    else:
        country_match = None
        confidence *= COUNTRY_UNKNOWN

    status = candidate.get("status")
    entity_status = candidate.get("entity_status")
    if status is None and entity_status is None:
        status_ok: bool | None = None
        confidence *= UNENRICHED
    elif status in GOOD_REGISTRATION and entity_status in (None, "ACTIVE"):
        status_ok = True
    elif status == "LAPSED" and entity_status in (None, "ACTIVE"):
        status_ok = False
        confidence *= STATUS_LAPSED
    else:
        status_ok = False
        confidence *= STATUS_INACTIVE

    fund = _is_fund(candidate) and "fund" not in name.casefold()
    if fund:
        confidence *= FUND_LOOKALIKE
    evidence = {
        "matched_name": matched_name,
        "matched_on": "other_name" if on_other else "legal_name",
        "name_exact": exact,
        "name_equal_without_legal_form": core,
        "country_match": country_match,
        "status_ok": status_ok,
        "fund_lookalike": fund,
        "found_by": candidate.get("found_by"),
    }
    return {
        **candidate,
        "query": name,
        "query_country": country_iso2,
        "name_score": round(name_score, 1),
        "confidence": round(max(0.0, min(1.0, confidence)), 3),
        "evidence": evidence,
    }


def score_candidates(
    name: str, country_iso2: str | None, candidates: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Candidates with ``name_score``, ``confidence`` 0..1 and ``evidence``, best first.

    confidence = name_similarity/100, times: 0.95 if matched on an other name; 0.95 if equal
    only without legal forms; country 1.0 match / 0.4 mismatch / 0.9 unknown; registration
    1.0 ISSUED / 0.9 LAPSED / 0.6 retired or inactive / 0.8 unknown (not enriched); 0.5 for a
    fund look-alike (legalForm 8888 "Fund" or category FUND) unless the query names a fund.
    evidence keys: matched_name, matched_on, name_exact, name_equal_without_legal_form,
    country_match (True/False/None), status_ok (True/False/None), fund_lookalike, found_by.
    """
    scored = [_score_one(name, country_iso2, c) for c in candidates]
    scored.sort(key=lambda c: (-c["confidence"], -c["name_score"], str(c["lei"])))
    return scored


def pick(
    scored: Sequence[dict[str, Any]],
    *,
    min_confidence: float = PICK_MIN_CONFIDENCE,
    margin: float = PICK_MARGIN,
) -> dict[str, Any]:
    """Decide on scored candidates: {"decision", "lei", "candidate", "reason", "candidates"}.

    decision "picked": the best has confidence >= min_confidence, leads the next by at least
    ``margin``, and is corroborated: either the country matched, or the name is identical
    including its legal form, or no other candidate contains all the words of the query.
    "ambiguous": a plausible best exists but one of these tests fails (lei is None).
    "none": no candidate reaches min_confidence (lei is None).
    """
    ranked = sorted(scored, key=lambda c: -c["confidence"])
    result: dict[str, Any] = {
        "decision": "none",
        "lei": None,
        "candidate": None,
        "reason": "no candidates",
        "candidates": list(ranked),
    }
    if not ranked:
        return result
    best = ranked[0]
    if best["confidence"] < min_confidence:
        result["reason"] = f"best confidence {best['confidence']} < {min_confidence}"
        return result
    result["decision"] = "ambiguous"
    if len(ranked) > 1 and best["confidence"] - ranked[1]["confidence"] < margin:
        result["reason"] = (
            f"{best['lei']} ({best['confidence']}) and {ranked[1]['lei']} "
            f"({ranked[1]['confidence']}) are within {margin}"
        )
        return result
    evidence = best["evidence"]
    if evidence["country_match"] is not True and not evidence["name_exact"]:
        query_words = set(normalise_name(str(best.get("query") or "")).split())
        rivals = [
            c["lei"]
            for c in ranked[1:]
            if query_words
            and query_words <= set(normalise_name(str(c.get("legal_name") or "")).split())
        ]
        if rivals:
            result["reason"] = (
                "no country corroboration, name not identical, and "
                f"{len(rivals)} other candidate(s) carry the same words: {rivals}"
            )
            return result
    result.update(
        {"decision": "picked", "lei": best["lei"], "candidate": best, "reason": "clear best"}
    )
    return result


# ---------------------------------------------------------------- search (fetch + parse + score)


def search_lei(
    session: PoliteSession,
    base_url: str,
    name: str,
    country_iso2: str | None = None,
    *,
    responses: list[RawResponse] | None = None,
) -> list[dict[str, Any]]:
    """Scored candidates for ``name`` (best first); pass them to ``pick``.

    Pass a list as ``responses`` to receive every raw response fetched (to store as evidence).
    A 404 or an empty list from the legal-name filter triggers the fuzzycompletions fallback;
    other non-2xx answers raise GleifResolveError.
    """
    if not name or not name.strip():
        raise ValueError("search_lei needs a non-empty name")
    seen = responses if responses is not None else []
    search = fetch_lei_search(session, base_url, name)
    seen.append(search)
    candidates: list[dict[str, Any]] = []
    if search.ok:
        candidates = parse_lei_candidates(search.body, search.url)
    elif search.status != 404:
        raise GleifResolveError(f"{search.url}: HTTP {search.status}")
    if not candidates:
        candidates = _fuzzy_candidates(session, base_url, name, seen)
    return score_candidates(name, country_iso2, candidates)


def _fuzzy_candidates(
    session: PoliteSession, base_url: str, name: str, seen: list[RawResponse]
) -> list[dict[str, Any]]:
    fuzzy = fetch_fuzzycompletions(session, base_url, name)
    seen.append(fuzzy)
    if fuzzy.status == 404:
        return []
    if not fuzzy.ok:
        raise GleifResolveError(f"{fuzzy.url}: HTTP {fuzzy.status}")
    suggestions = parse_fuzzycompletions(fuzzy.body, fuzzy.url)
    if not suggestions:
        return []
    records = fetch_lei_records_by_leis(session, base_url, [s["lei"] for s in suggestions])
    seen.append(records)
    enriched = {}
    if records.ok:
        enriched = {
            c["lei"]: {**c, "found_by": "fuzzycompletions"}
            for c in parse_lei_candidates(records.body, records.url, "fuzzycompletions")
        }
    # Suggestions whose record could not be fetched stay, flagged by status None (UNENRICHED).
    return [enriched.get(s["lei"], s) for s in suggestions]
