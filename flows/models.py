"""The model graph: staging models, then marts, in an order read off what each one reads.

A model is a SQL file (sql/staging/<name>.sql, sql/marts/<name>.sql) or a Python mart, a
module flows/marts/<name>.py with `compute(con, context)` (a DataFrame, or an iterator of
DataFrames landed one after another, so only one is in memory at a time) and optionally
`SCHEMA` (a query whose columns type the table); a Python mart whose name also has a
sql/marts file runs that SQL. Each gets validated by its checks before it replaces the
previous table. A model's inputs (the tables it reads) are read off its SQL, or off the
source of its Python module and the flows modules that module imports; a model is built
after its inputs and rebuilt only when one of them changed. Adding a model is adding its
file.
"""

from __future__ import annotations

import ast
import hashlib
import heapq
import importlib
import importlib.util
import inspect
import pkgutil
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from types import ModuleType
from typing import Any, TypeAlias

import duckdb
import pandas as pd

from flows import load, marts
from flows.db import SQL_DIR, raw_ddl

_TABLE_REF = re.compile(r"\b(raw|staging|marts|ops)\.([a-z_][a-z0-9_]*)")
_CREATED = re.compile(r"create table if not exists ([a-z_]+\.[a-z_][a-z0-9_]*)")
_PARTITION = re.compile(r"^-- partition by: ([a-z_][a-z0-9_]*)\s*$", re.MULTILINE)
_KEYED = re.compile(
    r"^-- partition key of ([a-z_]+\.[a-z_][a-z0-9_]*): ([a-z_][a-z0-9_]*)\s*$", re.MULTILINE
)
LAYERS = ("staging", "marts")
VIEWS: tuple[str, ...] = (
    "partner_source_status",
    "source_requests",
)  # sql/marts files published as views


def table_refs(text: str) -> tuple[str, ...]:
    """Qualified tables a piece of SQL (or Python holding SQL) reads."""
    return tuple(sorted({f"{schema}.{table}" for schema, table in _TABLE_REF.findall(text)}))


@dataclass(frozen=True)
class SqlModel:
    name: str
    layer: str = "marts"

    def build(self, con: duckdb.DuckDBPyConnection, context: dict[str, Any]) -> pd.DataFrame:
        return load.run_model(con, self.layer, self.name)

    def schema_sql(self) -> str | None:
        return load.model_sql(self.layer, self.name)

    @property
    def inputs(self) -> tuple[str, ...]:
        return table_refs(load.model_sql(self.layer, self.name))

    @property
    def partition(self) -> str | None:
        """The column of a `-- partition by: <column>` line: each row depends only on the
        rows of its inputs with the same value there, so a run rebuilds only the values
        that changed since (flows/build.py). A raw input must be the only one (the values
        are its landing key); a staging or mart input whose rows carry the value in another
        column names it on a `-- partition key of <table>: <column>` line (`lei` or `cik`
        of a model partitioned by `partner_id`)."""
        found = _PARTITION.search(load.model_sql(self.layer, self.name))
        if found is None:
            return None
        raw = [t for t in self.inputs if t.startswith("raw.")]
        if raw and len(self.inputs) != 1:
            raise ValueError(
                f"{self.layer}.{self.name}: 'partition by' a raw input needs it to be the only "
                f"input, not {list(self.inputs)}"
            )
        return load.ident(found.group(1))

    @property
    def keyed_by(self) -> tuple[tuple[str, str], ...]:
        """(input, column) pairs of the `-- partition key of` lines."""
        return tuple(_KEYED.findall(load.model_sql(self.layer, self.name)))


Frames: TypeAlias = pd.DataFrame | Iterator[pd.DataFrame]  # what a Python mart's compute returns


@dataclass(frozen=True)
class PythonModel:
    """`schema`, when given, is a SQL query whose columns type the table (so a column that is
    empty or all null in one run keeps its type); without it pandas' types are used."""

    name: str
    compute: Callable[[duckdb.DuckDBPyConnection, dict[str, Any]], Frames]
    layer: str = "marts"
    schema: str | None = None
    reads_sql: str | None = None  # a sql/marts file the function runs, if any
    # A module's PARTITION and PARTITION_KEYS (input -> column), as SqlModel.partition and
    # keyed_by: `compute` then gets context["partition_keys"], a temp table of the values
    # to compute (None: all).
    partition: str | None = None
    keyed_by: tuple[tuple[str, str], ...] = ()

    def build(self, con: duckdb.DuckDBPyConnection, context: dict[str, Any]) -> pd.DataFrame:
        return pd.concat(list(self.frames(con, context)), ignore_index=True)

    def frames(
        self, con: duckdb.DuckDBPyConnection, context: dict[str, Any]
    ) -> Iterator[pd.DataFrame]:
        """The model's rows as `compute` gives them: one frame or several in turn."""
        computed = self.compute(con, context)
        if isinstance(computed, pd.DataFrame):
            yield computed
        else:
            yield from computed

    def schema_sql(self) -> str | None:
        return self.schema

    @property
    def inputs(self) -> tuple[str, ...]:
        return _python_inputs(self)


