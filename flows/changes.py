"""What changed: facts that appeared, disappeared or changed in the history tables since a
date or a run, the alerts among them (config/changes.toml), and a partner's history.

A change compares the facts valid at `since` with the facts valid now, matched by each mart's
natural key: a key only now is new, a key only then is gone, a key in both with other values
changed. Provenance (fetched_at, source_url, payload) is not a change (flows/history.py).
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import duckdb

from connectors.config import config_file, env_overlay
from flows.db import columns, records
from flows.dossier.render import md
from flows.history import VALIDITY, VOLATILE

NATURAL_KEYS: dict[str, tuple[str, ...]] = {
    "partner_profile": ("partner_id",),
    "partner_diligence_summary": ("partner_id",),
    "partner_fit": ("partner_id",),
    "partner_media_summary": ("partner_id",),
    "partner_web_profile": ("partner_id",),
    "partner_financials": ("financial_key",),
    "partner_filings": ("partner_id", "accession"),
    "partner_ownership": ("ownership_key",),
    "partner_sanctions_hits": ("hit_key",),
    "partner_fit_evidence": ("evidence_key",),
    "partner_identifiers": ("partner_id", "scheme"),
    "partner_news": ("partner_id", "url"),
    "partner_adverse_media": ("partner_id", "url", "category"),
    "partner_capabilities": ("partner_id", "capability"),
    "country_profile": ("iso3", "index_name", "dimension"),
    "country_indices": ("iso3", "index_name", "dimension", "year"),
    "country_distance": ("home_iso3", "partner_iso3", "measure"),
    "country_coverage": ("iso3", "index_name"),
}
# Columns that change whenever another one does (derived ranks, explanations, run ids).
_NOT_COMPARED = VOLATILE | set(VALIDITY) | {"rank", "what_would_change", "explanation"}


FIRST_RUN = "the first run"


class ChangesError(ValueError):
    """`since` names neither a date nor a run of this database."""


@dataclass
class Change:
    mart: str
    what: str  # new | gone | changed
    key: dict[str, Any]
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    # A new fact of a partner that had none in this mart at `since` (a partner just added
    # or just identified): its whole record is new, which is not news about the partner.
    partner_new: bool = False

    @property
    def row(self) -> dict[str, Any]:
        return self.after or self.before or {}

    def as_json(self) -> dict[str, Any]:
        return {
            "mart": self.mart,
            "what": self.what,
            "key": self.key,
            "fields": {k: list(v) for k, v in self.fields.items()},
            "row": self.row,
            "partner_new": self.partner_new,
        }


@dataclass(frozen=True)
class Alert:
    category: str
    subject: str  # partner id, or the country for a country move
    text: str
    partners: tuple[str, ...] = ()


def resolve_since(con: duckdb.DuckDBPyConnection, since: str | None) -> tuple[datetime, str]:
    """(the time, how to name it) for a date, a run id, or None: the run before the latest."""
    runs = con.execute(
        "select run_id, started_at from ops.runs where status <> 'running' order by started_at desc"
    ).fetchall()
    if since is None:
        if len(runs) < 2:
            return datetime.min.replace(tzinfo=UTC), FIRST_RUN
        latest, previous = runs[0], runs[1]
        return latest[1], f"run {previous[0]} (the run before {latest[0]})"
    for run_id, started in runs:
        if run_id == since:
            later = [r for r in runs if r[1] > started]
            return (later[-1][1] if later else datetime.now(UTC)), f"run {run_id}"
    try:
        day = date.fromisoformat(since)
    except ValueError as exc:
        raise ChangesError(
            f"--since {since!r} is neither a date (YYYY-MM-DD) nor a run id"
        ) from exc
    return datetime(day.year, day.month, day.day, tzinfo=UTC), since


def _history_marts(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "select table_name from duckdb_tables() where schema_name = 'history' order by 1"
    ).fetchall()
    return [r[0] for r in rows if r[0] in NATURAL_KEYS]


def _match(keys: Sequence[str], left: str, right: str) -> str:
    return " and ".join(f'{left}."{k}" is not distinct from {right}."{k}"' for k in keys)


def _windows(table: str) -> str:
    """The facts valid at $t (b) and those opened since and still valid (a)."""
    return (
        f"with b as (select * from {table} where valid_from < $t and valid_to >= $t), "  # noqa: S608
        f"a as (select * from {table} where valid_from >= $t and valid_to is null) "
    )


def changes(con: duckdb.DuckDBPyConnection, since: datetime) -> list[Change]:
    """Every fact that is new, gone or changed between `since` and now. The keys are matched
    inside DuckDB, so only the changed facts' rows come to Python (a mart of a million
    unchanged filings costs a query, not a million dicts)."""
    found: list[Change] = []
    for mart in _history_marts(con):
        keys = NATURAL_KEYS[mart]
        table = f"history.{mart}"
        compared = [c for c, _ in columns(con, table) if c not in _NOT_COMPARED and c not in keys]
        differs = " or ".join(f'b."{c}" is distinct from a."{c}"' for c in compared) or "false"
        with_t = _windows(table)
        new_rows = records(
            con,
            with_t + f"select a.* from a where not exists "  # noqa: S608
            f"(select 1 from b where {_match(keys, 'b', 'a')})",
            {"t": since},
        )
        gone_rows = records(
            con,
            with_t + f"select b.* from b where not exists "  # noqa: S608
            f"(select 1 from a where {_match(keys, 'b', 'a')}) and not exists "
            f"(select 1 from {table} as o where o.valid_to is null and {_match(keys, 'o', 'b')})",
            {"t": since},
        )
        pairs = (
            with_t + "select {side}.* from b join a on "  # noqa: S608 (our table and columns)
            f"{_match(keys, 'b', 'a')} where {differs}"
        )
        was_changed = records(con, pairs.format(side="b"), {"t": since})
        now_changed = records(con, pairs.format(side="a"), {"t": since})
        was = {tuple(r[k] for k in keys): r for r in [*gone_rows, *was_changed]}
        now = {tuple(r[k] for k in keys): r for r in [*new_rows, *now_changed]}
        known = _partners_at(con, table, since) if new_rows else set()
        for key in sorted(set(was) | set(now), key=str):
            old, new = was.get(key), now.get(key)
            named = dict(zip(keys, key, strict=True))
            if old is None:
                assert new is not None
                first = "partner_id" in new and new["partner_id"] not in known
                found.append(Change(mart, "new", named, None, _plain(new), partner_new=first))
            elif new is None:
                found.append(Change(mart, "gone", named, _plain(old), None))
            else:
                diff = {
                    c: (old[c], new.get(c))
                    for c in old
                    if c not in _NOT_COMPARED and old[c] != new.get(c)
                }
                if diff:
                    found.append(Change(mart, "changed", named, _plain(old), _plain(new), diff))
    return found


def _partners_at(con: duckdb.DuckDBPyConnection, table: str, at: datetime) -> set[Any]:
    """The partners with a fact in `table` valid at `at` (none for a country mart)."""
    if "partner_id" not in {c for c, _ in columns(con, table)}:
        return set()
    rows = con.execute(
        f"select distinct partner_id from {table} "  # noqa: S608 (a history table's name)
        "where valid_from < $t and (valid_to is null or valid_to >= $t)",
        {"t": at},
    ).fetchall()
    return {r[0] for r in rows}


def _plain(row: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {k: v for k, v in row.items() if k not in VALIDITY}


# ------------------------------------------------------------------------------- alerts


def load_rules(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    env = os.environ if env is None else env
    rules = tomllib.loads(config_file("changes.toml", env).read_text(encoding="utf-8"))
    return {
        section: env_overlay(section, values, env) if isinstance(values, dict) else values
        for section, values in rules.items()
    }


def alerts(
    found: Sequence[Change], rules: Mapping[str, Any], partners_by_country: Mapping[str, list[str]]
) -> list[Alert]:
    """The changes business development wants to hear about, in config/changes.toml's terms."""
    thresholds = rules.get("thresholds", {})
    forms = set(rules.get("watch", {}).get("forms", []))
    out: list[Alert] = []
    adverse: dict[tuple[str, str], int] = {}
    filings: set[tuple[str, str, str, str, str]] = set()
    for change in found:
        row = change.row
        pid = str(row.get("partner_id") or "")
        if change.mart == "partner_sanctions_hits" and change.what == "new":
            out.append(
                Alert(
                    "sanctions",
                    pid,
                    f"new sanctions candidate: {row.get('listed_name')} on {row.get('list')} "
                    f"(score {row.get('score')}, matched on {row.get('matched_on')})",
                )
            )
        elif change.mart == "partner_adverse_media" and change.what == "new":
            category = str(row.get("category"))
            adverse[(pid, category)] = adverse.get((pid, category), 0) + 1
        elif change.mart == "partner_profile" and change.what == "changed":
            for column in ("lei_status", "entity_status", "lei_lapsed", "lei_next_renewal_at"):
                if column in change.fields:
                    old, new = change.fields[column]
                    out.append(Alert("lei", pid, f"{column} {_show(old)} -> {_show(new)}"))
        elif change.mart == "partner_ownership" and change.what in ("new", "gone"):
            who = row.get("parent_name") or row.get("child_name") or row.get("exception_reason")
            verb = "new" if change.what == "new" else "no longer reported:"
            out.append(Alert("ownership", pid, f"{verb} {row.get('relation')} {_show(who)}"))
        elif change.mart == "partner_fit" and change.what == "changed" and "tier" in change.fields:
            old, new = change.fields["tier"]
            out.append(Alert("fit", pid, f"fit tier {_show(old)} -> {_show(new)}"))
        elif change.mart == "partner_filings" and change.what == "new":
            # only filings first seen now of a partner whose filings were known before
            if row.get("form") in forms and not change.partner_new:
                items = f", items {row['items']}" if row.get("items") else ""
                filings.add(
                    (pid, str(row["form"]), str(row.get("filing_date")), str(row["accession"]),
                     items)
                )  # fmt: skip
        elif change.mart == "country_profile" and "value" in change.fields:
            index = str(row.get("index_name"))
            limit = thresholds.get(index)
            old, new = change.fields["value"]
            if limit is not None and old is not None and new is not None:
                if abs(float(new) - float(old)) >= float(limit):
                    iso3 = str(row.get("iso3"))
                    out.append(
                        Alert(
                            "country",
                            iso3,
                            f"{index} {row.get('dimension')} moved {_show(old)} -> {_show(new)} "
                            f"(threshold {limit})",
                            tuple(partners_by_country.get(iso3, [])),
                        )
                    )
    for (pid, category), n in sorted(adverse.items()):
        out.append(Alert("adverse_media", pid, f"{n} new adverse media article(s): {category}"))
    for pid, form, filed, accession, items in sorted(filings):
        out.append(Alert("filing", pid, f"new {form} filed {filed} (accession {accession}{items})"))
    return out


