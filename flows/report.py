"""A partner's profile as a readable terminal report (rich), built from the marts.

Every value is rendered as rich Text, never as markup, so scraped or registry text cannot
inject formatting. Unknown values say "unknown"; they are never shown as zero or good news.
"""

from __future__ import annotations

from typing import Any

import duckdb
from rich.console import Group
from rich.table import Table
from rich.text import Text

from connectors.news.adverse import adverse_categories
from flows.db import records

# fmt: off
SECTIONS: list[tuple[str, list[tuple[str, str]]]] = [
    ("Identity", [
        ("partner_id", "partner id"), ("name", "name (registry)"), ("legal_name", "legal name"),
        ("lei", "LEI"), ("cik", "SEC CIK"), ("website", "website"), ("legal_form", "legal form"),
        ("jurisdiction", "jurisdiction"), ("legal_address_city", "legal seat"),
        ("hq_city", "headquarters"),
    ]),
    ("Registration (GLEIF)", [
        ("lei_status", "LEI status"), ("lei_lapsed", "LEI lapsed"),
        ("entity_status", "entity status"), ("lei_next_renewal_at", "next renewal"),
        ("lei_resolution", "LEI found by"), ("cik_resolution", "CIK found by"),
        ("sec_name", "SEC name"),
    ]),
    ("Ownership (GLEIF)", [
        ("direct_parent_name", "direct parent"),
        ("direct_parent_exception", "no direct parent reported, because"),
        ("ultimate_parent_name", "ultimate parent"), ("ultimate_parent_lei", "ultimate parent LEI"),
        ("ultimate_parent_exception", "no ultimate parent reported, because"),
        ("direct_children_loaded", "direct children loaded"),
        ("direct_children_reported", "direct children reported"),
    ]),
    ("Size (SEC filings)", [
        ("latest_revenue", "revenue"), ("latest_revenue_unit", "unit"),
        ("latest_revenue_year", "fiscal year"), ("latest_net_income", "net income"),
        ("latest_employees", "employees"), ("latest_employees_year", "employees year"),
    ]),
    ("Sanctions screening (evidence to review, not a verdict)", [
        ("sanctions_hit_count", "candidate hits"), ("sanctions_max_score", "best score"),
        ("sanctions_lists_published", "lists published"),
    ]),
    ("Website and news", [
        ("web_status", "website"), ("site_lang", "site language"),
        ("legal_name_site", "legal name (site)"), ("founding_year", "founded (site)"),
        ("employees_site", "employees (site)"), ("capabilities", "capabilities seen on site"),
        ("news_count_90d", "news, last 90 days"), ("news_count_total", "news, all"),
        ("adverse_articles", "adverse-media articles"),
    ]),
    ("Country context", [
        ("country_name", "country"), ("country", "ISO 3166"), ("cpi_score", "CPI score"),
        ("cpi_year", "CPI year"), ("ip_protection", "IP protection (0-10)"),
        ("ip_protection_year", "IP protection year"),
    ]),
    ("Distance from home", [
        ("home_country", "home country"),
        ("cultural_distance_ks4", "cultural (Kogut-Singh, 4 dims)"),
        ("cultural_distance_ks6", "cultural (6 dims)"),
        ("institutional_distance_euclidean", "institutional (Euclidean)"),
        ("institutional_distance_mahalanobis", "institutional (Mahalanobis)"),
        ("ip_protection_gap", "IP protection gap (partner - home)"),
    ]),
]
# fmt: on
GOVERNANCE = [
    ("gov_va", "va", "voice & accountability"),
    ("gov_pv", "pv", "political stability"),
    ("gov_ge", "ge", "government effectiveness"),
    ("gov_rq", "rq", "regulatory quality"),
    ("gov_rl", "rl", "rule of law"),
    ("gov_cc", "cc", "control of corruption"),
]


def is_unknown(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value)


def render_value(value: Any) -> Text:
    if is_unknown(value):
        return Text("unknown", style="dim")
    if isinstance(value, float):
        return Text(f"{value:,.2f}")
    return Text(str(value))


def governance_bar(value: Any, width: int = 24, span: float = 2.5) -> Text:
    """A centred bar: left of the axis for below-average, right for above (WGI ~ -2.5..2.5)."""
    if is_unknown(value):
        return Text("·" * width, style="dim")
    half = width // 2
    cells = max(-half, min(half, round(float(value) / span * half)))
    left = " " * (half - max(0, -cells)) + "█" * max(0, -cells)
    right = "█" * max(0, cells) + " " * (half - max(0, cells))
    bar = Text(left, style="red")
    bar.append("│", style="dim")
    bar.append(right, style="green")
    return bar


def find_partners(con: duckdb.DuckDBPyConnection, query: str) -> list[dict[str, Any]]:
    return records(
        con,
        """select * from marts.partner_profile
           where partner_id = $q or name ilike '%' || $q || '%'
              or legal_name ilike '%' || $q || '%'
           order by partner_id""",
        {"q": query},
    )


def _home_governance(con: duckdb.DuckDBPyConnection, home_iso3: str | None) -> dict[str, float]:
    if not home_iso3:
        return {}
    rows = con.execute(
        "select dimension, value from marts.country_profile where iso3 = ? and index_name = 'wgi'",
        [home_iso3],
    ).fetchall()
    return {dimension: value for dimension, value in rows}


