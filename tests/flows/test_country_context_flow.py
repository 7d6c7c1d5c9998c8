"""Country context end to end: the real CPI, Hofstede and Heritage files served on loopback
(the offline demo's bundled copies), through the Prefect flow, into country_indices,
coverage, distances and partner_profile."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

import duckdb
import pytest


@pytest.fixture(scope="module")
def context_db(demo_state: dict[str, Any]) -> Path:
    """The session's offline demo refresh (read-only), which serves the three publishers'
    files bundled verbatim in demo/snapshot/indices (the same bytes as tests/fixtures/indices)."""
    summary = demo_state["summary"]
    assert summary["status"] in ("ok", "ok_with_warnings"), summary
    return Path(demo_state["db"])


def _one(db: Path, sql: str, params: list[Any] | None = None) -> Any:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params or []).fetchone()


def test_published_values_survive_the_pipeline(context_db: Path) -> None:
    value_sql = (
        "select value, year from marts.country_indices "
        "where iso3 = ? and index_name = ? and dimension = ? order by year desc limit 1"
    )
    assert _one(context_db, value_sql, ["DNK", "cpi", "score"]) == (90.0, 2024)
    assert _one(context_db, value_sql, ["DEU", "cpi", "score"]) == (75.0, 2024)
    assert _one(context_db, value_sql, ["DEU", "hofstede", "pdi"]) == (35.0, 2015)
    assert _one(context_db, value_sql, ["JPN", "hofstede", "mas"]) == (95.0, 2015)
    deu_rl = _one(context_db, value_sql, ["DEU", "wgi", "rl"])
    assert deu_rl[0] == pytest.approx(1.5512078, abs=1e-6) and deu_rl[1] == 2023


def test_kogut_singh_matches_a_hand_computation(context_db: Path) -> None:
    with duckdb.connect(str(context_db), read_only=True) as con:
        rows = con.execute(
            "select iso3, dimension, value from marts.country_indices "
            "where index_name = 'hofstede' and dimension in ('pdi', 'idv', 'mas', 'uai')"
        ).fetchall()
        (flow_value, dims_used) = con.execute(
            "select value, dims_used from marts.country_distance "
            "where home_iso3 = 'DEU' and partner_iso3 = 'JPN' and measure = 'kogut_singh_4d'"
        ).fetchone()
    scores: dict[str, dict[str, float]] = {}
    for iso3, dimension, value in rows:
        scores.setdefault(dimension, {})[iso3] = value
    # KS = 1/4 * sum_d (I_d,JPN - I_d,DEU)^2 / V_d, V_d the sample variance over countries
    by_hand = (
        sum(
            (scores[d]["JPN"] - scores[d]["DEU"]) ** 2 / statistics.variance(scores[d].values())
            for d in ("pdi", "idv", "mas", "uai")
        )
        / 4
    )
    assert dims_used == 4
    assert flow_value == pytest.approx(by_hand, rel=1e-9)


def test_partner_profile_gains_country_context(context_db: Path) -> None:
    row = _one(
        context_db,
        "select home_country, cpi_score, cpi_year, ip_protection, cultural_distance_ks4, "
        "cultural_distance_ks6, institutional_distance_euclidean, "
        "institutional_distance_mahalanobis, ip_protection_gap "
        "from marts.partner_profile where partner_id = 'toyota'",
    )
    home, cpi, cpi_year, ip, ks4, ks6, euclid, maha, ip_gap = row
    assert home == "DEU" and cpi_year == 2024 and cpi > 0
    assert 0 < ip <= 10
    assert ks4 > 0 and ks6 > 0 and euclid > 0 and maha > 0
    assert ip_gap is not None
    same_country = _one(
        context_db,
        "select cultural_distance_ks4, institutional_distance_euclidean "
        "from marts.partner_profile where partner_id = 'sap'",
    )
    assert same_country == (0.0, 0.0)  # SAP is in the home country


def test_coverage_has_every_index_or_a_visible_gap(context_db: Path) -> None:
    with duckdb.connect(str(context_db), read_only=True) as con:
        rows = con.execute(
            "select iso3, index_name, coverage, gap_reason from marts.country_coverage"
        ).fetchall()
        partner_countries = {
            r[0] for r in con.execute("select country from marts.partner_profile").fetchall()
        }
    assert {r[0] for r in rows} == partner_countries
    for iso3, index_name, coverage, reason in rows:
        assert coverage in ("present", "partial", "missing")
        assert (coverage == "present") == (reason is None), (iso3, index_name)
    present = {(r[0], r[1]) for r in rows if r[2] == "present"}
    assert ("DEU", "hofstede") in present and ("IND", "cpi") in present


def test_aggregates_and_text_cells_are_reported_not_dropped(context_db: Path) -> None:
    with duckdb.connect(str(context_db), read_only=True) as con:
        issues = con.execute(
            "select source, issue_kind, raw_country from staging.stg_indices__issues"
        ).fetchall()
    assert ("hofstede", "unmapped", "Africa East") in issues
    assert any(kind == "rejected" and src == "heritage" for src, kind, _ in issues)
