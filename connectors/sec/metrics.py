"""Annual headline metrics (revenue, net income, assets, equity, employees) from company facts.

Input is the long rows of connectors.sec.parse.parse_companyfacts. Only annual reports
(10-K, 20-F, 40-F and their amendments) are used:

- flows (revenue, net income) need a full-year duration (350-380 days, which covers 52/53-week
  years);
- balances (assets, equity) need an instant at a fiscal year end;
- employees (dei EntityNumberOfEmployees) take whatever period the annual report gave.

Fiscal years are labelled the way the company labels them. Each annual report has an anchor:
the latest end date of its full-year durations, labelled with the report's SEC `fy`. A fact
that ends k whole years before the anchor belongs to fiscal year fy - k. Snowflake's year
ending 2025-01-31 is therefore fiscal 2025, and a 53-week year ending 2021-01-03 stays 2020.
Facts that do not sit on a fiscal year end (within 10 days) are not annual values and are
skipped.

When several concepts could give a metric, the first concept in METRIC_CONCEPTS that has a
value for that year wins. When several filings give the same concept and year (comparatives,
restatements), the latest filed wins (then the highest accession number).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

Row = dict[str, Any]
Shape = Literal["flow", "balance", "any"]

ANNUAL_FORMS = frozenset({"10-K", "10-K/A", "20-F", "20-F/A", "40-F", "40-F/A"})
FULL_YEAR_DAYS = (350, 380)
YEAR_DAYS = 365.2425
ALIGNMENT_TOLERANCE_DAYS = 10
_CURRENCY_UNIT = re.compile(r"^[A-Z]{3}$")


@dataclass(frozen=True)
class MetricSpec:
    metric: str
    shape: Shape
    monetary: bool
    concepts: tuple[tuple[str, str], ...]  # (taxonomy, concept), best first


METRIC_CONCEPTS: tuple[MetricSpec, ...] = (
    MetricSpec(
        "revenue",
        "flow",
        True,
        (
            ("us-gaap", "Revenues"),
            ("us-gaap", "RevenueFromContractWithCustomerExcludingAssessedTax"),
            ("us-gaap", "RevenueFromContractWithCustomerIncludingAssessedTax"),
            ("us-gaap", "SalesRevenueNet"),
            ("us-gaap", "RevenuesNetOfInterestExpense"),
            ("ifrs-full", "Revenue"),
            ("ifrs-full", "RevenueFromContractsWithCustomers"),
        ),
    ),
    MetricSpec(
        "net_income",
        "flow",
        True,
        (
            # Attributable to the parent first, on both standards, so they compare.
            ("us-gaap", "NetIncomeLoss"),
            ("us-gaap", "ProfitLoss"),
            ("us-gaap", "NetIncomeLossAvailableToCommonStockholdersBasic"),
            ("ifrs-full", "ProfitLossAttributableToOwnersOfParent"),
            ("ifrs-full", "ProfitLoss"),
        ),
    ),
    MetricSpec(
        "total_assets",
        "balance",
        True,
        (("us-gaap", "Assets"), ("ifrs-full", "Assets")),
    ),
    MetricSpec(
        "equity",
        "balance",
        True,
        (
            ("us-gaap", "StockholdersEquity"),
            ("us-gaap", "StockholdersEquityIncludingPortionAttributableToNoncontrollingInterest"),
            ("ifrs-full", "EquityAttributableToOwnersOfParent"),
            ("ifrs-full", "Equity"),
        ),
    ),
    MetricSpec(
        "employees",
        "any",
        False,
        (("dei", "EntityNumberOfEmployees"),),
    ),
)

_BY_CONCEPT: dict[tuple[str, str], list[tuple[MetricSpec, int]]] = {}
for _spec in METRIC_CONCEPTS:
    for _rank, _key in enumerate(_spec.concepts):
        _BY_CONCEPT.setdefault(_key, []).append((_spec, _rank))
METRIC_KEYS = frozenset(_BY_CONCEPT)  # (taxonomy, concept) of every metric


@dataclass(frozen=True)
class _Anchor:
    end: date
    fiscal_year: int


def _iso(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10])
    except (TypeError, ValueError):
        return None


def _is_full_year(start: date | None, end: date) -> bool:
    return start is not None and FULL_YEAR_DAYS[0] <= (end - start).days <= FULL_YEAR_DAYS[1]


def _calendar_fiscal_year(end: date) -> int:
    """Fallback label when a report has no usable fy: a year ending in the first week of
    January is the previous year's (52/53-week calendars)."""
    return end.year - 1 if end.month == 1 and end.day <= 7 else end.year


