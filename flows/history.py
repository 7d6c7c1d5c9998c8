"""History of every fact: each mart that describes a partner or a country keeps its rows with
their validity in `history.<mart>` (valid_from / valid_to and the runs that set them).

After a mart is rebuilt, a row whose content (every column but VOLATILE ones: provenance that
changes with each fetch, the run's as-of time, a rank) is not among the open rows opens; an open
row that is no longer in the mart closes. Nothing is deleted: a fact that comes back opens a
new row. Rows are only closed from what the mart holds, and a source that fails keeps its
previous landing rows and so its marts' rows: a failed extract never closes what it did not
see. `history.<mart>` as of a time T: `valid_from <= T and (valid_to is null or valid_to > T)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb

from flows import load
from flows.db import SCRATCH, columns, table_exists

# Provenance that changes with every fetch without the fact changing, the time a run's
# figures are as of, and a rank (it moves when another partner's score does).
VOLATILE = frozenset(
    {
        "fetched_at", "payload_sha256", "source_url", "run_id", "crawled_at", "org_source_url",
        "gleif_source_url", "gleif_fetched_at", "news_as_of", "rank",
    }
)  # fmt: skip
# Marts that are logs of this run's fetches rather than facts about a partner or country.
NOT_KEPT = frozenset({"partner_news_fetches", "partner_web_pages"})
VALIDITY = ("_fact_key", "valid_from", "valid_to", "run_from", "run_to")
NOW = f"{SCRATCH}.history_now"  # the mart's rows looked at, with their fact keys
GONE = f"{SCRATCH}.history_gone"  # the fact keys of the rows a build in place deleted


@dataclass(frozen=True)
class Delta:
    """A mart brought up to date in place: SQL selecting the rows it added and the rows it
    deleted (each with the mart's columns)."""

    added: str
    gone: str


def kept(layer: str, name: str) -> bool:
    return layer == "marts" and name.startswith(("partner_", "country_")) and name not in NOT_KEPT


def record(
    con: duckdb.DuckDBPyConnection,
    name: str,
    run_id: str,
    at: datetime,
    delta: Delta | None = None,
) -> dict[str, int]:
    """Close and open `history.<name>` rows against `marts.<name>`; returns the counts.
    With a `delta`, only the rows the build added or deleted are looked at (the open rows
    stand for the mart's facts before it), so the cost follows the change, not the mart.
    Runs inside the caller's transaction."""
    mart = load.ident(f"marts.{name}")
    kept_table = load.ident(f"history.{name}")
    mart_columns = columns(con, mart)
    fact = [c for c, _ in mart_columns if c not in VOLATILE]
    key = "md5(to_json(struct_pack({})))".format(", ".join(f'"{c}" := "{c}"' for c in fact))
    con.execute("create schema if not exists history")
    if not table_exists(con, kept_table):
        delta = None  # the first history of this mart: every row opens
        con.execute(
            f"create table {kept_table} as select *, ''::varchar as _fact_key, "  # noqa: S608
            "null::timestamptz as valid_from, null::timestamptz as valid_to, "
            f"null::varchar as run_from, null::varchar as run_to from {mart} limit 0"
        )
    else:  # a column the mart gained since: added, null in the older rows
        have = {c for c, _ in columns(con, kept_table)}
        for column, kind in mart_columns:
            if column not in have:
                delta = None
                con.execute(f'alter table {kept_table} add column "{column}" {kind}')
    now = mart if delta is None else f"({delta.added})"
    con.execute(f"create schema if not exists {SCRATCH}")
    con.execute(
        f"create or replace table {NOW} as select {key} as _fact_key, * from {now}"  # noqa: S608
    )
    if delta is None:
        gone = f"select _fact_key from {NOW}"  # noqa: S608 (our name)
    else:  # facts deleted unless another row of the mart still states them
        same = "hash({})".format(", ".join(f'"{c}"' for c in fact))
        still = (  # the mart is read only when rows went
            f"select {same} from {mart}"  # noqa: S608 (catalog names)
            if load.scalar(con, f"select count(*) from ({delta.gone})")  # noqa: S608
            else "select null limit 0"
        )
        con.execute(
            f"create or replace table {GONE} as select {key} as _fact_key "  # noqa: S608
            f"from ({delta.gone}) as g where {same} not in ({still})"
        )
        gone = f"select _fact_key from {GONE}"  # noqa: S608 (our name)
    closed = con.execute(
        f"update {kept_table} set valid_to = $at, run_to = $run "  # noqa: S608
        + (
            f"where valid_to is null and _fact_key not in ({gone})"
            if delta is None
            else f"where valid_to is null and _fact_key in ({gone})"
        ),
        {"at": at, "run": run_id},
    ).fetchall()
    opened = con.execute(
        f"insert into {kept_table} by name "  # noqa: S608
        "select *, $at as valid_from, null as valid_to, $run as run_from, null as run_to "
        f"from {NOW} where _fact_key not in "
        f"(select _fact_key from {kept_table} where valid_to is null)",
        {"at": at, "run": run_id},
    ).fetchall()
    con.execute(f"drop table {NOW}")
    con.execute(f"drop table if exists {GONE}")
    return {"opened": int(opened[0][0]), "closed": int(closed[0][0])}
