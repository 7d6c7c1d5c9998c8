"""marts.partner_fit_evidence: one row per partner and fit input (used or missing) and per
red flag, with the raw value, its 0-100 score, weight, bounds, source table and key, source
URL, fetch time, a sentence that explains it, and how far it could move the overall score."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import duckdb
import pandas as pd

from connectors.sanctions.settings import sanctions_settings
from flows.fit.config import FitConfig, load_fit_config
from flows.fit.evidence import EVIDENCE_COLUMNS, Facts, partner_evidence
from flows.fit.score import with_swings

COLUMNS = [*EVIDENCE_COLUMNS, "overall_if_low", "overall_if_high"]

# A partner's evidence reads only its own rows of the partner tables, of the GLEIF and SEC
# tables by its identifiers, and the country tables (which have no partner key: when they
# change, every partner is computed again).
PARTITION = "partner_id"
PARTITION_KEYS = {
    "staging.stg_gleif__lei_records": "lei",
    "staging.stg_gleif__other_names": "lei",
    "staging.stg_sec__companies": "cik",
}

# The evidence is computed BATCH_PARTNERS partners at a time (of those in
# context["partition_keys"] when given), each batch's facts loaded with it: at 10,000
# partners the facts and rows of all of them at once peaked at 1.8 GB. (No docstring on
# compute: the data dictionary describes the mart by the module's.)
BATCH_PARTNERS = 500  # a batch's facts and rows: about 75 KB a partner
BATCH = "_fit_evidence_batch"  # temp: the partner ids of the batch being computed

SCHEMA = """
    select
        cast(null as varchar) as partner_id,
        cast(null as varchar) as evidence_key,
        cast(null as varchar) as c,
        cast(null as varchar) as feature,
        cast(null as varchar) as label,
        cast(null as varchar) as status,
        cast(null as varchar) as raw_value,
        cast(null as double) as raw_number,
        cast(null as double) as score,
        cast(null as double) as weight,
        cast(null as varchar) as bounds,
        cast(null as varchar) as source_table,
        cast(null as varchar) as source_key,
        cast(null as varchar) as source_url,
        cast(null as timestamptz) as fetched_at,
        cast(null as varchar) as explanation,
        cast(null as double) as overall_if_low,
        cast(null as double) as overall_if_high
"""


def compute(con: duckdb.DuckDBPyConnection, context: dict[str, Any]) -> Iterator[pd.DataFrame]:
    keys = context.get("partition_keys")
    only = "true" if keys is None else f"partner_id in (select key from {keys})"  # noqa: S608
    partners = [
        partner_id
        for (partner_id,) in con.execute(
            f"select distinct partner_id from staging.stg_registry__partners where {only} "  # noqa: S608
            "order by partner_id"
        ).fetchall()
    ]
    config = load_fit_config()
    ctx = {"sanctions_threshold": sanctions_settings(context["settings"]).threshold}
    try:
        for start in range(0, max(len(partners), 1), BATCH_PARTNERS):
            con.execute(
                f"create or replace temp table {BATCH} as select unnest($p::varchar[]) as key",
                {"p": partners[start : start + BATCH_PARTNERS]},
            )
            yield _evidence(Facts.load(con, BATCH), context, config, ctx)
    finally:
        con.execute(f"drop table if exists {BATCH}")


def _evidence(
    facts: Facts, context: dict[str, Any], config: FitConfig, ctx: dict[str, Any]
) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    for partner in facts.partners:
        evidence = partner_evidence(partner, facts, context["home"], config, ctx)
        rows += with_swings(evidence, config)
    frame = pd.DataFrame(rows, columns=COLUMNS)
    numeric = ["raw_number", "score", "weight", "overall_if_low", "overall_if_high"]
    return frame.astype(dict.fromkeys(numeric, "float64"))
