"""Landing loader benchmark: the rows partnerdd lands in volume, SEC company facts, loaded
three ways into a fresh DuckDB file each, rows/s side by side in one run (issue 11).

- ours: `flows.load.upsert` into `raw.sec__facts` of a writer database opened as the
  pipeline opens it (`flows.db.open_work`: its schema and settings), in the pipeline's chunks
  (`flows/landing.py` CHUNK_ROWS), one transaction per chunk, replacing by `cik`;
- dlt (a dev-only dependency) at its fastest: the duckdb destination with parquet loader
  files, the rows given as pyarrow tables of one chunk each. `merge` on merge_key `cik`
  (delete-insert: replace by key, what we do) is the like-for-like comparison; `append`
  (no key handling) is shown as dlt's fastest;
- bare Arrow: the rows as one pyarrow table, `create table as select * from` it (no key
  handling, no schema: the bound of what DuckDB ingest costs).

The rows: the real recorded company facts of Snowflake (the demo snapshot's payload, 8,163
facts) parsed as the pipeline parses them (`parse_companyfacts_columns`, `_fact_columns`),
under N distinct CIKs. Each loader is timed from its input in memory (ours: the parsed
columns; dlt and bare: pyarrow tables, built beforehand and timed separately) to its rows
committed and its connection closed, on one clock, best of 3, each repetition into a new
file. Each loader must end with every row and every CIK, or it is reported as failed.

Targets (issue 11): ours ≥ 5 × dlt's rows/s, and the bare Arrow insert ≤ 2 × ours.

    .venv/bin/python -m benchmarks.loader [--companies N] [--note "..."]

Results go to benchmarks/results/<date>-loader.json; `make bench` runs it at
DEFAULT_COMPANIES.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import dlt
import duckdb
import pyarrow as pa

from benchmarks.scale import _commit, results_path
from benchmarks.synthetic import synthetic_cik
from connectors.sec.parse import parse_companyfacts_columns
from connectors.sec.source import _fact_columns
from connectors.source import Columns
from flows.db import apply_schema, open_work
from flows.landing import CHUNK_ROWS
from flows.load import upsert
from flows.offline import SNAPSHOT_DIR

COMPANYFACTS = SNAPSHOT_DIR / "sec" / "companyfacts_CIK0001640147_SNOW.json"
DEFAULT_COMPANIES = 100
REPEAT = 3
OVER_DLT_TARGET = 5.0  # ours ≥ 5 × dlt's rows/s
BARE_OVER_OURS_BOUND = 2.0  # the bare Arrow insert ≤ 2 × ours
TABLE = "raw.sec__facts"
DLT_WRITES: dict[str, dict[str, Any]] = {
    # replace every row of a landed cik, as we do (a primary key would keep one row per cik)
    "merge": {
        "write_disposition": {"disposition": "merge", "strategy": "delete-insert"},
        "merge_key": "cik",
    },
    "append": {"write_disposition": "append"},
}


class _Answer:
    """What _fact_columns reads of a stored answer."""

    sha256 = "ab" * 32
    fetched_at = datetime(2026, 12, 1, tzinfo=UTC)


def company_facts(n: int) -> list[Columns]:
    """Snowflake's parsed facts under N distinct CIKs (the value lists shared, as each
    company's own would be: the loaders frame them per company all the same)."""
    facts = parse_companyfacts_columns(
        COMPANYFACTS.read_bytes(), "https://data.sec.gov/api/xbrl/companyfacts/", sha256="ab" * 32
    )
    part = _fact_columns(facts, _Answer())  # type: ignore[arg-type]
    return [Columns(part.data, {**part.constant, "cik": synthetic_cik(i)}) for i in range(n)]


def chunks(parts: Sequence[Columns]) -> Iterator[list[Columns]]:
    """Companies grouped as landing groups them: a chunk closes once it holds CHUNK_ROWS."""
    chunk: list[Columns] = []
    rows = 0
    for part in parts:
        chunk.append(part)
        rows += len(part)
        if rows >= CHUNK_ROWS:
            yield chunk
            chunk, rows = [], 0
    if chunk:
        yield chunk


def table_schema() -> pa.Schema:
    """raw.sec__facts's columns and types as Arrow's (a column that is all null in the
    sample, e.g. `problem`, keeps its type)."""
    con = duckdb.connect()
    try:
        apply_schema(con)
        return con.sql(f"select * from {TABLE} limit 0").to_arrow_table().schema  # noqa: S608
    finally:
        con.close()


