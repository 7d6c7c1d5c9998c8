"""Staging and marts, built incrementally inside DuckDB and validated on what changed.

For each model in build order: if none of its inputs has a newer version than the one it
was built from, it is left alone. Otherwise its new rows are computed in DuckDB (SQL models
never go through pandas for the build), compared with the current table by row hash, and
only the new or changed rows go to Great Expectations. Rows failing a column-level
expectation are quarantined with the reason; a table-level failure (schema, row count)
keeps the previous table (an empty typed one on a first run) and the rest of the build
goes on: one source's bad batch never stops the others.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from connectors.config import Settings, config_file, resource_dir
from flows import history, load
from flows.db import KEY_COLUMNS, SCRATCH, columns, in_keys, keys_landed, keys_name, table_exists
from flows.models import Model, PythonModel, code_digest
from flows.validate import row_json

NEW = f"{SCRATCH}.model_new"
ROWS = f"{SCRATCH}.model_rows"
CHANGED = f"{SCRATCH}.model_changed"
KEYS = "_model_keys"  # temp: the partition values rebuilt this run (a partitioned model's)
INPUT_KEYS = "_model_input_keys"  # temp: the key values one input changed
NOT_TABLES = ("config", "code")  # what a build records beside its inputs' versions
GONE = f"{SCRATCH}.model_gone"  # rows of the current table that the new build no longer has
BAD = f"{SCRATCH}.model_bad"  # the row numbers of the new rows quarantined
GONE_ROWS = f"select * exclude (_row) from {GONE}"  # noqa: S608 (our names)
# A GX call costs ~0.05 s CPU whatever the size and holds about 0.7 KB a row of text
# columns, frame included: at 200,000 rows a chunk of stg_sec__filings (~150 MB) made the
# 1,000-partner refresh's peak RSS; 50,000 cost ~5 s more CPU than 100,000 over the 8.2 M
# rows of stg_sec__facts there
VALIDATION_CHUNK = 50_000
ENUM_PREFIX = "_model_enum_"  # types of the columns validated as categoricals
CATEGORICAL_FROM_ROWS = 400_000  # validations this large fetch text columns as categoricals
CATEGORICAL_MAX_VALUES = 100_000  # ... when a column has at most this many distinct values


@dataclass
class ModelOutcome:
    table: str
    status: str  # unchanged | built | kept_previous
    rows_in: int = 0
    validated: int = 0
    loaded: int = 0
    quarantined: int = 0
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    history: dict[str, int] = field(default_factory=dict)  # rows opened / closed

    def report(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "seconds": round(self.seconds, 3),
            "rows_in": self.rows_in,
            "validated": self.validated,
            "loaded": self.loaded,
            "quarantined": self.quarantined,
            "failures": self.failures,
            "warnings": self.warnings,
            **({"history": self.history} if self.history else {}),
        }


# Source settings that shape only what is fetched and how (its effect reaches the marts
# through the tables it lands), so changing one rebuilds nothing by itself: a revalidating
# run (max ages 0) or a request must not rebuild every mart whole.
FETCH_SETTINGS = frozenset(
    {
        "contact", "feeds", "lei_batch_size", "max_age_hours", "max_children_pages",
        "max_feeds_per_site", "max_pages", "max_records", "max_redirects",
        "max_response_bytes", "mode", "offline", "offline_skip", "rate_per_second",
        "robots_max_age_seconds", "time_budget_seconds", "timespan", "workers",
    }
)  # fmt: skip


def config_fingerprint(settings: Settings, env: Mapping[str, str]) -> str:
    """What marts depend on besides tables: the config files and every source setting that
    is not about fetching (e.g. the sanctions threshold, the news as-of date)."""
    digest = hashlib.sha256()
    kept = {
        section: {
            key: value
            for key, value in sorted(values.items())
            if key not in FETCH_SETTINGS and key != "url" and not key.endswith("_url")
        }
        for section, values in sorted(settings.sources.items())
    }
    digest.update(json.dumps(kept, sort_keys=True, default=str).encode())
    for name in sorted(p.name for p in resource_dir("config").glob("*.toml")):
        if name != "sources.toml":  # its settings are in `kept`
            digest.update(config_file(name, env).read_bytes())
    return digest.hexdigest()[:16]


def input_versions(
    con: duckdb.DuckDBPyConnection, model: Model, run_id: str, fingerprint: str
) -> dict[str, Any]:
    versions: dict[str, Any] = {}
    for table in model.inputs:
        if table.startswith("ops."):
            versions[table] = run_id  # run logs: new every run
            continue
        version = load.scalar(
            con, "select version from ops.table_state where table_name = ?", [table]
        )
        versions[table] = version or 0
    if model.layer == "marts":
        versions["config"] = fingerprint
    versions["code"] = code_digest(model)
    return versions


def _built_from(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, Any] | None:
    inputs = load.scalar(con, "select inputs from ops.table_state where table_name = ?", [table])
    return json.loads(inputs) if inputs else None


def _in_keys(column: str, alias: str) -> str:
    return in_keys(column, alias, KEYS)


def _partition_scope(
    con: duckdb.DuckDBPyConnection,
    model: Model,
    built_from: dict[str, Any] | None,
    versions: dict[str, Any],
) -> str | None:
    """The partition column when only some of a partitioned model's rows need building:
    the table was built before with the same configuration, and every input that moved
    since recorded the key values it changed (a raw input: those it landed; a staging
    table or mart: those of its rows a build changed, see _record_keys). The values,
    mapped to the model's partition column, are then in the temp table KEYS. None: build
    it whole (first build, an input rewritten whole, or no partition declared)."""
    column = model.partition
    if column is None or not built_from:
        return None
    if any(built_from.get(k) != versions.get(k) for k in NOT_TABLES):  # code or config changed
        return None
    keyed = dict(model.keyed_by)
    con.execute(f"create or replace temp table {KEYS} (key varchar)")
    for table, version in versions.items():
        old, new = built_from.get(table), version
        if table in NOT_TABLES or old == new:
            continue
        if table.startswith("ops."):  # a run log: new every run
            return None
        by = keyed.get(table, column)
        if not keys_landed(con, _keys_of(model, table), int(old or 0), int(new or 0), INPUT_KEYS):
            return None
        if by == column:
            con.execute(f"insert into {KEYS} select key from {INPUT_KEYS}")  # noqa: S608
        elif column == "partner_id" and by in ("lei", "cik"):  # a partner's identifier
            con.execute(
                f"insert into {KEYS} select partner_id from staging.stg_resolution__identifiers "  # noqa: S608
                f"where scheme = ? and value in (select key from {INPUT_KEYS})",
                [by],
            )
        else:
            return None
    return column


def _keys_of(model: Model, table: str) -> str:
    """Under what name ops.landed_keys holds the key values an input of a partitioned model
    changed: a raw input's landing key, or a model's values of the column it is keyed by."""
    if table.startswith("raw."):
        return table
    return keys_name(table, dict(model.keyed_by).get(table, str(model.partition)))


def _record_keys(
    con: duckdb.DuckDBPyConnection, target: str, version: int, changed: list[str]
) -> None:
    """Record, for each key column the table has, the values of the rows a build in place
    or of some partitions changed (`changed`: queries of the rows deleted and inserted), so
    that a model partitioned by it and publish can take only those. A changed row without
    a value leaves that column unrecorded: its readers rebuild whole."""
    have = {c for c, _ in columns(con, target)}
    for column in KEY_COLUMNS:
        if column not in have:
            continue
        values = " union all ".join(
            f'select "{column}"::varchar as k from ({sql})'  # noqa: S608 (our SQL)
            for sql in changed
        )
        if load.scalar(con, f"select count(*) from ({values}) where k is null"):  # noqa: S608
            continue
        con.execute(
            f"insert into ops.landed_keys select distinct ?, ?, k from ({values})",  # noqa: S608
            [keys_name(target, column), version],
        )


def partitions(models: tuple[Model, ...]) -> dict[str, tuple[str, str]]:
    """Table partitioned by its one raw input -> (partition column, that input), for publish."""
    return {
        f"{m.layer}.{m.name}": (m.partition, m.inputs[0])
        for m in models
        if m.partition is not None and m.inputs[0].startswith("raw.")
    }


def _model_source(
    con: duckdb.DuckDBPyConnection,
    model: Model,
    context: dict[str, Any],
    scope: str | None = None,
) -> str:
    """SQL naming the model's new rows: its SQL, or, for a Python model, the work table its
    frames were landed into. With a partition `scope`, only the rows of this run's
    partition values."""
    con.execute(f"create schema if not exists {SCRATCH}")
    if isinstance(model, PythonModel):
        schema = model.schema_sql()
        con.execute(f"drop table if exists {NEW}")
        if schema is not None:
            con.execute(f"create table {NEW} as select * from ({schema}) limit 0")  # noqa: S608 (our own SQL)
        frames = model.frames(con, {**context, "partition_keys": KEYS if scope else None})
        for frame in frames:  # landed one at a time: a batch is freed before the next
            con.register("model_frame", frame)
            try:
                if not table_exists(con, NEW):  # typed by the first frame's columns
                    con.execute(f"create table {NEW} as select * from model_frame limit 0")  # noqa: S608
                con.execute(f"insert into {NEW} by name select * from model_frame")  # noqa: S608
            finally:
                con.unregister("model_frame")
            del frame
        source = NEW
    else:
        source = f"(\n{load.model_sql(model.layer, model.name)}\n)"
    if scope is not None:
        source = f"(select * from {source} as m where {_in_keys(scope, 'm')})"  # noqa: S608
    return source


def _materialise(
    con: duckdb.DuckDBPyConnection,
    model: Model,
    context: dict[str, Any],
    scope: str | None = None,
) -> None:
    """The model's new rows into one work table, typed by its SQL, each with its row hash;
    a row's number is its rowid there (no window, no sort). With a partition `scope`, only
    the rows of this run's partition values."""
    source = _model_source(con, model, context, scope)
    con.execute(
        f"create or replace table {ROWS} as select hash(n) as _h, n.* from {source} as n"  # noqa: S608
    )


