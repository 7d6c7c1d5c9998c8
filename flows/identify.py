"""Who a requested company is, decided before anything is written: the resolution source's own
search (connectors/resolution: GLEIF legal-name search with its fuzzy fallback, the SEC
company tickers), run once for the one company. A given LEI or CIK wins; an ambiguous
answer is returned with its candidates for the requester to choose (`--lei` / `--cik`),
never picked. Nothing is stored: the refresh that follows searches again and stores its
answers as evidence."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from connectors.config import Settings
from connectors.resolution.source import identify
from connectors.source import Extracted, Partner


class SearchLog:
    """A PayloadStore that keeps only what was asked and answered (no body is stored)."""

    run_id: str | None = None

    def __init__(self) -> None:
        self.asked: list[dict[str, Any]] = []

    def put(
        self,
        *,
        source: str,
        kind: str,
        partner_id: str | None,
        url: str,
        status: int,
        headers: Mapping[str, str],
        body: bytes | Callable[[], bytes],
        sha256: str,
        fetched_at: datetime,
        meta: Mapping[str, Any] | None = None,
        size: int | None = None,
    ) -> dict[str, Any]:
        return {}

    def log(self, row: Mapping[str, Any]) -> None:
        self.asked.append({k: row.get(k) for k in ("kind", "url", "status", "outcome", "error")})

    def journal(self, entry: dict[str, Any]) -> None:
        return None

    def body(self, sha256: str) -> bytes:
        raise KeyError(sha256)


@dataclass
class Identity:
    """What the search found per scheme (lei, cik): status given / resolved / ambiguous /
    none / error, the value when found, candidates and the reason."""

    partner: Partner
    rows: dict[str, dict[str, Any]]
    asked: list[dict[str, Any]] = field(default_factory=list)

    def value(self, scheme: str) -> str | None:
        row = self.rows.get(scheme) or {}
        return row.get("value") if row.get("status") in ("given", "resolved") else None

    def status(self, scheme: str) -> str:
        return str((self.rows.get(scheme) or {}).get("status") or "none")

    @property
    def ambiguous(self) -> list[str]:
        return [s for s, row in self.rows.items() if row.get("status") == "ambiguous"]

    @property
    def found_nothing(self) -> bool:
        return all(row.get("status") not in ("given", "resolved") for row in self.rows.values())

    def candidates(self, scheme: str) -> list[dict[str, Any]]:
        text = (self.rows.get(scheme) or {}).get("candidates")
        parsed = json.loads(text) if text else []
        return parsed if isinstance(parsed, list) else []

    def reason(self, scheme: str) -> str:
        evidence = (self.rows.get(scheme) or {}).get("evidence") or ""
        try:
            parsed = json.loads(evidence)
        except ValueError:
            return str(evidence)
        return str(parsed.get("reason") or evidence) if isinstance(parsed, dict) else evidence

    def as_json(self) -> dict[str, Any]:
        return {
            scheme: {
                "status": self.status(scheme),
                "value": self.value(scheme),
                "reason": self.reason(scheme),
                "candidates": self.candidates(scheme),
            }
            for scheme in self.rows
        }


def identify_one(partner: Partner, settings: Settings) -> Identity:
    """Run the resolution source's search for one company; nothing is stored."""
    log = SearchLog()
    out = Extracted("resolution", log)
    rows: dict[str, dict[str, Any]] = {}
    for _, found in identify([partner], settings, out):
        rows = {row["scheme"]: row for row in found}
    return Identity(partner, rows, log.asked)
