"""The on-demand request benchmark: `partnerdd request "SAP SE" --country DE`, one new partner,
against a database and store that a refresh of the demo registry without SAP filled.

Everything is served by one loopback replay server over the demo's recorded payloads (one
base URL, so the store's answers are reused as in production). Measured from outside the
process, each in a fresh process on its own copy of the same state:

- live-shaped: 100 ms latency on every answer and the publishers' real rate limits (the
  sources' declared `rate_per_second`). Target: a dossier in <= 60 s.
- own work: the same request with no latency and no rate limits, timed inside the flow
  (its `request time: total` line: from the flow's start to the dossier written, so
  Prefect's start-up is not in it). Target: <= 10 s. Also shown: that run's wall and CPU
  minus a one-task Prefect flow's in a fresh process (noisier on a shared machine).

    .venv/bin/python -m benchmarks.request [--note "..."]

Results go to benchmarks/results/<date>-request.json; `make bench` runs it before the scale
benchmark.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.scale import Harness, _commit, in_flow_seconds, results_path
from connectors.replay import ReplayServer
from flows.offline import DEMO_PARTNERS, SNAPSHOT_DIR, source_overrides

LATENCY_S = 0.1
TOTAL_BOUND_S = 60.0
OWN_BOUND_S = 10.0
GIB = 2**30


def _registry_without_sap(path: Path) -> None:
    lines = DEMO_PARTNERS.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(x for x in lines if not x.startswith("sap,")), encoding="utf-8")


def _cli(state: Path, *args: str) -> list[str]:
    return [
        "-m", "flows.cli", *args, "--partners", str(state / "partners.csv"),
        "--db", str(state / "data" / "partnerdd.duckdb"),
        "--reports", str(state / "reports" / "data_docs"),
    ]  # fmt: skip


def _request(harness: Harness, name: str, state: Path, env: dict[str, str]) -> dict[str, Any]:
    args = _cli(state, "request", "SAP SE", "--country", "DE")
    result = harness.run(name, args, {**env, "COLUMNS": "200"})
    result["in_flow_s"] = in_flow_seconds(harness.workdir / f"{name}.out")
    return result


def run(workdir: Path) -> dict[str, Any]:
    harness = Harness(workdir, ceiling_bytes=8 * GIB, timeout_s=900)
    trivial_args = ["-m", "benchmarks.trivial_flow"]
    harness.run("prefect-warmup", trivial_args, {})
    trivial = harness.run("trivial-flow", trivial_args, {})
    with ReplayServer(SNAPSHOT_DIR) as server:
        lifted = source_overrides(server.base_url)  # PARTNERDD_OFFLINE=1, limits lifted
        real_limits = {k: v for k, v in lifted.items() if not k.endswith("_RATE_PER_SECOND")}
        state = workdir / "state"
        state.mkdir()
        _registry_without_sap(state / "partners.csv")
        setup = harness.run("setup-refresh", _cli(state, "refresh"), lifted)
        if setup["returncode"] != 0:
            raise RuntimeError(f"the set-up refresh failed: {setup.get('stderr_tail')}")
        for copy in ("live", "own"):
            shutil.copytree(state, workdir / copy)
        server.latency = LATENCY_S
        asked = len(server.requests)
        live = _request(harness, "request-live", workdir / "live", real_limits)
        live["requests_served"] = len(server.requests) - asked
        server.latency = 0.0
        asked = len(server.requests)
        own = _request(harness, "request-own", workdir / "own", lifted)
        own["requests_served"] = len(server.requests) - asked
    return {"trivial_flow": trivial, "setup_refresh": setup, "live": live, "own": own}


def measurements(result: dict[str, Any]) -> list[dict[str, Any]]:
    trivial, live, own = result["trivial_flow"], result["live"], result["own"]
    in_flow = own["in_flow_s"] if own["in_flow_s"] is not None else float("nan")
    live_in_flow = live["in_flow_s"] if live["in_flow_s"] is not None else float("nan")
    own_wall, own_cpu = own["wall_s"] - trivial["wall_s"], own["cpu_s"] - trivial["cpu_s"]
    rows: list[tuple[str, float, float | None]] = [
        ("request, 100 ms latency and real rate limits: wall", live["wall_s"], TOTAL_BOUND_S),
        ("own work: the request's flow, no latency or limits", in_flow, OWN_BOUND_S),
        ("own work: its wall - one-task Prefect flow's wall", own_wall, OWN_BOUND_S),
        ("own work: its CPU - one-task Prefect flow's CPU", own_cpu, OWN_BOUND_S),
        ("the live request's flow (own work + latency + limits)", live_in_flow, None),
        ("the live request's wall - its flow (Prefect start)", live["wall_s"] - live_in_flow, None),
        ("one-task Prefect flow in a fresh process, wall", trivial["wall_s"], None),
    ]  # fmt: skip
    return [
        {
            "measurement": name,
            "value": value,
            "bound": bound,
            "ratio": None if bound is None else value / bound,
        }
        for name, value, bound in rows
    ]


def print_table(rows: list[dict[str, Any]], result: dict[str, Any]) -> None:
    print(f"{'request benchmark':66} {'seconds':>8} {'bound':>6} {'ratio':>6}")
    for r in rows:
        bound = "" if r["bound"] is None else f"{r['bound']:.0f}"
        ratio = "" if r["ratio"] is None else f"{r['ratio']:.2f}"
        print(f"{r['measurement']:66} {r['value']:8.1f} {bound:>6} {ratio:>6}")
    live, own = result["live"], result["own"]
    print(
        f"(requests served: live {live['requests_served']}, own {own['requests_served']}; "
        f"exit codes {live['returncode']}, {own['returncode']}; load before "
        f"{live['load_before']:.1f}; peak RSS of the request's tree "
        f"{live['tree_peak_rss'] / GIB:.2f} GiB)",
        flush=True,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.request", description=__doc__)
    parser.add_argument("--note", default="", help="free text stored with the results")
    parser.add_argument("--workdir", help="scratch directory (default: a new temporary one)")
    args = parser.parse_args(argv)
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="partnerdd-request-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    result = run(workdir)
    rows = measurements(result)
    print_table(rows, result)
    out = results_path("request")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "commit": _commit(),
                "at": datetime.now(UTC).isoformat(timespec="seconds"),
                "note": args.note,
                "measurements": rows,
                "runs": result,
            },
            indent=2,
            default=str,
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"results: {out}")
    ok = all(result[k]["returncode"] == 0 for k in ("live", "own"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
