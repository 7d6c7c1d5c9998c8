"""SEC EDGAR for partners with a CIK (given or resolved): company profile, its recent filings
(accession, form, dates, primary document) and XBRL facts.

Every fact is kept in long form; annual headline metrics (revenue, net income, total assets,
equity, employees; US-GAAP and IFRS) are derived from them with unit and period.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests

from connectors.config import Settings
from connectors.sec.client import (
    CONTACT_ENV,
    OFFLINE_CONTACT,
    make_sec_client,
    sec_user_agent,
)
from connectors.sec.metrics import ANNUAL_FORMS as METRIC_FORMS
from connectors.sec.metrics import METRIC_KEYS
from connectors.sec.parse import (
    CompanyFacts,
    derive_annual_metrics,
    parse_companyfacts_columns,
    parse_submissions,
)
from connectors.source import (
    Batch,
    Columns,
    Extracted,
    Parsed,
    Partner,
    SourceSpec,
    Stored,
    provenance,
)
from connectors.workers import for_each_partner, workers

SUBMISSIONS = "submissions"
COMPANYFACTS = "companyfacts"
ANNUAL_FORMS = ("10-K", "10-K/A", "20-F", "20-F/A", "40-F", "40-F/A")


def preflight(settings: Settings, env: Mapping[str, str], offline: bool) -> None:
    sec_user_agent(settings, offline=offline)


def _fetch(out: Extracted, partner_id: str, cik: str, kind: str, url: str, fetch: Any) -> None:
    try:
        out.record_response(partner_id, fetch(cik), kind=kind)
    except requests.RequestException as exc:
        out.record_exception(partner_id, url, exc, kind=kind)


def extract(partners: list[Partner], settings: Settings, out: Extracted) -> None:
    with_cik = [p for p in partners if p.cik]
    for partner in partners:
        if not partner.cik:
            out.record(partner.partner_id, None, "skipped", error="no CIK given or resolved")
    if not with_cik:
        return
    client = make_sec_client(settings)

    def fetch_both(partner: Partner, sink: Extracted) -> None:
        cik = str(partner.cik)
        for kind, url, fetch in (
            (SUBMISSIONS, client.submissions_url(cik), client.submissions),
            (COMPANYFACTS, client.companyfacts_url(cik), client.companyfacts),
        ):
            _fetch(sink, partner.partner_id, cik, kind, url, fetch)

    out.report(total=len(with_cik))
    for_each_partner(out, with_cik, fetch_both, workers(settings.source("sec")), settings.budget)


def _company_row(parsed: dict[str, Any], response: Stored) -> dict[str, Any]:
    company = dict(parsed["company"])
    filings = parsed["filings"]
    annual = [f for f in filings if f["form"] in ANNUAL_FORMS and f["filing_date"]]
    latest = max(annual, key=lambda f: f["filing_date"], default=None)
    company.pop("sha256", None)
    company.update(
        {
            "tickers": ",".join(company["tickers"]),
            "exchanges": ",".join(company["exchanges"]),
            "former_names": "; ".join(str(n["name"]) for n in parsed["former_names"]),
            "recent_filings": len(filings),
            "older_filing_pages": len(parsed["filing_pages"]),
            "latest_annual_form": latest["form"] if latest else None,
            "latest_annual_filed": latest["filing_date"] if latest else None,
            "payload_sha256": response.sha256,
            "fetched_at": response.fetched_at,
        }
    )
    return company


FILING_COLUMNS = (
    "cik", "accession", "form", "filing_date", "report_date", "acceptance_datetime",
    "primary_document", "primary_doc_description", "items", "document_url",
)  # fmt: skip


def _filing_rows(filings: list[dict[str, Any]], response: Stored) -> list[dict[str, Any]]:
    """The submissions' recent filings as landing rows, keyed per filing (CIK and accession):
    the recent list keeps about the last 1,000, so a filing that moves on to an older page
    (not fetched) stays landed instead of looking gone."""
    return [
        {
            **{k: f[k] for k in FILING_COLUMNS},
            "filing_key": f"{f['cik']}:{f['accession']}",
            **provenance(response),
        }
        for f in filings
    ]


def _fact_columns(facts: CompanyFacts, response: Stored) -> Columns:
    """The facts as landing rows, column-wise: a number in `value`, or the text of what is
    not one in `value_text` with the problem."""
    cols = facts.columns
    values, problems = cols["value"], cols["problem"]
    data = {key: cols[key] for key in FACT_COLUMNS}
    if all(problem is None for problem in problems):
        data["value"] = [float(value) for value in values]
        data["value_text"] = [None] * len(values)
    else:
        data["value"] = [
            float(value) if problem is None else None
            for value, problem in zip(values, problems, strict=True)
        ]
        data["value_text"] = [
            None if problem is None else str(value)
            for value, problem in zip(values, problems, strict=True)
        ]
    shared = {
        "cik": facts.cik,
        "entity_name": facts.entity_name,
        "source_url": facts.source_url,
        "payload_sha256": response.sha256,
        "fetched_at": response.fetched_at,
    }
    return Columns(data, shared)


FACT_COLUMNS = (
    "taxonomy", "concept", "label", "unit", "period_start", "period_end", "fiscal_year",
    "fiscal_period", "form", "filed", "accession", "frame", "problem",
)  # fmt: skip


def _metric_rows(facts: CompanyFacts, response: Stored) -> list[dict[str, Any]]:
    """Annual metrics from the facts derive_annual_metrics reads (usable facts of annual
    reports): rows made only for the metric concepts' facts, with the periods of every
    annual fact for its fiscal-year anchors (a company has thousands, few of them metrics)."""
    cols = facts.columns
    annual = [
        i
        for i, (problem, form, end) in enumerate(
            zip(cols["problem"], cols["form"], cols["period_end"], strict=True)
        )
        if problem is None and form in METRIC_FORMS and end
    ]
    taxonomy, concept = cols["taxonomy"], cols["concept"]
    wanted = [i for i in annual if (taxonomy[i], concept[i]) in METRIC_KEYS]
    period_keys = ("period_start", "period_end", "accession", "fiscal_year")
    periods = dict.fromkeys(
        zip(*([cols[key][i] for i in annual] for key in period_keys), strict=True)
    )
    return [
        {
            **{k: v for k, v in m.items() if k != "sha256"},
            "value": float(m["value"]),
            "payload_sha256": response.sha256,
            "fetched_at": response.fetched_at,
        }
        for m in derive_annual_metrics(
            facts.rows(wanted), [dict(zip(period_keys, p, strict=True)) for p in periods]
        )
    ]


def parse(batch: Batch) -> Parsed:
    parsed = Parsed()
    for partner_id, response in batch.ok_responses():
        try:
            if response.kind == SUBMISSIONS:
                result = parse_submissions(response.body, response.url, sha256=response.sha256)
                parsed.add("raw.sec__companies", [_company_row(result, response)])
                parsed.add("raw.sec__filings", _filing_rows(result["filings"], response))
            else:
                facts = parse_companyfacts_columns(
                    response.body, response.url, sha256=response.sha256
                )
                parsed.add_columns("raw.sec__facts", _fact_columns(facts, response))
                parsed.add("raw.sec__annual_metrics", _metric_rows(facts, response))
        except (ValueError, KeyError, TypeError) as exc:
            parsed.problem("sec", partner_id, response, f"{type(exc).__name__}: {exc}")
    return parsed


def offline(base_url: str) -> dict[str, str]:
    return {
        "PARTNERDD_SEC_URL": f"{base_url}/sec",
        "PARTNERDD_SEC_TICKERS_URL": f"{base_url}/sec/files/company_tickers.json",
        # The replay server is not the SEC: no real contact is needed or sent.
        CONTACT_ENV: OFFLINE_CONTACT,
    }


SPEC = SourceSpec(
    name="sec",
    extract=extract,
    parse=parse,
    landing={
        "raw.sec__companies": "cik",
        "raw.sec__filings": "filing_key",  # merged per filing (see _filing_rows)
        "raw.sec__facts": "cik",
        "raw.sec__annual_metrics": "cik",
    },
    kinds=(SUBMISSIONS, COMPANYFACTS),
    config={
        "sec": {
            "url": "https://data.sec.gov",
            "tickers_url": "https://www.sec.gov/files/company_tickers.json",
            "rate_per_second": 10.0,  # SEC fair-access limit
            "max_age_hours": 20,  # reused when younger (a nightly run revalidates)
            "workers": 8,  # partners fetched at once, within the rate limit
            # The SEC asks for a User-Agent naming a contact: set PARTNERDD_SEC_CONTACT (e.g.
            # "dd-team@example.com"); live refreshes stop before any fetch when it is missing.
            "contact": "",
        }
    },
    offline=offline,
    preflight=preflight,
)
