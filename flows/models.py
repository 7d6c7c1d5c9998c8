"""Build order of the validated tables: staging models, then marts.

A mart is either a SQL file (sql/marts/<name>.sql) or a Python function of the open
connection (for computations SQL does not express well). Each gets validated by
expectations/<name>.json before it replaces the previous table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import duckdb
import pandas as pd

from flows import derived, load


@dataclass(frozen=True)
class SqlModel:
    name: str
    layer: str = "marts"

    def build(self, con: duckdb.DuckDBPyConnection, context: dict[str, Any]) -> pd.DataFrame:
        return load.run_model(con, self.layer, self.name)


@dataclass(frozen=True)
class PythonModel:
    name: str
    compute: Callable[[duckdb.DuckDBPyConnection, dict[str, Any]], pd.DataFrame]
    layer: str = "marts"

    def build(self, con: duckdb.DuckDBPyConnection, context: dict[str, Any]) -> pd.DataFrame:
        return self.compute(con, context)


Model = SqlModel | PythonModel

STAGING: tuple[Model, ...] = (
    SqlModel("stg_registry__partners", "staging"),
    SqlModel("stg_gleif__lei_records", "staging"),
    SqlModel("stg_worldbank__governance", "staging"),
    SqlModel("stg_indices__values", "staging"),
    SqlModel("stg_indices__issues", "staging"),
)

MARTS: tuple[Model, ...] = (
    SqlModel("country_indices"),
    SqlModel("country_profile"),
    SqlModel("country_coverage"),
    PythonModel("country_distance", derived.country_distance),
    SqlModel("partner_profile"),
)

VIEWS: tuple[str, ...] = ("partner_source_status",)