def _comparable(con: duckdb.DuckDBPyConnection, target: str) -> bool:
    """The target exists with the columns the model's rows have now."""
    model_columns = [c for c in columns(con, ROWS) if c[0] != "_h"]
    return table_exists(con, target) and columns(con, target) == model_columns


def _changed_rows(con: duckdb.DuckDBPyConnection, target: str, scope: str | None) -> int | None:
    """How many rows are new or changed (by row hash). None: all of them (no comparable
    target); otherwise their row numbers are in a work table, numbered 1..n in order."""
    if not _comparable(con, target):
        return None
    within = "" if scope is None else f"where {_in_keys(scope, 't')}"
    con.execute(
        f"create or replace table {CHANGED} as "  # noqa: S608
        f"select row_number() over (order by r.rowid) as _seq, r.rowid as _row from {ROWS} as r "
        f"where r._h not in (select hash(t) from {target} as t {within})"
    )
    return int(load.scalar(con, f"select count(*) from {CHANGED}"))  # noqa: S608


def _collect_gone(con: duckdb.DuckDBPyConnection, target: str, scope: str | None = None) -> None:
    """The table's rows (of the partition values in KEYS, with a `scope`) that the new build
    no longer has, by row hash, into the work table GONE."""
    within = "" if scope is None else f"{_in_keys(scope, 't')} and "
    con.execute(
        f"create or replace table {GONE} as select t.rowid as _row, t.* from {target} as t "  # noqa: S608
        f"where {within}hash(t) not in (select _h from {ROWS})"
    )


