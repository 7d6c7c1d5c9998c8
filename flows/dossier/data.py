"""Everything one partner's dossier shows, read from the published marts (read-only).

The result is plain data (JSON-ready): the renderers (HTML, PDF, Markdown, JSON) only lay it
out. Values stay as the marts hold them; None means unknown and is shown as such.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import duckdb

from connectors.countries import resolve
from flows.db import columns, records, table_exists
from flows.dossier.checklists import agreement_checklist, launch_questions
from flows.dossier.searched import searched
from flows.fit.config import C_LABELS, CS, load_fit_config
from flows.home import load_home
from flows.report import GOVERNANCE

FRESHNESS = """
    with partner_run as (  -- the latest run that fetched for the partner (a request: one)
        select f.partner_id as partner_id, arg_max(f.run_id, r.started_at) as run_id
        from ops.fetch_log as f
        inner join ops.runs as r on f.run_id = r.run_id
        where f.partner_id is not null
        group by f.partner_id
    ),
    attempts as (
        select f.*, r.fetched_at as answer_fetched_at
        from ops.fetch_log as f
        left join raw.responses as r
            on f.run_id = r.run_id and f.url = r.url and f.payload_sha256 = r.sha256
        where f.run_id in (select run_id from partner_run)
    ),
    partners as (
        select partner_id from marts.partner_profile {where}
    ),
    -- the partner's own attempts and its run's whole-dataset ones (no partner), as two
    -- equality joins: one join on "partner or none" was a nested loop (2 s at 1,000)
    partner_attempts as (
        select pr.partner_id as for_partner, a.*
        from partner_run as pr
        inner join attempts as a on a.run_id = pr.run_id and a.partner_id = pr.partner_id
        union all
        select pr.partner_id as for_partner, a.*
        from partner_run as pr
        inner join attempts as a on a.run_id = pr.run_id and a.partner_id is null
    )
    select
        p.partner_id as partner_id,
        a.source as source,
        string_agg(distinct a.outcome, ', ' order by a.outcome) as outcomes,
        count(*) as attempts,
        max(a.answer_fetched_at) as latest_fetch,
        min(a.error) filter (where a.outcome <> 'ok') as example_problem
    from partners as p
    inner join partner_attempts as a on a.for_partner = p.partner_id
    group by p.partner_id, a.source
    order by p.partner_id, a.source
