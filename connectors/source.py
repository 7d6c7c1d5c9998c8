"""What a source is, declared once: `SPEC = SourceSpec(...)` in `connectors/<src>/source.py`.

A source is one extract function (batched: never one call per request) that streams every
answer into the raw store as it arrives, tagged with what it is (`kind`) and whom it is
for (`partner_id`, None for a whole dataset); one parse function that turns the stored
answers of one partner (or of the dataset) back into landing rows; the landing tables with
the key their rows are replaced by; its settings' defaults; and what the offline demo points
it at. The refresh flow finds every package under `connectors/` that has a `source.py` and
runs them all the same way, so adding a source does not touch the flow.

Nothing here imports Prefect or `flows`: the flow wraps each extract in its own task.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa

from connectors.budget import DEFERRED, BudgetSpent, TimeBudget
from connectors.config import Settings
from connectors.http import AnswerStatus, RawResponse


@dataclass(frozen=True)
class Partner:
    """One registry row as the sources see it (flows/registry.py reads and checks them)."""

    partner_id: str
    name: str
    country_iso3: str
    country_iso2: str | None
    website: str | None = None
    lei: str | None = None
    cik: str | None = None
    line: int = 0

    def as_row(self) -> dict[str, object]:
        return asdict(self)


class PayloadReader(Protocol):
    """Where a parse reads stored bodies from: the raw store, or the bodies shipped with a
    batch to another process (flows/scaleout.py)."""

    def body(self, sha256: str) -> bytes: ...


class PayloadStore(PayloadReader, Protocol):
    """The raw store an extract writes to and a parse reads from (flows/store.py RawStore)."""

    run_id: str | None

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
    ) -> dict[str, Any]: ...

    def log(self, row: Mapping[str, Any]) -> None: ...

    def journal(self, entry: dict[str, Any]) -> None: ...


Progress = Callable[[str, int, int | None, str | None], None]


def _no_progress(stage: str, advance: int, total: int | None, note: str | None) -> None:
    return None


class Extracted:
    """The sink an extract task writes to: answers go to the raw store the moment they
    arrive (nothing is kept in memory), attempts go to the fetch log, and rows that are
    facts about the extract itself (e.g. a crawl's skipped pages) go out as records."""

    def __init__(self, source: str, store: PayloadStore, progress: Progress = _no_progress) -> None:
        self.source = source
        self.store = store
        self._progress = progress

    def report(self, advance: int = 0, total: int | None = None, note: str | None = None) -> None:
        """Progress of this extract: `advance` steps done (of `total` when known)."""
        self._progress(self.source, advance, total, note)

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
                body=lambda: response.body,  # read only when the store lacks it
                sha256=response.sha256,
                fetched_at=response.fetched_at,
                meta=meta,
                size=response.size,
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
        outcome = DEFERRED if isinstance(exc, BudgetSpent) else "failed"
        self.record(partner_id, url, outcome, kind=kind, error=f"{type(exc).__name__}: {exc}")

    def deferred(
        self, partner_id: str | None, budget: TimeBudget | None, *, kind: str | None = None
    ) -> bool:
        """True, with the partner's `deferred` row, once the source's time budget is spent:
        the caller then asks nothing for it this run."""
        if budget is None or not budget.spent():
            return False
        self.record(partner_id, None, DEFERRED, kind=kind, error=budget.reason)
        return True

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
    store: PayloadReader = field(repr=False)

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
class Columns:
    """Landing rows held column-wise: one list per column, equal in length (`data`), and the
    values every row shares (`constant`, e.g. the payload's hash). A company's thousands of
    facts land from here with no dict per row and no per-row copy of what they share.

    Read them through `column`, `rows` and `table`: once made, the Arrow table is what
    crosses to another process (flows/parse_workers.py), and `data` stays behind."""

    data: dict[str, list[Any]]
    constant: dict[str, Any] = field(default_factory=dict)
    _table: pa.Table | None = field(default=None, repr=False, compare=False)

    def __len__(self) -> int:
        if self._table is not None:
            return int(self._table.num_rows)
        return len(next(iter(self.data.values()), []))

    def table(self) -> pa.Table | None:
        """The columns as an Arrow table (made once), or None where Arrow cannot type a
        column (mixed kinds of values, an integer past 64 bits)."""
        if self._table is None:
            try:
                self._table = pa.table(self.data)
            except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
                return None
        return self._table

    @property
    def names(self) -> list[str]:
        if self._table is not None and not self.data:
            return list(self._table.column_names)
        return list(self.data)

    def column(self, name: str) -> list[Any]:
        if self._table is not None and not self.data:
            return list(self._table.column(name).to_pylist())
        return self.data[name]

    def rows(self) -> list[dict[str, Any]]:
        """The same rows as dicts (for a reader that wants them so, e.g. a test)."""
        names = self.names
        return [
            {**dict(zip(names, values, strict=True)), **self.constant}
            for values in zip(*(self.column(name) for name in names), strict=True)
        ]

    def __getstate__(self) -> dict[str, Any]:
        if self._table is None:
            return dict(self.__dict__)
        return {"data": {}, "constant": self.constant, "_table": self._table}


@dataclass
class Parsed:
    """Landing rows per raw table (as dicts in `tables`, or column-wise in `columns`), and
    problems (payloads that did not parse, with reasons)."""

    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    problems: list[dict[str, Any]] = field(default_factory=list)
    columns: dict[str, list[Columns]] = field(default_factory=dict)

    def add(self, table: str, rows: list[dict[str, Any]]) -> None:
        self.tables.setdefault(table, []).extend(rows)

    def add_columns(self, table: str, columns: Columns) -> None:
        self.columns.setdefault(table, []).append(columns)

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


Extract = Callable[[list[Partner], Settings, Extracted], None]


def _no_overrides(base_url: str) -> dict[str, str]:
    return {}


def _no_preflight(settings: Settings, env: Mapping[str, str], offline: bool) -> None:
    return None


@dataclass(frozen=True)
class SourceSpec:
    """Everything the refresh needs to know about one source.

    name: the source's name (fetch log, raw.responses, `reparse --source`, task
        `extract-<name>`); its landing tables are `raw.<name>__<entity>`, their DDL in
        sql/raw/<name>.sql, its staging models sql/staging/stg_<name>__<entity>.sql, their
        checks and row-count bounds in expectations/staging.yml.
    extract: (partners, settings, out: Extracted) -> None, a plain function; the flow runs
        it as a Prefect task, and anything it raises fails this source only.
    parse: (Batch) -> Parsed, called once per partner (per_partner=True) or once for the
        whole dataset of the run.
    landing: raw table -> key column its rows are replaced by (None: replace the whole
        table when the batch is not empty, for whole-dataset sources).
    kinds: what the source's answers can be; every stored answer carries one of them.
    config: the defaults of its settings, `{section: {key: value}}` (usually one section
        named after the source: base URL, rate_per_second, caps). A user's
        config/sources.toml `[sources.<section>]` and PARTNERDD_<SECTION>_<KEY> override
        them; there are no other defaults.
    offline: base URL of the replay server -> environment overrides for the demo; the
        recorded answers it serves are in demo/snapshot/routes.d/<name>.json.
    preflight: raises connectors.config.ConfigError before any work when a required setting
        or secret is missing.
    phase: sources of a lower phase are extracted and loaded first; later phases see the
        partners with the identifiers that `identifies` tables of earlier phases found.
    identifies: a landing table of (partner_id, scheme, value, status) rows: a partner's
        missing identifier named by `scheme` (lei, cik) is taken from its rows with status
        given or resolved.
    raw_sql: the DDL of its landing tables, when not sql/raw/<name>.sql (a source kept
        outside this repository).
    cursor: for a source whose API can ask for "only what is new since X": SQL over its
        landing tables giving (partner_id, value) rows; before the extract the refresh runs
        it and hands the values to the extract as `settings.cursors[name]` (none with
        `--full`). Its landing must then merge (a key per item, not per partner), since an
        answer holds only the new items.
    """

    name: str
    extract: Extract
    parse: Callable[[Batch], Parsed]
    landing: Mapping[str, str | None]
    kinds: tuple[str, ...]
    config: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    offline: Callable[[str], dict[str, str]] = _no_overrides
    preflight: Callable[[Settings, Mapping[str, str], bool], None] = _no_preflight
    per_partner: bool = True
    phase: int = 1
    identifies: str | None = None
    raw_sql: Path | None = None
    cursor: str | None = None


def declared_sources() -> list[SourceSpec]:
    """Every `SPEC` in a `connectors/<package>/source.py`, by phase, then name."""
    import connectors

    specs = []
    for module in pkgutil.iter_modules(connectors.__path__):
        if not module.ispkg:
            continue
        try:
            found = importlib.import_module(f"connectors.{module.name}.source")
        except ModuleNotFoundError as exc:
            if exc.name != f"connectors.{module.name}.source":
                raise
            continue  # a helper package (no source of its own)
        spec = found.SPEC
        if spec.name != module.name:
            raise ValueError(f"connectors/{module.name}/source.py declares {spec.name!r}")
        specs.append(spec)
    return sorted(specs, key=lambda s: (s.phase, s.name))
