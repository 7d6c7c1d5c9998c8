"""From the raw store to landing tables: ingest journals, then parse what is not parsed yet.

Parsing reads the stored payloads (never an in-memory hand-off), one partner at a time for
per-partner sources and once per run for whole-dataset sources, and lands the rows in
chunks so memory holds one chunk, not the registry. A payload already parsed is not parsed
again; a partner's answers from several runs (a killed run, then a full one) are parsed
from the latest run only.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import duckdb
import pandas as pd

from connectors.config import Settings
from connectors.source import Batch, Columns, Parsed, SourceSpec, Stored
from flows import load
from flows.store import RawStore

# Rows landed per transaction: more than one DuckDB row group (122,880 rows), so a large
# source's rows are written to the file as they are inserted, not logged to the WAL first
# and written again at the checkpoint (half the commit time of 50,000-row chunks)
CHUNK_ROWS = 130_000
JOURNAL_BATCH_BYTES = 8 * 2**20  # journal lines ingested at a time

_LOG_COLUMNS = [
    "run_id", "source", "kind", "partner_id", "url", "status", "outcome", "error",
    "payload_sha256", "occurred_at", "reused",
]  # fmt: skip


class JournalReader:
    """Reads a journal that is still being written: complete lines only, from where it
    stopped last time."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0

    def new_batches(self, max_bytes: int = JOURNAL_BATCH_BYTES) -> Iterator[bytes]:
        """The lines written since the last call, about `max_bytes` of whole lines at a
        time (a 10,000-partner journal is 223 MB; it is never read at once)."""
        if not self.path.exists():
            return
        with self.path.open("rb") as fh:
            while True:
                fh.seek(self.offset)
                data = fh.read(max_bytes)
                end = data.rfind(b"\n") + 1
                if end == 0:
                    if len(data) < max_bytes:
                        return  # nothing, or a line still being written
                    end = len(data) + len(fh.readline())  # one line longer than a batch
                    fh.seek(self.offset)
                    data = fh.read(end)
                    if not data.endswith(b"\n"):
                        return
                self.offset += end
                yield data[:end]

    def ingest_new(self, con: duckdb.DuckDBPyConnection) -> int:
        """Ingest every complete line written since the last call; returns the answers."""
        count = 0
        work = self.path.with_name(f".{self.path.stem}.ingest")
        try:
            for lines in self.new_batches():
                work.write_bytes(lines)
                count += ingest(con, work)
        finally:
            work.unlink(missing_ok=True)
        return count


# Every field a journal line may have (flows/store.py): a line read with these columns
# (others ignored); a line cut by a kill, or longer than the largest object DuckDB reads
# (a line is a few KB), reads as all nulls: left out by its type, and counted.
_JOURNAL_FIELDS = {
    "type": "varchar", "response_id": "varchar", "run_id": "varchar", "source": "varchar",
    "kind": "varchar", "partner_id": "varchar", "url": "varchar", "status": "integer",
    "headers": "json", "sha256": "varchar", "size": "bigint", "fetched_at": "timestamptz",
    "meta": "json", "outcome": "varchar", "error": "varchar", "payload_sha256": "varchar",
    "occurred_at": "timestamptz", "reused": "varchar", "table": "varchar", "row": "json",
}  # fmt: skip
_READ_JOURNAL = (
    "read_json($path, format = 'newline_delimited', ignore_errors = true, "
    "maximum_object_size = 33554432, columns = {"
    + ", ".join(f"'{k}': '{v}'" for k, v in _JOURNAL_FIELDS.items())
    + "})"
)


