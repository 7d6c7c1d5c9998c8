"""The partner media summary mart: its SQL (sql/marts/partner_media_summary.sql) needs the run
date, which only Python knows."""

from __future__ import annotations

from typing import Any

import duckdb
import pandas as pd

from connectors.news.source import news_as_of
from flows import load

NAME = "partner_media_summary"
# The mart's SQL with the run date as a typed placeholder: gives the column types.
SCHEMA = load.model_sql("marts", NAME).replace("$as_of", "cast(null as timestamptz)")


def compute(con: duckdb.DuckDBPyConnection, context: dict[str, Any]) -> pd.DataFrame:
    sql = load.model_sql("marts", NAME)
    return con.execute(sql, {"as_of": news_as_of(context["settings"])}).df()
