"""marts.country_distance, computed in Python from already-built tables (validated like every
other mart)."""

from __future__ import annotations

from typing import Any

import duckdb
import pandas as pd

from connectors.indices.distance import country_distances

DISTANCE_COLUMNS = [
    "home_iso3",
    "partner_iso3",
    "measure",
    "value",
    "dims_used",
    "dimensions",
    "reason",
]


def compute(con: duckdb.DuckDBPyConnection, context: dict[str, Any]) -> pd.DataFrame:
    """Cultural (Kogut-Singh 4-D and 6-D), institutional (Euclidean on standardised WGI,
    Mahalanobis) and IP-protection / CPI gaps between the home country and each partner
    country. Variances and covariances are taken over every country present in the data."""
    home = context["home"].country_iso3
    partners = [
        iso3
        for (iso3,) in con.execute(
            "select distinct country_iso3 from staging.stg_registry__partners order by 1"
        ).fetchall()
    ]
    rows = (
        con.execute(
            'select iso3, index_name as "index", dimension, year, value from marts.country_indices'
        )
        .df()
        .to_dict("records")
    )
    distances = country_distances(home, partners, rows)
    return pd.DataFrame(distances, columns=DISTANCE_COLUMNS)