def arrow_table(parts: Sequence[Columns], schema: pa.Schema) -> pa.Table:
    """The companies' rows as one pyarrow table, their shared values repeated per row."""
    tables = []
    for part in parts:
        n = len(part)
        columns = {**part.data, **{name: [value] * n for name, value in part.constant.items()}}
        tables.append(pa.table({f.name: columns[f.name] for f in schema}, schema=schema))
    return pa.concat_tables(tables)


@dataclass
class Landed:
    rows: int
    ciks: int


def _landed(con: duckdb.DuckDBPyConnection, table: str) -> Landed:
    rows, ciks = con.execute(f"select count(*), count(distinct cik) from {table}").fetchone()  # type: ignore[misc]  # noqa: S608 (our names)
    return Landed(rows, ciks)


def load_ours(workdir: Path, parts: Sequence[Columns]) -> Landed:
    con = open_work(workdir, {})
    try:
        for chunk in chunks(parts):
            con.execute("begin transaction")
            upsert(con, TABLE, [], "cik", columns=chunk)
            con.execute("commit")
        return _landed(con, TABLE)
    finally:
        con.close()


def load_bare(workdir: Path, table: pa.Table) -> Landed:
    con = duckdb.connect(str(workdir / "bare.duckdb"))
    try:
        con.register("arrow_table", table)
        con.execute("create table facts as select * from arrow_table")
        return _landed(con, "facts")
    finally:
        con.close()


def load_dlt(workdir: Path, tables: Sequence[pa.Table], disposition: str) -> Landed:
    db = workdir / "dlt.duckdb"
    pipeline = dlt.pipeline(
        pipeline_name="loader_bench",
        pipelines_dir=str(workdir / "dlt-pipelines"),
        destination=dlt.destinations.duckdb(str(db)),
        dataset_name="raw",
    )
    resource = dlt.resource(iter(tables), name="sec__facts", **DLT_WRITES[disposition])
    pipeline.run(resource, loader_file_format="parquet").raise_on_failed_jobs()
    con = duckdb.connect(str(db), read_only=True)
    try:
        return _landed(con, "raw.sec__facts")
    finally:
        con.close()


def _best_of(scratch: Path, name: str, load: Callable[[Path], Landed]) -> dict[str, Any]:
    """Best of REPEAT, each into a new directory; what the last repetition landed."""
    times: list[float] = []
    landed = Landed(0, 0)
    for k in range(REPEAT):
        workdir = scratch / f"{name}-{k}"
        workdir.mkdir()
        gc.collect()
        start = time.perf_counter()
        landed = load(workdir)
        times.append(time.perf_counter() - start)
        shutil.rmtree(workdir, ignore_errors=True)
    return {"loader": name, "seconds": min(times), "all_seconds": times, **landed.__dict__}


def run(companies: int, scratch: Path) -> dict[str, Any]:
    parts = company_facts(companies)
    expected = Landed(sum(len(p) for p in parts), companies)
    schema = table_schema()
    start = time.perf_counter()
    one_table = arrow_table(parts, schema)
    build_s = time.perf_counter() - start  # what handing the parsed rows to Arrow costs
    chunk_tables = [arrow_table(chunk, schema) for chunk in chunks(parts)]
    loaders = [_best_of(scratch, "ours", partial(load_ours, parts=parts))]
    for disposition in DLT_WRITES:
        load = partial(load_dlt, tables=chunk_tables, disposition=disposition)
        loaders.append(_best_of(scratch, f"dlt {disposition}", load))
    loaders.append(_best_of(scratch, "bare arrow", partial(load_bare, table=one_table)))
    score(loaders, expected)
    for loader in loaders:  # what a loader that takes Arrow costs from the parsed columns
        if loader["loader"] != "ours" and loader["rows_per_s"] is not None:
            loader["rows_per_s_with_arrow_build"] = expected.rows / (loader["seconds"] + build_s)
    return {
        "benchmark": "loader",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": _commit(),
        "companies": companies,
        "rows": expected.rows,
        "chunk_rows": CHUNK_ROWS,
        "repeat": REPEAT,
        "arrow_table_build_s": build_s,
        "load_average": os.getloadavg(),
        "loaders": loaders,
        "ratios": ratios(loaders),
        "ratios_with_arrow_build": ratios(loaders, "rows_per_s_with_arrow_build"),
    }


def score(loaders: list[dict[str, Any]], expected: Landed) -> None:
    """rows/s of each loader that landed every row and every company; None (failed) for one
    that did not."""
    for loader in loaders:
        loader["complete"] = Landed(loader["rows"], loader["ciks"]) == expected
        loader["rows_per_s"] = expected.rows / loader["seconds"] if loader["complete"] else None