def _anchors(rows: list[Row]) -> dict[str, _Anchor]:
    """Per accession: latest full-year end and the report's fiscal-year label."""
    anchors: dict[str, _Anchor] = {}
    for row in rows:
        end = _iso(row["period_end"])
        if end is None or not _is_full_year(_iso(row.get("period_start")), end):
            continue
        accession = str(row.get("accession"))
        current = anchors.get(accession)
        if current is None or end > current.end:
            fy = row.get("fiscal_year")
            label = fy if isinstance(fy, int) else _calendar_fiscal_year(end)
            anchors[accession] = _Anchor(end, label)
    return anchors


def _fiscal_year(end: date, anchor: _Anchor) -> int | None:
    """fy - k when `end` lies k whole years before the anchor; None when off a year end."""
    gap = (anchor.end - end).days
    years_back = round(gap / YEAR_DAYS)
    if years_back < 0 or abs(gap - years_back * YEAR_DAYS) > ALIGNMENT_TOLERANCE_DAYS:
        return None
    return anchor.fiscal_year - years_back


def _fact_year(row: Row, spec: MetricSpec, anchors: dict[str, _Anchor]) -> int | None:
    end = _iso(row["period_end"])
    if end is None:
        return None
    start = _iso(row.get("period_start"))
    anchor = anchors.get(str(row.get("accession")))
    if spec.shape == "any":
        if anchor is not None:
            return anchor.fiscal_year
        fy = row.get("fiscal_year")
        return fy if isinstance(fy, int) else _calendar_fiscal_year(end)
    if anchor is None:
        return None
    if spec.shape == "flow" and not _is_full_year(start, end):
        return None
    if spec.shape == "balance" and start is not None:
        return None
    return _fiscal_year(end, anchor)


def derive_annual_metrics(
    facts_rows: Iterable[Row], periods: Iterable[Row] | None = None
) -> list[Row]:
    """One row per (cik, metric, fiscal_year).

    Row keys: cik, fiscal_year, metric (revenue, net_income, total_assets, equity, employees),
    value, unit, taxonomy, concept, period_start, period_end, form, filed, accession,
    source_url, sha256. Sorted by cik, metric, fiscal_year.

    `periods`, when `facts_rows` holds only facts of METRIC_KEYS: the period_start,
    period_end, accession and fiscal_year of every usable fact of an annual report, in their
    order, once each (the fiscal-year anchors are read from all of them).
    """
    rows = [
        r
        for r in facts_rows
        if r.get("problem") is None and r.get("form") in ANNUAL_FORMS and r.get("period_end")
    ]
    anchors = _anchors(rows if periods is None else list(periods))
    best: dict[tuple[str, str, int], tuple[tuple[int, str, str], Row]] = {}
    for row in rows:
        for spec, rank in _BY_CONCEPT.get((row["taxonomy"], row["concept"]), ()):
            if spec.monetary and not _CURRENCY_UNIT.match(str(row["unit"])):
                continue
            year = _fact_year(row, spec, anchors)
            if year is None:
                continue
            key = (str(row["cik"]), spec.metric, year)
            # Lower rank is better, so negate it; later filed and higher accession win ties.
            preference = (-rank, str(row.get("filed") or ""), str(row.get("accession") or ""))
            held = best.get(key)
            if held is None or preference > held[0]:
                best[key] = (preference, row)
    out = []
    for (cik, metric, year), (_, row) in sorted(best.items()):
        out.append(
            {
                "cik": cik,
                "fiscal_year": year,
                "metric": metric,
                "value": row["value"],
                "unit": row["unit"],
                "taxonomy": row["taxonomy"],
                "concept": row["concept"],
                "period_start": row.get("period_start"),
                "period_end": row["period_end"],
                "form": row.get("form"),
                "filed": row.get("filed"),
                "accession": row.get("accession"),
                "source_url": row.get("source_url"),
                "sha256": row.get("sha256"),
            }
        )
    return out
