"""Where the data lives and how a refresh writes it; the one module that knows storage.

- The *published* database (`data/partnerdd.duckdb`, or --db / $PARTNERDD_DB) is what
  analysts read: staging, marts, quarantine, ops and the raw answers' metadata, no payload
  bodies. A refresh never writes it in place: it builds a new file from the analytic tables
  and `os.replace`s it, so readers are never blocked and a killed refresh leaves it untouched.
  The file replaced stays as `<name>.snapshots/<run_id>.duckdb`, the newest N of them.
- The *store* next to it (`<name>.store/`) is the writer's: the raw store of payloads and
  journals (flows/store.py) and `work.duckdb`, the writer database that keeps landing rows,
  staging, marts and what each was built from between runs. Only one refresh at a time
  writes it (`writer_lock`: an OS lock, released when its process dies, even by SIGKILL;
  a second refresh waits for it or is refused, naming the holder).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import duckdb

from connectors.config import resource_dir, work_dir
from connectors.source import declared_sources
from flows.operations import load_operations

DEFAULT_DB = work_dir() / "data" / "partnerdd.duckdb"
SQL_DIR = resource_dir("sql")
PUBLISHED_SCHEMAS = ("staging", "marts", "history", "quarantine", "ops")
PUBLISHED_RAW = ("raw.partners", "raw.responses")
PUBLISH_DELTA_FROM_ROWS = 10_000  # smaller tables are copied whole
KEY_COLUMNS = ("partner_id", "lei", "cik")  # whose changed values a build records
# A build's work tables (flows/build.py, flows/history.py) are tables of the writer database
# in this schema, never published, not temp tables: DuckDB keeps a few bytes per row of a
# temp table in memory that it cannot write to its temp directory, so a first build of 80 M
# rows ran out of a 256 MB limit.
SCRATCH = "build_scratch"
# DuckDB's own buffer pool: without a cap it may use 80 % of the machine.
DEFAULT_MEMORY_LIMIT = "256MB"
PREFECT_SERVER = b"prefect.server.api.server"
LOCK_POLL_SECONDS = 0.5
# store -> the thread of this process that holds its writer lock reentrantly (flock is per
# open file, so a second writer_lock in the same thread would otherwise refuse itself)
_held: dict[Path, int] = {}


class DatabaseMissing(FileNotFoundError):
    pass


class WriterBusy(RuntimeError):
    """Another refresh holds the writer lock of this database."""


def database_path(
    cli_value: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None
) -> Path:
    """--db wins over PARTNERDD_DB, which wins over data/partnerdd.duckdb in the project."""
    env = os.environ if env is None else env
    value = cli_value or env.get("PARTNERDD_DB") or DEFAULT_DB
    return Path(value).expanduser().resolve()


def store_path(db_path: Path) -> Path:
    return db_path.with_name(f"{db_path.stem}.store")


def connect_readonly(path: Path) -> duckdb.DuckDBPyConnection:
    if not path.exists():
        raise DatabaseMissing(f"{path} does not exist yet: run `partnerdd refresh` first")
    return duckdb.connect(str(path), read_only=True)


def raw_ddl() -> list[Path]:
    """schema.sql (schemas, shared tables, macros), then each declared source's landing DDL
    (sql/raw/<source>.sql unless its declaration names another file)."""
    raw_dir = SQL_DIR / "raw"
    files = [spec.raw_sql or raw_dir / f"{spec.name}.sql" for spec in declared_sources()]
    return [raw_dir / "schema.sql", *(p for p in files if p.exists())]


def apply_schema(con: duckdb.DuckDBPyConnection) -> None:
    for path in raw_ddl():
        con.execute(path.read_text(encoding="utf-8"))


def _configure(con: duckdb.DuckDBPyConnection, store: Path, env: Mapping[str, str]) -> None:
    limit = env.get("PARTNERDD_DUCKDB_MEMORY_LIMIT") or DEFAULT_MEMORY_LIMIT
    con.execute("set memory_limit = ?", [limit])
    con.execute("set temp_directory = ?", [str(store / "tmp")])
    con.execute("set preserve_insertion_order = false")


@contextmanager
def writer_lock(
    db_path: Path,
    *,
    wait: float = 0,
    run_id: str | None = None,
    notify: Callable[[str], Any] | None = None,
    holder: str | None = None,
    reentrant: bool = False,
) -> Iterator[Path]:
    """Hold the store's writer lock for the block. When another process holds it: refuse
    at once (`wait` 0), else poll until it is free, refusing after `wait` seconds and
    telling `notify` whom it waits for. The lock dies with its process, so a killed
    refresh cannot leave it stuck.

    Taken with `reentrant`, the same thread may take it again inside the block and holds it
    at once (`partnerdd request` takes it before it edits the registry, then runs the
    refresh inside it; the holder's note stays the request's); otherwise a second
    writer_lock in the same thread is refused like any other writer. `holder` names the
    holder in the lock file (default `run <run_id>`), so whoever is refused or waits knows
    for whom."""
    store = store_path(db_path)
    store.mkdir(parents=True, exist_ok=True)
    if _held.get(store) == threading.get_ident():
        yield store
        return
    handle = (store / "writer.lock").open("a+")
    try:
        _acquire(handle, db_path, wait, notify)
        handle.seek(0)
        handle.truncate()
        since = datetime.now(UTC).isoformat(timespec="seconds")
        what = holder or (f"run {run_id}" if run_id else None)
        handle.write(f"pid {os.getpid()}{f' ({what})' if what else ''} since {since}")
        handle.flush()
        if reentrant:
            _held[store] = threading.get_ident()
        _clean_debris(db_path, store)
        try:
            yield store
        finally:  # only a killed process leaves its servers noted
            _held.pop(store, None)
            (store / "server.pids").unlink(missing_ok=True)
    finally:
        handle.close()


def refuse_if_busy(db_path: Path) -> None:
    """Raise WriterBusy now if a refresh holds the writer lock: a refresh that will not
    wait is refused before it starts anything (writer_lock checks again when it takes it)."""
    lock = store_path(db_path) / "writer.lock"
    if not lock.exists():
        return
    with lock.open("a+") as handle:
        _acquire(handle, db_path, 0, None)
        fcntl.flock(handle, fcntl.LOCK_UN)


def _holder(handle: IO[str]) -> str:
    handle.seek(0)
    return handle.read().strip() or "another process"


def _acquire(
    handle: IO[str], db_path: Path, wait: float, notify: Callable[[str], Any] | None
) -> None:
    deadline = time.monotonic() + wait
    noted = ""
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError as exc:
            holder = _holder(handle)
            if time.monotonic() >= deadline:
                waited = f"waited {wait:g} s; " if wait else ""
                raise WriterBusy(
                    f"{db_path} is being refreshed by {holder}; {waited}try again when it "
                    "has finished, or wait for it: `partnerdd refresh --wait SECONDS` "
                    "(or `partnerdd request … --wait SECONDS`)"
                ) from exc
            if notify is not None and holder != noted:
                notify(f"waiting up to {wait:g} s for {holder} to finish refreshing {db_path}")
                noted = holder
        time.sleep(min(LOCK_POLL_SECONDS, max(0.0, deadline - time.monotonic())))


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def note_server_processes(store: Path) -> None:
    """Record this process's Prefect server subprocesses, so that if this refresh is killed
    (SIGKILL leaves them running, orphaned) the next one can stop them."""
    me = str(os.getpid())
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        pid = int(stat.parent.name)
        if fields[1] == me and PREFECT_SERVER in _cmdline(pid):
            pids.append(pid)
    (store / "server.pids").write_text("".join(f"{pid}\n" for pid in pids))


def _stop_orphaned_servers(store: Path) -> None:
    noted = store / "server.pids"
    if not noted.exists():
        return
    for line in noted.read_text().split():
        pid = int(line)
        if PREFECT_SERVER in _cmdline(pid):  # still that server, not a reused pid
            os.kill(pid, signal.SIGTERM)
    noted.unlink()


def _clean_debris(db_path: Path, store: Path) -> None:
    """What a killed refresh left behind (safe: we hold the writer lock): work files and
    the Prefect server it had started."""
    _stop_orphaned_servers(store)
    for leftover in db_path.parent.glob(f".{db_path.name}.publishing-*"):
        leftover.unlink(missing_ok=True)
    tmp = store / "tmp"
    if tmp.exists():
        for leftover in tmp.iterdir():
            if leftover.is_file():
                leftover.unlink(missing_ok=True)
    for partial in store.glob("payloads/*/.*.gz.*"):
        partial.unlink(missing_ok=True)


def open_work(store: Path, env: Mapping[str, str] | None = None) -> duckdb.DuckDBPyConnection:
    """The writer database (call inside writer_lock)."""
    con = duckdb.connect(str(store / "work.duckdb"))
    _configure(con, store, os.environ if env is None else env)
    apply_schema(con)
    return con


def _tables(con: duckdb.DuckDBPyConnection, database: str | None = None) -> list[tuple[str, str]]:
    """The published tables of the writer database (or of another attached one)."""
    rows = con.execute(
        "select schema_name, table_name from duckdb_tables() "
        "where database_name = coalesce(?, current_database()) and not temporary "
        "order by schema_name, table_name",
        [database],
    ).fetchall()
    wanted = set(PUBLISHED_RAW)
    return [
        (schema, table)
        for schema, table in rows
        if schema in PUBLISHED_SCHEMAS or f"{schema}.{table}" in wanted
    ]


def publish(
    con: duckdb.DuckDBPyConnection,
    db_path: Path,
    views: Mapping[str, str] | None = None,
    keep: int | None = None,
    partitions: Mapping[str, tuple[str, str]] | None = None,
) -> None:
    """Write the analytic tables of the writer database into a new file and swap it in.

    The new file starts as a copy of the published one, and only the tables that moved
    since are written into it (a staging table or mart whose ops.table_state version is
    the published one is left as it is; its history with it), so a run that changed one
    partner costs that partner's tables, not all of them. A partitioned table
    (`partitions`: table -> (partition column, its raw input), see flows/build.py) gets
    only the rows of the key values landed since its published build; another large table
    that moved gets only its rows that differ (by row hash). A first publish, or
    one whose file is half free space after many such rewrites, writes a fresh file.
    Payload bodies never leave the store. `views`: qualified name -> SQL, created in the
    published file (e.g. source status). The file replaced is kept as a snapshot, the newest
    `keep` of them (default: config [snapshots] keep).
    """
    db_path.parent.mkdir(parents=True, exist_ok=True)
    work = db_path.with_name(f".{db_path.name}.publishing-{os.getpid()}")
    work.unlink(missing_ok=True)
    if db_path.exists():
        shutil.copyfile(db_path, work)
    con.execute("attach ? as pub", [str(work)])
    try:
        if _fragmented(con):
            con.execute("detach pub")
            work.unlink()
            con.execute("attach ? as pub", [str(work)])
        published, built_from = _versions(con, "pub"), _inputs(con, "pub")
        current, building = _versions(con, current_database(con)), _inputs(con, None)
        con.execute("begin transaction")  # one commit for every table: 1.7x faster
        for schema in ("raw", *PUBLISHED_SCHEMAS):
            con.execute(f"create schema if not exists pub.{schema}")
        tables, in_pub = _tables(con), _tables(con, "pub")
        for schema, table in in_pub:
            if (schema, table) not in tables:
                con.execute(f'drop table pub.{schema}."{table}"')
        for schema, table in tables:
            versioned = f"marts.{table}" if schema == "history" else f"{schema}.{table}"
            if (
                schema in ("staging", "marts", "history")
                and versioned in current
                and published.get(versioned) == current[versioned]
                and (schema, table) in in_pub
            ):
                continue
            name = f'{schema}."{table}"'
            qualified = f"{schema}.{table}"
            partition = (partitions or {}).get(qualified)
            if (
                partition is not None
                and (schema, table) in in_pub
                and _publish_rows(
                    con, name, partition, built_from.get(qualified, {}), building.get(qualified, {})
                )
            ):
                continue
            if (schema, table) in in_pub and _publish_keys(
                con, name, versioned, published.get(versioned), current.get(versioned)
            ):
                continue
            if (schema, table) in in_pub and _publish_delta(con, name):
                continue
            con.execute(f"create or replace table pub.{name} as select * from {name}")  # noqa: S608 (catalog names)
        con.execute("commit")
    except BaseException:
        with contextlib.suppress(duckdb.TransactionException):  # none open: failed before
            con.execute("rollback")
        con.execute("detach pub")
        work.unlink(missing_ok=True)
        raise
    con.execute("detach pub")
    try:
        with duckdb.connect(str(work)) as pub:
            pub.execute(_macros())
            for name, sql in (views or {}).items():
                pub.execute(f"create or replace view {name} as {sql}")
            pub.execute("checkpoint")
        keep = load_operations().keep_snapshots if keep is None else keep
        if keep and db_path.exists():
            _snapshot(db_path)
        os.replace(work, db_path)
        _prune_snapshots(db_path, keep)
    finally:
        work.unlink(missing_ok=True)
        work.with_name(work.name + ".wal").unlink(missing_ok=True)


def current_database(con: duckdb.DuckDBPyConnection) -> str:
    row = con.execute("select current_database()").fetchone()
    assert row is not None
    return str(row[0])


def _fragmented(con: duckdb.DuckDBPyConnection) -> bool:
    """The copied file is more than half free blocks (tables rewritten in place leave
    their old blocks free for reuse): time for a fresh file."""
    row = con.execute(
        "select free_blocks, total_blocks from pragma_database_size() where database_name = 'pub'"
    ).fetchone()
    return row is not None and row[1] > 0 and row[0] * 2 > row[1]


def _publish_rows(
    con: duckdb.DuckDBPyConnection,
    name: str,
    partition: tuple[str, str],
    published_from: Mapping[str, Any],
    built_from: Mapping[str, Any],
) -> bool:
    """Replace, in the published copy, only the rows of the partition values landed since
    the published table was built; False (nothing done) when they are not all known."""
    column, source = partition
    old, new = int(published_from.get(source) or 0), int(built_from.get(source) or 0)
    if columns(con, f"pub.{name}") != columns(con, name):
        return False
    if not keys_landed(con, source, old, new, "_publish_keys"):
        return False
    _replace_keys(con, name, column)
    return True


def _replace_keys(con: duckdb.DuckDBPyConnection, name: str, column: str) -> None:
    """Replace the published rows whose `column` value is in the temp table _publish_keys
    by the writer's rows of those values."""
    inside = in_keys(column, "t", "_publish_keys")
    con.execute(f"delete from pub.{name} as t where {inside}")  # noqa: S608 (catalog names)
    con.execute(f"insert into pub.{name} by name select * from {name} as t where {inside}")  # noqa: S608 (catalog names)
    con.execute("drop table _publish_keys")


