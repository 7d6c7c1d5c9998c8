"""Refresh at the publishers' rate limits: `partnerdd refresh` of N synthetic partners
(benchmarks/synthetic.py) against a loopback replay server with 100 ms latency on every
answer, the sources' declared `rate_per_second` in the client, and the same rates enforced
by the server per publisher (a request beyond them gets 429 with Retry-After).

The bound of a request plan is set by its busiest host: for each host (here each publisher's
path prefix on the one server), its requests ÷ its allowed rate; the bound is the largest.
Reported: wall ÷ bound (target ≤ 1.2 at 1,000 partners, issue 11), requests per host and per
partner per source (marts.source_requests), requests the server refused, Prefect task runs
and peak RSS, measured from outside in a fresh process (benchmarks/scale.py's Harness).

    .venv/bin/python -m benchmarks.limits                  # 100 partners
    .venv/bin/python -m benchmarks.limits --partners 1000  # the issue's size

Results go to benchmarks/results/<date>-limits.json; `make bench` runs it at 100 partners.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import sys
import tempfile
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from benchmarks.scale import GIB, Harness, _commit, _refresh_args, results_path
from benchmarks.synthetic import SyntheticPartners, replay_server, source_env
from connectors.config import load_settings

LATENCY_S = 0.1
TARGET = 1.2  # wall ≤ 1.2 × the bound of the request plan
# publisher (its settings section) -> the path prefix it is served under (source_env)
PREFIXES = {
    "gleif": "/gleif/",
    "sec": "/sec/",
    "sanctions": "/sanctions/",
    "worldbank": "/worldbank/",
}


def declared_rates() -> dict[str, float]:
    """Path prefix -> the publisher's declared requests per second (its source's default)."""
    sources = load_settings({}).sources
    return {prefix: float(sources[name]["rate_per_second"]) for name, prefix in PREFIXES.items()}


def _host_of(path: str) -> str | None:
    return next((p for p in PREFIXES.values() if path.startswith(p)), None)


def plan_bound(requests: dict[str, int], rates: dict[str, float]) -> dict[str, Any]:
    """Per host: requests, rate, requests ÷ rate; and the largest of those, the bound."""
    hosts = {
        host: {"requests": n, "rate_per_second": rates[host], "bound_s": n / rates[host]}
        for host, n in sorted(requests.items())
        if rates.get(host)
    }
    busiest = max(hosts, key=lambda h: hosts[h]["bound_s"], default=None)
    return {
        "hosts": hosts,
        "busiest": busiest,
        "bound_s": hosts[busiest]["bound_s"] if busiest else None,
    }


def _requests_per_partner(db: Path) -> list[dict[str, Any]]:
    with duckdb.connect(str(db), read_only=True) as con:
        cursor = con.execute(
            "select source, requests, partners, requests_per_partner from marts.source_requests "
            "where run_id = (select max(run_id) from ops.runs) order by source"
        )
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _task_runs(prefect_home: Path) -> int | None:
    """Task runs of the latest flow run in Prefect's database (its temporary server's)."""
    path = prefect_home / "prefect.db"
    if not path.exists():
        return None
    with sqlite3.connect(path) as con:
        row = con.execute(
            "select count(*) from task_run where flow_run_id = "
            "(select id from flow_run order by created desc limit 1)"
        ).fetchone()
    return int(row[0]) if row else None


def run(workdir: Path, n: int) -> dict[str, Any]:
    harness = Harness(workdir, ceiling_bytes=8 * GIB, timeout_s=4 * 3600)
    harness.run("prefect-warmup", ["-m", "benchmarks.trivial_flow"], {})
    partners = SyntheticPartners(n)
    base = workdir / f"n{n}"
    db = base / "db" / "partnerdd.duckdb"
    db.parent.mkdir(parents=True, exist_ok=True)
    registry = partners.write_registry(base / "partners.csv")
    rates = declared_rates()
    with replay_server(partners, latency=LATENCY_S, rate_limits=rates) as server:
        lifted = source_env(server.base_url)
        env = {k: v for k, v in lifted.items() if not k.endswith("_RATE_PER_SECOND")}
        refresh = harness.run(f"n{n}-limits", _refresh_args(registry, db, base / "docs"), env)
        out = (workdir / f"n{n}-limits.out").read_text(encoding="utf-8", errors="replace")
        refresh["stdout_tail"] = out.splitlines()[-40:]  # the run's summary
        served = [(_host_of(r["path"]), r["at"]) for r in server.requests if not r["limited"]]
        refused = dict(server.limited)
    answered = Counter(host for host, _ in served if host is not None)
    plan = plan_bound(answered, rates)
    for host, h in plan["hosts"].items():  # how long the host was busy, first to last request
        times = [at for name, at in served if name == host]
        h["busy_s"] = max(times) - min(times)
    wall = refresh["wall_s"]
    return {
        "benchmark": "limits",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": _commit(),
        "partners": n,
        "latency_s": LATENCY_S,
        "load_average_after": os.getloadavg(),
        "refresh": refresh,
        "plan": plan,
        "wall_over_bound": wall / plan["bound_s"] if plan["bound_s"] else None,
        "target": TARGET,
        "refused_429": refused,
        "requests_per_partner": _requests_per_partner(db) if db.exists() else [],
        "task_runs": _task_runs(harness.prefect_home),
    }


def print_result(result: dict[str, Any]) -> None:
    n, plan, refresh = result["partners"], result["plan"], result["refresh"]
    ratio = result["wall_over_bound"]
    print(f"limits benchmark: {n} partners, {result['latency_s'] * 1000:.0f} ms latency")
    print(
        f"  wall {refresh['wall_s']:.1f} s / bound {plan['bound_s']:.1f} s "
        f"({plan['busiest']}) = {ratio:.2f} (target ≤ {result['target']:g}); "
        f"load before {refresh['load_before']:.1f}"
    )
    for host, h in plan["hosts"].items():
        print(
            f"  {host:12} {h['requests']:6d} requests / {h['rate_per_second']:g} per s "
            f"= {h['bound_s']:8.1f} s; busy {h['busy_s']:8.1f} s; "
            f"refused with 429: {result['refused_429'].get(host, 0)}"
        )
    for r in result["requests_per_partner"]:
        print(
            f"  {r['source']:16} {r['requests']:6d} requests, "
            f"{r['requests_per_partner']} per partner"
        )
    print(
        f"  task runs {result['task_runs']}; peak RSS refresh "
        f"{refresh['own_peak_rss'] / GIB:.3f} GiB, tree {refresh['tree_peak_rss'] / GIB:.3f} GiB; "
        f"exit {refresh['returncode']} {refresh.get('status_line') or ''}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.limits", description=__doc__)
    parser.add_argument("--partners", type=int, default=100, metavar="N")
    parser.add_argument("--note", help="free text stored in the JSON")
    parser.add_argument("--output", type=Path, help="JSON file (default benchmarks/results/)")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="partnerdd-limits-"))
    try:
        result = run(workdir, args.partners)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if args.note:
        result["note"] = args.note
    print_result(result)
    output = args.output or results_path("limits")
    output.write_text(json.dumps(result, indent=1, default=str) + "\n", encoding="utf-8")
    print(f"(written to {output})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