def ingest(con: duckdb.DuckDBPyConnection, path: Path) -> int:
    """A journal file's lines into raw.responses, ops.fetch_log and raw.extract_records,
    read by DuckDB once (no Python object per line); returns the number of answers in it
    (an answer ingested before, from a killed run's journal, is not added twice)."""
    con.execute(
        f"create or replace temp table _journal as select * from {_READ_JOURNAL}",  # noqa: S608
        {"path": str(path)},
    )
    try:
        con.execute(
            "insert or ignore into raw.responses by name "
            "select response_id, run_id, source, kind, partner_id, url, status, "
            "coalesce(headers, '{}') as headers, sha256, size, fetched_at, "
            "coalesce(meta, '{}') as meta from _journal where type = 'response'"
        )
        con.execute(
            "insert into ops.fetch_log by name "  # noqa: S608 (our constant)
            f"select {', '.join(_LOG_COLUMNS)} from _journal where type = 'log'"
        )
        con.execute(
            "insert into raw.extract_records by name "
            'select run_id, source, partner_id, "table" as table_name, "row" as row_json '
            "from _journal where type = 'record'"
        )
        answers, unreadable = con.execute(
            "select count(*) filter (where type = 'response'), "
            "count(*) filter (where type is null) from _journal"
        ).fetchall()[0]
    finally:
        con.execute("drop table if exists _journal")
    if unreadable:  # a line cut by a kill (JournalReader never hands one over); else a bug
        logging.getLogger(__name__).warning(
            "%s: %d journal line(s) could not be read (cut by a kill?)", path.name, unreadable
        )
    return int(answers)


def _insert(con: duckdb.DuckDBPyConnection, sql: str, frame: pd.DataFrame) -> None:
    con.register("batch", frame)
    try:
        con.execute(sql)
    finally:
        con.unregister("batch")


def ingest_earlier_journals(con: duckdb.DuckDBPyConnection, store: RawStore, run_id: str) -> int:
    """Journals of runs that ended before they were ingested (a killed refresh): what they
    fetched becomes usable now. Idempotent: re-ingesting a journal replaces its rows."""
    count = 0
    for path in store.pending_journals(exclude=run_id):
        earlier = path.stem
        con.execute("begin transaction")
        con.execute("delete from ops.fetch_log where run_id = ?", [earlier])
        con.execute(
            "delete from raw.extract_records where run_id = ? and parsed_run_id is null", [earlier]
        )
        count += JournalReader(path).ingest_new(con)  # a batch of lines at a time
        con.execute(
            "insert or replace into ops.journals values (?, ?)", [earlier, datetime.now(UTC)]
        )
        con.execute("commit")
        store.retire(path)
    return count


# ------------------------------------------------------------------------------ parsing


@dataclass
class LandingResult:
    source: str
    groups: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    problems: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0


def _groups(con: duckdb.DuckDBPyConnection, spec: SourceSpec) -> list[tuple[str | None, str]]:
    """(partner_id or None, latest run_id) for every group with unparsed answers/records."""
    group_col = "partner_id" if spec.per_partner else "null"
    rows = con.execute(
        f"""
        with pending as (
            select {group_col} as grp, run_id from raw.responses
            where source = $source and parsed_run_id is null
            union all
            select {group_col} as grp, run_id from raw.extract_records
            where source = $source and parsed_run_id is null
        )
        select grp, max(run_id) from pending group by grp order by grp nulls first
        """,  # noqa: S608 (group_col is one of two literals)
        {"source": spec.name},
    ).fetchall()
    return [(g, r) for g, r in rows]


GROUPS_PER_READ = 500  # groups whose answers and records are read in one query


def _group_rows(
    con: duckdb.DuckDBPyConnection, spec: SourceSpec, groups: list[tuple[str | None, str]], sql: str
) -> list[tuple[Any, ...]]:
    """Rows of `sql` (selecting from `t`, grouped by its first column) for these groups'
    latest runs, in one query: a group is (partner_id or None, run_id)."""
    frame = pd.DataFrame(
        {"grp": [g for g, _ in groups], "run_id": [r for _, r in groups]}, dtype="object"
    )
    group_col = "t.partner_id" if spec.per_partner else "null"
    con.register("wanted_groups", frame)
    try:
        return con.execute(
            sql.format(group=group_col)
            + " inner join wanted_groups as w on w.run_id = t.run_id"
            + (" and w.grp is not distinct from t.partner_id" if spec.per_partner else "")
            + " where t.source = $source order by 1, t.rowid",
            {"source": spec.name},
        ).fetchall()
    finally:
        con.unregister("wanted_groups")


