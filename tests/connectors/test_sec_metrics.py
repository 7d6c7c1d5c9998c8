"""derive_annual_metrics on real company facts (US-GAAP Snowflake and Tesla, IFRS LPA)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from connectors.sec.parse import derive_annual_metrics, parse_companyfacts

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "sec"


@cache
def facts(name: str) -> tuple[dict[str, Any], ...]:
    rows = parse_companyfacts((FIXTURES / name).read_bytes(), f"url:{name}", sha256="h")
    return tuple(rows)


def metrics(name: str) -> dict[tuple[str, int], dict[str, Any]]:
    out = derive_annual_metrics(facts(name))
    keyed = {(row["metric"], row["fiscal_year"]): row for row in out}
    assert len(keyed) == len(out), "one row per metric and fiscal year"
    return keyed


SNOW = "companyfacts_CIK0001640147_SNOW.json"
LPA = "companyfacts_CIK0001997711_LPA.json"
TSLA = "companyfacts_CIK0001318605_TSLA.json"


def test_snowflake_revenue_uses_company_fiscal_year_and_latest_filing() -> None:
    snow = metrics(SNOW)
    fy2025 = snow[("revenue", 2025)]
    assert fy2025["value"] == 3626396000
    assert fy2025["unit"] == "USD"
    assert fy2025["taxonomy"] == "us-gaap"
    assert fy2025["concept"] == "RevenueFromContractWithCustomerExcludingAssessedTax"
    assert (fy2025["period_start"], fy2025["period_end"]) == ("2024-02-01", "2025-01-31")
    assert fy2025["form"] == "10-K"
    assert fy2025["accession"] == "0001640147-25-000052"
    assert fy2025["cik"] == "0001640147"
    assert fy2025["source_url"] == f"url:{SNOW}"
    assert fy2025["sha256"] == "h"
    # Fiscal 2023 was reported in three 10-Ks; the latest filed (2025-03-21) wins.
    fy2023 = snow[("revenue", 2023)]
    assert fy2023["value"] == 2065659000
    assert fy2023["filed"] == "2025-03-21"
    assert snow[("revenue", 2019)]["value"] == 96666000


def test_snowflake_balances_at_fiscal_year_end() -> None:
    snow = metrics(SNOW)
    assets = snow[("total_assets", 2025)]
    assert assets["value"] == 9033938000
    assert assets["period_start"] is None
    assert assets["period_end"] == "2025-01-31"
    assert snow[("equity", 2025)]["value"] == 2999929000
    assert snow[("net_income", 2025)]["value"] == -1285640000
    # Quarter-end instants (e.g. 2024-10-31) never become annual rows.
    assert all(row["period_end"].endswith("-01-31") for row in snow.values())


def test_lpa_ifrs_20f() -> None:
    lpa = metrics(LPA)
    assert lpa[("revenue", 2024)]["value"] == 43862372
    assert lpa[("revenue", 2024)]["taxonomy"] == "ifrs-full"
    assert lpa[("revenue", 2024)]["concept"] == "Revenue"
    assert lpa[("revenue", 2024)]["form"] == "20-F"
    income = lpa[("net_income", 2024)]
    assert income["value"] == -29285428
    assert income["concept"] == "ProfitLossAttributableToOwnersOfParent"
    assert lpa[("total_assets", 2023)]["value"] == 590825310
    assert lpa[("total_assets", 2023)]["filed"] == "2025-04-02"
    assert lpa[("equity", 2024)]["concept"] == "EquityAttributableToOwnersOfParent"
    assert ("revenue", 2020) not in lpa


def test_tesla_us_gaap() -> None:
    tsla = metrics(TSLA)
    assert tsla[("revenue", 2021)]["value"] == 53823000000
    assert tsla[("revenue", 2021)]["concept"] == "Revenues"
    assert tsla[("net_income", 2021)]["value"] == 5519000000
    assert tsla[("total_assets", 2021)]["value"] == 62131000000
    assert tsla[("equity", 2021)]["value"] == 30189000000
    assert tsla[("revenue", 2020)]["value"] == 31536000000
    assert ("employees", 2021) not in tsla  # no dei EntityNumberOfEmployees in this file


def test_quarterly_reports_are_ignored() -> None:
    only_quarterly = [row for row in facts(SNOW) if row["form"] == "10-Q"]
    assert only_quarterly
    assert derive_annual_metrics(only_quarterly) == []


def test_employees_from_dei_when_present() -> None:
    # LPA's facts have no employee count; add one as its 2024 20-F would carry it.
    template = next(
        row
        for row in facts(LPA)
        if row["concept"] == "Revenue" and row["accession"] == "0001997711-25-000030"
    )
    employees = {
        **template,
        "taxonomy": "dei",
        "concept": "EntityNumberOfEmployees",
        "unit": "employee",
        "value": 73,
        "period_start": None,
        "period_end": "2024-12-31",
    }
    lpa = metrics_from([*facts(LPA), employees])
    row = lpa[("employees", 2024)]
    assert row["value"] == 73
    assert row["unit"] == "employee"


def test_unusable_facts_are_not_used() -> None:
    rows = [dict(row) for row in facts(LPA)]
    for row in rows:
        if row["concept"] == "Revenue" and row["period_end"] == "2024-12-31":
            row["problem"] = "non-numeric value"
    fallback = metrics_from(rows)[("revenue", 2024)]
    # The flagged Revenue fact is skipped; the next concept in priority order is used.
    assert fallback["concept"] == "RevenueFromContractsWithCustomers"
    assert fallback["value"] != 43862372


def metrics_from(rows: list[dict[str, Any]]) -> dict[tuple[str, int], dict[str, Any]]:
    return {(row["metric"], row["fiscal_year"]): row for row in derive_annual_metrics(rows)}


def test_the_landing_parse_derives_from_the_metric_facts_the_metrics_of_all_facts() -> None:
    """connectors/sec/source.py turns only the metric concepts' facts into rows, with the
    periods of every annual fact for the fiscal-year anchors: the same metrics."""
    from datetime import UTC, datetime
    from types import SimpleNamespace

    from connectors.sec import source
    from connectors.sec.parse import parse_companyfacts_columns

    answer = SimpleNamespace(sha256="h", fetched_at=datetime(2026, 12, 3, tzinfo=UTC))
    for name in (SNOW, LPA, TSLA):
        columns = parse_companyfacts_columns(
            (FIXTURES / name).read_bytes(), f"url:{name}", sha256="h"
        )
        landed = source._metric_rows(columns, answer)  # type: ignore[arg-type]
        expected = derive_annual_metrics(facts(name))
        assert len(landed) == len(expected) >= 16, name
        for row, want in zip(landed, expected, strict=True):
            assert row == {
                **{k: v for k, v in want.items() if k != "sha256"},
                "value": float(want["value"]),
                "payload_sha256": "h",
                "fetched_at": answer.fetched_at,
            }