def _gone_rows(con: duckdb.DuckDBPyConnection, target: str, changed: int, total: int) -> bool:
    """Whether the table can be brought up to date in place: its rows that the new build
    no longer has (by row hash) go into the work table GONE, to be deleted while the
    changed rows are inserted. Not when rows repeat (a row hash does not say which copy
    went) or when most of the table changes (rewriting it is cheaper)."""
    _collect_gone(con, target)
    gone = int(load.scalar(con, f"select count(*) from {GONE}"))  # noqa: S608
    if (changed + gone) * 2 > total:
        return False
    repeated = con.execute(
        f"select (select count(*) - count(distinct _h) from {ROWS}), "  # noqa: S608
        f"(select count(*) - count(distinct hash(t)) from {target} as t)"
    ).fetchall()[0]
    return repeated == (0, 0)


@dataclass
class _Checked:
    quarantined: pd.DataFrame
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _chunks(changed: int | None, total: int) -> list[tuple[str, list[int]]]:
    """(where clause, parameters) selecting each validation chunk of the changed rows."""
    if changed is None:  # every row: rowids 0..total-1
        return [
            ("r.rowid between ? and ?", [start, start + VALIDATION_CHUNK - 1])
            for start in range(0, total, VALIDATION_CHUNK)
        ]
    return [
        (
            f"r.rowid in (select _row from {CHANGED} where _seq between ? and ?)",  # noqa: S608
            [start, start + VALIDATION_CHUNK - 1],
        )
        for start in range(1, changed + 1, VALIDATION_CHUNK)
    ]


