"""Cultural, institutional and IP distances (connectors/indices/distance.py)."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest
from scipy.spatial import distance as scipy_distance

from connectors.indices.cpi import parse_cpi
from connectors.indices.distance import (
    MEASURES,
    country_distances,
    covariance_matrix,
    dimension_variances,
    index_table,
    institutional_euclidean,
    institutional_mahalanobis,
    ip_protection_gap,
    kogut_singh,
    kogut_singh_6d,
    rows_from_wgi,
    standard_deviations,
)
from connectors.indices.heritage import ip_protection_rows, parse_heritage
from connectors.indices.hofstede import parse_hofstede

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "indices"
HOFSTEDE_CSV = FIXTURES / "6-dimensions-for-website-2015-08-16.csv"
HERITAGE = FIXTURES / "heritage_economic_freedom_index2019_data.csv"
NOT_COUNTRIES = {
    "Africa East",
    "Africa West",
    "Arab countries",
    "Belgium French",
    "Belgium Netherl",
    "Canada French",
    "Germany East",
    "South Africa white",
    "Switzerland French",
    "Switzerland German",
}


@pytest.fixture(scope="module")
def hofstede_rows() -> list[dict]:
    return parse_hofstede(HOFSTEDE_CSV.read_bytes(), "u").rows


def test_variance_convention_sample_by_default_population_on_request() -> None:
    table = {
        "AAA": {"x": 1.0},
        "BBB": {"x": 2.0},
        "CCC": {"x": 3.0},
        "DDD": {"x": 4.0},
        "EEE": {"y": 7.0},
    }
    assert dimension_variances(table)["x"] == pytest.approx(5 / 3)  # sum sq dev 5, n-1 = 3
    assert dimension_variances(table, ddof=0)["x"] == pytest.approx(5 / 4)
    assert "y" not in dimension_variances(table)  # one country: sample variance undefined
    assert dimension_variances(table, ddof=0)["y"] == 0.0


def test_file_sums_used_below_are_the_files() -> None:
    """The n, sum and sum of squares written out in the KS test, recounted with csv only."""
    lines = HOFSTEDE_CSV.read_text(encoding="utf-8").splitlines()
    rows = [r for r in csv.DictReader(lines, delimiter=";") if r["country"] not in NOT_COUNTRIES]
    stats = {}
    for dim in ("pdi", "idv", "mas", "uai"):
        xs = [int(r[dim]) for r in rows if r[dim] != "#NULL!"]
        stats[dim] = (len(xs), sum(xs), sum(x * x for x in xs))
    assert stats == {
        "pdi": (69, 4080, 273750),
        "idv": (69, 3017, 171117),
        "mas": (69, 3362, 190564),
        "uai": (69, 4677, 355243),
    }


def test_kogut_singh_germany_japan_by_hand(hofstede_rows: list[dict]) -> None:
    # Sample variance over the 69 countries with the four original dimensions:
    # V = (sum x^2 - (sum x)^2 / n) / (n - 1)
    v_pdi = (273750 - 4080**2 / 69) / 68  # = 477.909...
    v_idv = (171117 - 3017**2 / 69) / 68  # = 576.467...
    v_mas = (190564 - 3362**2 / 69) / 68  # = 393.408...
    v_uai = (355243 - 4677**2 / 69) / 68  # = 562.114...
    # Germany (pdi 35, idv 67, mas 66, uai 65), Japan (54, 46, 95, 92):
    ks = (
        (54 - 35) ** 2 / v_pdi  # 361 / 477.909 = 0.7554
        + (46 - 67) ** 2 / v_idv  # 441 / 576.467 = 0.7650
        + (95 - 66) ** 2 / v_mas  # 841 / 393.408 = 2.1377
        + (92 - 65) ** 2 / v_uai  # 729 / 562.114 = 1.2969
    ) / 4  # = 4.9550 / 4
    assert ks == pytest.approx(1.23875, abs=1e-5)

    variances = dimension_variances(hofstede_rows)
    assert variances["pdi"] == pytest.approx(v_pdi)
    assert variances["uai"] == pytest.approx(v_uai)
    table = index_table(hofstede_rows, "hofstede")
    value, used = kogut_singh(table["DEU"], table["JPN"], variances)
    assert used == 4
    assert value == pytest.approx(ks, rel=1e-12)
    # symmetric, zero against itself
    assert kogut_singh(table["JPN"], table["DEU"], variances)[0] == pytest.approx(ks)
    assert kogut_singh(table["DEU"], table["DEU"], variances) == (0.0, 4)


def test_kogut_singh_six_dimensions_and_partial_data(hofstede_rows: list[dict]) -> None:
    table = index_table(hofstede_rows, "hofstede")
    variances = dimension_variances(hofstede_rows)
    value, used = kogut_singh_6d(table["DEU"], table["JPN"], variances)
    # adds ltowvs (88 - 83)^2 / V_ltowvs and ivr (42 - 40)^2 / V_ivr
    by_hand = (4 * 1.23875 + 25 / variances["ltowvs"] + 4 / variances["ivr"]) / 6
    assert used == 6 and value == pytest.approx(by_hand, abs=1e-5)
    # Albania has only ltowvs and ivr: no 4-D value, a 2-dimension 6-D value
    assert kogut_singh(table["DEU"], table["ALB"], variances) == (None, 0)
    assert kogut_singh_6d(table["DEU"], table["ALB"], variances)[1] == 2


def test_mahalanobis_equals_euclidean_for_identity_covariance() -> None:
    dims = ("va", "pv", "ge", "rq", "rl", "cc")
    home = dict(zip(dims, (1.2, 0.5, 1.6, 1.8, 1.5, 1.9), strict=True))
    partner = dict(zip(dims, (-0.3, -0.9, 0.1, -0.2, -0.4, -0.5), strict=True))
    plain = math.dist([home[d] for d in dims], [partner[d] for d in dims])
    value, used = institutional_mahalanobis(home, partner, np.eye(6), dims)
    assert used == 6 and value == pytest.approx(plain)
    # with unit standard deviations the z-score Euclidean is the plain one too
    assert institutional_euclidean(home, partner, dict.fromkeys(dims, 1.0), dims) == (
        pytest.approx(plain),
        6,
    )
    # diagonal covariance = z-score Euclidean with those variances
    variances = np.array([0.25, 4.0, 1.0, 2.0, 0.5, 9.0])
    diag_value, _ = institutional_mahalanobis(home, partner, np.diag(variances), dims)
    sds = {d: math.sqrt(v) for d, v in zip(dims, variances, strict=True)}
    assert diag_value == pytest.approx(institutional_euclidean(home, partner, sds, dims)[0])


def test_mahalanobis_on_real_scores_is_finite_and_matches_scipy() -> None:
    dims = (
        "property_rights",
        "judicial_effectiveness",
        "government_integrity",
        "business_freedom",
        "trade_freedom",
        "financial_freedom",
    )
    rows = parse_heritage(HERITAGE.read_bytes(), "u").rows
    table = index_table(rows, "heritage", dims=dims)
    cov, cov_dims, n = covariance_matrix(table, dims)
    assert n > 150 and cov.shape == (6, 6)
    value, used = institutional_mahalanobis(table["DEU"], table["JPN"], cov, cov_dims)
    assert used == 6 and value is not None and math.isfinite(value) and value > 0
    u = [table["DEU"][d] for d in dims]
    v = [table["JPN"][d] for d in dims]
    assert value == pytest.approx(scipy_distance.mahalanobis(u, v, np.linalg.inv(cov)))
    euclid, used_e = institutional_euclidean(
        table["DEU"], table["JPN"], standard_deviations(table, dims), dims
    )
    assert used_e == 6 and euclid is not None and math.isfinite(euclid)


def test_mahalanobis_singular_covariance_uses_pseudo_inverse() -> None:
    # "b" is exactly 2 * "a": the covariance is singular, inv() would fail
    table = {f"C{i}": {"a": float(i), "b": 2.0 * i, "c": float(i % 3)} for i in range(10)}
    cov, dims, _ = covariance_matrix(table, ("a", "b", "c"))
    assert np.linalg.matrix_rank(cov) == 2
    value, used = institutional_mahalanobis(table["C1"], table["C7"], cov, dims)
    assert used == 3 and value is not None and math.isfinite(value) and value > 0


def test_missing_dimensions_reduce_dims_used_never_invent() -> None:
    dims = ("va", "pv", "ge")
    cov = np.eye(3)
    assert institutional_mahalanobis({"va": 1.0}, {"pv": 1.0}, cov, dims) == (None, 0)
    value, used = institutional_mahalanobis(
        {"va": 1.0, "ge": 0.0}, {"va": 0.0, "ge": 0.0}, cov, dims
    )
    assert (value, used) == (pytest.approx(1.0), 2)
    assert institutional_euclidean({}, {"va": 1.0}, {"va": 1.0}, dims) == (None, 0)


def test_ip_protection_gap_is_partner_minus_home() -> None:
    assert ip_protection_gap(7.9, 4.5) == (pytest.approx(-3.4), 1)
    assert ip_protection_gap(None, 4.5) == (None, 0)


def shaped_wgi_rows() -> list[dict]:
    """SHAPED rows in the World Bank connector's long layout (values made up)."""
    base = {"DEU": 1.3, "JPN": 1.2, "USA": 0.9, "FRA": 1.0, "IND": -0.1, "BRA": -0.3}
    rows = []
    for k, (iso3, level) in enumerate(base.items()):
        for j, indicator in enumerate(("va", "pv", "ge", "rq", "rl", "cc")):
            rows.append(
                {
                    "iso3": iso3,
                    "indicator": indicator,
                    "year": 2022,
                    "estimate": level + 0.1 * ((j * 7 + k * 3) % 5),
                    "stddev": 0.2,
                }
            )
            rows.append(
                {"iso3": iso3, "indicator": indicator, "year": 2021, "estimate": 9.9, "stddev": 0.2}
            )  # older year: never used
    return rows


