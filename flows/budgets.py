"""Each source's time budget per run, as the refresh applies it (connectors/budget.py): one
budget per extract, the partners it reaches first, and what the run says when one ran out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import duckdb

from connectors.budget import DEFERRED, TimeBudget
from connectors.config import TIME_BUDGET, Settings
from connectors.source import Partner, SourceSpec


def with_budget(spec: SourceSpec, settings: Settings) -> Settings:
    """The settings `spec`'s extract runs with: its own budget, started by the extract."""
    seconds = float(settings.source(spec.name)[TIME_BUDGET])
    return replace(settings, budget=TimeBudget(spec.name, seconds))


def least_recently_answered(
    con: duckdb.DuckDBPyConnection, source: str, partners: list[Partner]
) -> list[Partner]:
    """`partners` in the order a budget should reach them: never asked (or only deferred)
    first, then the one answered longest ago; registry order among equals. So the partners
    a run deferred come first in the next, even for a source asked afresh every run."""
    last = dict(
        con.execute(
            "select partner_id, max(occurred_at) from ops.fetch_log "
            "where source = ? and partner_id is not null and outcome <> ? group by partner_id",
            [source, DEFERRED],
        ).fetchall()
    )
    return sorted(partners, key=lambda p: (p.partner_id in last, last.get(p.partner_id)))


def reached_partners(
    con: duckdb.DuckDBPyConnection, run_id: str, partners: list[Partner]
) -> list[Partner]:
    """The partners no source's budget deferred this run: what the row-count bounds of the
    build count, since a deferred partner is not expected in the tables (on a first run it
    has no rows), and the tables of what was reached must not be refused for it."""
    deferred = {
        partner_id
        for (partner_id,) in con.execute(
            "select distinct partner_id from ops.fetch_log where run_id = ? and outcome = ?",
            [run_id, DEFERRED],
        ).fetchall()
    }
    return [p for p in partners if p.partner_id not in deferred]


def over_budget(
    con: duckdb.DuckDBPyConnection, run_id: str, budgets: Mapping[str, TimeBudget]
) -> dict[str, str]:
    """Sources whose budget ran out this run: what was deferred, for the run's summary."""
    out = {}
    for name, budget in budgets.items():
        if not budget.reached:
            continue
        partners, datasets = con.execute(
            "select count(distinct partner_id), count(*) filter (where partner_id is null) "
            "from ops.fetch_log where run_id = ? and source = ? and outcome = ?",
            [run_id, name, DEFERRED],
        ).fetchone() or (0, 0)
        what = f"{partners} partner(s)" if partners or not datasets else f"{datasets} request(s)"
        out[name] = (
            f"source {name} ran out of its time budget of {budget.seconds:g} s "
            f"(time_budget_seconds): {what} deferred to the next run "
            f"(ops.fetch_log outcome '{DEFERRED}')"
        )
    return out
