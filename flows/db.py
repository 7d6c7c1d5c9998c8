"""Where the data lives and how a refresh writes it; the one module that knows storage.

- The *published* database (`data/partnerdd.duckdb`, or --db / $PARTNERDD_DB) is what
  analysts read: staging, marts, quarantine, ops and the raw answers' metadata, no payload
  bodies. A refresh never writes it in place: it builds a new file from the analytic tables
  and `os.replace`s it, so readers are never blocked and a killed refresh leaves it untouched.
- The *store* next to it (`<name>.store/`) is the writer's: the raw store of payloads and
  journals (flows/store.py) and `work.duckdb`, the writer database that keeps landing rows,
  staging, marts and what each was built from between runs. Only one refresh at a time
  writes it (`writer_lock`: an OS lock, released when its process dies, even by SIGKILL).
"""

from __future__ import annotations

import fcntl
import os
import signal
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from connectors.config import resource_dir, work_dir
from connectors.source import declared_sources

DEFAULT_DB = work_dir() / "data" / "partnerdd.duckdb"
SQL_DIR = resource_dir("sql")
PUBLISHED_SCHEMAS = ("staging", "marts", "history", "quarantine", "ops")
PUBLISHED_RAW = ("raw.partners", "raw.responses")
# DuckDB's own buffer pool: without a cap it may use 80 % of the machine.
DEFAULT_MEMORY_LIMIT = "256MB"
PREFECT_SERVER = b"prefect.server.api.server"


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
def writer_lock(db_path: Path) -> Iterator[Path]:
    """Hold the store's writer lock for the block; refuse at once when another process
    holds it (the lock dies with its process, so a killed refresh cannot leave it stuck)."""
    store = store_path(db_path)
    store.mkdir(parents=True, exist_ok=True)
    handle = (store / "writer.lock").open("a+")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise WriterBusy(
                f"{db_path} is being refreshed by {holder}; try again when it has finished"
            ) from exc
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        _clean_debris(db_path, store)
        try:
            yield store
        finally:  # only a killed process leaves its servers noted
            (store / "server.pids").unlink(missing_ok=True)
    finally:
        handle.close()


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


def _tables(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    rows = con.execute(
        "select schema_name, table_name from duckdb_tables() "
        "where database_name = current_database() and not temporary "
        "order by schema_name, table_name"
    ).fetchall()
    wanted = set(PUBLISHED_RAW)
    return [
        (schema, table)
        for schema, table in rows
        if schema in PUBLISHED_SCHEMAS or f"{schema}.{table}" in wanted
    ]


def publish(
    con: duckdb.DuckDBPyConnection, db_path: Path, views: Mapping[str, str] | None = None
) -> None:
    """Copy the analytic tables of the writer database into a new file and swap it in.

    Costs in proportion to the analytic tables; payload bodies never leave the store.
    `views`: qualified name -> SQL, created in the published file (e.g. source status).
    """
    db_path.parent.mkdir(parents=True, exist_ok=True)
    work = db_path.with_name(f".{db_path.name}.publishing-{os.getpid()}")
    work.unlink(missing_ok=True)
    con.execute("attach ? as pub", [str(work)])
    try:
        for schema in ("raw", *PUBLISHED_SCHEMAS):
            con.execute(f"create schema pub.{schema}")
        for schema, table in _tables(con):
            con.execute(
                f'create table pub.{schema}."{table}" as select * from {schema}."{table}"'  # noqa: S608 (catalog names)
            )
    except BaseException:
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
        os.replace(work, db_path)
    finally:
        work.unlink(missing_ok=True)
        work.with_name(work.name + ".wal").unlink(missing_ok=True)


def _macros() -> str:
    """The macros of schema.sql (e.g. lei_check_ok), for analysts of the published file."""
    text = (SQL_DIR / "raw" / "schema.sql").read_text(encoding="utf-8")
    start = text.index("create or replace macro")
    return text[start:]


def table_exists(con: Any, qualified: str) -> bool:
    schema, table = qualified.split(".", 1)
    row = con.execute(
        "select count(*) from duckdb_tables() where schema_name = ? and table_name = ? "
        "and database_name = current_database()",
        [schema, table],
    ).fetchall()
    return bool(row and row[0][0])