def _show(value: Any) -> str:
    return "unknown" if value is None else str(value)


def partners_by_country(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    rows = con.execute(
        "select country, partner_id from marts.partner_profile where country is not null "
        "order by partner_id"
    ).fetchall()
    out: dict[str, list[str]] = {}
    for iso3, pid in rows:
        out.setdefault(iso3, []).append(pid)
    return out


def counts(found: Sequence[Change]) -> dict[tuple[str, str], int]:
    """How many facts are new, changed or gone per mart: {(mart, what): n}."""
    n: dict[tuple[str, str], int] = {}
    for change in found:
        n[(change.mart, change.what)] = n.get((change.mart, change.what), 0) + 1
    return n


def first_run_counts(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], int]:
    """On the first run every current fact is new: counted in SQL, not listed one by one."""
    n: dict[tuple[str, str], int] = {}
    for mart in _history_marts(con):
        query = f"select count(*) from history.{mart} where valid_to is null"  # noqa: S608
        rows = int(con.execute(query).fetchall()[0][0])
        if rows:
            n[(mart, "new")] = rows
    return n


def markdown(
    changed: Mapping[tuple[str, str], int], raised: Sequence[Alert], since_label: str
) -> str:
    """The report: alerts first, then how many facts changed per mart. Scraped text is
    escaped for Markdown (it is not ours) as in the dossiers."""
    lines = [f"# What changed since {md(since_label)}", ""]
    if raised:
        lines += ["## Alerts", ""]
        for alert in raised:
            also = f" (partners: {', '.join(map(md, alert.partners))})" if alert.partners else ""
            lines.append(f"- **{alert.category}** {md(alert.subject)}: {md(alert.text)}{also}")
    else:
        lines.append("No alerts.")
    lines += ["", "## Facts changed", ""]
    if not changed:
        lines.append("None.")
    else:
        lines += ["| mart | new | changed | gone |", "|---|---|---|---|"]
        for mart in sorted({m for m, _ in changed}):
            n = [changed.get((mart, w), 0) for w in ("new", "changed", "gone")]
            lines.append(f"| {mart} | {n[0]} | {n[1]} | {n[2]} |")
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------- notify