def _validate_changed(
    con: duckdb.DuckDBPyConnection,
    validator: Any,
    name: str,
    chunks: list[tuple[str, list[int]]],
    params: dict[str, Any],
    rows_table: str = ROWS,
) -> _Checked:
    """Validate the changed rows a chunk at a time, so memory holds one chunk, and only the
    columns the checks read; quarantined rows are reported by their row number in the new
    table, with the whole row."""
    parts: list[pd.DataFrame] = []
    failures: list[str] = []
    warnings: list[str] = []
    types = {c: t for c, t in columns(con, rows_table) if c != "_h"}
    available = list(types)
    checks = validator.model_checks(name)
    read, valued = checks.columns_read(available)
    varchar = [c for c in valued if types[c] == "VARCHAR"]
    coded = _categorical(con, checks, varchar, chunks, rows_table)
    selected = ", ".join(["r.rowid as _row"] + [_selected(c, coded, valued) for c in read])
    for where, bounds in chunks:
        frame = con.execute(
            f"select {selected} from {rows_table} as r where {where} order by r.rowid",  # noqa: S608
            bounds,
        ).df()
        rows = frame.pop("_row")
        result = validator.validate(name, frame, params, whole_table=False)
        quarantined = result.quarantined.copy()
        quarantined["row_index"] = [int(rows.iloc[int(i)]) for i in quarantined["row_index"]]
        if len(valued) < len(available) and len(quarantined):
            wanted = quarantined["row_index"].tolist()
            quarantined["row_json"] = _whole_rows(con, wanted, rows_table)
        parts.append(quarantined)
        failures += [f for f in result.failures if f not in failures]
        warnings += [w for w in result.warnings if w not in warnings]
    _release_arrow_memory()
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame({"row_index": []})
    return _Checked(frame, failures, warnings)


def _selected(column: str, coded: dict[str, str], valued: list[str]) -> str:
    """A column of the validation chunk: as a categorical, as it is, or, when the checks
    read only its name (a column-set check), as nulls of its type (the text columns of a
    chunk are most of its memory)."""
    if column in coded:
        return f'r."{column}"::{coded[column]} as "{column}"'
    if column in valued:
        return f'r."{column}"'
    return f'(case when false then r."{column}" end) as "{column}"'


def _release_arrow_memory() -> None:
    """pandas keeps the chunks' text columns in pyarrow, whose allocator keeps what they
    freed for its own next use (about 120 MB after the SEC models at 1,000 partners): RSS
    that every later phase would otherwise carry."""
    pa.default_memory_pool().release_unused()


