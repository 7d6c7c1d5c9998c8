"""What a source contributes to a refresh, and the result types its tasks return.

A source is one extract task (batched: never one task per request), one pure parse step
and the landing tables its rows go to. The refresh flow runs every registered source the
same way, so adding a source does not touch the flow.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from connectors.config import Settings
from connectors.http import RawResponse
from flows.registry import Partner


@dataclass
class Extracted:
    """Responses to store raw, tagged with the partner they were fetched for (if any), and
    one log row per attempt: ok, http_error, failed, skipped (with the reason)."""

    source: str
    responses: list[tuple[str | None, RawResponse]] = field(default_factory=list)
    log: list[dict[str, Any]] = field(default_factory=list)
    context: dict[str, Any] = field(default_factory=dict)

    def ok_responses(self) -> Iterator[tuple[str | None, RawResponse]]:
        """(partner_id, response) for the 2xx answers: what a parse step reads."""
        return ((pid, r) for pid, r in self.responses if r.ok)

    def record(
        self,
        partner_id: str | None,
        url: str | None,
        outcome: str,
        *,
        response: RawResponse | None = None,
        error: str | None = None,
    ) -> None:
        if response is not None:
            self.responses.append((partner_id, response))
        self.log.append(
            {
                "source": self.source,
                "partner_id": partner_id,
                "url": response.url if response is not None else url,
                "status": response.status if response is not None else None,
                "outcome": outcome,
                "error": error,
                "payload_sha256": response.sha256 if response is not None else None,
            }
        )

    def record_response(self, partner_id: str | None, response: RawResponse) -> RawResponse:
        if response.ok:
            self.record(partner_id, None, "ok", response=response)
        else:
            snippet = response.body[:200].decode("utf-8", "replace")
            self.record(
                partner_id,
                None,
                "http_error",
                response=response,
                error=f"HTTP {response.status}: {snippet}",
            )
        return response

    def record_exception(self, partner_id: str | None, url: str | None, exc: BaseException) -> None:
        self.record(partner_id, url, "failed", error=f"{type(exc).__name__}: {exc}")


@dataclass
class Parsed:
    """Landing rows per raw table, and problems (payloads that did not parse, with reasons)."""

    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    problems: list[dict[str, Any]] = field(default_factory=list)

    def add(self, table: str, rows: list[dict[str, Any]]) -> None:
        self.tables.setdefault(table, []).extend(rows)

    def problem(
        self, source: str, partner_id: str | None, response: RawResponse, error: str
    ) -> None:
        self.problems.append(
            {
                "source": source,
                "partner_id": partner_id,
                "url": response.url,
                "status": response.status,
                "outcome": "parse_error",
                "error": error,
                "payload_sha256": response.sha256,
            }
        )


def provenance(response: RawResponse) -> dict[str, Any]:
    """Columns every landing row carries so each fact can cite its evidence."""
    return {
        "source_url": response.url,
        "payload_sha256": response.sha256,
        "fetched_at": response.fetched_at,
    }


@dataclass(frozen=True)
class SourceSpec:
    """How the refresh flow runs one source.

    extract: a Prefect task (partners, settings) -> Extracted.
    parse: a Prefect task (Extracted) -> Parsed.
    landing: raw table -> key column to upsert by (None: replace the whole table when the
        batch is not empty, for whole-dataset sources).
    offline: base URL of the replay server -> environment overrides for the demo.
    preflight: raises connectors.config.ConfigError before any work when a required setting
        or secret is missing.
    """

    name: str
    extract: Any
    parse: Any
    landing: Mapping[str, str | None]
    offline: Callable[[str], dict[str, str]]
    preflight: Callable[[Settings, Mapping[str, str], bool], None] = lambda s, e, o: None
    needs_partners: bool = True


def landing_order(specs: list[SourceSpec]) -> list[tuple[str, str | None]]:
    return [(table, key) for spec in specs for table, key in spec.landing.items()]


Fetcher = Callable[[list[Partner], Settings], Extracted]
