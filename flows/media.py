"""The partner media summary mart: its SQL needs the run date, which only Python knows."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import duckdb
import pandas as pd

from connectors.config import ConfigError, Settings
from flows import load


def news_as_of(settings: Settings) -> datetime:
    """End of the day given in [sources.news] as_of (for reproducible reports), else now."""
    value = str(settings.source("news")["as_of"]).strip()
    if not value:
        return datetime.now(UTC)
    try:
        day = date.fromisoformat(value)
    except ValueError as exc:
        raise ConfigError(f"[sources.news] as_of {value!r} is not an ISO date") from exc
    return datetime.combine(day, time.min, tzinfo=UTC) + timedelta(days=1)


def summary_schema() -> str:
    """The mart's SQL with the run date as a typed placeholder: gives the column types."""
    sql = load.model_sql("marts", "partner_media_summary")
    return sql.replace("$as_of", "cast(null as timestamptz)")


def media_summary(con: duckdb.DuckDBPyConnection, context: dict[str, Any]) -> pd.DataFrame:
    sql = load.model_sql("marts", "partner_media_summary")
    return con.execute(sql, {"as_of": news_as_of(context["settings"])}).df()
