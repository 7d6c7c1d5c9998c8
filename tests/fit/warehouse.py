"""A real, empty DuckDB warehouse with the project's own table definitions, for fit tests:
raw DDL from sql/raw, staging and marts typed by their model SQL (as a refresh creates them),
then only the rows a test needs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from connectors.config import load_settings
from flows import dictionary, load
from flows.home import HomeCompany
from flows.marts import partner_fit, partner_fit_evidence

HOME = HomeCompany(
    name="Test Home GmbH",
    country_iso3="DEU",
    capabilities_have=("software_development",),
    capabilities_seek=("manufacturing", "logistics"),
    aims={"target_regions": ["Asia"]},
    languages=("de", "en"),
    size={"revenue_usd": 100_000_000, "size_class": "mid"},
)


def empty_warehouse(path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(path))
    context = {"home": HOME, "env": {}, "run_id": "test", "settings": load_settings({})}
    dictionary.empty_warehouse(con, context)
    # country_distance declares no schema (flows/models.py): type it as the refresh fills it
    con.execute(
        "create or replace table marts.country_distance (home_iso3 varchar, "
        "partner_iso3 varchar, measure varchar, value double, dims_used integer, "
        "dimensions varchar, reason varchar)"
    )
    return con


def put(con: duckdb.DuckDBPyConnection, table: str, *rows: dict[str, Any]) -> None:
    con.register("put_rows", pd.DataFrame(list(rows)))
    try:
        con.execute(f"insert into {load.ident(table)} by name select * from put_rows")  # noqa: S608
    finally:
        con.unregister("put_rows")


def partner(con: duckdb.DuckDBPyConnection, partner_id: str, country: str, **profile: Any) -> None:
    """A registry row and its partner_profile row (extra profile columns as keywords)."""
    put(
        con,
        "staging.stg_registry__partners",
        {"partner_id": partner_id, "name": partner_id.title(), "country_iso3": country},
    )
    put(
        con,
        "marts.partner_profile",
        {"partner_id": partner_id, "name": partner_id.title(), "country": country, **profile},
    )


def score(
    con: duckdb.DuckDBPyConnection, home: HomeCompany = HOME, env: dict[str, str] | None = None
) -> tuple[dict[str, dict[str, Any]], pd.DataFrame]:
    """Build both fit marts the way a refresh does; partner_fit rows by id and the evidence."""
    context = {
        "home": home,
        "env": env or {},
        "run_id": "test",
        "settings": load_settings(env or {}),
    }
    evidence = pd.concat(list(partner_fit_evidence.compute(con, context)), ignore_index=True)
    load.replace_table(con, "marts.partner_fit_evidence", evidence, partner_fit_evidence.SCHEMA)
    fit = partner_fit.compute(con, context)
    load.replace_table(con, "marts.partner_fit", fit, partner_fit.SCHEMA)
    rows = con.execute("select * from marts.partner_fit").df().to_dict("records")
    return {r["partner_id"]: r for r in rows}, evidence
