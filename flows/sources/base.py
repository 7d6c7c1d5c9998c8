"""What a source contributes to a refresh, and the objects its steps work with.

A source is one extract task (batched: never one task per request) that streams every
answer into the raw store as it arrives, tagged with what it is (`kind`) and whom it is
for (`partner_id`, None for a whole dataset); one parse function that turns the stored
answers of one partner (or of the dataset) back into landing rows; and the landing tables
with the key their rows are replaced by. The refresh runs every source the same way, so
adding a source does not touch the flow.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from connectors.config import Settings
from connectors.http import AnswerStatus, RawResponse

if TYPE_CHECKING:
    from flows.store import RawStore


class Extracted:
    """The sink an extract task writes to: answers go to the raw store the moment they
    arrive (nothing is kept in memory), attempts go to the fetch log, and rows that are
    facts about the extract itself (e.g. a crawl's skipped pages) go out as records."""

    def __init__(self, source: str, store: RawStore) -> None:
        self.source = source
        self.store = store

    def record(
        self,
        partner_id: str | None,
        url: str | None,
        outcome: str,
        *,
        response: RawResponse | None = None,
        kind: str | None = None,
        error: str | None = None,
        meta: Mapping[str, Any] | None = None,
    ) -> None:
        if response is not None:
            self.store.put(
                source=self.source,
                kind=kind or self.source,
                partner_id=partner_id,
                url=response.url,
                status=response.status,
                headers=response.headers,
                body=response.body,
                sha256=response.sha256,
                fetched_at=response.fetched_at,
                meta=meta,
            )
        self.store.log(
            {
                "source": self.source,
                "kind": kind,
                "partner_id": partner_id,
                "url": response.url if response is not None else url,
                "status": response.status if response is not None else None,
                "outcome": outcome,
                "error": error,
                "payload_sha256": response.sha256 if response is not None else None,
                "reused": response.reused if response is not None else None,
            }
        )

    def record_response(
        self,
        partner_id: str | None,
        response: RawResponse,
        *,
        kind: str,
        meta: Mapping[str, Any] | None = None,
        note: str | None = None,
    ) -> RawResponse:
        """Store one answer and log it: `ok` for 2xx, else `http_error` with a snippet
        (`note` replaces the snippet where a non-2xx answer is expected, e.g. a 404 that
        means "none reported")."""
        if response.ok or note is not None:
            self.record(partner_id, None, "ok", response=response, kind=kind, error=note, meta=meta)
        else:
            snippet = response.body[:200].decode("utf-8", "replace")
            error = f"HTTP {response.status}: {snippet}"
            if response.headers.get("X-Replay-Unrecorded"):
                error = f"not recorded in the offline snapshot (HTTP {response.status})"
                self.record(
                    partner_id, None, "not_recorded", response=response, kind=kind,
                    error=error, meta=meta,
                )  # fmt: skip
                return response
            self.record(
                partner_id, None, "http_error", response=response, kind=kind, error=error,
                meta=meta,
            )  # fmt: skip
        return response

    def record_exception(
        self,
        partner_id: str | None,
        url: str | None,
        exc: BaseException,
        *,
        kind: str | None = None,
    ) -> None:
        self.record(partner_id, url, "failed", kind=kind, error=f"{type(exc).__name__}: {exc}")

    def emit(self, table: str, partner_id: str | None, row: Mapping[str, Any]) -> None:
        """A landing row that the extract itself observed (not parsed from a payload)."""
        self.store.journal(
            {
                "type": "record",
                "run_id": self.store.run_id,
                "source": self.source,
                "partner_id": partner_id,
                "table": table,
                "row": dict(row),
            }
        )


@dataclass
class Stored(AnswerStatus):
    """One answer as stored: metadata from raw.responses, body read back on demand."""

    response_id: str
    source: str
    kind: str
    partner_id: str | None
    url: str
    status: int
    headers: dict[str, str]
    sha256: str
    fetched_at: datetime
    meta: dict[str, Any]
    store: RawStore = field(repr=False)

    @property
    def body(self) -> bytes:
        return self.store.body(self.sha256)


@dataclass
class Batch:
    """What one parse call sees: the stored answers of one partner (or of the dataset) from
    one run, the records its extract emitted, and the settings of that run."""

    source: str
    partner_id: str | None
    responses: list[Stored]
    records: dict[str, list[dict[str, Any]]]
    settings: Settings

    def ok_responses(self) -> Iterator[tuple[str | None, Stored]]:
        """(partner_id, answer) for the 2xx answers: what a parse step usually reads."""
        return ((r.partner_id, r) for r in self.responses if r.ok)


@dataclass
class Parsed:
    """Landing rows per raw table, and problems (payloads that did not parse, with reasons)."""

    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    problems: list[dict[str, Any]] = field(default_factory=list)

    def add(self, table: str, rows: list[dict[str, Any]]) -> None:
        self.tables.setdefault(table, []).extend(rows)

    def problem(self, source: str, partner_id: str | None, response: Stored, error: str) -> None:
        self.problems.append(
            {
                "source": source,
                "kind": response.kind,
                "partner_id": partner_id,
                "url": response.url,
                "status": response.status,
                "outcome": "parse_error",
                "error": error,
                "payload_sha256": response.sha256,
            }
        )


def provenance(response: Stored | RawResponse) -> dict[str, Any]:
    """Columns every landing row carries so each fact can cite its evidence."""
    return {
        "source_url": response.url,
        "payload_sha256": response.sha256,
        "fetched_at": response.fetched_at,
    }


@dataclass(frozen=True)
class SourceSpec:
    """How the refresh flow runs one source.

    extract: a Prefect task (partners, settings, out: Extracted) -> None.
    parse: (Batch) -> Parsed, called once per partner (per_partner=True) or once for the
        whole dataset of the run.
    landing: raw table -> key column its rows are replaced by (None: replace the whole
        table when the batch is not empty, for whole-dataset sources).
    kinds: what the source's answers can be; every stored answer carries one of them.
    offline: base URL of the replay server -> environment overrides for the demo.
    preflight: raises connectors.config.ConfigError before any work when a required setting
        or secret is missing.
    phase: sources of a lower phase are extracted and loaded first (entity resolution: 0);
        later phases see the partners with the identifiers it found.
    """

    name: str
    extract: Any
    parse: Callable[[Batch], Parsed]
    landing: Mapping[str, str | None]
    kinds: tuple[str, ...]
    offline: Callable[[str], dict[str, str]]
    preflight: Callable[[Settings, Mapping[str, str], bool], None] = lambda s, e, o: None
    per_partner: bool = True
    phase: int = 1
