"""Filings, ownership, sanctions and entity resolution through the whole offline refresh:
real Prefect harness, the demo snapshot on loopback (real SEC, GLEIF, OFAC and UN payloads),
real DuckDB."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from connectors.config import ConfigError, load_settings
from connectors.replay import ReplayServer
from connectors.sec import source as sec
from connectors.sec.client import make_sec_client
from flows.offline import SNAPSHOT_DIR, offline_sources, source_overrides
from flows.refresh import refresh
from tests.conftest import table_counts

# Real companies; ids as published by GLEIF and the SEC. lpa has no recorded submissions file
# (only its company facts), apple-energy is GLEIF's own sample of an entity with parents,
# sap-by-name gives only name and country, rio-tinto is two SEC registrants, and cubana is
# listed as an alias ("CUBANA AIRLINES") of OFAC SDN entry 735.
REGISTRY = """partner_id,name,website,country,lei,cik
snowflake,Snowflake Inc.,https://www.snowflake.com,US,,1640147
lpa,Logistic Properties of the Americas,,CR,,1997711
apple-energy,Apple Energy LLC,,US,549300YX4S1LLSMK2627,
shell,Shell plc,https://www.shell.com,GB,21380068P1DRHMJ8KU70,1306965
microsoft,Microsoft Corporation,https://www.microsoft.com,US,INR2EJN1ERAN0W5ZP974,789019
fraport,Fraport AG,https://www.fraport.com,DE,5299001ERX0K10IZUL40,
nfa-international,NFA International,,IN,335800CCCPHKUOXPC332,
sap-by-name,SAP SE,,DE,,
rio-tinto,Rio Tinto,,GB,,
cubana,Cubana Airlines,,CU,,
"""
APPLE_ENERGY = "549300YX4S1LLSMK2627"
APPLE_INC = "HWUPKR0MPOU8FGXBT394"
SAP_SE = "529900D6BF99LW9R2E68"
MY_TABLES = (
    "raw.sec__companies",
    "raw.sec__facts",
    "raw.sec__annual_metrics",
    "raw.gleif__ownership",
    "raw.gleif__children",
    "raw.gleif__other_names",
    "raw.sanctions__entries",
    "raw.sanctions__names",
    "raw.resolution__identifiers",
    "staging.stg_sec__facts",
    "staging.stg_resolution__identifiers",
    "marts.partner_financials",
    "marts.partner_ownership",
    "marts.partner_sanctions_hits",
    "marts.partner_identifiers",
    "marts.partner_diligence_summary",
)


def _counts(db: Path) -> dict[str, int]:
    return table_counts(db, MY_TABLES)


@pytest.fixture(scope="module")
def run(
    prefect_harness: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    work = tmp_path_factory.mktemp("diligence")
    registry = work / "partners.csv"
    registry.write_text(REGISTRY, encoding="utf-8")
    db = work / "dd.duckdb"
    with offline_sources() as overrides:
        first = refresh(str(registry), str(db), overrides, str(work / "docs"))
        counts = _counts(db)
        second = refresh(str(registry), str(db), overrides, str(work / "docs"))
    yield {"db": db, "first": first, "second": second, "counts_after_first": counts}


def _query(run: dict[str, Any], sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(run["db"]), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def test_refresh_succeeds_and_reruns_idempotently(run: dict[str, Any]) -> None:
    assert run["first"]["status"] == "ok", run["first"]["failures"]
    assert run["second"]["status"] == "ok"
    assert _counts(run["db"]) == run["counts_after_first"]


def test_us_gaap_filer_financials_from_real_company_facts(run: dict[str, Any]) -> None:
    rows = _query(
        run,
        "select fiscal_year, value, unit, concept, taxonomy, form, period_start, period_end, "
        "accession, source_url from marts.partner_financials "
        "where partner_id = 'snowflake' and metric = 'revenue' order by fiscal_year desc",
    )
    latest = rows[0]
    # Snowflake's fiscal 2025 ended 2025-01-31: revenue 3,626,396 thousand USD.
    assert latest[:6] == (
        2025,
        3626396000.0,
        "USD",
        "RevenueFromContractWithCustomerExcludingAssessedTax",
        "us-gaap",
        "10-K",
    )
    assert str(latest[7])[:10] == "2025-01-31"
    assert latest[9].endswith("/sec/api/xbrl/companyfacts/CIK0001640147.json")
    assets = _query(
        run,
        "select value from marts.partner_financials where partner_id = 'snowflake' "
        "and metric = 'total_assets' and fiscal_year = 2024",
    )
    assert assets == [(8223383000.0,)]
    company = _query(
        run,
        "select sec_name, country, latest_annual_form from staging.stg_sec__companies "
        "where cik = '0001640147'",
    )
    assert company == [("Snowflake Inc.", "USA", "10-K")]
    facts = _query(run, "select count(*) from staging.stg_sec__facts where cik = '0001640147'")
    assert facts[0][0] == 8163  # every fact kept in long form


def test_ifrs_filer_financials_and_its_missing_submissions_are_honest(
    run: dict[str, Any],
) -> None:
    rows = dict(
        (r[0], r[1:])
        for r in _query(
            run,
            "select metric, value, unit, taxonomy, concept, form from marts.partner_financials "
            "where partner_id = 'lpa' and fiscal_year = 2024",
        )
    )
    assert rows["revenue"] == (43862372.0, "USD", "ifrs-full", "Revenue", "20-F")
    assert rows["net_income"][:4] == (
        -29285428.0,
        "USD",
        "ifrs-full",
        "ProfitLossAttributableToOwnersOfParent",
    )
    assert rows["total_assets"][0] == 607019578.0
    assert rows["equity"][3] == "EquityAttributableToOwnersOfParent"
    # No submissions file was recorded for LPA: a logged 404, and no invented company row.
    problem = _query(
        run,
        "select status, url, outcome from ops.fetch_log where run_id = ? and partner_id = 'lpa' "
        "and source = 'sec' and outcome <> 'ok'",
        run["first"]["run_id"],
    )
    assert [(p[0], p[1].rsplit("/", 2)[-2:], p[2]) for p in problem] == [
        (404, ["submissions", "CIK0001997711.json"], "not_recorded")
    ]
    companies = "select count(*) from staging.stg_sec__companies where cik = '0001997711'"
    assert _query(run, companies) == [(0,)]
    summary = _query(
        run,
        "select latest_revenue, latest_revenue_unit, latest_revenue_year, sec_name "
        "from marts.partner_diligence_summary where partner_id = 'lpa'",
    )
    assert summary == [(43862372.0, "USD", 2024, None)]


def test_gleif_parent_exceptions_and_children_in_marts(run: dict[str, Any]) -> None:
    parents = {
        (r[0], r[1]): r[2:]
        for r in _query(
            run,
            "select partner_id, relation, parent_lei, parent_name, exception_reason "
            "from marts.partner_ownership where relation <> 'direct_child'",
        )
    }
    assert parents[("apple-energy", "direct_parent")] == (APPLE_INC, "Apple Inc.", None)
    assert parents[("apple-energy", "ultimate_parent")] == (APPLE_INC, "Apple Inc.", None)
    assert parents[("shell", "ultimate_parent")] == (None, None, "NO_KNOWN_PERSON")
    assert parents[("microsoft", "direct_parent")] == (None, None, "NON_CONSOLIDATING")
    # Fraport's parent endpoints were not recorded: no row is invented for it.
    assert not [k for k in parents if k[0] == "fraport"]
    children = _query(
        run,
        "select partner_id, count(*), list(child_name order by child_name) "
        "from marts.partner_ownership where relation = 'direct_child' group by 1 order by 1",
    )
    by_partner = {r[0]: (r[1], r[2]) for r in children}
    assert by_partner["fraport"] == (
        2,
        ["FRAPORT MALTA BUSINESS SERVICES LTD", "Lima Airport Partners S.R.L."],
    )
    assert by_partner["microsoft"][0] == 12 and "GITHUB INC" in by_partner["microsoft"][1]
    summary = {
        r[0]: r[1:]
        for r in _query(
            run,
            "select partner_id, ultimate_parent_lei, ultimate_parent_name, "
            "ultimate_parent_exception, direct_children_loaded, direct_children_reported, "
            "lei_registration_status, lei_lapsed from marts.partner_diligence_summary",
        )
    }
    assert summary["apple-energy"][:3] == (APPLE_INC, "Apple Inc.", None)
    assert summary["shell"][2:5] == ("NO_KNOWN_PERSON", 15, 106)  # page 1 of 8 recorded
    assert summary["nfa-international"][5:] == ("LAPSED", True)


def test_name_and_country_resolve_to_the_right_lei_and_cik(run: dict[str, Any]) -> None:
    ids = {
        r[0]: r[1:]
        for r in _query(
            run,
            "select scheme, value, status, confidence, evidence from marts.partner_identifiers "
            "where partner_id = 'sap-by-name'",
        )
    }
    assert ids["lei"][:3] == (SAP_SE, "resolved", 1.0)
    assert '"country_match": true' in ids["lei"][3]
    assert ids["cik"][:2] == ("0001000184", "resolved")
    # The resolved ids were used by the extracts: GLEIF record and SEC profile of SAP SE.
    summary = _query(
        run,
        "select lei, lei_resolution, cik_resolution, sec_name "
        "from marts.partner_diligence_summary where partner_id = 'sap-by-name'",
    )
    assert summary == [(SAP_SE, "resolved", "resolved", "SAP SE")]
    legal = _query(
        run, "select legal_name from staging.stg_gleif__lei_records where lei = ?", SAP_SE
    )
    assert legal == [("SAP SE",)]


def test_an_ambiguous_name_is_flagged_and_not_picked(run: dict[str, Any]) -> None:
    row = _query(
        run,
        "select value, status, needs_review, evidence, candidates from marts.partner_identifiers "
        "where partner_id = 'rio-tinto' and scheme = 'cik'",
    )
    value, status, review, evidence, candidates = row[0]
    assert (value, status, review) == (None, "ambiguous", True)
    assert "RIO TINTO LTD" in candidates and "RIO TINTO PLC" in candidates
    assert "within" in evidence
    sec_rows = _query(
        run,
        "select count(*) from ops.fetch_log where partner_id = 'rio-tinto' and source = 'sec' "
        "and outcome <> 'skipped'",
    )
    assert sec_rows == [(0,)]  # nothing fetched for an unpicked CIK


def test_given_ids_win_over_search(run: dict[str, Any]) -> None:
    rows = _query(
        run,
        "select scheme, value, status from marts.partner_identifiers where partner_id = 'shell'",
    )
    assert sorted(rows) == [
        ("cik", "0001306965", "given"),
        ("lei", "21380068P1DRHMJ8KU70", "given"),
    ]
    searches = _query(
        run,
        "select count(*) from ops.fetch_log where partner_id = 'shell' and source = 'resolution'",
    )
    assert searches == [(0,)]


def test_alias_on_a_real_sdn_entry_is_a_hit_and_a_clean_partner_is_not(
    run: dict[str, Any],
) -> None:
    hits = _query(
        run,
        "select list, entry_id, listed_name, matched_name, name_type, score, matched_fields, "
        "list_published from marts.partner_sanctions_hits where partner_id = 'cubana'",
    )
    assert [h[:7] for h in hits] == [
        (
            "OFAC_SDN",
            "735",
            "EMPRESA CUBANA DE AVIACION",
            "CUBANA AIRLINES",
            "aka",
            100.0,
            "registry_name",
        )
    ]
    assert str(hits[0][7])[:10] == "2021-04-01"
    clean = _query(
        run,
        "select partner_id, sanctions_hit_count from marts.partner_diligence_summary "
        "where partner_id in ('fraport', 'cubana') order by 1",
    )
    assert clean == [("cubana", 1), ("fraport", 0)]
    lists = _query(
        run,
        "select list_name, count(*), min(list_published) from staging.stg_sanctions__entries "
        "group by 1 order by 1",
    )
    assert [(r[0], r[1], str(r[2])[:10]) for r in lists] == [
        ("OFAC_SDN", 548, "2021-04-01"),
        ("UN_SC", 1093, "2018-10-29"),
    ]


def test_sec_contact_is_required_live_and_a_placeholder_offline(tmp_path: Path) -> None:
    live = load_settings({})
    with pytest.raises(ConfigError, match="PARTNERDD_SEC_CONTACT"):
        sec.preflight(live, {}, False)
    assert float(live.source("sec")["rate_per_second"]) <= 10
    with ReplayServer(SNAPSHOT_DIR) as server:
        settings = load_settings(source_overrides(server.base_url))
        sec.preflight(settings, {}, True)
        response = make_sec_client(settings).submissions("1640147")
    assert response.status == 200
    agent = server.requests[-1]["headers"]["User-Agent"]
    assert agent == "partnerdd/0.1 (offline replay, no contact)"