def _read_groups(
    con: duckdb.DuckDBPyConnection,
    store: RawStore,
    spec: SourceSpec,
    groups: list[tuple[str | None, str]],
) -> dict[str | None, tuple[list[Stored], dict[str, list[dict[str, Any]]]]]:
    """The stored answers (in fetch order) and records of each group's latest run."""
    out: dict[str | None, tuple[list[Stored], dict[str, list[dict[str, Any]]]]] = {
        g: ([], {}) for g, _ in groups
    }
    answers = _group_rows(
        con,
        spec,
        groups,
        "select {group} as grp, t.response_id, t.source, t.kind, t.partner_id, t.url, t.status, "
        "t.headers, t.sha256, t.fetched_at, t.meta from raw.responses as t",
    )
    for r in sorted(answers, key=lambda r: (r[9], r[1])):  # fetched_at, response_id
        out[r[0]][0].append(
            Stored(
                response_id=r[1],
                source=r[2],
                kind=r[3],
                partner_id=r[4],
                url=r[5],
                status=r[6],
                headers=json.loads(r[7] or "{}"),
                sha256=r[8],
                fetched_at=r[9],
                meta=json.loads(r[10] or "{}"),
                store=store,
            )  # fmt: skip
        )
    records = _group_rows(
        con,
        spec,
        groups,
        "select {group} as grp, t.table_name, t.row_json from raw.extract_records as t",
    )
    for grp, table, row_json in records:
        out[grp][1].setdefault(table, []).append(json.loads(row_json))
    return out


def forget_parsed(con: duckdb.DuckDBPyConnection, source: str) -> None:
    """Every stored answer and record of `source` is to be parsed again (`partnerdd reparse`)."""
    for table in ("raw.responses", "raw.extract_records"):
        con.execute(
            f"update {table} set parsed_run_id = null where source = ?",  # noqa: S608
            [source],
        )
    con.execute("delete from ops.parsed_groups where source = ?", [source])


def _mark_parsed(
    con: duckdb.DuckDBPyConnection, spec: SourceSpec, partner_ids: list[str | None], run_id: str
) -> None:
    """Every unparsed answer of these groups (older runs' too) is now consumed."""
    for table in ("raw.responses", "raw.extract_records"):
        if spec.per_partner:
            frame = pd.DataFrame({"partner_id": [p for p in partner_ids if p is not None]})
            con.register("done_groups", frame.astype("object"))
            try:
                con.execute(
                    f"update {table} set parsed_run_id = $run where source = $source "  # noqa: S608
                    "and parsed_run_id is null and (partner_id in "
                    "(select partner_id from done_groups) or (partner_id is null and $nulls))",
                    {"run": run_id, "source": spec.name, "nulls": None in partner_ids},
                )
            finally:
                con.unregister("done_groups")
        else:
            con.execute(
                f"update {table} set parsed_run_id = $run where source = $source "  # noqa: S608
                "and parsed_run_id is null",
                {"run": run_id, "source": spec.name},
            )


# Values an extract stamps on its own records that say nothing about their content.
_VOLATILE = {"fetched_at", "collection_id", "row_id", "occurred_at", "loaded_at", "source_url"}


def signature(batch: Batch) -> str:
    """What a group's landing rows are a function of: its answers' bytes and its records."""
    digest = hashlib.sha256()
    for r in sorted(batch.responses, key=lambda r: (r.kind, r.url, r.sha256)):
        where = urlsplit(r.url)  # not the host: a mirror or the replay server's port
        digest.update(f"{r.kind}|{where.path}?{where.query}|{r.status}|{r.sha256}\n".encode())
    for table in sorted(batch.records):
        rows = [
            json.dumps({k: v for k, v in row.items() if k not in _VOLATILE}, sort_keys=True)
            for row in batch.records[table]
        ]
        for row in sorted(rows):
            digest.update(f"{table}|{row}\n".encode())
    return digest.hexdigest()


