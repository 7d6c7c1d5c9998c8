"""Fit scores on small real DuckDB warehouses: direction of change, unknowns, red flags, tiers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from connectors.config import ConfigError
from flows.fit.config import load_fit_config
from tests.fit.warehouse import empty_warehouse, partner, put, score

AT = datetime(2026, 1, 5, tzinfo=UTC)
HOFSTEDE_URL = "http://127.0.0.1/indices/hofstede.csv"
WGI_URL = "http://127.0.0.1/worldbank/wgi.xlsx"


@pytest.fixture
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = empty_warehouse(tmp_path / "fit.duckdb")
    yield connection
    connection.close()


def _country(con: duckdb.DuckDBPyConnection, iso3: str, ks: float, rl: float) -> None:
    """Country context as the marts hold it: a KS distance from home and a WGI value."""
    for measure in ("kogut_singh_4d", "kogut_singh_6d"):
        put(
            con,
            "marts.country_distance",
            {
                "home_iso3": "DEU",
                "partner_iso3": iso3,
                "measure": measure,
                "value": ks,
                "dims_used": 4,
            },
        )
    put(
        con,
        "marts.country_distance",
        {
            "home_iso3": "DEU",
            "partner_iso3": iso3,
            "measure": "institutional_euclidean",
            "value": 1.0,
            "dims_used": 6,
        },
    )
    put(
        con,
        "marts.country_profile",
        {
            "iso3": iso3,
            "index_name": "hofstede",
            "dimension": "pdi",
            "year": 2015,
            "value": 50.0,
            "source_url": HOFSTEDE_URL,
            "fetched_at": AT,
        },
        {
            "iso3": iso3,
            "index_name": "wgi",
            "dimension": "rl",
            "year": 2023,
            "value": rl,
            "source_url": WGI_URL,
            "fetched_at": AT,
        },
    )


def _screened(con: duckdb.DuckDBPyConnection) -> None:
    put(
        con,
        "staging.stg_sanctions__entries",
        {
            "list_name": "OFAC_SDN",
            "entry_id": "1",
            "list_published": datetime(2021, 4, 1).date(),
            "source_url": "http://127.0.0.1/ofac/sdn.csv",
            "fetched_at": AT,
        },
    )


def _hit(con: duckdb.DuckDBPyConnection, partner_id: str, score_: float) -> None:
    put(
        con,
        "marts.partner_sanctions_hits",
        {
            "partner_id": partner_id,
            "hit_key": f"{partner_id}:OFAC_SDN:1",
            "list": "OFAC_SDN",
            "entry_id": "1",
            "listed_name": "ACME TRADING",
            "matched_name": "Acme",
            "score": score_,
            "threshold": 90.0,
            "source_url": "http://127.0.0.1/ofac/sdn.csv",
        },
    )


def _evidence(evidence, partner_id: str, feature: str) -> dict:  # type: ignore[no-untyped-def]
    rows = evidence[(evidence.partner_id == partner_id) & (evidence.feature == feature)]
    assert len(rows) == 1, rows
    return rows.iloc[0].to_dict()


def test_partner_with_no_data_has_coverage_zero_and_no_middle_score(
    con: duckdb.DuckDBPyConnection,
) -> None:
    partner(con, "ghost", "ATA")
    fit, evidence = score(con)
    ghost = fit["ghost"]
    assert ghost["coverage"] == 0.0
    assert ghost["tier"] == "insufficient data"
    for column in ("overall_score", "skills_score", "cultures_score", "aims_score", "risk_score"):
        assert ghost[column] != ghost[column]  # NaN from a NULL: unknown, not 50
    assert set(evidence["status"]) == {"missing"}
    assert evidence["explanation"].str.startswith("Unknown: ").all()
    assert ghost["inputs_used"] == 0 and ghost["inputs_missing"] == len(evidence)


def test_smaller_cultural_distance_raises_cooperative_cultures(
    con: duckdb.DuckDBPyConnection,
) -> None:
    partner(con, "near", "NLD")
    partner(con, "far", "JPN")
    _country(con, "NLD", ks=0.5, rl=1.5)
    _country(con, "JPN", ks=3.0, rl=1.5)
    fit, evidence = score(con)
    assert fit["near"]["cultures_score"] > fit["far"]["cultures_score"]
    near = _evidence(evidence, "near", "cultural_distance_ks6")
    assert near["status"] == "used" and near["raw_number"] == 0.5
    assert near["score"] == pytest.approx(87.5)  # 4 -> 0, 0 -> 100
    assert near["source_table"] == "marts.country_distance" and near["source_url"] == HOFSTEDE_URL
    assert near["source_key"] == "DEU:NLD:kogut_singh_6d"
    assert "0.50" in near["explanation"]


def test_sanctions_candidate_lowers_risk_and_holds_for_review(
    con: duckdb.DuckDBPyConnection,
) -> None:
    _screened(con)
    partner(con, "acme", "NLD", sanctions_hit_count=0)
    _country(con, "NLD", ks=0.5, rl=1.5)
    clear, _ = score(con)
    con.execute("update marts.partner_profile set sanctions_hit_count = 1")
    _hit(con, "acme", 95.0)
    hit, evidence = score(con)
    assert hit["acme"]["risk_score"] < clear["acme"]["risk_score"]
    assert clear["acme"]["tier"] != "review before contact"
    assert hit["acme"]["tier"] == "review before contact"
    assert hit["acme"]["red_flags"] == "sanctions_candidate"
    flag = _evidence(evidence, "acme", "sanctions_candidate")
    assert flag["status"] == "red_flag" and flag["source_key"] == "acme:OFAC_SDN:1"
    assert "ACME TRADING" in flag["explanation"]
    assert hit["acme"]["what_would_change"].startswith("red flag")


def test_candidate_below_the_configured_threshold_is_not_a_red_flag(
    con: duckdb.DuckDBPyConnection,
) -> None:
    _screened(con)
    partner(con, "acme", "NLD", sanctions_hit_count=1)
    _hit(con, "acme", 95.0)
    fit, _ = score(con, env={"PARTNERDD_SANCTIONS_THRESHOLD": "97"})
    assert fit["acme"]["red_flags"] is None


def test_missing_inputs_are_listed_not_imputed(con: duckdb.DuckDBPyConnection) -> None:
    partner(con, "acme", "NLD")
    _country(con, "NLD", ks=2.0, rl=0.25)  # rule of law scores 50 on -1..1.5
    fit, evidence = score(con)
    rule = _evidence(evidence, "acme", "rule_of_law")
    assert rule["score"] == pytest.approx(50.0)
    config = load_fit_config()
    # risk has one input with data: the sub-score is its score, coverage its weight share
    assert fit["acme"]["risk_score"] == pytest.approx(50.0)
    risk_weight = sum(f.weight for f in config.features["risk"].values())
    assert fit["acme"]["risk_coverage"] == pytest.approx(
        config.feature("risk", "rule_of_law").weight / risk_weight, abs=1e-4
    )
    missing = _evidence(evidence, "acme", "ip_protection")
    assert missing["status"] == "missing" and missing["score"] != missing["score"]
    assert "risk: IP protection" in fit["acme"]["missing_inputs"]
    # what would change: the missing input could move the overall either way
    assert missing["overall_if_low"] < fit["acme"]["overall_score"] < missing["overall_if_high"]


def test_lapsed_lei_is_a_red_flag_and_low_coverage_is_insufficient(
    con: duckdb.DuckDBPyConnection,
) -> None:
    partner(con, "lapsed", "NLD", lei="335800CCCPHKUOXPC332")
    partner(con, "thin", "NLD")
    put(
        con,
        "staging.stg_gleif__lei_records",
        {
            "lei": "335800CCCPHKUOXPC332",
            "registration_status": "LAPSED",
            "entity_status": "ACTIVE",
            "legal_name_language": "en",
            "hq_address_country": "NL",
            "source_url": "http://127.0.0.1/gleif/x",
            "fetched_at": AT,
        },
    )
    _country(con, "NLD", ks=0.1, rl=1.5)
    fit, evidence = score(con)
    assert fit["lapsed"]["tier"] == "review before contact"
    assert "lei_lapsed" in fit["lapsed"]["red_flags"]
    assert _evidence(evidence, "lapsed", "lei_registration")["score"] == 0.0
    # "thin" has excellent country inputs but too few of them: not a tier from its score
    assert fit["thin"]["overall_score"] > 70
    assert fit["thin"]["coverage"] < load_fit_config().coverage_minimum
    assert fit["thin"]["tier"] == "insufficient data"
    assert fit["thin"]["rank"] > fit["lapsed"]["rank"]  # insufficient data ranks last


def test_complementary_skills_reward_a_gap_we_seek_and_penalise_overlap(
    con: duckdb.DuckDBPyConnection,
) -> None:
    partner(con, "maker", "NLD", cik="0000000001")
    partner(con, "coder", "NLD", cik="0000000002")
    put(
        con,
        "staging.stg_sec__companies",
        {
            "cik": "0000000001",
            "sic": "3711",
            "sic_description": "Motor Vehicles",
            "filer_category": "Large accelerated filer",
            "country": "JPN",
            "source_url": "http://127.0.0.1/sec/1",
            "fetched_at": AT,
        },
        {
            "cik": "0000000002",
            "sic": "7372",
            "sic_description": "Prepackaged Software",
            "filer_category": "Accelerated filer",
            "country": "USA",
            "source_url": "http://127.0.0.1/sec/2",
            "fetched_at": AT,
        },
    )
    fit, evidence = score(con)
    assert fit["maker"]["skills_score"] > fit["coder"]["skills_score"]
    seek = _evidence(evidence, "maker", "seek_match")
    assert seek["raw_number"] == 0.5 and seek["score"] == 100.0  # manufacturing: 1 of 2 sought
    assert "SEC SIC 3711" in seek["explanation"]
    assert _evidence(evidence, "coder", "have_overlap")["score"] == 0.0
    # aims: Japan is in the home's target region (Asia), the USA is not; size classes
    assert _evidence(evidence, "maker", "home_market_in_target_region")["score"] == 100.0
    assert _evidence(evidence, "coder", "home_market_in_target_region")["score"] == 0.0
    assert _evidence(evidence, "coder", "size_symmetry_class")["score"] == 100.0  # mid = mid


def test_revenue_feeds_size_symmetry_size_and_trend(con: duckdb.DuckDBPyConnection) -> None:
    partner(con, "grower", "USA")
    put(
        con,
        "marts.partner_financials",
        *(
            {
                "partner_id": "grower",
                "metric": "revenue",
                "fiscal_year": year,
                "value": value,
                "unit": "USD",
                "financial_key": f"grower:revenue:{year}",
                "source_url": "http://127.0.0.1/sec/facts",
                "fetched_at": AT,
            }
            for year, value in ((2022, 100e6), (2023, 110e6), (2024, 121e6))
        ),
    )
    _, evidence = score(con)
    trend = _evidence(evidence, "grower", "financial_trend")
    assert trend["raw_number"] == pytest.approx(0.10, abs=1e-4) and trend["score"] == pytest.approx(
        100.0
    )
    symmetry = _evidence(evidence, "grower", "size_symmetry_revenue")
    assert symmetry["raw_number"] == pytest.approx(0.0828, abs=1e-3)  # log10(121/100)
    assert symmetry["source_key"] == "grower:revenue:2024"


def test_score_rows_cite_their_source(con: duckdb.DuckDBPyConnection) -> None:
    partner(con, "acme", "NLD")
    _country(con, "NLD", ks=1.0, rl=1.0)
    _, evidence = score(con)
    used = evidence[evidence.status == "used"]
    assert len(used) > 0
    assert used["source_table"].notna().all() and used["source_key"].notna().all()
    assert used["source_url"].notna().all() and used["fetched_at"].notna().all()


def test_fit_config_errors_are_clear(tmp_path: Path) -> None:
    bad = tmp_path / "fit.toml"
    head = "[cs]\nskills = 1.0\n[[tiers]]\nname='x'\nmin_score=0\n[features.skills.seek_match]\n"
    bad.write_text(head + "low=0\nhigh=1\n")
    with pytest.raises(ConfigError, match="numeric weight"):
        load_fit_config(bad)
    bad.write_text(head + "weight=1\nlow=1\nhigh=1\n")
    with pytest.raises(ConfigError, match="low/high"):
        load_fit_config(bad)


def test_normalisation_is_linear_clipped_inverted_or_log() -> None:
    config = load_fit_config()
    ks = config.feature("cultures", "cultural_distance_ks6")  # 4 -> 0, 0 -> 100
    assert ks.normalise(0.0) == 100.0 and ks.normalise(2.0) == 50.0 and ks.normalise(9.0) == 0.0
    staff = config.feature("skills", "staff_resources")  # log10 10 -> 0, 10000 -> 100
    assert staff.normalise(1000) == pytest.approx(66.67, abs=0.01)
    assert staff.normalise(1) == 0.0 and staff.normalise(10**6) == 100.0


def test_a_c_without_any_input_means_insufficient_data(con: duckdb.DuckDBPyConnection) -> None:
    partner(con, "acme", "NLD", lei="5299001ERX0K10IZUL40", sanctions_hit_count=0)
    _screened(con)
    put(
        con,
        "staging.stg_gleif__lei_records",
        {
            "lei": "5299001ERX0K10IZUL40",
            "registration_status": "ISSUED",
            "entity_status": "ACTIVE",
            "legal_name_language": "de",
            "hq_address_country": "NL",
            "source_url": "http://127.0.0.1/gleif/x",
            "fetched_at": AT,
        },
    )
    _country(con, "NLD", ks=0.1, rl=1.5)
    put(
        con,
        "marts.country_profile",
        *(
            {
                "iso3": "NLD",
                "index_name": index,
                "dimension": dim,
                "year": 2024,
                "value": value,
                "source_url": WGI_URL,
                "fetched_at": AT,
            }
            for index, dim, value in (
                ("wgi", "cc", 1.8),
                ("cpi", "score", 78.0),
                ("ip_protection", "score", 8.8),
            )
        ),
    )
    fit, _ = score(con)
    acme = fit["acme"]
    assert acme["coverage"] >= load_fit_config().coverage_minimum
    assert acme["skills_coverage"] == 0.0
    assert acme["tier"] == "insufficient data"
    assert acme["tier_reason"] == "no input at all for complementary skills"


FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "gleif"
FRAPORT = "5299001ERX0K10IZUL40"
PUMA = "529900GRZ2BQY5ZM9N49"


def _gleif_partner(con: duckdb.DuckDBPyConnection, partner_id: str, lei: str) -> None:
    """A partner whose GLEIF record is the real one in multi_lei_records.json (parsed by the
    connector's parser) and whose direct children are the real children page, if saved."""
    from connectors.gleif.ownership import parse_direct_children
    from connectors.gleif.parse import parse_lei_records

    partner(con, partner_id, "DEU", lei=lei, sanctions_hit_count=0)
    record = next(
        r
        for r in parse_lei_records((FIXTURES / "multi_lei_records.json").read_bytes())
        if r["lei"] == lei
    )
    url = f"http://127.0.0.1/gleif/lei-records/{lei}"
    keep = ("lei", "legal_name", "legal_name_language", "entity_category", "entity_status")
    put(
        con,
        "staging.stg_gleif__lei_records",
        {
            **{k: record[k] for k in keep},
            "registration_status": record["registration_status"],
            "hq_address_country": record["hq_address_country"],
            "source_url": url,
            "fetched_at": AT,
        },
    )
    children = FIXTURES / f"direct-children_{lei}.json"
    if children.exists():
        rows = parse_direct_children(children.read_bytes(), lei, f"{url}/direct-children")
        put(
            con,
            "marts.partner_ownership",
            *(
                {
                    "partner_id": partner_id,
                    "lei": lei,
                    "relation": "direct_child",
                    "parent_lei": lei,
                    "child_lei": r["child_lei"],
                    "child_name": r["child_name"],
                    "child_country": r["child_country"],
                    "ownership_key": f"{partner_id}:direct_child:{r['child_lei']}",
                    "source_url": r["source_url"],
                    "fetched_at": AT,
                }
                for r in rows
            ),
        )


def test_gleif_legal_names_give_skills_evidence_on_the_real_fraport_payloads(
    con: duckdb.DuckDBPyConnection,
) -> None:
    _gleif_partner(con, "fraport", FRAPORT)
    _gleif_partner(con, "puma", PUMA)
    fit, evidence = score(con)
    named = _evidence(evidence, "fraport", "named_business_lines")
    # "Fraport AG Frankfurt Airport Services Worldwide" and its child "Lima Airport Partners
    # S.R.L." name an airport operator: logistics, 1 of the 2 capabilities the test home seeks
    assert named["status"] == "used"
    assert named["raw_number"] == 0.5 and named["score"] == 100.0
    assert named["source_table"] == "staging.stg_gleif__lei_records; marts.partner_ownership"
    assert named["source_key"] == f"{FRAPORT}; fraport:direct_child:254900RX3NW13DDG3905"
    assert named["source_url"] == f"http://127.0.0.1/gleif/lei-records/{FRAPORT}"
    assert "'Lima Airport Partners S.R.L.'" in named["explanation"]
    assert "FRAPORT MALTA BUSINESS SERVICES" not in named["explanation"]  # names nothing
    weight = load_fit_config().feature("skills", "named_business_lines").weight
    assert fit["fraport"]["skills_coverage"] == pytest.approx(
        weight / sum(f.weight for f in load_fit_config().features["skills"].values()), abs=1e-4
    )
    # "PUMA SE" names no line of business: unknown, not a zero, and skills stay without input
    puma = _evidence(evidence, "puma", "named_business_lines")
    assert puma["status"] == "missing" and "none of the 1 GLEIF legal name" in puma["explanation"]
    assert fit["puma"]["skills_coverage"] == 0.0
    assert fit["puma"]["tier"] == "insufficient data"


def test_name_rules_match_whole_words_without_case_or_accents() -> None:
    config = load_fit_config()
    hits = config.named_capabilities("Flughafen München GmbH")
    assert [(c, w) for c, w, _ in hits] == [("logistics", "Flughafen")]
    assert config.named_capabilities("MICROSOFT DATACENTER (AUSTRALIA) PTY LIMITED")[0][0] == (
        "cloud_hosting"
    )
    assert config.named_capabilities("Airportal Software Ltd")[0][:2] == (
        "software_development",
        "Software",
    )  # "Airportal" is not "airport"
    assert config.named_capabilities("PUMA SE") == []


def test_name_rules_need_words_and_capabilities(tmp_path: Path) -> None:
    bad = tmp_path / "fit.toml"
    bad.write_text(
        "[cs]\nskills = 1.0\n[[tiers]]\nname='x'\nmin_score=0\n"
        "[features.skills.seek_match]\nweight=1\nlow=0\nhigh=1\n"
        "[[skills.names]]\nwords = []\ncapabilities = ['logistics']\n"
    )
    with pytest.raises(ConfigError, match=r"\[\[skills.names\]\] needs `words`"):
        load_fit_config(bad)