def keys_name(table: str, column: str) -> str:
    """Under what name ops.landed_keys holds the `column` values of the rows a build of a
    staging table or mart changed (flows/build.py)."""
    return f"{table}({column})"


def _publish_keys(
    con: duckdb.DuckDBPyConnection, name: str, versioned: str, old: Any, new: Any
) -> bool:
    """Replace, in the published copy, only the rows of the key values (partner_id, lei or
    cik) whose rows the builds since the published version changed; False (nothing done)
    when a build between rewrote the table whole or its columns changed. A history table
    goes with its mart: its rows change only for the mart's changed rows."""
    if old is None or new is None:
        return False
    have = columns(con, name)
    if columns(con, f"pub.{name}") != have:
        return False
    names = {c for c, _ in have}
    for column in KEY_COLUMNS:
        if column in names and keys_landed(
            con, keys_name(versioned, column), int(old), int(new), "_publish_keys"
        ):
            _replace_keys(con, name, column)
            return True
    return False


def _publish_delta(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Bring a large table of the published copy up to date by its rows that differ (by
    row hash): the rows gone are deleted, the new ones inserted. False (nothing done) for a
    small table, one whose columns changed, one with repeated rows (a row hash does not
    say which copy went) or one that changed in most of its rows: rewritten whole."""
    if columns(con, f"pub.{name}") != columns(con, name):
        return False
    published_rows = con.execute(f"select count(*) from pub.{name}").fetchall()[0][0]  # noqa: S608 (catalog names)
    if published_rows < PUBLISH_DELTA_FROM_ROWS:
        return False
    for side, table in (("old", f"pub.{name}"), ("new", name)):
        con.execute(
            f"create or replace temp table _publish_{side} as "  # noqa: S608 (catalog names)
            f"select rowid as _row, hash(t) as _h from {table} as t"
        )
    con.execute(
        "create or replace temp table _publish_gone as select _row from _publish_old "
        "where _h not in (select _h from _publish_new)"
    )
    con.execute(
        "create or replace temp table _publish_added as select _row from _publish_new "
        "where _h not in (select _h from _publish_old)"
    )
    repeated, new_rows, changed = con.execute(
        "select (select count(*) - count(distinct _h) from _publish_old) "
        "+ (select count(*) - count(distinct _h) from _publish_new), "
        "(select count(*) from _publish_new), "
        "(select count(*) from _publish_gone) + (select count(*) from _publish_added)"
    ).fetchall()[0]
    done = repeated == 0 and changed * 2 <= new_rows
    if done:
        con.execute(f"delete from pub.{name} where rowid in (select _row from _publish_gone)")  # noqa: S608 (catalog names)
        con.execute(
            f"insert into pub.{name} select * from {name} "  # noqa: S608 (catalog names)
            "where rowid in (select _row from _publish_added)"
        )
    for side in ("old", "new", "gone", "added"):
        con.execute(f"drop table _publish_{side}")
    return done


def keys_landed(con: duckdb.DuckDBPyConnection, table: str, old: int, new: int, into: str) -> bool:
    """Whether every version of a keyed raw table after `old` up to `new` recorded the key
    values it landed (ops.landed_keys); if so they are in the temp table `into`."""
    if old <= 0 or new <= old:
        return False
    bounds = [table, old, new]
    recorded = con.execute(
        "select count(distinct version) from ops.landed_keys "
        "where table_name = ? and version > ? and version <= ?",
        bounds,
    ).fetchall()[0][0]
    if recorded != new - old:
        return False
    con.execute(
        f"create or replace temp table {into} as select distinct key "  # noqa: S608 (our name)
        "from ops.landed_keys where table_name = ? and version > ? and version <= ?",
        bounds,
    )
    return True


def in_keys(column: str, alias: str, keys: str) -> str:
    """SQL: the row's `column` value is one of those in the temp table `keys` (null for a
    null: never true). Plain `in`, so DuckDB reads only the row groups that can hold them
    (a join filter pushed into the scan): 15x faster on a large table than a coalesce."""
    return f'{alias}."{column}" in (select key from {keys})'  # noqa: S608


def _inputs(con: duckdb.DuckDBPyConnection, database: str | None) -> dict[str, dict[str, Any]]:
    """ops.table_state's `inputs` (what each table was built from) in that database (None:
    the writer's own)."""
    database = database or current_database(con)
    if not _has_table_state(con, database):
        return {}
    rows = con.execute(
        f"select table_name, inputs from {database}.ops.table_state where inputs is not null"  # noqa: S608 (catalog name)
    ).fetchall()
    return {str(name): json.loads(inputs) for name, inputs in rows}