def _categorical(
    con: duckdb.DuckDBPyConnection,
    checks: Any,
    candidates: list[str],
    chunks: list[tuple[str, list[int]]],
    rows_table: str = ROWS,
) -> dict[str, str]:
    """column -> an ENUM type of its values, for the text columns that go to GX as pandas
    categoricals (checks.categorical_columns: only null / in-set tests read them) when the
    batch is large enough for it to pay: DuckDB hands pandas codes and each distinct value
    once, instead of one Python string per row, and GX's checks run on codes."""
    if len(chunks) * VALIDATION_CHUNK < CATEGORICAL_FROM_ROWS:
        return {}
    coded: dict[str, str] = {}
    eligible = checks.categorical_columns(candidates)
    if not eligible:
        return coded
    counts = con.execute(
        "select "  # noqa: S608 (our model's columns)
        + ", ".join(f'approx_count_distinct("{c}")' for c in eligible)
        + f" from {rows_table}"
    ).fetchall()[0]
    for column, distinct in zip(eligible, counts, strict=True):
        if distinct is None or distinct > CATEGORICAL_MAX_VALUES:
            continue
        enum = f"{ENUM_PREFIX}{len(coded)}"
        con.execute(
            f'create or replace type {enum} as enum (select distinct "{column}" '  # noqa: S608
            f'from {rows_table} where "{column}" is not null)'
        )
        coded[column] = enum
    return coded


def _whole_rows(
    con: duckdb.DuckDBPyConnection, rows: list[int], rows_table: str = ROWS
) -> list[str]:
    """The quarantine's row_json of these rows (by row number), every column included."""
    hashed = any(name == "_h" for name, _ in columns(con, rows_table))
    con.register("wanted_rows", pd.DataFrame({"_row": rows}, dtype="int64"))
    try:
        frame = con.execute(
            f"select rowid as _row, * {'exclude (_h) ' if hashed else ''}from {rows_table} "  # noqa: S608
            "where rowid in (select _row from wanted_rows)"
        ).df()
    finally:
        con.unregister("wanted_rows")
    by_row = {int(r): row_json(frame.iloc[i].drop("_row")) for i, r in enumerate(frame["_row"])}
    return [by_row[int(r)] for r in rows]


