"""Where the database lives and how a refresh writes it.

Analysts read the *published* file. A refresh works on a private copy and replaces the
published file atomically (os.replace) only when it finishes, so readers are never blocked
by DuckDB's single writer and a killed refresh leaves the published file untouched.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import duckdb

from connectors.config import PROJECT_ROOT

DEFAULT_DB = PROJECT_ROOT / "data" / "partnerdd.duckdb"
SQL_DIR = PROJECT_ROOT / "sql"


class DatabaseMissing(FileNotFoundError):
    pass


def database_path(
    cli_value: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None
) -> Path:
    """--db wins over PARTNERDD_DB, which wins over data/partnerdd.duckdb in the project."""
    env = os.environ if env is None else env
    value = cli_value or env.get("PARTNERDD_DB") or DEFAULT_DB
    return Path(value).expanduser().resolve()


def connect_readonly(path: Path) -> duckdb.DuckDBPyConnection:
    if not path.exists():
        raise DatabaseMissing(f"{path} does not exist yet: run `partnerdd refresh` first")
    return duckdb.connect(str(path), read_only=True)


def apply_schema(con: duckdb.DuckDBPyConnection) -> None:
    """schema.sql first (schemas, shared tables, macros), then each source's raw DDL."""
    raw_dir = SQL_DIR / "raw"
    files = [raw_dir / "schema.sql"] + sorted(
        p for p in raw_dir.glob("*.sql") if p.name != "schema.sql"
    )
    for path in files:
        con.execute(path.read_text(encoding="utf-8"))


@contextmanager
def publishing(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A writable connection to a working copy that replaces `path` on success only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    work = path.with_name(f".{path.name}.building-{os.getpid()}")
    for leftover in (work, work.with_name(work.name + ".wal")):
        leftover.unlink(missing_ok=True)
    if path.exists():
        shutil.copy2(path, work)
    con = duckdb.connect(str(work))
    try:
        apply_schema(con)
        yield con
        con.execute("checkpoint")
        con.close()
        os.replace(work, path)
    except BaseException:
        con.close()
        work.unlink(missing_ok=True)
        work.with_name(work.name + ".wal").unlink(missing_ok=True)
        raise