def _has_table_state(con: duckdb.DuckDBPyConnection, database: str) -> bool:
    """That attached database has ops.table_state (not before its first run)."""
    found = con.execute(
        "select count(*) from duckdb_tables() where database_name = ? "
        "and schema_name = 'ops' and table_name = 'table_state'",
        [database],
    ).fetchall()
    return bool(found[0][0])


def _versions(con: duckdb.DuckDBPyConnection, database: str) -> dict[str, int]:
    """ops.table_state's versions in that attached database (none before its first run)."""
    if not _has_table_state(con, database):
        return {}
    rows = con.execute(f"select table_name, version from {database}.ops.table_state").fetchall()  # noqa: S608 (catalog name)
    return {str(name): int(version) for name, version in rows}


def snapshot_dir(db_path: Path) -> Path:
    return db_path.with_name(f"{db_path.stem}.snapshots")


def _published_run(db_path: Path) -> str:
    """The run that wrote a published file (its latest finished run), else its mtime."""
    try:
        with duckdb.connect(str(db_path), read_only=True) as con:
            row = con.execute(
                "select run_id from ops.runs where finished_at is not null "
                "order by finished_at desc limit 1"
            ).fetchone()
        if row:
            return str(row[0])
    except duckdb.Error:
        pass
    stamp = datetime.fromtimestamp(db_path.stat().st_mtime, UTC)
    return stamp.strftime("%Y%m%dT%H%M%S") + "-published"