def build_model(
    con: duckdb.DuckDBPyConnection,
    validator: Any,
    model: Model,
    context: dict[str, Any],
    params: dict[str, Any],
    run_id: str,
    fingerprint: str,
) -> ModelOutcome:
    target = load.ident(f"{model.layer}.{model.name}")
    versions = input_versions(con, model, run_id, fingerprint)
    built_from = _built_from(con, target) if table_exists(con, target) else None
    if built_from is None:
        return _first_build(con, validator, model, context, params, run_id, versions)
    if built_from == versions:
        return ModelOutcome(model.name, "unchanged")
    scope = _partition_scope(con, model, built_from, versions)
    _materialise(con, model, context, scope)
    if scope is not None and not _comparable(con, target):  # the model's columns changed
        scope = None
        _materialise(con, model, context)
    total = int(load.scalar(con, f"select count(*) from {ROWS}"))  # noqa: S608
    some = _changed_rows(con, target, scope)
    result = _validate_changed(con, validator, model.name, _chunks(some, total), params)
    changed = total if some is None else some
    bad = sorted({int(i) for i in result.quarantined["row_index"]})
    # rows of the other partition values stay as they are
    others = (
        0
        if scope is None
        else int(
            load.scalar(
                con,
                f"select (select count(*) from {target}) - "  # noqa: S608
                f"(select count(*) from {target} as t where {_in_keys(scope, 't')})",
            )
        )
    )
    outcome = ModelOutcome(
        model.name,
        "built",
        rows_in=others + total,
        validated=changed,
        quarantined=len(bad),
        failures=list(result.failures),
        warnings=list(result.warnings),
    )
    kept = others + total - len(bad)
    if not outcome.failures:
        failures, warnings = validator.check_row_count(model.name, kept, params)
        outcome.failures += failures
        outcome.warnings += warnings
    if outcome.failures:
        outcome.status = "kept_previous"
        return outcome
    before = int(load.scalar(con, f"select count(*) from {target}")) - others  # noqa: S608
    in_place = scope is None and some is not None and _gone_rows(con, target, some, total)
    if scope is not None:  # the rows of these partitions the new build no longer has
        _collect_gone(con, target, scope)
    delta = in_place or scope is not None  # the rows added and gone are known
    con.execute("begin transaction")
    try:
        con.register("bad_frame", pd.DataFrame({"_row": bad}, dtype="int64"))
        con.execute(f"create or replace table {BAD} as select _row from bad_frame")  # noqa: S608
        con.unregister("bad_frame")
        if in_place:
            con.execute(f"delete from {target} where rowid in (select _row from {GONE})")  # noqa: S608
            con.execute(f"insert into {target} by name {_added()}")  # noqa: S608
        elif scope is None:
            con.execute(
                f"create or replace table {target} as select * exclude (_h) from {ROWS} "  # noqa: S608
                f"where rowid not in (select _row from {BAD})"
            )
        else:
            con.execute(f"delete from {target} as t where {_in_keys(scope, 't')}")  # noqa: S608
            con.execute(
                f"insert into {target} by name select * exclude (_h) from {ROWS} "  # noqa: S608
                f"where rowid not in (select _row from {BAD})"
            )
        load.write_quarantine(
            con,
            model.name,
            run_id,
            datetime.now(UTC),
            result.quarantined,
            None
            if scope is None
            else f"coalesce((row_json->>'{scope}') in (select key from {KEYS}), false)",  # noqa: S608
        )
        moved = changed > 0 or before != total - len(bad)
        if moved and history.kept(model.layer, model.name):
            outcome.history = history.record(
                con,
                model.name,
                run_id,
                _run_started(con, run_id),
                history.Delta(_added(), GONE_ROWS) if delta else None,
            )
        _record_state(con, target, versions, run_id, kept, moved)
        if moved and delta:
            version = int(
                load.scalar(
                    con, "select version from ops.table_state where table_name = ?", [target]
                )
            )
            _record_keys(con, target, version, [_added(), GONE_ROWS])
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    outcome.loaded = kept
    return outcome


def _record_state(
    con: duckdb.DuckDBPyConnection,
    target: str,
    versions: dict[str, Any],
    run_id: str,
    kept: int,
    moved: bool,
) -> None:
    """The table's new state: what it was built from, its rows, its version (next when
    its rows moved)."""
    con.execute(
        """
        insert into ops.table_state (table_name, version, inputs, run_id, row_count, updated_at)
        values ($t, 1, $inputs, $run, $n, now())
        on conflict (table_name) do update set
            version = ops.table_state.version + (case when $moved then 1 else 0 end),
            inputs = $inputs, run_id = $run, row_count = $n, updated_at = now()
        """,
        {"t": target, "inputs": json.dumps(versions), "run": run_id, "n": kept, "moved": moved},
    )


