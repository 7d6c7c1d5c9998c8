"""The portfolio of scored partners: a ranked shortlist (table, CSV, Parquet, JSON, Markdown)
and a static site (reports/site/index.html with a comparison chart, one dossier page per
partner next to it). Reads the published database through a read-only connection."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
from rich.table import Table
from rich.text import Text

from flows.dossier import charts
from flows.dossier.data import Sections, dossier_data
from flows.dossier.digest import page_digests
from flows.dossier.render import environment, md, render_html
from flows.fit.config import C_LABELS, CS

SITE_CHUNK = 200  # dossiers whose sections are read together
DIGESTS = "dossier-digests.json"  # partner_id -> digest of its page as written (a page's content)

SHORTLIST_SQL = """
    select
        rank, partner_id, name, country, tier, overall_score, coverage,
        skills_score, cultures_score, aims_score, risk_score,
        red_flags, inputs_used, inputs_missing,
        split_part(coalesce(what_would_change, ''), chr(10), 1) as top_change,
        tier_reason, weights, tier_cutoffs, coverage_minimum, config_digest
    from marts.partner_fit
    order by rank
"""


def shortlist(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """All partners, best first: rank, tier, scores, coverage, red flags, the top lever."""
    return con.execute(SHORTLIST_SQL).df()


def _cell(value: Any, spec: str = "") -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "unknown"
    return md(format(value, spec) if spec else value)


def shortlist_markdown(con: duckdb.DuckDBPyConnection) -> str:
    """The shortlist as Markdown (for a Prefect artifact): ranked table plus the scoring
    configuration it was made with. Registry text is escaped."""
    frame = shortlist(con)
    lines = [
        "| rank | partner | country | tier | overall | coverage | skills | cultures | aims | risk "
        "| red flags |",
        "|---:|---|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in frame.to_dict("records"):
        lines.append(
            f"| {row['rank']} | {_cell(row['name'])} | {_cell(row['country'])} "
            f"| {_cell(row['tier'])} "
            f"| {_cell(row['overall_score'], '.1f')} | {_cell(row['coverage'], '.0%')} "
            + "".join(f"| {_cell(row[f'{c}_score'], '.0f')} " for c in CS)
            + f"| {_cell(row['red_flags']) if isinstance(row['red_flags'], str) else ''} |"
        )
    if len(frame):
        first = frame.iloc[0]
        weights = json.loads(first["weights"])
        lines += [
            "",
            "Weights: "
            + ", ".join(f"{C_LABELS[c]} {weights.get(c)}" for c in CS)
            + f". Tiers: {_cell(first['tier_cutoffs'])}; coverage below "
            f"{first['coverage_minimum']:.0%} or a C without input: insufficient data; red flags: "
            f"review before contact. Configuration {first['config_digest']} (config/fit.toml).",
        ]
    else:
        lines.append("\nNo partner has been scored.")
    return "\n".join(lines) + "\n"


def dossier_filename(partner_id: str) -> str:
    """A safe file name per partner id (ids come from the registry CSV)."""
    slug = re.sub(r"[^a-z0-9_-]+", "-", partner_id.lower()).strip("-") or "partner"
    if slug != partner_id:
        slug += "-" + hashlib.sha256(partner_id.encode("utf-8")).hexdigest()[:8]
    return f"dossier-{slug}.html"


def write_site(
    con: duckdb.DuckDBPyConnection, out_dir: Path, only: list[str] | None = None
) -> Path:
    """Write out_dir/index.html (all partners ranked, comparison chart, links) and the
    dossier pages next to it; returns the index path. A page is written when what it shows
    changed since it was written (flows/dossier/digest.py), or is missing; the others keep
    the page an earlier run wrote, which says when it was generated. `only`: the partners
    whose pages are written whatever changed (a request's), and no others but missing ones."""
    out_dir.mkdir(parents=True, exist_ok=True)
    frame = shortlist(con)
    rows = frame.to_dict("records")
    for row in rows:
        row["href"] = dossier_filename(row["partner_id"])
        for key, value in row.items():
            if isinstance(value, float) and value != value:
                row[key] = None
    written = _written_digests(out_dir)
    asked = [r["partner_id"] for r in rows] if only is None else list(only)
    digests = page_digests(con, asked)
    wanted = [
        row
        for row in rows
        if not (out_dir / row["href"]).exists()
        or (
            row["partner_id"] in digests
            and digests[row["partner_id"]] != written.get(row["partner_id"])
        )
        or (only is not None and row["partner_id"] in only)
    ]
    # the sections of SITE_CHUNK partners at a time, one query each: memory holds a chunk
    for start in range(0, len(wanted), SITE_CHUNK):
        chunk = wanted[start : start + SITE_CHUNK]
        sections = Sections(con, [row["partner_id"] for row in chunk])
        for row in chunk:
            html = render_html(dossier_data(con, row["partner_id"], sections))
            (out_dir / row["href"]).write_text(html, encoding="utf-8")
            if row["partner_id"] in digests:
                written[row["partner_id"]] = digests[row["partner_id"]]
    current = {row["partner_id"] for row in rows}
    (out_dir / DIGESTS).write_text(
        json.dumps({k: v for k, v in sorted(written.items()) if k in current}, indent=0),
        encoding="utf-8",
    )
    chart = charts.comparison(
        "portfolio",
        "Overall fit (grey) and the four Cs, 0-100",
        [
            (str(r["name"]), r["overall_score"], [(C_LABELS[c], r[f"{c}_score"]) for c in CS])
            for r in rows
        ],
    )
    index = out_dir / "index.html"
    index.write_text(
        environment()
        .get_template("portfolio.html")
        .render(rows=rows, chart=chart, cs=CS, labels=C_LABELS, markdown=None),
        encoding="utf-8",
    )
    return index


def _written_digests(out_dir: Path) -> dict[str, str]:
    """The digests of the pages in out_dir as they were written (none: write them all)."""
    try:
        found = json.loads((out_dir / DIGESTS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else {}


def fit_line(con: duckdb.DuckDBPyConnection, partner_id: str) -> Text:
    """One line of fit for the terminal profile; says so when no fit was computed."""
    row = (
        con.execute(
            "select tier, overall_score, coverage, rank, skills_score, cultures_score, aims_score, "
            "risk_score, tier_reason from marts.partner_fit where partner_id = ?",
            [partner_id],
        ).fetchone()
        if _has_fit(con)
        else None
    )
    if row is None:
        return Text("Fit: not computed in this database", style="dim")
    tier, overall, coverage, rank, *subs, reason = row
    scores = ", ".join(
        f"{C_LABELS[c]} {'unknown' if s is None else f'{s:.0f}'}"
        for c, s in zip(CS, subs, strict=True)
    )
    text = Text(f"Fit: {tier} (rank {rank}), overall ", style="bold")
    text.append("unknown" if overall is None else f"{overall:.1f}")
    text.append(f", coverage {coverage:.0%}; {scores}. {reason}. ")
    text.append("Evidence: partnerdd profile NAME --format html", style="dim")
    return text


def _has_fit(con: duckdb.DuckDBPyConnection) -> bool:
    found = con.execute(
        "select count(*) from information_schema.tables "
        "where table_schema = 'marts' and table_name = 'partner_fit'"
    ).fetchone()
    return bool(found and found[0])


def shortlist_table(frame: pd.DataFrame) -> Table:
    table = Table(title=Text("Partners ranked by fit on the four Cs"), title_justify="left")
    for column in ("rank", "partner", "country", "tier", "overall", "coverage", *CS, "red flags"):
        table.add_column(
            column, justify="right" if column not in ("partner", "tier", "red flags") else "left"
        )
    for row in frame.to_dict("records"):
        table.add_row(
            Text(str(row["rank"])),
            Text(str(row["name"])),
            Text(str(row["country"])),
            Text(str(row["tier"])),
            Text(_cell(row["overall_score"], ".1f")),
            Text(_cell(row["coverage"], ".0%")),
            *(Text(_cell(row[f"{c}_score"], ".0f")) for c in CS),
            Text(row["red_flags"] if isinstance(row["red_flags"], str) else ""),
        )
    if len(frame):
        table.caption = Text(
            f"weights {frame.iloc[0]['weights']}; tiers {frame.iloc[0]['tier_cutoffs']}; "
            f"configuration {frame.iloc[0]['config_digest']}"
        )
    return table
