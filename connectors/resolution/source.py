"""Entity resolution before the extracts: find a partner's LEI and SEC CIK when not given.

A given identifier always wins over a search. A search result is a proposal with a
confidence and evidence; only a clear pick is used, an ambiguous match is flagged for review
and never silently picked. Every search response is stored raw like any other fetch.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import requests

from connectors.budget import BudgetSpent
from connectors.config import TIME_BUDGET, Settings
from connectors.gleif import resolve as gleif_resolve
from connectors.http import RawResponse, make_session
from connectors.sec import resolve as sec_resolve
from connectors.sec.client import make_sec_client
from connectors.sec.parse import parse_company_tickers
from connectors.source import Batch, Extracted, Parsed, Partner, SourceSpec, provenance

SOURCE = "resolution"
IDENTIFIERS = "raw.resolution__identifiers"
TICKERS = "company_tickers"
TOP_CANDIDATES = 3


def _row(partner: Partner, scheme: str, status: str, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "identifier_key": f"{partner.partner_id}|{scheme}",
        "partner_id": partner.partner_id,
        "scheme": scheme,
        "value": None,
        "status": status,
        "confidence": None,
        "evidence": None,
        "candidates": None,
        "query_name": partner.name,
        "query_country": partner.country_iso2,
        "source_url": None,
        "payload_sha256": None,
        "fetched_at": None,
    }
    row.update(values)
    return row


def _given(partner: Partner, scheme: str, value: str) -> dict[str, Any]:
    evidence = f"given in the partner registry (line {partner.line}); no search made"
    return _row(partner, scheme, "given", value=value, confidence=1.0, evidence=evidence)


def _search_provenance(responses: list[RawResponse]) -> dict[str, Any]:
    """Cite the last response the decision rests on (the one that gave the candidates)."""
    answered = [r for r in responses if r.ok] or responses
    return provenance(answered[-1]) if answered else {}


def _store_search(out: Extracted, partner_id: str, responses: list[RawResponse]) -> None:
    for response in responses:
        if "/fuzzycompletions" in response.url:
            kind = "fuzzycompletions"
        elif "filter%5Blei%5D" in response.url or "filter[lei]" in response.url:
            kind = "lei_records_by_lei"
        else:
            kind = "lei_search"
        out.record_response(partner_id, response, kind=kind)


def _resolve_lei(
    partner: Partner, session: Any, base_url: str, out: Extracted
) -> tuple[str | None, dict[str, Any]]:
    responses: list[RawResponse] = []
    try:
        scored = gleif_resolve.search_lei(
            session, base_url, partner.name, partner.country_iso2, responses=responses
        )
    except (requests.RequestException, gleif_resolve.GleifResolveError) as exc:
        _store_search(out, partner.partner_id, responses)
        out.record_exception(partner.partner_id, f"{base_url}/lei-records", exc, kind="lei_search")
        if isinstance(exc, BudgetSpent):
            raise  # deferred: no decision, the partner keeps the one it had
        return None, _row(partner, "lei", "error", evidence=f"{type(exc).__name__}: {exc}")
    _store_search(out, partner.partner_id, responses)
    decision = gleif_resolve.pick(scored)
    candidates = [
        {"lei": c["lei"], "legal_name": c["legal_name"], "confidence": c["confidence"]}
        for c in decision["candidates"][:TOP_CANDIDATES]
    ]
    status = {"picked": "resolved", "ambiguous": "ambiguous"}.get(decision["decision"], "none")
    best = decision["candidate"] or (decision["candidates"] or [None])[0]
    evidence: dict[str, Any] = {"reason": decision["reason"]}
    if best is not None:
        evidence.update(best["evidence"])
    if not scored:
        statuses = ", ".join(f"HTTP {r.status}" for r in responses)
        evidence["reason"] = f"no candidates (search answered {statuses})"
    row = _row(
        partner,
        "lei",
        status,
        value=decision["lei"],
        confidence=best["confidence"] if best is not None else None,
        evidence=json.dumps(evidence, sort_keys=True, default=str),
        candidates=json.dumps(candidates, ensure_ascii=False),
        **_search_provenance(responses),
    )
    return decision["lei"], row


def _resolve_cik(
    partner: Partner, tickers: list[dict[str, Any]], tickers_response: RawResponse
) -> tuple[str | None, dict[str, Any]]:
    candidates = sec_resolve.find_cik(partner.name, tickers, country=partner.country_iso3)
    result = sec_resolve.pick(candidates)
    status = {"matched": "resolved", "ambiguous": "ambiguous"}.get(result.status, "none")
    best = result.candidate or (candidates[0] if candidates else None)
    top = [
        {"cik": c["cik"], "title": c["title"], "confidence": c["confidence"]}
        for c in candidates[:TOP_CANDIDATES]
    ]
    row = _row(
        partner,
        "cik",
        status,
        value=result.candidate["cik"] if result.candidate else None,
        confidence=best["confidence"] if best else None,
        evidence=json.dumps({"reason": result.reason}, ensure_ascii=False),
        candidates=json.dumps(top, ensure_ascii=False),
        **provenance(tickers_response),
    )
    return row["value"], row


def _load_tickers(
    partners: list[Partner], settings: Settings, out: Extracted
) -> tuple[list[dict[str, Any]], RawResponse | None, str | None]:
    """(ticker rows, their response, why they are missing) for the CIK search."""
    if all(p.cik for p in partners):
        return [], None, None
    client = make_sec_client(settings)
    try:
        response = out.record_response(None, client.company_tickers(), kind=TICKERS)
    except requests.RequestException as exc:
        out.record_exception(None, client.tickers_url, exc, kind=TICKERS)
        return [], None, f"{type(exc).__name__}: {exc}"
    if not response.ok:
        return [], response, f"company tickers answered HTTP {response.status}"
    try:
        return (
            parse_company_tickers(response.body, response.url, sha256=response.sha256),
            response,
            None,
        )
    except ValueError as exc:
        out.record(None, response.url, "parse_error", kind=TICKERS, error=str(exc))
        return [], response, str(exc)


def identify(
    partners: list[Partner], settings: Settings, out: Extracted
) -> Iterator[tuple[Partner, list[dict[str, Any]]]]:
    """(partner, its identifier rows: lei, then cik) for each partner in turn; every answer
    a decision rests on is stored through `out`. The refresh emits the rows as landing
    records; `partnerdd request` reads them before anything is written. A partner whose
    search the time budget did not reach gets no rows (it keeps those of an earlier run)."""
    session = make_session("gleif", settings)
    base_url = settings.source_url("gleif")
    tickers, tickers_response, tickers_problem = _load_tickers(partners, settings, out)
    for partner in partners:
        rows = []
        if partner.lei:
            rows.append(_given(partner, "lei", partner.lei))
        elif out.deferred(partner.partner_id, settings.budget, kind="lei_search"):
            continue  # its identifier rows of an earlier run stay
        else:
            try:
                rows.append(_resolve_lei(partner, session, base_url, out)[1])
            except BudgetSpent:
                continue
        if partner.cik:
            rows.append(_given(partner, "cik", partner.cik))
        elif tickers_response is None or tickers_problem:
            reason = tickers_problem or "no ticker list"
            rows.append(_row(partner, "cik", "error", evidence=reason))
        else:
            rows.append(_resolve_cik(partner, tickers, tickers_response)[1])
        yield partner, rows


def extract(partners: list[Partner], settings: Settings, out: Extracted) -> None:
    """One identifier row per partner and scheme decided (given, resolved, ambiguous, none).

    The decision needs the answers as they come (a fallback search follows an empty one),
    so it is made here and emitted as a record; every answer it rests on is stored raw.
    A search that failed (`error`: the fetch log says why) decides nothing, so it lands no
    row: rows are replaced per partner and scheme, and the one an earlier run decided stays.
    """
    out.report(total=len(partners))
    for partner, rows in identify(partners, settings, out):
        for row in rows:
            if row["status"] != "error":
                out.emit(IDENTIFIERS, partner.partner_id, row)
        out.report(advance=1)


def parse(batch: Batch) -> Parsed:
    parsed = Parsed()
    parsed.add(IDENTIFIERS, batch.records.get(IDENTIFIERS, []))
    return parsed


SPEC = SourceSpec(
    name=SOURCE,
    extract=extract,
    parse=parse,
    landing={IDENTIFIERS: "identifier_key"},
    kinds=("lei_search", "fuzzycompletions", "lei_records_by_lei", TICKERS),
    phase=0,  # uses the gleif and sec settings (and their offline overrides)
    # every later source waits for this one: half of the [http] default per run
    config={SOURCE: {TIME_BUDGET: 1800.0}},
    identifies=IDENTIFIERS,
)
