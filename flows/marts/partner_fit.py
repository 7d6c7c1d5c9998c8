"""marts.partner_fit: one row per partner with the four sub-scores (0-100), their coverage,
the overall score, rank, tier and why, red flags, missing inputs and what would change the
score. Computed from marts.partner_fit_evidence only, so every number is traceable to rows
there; the configuration (weights, cut-offs, digest of config/fit.toml) is on every row."""

from __future__ import annotations

import json
from typing import Any

import duckdb
import pandas as pd

from flows.db import records
from flows.fit.config import CS, FitConfig, load_fit_config
from flows.fit.score import aggregate, what_would_change

COLUMNS = [
    "partner_id",
    "name",
    "country",
    "home_company",
    *(f"{c}_score" for c in CS),
    *(f"{c}_coverage" for c in CS),
    "overall_score",
    "coverage",
    "rank",
    "tier",
    "tier_reason",
    "red_flags",
    "missing_inputs",
    "what_would_change",
    "inputs_used",
    "inputs_missing",
    "weights",
    "tier_cutoffs",
    "coverage_minimum",
    "config_digest",
    "run_id",
]

SCHEMA = (
    "select cast(null as varchar) as partner_id, cast(null as varchar) as name, "
    "cast(null as varchar) as country, cast(null as varchar) as home_company, "
    + ", ".join(f"cast(null as double) as {c}_score" for c in CS)
    + ", "
    + ", ".join(f"cast(null as double) as {c}_coverage" for c in CS)
    + ", cast(null as double) as overall_score, cast(null as double) as coverage, "
    "cast(null as integer) as rank, cast(null as varchar) as tier, "
    "cast(null as varchar) as tier_reason, cast(null as varchar) as red_flags, "
    "cast(null as varchar) as missing_inputs, cast(null as varchar) as what_would_change, "
    "cast(null as integer) as inputs_used, cast(null as integer) as inputs_missing, "
    "cast(null as varchar) as weights, cast(null as varchar) as tier_cutoffs, "
    "cast(null as double) as coverage_minimum, cast(null as varchar) as config_digest, "
    "cast(null as varchar) as run_id"
)


def _rank_key(row: dict[str, Any], config: FitConfig) -> tuple[int, float, str]:
    """Partners with a score tier first (by overall score), then those a red flag holds for
    review, then those with too little data."""
    flagged = {f.tier for f in config.red_flags.values()}
    group = 2 if row["tier"] == config.insufficient_tier else (1 if row["tier"] in flagged else 0)
    score = row["overall_score"]
    return group, -(score if score is not None else -1.0), row["partner_id"]


def compute(con: duckdb.DuckDBPyConnection, context: dict[str, Any]) -> pd.DataFrame:
    config = load_fit_config()
    partners = con.execute(
        "select partner_id, name, country_iso3 from staging.stg_registry__partners "
        "order by partner_id"
    ).fetchall()
    evidence: dict[str, list[dict[str, Any]]] = {}
    for record in records(  # the columns the aggregate reads (not the long explanations)
        con,
        "select partner_id, c, feature, label, status, score, weight, overall_if_low, "
        "overall_if_high from marts.partner_fit_evidence order by partner_id, evidence_key",
    ):
        evidence.setdefault(record["partner_id"], []).append(record)
    cutoffs = ", ".join(f"{t.name} ≥ {t.min_score:g}" for t in config.tiers)
    rows: list[dict[str, Any]] = []
    for partner_id, name, country in partners:
        items = evidence.get(partner_id, [])
        result = aggregate(items, config)
        rows.append(
            {
                "partner_id": partner_id,
                "name": name,
                "country": country,
                "home_company": context["home"].name,
                **{f"{c}_score": result.sub_scores[c] for c in CS},
                **{f"{c}_coverage": result.coverages[c] for c in CS},
                "overall_score": result.overall,
                "coverage": result.coverage,
                "tier": result.tier,
                "tier_reason": result.tier_reason,
                "red_flags": ", ".join(result.red_flags) or None,
                "missing_inputs": "; ".join(
                    f"{r['c']}: {r['label']}" for r in items if r["status"] == "missing"
                )
                or None,
                "what_would_change": "\n".join(what_would_change(items, result, config)) or None,
                "inputs_used": sum(1 for r in items if r["status"] == "used"),
                "inputs_missing": sum(1 for r in items if r["status"] == "missing"),
                "weights": json.dumps(config.c_weights),
                "tier_cutoffs": cutoffs,
                "coverage_minimum": config.coverage_minimum,
                "config_digest": config.digest,
                "run_id": context.get("run_id"),
            }
        )
    for position, ranked in enumerate(sorted(rows, key=lambda r: _rank_key(r, config)), start=1):
        ranked["rank"] = position
    frame = pd.DataFrame(rows, columns=COLUMNS).astype({"rank": "int64"})
    return frame.astype({c: "float64" for c in COLUMNS if c.endswith(("_score", "_coverage"))})
