"""Parse throughput of SEC company facts on one machine: in the refresh's process (the
default) against a Dask LocalCluster of 1 and 2 worker processes (flows/scaleout.py), and
what bounds it: the parse's CPU alone, and the single writer's landing alone.

N synthetic companies, each the real Snowflake company facts (2.5 MB, 8,163 facts) under its
own CIK (benchmarks/synthetic.py), are stored in a raw store and its writer database as a
refresh leaves them before parsing. Each mode then runs in a child process of its own on a
fresh copy of that database (benchmarks/proctree.py: peak RSS of the whole process tree,
Dask workers and Prefect's temporary server included) and times, inside the child:

- here: `landing.parse_pending` as a refresh runs it by default (parse, then land, in turn);
- dask-1, dask-2: the same with the Dask parser; the cluster's start (worker processes,
  their first import of partnerdd and Prefect) is timed apart, as `startup_s`;
- parse-only: every payload parsed in one process, nothing landed (the CPU the parse needs);
- land-only: the parsed rows landed by `parse_pending` with the parse done beforehand,
  untimed (the writer's share; its RSS holds every parsed row at once, so ignore it).

    .venv/bin/python -m benchmarks.scaleout [--companies N] [--note "..."]

Results go to benchmarks/results/<date>-scaleout.json. Nothing here is asserted by tests.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import pickle
import shutil
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.scale import GIB, Harness, _commit, results_path
from benchmarks.synthetic import SyntheticPartners, synthetic_cik
from connectors.config import load_settings
from connectors.replay import PatternRoute
from connectors.sec.source import COMPANYFACTS
from connectors.sec.source import SPEC as SEC
from connectors.source import Batch, Parsed, SourceSpec
from flows import landing, scaleout
from flows.db import open_work
from flows.operations import Run
from flows.store import RawStore

DEFAULT_COMPANIES = 200
GROUPS_PER_TASK = 20  # config/operations.toml's default
MODES = ("here", "dask-1", "dask-2", "parse-only", "land-only")
RUN_ID = "20261203T000000-bench0"


def prepare(store_root: Path, companies: int) -> int:
    """A raw store holding `companies` company facts and a writer database that has ingested
    them, none parsed yet; returns the stored bytes."""
    render = next(
        r.render
        for r in SyntheticPartners(companies).routes()
        if isinstance(r, PatternRoute) and "companyfacts" in r.path
    )
    store = RawStore(store_root)
    store.begin(RUN_ID)
    size = 0
    for i in range(companies):
        cik = f"{int(synthetic_cik(i)):010d}"
        body = render({"cik": cik})
        assert body is not None
        size += len(body)
        store.put(
            source="sec",
            kind=COMPANYFACTS,
            partner_id=f"bench-{i:05d}",
            url=f"http://127.0.0.1/sec/api/xbrl/companyfacts/CIK{cik}.json",
            status=200,
            headers={"Content-Type": "application/json"},
            body=body,
            sha256=hashlib.sha256(body).hexdigest(),
            fetched_at=datetime(2026, 12, 3, tzinfo=UTC),
        )
    store.close()
    con = open_work(store_root)
    try:
        landing.ingest_earlier_journals(con, store, run_id="")
    finally:
        con.close()
    return size


def _rows(con: Any) -> int:
    return int(con.execute("select count(*) from raw.sec__facts").fetchone()[0])


def _precomputed(results: dict[str | None, Parsed]) -> landing.GroupParser:
    def parser(
        spec: SourceSpec, groups: Iterable[tuple[str | None, Batch | None]]
    ) -> Iterator[tuple[str | None, Parsed | None]]:
        for group, batch in groups:
            yield group, None if batch is None else results[group]

    return parser


def _all_batches(con: Any, store: RawStore) -> list[Batch]:
    """The stored batches as parse_pending reads them (a parser that keeps them, unparsed)."""
    kept: list[Batch] = []

    def keep(
        spec: SourceSpec, groups: Iterable[tuple[str | None, Batch | None]]
    ) -> Iterator[tuple[str | None, Parsed | None]]:
        for group, batch in groups:
            assert batch is not None
            kept.append(batch)
            yield group, None

    landing.parse_pending(con, store, SEC, load_settings({}), "read", parser=keep)
    landing.forget_parsed(con, SEC.name)
    return kept


def child(mode: str, store_root: Path) -> dict[str, Any]:
    """One mode, timed inside this process; prints nothing else to stdout."""
    con = open_work(store_root)
    store = RawStore(store_root)
    settings = load_settings({})
    out: dict[str, Any] = {"mode": mode}
    try:
        if mode == "parse-only":
            batches = _all_batches(con, store)
            start, cpu = time.perf_counter(), time.process_time()
            parsed = [landing.parse_safely(SEC.parse, b) for b in batches]
            out["seconds"] = time.perf_counter() - start
            out["cpu_s_this_process"] = time.process_time() - cpu
            out["rows"] = sum(len(c) for p in parsed for c in p.columns["raw.sec__facts"])
            return out
        if mode == "land-only":
            batches = _all_batches(con, store)
            results = {b.partner_id: SEC.parse(b) for b in batches}
            start, cpu = time.perf_counter(), time.process_time()
            landing.parse_pending(con, store, SEC, settings, RUN_ID, parser=_precomputed(results))
            out["seconds"] = time.perf_counter() - start
            out["cpu_s_this_process"] = time.process_time() - cpu
            out["rows"] = _rows(con)
            return out
        if mode == "here":
            start, cpu = time.perf_counter(), time.process_time()
            landing.parse_pending(con, store, SEC, settings, RUN_ID)
            out["seconds"] = time.perf_counter() - start
            out["cpu_s_this_process"] = time.process_time() - cpu
            out["rows"] = _rows(con)
            return out
        workers = int(mode.split("-")[1])
        run = Run("dask", dask_workers=workers, dask_groups_per_task=GROUPS_PER_TASK)
        start = time.perf_counter()
        with scaleout.parser(run, store_root) as on_dask:
            assert isinstance(on_dask, scaleout.DaskParser)
            warmup = [
                on_dask.runner.submit(
                    scaleout.parse_groups, {"parse": SEC.parse, "batches": pickle.dumps([])}
                )
                for _ in range(workers)
            ]
            for future in warmup:
                future.result()
            out["startup_s"] = time.perf_counter() - start
            client = on_dask.runner.client
            workers_cpu = sum(client.run(time.process_time).values())
            start, cpu = time.perf_counter(), time.process_time()
            landing.parse_pending(con, store, SEC, settings, RUN_ID, parser=on_dask)
            out["seconds"] = time.perf_counter() - start
            out["cpu_s_this_process"] = time.process_time() - cpu
            out["cpu_s_workers"] = sum(client.run(time.process_time).values()) - workers_cpu
            start = time.perf_counter()
        out["shutdown_s"] = time.perf_counter() - start
        out["rows"] = _rows(con)
        return out
    finally:
        con.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scaleout", description=__doc__)
    parser.add_argument("--companies", type=int, default=DEFAULT_COMPANIES)
    parser.add_argument("--note", default=None)
    parser.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--store", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.store)))
        return 0

    base = Path(tempfile.mkdtemp(prefix="partnerdd-scaleout-"))
    try:
        prepared = base / "prepared"
        stored = prepare(prepared, args.companies)
        harness = Harness(base, ceiling_bytes=16 * GIB, timeout_s=3600)
        harness.run("prefect-warmup", ["-m", "benchmarks.trivial_flow"], {})
        runs = []
        for mode in MODES:
            store_root = base / mode
            shutil.copytree(prepared, store_root)
            args_ = ["-m", "benchmarks.scaleout", "--child", mode, "--store", str(store_root)]
            measured = harness.run(mode, args_, {})
            lines = (base / f"{mode}.out").read_text(encoding="utf-8").splitlines()
            timed = json.loads(lines[-1]) if measured["returncode"] == 0 and lines else {}
            runs.append({**measured, **timed})
            shutil.rmtree(store_root)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    result = _summarise(runs, args.companies, stored, args.note)
    path = results_path("scaleout")
    path.write_text(json.dumps(result, indent=1, default=str) + "\n", encoding="utf-8")
    _print(result)
    print(f"written to {path}", file=sys.stderr)
    return 0


def _summarise(
    runs: list[dict[str, Any]], companies: int, stored: int, note: str | None
) -> dict[str, Any]:
    table = []
    for r in runs:
        seconds, rows = r.get("seconds"), r.get("rows")
        table.append(
            {
                "mode": r["name"],
                "seconds": seconds,
                "rows": rows,
                "rows_per_s": rows / seconds if seconds and rows else None,
                "companies_per_s": companies / seconds if seconds else None,
                "cpu_s_writer": r.get("cpu_s_this_process"),
                "cpu_s_workers": r.get("cpu_s_workers"),
                "startup_s": r.get("startup_s"),
                "shutdown_s": r.get("shutdown_s"),
                "tree_peak_rss_gib": r["tree_peak_rss"] / GIB,
                "tree_peak_processes": r["tree_peak_processes"],
                "cpu_s_child_whole": r["cpu_s"],
                "load_before": r["load_before"],
                "failed": r.get("stderr_tail"),
            }
        )
    here = next((t["seconds"] for t in table if t["mode"] == "here"), None)
    for t in table:
        t["speedup_over_here"] = here / t["seconds"] if here and t["seconds"] else None
    return {
        "benchmark": "scaleout",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": _commit(),
        "companies": companies,
        "stored_mib": stored / 2**20,
        "cores": os.cpu_count(),
        "groups_per_task": GROUPS_PER_TASK,
        "load_average_after": os.getloadavg(),
        "modes": table,
        "note": note,
    }


def _print(result: dict[str, Any]) -> None:
    print(
        f"SEC company facts, {result['companies']} companies "
        f"({result['stored_mib']:.0f} MiB of JSON), {result['cores']} cores"
    )
    print(
        f"{'mode':<11}{'seconds':>9}{'rows/s':>10}{'x here':>8}{'startup':>9}"
        f"{'cpu s (writer + workers)':>26}{'peak RSS GiB':>14}{'load':>6}"
    )
    for t in result["modes"]:
        seconds = "failed" if t["seconds"] is None else f"{t['seconds']:.1f}"
        rate = f"{t['rows_per_s']:,.0f}" if t["rows_per_s"] else "-"
        speedup = f"{t['speedup_over_here']:.2f}" if t["speedup_over_here"] else "-"
        startup = f"{t['startup_s']:.1f}" if t["startup_s"] else "-"
        cpu = "-" if t["cpu_s_writer"] is None else f"{t['cpu_s_writer']:.1f}"
        if t["cpu_s_workers"] is not None:
            cpu += f" + {t['cpu_s_workers']:.1f}"
        print(
            f"{t['mode']:<11}{seconds:>9}{rate:>10}{speedup:>8}{startup:>9}{cpu:>26}"
            f"{t['tree_peak_rss_gib']:>14.2f}{t['load_before']:>6.1f}"
        )


if __name__ == "__main__":
    sys.exit(main())
