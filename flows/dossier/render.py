"""Render a partner dossier as HTML (Jinja2, autoescaped), PDF (WeasyPrint from the same
HTML), Markdown or JSON. Scraped and registry text is never trusted: HTML autoescapes every
value and Markdown escapes markup characters."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

import duckdb
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from flows.dossier import charts
from flows.dossier.data import dossier_data

FORMATS = ("html", "pdf", "md", "json")


@lru_cache(maxsize=1)
def environment() -> Environment:
    return Environment(
        loader=PackageLoader("flows.dossier", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html",), default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def dossier_charts(data: dict[str, Any]) -> dict[str, Markup | None]:
    revenue = [
        (str(f["fiscal_year"]), float(f["value"]))
        for f in data["financials"]
        if f["metric"] == "revenue"
    ]
    unit = next((f["unit"] for f in data["financials"] if f["metric"] == "revenue"), "")
    hofstede = [i for i in data["country_indices"] if i["index"] == "hofstede"]
    fit = data["fit"]
    return {
        "revenue": charts.column_chart(
            "revenue", "Revenue by fiscal year (SEC XBRL)", revenue[-8:], unit
        )
        if revenue
        else None,
        "governance": charts.paired_bars(
            "governance",
            "Governance (World Bank WGI)",
            [(g["label"], g["partner"], g["home"]) for g in data["governance"]],
            -2.5,
            2.5,
        ),
        "culture": charts.paired_bars(
            "culture",
            "Hofstede dimensions",
            [(i["dimension"], i["partner"], i["home"]) for i in hofstede],
            0,
            120,
        )
        if any(i["partner"] is not None for i in hofstede)
        else None,
        "fit": charts.score_bars(
            "fit",
            "Four Cs (0-100)",
            [(c["label"], c["score"], c["coverage"]) for c in fit["cs"]]
            + [("overall", fit["overall_score"], fit["coverage"])],
        )
        if fit
        else None,
    }


def render_html(data: dict[str, Any]) -> str:
    return environment().get_template("dossier.html").render(d=data, charts=dossier_charts(data))


def _no_fetch(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    raise ValueError(f"the dossier PDF fetches nothing ({url})")


def html_to_pdf(html: str) -> bytes:
    from weasyprint import HTML  # imported on demand: loads Pango

    pdf: bytes = HTML(string=html, url_fetcher=_no_fetch).write_pdf()
    return pdf


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|])")


def md(value: Any) -> str:
    """Markdown-safe text: HTML characters as entities and Markdown markup backslash-escaped,
    so scraped text stays text in any Markdown viewer."""
    if value is None or (isinstance(value, float) and value != value):
        return "*unknown*"
    text = " ".join(str(value).split())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", text)


def _fmt(value: Any, spec: str) -> str:
    return "*unknown*" if value is None else format(value, spec)


IDENTITY_FIELDS = (
    ("legal name", "legal_name"),
    ("LEI", "lei"),
    ("LEI status", "lei_status"),
    ("SEC CIK", "cik"),
    ("ultimate parent", "ultimate_parent_name"),
    ("no ultimate parent because", "ultimate_parent_exception"),
    ("website", "website"),
)


def render_markdown(data: dict[str, Any]) -> str:
    p, fit = data["profile"], data["fit"]
    out = [f"# {md(p['name'])} — partner dossier", ""]
    out.append(
        f"Country {md(p.get('country_name'))} ({md(p['country'])}); "
        f"generated {md(data['generated_at'])}."
    )
    if fit:
        out += [
            "",
            f"**Tier: {md(fit['tier'])}** — overall {_fmt(fit['overall_score'], '.1f')} / 100, "
            f"rank {fit['rank']}, coverage {fit['coverage']:.0%}. {md(fit['tier_reason'])}",
            "",
            "| C | score | coverage | weight |",
            "|---|---|---|---|",
        ]
        out += [
            f"| {md(c['label'])} | {_fmt(c['score'], '.1f')} | {c['coverage']:.0%} "
            f"| {c['weight']} |"
            for c in fit["cs"]
        ]
        out += ["", f"Tiers: {md(fit['tier_cutoffs'])}; configuration {md(fit['config_digest'])}."]
        if fit["what_would_change"]:
            out += ["", "## What would change this", ""] + [
                f"- {md(x)}" for x in fit["what_would_change"]
            ]
        for c in fit["cs"]:
            out += [
                "",
                f"## {md(c['label'].capitalize())}",
                "",
                "| input | raw | score | explanation | source |",
                "|---|---|---|---|---|",
            ]
            out += [
                f"| {md(e['label'])} | {md(e['raw_value'])} | {_fmt(e['score'], '.0f')} | "
                f"{md(e['explanation'])} | {md(e['source_url'])} |"
                for e in c["evidence"]
            ]
    out += ["", "## Identity and ownership", ""]
    for label, key in IDENTITY_FIELDS:
        out.append(f"- {label}: {md(p.get(key))}")
    out.append(f"- website title: {md(data['web'].get('home_title'))}")
    out += ["", "## Sanctions candidates", ""]
    out += [
        f"- {md(s['list'])}: {md(s['listed_name'])} ~ {md(s['matched_name'])} "
        f"({s['score']:.1f}, {md(s['matched_on'])})"
        for s in data["sanctions"]
    ] or [
        "- none at or above the threshold"
        if p.get("sanctions_hit_count") is not None
        else "- not screened"
    ]
    out += ["", "## News", ""]
    out += [f"- {md(n['published'])} {md(n['title'])} ({md(n['url'])})" for n in data["news"]] or [
        "- none collected"
    ]
    out += ["", "## What was searched and what was not found", ""]
    out += [
        f"- {md(s['what'])}: asked for {md(s['asked'])} — **{md(s['result'])}**"
        + (f" ({md(s['why'])})" if s["why"] else "")
        + (f"; candidates: {md('; '.join(s['candidates']))}" if s["candidates"] else "")
        for s in data["searched"]
    ] or ["- nothing: the registry gave every identifier, and every source answered"]
    out += ["", "## Launch questions", ""]
    out += [
        f"- {md(q['question'])} — **{md(q['status'])}**: {md(q['data'])}"
        for q in data["launch_questions"]
    ]
    out += ["", "## Agreement checklist", ""]
    for item in data["agreement_checklist"]:
        out.append(
            f"- **{md(item['item'])}**: "
            + ("; ".join(md(f) for f in item["flags"]) or "nothing flagged by the data")
        )
    out += ["", "## Data freshness", ""]
    out += [
        f"- {md(f['source'])}: {md(f['outcomes'])}, latest fetch {md(f['latest_fetch'])}"
        for f in data["freshness"]
    ]
    return "\n".join(out) + "\n"


def render_json(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n"


def render(con: duckdb.DuckDBPyConnection, partner_id: str, fmt: str) -> bytes:
    """One partner's dossier in `fmt` (html, pdf, md, json) as bytes."""
    data = dossier_data(con, partner_id)
    if fmt == "html":
        return render_html(data).encode("utf-8")
    if fmt == "pdf":
        return html_to_pdf(render_html(data))
    if fmt == "md":
        return render_markdown(data).encode("utf-8")
    if fmt == "json":
        return render_json(data).encode("utf-8")
    raise ValueError(f"unknown dossier format {fmt!r}; expected one of {FORMATS}")