def _fields_table(profile: dict[str, Any]) -> Table:
    table = Table(show_header=False, box=None, padding=(0, 2))
    table.add_column("field", style="bold")
    table.add_column("value")
    for section, fields in SECTIONS:
        present = [(c, label) for c, label in fields if c in profile]
        if not present:
            continue
        table.add_row(Text(section, style="bold cyan"), Text(""))
        for column, label in present:
            table.add_row(Text(label), render_value(profile[column]))
    return table


def _governance_table(profile: dict[str, Any], home: dict[str, float]) -> Table:
    year = profile.get("governance_year")
    title = f"Governance (World Bank WGI {year if not is_unknown(year) else 'year unknown'})"
    table = Table(title=Text(title), title_justify="left", box=None, padding=(0, 1))
    table.add_column("dimension")
    table.add_column("partner", justify="right")
    table.add_column("-2.5  weaker │ stronger  +2.5")
    table.add_column("home", justify="right")
    for column, code, label in GOVERNANCE:
        value = profile.get(column)
        home_value = home.get(code)
        table.add_row(
            Text(label),
            Text("unknown", style="dim") if is_unknown(value) else Text(f"{value:+.2f}"),
            governance_bar(value),
            Text("—" if home_value is None else f"{home_value:+.2f}", style="dim"),
        )
    return table


def _sources_table(con: duckdb.DuckDBPyConnection, partner_id: str) -> Table:
    table = Table(title=Text("Sources in the latest refresh"), title_justify="left", box=None)
    table.add_column("source")
    table.add_column("outcome")
    table.add_column("detail")
    rows = con.execute(
        "select source, outcome, coalesce(error, url, '') from marts.partner_source_status "
        "where partner_id = ? order by source",
        [partner_id],
    ).fetchall()
    for source, outcome, detail in rows:
        style = "green" if outcome == "ok" else ("dim" if outcome == "skipped" else "yellow")
        table.add_row(Text(source), Text(outcome, style=style), Text(str(detail)[:90]))
    return table


def _table_exists(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    found = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, name],
    ).fetchone()
    return bool(found and found[0])


def _revenue_table(con: duckdb.DuckDBPyConnection, partner_id: str) -> Table | None:
    """Revenue by fiscal year as bars scaled to the largest year: growth at a glance."""
    if not _table_exists(con, "marts", "partner_financials"):
        return None
    rows = con.execute(
        "select fiscal_year, value, unit from marts.partner_financials "
        "where partner_id = ? and metric = 'revenue' order by fiscal_year desc limit 6",
        [partner_id],
    ).fetchall()
    if not rows:
        return None
    top = max(abs(v) for _, v, _ in rows) or 1.0
    table = Table(title=Text("Revenue by fiscal year (SEC XBRL)"), title_justify="left", box=None)
    table.add_column("year")
    table.add_column("revenue", justify="right")
    table.add_column("")
    for year, value, unit in reversed(rows):
        table.add_row(
            Text(str(year)),
            Text(f"{value:,.0f} {unit}"),
            Text("█" * max(1, round(abs(value) / top * 30)), style="cyan"),
        )
    return table


def _adverse_table(profile: dict[str, Any]) -> Table | None:
    """Adverse-media articles per category as bars; unknown when no news source answered."""
    counts: list[tuple[str, Any]] = [(c, profile.get(f"adverse_{c}")) for c in adverse_categories()]
    if all(is_unknown(v) for _, v in counts):
        return None
    top = max((int(v) for _, v in counts if not is_unknown(v)), default=0) or 1
    table = Table(title=Text("Adverse media by category"), title_justify="left", box=None)
    table.add_column("category")
    table.add_column("articles", justify="right")
    table.add_column("")
    for category, value in counts:
        n = 0 if is_unknown(value) else int(value)
        table.add_row(
            Text(category.replace("_", " ")),
            render_value(value),
            Text("█" * round(n / top * 20), style="red"),
        )
    return table


def _hits_table(con: duckdb.DuckDBPyConnection, partner_id: str) -> Table | None:
    if not _table_exists(con, "marts", "partner_sanctions_hits"):
        return None
    rows = con.execute(
        "select list, listed_name, matched_name, score, matched_on "
        "from marts.partner_sanctions_hits where partner_id = ? order by score desc limit 10",
        [partner_id],
    ).fetchall()
    if not rows:
        return None
    table = Table(title=Text("Sanctions candidates to review"), title_justify="left")
    for column in ("list", "listed name", "matched name", "score", "matched on"):
        table.add_column(column)
    for row in rows:
        table.add_row(*(render_value(v) for v in row))
    return table


def profile_report(con: duckdb.DuckDBPyConnection, profile: dict[str, Any]) -> Group:
    home = _home_governance(con, profile.get("home_country"))
    header = Text(f"{profile['name']} — partner profile", style="bold")
    parts: list[Any] = [header, _fields_table(profile), Text(""), _governance_table(profile, home)]
    for extra in (
        _revenue_table(con, profile["partner_id"]),
        _hits_table(con, profile["partner_id"]),
    ):
        if extra is not None:
            parts += [Text(""), extra]
    parts += [Text(""), _sources_table(con, profile["partner_id"])]
    return Group(*parts)