def _last_signatures(con: duckdb.DuckDBPyConnection, source: str) -> dict[str, str]:
    rows = con.execute(
        "select group_key, signature from ops.parsed_groups where source = ?", [source]
    ).fetchall()
    return {k: v for k, v in rows}


class _Chunk:
    """Parsed rows waiting to be landed, and the groups they came from."""

    def __init__(self) -> None:
        self.tables: dict[str, list[dict[str, Any]]] = {}
        self.columns: dict[str, list[Columns]] = {}
        self.keys: dict[str, set[Any]] = {}
        self.groups: list[str | None] = []
        self.signatures: dict[str, str] = {}
        self.rows = 0

    def add(
        self, spec: SourceSpec, group: str | None, parsed: Parsed | None, signature: str
    ) -> None:
        """`parsed` None: the group's answers are unchanged, only mark them consumed."""
        self.groups.append(group)
        self.signatures[group or ""] = signature
        if parsed is None:
            return
        for table, rows in parsed.tables.items():
            if table not in spec.landing:
                continue  # a parse input (e.g. mention phrases), not a landing table
            self.tables.setdefault(table, []).extend(rows)
            self.rows += len(rows)
        for table, parts in parsed.columns.items():
            if table not in spec.landing:
                continue
            self.columns.setdefault(table, []).extend(parts)
            self.rows += sum(len(part) for part in parts)


def _flush(
    con: duckdb.DuckDBPyConnection,
    spec: SourceSpec,
    chunk: _Chunk,
    run_id: str,
    result: LandingResult,
) -> None:
    if not chunk.groups:
        return
    con.execute("begin transaction")
    try:
        for table in [*chunk.tables, *(t for t in chunk.columns if t not in chunk.tables)]:
            rows, parts = chunk.tables.get(table, []), chunk.columns.get(table, [])
            key = spec.landing[table]
            written = load.upsert(con, table, rows, key=key, columns=parts)
            if written:
                result.rows[table] = result.rows.get(table, 0) + written
                version = bump_version(con, table, run_id)
                keys = None if key is None else _keys(key, rows, parts)
                if keys is not None:
                    record_keys(con, table, version, keys)
        _mark_parsed(con, spec, chunk.groups, run_id)
        if chunk.signatures:
            groups = pd.DataFrame(
                {
                    "source": spec.name,
                    "group_key": list(chunk.signatures),
                    "signature": list(chunk.signatures.values()),
                    "run_id": run_id,
                }
            )
            _insert(
                con, "insert or replace into ops.parsed_groups by name select * from batch", groups
            )
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


def bump_version(con: duckdb.DuckDBPyConnection, table: str, run_id: str) -> int:
    """The table's next version (the first is 1)."""
    row = con.execute(
        """
        insert into ops.table_state (table_name, version, run_id, updated_at)
        values ($t, 1, $run, now())
        on conflict (table_name) do update
            set version = ops.table_state.version + 1, run_id = $run, updated_at = now()
        returning version
        """,
        {"t": table, "run": run_id},
    ).fetchone()
    assert row is not None
    return int(row[0])


def _keys(key: str, rows: list[dict[str, Any]], parts: list[Columns]) -> set[str] | None:
    """The key values written; None when one is missing (a partitioned model cannot find
    that row by its key, so the version is left without keys: a whole rebuild)."""
    values: list[Any] = [row.get(key) for row in rows]
    for part in parts:
        if key in part.constant:
            values.append(part.constant[key])
        else:
            values += part.column(key) if key in part.names else [None]
    if any(value is None for value in values):
        return None
    return {str(value) for value in values}


