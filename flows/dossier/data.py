"""Everything one partner's dossier shows, read from the published marts (read-only).

The result is plain data (JSON-ready): the renderers (HTML, PDF, Markdown, JSON) only lay it
out. Values stay as the marts hold them; None means unknown and is shown as such.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import duckdb

from flows.dossier.checklists import agreement_checklist, launch_questions
from flows.fit.config import C_LABELS, CS, load_fit_config
from flows.home import load_home
from flows.report import GOVERNANCE

FRESHNESS = """
    with latest_run as (
        select run_id from ops.runs order by started_at desc limit 1
    )
    select
        f.source as source,
        string_agg(distinct f.outcome, ', ' order by f.outcome) as outcomes,
        count(*) as attempts,
        max(r.fetched_at) as latest_fetch,
        min(f.error) filter (where f.outcome <> 'ok') as example_problem
    from ops.fetch_log as f
    inner join latest_run as l on f.run_id = l.run_id
    left join raw.responses as r
        on f.run_id = r.run_id and f.url = r.url and f.payload_sha256 = r.sha256
    where f.partner_id = $partner_id or f.partner_id is null
    group by f.source
    order by f.source
"""


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: Any = None) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params or [])
    columns = [d[0] for d in cursor.description]
    return [_clean(dict(zip(columns, row, strict=True))) for row in cursor.fetchall()]


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


def _exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    found = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, table],
    ).fetchone()
    return bool(found and found[0])


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


def _fit(con: duckdb.DuckDBPyConnection, partner_id: str) -> dict[str, Any] | None:
    if not _exists(con, "marts", "partner_fit"):
        return None
    rows = _rows(con, "select * from marts.partner_fit where partner_id = ?", [partner_id])
    if not rows:
        return None
    fit = rows[0]
    evidence = _rows(
        con,
        "select * from marts.partner_fit_evidence where partner_id = ? "
        "order by status = 'red_flag' desc, c, status = 'missing', weight desc, feature",
        [partner_id],
    )
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


def dossier_data(con: duckdb.DuckDBPyConnection, partner_id: str) -> dict[str, Any]:
    """All sections of one partner's dossier; KeyError when the partner is unknown."""
    profiles = _rows(con, "select * from marts.partner_profile where partner_id = ?", [partner_id])
    if not profiles:
        raise KeyError(partner_id)
    profile = profiles[0]
    home = load_home()
    config = load_fit_config()
    iso3 = profile.get("country")
    cursor = con.execute(
        "select * from marts.partner_web_profile where partner_id = ?", [partner_id]
    )
    found = cursor.fetchone()
    web = _clean(dict(zip([d[0] for d in cursor.description], found or [None] * 99, strict=False)))
    data: dict[str, Any] = {
        "partner_id": partner_id,
        "profile": profile,
        "web": web,  # every column, null when the site was never crawled
        "home": {
            "name": home.name,
            "country": home.country_iso3,
            "have": list(home.capabilities_have),
            "seek": list(home.capabilities_seek),
            "aims": home.aims,
            "risk": home.risk,
        },
        "fit": _fit(con, partner_id),
        "fit_config": config.summary(),
        "ownership": _rows(
            con,
            "select relation, parent_lei, parent_name, child_lei, child_name, child_country, "
            "exception_reason, source_url, fetched_at from marts.partner_ownership "
            "where partner_id = ? order by relation, child_name",
            [partner_id],
        ),
        "identifiers": _rows(
            con,
            "select scheme, value, status, confidence, evidence, source_url "
            "from marts.partner_identifiers where partner_id = ? order by scheme",
            [partner_id],
        ),
        "financials": _rows(
            con,
            "select fiscal_year, metric, value, unit, form, filed, source_url "
            "from marts.partner_financials where partner_id = ? order by metric, fiscal_year",
            [partner_id],
        ),
        "governance": _governance(con, iso3, home.country_iso3),
        "country_indices": _country_indices(con, iso3, home.country_iso3),
        "distances": _rows(
            con,
            "select measure, value, dims_used, reason from marts.country_distance "
            "where partner_iso3 = ? order by measure",
            [iso3 or ""],
        ),
        "news": _rows(
            con,
            "select title, url, published, source, lang from marts.partner_news "
            "where partner_id = ? order by published desc nulls last limit 20",
            [partner_id],
        ),
        "adverse": _rows(
            con,
            "select title, url, published, category, phrase, evidence "
            "from marts.partner_adverse_media where partner_id = ? "
            "order by published desc nulls last limit 20",
            [partner_id],
        ),
        "sanctions": _rows(
            con,
            "select list, entry_id, listed_name, matched_name, name_type, score, matched_on, "
            "matched_fields, partner_name_screened, programs, list_published, source_url "
            "from marts.partner_sanctions_hits where partner_id = ? order by score desc",
            [partner_id],
        ),
        "freshness": _rows(con, FRESHNESS, {"partner_id": partner_id}),
        "generated_at": datetime.now().astimezone().isoformat(timespec="seconds"),
    }
    data["launch_questions"] = launch_questions(data)
    data["agreement_checklist"] = agreement_checklist(data)
    return data
