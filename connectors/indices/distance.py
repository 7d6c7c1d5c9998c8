"""Cultural, institutional and IP-protection distances between two countries (pure).

Inputs are generic long rows ``{iso3, index, dimension, year, value}`` (the parsers' rows;
World Bank WGI rows go through :func:`rows_from_wgi`). Every measure returns
``(value, dims_used)``; ``(None, 0)`` when there is nothing to compare, never a guess.

Variance convention: **sample variance (ddof=1)** across the countries that have a value
for the dimension (the usual choice in Kogut-Singh replications, which treat the country
set as a sample); pass ``ddof=0`` for the population variance. Aggregates never enter:
the parsers keep them out of country rows. Standardisation and the covariance for the
Mahalanobis distance use the same convention.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

HOFSTEDE_4D = ("pdi", "idv", "mas", "uai")
HOFSTEDE_6D = ("pdi", "idv", "mas", "uai", "ltowvs", "ivr")
WGI_DIMS = ("va", "pv", "ge", "rq", "rl", "cc")

Measure = tuple[float | None, int]
Table = dict[str, dict[str, float]]


def index_table(
    rows: Iterable[Mapping[str, Any]],
    index: str | None = None,
    *,
    dims: Sequence[str] | None = None,
    year: int | None = None,
) -> Table:
    """iso3 -> {dimension: value}, keeping per (country, dimension) the latest year
    (at or before ``year`` when given). ``index=None`` takes every row."""
    best: dict[tuple[str, str], tuple[int, float]] = {}
    for row in rows:
        if index is not None and row.get("index") != index:
            continue
        dim, value, row_year = row.get("dimension"), row.get("value"), row.get("year")
        if dim is None or value is None or (dims is not None and dim not in dims):
            continue
        y = int(row_year) if row_year is not None else 0
        if year is not None and y > year:
            continue
        key = (str(row["iso3"]), str(dim))
        if key not in best or y > best[key][0]:
            best[key] = (y, float(value))
    table: Table = {}
    for (iso3, dim), (_, value) in best.items():
        table.setdefault(iso3, {})[dim] = value
    return table


def _as_table(data: Iterable[Mapping[str, Any]] | Mapping[str, Mapping[str, float]]) -> Table:
    if isinstance(data, Mapping):
        return {k: dict(v) for k, v in data.items()}
    return index_table(data)


def dimension_variances(
    rows: Iterable[Mapping[str, Any]] | Mapping[str, Mapping[str, float]],
    dims: Sequence[str] | None = None,
    *,
    ddof: int = 1,
) -> dict[str, float]:
    """Variance of each dimension over the countries that have it (sample variance by
    default). Accepts long rows of one index or an iso3 -> {dim: value} table. A dimension
    with fewer than ``ddof + 1`` countries is left out (undefined)."""
    table = _as_table(rows)
    wanted = dims or sorted({d for values in table.values() for d in values})
    out = {}
    for dim in wanted:
        values = [v[dim] for v in table.values() if dim in v]
        if len(values) > ddof:
            out[dim] = float(np.var(np.asarray(values, dtype=float), ddof=ddof))
    return out


def kogut_singh(
    home: Mapping[str, float],
    partner: Mapping[str, float],
    variances: Mapping[str, float],
    dims: Sequence[str] = HOFSTEDE_4D,
) -> Measure:
    """KS = (1/n) * sum_j (I_partner,j - I_home,j)^2 / V_j over the n dims present in
    home, partner and variances (with V_j > 0)."""
    used = [d for d in dims if d in home and d in partner and variances.get(d, 0.0) > 0.0]
    if not used:
        return None, 0
    total = sum((partner[d] - home[d]) ** 2 / variances[d] for d in used)
    return total / len(used), len(used)


def kogut_singh_6d(
    home: Mapping[str, float], partner: Mapping[str, float], variances: Mapping[str, float]
) -> Measure:
    """Kogut-Singh over all six Hofstede dimensions (pdi idv mas uai ltowvs ivr)."""
    return kogut_singh(home, partner, variances, dims=HOFSTEDE_6D)


def standard_deviations(
    rows: Iterable[Mapping[str, Any]] | Mapping[str, Mapping[str, float]],
    dims: Sequence[str] = WGI_DIMS,
    *,
    ddof: int = 1,
) -> dict[str, float]:
    """Standard deviation per dimension across countries (for z-scores)."""
    return {d: math.sqrt(v) for d, v in dimension_variances(rows, dims, ddof=ddof).items()}


def institutional_euclidean(
    home: Mapping[str, float],
    partner: Mapping[str, float],
    std_devs: Mapping[str, float],
    dims: Sequence[str] = WGI_DIMS,
) -> Measure:
    """Euclidean distance between z-scores: sqrt(sum_j ((p_j - h_j) / sd_j)^2).

    The z-score (x - mean_j) / sd_j is taken over the countries present; the mean cancels
    in the difference, so only the standard deviations are needed."""
    used = [d for d in dims if d in home and d in partner and std_devs.get(d, 0.0) > 0.0]
    if not used:
        return None, 0
    return math.sqrt(sum(((partner[d] - home[d]) / std_devs[d]) ** 2 for d in used)), len(used)


def covariance_matrix(
    rows: Iterable[Mapping[str, Any]] | Mapping[str, Mapping[str, float]],
    dims: Sequence[str] = WGI_DIMS,
    *,
    ddof: int = 1,
) -> tuple[np.ndarray, tuple[str, ...], int]:
    """Covariance of the dims across the countries that have all of them (listwise).

    Returns (matrix, dims in matrix order, number of countries used)."""
    table = _as_table(rows)
    complete = [[v[d] for d in dims] for v in table.values() if all(d in v for d in dims)]
    if len(complete) <= ddof:
        raise ValueError(
            f"covariance needs more than {ddof} complete countries, got {len(complete)}"
        )
    matrix = np.atleast_2d(np.cov(np.asarray(complete, dtype=float), rowvar=False, ddof=ddof))
    return matrix, tuple(dims), len(complete)


def institutional_mahalanobis(
    home: Mapping[str, float],
    partner: Mapping[str, float],
    covariance: np.ndarray,
    cov_dims: Sequence[str] = WGI_DIMS,
) -> Measure:
    """sqrt(d' S^+ d) with d = partner - home over the dims both have, S the covariance
    restricted to those dims and S^+ its Moore-Penrose pseudo-inverse (= inverse when S
    is regular, still defined when it is singular)."""
    idx = [i for i, d in enumerate(cov_dims) if d in home and d in partner]
    if not idx:
        return None, 0
    diff = np.asarray([partner[cov_dims[i]] - home[cov_dims[i]] for i in idx], dtype=float)
    sub = np.asarray(covariance, dtype=float)[np.ix_(idx, idx)]
    squared = float(diff @ np.linalg.pinv(sub, hermitian=True) @ diff)
    return math.sqrt(max(squared, 0.0)), len(idx)


def score_gap(home: float | None, partner: float | None) -> Measure:
    """partner - home on the index's own scale; (None, 0) when either is missing."""
    if home is None or partner is None:
        return None, 0
    return float(partner) - float(home), 1


def ip_protection_gap(home: float | None, partner: float | None) -> Measure:
    """IP-protection gap on the 0-10 scale: partner - home (positive = partner protects more)."""
    return score_gap(home, partner)


def rows_from_wgi(
    wgi_rows: Iterable[Mapping[str, Any]],
    *,
    indicator_key: str = "indicator",
    value_key: str = "estimate",
    index: str = "wgi",
) -> list[dict[str, Any]]:
    """Adapt the World Bank connector's long WGI rows (iso3, indicator, year, estimate)
    to generic index rows (index ``wgi``, dimension = indicator code)."""
    out = []
    for row in wgi_rows:
        value = row.get(value_key)
        if value is None or row.get("iso3") is None:
            continue
        out.append(
            {
                "iso3": row["iso3"],
                "index": index,
                "dimension": str(row[indicator_key]),
                "year": row.get("year"),
                "value": float(value),
            }
        )
    return out


MEASURES = (
    "kogut_singh_4d",
    "kogut_singh_6d",
    "institutional_euclidean",
    "institutional_mahalanobis",
    "ip_protection_gap",
    "cpi_gap",
)


def _row(
    home: str,
    partner: str,
    measure: str,
    result: Measure,
    dims: Sequence[str],
    have_home: bool,
    have_partner: bool,
    why: str | None = None,
) -> dict[str, Any]:
    value, used = result
    reason = None
    if value is None and why is not None:
        reason = why
    elif value is None:
        lacking = [c for c, ok in ((home, have_home), (partner, have_partner)) if not ok]
        reason = (
            f"no data for {', '.join(lacking)}"
            if lacking
            else "no dimension present for both countries"
        )
    return {
        "home_iso3": home,
        "partner_iso3": partner,
        "measure": measure,
        "value": value,
        "dims_used": used if value is not None else 0,
        "dimensions": ",".join(dims) if value is not None else "",
        "reason": reason,
    }


def _used_dims(
    home: Mapping[str, float],
    partner: Mapping[str, float],
    dims: Sequence[str],
    scale: Mapping[str, float],
) -> list[str]:
    return [d for d in dims if d in home and d in partner and scale.get(d, 0.0) > 0.0]


def country_distances(
    home_iso3: str,
    partner_iso3s: Iterable[str],
    indices_rows: Iterable[Mapping[str, Any]],
    *,
    year: int | None = None,
    ddof: int = 1,
    governance_index: str = "wgi",
) -> list[dict[str, Any]]:
    """All measures for home vs each partner, one row per (partner, measure).

    ``indices_rows`` mixes the indices: ``hofstede`` (pdi..ivr), ``governance_index``
    (va pv ge rq rl cc, see :func:`rows_from_wgi`), ``ip_protection``/``score`` (0-10) and
    ``cpi``/``score``. Per country and dimension the latest year (<= ``year``) is used;
    variances, standard deviations and the covariance are computed over all countries in
    ``indices_rows`` for that index. Row keys: home_iso3, partner_iso3, measure, value,
    dims_used, dimensions (comma-separated names used), reason (why value is None).
    """
    rows = list(indices_rows)
    hofstede = index_table(rows, "hofstede", dims=HOFSTEDE_6D, year=year)
    governance = index_table(rows, governance_index, dims=WGI_DIMS, year=year)
    ip = index_table(rows, "ip_protection", dims=("score",), year=year)
    cpi = index_table(rows, "cpi", dims=("score",), year=year)

    variances = dimension_variances(hofstede, HOFSTEDE_6D, ddof=ddof)
    sds = standard_deviations(governance, WGI_DIMS, ddof=ddof)
    cov: np.ndarray | None = None
    cov_dims: tuple[str, ...] = WGI_DIMS
    no_cov: str | None = None
    try:
        cov, cov_dims, _ = covariance_matrix(governance, WGI_DIMS, ddof=ddof)
    except ValueError as exc:
        no_cov = f"covariance undefined: {exc}"

    home = home_iso3.upper()
    out: list[dict[str, Any]] = []
    for partner in partner_iso3s:
        p = partner.upper()
        h_cult, p_cult = hofstede.get(home, {}), hofstede.get(p, {})
        h_gov, p_gov = governance.get(home, {}), governance.get(p, {})
        for measure, dims in (("kogut_singh_4d", HOFSTEDE_4D), ("kogut_singh_6d", HOFSTEDE_6D)):
            used = _used_dims(h_cult, p_cult, dims, variances)
            out.append(
                _row(
                    home,
                    p,
                    measure,
                    kogut_singh(h_cult, p_cult, variances, dims),
                    used,
                    bool(h_cult),
                    bool(p_cult),
                )
            )
        used = _used_dims(h_gov, p_gov, WGI_DIMS, sds)
        out.append(
            _row(
                home,
                p,
                "institutional_euclidean",
                institutional_euclidean(h_gov, p_gov, sds),
                used,
                bool(h_gov),
                bool(p_gov),
            )
        )
        maha: Measure = (None, 0)
        if cov is not None:
            maha = institutional_mahalanobis(h_gov, p_gov, cov, cov_dims)
        used = [d for d in cov_dims if d in h_gov and d in p_gov] if cov is not None else []
        out.append(
            _row(
                home,
                p,
                "institutional_mahalanobis",
                maha,
                used,
                bool(h_gov),
                bool(p_gov),
                no_cov if h_gov and p_gov else None,
            )
        )
        for measure, table in (("ip_protection_gap", ip), ("cpi_gap", cpi)):
            h_score, p_score = table.get(home, {}).get("score"), table.get(p, {}).get("score")
            out.append(
                _row(
                    home,
                    p,
                    measure,
                    score_gap(h_score, p_score),
                    ("score",),
                    h_score is not None,
                    p_score is not None,
                )
            )
    return out
