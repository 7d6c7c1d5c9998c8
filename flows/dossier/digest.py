"""A digest of what a partner's dossier page shows, so that a nightly run rewrites only the
pages whose content changed: at 10,000 partners, rendering every page every night would cost
more than the rest of a run in which nothing changed.

A page's digest covers every row of its sections as they are read for the page, its sources'
outcomes in their latest refresh (not the times they were fetched or checked), the country
tables every page reads, the dossier code and templates, and the configuration. What it
leaves out is what changes without the evidence changing: when the page was generated and
when its sources were last fetched; a page that is kept says when it was generated."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb

from connectors.config import config_file, resource_dir
from flows.db import records, table_exists
from flows.dossier.data import shown_sections

CODE = (Path(__file__).parent, Path(__file__).parent.parent / "portfolio.py")
SHARED_TABLES = ("marts.country_profile", "marts.country_distance")
# When the page's facts were fetched, crawled, computed or counted up to: they change with
# each run without the facts changing (flows.history keeps them out of a fact's identity too).
TIMES = frozenset(
    {"fetched_at", "crawled_at", "gleif_fetched_at", "latest_fetch", "news_as_of", "run_id"}
)


def page_digests(con: duckdb.DuckDBPyConnection, partner_ids: list[str]) -> dict[str, str]:
    """partner_id -> digest of its page's content, for the partners asked."""
    where = "where partner_id in (select unnest($pids))"
    params = {"pids": partner_ids}
    parts: dict[str, list[str]] = {pid: [] for pid in partner_ids}
    for name, sql in shown_sections(con).items():
        shown = sql.format(where=where)
        names = [d[0] for d in con.execute(f"select * from ({shown}) limit 0", params).description]  # noqa: S608
        hashed = ", ".join(f's."{c}"' for c in names if c not in TIMES)
        text = (
            f"select partner_id, sum(hash({hashed}))::varchar as h "  # noqa: S608 (our SQL)
            f"from ({shown}) as s group by partner_id"
        )
        _add(parts, name, records(con, text, params))
    shared = _shared(con)
    return {
        pid: hashlib.sha256("\n".join([shared, *sorted(part)]).encode()).hexdigest()[:24]
        for pid, part in parts.items()
    }


def _add(parts: dict[str, list[str]], name: str, rows: list[dict[str, object]]) -> None:
    for row in rows:
        if row["partner_id"] in parts:
            parts[str(row["partner_id"])].append(f"{name}={row['h']}")


def _shared(con: duckdb.DuckDBPyConnection) -> str:
    """What every page shows or is made by: the country tables, code, templates, config."""
    digest = hashlib.sha256()
    for table in SHARED_TABLES:
        if table_exists(con, table):
            row = con.execute(f"select sum(hash(t))::varchar from {table} as t").fetchone()  # noqa: S608
            digest.update(f"{table}={row[0] if row else None}".encode())
    files = [p for root in CODE for p in ([root] if root.is_file() else sorted(root.rglob("*")))]
    for path in files:
        if path.is_file() and path.suffix in (".py", ".html", ".css", ".js"):
            digest.update(path.read_bytes())
    for name in sorted(p.name for p in resource_dir("config").glob("*.toml")):
        digest.update(config_file(name).read_bytes())
    return digest.hexdigest()
