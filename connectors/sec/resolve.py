"""Find a company's SEC CIK from its name, using the SEC ticker list.

find_cik ranks candidates; pick accepts one only when it is both confident and clearly ahead
of the runner-up, so an ambiguous name is reported, never silently resolved.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from connectors.countries import to_iso3
from connectors.names import name_similarity, normalise_name

Candidate = dict[str, Any]
PickStatus = Literal["matched", "ambiguous", "none"]

COUNTRY_MISMATCH_FACTOR = 0.5


def _country_note(row: Mapping[str, Any], wanted: str | None) -> tuple[float, str]:
    """(score factor, evidence) for the optional country check."""
    if wanted is None:
        return 1.0, ""
    have = to_iso3(row.get("country")) if row.get("country") else None
    if have is None:
        return 1.0, "; country not checked (not in the ticker data)"
    if have == wanted:
        return 1.0, f"; country {have} matches"
    return COUNTRY_MISMATCH_FACTOR, f"; country {have} differs from {wanted}"


def find_cik(
    name: str,
    tickers_rows: Iterable[Mapping[str, Any]],
    *,
    country: str | None = None,
    min_confidence: float = 0.6,
    limit: int = 10,
) -> list[Candidate]:
    """Candidates for `name`, best first, one per CIK.

    tickers_rows are parse_company_tickers rows (cik, ticker, title; an optional `country`
    key, e.g. from parsed submissions, enables the country check). Candidate keys: cik,
    title, ticker (of the best-matching row), tickers (all of that CIK's tickers),
    confidence (0..1), evidence (which fields matched and how).
    A name equal to a ticker (e.g. "MSFT") also matches, on the ticker field.
    """
    if not name or not name.strip():
        raise ValueError("find_cik needs a non-empty name")
    wanted = to_iso3(country) if country else None
    if country and wanted is None:
        raise ValueError(f"find_cik: {country!r} is not a recognisable country")
    query_ticker = name.strip().upper()
    by_cik: dict[str, Candidate] = {}
    tickers_of: dict[str, list[str]] = {}
    for row in tickers_rows:
        cik = str(row["cik"])
        title = str(row.get("title") or "")
        ticker = str(row.get("ticker") or "")
        if ticker:
            tickers_of.setdefault(cik, []).append(ticker)
        score = name_similarity(name, title) / 100.0
        if score == 1.0:
            field = (
                f"title {title!r} equals {name!r} after normalisation ({normalise_name(name)!r})"
            )
        else:
            field = f"title {title!r} ~ {name!r}: similarity {score:.2f}"
        if ticker and ticker.upper() == query_ticker and score < 1.0:
            score, field = 1.0, f"ticker {ticker!r} equals the query"
        factor, country_evidence = _country_note(row, wanted)
        confidence = round(score * factor, 4)
        if confidence < min_confidence:
            continue
        held = by_cik.get(cik)
        if held is None or confidence > held["confidence"]:
            by_cik[cik] = {
                "cik": cik,
                "title": title,
                "ticker": ticker or None,
                "tickers": [],
                "confidence": confidence,
                "evidence": field + country_evidence,
            }
    for cik, candidate in by_cik.items():
        candidate["tickers"] = tickers_of.get(cik, [])
    ranked = sorted(by_cik.values(), key=lambda c: (-c["confidence"], c["cik"]))
    return ranked[:limit]


@dataclass(frozen=True)
class PickResult:
    status: PickStatus
    candidate: Candidate | None
    reason: str


def pick(candidates: list[Candidate], threshold: float = 0.9, margin: float = 0.05) -> PickResult:
    """The single confident candidate, or none with status 'ambiguous' or 'none' and a reason.

    'matched' needs the best confidence >= threshold and the runner-up more than `margin`
    behind; a close runner-up makes it 'ambiguous'; nothing at the threshold is 'none'.
    """
    if not candidates:
        return PickResult("none", None, "no candidates")
    ranked = sorted(candidates, key=lambda c: -float(c["confidence"]))
    best = ranked[0]
    top = float(best["confidence"])
    if top < threshold:
        return PickResult(
            "none", None, f"best candidate {best['cik']} at {top:.2f} is below {threshold:.2f}"
        )
    if len(ranked) > 1:
        second = ranked[1]
        if top - float(second["confidence"]) < margin:
            return PickResult(
                "ambiguous",
                None,
                f"{best['cik']} ({best['title']}) at {top:.2f} and {second['cik']} "
                f"({second['title']}) at {float(second['confidence']):.2f} are within {margin:.2f}",
            )
    return PickResult("matched", best, f"{best['cik']} at {top:.2f}: {best['evidence']}")