def _first_build(
    con: duckdb.DuckDBPyConnection,
    validator: Any,
    model: Model,
    context: dict[str, Any],
    params: dict[str, Any],
    run_id: str,
    versions: dict[str, Any],
) -> ModelOutcome:
    """A table never built (or whose build did not finish: it has no recorded state) is
    built whole, its rows written once, into the table itself, and validated there: no work
    table with row hashes to copy them from (a first refresh wrote 8 million SEC facts
    twice). Its state is recorded last, with the quarantine, in one transaction, so a
    table left by a killed build has none and is built again. A table-level failure leaves
    it empty and typed, so downstream shows unknown."""
    target = load.ident(f"{model.layer}.{model.name}")
    source = _model_source(con, model, context)
    con.execute(f"create or replace table {target} as select * from {source} as n")  # noqa: S608
    total = int(load.scalar(con, f"select count(*) from {target}"))  # noqa: S608
    try:
        result = _validate_changed(
            con, validator, model.name, _chunks(None, total), params, rows_table=target
        )
    except BaseException:  # never leave rows nobody validated where publish would take them
        con.execute(f"delete from {target}")  # noqa: S608
        raise
    bad = sorted({int(i) for i in result.quarantined["row_index"]})
    kept = total - len(bad)
    outcome = ModelOutcome(
        model.name,
        "built",
        rows_in=total,
        validated=total,
        quarantined=len(bad),
        failures=list(result.failures),
        warnings=list(result.warnings),
    )
    if not outcome.failures:
        failures, warnings = validator.check_row_count(model.name, kept, params)
        outcome.failures += failures
        outcome.warnings += warnings
    if outcome.failures:
        con.execute(f"delete from {target}")  # noqa: S608
        outcome.status = "kept_previous"
        return outcome
    con.execute("begin transaction")
    try:
        if bad:
            con.register("bad_frame", pd.DataFrame({"_row": bad}, dtype="int64"))
            try:
                con.execute(f"delete from {target} where rowid in (select _row from bad_frame)")  # noqa: S608
            finally:
                con.unregister("bad_frame")
        load.write_quarantine(con, model.name, run_id, datetime.now(UTC), result.quarantined, None)
        if history.kept(model.layer, model.name):
            outcome.history = history.record(con, model.name, run_id, _run_started(con, run_id))
        _record_state(con, target, versions, run_id, kept, moved=True)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    outcome.loaded = kept
    return outcome


def _added() -> str:
    """SQL: the rows a build in place adds (the changed ones, less the quarantined)."""
    return (
        f"select * exclude (_h) from {ROWS} where rowid in (select _row from {CHANGED}) "  # noqa: S608
        f"and rowid not in (select _row from {BAD})"
    )


def _run_started(con: duckdb.DuckDBPyConnection, run_id: str) -> datetime:
    """When the run started: the time its facts are valid from."""
    started = load.scalar(con, "select started_at from ops.runs where run_id = ?", [run_id])
    return started if isinstance(started, datetime) else datetime.now(UTC)


def prune_landed_keys(con: duckdb.DuckDBPyConnection, models: tuple[Model, ...]) -> None:
    """Forget the key values every partitioned model has built past (and those no
    partitioned model reads), once published: ops.landed_keys stays the size of one run's
    changes."""
    oldest: dict[str, int] = {}
    for model in models:
        if model.partition is None:
            continue
        built = _built_from(con, load.ident(f"{model.layer}.{model.name}")) or {}
        for table in model.inputs:
            name = _keys_of(model, table)
            oldest[name] = min(oldest.get(name, 2**62), int(built.get(table) or 0))
    con.execute(
        "delete from ops.landed_keys where table_name not in (select unnest($t::varchar[]))",
        {"t": list(oldest)},
    )
    for table, version in oldest.items():
        con.execute(
            "delete from ops.landed_keys where table_name = ? and version <= ?", [table, version]
        )


def empty_unbuilt(con: duckdb.DuckDBPyConnection, models: tuple[Model, ...]) -> None:
    """Empty the models' tables that have no recorded state: what a build killed between
    writing a first build's rows and validating them left. Their next build starts over;
    until then they are published empty (unknown), never with rows nobody validated."""
    names = [f"{m.layer}.{m.name}" for m in models]
    unbuilt = con.execute(
        "select schema_name || '.' || table_name from duckdb_tables() "
        "where schema_name || '.' || table_name in (select unnest($names::varchar[])) "
        "and schema_name || '.' || table_name not in (select table_name from ops.table_state)",
        {"names": names},
    ).fetchall()
    for (table,) in unbuilt:
        con.execute(f"delete from {load.ident(table)}")  # noqa: S608


def drop_scratch(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the build's work tables and types (also those a killed run left behind)."""
    con.execute(f"drop schema if exists {SCRATCH} cascade")
    con.execute(f"drop table if exists {KEYS}")
    con.execute(f"drop table if exists {INPUT_KEYS}")
    enums = con.execute(
        "select type_name from duckdb_types() where starts_with(type_name, $p)",
        {"p": ENUM_PREFIX},
    ).fetchall()
    for (enum,) in enums:
        con.execute(f"drop type if exists {load.ident(enum)}")