@cache
def _python_code(model: PythonModel) -> str:
    """A Python mart's code: its module, the flows modules it imports and its SQL file."""
    text = "".join(inspect.getsource(m) for m in _flows_modules(model.compute.__module__))
    if model.reads_sql:
        text += load.model_sql(model.layer, model.reads_sql)
    return text


def code_digest(model: Model) -> str:
    """What a model's rows are a function of besides its inputs: its SQL or its code. A
    build records it, so a changed model is rebuilt whole once (flows/build.py)."""
    text = (
        _python_code(model)
        if isinstance(model, PythonModel)
        else load.model_sql(model.layer, model.name)
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@cache
def _python_inputs(model: PythonModel) -> tuple[str, ...]:
    """A Python mart's inputs, read once per process (its code does not change in a run)."""
    text = _python_code(model)
    own = f"{model.layer}.{model.name}"
    found = tuple(t for t in table_refs(text) if t != own and t in _known_tables())
    return found or ("ops.runs",)  # reads nothing we can see: rebuilt every run


Model = SqlModel | PythonModel

# Modules whose SQL is about storage, not what a mart reads.
_PLUMBING = {"flows.db", "flows.load", "flows.models"}


def _flows_modules(name: str) -> list[ModuleType]:
    """The module and every flows module it imports, directly or not (the code a Python
    mart runs, whose SQL says what it reads)."""
    seen: dict[str, ModuleType] = {}
    todo = [name]
    while todo:
        current = todo.pop()
        if current in seen or current in _PLUMBING:
            continue
        module = sys.modules.get(current) or importlib.import_module(current)
        seen[current] = module
        for node in ast.walk(ast.parse(inspect.getsource(module))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
                todo += [n for n in names if n.startswith("flows.") and _is_module(n)]
            elif isinstance(node, ast.Import):
                todo += [a.name for a in node.names if a.name.startswith("flows.")]
    return list(seen.values())


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


@cache
def _known_tables() -> frozenset[str]:
    """Tables that exist: raw DDL and every model (a Python name like `raw.get` is not one)."""
    ddl = "".join(p.read_text(encoding="utf-8") for p in raw_ddl())
    return frozenset(_CREATED.findall(ddl)) | {f"{m.layer}.{m.name}" for m in _declared()}


def _python_marts() -> list[PythonModel]:
    found = []
    for info in pkgutil.iter_modules(marts.__path__):
        module = importlib.import_module(f"{marts.__name__}.{info.name}")
        reads = info.name if (SQL_DIR / "marts" / f"{info.name}.sql").exists() else None
        found.append(
            PythonModel(
                info.name,
                module.compute,
                schema=getattr(module, "SCHEMA", None),
                reads_sql=reads,
                partition=getattr(module, "PARTITION", None),
                keyed_by=tuple(sorted(getattr(module, "PARTITION_KEYS", {}).items())),
            )
        )
    return found


@cache
def _declared() -> tuple[Model, ...]:
    python = _python_marts()
    taken = {m.name for m in python} | set(VIEWS)
    sql = [
        SqlModel(path.stem, layer)
        for layer in LAYERS
        for path in sorted((SQL_DIR / layer).glob("*.sql"))
        if path.stem not in taken
    ]
    return (*sql, *python)


def build_order(models: tuple[Model, ...]) -> tuple[Model, ...]:
    """Every model after the models it reads; among the ready ones staging first, then by
    name. A cycle is a mistake in the SQL and is refused with the models on it."""
    by_table = {f"{m.layer}.{m.name}": m for m in models}
    needs = {
        m.name: {by_table[t].name for t in m.inputs if t in by_table and by_table[t] is not m}
        for m in models
    }
    rank = {m.name: (LAYERS.index(m.layer), m.name) for m in models}
    ready = [rank[name] for name, deps in needs.items() if not deps]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        _, name = heapq.heappop(ready)
        order.append(name)
        for other, deps in needs.items():
            if name in deps:
                deps.discard(name)
                if not deps:
                    heapq.heappush(ready, rank[other])
    if len(order) < len(models):
        stuck = sorted(set(needs) - set(order))
        raise ValueError(f"models that read each other in a cycle: {', '.join(stuck)}")
    named = {m.name: m for m in models}
    return tuple(named[name] for name in order)


ORDER: tuple[Model, ...] = build_order(_declared())
STAGING: tuple[Model, ...] = tuple(m for m in ORDER if m.layer == "staging")
MARTS: tuple[Model, ...] = tuple(m for m in ORDER if m.layer == "marts")