def _snapshot(db_path: Path) -> None:
    """A second name for the published file before it is replaced: a hard link, so the
    published path never goes missing and nothing is copied."""
    folder = snapshot_dir(db_path)
    folder.mkdir(exist_ok=True)
    target = folder / f"{_published_run(db_path)}.duckdb"
    target.unlink(missing_ok=True)
    try:
        os.link(db_path, target)
    except OSError:  # a file system without hard links
        shutil.copy2(db_path, target)


def _prune_snapshots(db_path: Path, keep: int) -> None:
    """Keep the newest `keep` snapshots (run ids start with their UTC start time)."""
    folder = snapshot_dir(db_path)
    if not folder.is_dir():
        return
    for old in sorted(folder.glob("*.duckdb"), reverse=True)[keep:]:
        old.unlink()


def _macros() -> str:
    """The macros of schema.sql (e.g. lei_check_ok), for analysts of the published file."""
    text = (SQL_DIR / "raw" / "schema.sql").read_text(encoding="utf-8")
    start = text.index("create or replace macro")
    return text[start:]


def records(con: Any, sql: str, params: Any = None) -> list[dict[str, Any]]:
    """A query's rows as dicts by column name."""
    cursor = con.execute(sql, params if params is not None else [])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def columns(con: Any, relation: str) -> list[tuple[str, str]]:
    """(name, type) of each column of a table or relation, in order."""
    return [(r[0], r[1]) for r in con.execute(f"describe {relation}").fetchall()]


def table_exists(con: Any, qualified: str) -> bool:
    schema, table = qualified.split(".", 1)
    row = con.execute(
        "select count(*) from duckdb_tables() where schema_name = ? and table_name = ? "
        "and database_name = current_database()",
        [schema, table],
    ).fetchall()
    return bool(row and row[0][0])
