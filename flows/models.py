"""Build order of the validated tables: staging models, then marts.

A mart is either a SQL file (sql/marts/<name>.sql) or a Python function of the open
connection (for computations SQL does not express well). Each gets validated by its
checks before it replaces the previous table. A model's inputs (the tables it reads) are
read off its SQL, or off the source of the Python module that computes it; a model is
rebuilt only when one of them changed.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import duckdb
import pandas as pd

from flows import derived, diligence, load, media
from flows.marts import partner_fit, partner_fit_evidence

_TABLE_REF = re.compile(r"\b(raw|staging|marts|ops)\.([a-z_][a-z0-9_]*)")


def table_refs(text: str) -> tuple[str, ...]:
    """Qualified tables a piece of SQL (or Python holding SQL) reads."""
    return tuple(sorted({f"{schema}.{table}" for schema, table in _TABLE_REF.findall(text)}))


@dataclass(frozen=True)
class SqlModel:
    name: str
    layer: str = "marts"

    def build(self, con: duckdb.DuckDBPyConnection, context: dict[str, Any]) -> pd.DataFrame:
        return load.run_model(con, self.layer, self.name)

    def schema_sql(self) -> str | None:
        return load.model_sql(self.layer, self.name)

    @property
    def inputs(self) -> tuple[str, ...]:
        return table_refs(load.model_sql(self.layer, self.name))


@dataclass(frozen=True)
class PythonModel:
    """`schema`, when given, is a SQL query whose columns type the table (so a column that is
    empty or all null in one run keeps its type); without it pandas' types are used."""

    name: str
    compute: Callable[[duckdb.DuckDBPyConnection, dict[str, Any]], pd.DataFrame]
    layer: str = "marts"
    schema: str | None = None
    reads_sql: str | None = None  # a sql/marts file the function runs, if any

    def build(self, con: duckdb.DuckDBPyConnection, context: dict[str, Any]) -> pd.DataFrame:
        return self.compute(con, context)

    def schema_sql(self) -> str | None:
        return self.schema

    @property
    def inputs(self) -> tuple[str, ...]:
        module = inspect.getmodule(self.compute)
        text = inspect.getsource(module) if module is not None else ""
        if self.reads_sql:
            text += load.model_sql(self.layer, self.reads_sql)
        own = f"{self.layer}.{self.name}"
        found = tuple(t for t in table_refs(text) if t != own)
        return found or ("ops.runs",)  # reads through other modules: rebuilt every run


Model = SqlModel | PythonModel

STAGING: tuple[Model, ...] = (
    SqlModel("stg_registry__partners", "staging"),
    SqlModel("stg_gleif__lei_records", "staging"),
    SqlModel("stg_worldbank__governance", "staging"),
    SqlModel("stg_indices__values", "staging"),
    SqlModel("stg_indices__issues", "staging"),
    SqlModel("stg_resolution__identifiers", "staging"),
    SqlModel("stg_sec__companies", "staging"),
    SqlModel("stg_sec__facts", "staging"),
    SqlModel("stg_sec__annual_metrics", "staging"),
    SqlModel("stg_gleif__ownership", "staging"),
    SqlModel("stg_gleif__children", "staging"),
    SqlModel("stg_gleif__other_names", "staging"),
    SqlModel("stg_sanctions__entries", "staging"),
    SqlModel("stg_sanctions__names", "staging"),
    SqlModel("stg_web__fetches", "staging"),
    SqlModel("stg_web__pages", "staging"),
    SqlModel("stg_web__organizations", "staging"),
    SqlModel("stg_web__links", "staging"),
    SqlModel("stg_web__capabilities", "staging"),
    SqlModel("stg_news__fetches", "staging"),
    SqlModel("stg_news__articles", "staging"),
    SqlModel("stg_news__adverse", "staging"),
)

MARTS: tuple[Model, ...] = (
    SqlModel("country_indices"),
    SqlModel("country_profile"),
    SqlModel("country_coverage"),
    PythonModel("country_distance", derived.country_distance),
    SqlModel("partner_identifiers"),
    SqlModel("partner_financials"),
    SqlModel("partner_ownership"),
    PythonModel(
        "partner_sanctions_hits", diligence.partner_sanctions_hits, schema=diligence.HITS_SCHEMA
    ),
    SqlModel("partner_diligence_summary"),
    SqlModel("partner_web_pages"),
    SqlModel("partner_web_profile"),
    SqlModel("partner_capabilities"),
    SqlModel("partner_news"),
    SqlModel("partner_adverse_media"),
    SqlModel("partner_news_fetches"),
    PythonModel(
        "partner_media_summary",
        media.media_summary,
        schema=media.summary_schema(),
        reads_sql="partner_media_summary",
    ),
    SqlModel("partner_profile"),
    PythonModel(
        "partner_fit_evidence", partner_fit_evidence.compute, schema=partner_fit_evidence.SCHEMA
    ),
    PythonModel("partner_fit", partner_fit.compute, schema=partner_fit.SCHEMA),
)

VIEWS: tuple[str, ...] = ("partner_source_status",)