"""

# Per-partner sections: one query each, run for one partner or for every partner at once
# (the portfolio site), then split by partner_id. {where} filters on the partner.
SECTIONS = {
    "profile": "select * from marts.partner_profile {where}",
    "web": "select * from marts.partner_web_profile {where}",
    "fit": "select * from marts.partner_fit {where}",
    "evidence": (
        "select * from marts.partner_fit_evidence {where} order by partner_id, "
        "status = 'red_flag' desc, c, status = 'missing', weight desc, feature"
    ),
    "ownership": (
        "select partner_id, relation, parent_lei, parent_name, child_lei, child_name, "
        "child_country, exception_reason, source_url, fetched_at from marts.partner_ownership "
        "{where} order by partner_id, relation, child_name"
    ),
    "identifiers": (
        "select partner_id, scheme, value, status, confidence, evidence, candidates, "
        "query_name, query_country, source_url "
        "from marts.partner_identifiers {where} order by partner_id, scheme"
    ),
    "financials": (
        "select partner_id, fiscal_year, metric, value, unit, form, filed, source_url "
        "from marts.partner_financials {where} order by partner_id, metric, fiscal_year"
    ),
    "news": (
        "select partner_id, title, url, published, source, lang from marts.partner_news {where} "
        "qualify row_number() over (partition by partner_id order by published desc nulls last) "
        "<= 20 order by partner_id, published desc nulls last"
    ),
    "adverse": (
        "select partner_id, title, url, published, category, phrase, evidence "
        "from marts.partner_adverse_media {where} "
        "qualify row_number() over (partition by partner_id order by published desc nulls last) "
        "<= 20 order by partner_id, published desc nulls last"
    ),
    "sanctions": (
        "select partner_id, list, entry_id, listed_name, matched_name, name_type, score, "
        "matched_on, matched_fields, partner_name_screened, programs, list_published, source_url "
        "from marts.partner_sanctions_hits {where} order by partner_id, score desc"
    ),
    "freshness": FRESHNESS,
}
KEEPS_PARTNER_ID = ("profile", "web", "fit", "evidence")  # `select *` rows, as the marts hold them


def shown_sections(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """The SECTIONS this database has: fit and evidence only where fit was computed."""
    has_fit = table_exists(con, "marts.partner_fit")
    return {n: sql for n, sql in SECTIONS.items() if has_fit or n not in ("fit", "evidence")}


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: Any = None) -> list[dict[str, Any]]:
    return [_clean(row) for row in records(con, sql, params)]


def _clean(row: dict[str, Any]) -> dict[str, Any]:
    """NaN -> None, dates -> ISO text: JSON-ready, unknown stays unknown."""
    out = {}
    for key, value in row.items():
        if isinstance(value, float) and value != value:
            value = None
        elif isinstance(value, datetime | date):
            value = value.isoformat()
        out[key] = value
    return out


def _governance(
    con: duckdb.DuckDBPyConnection, iso3: str | None, home: str
) -> list[dict[str, Any]]:
    rows = _rows(
        con,
        "select iso3, dimension, value, year from marts.country_profile "
        "where index_name = 'wgi' and iso3 in (?, ?)",
        [iso3 or "", home],
    )
    values = {(r["iso3"], r["dimension"]): r for r in rows}
    return [
        {
            "dimension": code,
            "label": label,
            "partner": (values.get((iso3 or "", code)) or {}).get("value"),
            "home": (values.get((home, code)) or {}).get("value"),
            "year": (values.get((iso3 or "", code)) or {}).get("year"),
        }
        for _, code, label in GOVERNANCE
    ]


def _country_indices(
    con: duckdb.DuckDBPyConnection, iso3: str | None, home: str
) -> list[dict[str, Any]]:
    rows = _rows(
        con,
        "select iso3, index_name, dimension, value, year, source, source_url "
        "from marts.country_profile where index_name in ('cpi', 'ip_protection', 'hofstede') "
        "and dimension in ('score', 'pdi', 'idv', 'mas', 'uai', 'ltowvs', 'ivr') "
        "and iso3 in (?, ?) order by index_name, dimension",
        [iso3 or "", home],
    )
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for r in rows:
        item = merged.setdefault(
            (r["index_name"], r["dimension"]),
            {"index": r["index_name"], "dimension": r["dimension"], "partner": None, "home": None},
        )
        if r["iso3"] == iso3:
            item["partner"] = r["value"]
            item.update(year=r["year"], source=r["source"], source_url=r["source_url"])
        if r["iso3"] == home:  # also when the partner is in the home country
            item["home"] = r["value"]
    return list(merged.values())


class Sections:
    """The per-partner sections of the dossiers, read with one query per section for the
    partners asked (a chunk of them for the portfolio site), and the country context per
    country."""

    def __init__(self, con: duckdb.DuckDBPyConnection, partners: str | list[str]) -> None:
        self.con = con
        where = "where partner_id in (select unnest($pids))"
        params = {"pids": [partners] if isinstance(partners, str) else partners}
        self.by_partner: dict[str, dict[str, list[dict[str, Any]]]] = {}
        for name, sql in shown_sections(con).items():
            text = sql.format(where=where)
            for row in _rows(con, text, params):
                pid = row["partner_id"] if name in KEEPS_PARTNER_ID else row.pop("partner_id")
                self.by_partner.setdefault(pid, {}).setdefault(name, []).append(row)
        self.home = load_home()
        self.config = load_fit_config()
        self._countries: dict[str | None, dict[str, Any]] = {}

    def partner(self, partner_id: str) -> dict[str, list[dict[str, Any]]]:
        return self.by_partner.get(partner_id, {})

    def country(self, iso3: str | None) -> dict[str, Any]:
        if iso3 not in self._countries:
            home = self.home.country_iso3
            self._countries[iso3] = {
                "governance": _governance(self.con, iso3, home),
                "country_indices": _country_indices(self.con, iso3, home),
                "distances": _rows(
                    self.con,
                    "select measure, value, dims_used, reason from marts.country_distance "
                    "where partner_iso3 = ? order by measure",
                    [iso3 or ""],
                ),
            }
        return self._countries[iso3]


def _fit(found: dict[str, list[dict[str, Any]]]) -> dict[str, Any] | None:
    if not found.get("fit"):
        return None
    fit = dict(found["fit"][0])
    evidence = found.get("evidence", [])
    fit["weights"] = json.loads(fit["weights"]) if fit.get("weights") else {}
    fit["what_would_change"] = (fit.get("what_would_change") or "").splitlines()
    fit["cs"] = [
        {
            "c": c,
            "label": C_LABELS[c],
            "score": fit[f"{c}_score"],
            "coverage": fit[f"{c}_coverage"],
            "weight": fit["weights"].get(c),
            "evidence": [e for e in evidence if e["c"] == c and e["status"] != "red_flag"],
        }
        for c in CS
    ]
    fit["red_flag_rows"] = [e for e in evidence if e["status"] == "red_flag"]
    return fit


def dossier_data(
    con: duckdb.DuckDBPyConnection, partner_id: str, sections: Sections | None = None
) -> dict[str, Any]:
    """All sections of one partner's dossier; KeyError when the partner is unknown. Pass
    `sections` (read once for every partner) when writing many dossiers."""
    sections = sections if sections is not None else Sections(con, partner_id)
    found = sections.partner(partner_id)
    if not found.get("profile"):
        raise KeyError(partner_id)
    profile = found["profile"][0]
    home = sections.home
    iso3 = profile.get("country")
    web_rows = found.get("web")
    web = (
        web_rows[0] if web_rows else {c: None for c, _ in columns(con, "marts.partner_web_profile")}
    )
    data: dict[str, Any] = {
        "partner_id": partner_id,
        "profile": profile,
        "web": web,  # every column, null when the site was never crawled
        "home": {
            "name": home.name,
            "country": home.country_iso3,
            "country_name": resolve(home.country_iso3).name or home.country_iso3,
            "have": list(home.capabilities_have),
            "seek": list(home.capabilities_seek),
            "aims": home.aims,
            "risk": home.risk,
        },
        "fit": _fit(found),
        "fit_config": sections.config.summary(),
        **{key: found.get(key, []) for key in ("ownership", "identifiers", "financials")},
        **sections.country(iso3),
        **{key: found.get(key, []) for key in ("news", "adverse", "sanctions", "freshness")},
        "generated_at": datetime.now().astimezone().isoformat(timespec="seconds"),
    }
    data["searched"] = searched(data)
    data["launch_questions"] = launch_questions(data)
    data["agreement_checklist"] = agreement_checklist(data)
    return data