def notify(raised: Sequence[Alert], rules: Mapping[str, Any], env: Mapping[str, str]) -> list[str]:
    """Send the alerts to the configured webhook and command; returns what failed (never
    raises: a notification must not fail a run)."""
    conf = rules.get("notify", {})
    if not raised:
        return []
    body = json.dumps({"alerts": [a.__dict__ for a in raised]}, default=str)
    timeout = float(conf.get("timeout_seconds", 30))
    problems: list[str] = []
    if conf.get("webhook_url"):
        problems += _post(str(conf["webhook_url"]), body, timeout, env)
    if conf.get("command"):
        try:
            subprocess.run(  # noqa: S603 (the operator's own configured command)
                shlex.split(str(conf["command"])),
                input=body.encode(),
                timeout=timeout,
                check=True,
                capture_output=True,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            problems.append(f"command: {type(exc).__name__}: {exc}")
    return problems


def _post(url: str, body: str, timeout: float, env: Mapping[str, str]) -> list[str]:
    """POST through the one session factory (User-Agent, size cap), after the address guard
    with the configured allow list, as every fetch of a URL from configuration."""
    from connectors.config import load_settings
    from connectors.http import make_session, redact_url
    from connectors.web.guard import AddressGuard, AllowList

    try:
        settings = load_settings(env)
        AddressGuard(AllowList.parse(str(settings.http["allow_hosts"]))).check(url)
        response = make_session("notify", settings).post(
            url,
            data=body,
            headers={"Content-Type": "application/json"},
            timeout=timeout,
            allow_redirects=False,
        )
        if response.status_code >= 300:
            return [f"webhook {redact_url(url.split('?')[0])}: HTTP {response.status_code}"]
    except Exception as exc:  # any failure is reported, never raised
        return [f"webhook {redact_url(url.split('?')[0])}: {type(exc).__name__}"]
    return []


# ------------------------------------------------------------------------------ history


def partner_history(con: duckdb.DuckDBPyConnection, partner_id: str) -> list[dict[str, Any]]:
    """Every fact about one partner that opened or closed, oldest first: (at, run, event,
    mart, key, values)."""
    events: list[dict[str, Any]] = []
    for mart in _history_marts(con):
        if "partner_id" not in {c for c, _ in columns(con, f"history.{mart}")}:
            continue
        query = f"select * from history.{mart} where partner_id = ?"  # noqa: S608
        rows = records(con, query, [partner_id])
        for row in rows:
            values = {k: v for k, v in row.items() if k not in _NOT_COMPARED and v is not None}
            key = {k: row[k] for k in NATURAL_KEYS[mart]}
            events.append(
                {"at": row["valid_from"], "run": row["run_from"], "event": "opened",
                 "mart": mart, "key": key, "values": values}
            )  # fmt: skip
            if row["valid_to"] is not None:
                events.append(
                    {"at": row["valid_to"], "run": row["run_to"], "event": "closed",
                     "mart": mart, "key": key, "values": values}
                )  # fmt: skip
    return sorted(events, key=lambda e: (e["at"], e["event"] == "opened", e["mart"]))