def record_keys(con: duckdb.DuckDBPyConnection, table: str, version: int, keys: set[str]) -> None:
    """Which key values this version of a keyed raw table wrote (ops.landed_keys)."""
    if keys:
        _insert(
            con,
            "insert into ops.landed_keys by name select * from batch",
            pd.DataFrame({"table_name": table, "version": version, "key": sorted(keys)}),
        )


GroupParser = Callable[
    [SourceSpec, Iterable[tuple[str | None, Batch | None]]],
    Iterator[tuple[str | None, Parsed | None]],
]


def parse_safely(parse: Callable[[Batch], Parsed], batch: Batch) -> Parsed:
    """`parse(batch)`; a parser bug costs this group (a parse_error problem), not the source."""
    try:
        return parse(batch)
    except Exception as exc:
        parsed = Parsed()
        parsed.problems.append(
            {
                "source": batch.source,
                "kind": None,
                "partner_id": batch.partner_id,
                "url": None,
                "status": None,
                "outcome": "parse_error",
                "error": f"{type(exc).__name__}: {exc}",
                "payload_sha256": None,
            }
        )
        return parsed


def parse_here(
    spec: SourceSpec, groups: Iterable[tuple[str | None, Batch | None]]
) -> Iterator[tuple[str | None, Parsed | None]]:
    """Each group parsed in this process, in order (a None batch: unchanged, nothing to parse).
    flows/scaleout.py parses them on a Dask cluster instead, yielding in the same order."""
    for group, batch in groups:
        yield group, None if batch is None else parse_safely(spec.parse, batch)


def parse_pending(
    con: duckdb.DuckDBPyConnection,
    store: RawStore,
    spec: SourceSpec,
    settings: Settings,
    run_id: str,
    on_group: Any = None,
    parser: GroupParser = parse_here,
) -> LandingResult:
    """Parse and land every group of `spec` with unparsed answers; returns what happened.

    A parse function that raises marks its group's answers with a parse_error row and the
    rest of the source still lands. `parser` only turns batches into rows; what is landed,
    in which chunks, is decided here, by this process alone (the one writer).
    """
    result = LandingResult(spec.name)
    started = time.perf_counter()
    chunk = _Chunk()
    signatures: dict[str | None, str] = {}

    def batches() -> Iterator[tuple[str | None, Batch | None]]:
        last = _last_signatures(con, spec.name)
        pending = _groups(con, spec)
        read: dict[str | None, tuple[list[Stored], dict[str, list[dict[str, Any]]]]] = {}
        for i, (partner_id, _) in enumerate(pending):
            if i % GROUPS_PER_READ == 0:
                read = _read_groups(con, store, spec, pending[i : i + GROUPS_PER_READ])
            responses, records = read.pop(partner_id)
            batch = Batch(
                source=spec.name,
                partner_id=partner_id,
                responses=responses,
                records=records,
                settings=settings,
            )
            signatures[partner_id] = sig = signature(batch)
            yield partner_id, None if last.get(partner_id or "") == sig else batch

    for partner_id, parsed in parser(spec, batches()):
        sig = signatures.pop(partner_id)
        chunk.add(spec, partner_id, parsed, sig)
        if parsed is None:
            continue
        result.problems.extend(parsed.problems)
        result.groups += 1
        if on_group is not None:
            on_group()
        if chunk.rows >= CHUNK_ROWS:
            _flush(con, spec, chunk, run_id, result)
            chunk = _Chunk()
    _flush(con, spec, chunk, run_id, result)
    write_problems(con, run_id, result.problems)
    result.seconds = time.perf_counter() - started
    return result


def write_problems(
    con: duckdb.DuckDBPyConnection, run_id: str, problems: list[dict[str, Any]]
) -> None:
    if not problems:
        return
    now = datetime.now(UTC)
    frame = pd.DataFrame(
        [
            {**{k: p.get(k) for k in _LOG_COLUMNS}, "run_id": run_id, "occurred_at": now}
            for p in problems
        ]
    )
    _insert(con, "insert into ops.fetch_log by name select * from batch", frame)
