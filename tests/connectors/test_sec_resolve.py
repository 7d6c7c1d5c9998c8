"""Name -> CIK resolution against the real (trimmed) SEC ticker list."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest

from connectors.sec.parse import parse_company_tickers
from connectors.sec.resolve import find_cik, pick

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "sec"


@cache
def tickers() -> tuple[dict[str, Any], ...]:
    body = (FIXTURES / "company_tickers_trimmed.json").read_bytes()
    return tuple(parse_company_tickers(body, "tickers-url"))


def test_legal_form_variants_match_exactly() -> None:
    candidates = find_cik("Microsoft Corporation", tickers())
    best = candidates[0]
    assert best["cik"] == "0000789019"
    assert best["title"] == "MICROSOFT CORP"
    assert best["ticker"] == "MSFT"
    assert best["confidence"] == 1.0
    assert "MICROSOFT CORP" in best["evidence"]
    result = pick(candidates)
    assert result.status == "matched"
    assert result.candidate is best


def test_ticker_query_matches_on_ticker_field() -> None:
    best = find_cik("TSLA", tickers())[0]
    assert best["cik"] == "0001318605"
    assert "ticker 'TSLA'" in best["evidence"]


def test_two_real_rio_tinto_registrants_are_ambiguous() -> None:
    candidates = find_cik("Rio Tinto", tickers())
    assert {c["title"] for c in candidates[:2]} == {"RIO TINTO LTD", "RIO TINTO PLC"}
    result = pick(candidates)
    assert result.status == "ambiguous"
    assert result.candidate is None
    assert "RIO TINTO" in result.reason


def test_country_breaks_the_tie_when_rows_carry_one() -> None:
    # Countries as parse_submissions would add them: plc is British, Ltd Australian.
    rows = [dict(row) for row in tickers()]
    for row in rows:
        if row["title"] == "RIO TINTO PLC":
            row["country"] = "GBR"
        elif row["title"] == "RIO TINTO LTD":
            row["country"] = "AUS"
    candidates = find_cik("Rio Tinto", rows, country="United Kingdom", min_confidence=0.0)
    result = pick(candidates)
    assert result.status == "matched"
    assert result.candidate is not None
    assert result.candidate["title"] == "RIO TINTO PLC"
    assert "country GBR matches" in result.candidate["evidence"]
    ltd = next(c for c in candidates if c["title"] == "RIO TINTO LTD")
    assert ltd["confidence"] == 0.5
    assert "differs from GBR" in ltd["evidence"]


def test_unknown_name_gives_none() -> None:
    candidates = find_cik("Zzyzx Quantum Widgets", tickers())
    result = pick(candidates)
    assert result.status == "none"
    assert result.candidate is None


def test_below_threshold_is_none_not_a_guess() -> None:
    candidates = [{"cik": "1", "title": "A", "confidence": 0.85, "evidence": ""}]
    result = pick(candidates)
    assert result.status == "none"
    assert "below 0.90" in result.reason


def test_find_cik_rejects_empty_name_and_unknown_country() -> None:
    with pytest.raises(ValueError):
        find_cik("  ", tickers())
    with pytest.raises(ValueError, match="not a recognisable country"):
        find_cik("Shell", tickers(), country="Atlantis")