def test_country_distances_all_measures_and_gaps() -> None:
    rows = (
        parse_hofstede(HOFSTEDE_CSV.read_bytes(), "u").rows
        + ip_protection_rows(parse_heritage(HERITAGE.read_bytes(), "u").rows)
        + parse_cpi((FIXTURES / "CPI2024_GlobalResultsTrends.csv").read_bytes(), "u").rows
        + rows_from_wgi(shaped_wgi_rows())
    )
    out = country_distances("deu", ["JPN", "ATA"], rows)
    assert len(out) == 2 * len(MEASURES)
    assert set(out[0]) == {
        "home_iso3",
        "partner_iso3",
        "measure",
        "value",
        "dims_used",
        "dimensions",
        "reason",
    }
    jpn = {r["measure"]: r for r in out if r["partner_iso3"] == "JPN"}
    assert jpn["kogut_singh_4d"]["value"] == pytest.approx(1.23875, abs=1e-5)
    assert jpn["kogut_singh_4d"]["dimensions"] == "pdi,idv,mas,uai"
    assert jpn["kogut_singh_6d"]["dims_used"] == 6
    assert jpn["institutional_euclidean"]["dims_used"] == 6
    assert jpn["institutional_mahalanobis"]["dims_used"] == 6
    assert math.isfinite(jpn["institutional_mahalanobis"]["value"])
    assert jpn["cpi_gap"]["value"] == 71 - 75  # CPI 2024: Japan 71, Germany 75
    heritage = {
        r["iso3"]: r["value"]
        for r in ip_protection_rows(parse_heritage(HERITAGE.read_bytes(), "u").rows)
    }
    assert jpn["ip_protection_gap"]["value"] == pytest.approx(heritage["JPN"] - heritage["DEU"])
    assert all(r["reason"] is None for r in jpn.values())
    # Antarctica is in no index: every measure is skipped with a reason, none invented
    ata = [r for r in out if r["partner_iso3"] == "ATA"]
    assert all(r["value"] is None and r["dims_used"] == 0 for r in ata)
    assert all(r["reason"] == "no data for ATA" for r in ata)


def test_latest_year_at_or_before_the_requested_year() -> None:
    rows = [
        {"iso3": "DEU", "index": "cpi", "dimension": "score", "year": y, "value": v}
        for y, v in ((2022, 79.0), (2023, 78.0), (2024, 75.0))
    ]
    assert index_table(rows, "cpi")["DEU"]["score"] == 75.0
    assert index_table(rows, "cpi", year=2023)["DEU"]["score"] == 78.0


def test_mahalanobis_without_enough_countries_says_why() -> None:
    rows = rows_from_wgi(
        [{"iso3": "DEU", "indicator": d, "year": 2022, "estimate": 1.0} for d in ("va", "pv")]
        + [{"iso3": "JPN", "indicator": d, "year": 2022, "estimate": 0.5} for d in ("va", "pv")]
    )
    out = {r["measure"]: r for r in country_distances("DEU", ["JPN"], rows)}
    assert out["institutional_mahalanobis"]["value"] is None
    assert out["institutional_mahalanobis"]["reason"].startswith("covariance undefined")
    assert out["institutional_euclidean"]["dims_used"] == 2
    assert out["kogut_singh_4d"]["reason"] == "no data for DEU, JPN"