def ratios(loaders: list[dict[str, Any]], peer_speed: str = "rows_per_s") -> dict[str, Any]:
    """ours ÷ dlt merge (like for like), ours ÷ dlt's fastest, bare ÷ ours; None where a
    loader failed. `peer_speed`: which rows/s of dlt and bare to use."""
    speed = {r["loader"]: r.get(peer_speed) for r in loaders}
    speed["ours"] = next(r["rows_per_s"] for r in loaders if r["loader"] == "ours")
    ours, bare = speed["ours"], speed["bare arrow"]
    dlt_speeds = [x for x in (speed[f"dlt {d}"] for d in DLT_WRITES) if x is not None]
    fastest_dlt = max(dlt_speeds) if len(dlt_speeds) == len(DLT_WRITES) else None

    def over(a: float | None, b: float | None) -> float | None:
        return None if a is None or b is None else a / b

    out = {
        "ours_over_dlt_merge": over(ours, speed["dlt merge"]),
        "ours_over_dlt_fastest": over(ours, fastest_dlt),
        "bare_over_ours": over(bare, ours),
    }
    out["over_dlt_target"] = OVER_DLT_TARGET
    out["bare_over_ours_bound"] = BARE_OVER_OURS_BOUND
    like = out["ours_over_dlt_merge"]
    out["dlt_target_met"] = like is not None and like >= OVER_DLT_TARGET
    out["bare_bound_met"] = out["bare_over_ours"] is not None and (
        out["bare_over_ours"] <= BARE_OVER_OURS_BOUND
    )
    return out


def print_result(result: dict[str, Any]) -> None:
    load = ", ".join(f"{x:.1f}" for x in result["load_average"])
    print(
        f"loader benchmark: {result['rows']:,} SEC fact rows of {result['companies']} companies, "
        f"best of {result['repeat']} (load average {load})"
    )
    print(f"  {'loader':14} {'seconds':>8} {'rows/s':>12}  landed")
    for r in result["loaders"]:
        speed = "FAILED" if r["rows_per_s"] is None else f"{r['rows_per_s']:,.0f}"
        print(
            f"  {r['loader']:14} {r['seconds']:8.2f} {speed:>12}  "
            f"{r['rows']:,} rows, {r['ciks']} CIKs"
        )
    q = result["ratios"]

    def fmt(x: float | None) -> str:
        return "n/a" if x is None else f"{x:.2f}"

    print(
        f"  ours ÷ dlt merge {fmt(q['ours_over_dlt_merge'])} (target ≥ {OVER_DLT_TARGET:g}: "
        f"{'met' if q['dlt_target_met'] else 'NOT met'}); ours ÷ dlt's fastest "
        f"{fmt(q['ours_over_dlt_fastest'])}; bare ÷ ours {fmt(q['bare_over_ours'])} "
        f"(bound ≤ {BARE_OVER_OURS_BOUND:g}: {'met' if q['bare_bound_met'] else 'NOT met'})"
    )
    w = result["ratios_with_arrow_build"]
    print(
        "  not in the times above: building the pyarrow table that dlt and bare take from the "
        f"parsed columns, {result['arrow_table_build_s']:.2f} s; with it, ours ÷ dlt merge "
        f"{fmt(w['ours_over_dlt_merge'])}, ours ÷ dlt's fastest {fmt(w['ours_over_dlt_fastest'])}, "
        f"bare ÷ ours {fmt(w['bare_over_ours'])}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.loader", description=__doc__)
    parser.add_argument("--companies", type=int, default=DEFAULT_COMPANIES, metavar="N")
    parser.add_argument("--note", default="", help="free text stored in the JSON")
    parser.add_argument("--output", type=Path, help="JSON file (default benchmarks/results/)")
    args = parser.parse_args(argv)
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")  # no internet here
    os.environ.setdefault("RUNTIME__LOG_LEVEL", "ERROR")
    with tempfile.TemporaryDirectory(prefix="partnerdd-loader-") as scratch:
        result = run(args.companies, Path(scratch))
    result["note"] = args.note
    print_result(result)
    output = args.output or results_path("loader")
    output.write_text(json.dumps(result, indent=1, default=str) + "\n", encoding="utf-8")
    print(f"(written to {output})")
    return 0 if all(r["rows_per_s"] is not None for r in result["loaders"]) else 1


if __name__ == "__main__":
    sys.exit(main())
