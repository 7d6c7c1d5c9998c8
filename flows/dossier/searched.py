"""What was searched for a partner and what was not found: the identifier searches (name and
country asked, the answer, why nothing was picked) and the sources that gave this partner no
data in its latest refresh. A dossier of a company that resolves to nothing is mostly this
section and the launch questions."""

from __future__ import annotations

import json
from typing import Any

SCHEMES = {"lei": "LEI (GLEIF legal-name search)", "cik": "SEC CIK (SEC company tickers)"}
FOUND = ("given", "resolved")
NO_DATA = ("skipped", "not_recorded", "http_error", "failed", "parse_error")


def reason(evidence: str | None) -> str | None:
    if not evidence:
        return None
    try:
        parsed = json.loads(evidence)
    except ValueError:
        return evidence
    return str(parsed.get("reason") or evidence) if isinstance(parsed, dict) else evidence


def candidates(text: str | None) -> list[dict[str, Any]]:
    try:
        parsed = json.loads(text or "[]")
    except ValueError:
        return []
    return parsed if isinstance(parsed, list) else []


def searched(data: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per search or source: what, asked for, found (yes/no), result, why."""
    rows = []
    for i in data["identifiers"]:
        if i["status"] == "given":
            continue  # no search was made
        asked = f"{i.get('query_name') or '?'}" + (
            f" in {i['query_country']}" if i.get("query_country") else ""
        )
        names = [
            f"{c.get('legal_name') or c.get('title')} ({c.get('lei') or c.get('cik')}, "
            f"{float(c.get('confidence') or 0):.2f})"
            for c in candidates(i.get("candidates"))
        ]
        rows.append(
            {
                "what": SCHEMES.get(i["scheme"], i["scheme"]),
                "asked": asked,
                "found": i["status"] in FOUND,
                "result": i["value"] if i["status"] in FOUND else i["status"],
                "why": reason(i.get("evidence")),
                "candidates": names,
                "source_url": i.get("source_url"),
            }
        )
    for f in data["freshness"]:
        outcomes = {o.strip() for o in str(f.get("outcomes") or "").split(",")}
        if "ok" in outcomes or not outcomes & set(NO_DATA) or f["source"] == "resolution":
            continue
        rows.append(
            {
                "what": f"source {f['source']}",
                "asked": f"{f['attempts']} attempt(s) in its latest refresh",
                "found": False,
                "result": f.get("outcomes"),
                "why": f.get("example_problem"),
                "candidates": [],
                "source_url": None,
            }
        )
    return rows
