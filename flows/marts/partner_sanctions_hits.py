"""Sanctions screening mart: every partner name against every list name.

Screened names per partner: the registry name, the GLEIF legal name and the GLEIF other
names (previous, trading, transliterated) of its given or resolved LEI. A hit is evidence for
a human to review, never a verdict: it keeps the matched names, the normalisations that made
them match (matched_on), the score and the list's publication date.
"""

from __future__ import annotations

from typing import Any

import duckdb
import pandas as pd

from connectors.sanctions.screen import build_names_index, screen
from connectors.sanctions.settings import sanctions_settings

HIT_COLUMNS = [
    "partner_id",
    "hit_key",
    "list",
    "entry_id",
    "entity_type",
    "listed_name",
    "matched_name",
    "name_type",
    "score",
    "matched_on",
    "matched_fields",
    "partner_name_screened",
    "programs",
    "list_published",
    "threshold",
    "source_url",
]

# Column types of marts.partner_sanctions_hits, taken from the staging tables they come from.
SCHEMA = """
    select
        cast(null as varchar) as partner_id,
        cast(null as varchar) as hit_key,
        e.list_name as list,
        e.entry_id as entry_id,
        e.entity_type as entity_type,
        n.name as listed_name,
        n.name as matched_name,
        n.name_type as name_type,
        cast(null as double) as score,
        cast(null as varchar) as matched_on,
        cast(null as varchar) as matched_fields,
        cast(null as varchar) as partner_name_screened,
        e.programs as programs,
        e.list_published as list_published,
        cast(null as double) as threshold,
        n.source_url as source_url
    from staging.stg_sanctions__entries as e, staging.stg_sanctions__names as n
"""

_CANDIDATES = """
    select p.partner_id, 'registry_name' as field, p.name as name
    from staging.stg_registry__partners as p
    union all
    select i.partner_id, 'gleif_legal_name', r.legal_name
    from staging.stg_resolution__identifiers as i
    inner join staging.stg_gleif__lei_records as r
        on i.value = r.lei
    where i.scheme = 'lei' and i.status in ('given', 'resolved') and r.legal_name is not null
    union all
    select i.partner_id, 'gleif_other_name:' || coalesce(o.name_type, ''), o.name
    from staging.stg_resolution__identifiers as i
    inner join staging.stg_gleif__other_names as o
        on i.value = o.lei
    where i.scheme = 'lei' and i.status in ('given', 'resolved') and o.name is not null
"""


def _candidates(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str]]:
    return [(str(p), str(f), str(n)) for p, f, n in con.execute(_CANDIDATES).fetchall()]


def compute(con: duckdb.DuckDBPyConnection, context: dict[str, Any]) -> pd.DataFrame:
    config = sanctions_settings(context["settings"])
    names = con.execute(
        "select list_name, entry_id, name, name_type, source_url from staging.stg_sanctions__names"
    ).df()
    entries = {
        (str(r["list_name"]), str(r["entry_id"])): r
        for r in con.execute(
            "select list_name, entry_id, entity_type, programs, list_published "
            "from staging.stg_sanctions__entries"
        )
        .df()
        .to_dict("records")
    }
    index = build_names_index(names.to_dict("records"), include_weak=config.include_weak)
    best: dict[tuple[str, str, str], dict[str, Any]] = {}
    for partner_id, field, name in _candidates(con):
        try:
            hits = screen(name, index, config.threshold)
        except ValueError:
            continue  # a name that is empty after normalisation (punctuation only)
        for hit in hits:
            key = (partner_id, hit["list_name"], hit["entry_id"])
            held = best.get(key)
            if held is None:
                best[key] = {**hit, "fields": [field], "partner_id": partner_id}
                continue
            held["fields"].append(field)
            if hit["score"] > held["score"]:
                best[key] = {**hit, "fields": held["fields"], "partner_id": partner_id}
    rows = []
    for (partner_id, list_name, entry_id), hit in sorted(best.items()):
        entry = entries.get((list_name, entry_id), {})
        rows.append(
            {
                "partner_id": partner_id,
                "hit_key": f"{partner_id}:{list_name}:{entry_id}",
                "list": list_name,
                "entry_id": entry_id,
                "entity_type": entry.get("entity_type"),
                "listed_name": hit["listed_name"],
                "matched_name": hit["matched_name"],
                "name_type": hit["name_type"],
                "score": float(hit["score"]),
                "matched_on": ",".join(hit["matched_on"]),
                "matched_fields": ",".join(sorted(set(hit["fields"]))),
                "partner_name_screened": hit["candidate_name"],
                "programs": entry.get("programs"),
                "list_published": entry.get("list_published"),
                "threshold": config.threshold,
                "source_url": hit["source_url"],
            }
        )
    frame = pd.DataFrame(rows, columns=HIT_COLUMNS)
    return frame.astype({"score": "float64", "threshold": "float64"})
