"""Scale benchmark: `partnerdd refresh` of N synthetic partners against a loopback replay
server (benchmarks/synthetic.py; rate limits lifted, no latency), measured from outside.

    python -m benchmarks.scale                       # 100 and 1,000 partners (make bench)
    python -m benchmarks.scale --partners 10000      # by hand; commit the JSON it writes
    python -m benchmarks.scale --partners 100 200 --skip-big

For each N: wall time (and per partner), CPU time, the pipeline's own cost per partner, peak
RSS of the refresh process and of its process tree (Prefect's server included), the size of
the published --db file and of its directory, and a rerun with nothing changed upstream as a
ratio of the first run. Once per invocation: the offline demo refresh against a one-task
Prefect flow. Every measurement is printed as a ratio against its target bound (issue 8)
and written to benchmarks/results/<date>-scale.json.

The refresh runs as `python -m flows.cli refresh --partners FILE --db FILE --reports DIR` in a
fresh process with this checkout first on PYTHONPATH, in a scratch directory, with its own
PREFECT_HOME and Prefect's temporary server; inherited PARTNERDD_* variables and
PREFECT_API_URL are dropped so that the machine's own configuration does not leak in.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.proctree import Measured, run_measured
from benchmarks.synthetic import SyntheticPartners, replay_server, source_env
from connectors.config import PROJECT_ROOT, for_every_source

GIB = 2**30
RESULTS_DIR = Path(__file__).resolve().parent / "results"
DEFAULT_SIZES = (100, 1000)

# Targets of issue 8 (benchmarks, not timed tests).
RSS_BOUNDS = ((1000, 1.0 * GIB), (10000, 1.5 * GIB))  # (up to N partners, peak RSS bound)
OWN_COST_BOUND_S = 0.1  # the pipeline's own cost per partner
RERUN_BOUND = 0.10  # rerun with nothing changed, as a fraction of the first run
DEMO_BOUND = 2.0  # offline demo refresh against a one-task Prefect flow
REQUEST_OWN_S = 10.0  # issue 12: a request's own work (its flow, Prefect's start excluded)


def rss_bound(n: int) -> float | None:
    return next((bound for upto, bound in RSS_BOUNDS if n <= upto), None)


def _gib(value: float | None) -> float | None:
    return None if value is None else value / GIB


class Harness:
    """A scratch directory, the child environment and the run limits shared by every run."""

    def __init__(self, workdir: Path, ceiling_bytes: int, timeout_s: float) -> None:
        self.workdir = workdir
        self.ceiling_bytes = ceiling_bytes
        self.timeout_s = timeout_s
        self.prefect_home = workdir / "prefect-home"
        self.prefect_home.mkdir(parents=True, exist_ok=True)

    def env(self, extra: dict[str, str]) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("PARTNERDD_") and k != "PREFECT_API_URL"
        }
        python_path = [str(PROJECT_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
        env.update(
            {
                "PYTHONPATH": os.pathsep.join(python_path),
                "PREFECT_HOME": str(self.prefect_home),
                "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
                "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                "PREFECT_LOGGING_LEVEL": "WARNING",
                **extra,
            }
        )
        return env

    def run(self, name: str, args: Sequence[str], extra_env: dict[str, str]) -> dict[str, Any]:
        load_before = os.getloadavg()[0]  # other work on the machine skews wall times
        print(f"  running {name} (load {load_before:.1f}) ...", file=sys.stderr, flush=True)
        measured = run_measured(
            [sys.executable, *args],
            env=self.env(extra_env),
            cwd=self.workdir,
            log_prefix=self.workdir / name,
            ceiling_bytes=self.ceiling_bytes,
            timeout_s=self.timeout_s,
        )
        out, err = self.workdir / f"{name}.out", self.workdir / f"{name}.err"
        return _describe(name, measured, load_before, out, err)


def _describe(name: str, m: Measured, load_before: float, out: Path, err: Path) -> dict[str, Any]:
    result: dict[str, Any] = {"name": name, **asdict(m), "load_before": load_before}
    stdout = out.read_text(encoding="utf-8", errors="replace").splitlines()
    result["status_line"] = next((line for line in stdout if line.startswith("run ")), None)
    result["phases"] = phase_seconds(" ".join(stdout))
    if m.returncode != 0 or m.aborted:
        tail = err.read_text(encoding="utf-8", errors="replace").splitlines()[-15:]
        result["stderr_tail"] = tail
    return result


def _refresh_args(registry: Path, db: Path, reports: Path) -> list[str]:
    return [
        "-m",
        "flows.cli",
        "refresh",
        "--partners",
        str(registry),
        "--db",
        str(db),
        "--reports",
        str(reports),
    ]


def _tree_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _sizes(db: Path) -> dict[str, int | None]:
    return {
        "db_bytes": db.stat().st_size if db.exists() else None,
        "db_dir_bytes": _tree_size(db.parent) if db.parent.exists() else None,
    }


def bench_prefect_baseline(harness: Harness, with_demo: bool) -> dict[str, Any]:
    """A one-task Prefect flow (after an untimed warm-up that creates PREFECT_HOME's database)
    and the offline demo refresh, both in fresh processes as a user runs them."""
    trivial_args = ["-m", "benchmarks.trivial_flow"]
    harness.run("prefect-warmup", trivial_args, {})
    result: dict[str, Any] = {"trivial_flow": harness.run("trivial-flow", trivial_args, {})}
    if with_demo:
        demo_db = harness.workdir / "demo" / "partnerdd.duckdb"
        demo_db.parent.mkdir(exist_ok=True)
        args = ["-m", "flows.cli", "refresh", "--offline", "--db", str(demo_db)]
        args += ["--reports", str(harness.workdir / "demo-docs")]
        result["offline_demo"] = {**harness.run("offline-demo", args, {}), **_sizes(demo_db)}
    return result


def _served(server: Any) -> dict[str, int]:
    answered = sum(route.hits for route in server.routes)
    conditional = sum(
        1 for r in server.requests if any(k.lower() == "if-none-match" for k in r["headers"])
    )
    counts = {
        "requests": len(server.requests),
        "not_found": len(server.requests) - answered,
        "conditional": conditional,
    }
    for route in server.routes:
        route.hits = 0
    server.requests.clear()
    return counts


def bench_size(harness: Harness, n: int) -> dict[str, Any]:
    """First refresh of N synthetic partners into an empty database, then a rerun with the
    configured max ages (answers younger than them reused without a request), then one that
    revalidates every answer (max ages 0: conditional requests, 304 where unchanged), then
    `partnerdd request` of one more partner (served, not in the registry): what business
    development waits for on a registry of this size."""
    partners = SyntheticPartners(n + 1)
    base = harness.workdir / f"n{n}"
    db = base / "db" / "partnerdd.duckdb"
    db.parent.mkdir(parents=True, exist_ok=True)
    registry = partners.write_registry(base / "partners.csv")
    *lines, newcomer = registry.read_text(encoding="utf-8").splitlines(keepends=True)
    registry.write_text("".join(lines), encoding="utf-8")
    args = _refresh_args(registry, db, base / "data-docs")
    result: dict[str, Any] = {"partners": n}
    with replay_server(partners) as server:
        env = source_env(server.base_url)
        first = harness.run(f"n{n}-first", args, env)
        result["first"] = {**first, **_sizes(db), "served": _served(server)}
        if first["aborted"] is None:
            rerun = harness.run(f"n{n}-rerun", args, env)
            result["rerun"] = {**rerun, **_sizes(db), "served": _served(server)}
            ages = for_every_source("max_age_hours", "0")
            again = harness.run(f"n{n}-revalidate", args, {**env, **ages})
            result["revalidate"] = {**again, **_sizes(db), "served": _served(server)}
            partners.changed = set(range(0, n, 100))  # 1 %: their company facts restated
            night = harness.run(f"n{n}-changed", args, {**env, **ages})
            result["changed"] = {**night, **_sizes(db), "served": _served(server)}
            _, name, _, country, lei, cik = newcomer.strip().split(",")
            request = ["request", name, "--country", country, "--lei", lei, "--cik", cik]
            asked = harness.run(
                f"n{n}-request", ["-m", "flows.cli", *request, *args[3:]], {**env, "COLUMNS": "200"}
            )
            asked["in_flow_s"] = in_flow_seconds(harness.workdir / f"n{n}-request.out")
            result["request"] = asked
    return result


def phase_seconds(text: str) -> dict[str, float]:
    """A refresh's own `time:` line (stage -> seconds), so a result says where its wall went."""
    found = re.search(r"(?<!request )time: (.*?); slowest tables:", " ".join(text.split()))
    if not found:
        return {}
    return {name: float(v) for name, v in re.findall(r"([a-z_]+) ([0-9.]+) s", found.group(1))}


def in_flow_seconds(out: Path) -> float | None:
    """A request's own `request time: total X s` line (rich may wrap it)."""
    text = " ".join(out.read_text(encoding="utf-8", errors="replace").split())
    found = re.search(r"request time: total ([0-9.]+) s \(([^)]*)\)", text)
    return float(found.group(1)) if found else None


def _predicted_rss(done: list[dict[str, Any]], n: int, fixed: int) -> float | None:
    """Tree peak RSS at N extrapolated from the largest size run so far: the trivial flow's
    tree peak (Prefect's fixed share) plus the per-partner growth seen so far."""
    runs = [r for r in done if r["first"]["aborted"] is None]
    if not runs:
        return None
    last = max(runs, key=lambda r: r["partners"])
    per_partner = (last["first"]["tree_peak_rss"] - fixed) / last["partners"]
    return fixed + per_partner * n


def run_all(
    sizes: Sequence[int],
    workdir: Path,
    ceiling_bytes: int,
    timeout_s: float,
    skip_big: bool = False,
    with_demo: bool = True,
) -> dict[str, Any]:
    harness = Harness(workdir, ceiling_bytes, timeout_s)
    baseline = bench_prefect_baseline(harness, with_demo)
    fixed = baseline["trivial_flow"]["tree_peak_rss"]
    runs: list[dict[str, Any]] = []
    for n in sorted(sizes):
        exceeded = [r["partners"] for r in runs if r["first"]["aborted"]]
        predicted = _predicted_rss(runs, n, fixed)
        if exceeded:
            runs.append(_skipped(n, f"{exceeded[0]} partners already passed a limit"))
        elif skip_big and predicted is not None and predicted > ceiling_bytes:
            reason = f"predicted tree RSS {predicted / GIB:.1f} GiB > ceiling"
            runs.append(_skipped(n, reason))
        else:
            runs.append(bench_size(harness, n))
    return {
        "benchmark": "scale",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": _commit(),
        "machine": {
            "cpus": os.cpu_count(),
            "memory_bytes": os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "limits": {"ceiling_bytes": ceiling_bytes, "timeout_s": timeout_s},
        "prefect_baseline": baseline,
        "sizes": runs,
        "measurements": measurements(baseline, runs),
    }


def _skipped(n: int, reason: str) -> dict[str, Any]:
    return {"partners": n, "first": {"aborted": f"skipped: {reason}"}}


def _commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.strip()


def _row(
    name: str, measured: float | None, bound: float | None, unit: str, note: str = ""
) -> dict[str, Any]:
    ratio = measured / bound if measured is not None and bound else None
    return {
        "name": name,
        "measured": measured,
        "bound": bound,
        "ratio": ratio,
        "unit": unit,
        "note": note,
    }


def measurements(baseline: dict[str, Any], runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every measurement as a row: value, bound (target or peer), ratio."""
    trivial = baseline["trivial_flow"]
    rows = [_row("one-task Prefect flow", trivial["wall_s"], None, "s", "the peer")]
    if "offline_demo" in baseline:
        demo = baseline["offline_demo"]
        note = f"ratio vs the flow; target ≤ {DEMO_BOUND:g}×" + _problem(demo)
        rows.append(_row("offline demo refresh", demo["wall_s"], trivial["wall_s"], "s", note))
    done = [r for r in runs if r["first"]["aborted"] is None]
    for run in runs:
        n, first = run["partners"], run["first"]
        if "tree_peak_rss" not in first:  # skipped
            rows.append(_row(f"N={n}: {first['aborted']}", None, None, ""))
        elif first["aborted"]:
            peak, bound = first["tree_peak_rss"] / GIB, rss_bound(n)
            note = f"ABORTED after {first['wall_s']:.0f} s: {first['aborted']}"
            rows.append(_row(f"N={n}: peak RSS, process tree", peak, _gib(bound), "GiB", note))
        else:
            rows += _size_rows(n, run, trivial)
    for a, b in zip(done, done[1:], strict=False):
        added = b["partners"] - a["partners"]
        sizes = f"N={a['partners']}→{b['partners']}"
        for key, what in (("wall_s", "wall"), ("cpu_s", "CPU")):
            slope = (b["first"][key] - a["first"][key]) / added
            note = f"marginal: {what} growth per added partner"
            rows.append(
                _row(f"{sizes}: own {what} per partner", slope, OWN_COST_BOUND_S, "s", note)
            )
    return rows


def _problem(run: dict[str, Any]) -> str:
    if run.get("aborted"):
        return f" — ABORTED: {run['aborted']}"
    if run.get("returncode") not in (0, None):
        return f" — exit code {run['returncode']}"
    return ""


def _size_rows(n: int, run: dict[str, Any], trivial: dict[str, Any]) -> list[dict[str, Any]]:
    first = run["first"]
    wall, cpu = first["wall_s"], first["cpu_s"]
    bound = rss_bound(n)
    rows = [
        _row(f"N={n}: first refresh wall", wall, None, "s", _problem(first).lstrip(" —")),
        _row(f"N={n}: wall per partner", wall / n, None, "s"),
        _row(
            f"N={n}: own cost per partner",
            (wall - trivial["wall_s"]) / n,
            OWN_COST_BOUND_S,
            "s",
            "(wall − one-task flow's) / N",
        ),
        _row(
            f"N={n}: own CPU per partner",
            (cpu - trivial["cpu_s"]) / n,
            OWN_COST_BOUND_S,
            "s",
            "(tree CPU − one-task flow's) / N",
        ),
        _row(
            f"N={n}: peak RSS, process tree",
            first["tree_peak_rss"] / GIB,
            _gib(bound),
            "GiB",
            f"{first['tree_peak_processes']} processes at the peak",
        ),
        _row(f"N={n}: peak RSS, refresh process", first["own_peak_rss"] / GIB, None, "GiB"),
    ]
    if first.get("db_bytes") is not None:
        rows.append(_row(f"N={n}: published --db file", first["db_bytes"] / 2**20, None, "MiB"))
        rows.append(_row(f"N={n}: db directory", first["db_dir_bytes"] / 2**20, None, "MiB"))
    rerun = run.get("rerun")
    if rerun is not None:
        served = rerun.get("served", {})
        note = (
            f"answers reused while younger than max_age_hours; {served.get('requests', 0)} "
            f"requests; {rerun['wall_s']:.1f} s" + _problem(rerun)
        )
        rows.append(
            _row(f"N={n}: rerun / first, wall", rerun["wall_s"] / wall, RERUN_BOUND, "", note)
        )
        note = f"rerun {rerun['cpu_s']:.1f} s CPU"
        rows.append(_row(f"N={n}: rerun / first, CPU", rerun["cpu_s"] / cpu, RERUN_BOUND, "", note))
        if rerun.get("db_bytes") is not None:
            rows.append(
                _row(f"N={n}: --db file after rerun", rerun["db_bytes"] / 2**20, None, "MiB")
            )
    again = run.get("revalidate")
    if again is not None:
        served = again.get("served", {})
        note = (
            f"every answer revalidated: {served.get('conditional', 0)} of "
            f"{served.get('requests', 0)} requests conditional; {again['wall_s']:.1f} s"
            + _problem(again)
        )
        ratio = again["wall_s"] / wall
        rows.append(_row(f"N={n}: revalidating rerun / first, wall", ratio, RERUN_BOUND, "", note))
    night = run.get("changed")
    if night is not None:
        note = (
            f"1 % of partners' company facts changed, all revalidated; {night['wall_s']:.1f} s"
            + _problem(night)
        )
        ratio = night["wall_s"] / wall
        rows.append(
            _row(f"N={n}: rerun with 1 % changed / first, wall", ratio, RERUN_BOUND, "", note)
        )
    asked = run.get("request")
    if asked is not None:
        note = f"one new partner; wall {asked['wall_s']:.1f} s" + _problem(asked)
        rows.append(_row(f"N={n}: request, own work", asked["in_flow_s"], REQUEST_OWN_S, "s", note))
    return rows


def print_table(rows: list[dict[str, Any]]) -> None:
    print(f"{'scale benchmark':46} {'measured':>10} {'bound':>8} {'ratio':>7}  unit  note")
    for r in rows:
        measured = "" if r["measured"] is None else f"{r['measured']:10.3f}"
        bound = "" if r["bound"] is None else f"{r['bound']:8.3f}"
        ratio = "" if r["ratio"] is None else f"{r['ratio']:7.2f}"
        print(f"{r['name']:46} {measured:>10} {bound:>8} {ratio:>7}  {r['unit']:4}  {r['note']}")


def results_path(benchmark: str = "scale", directory: Path = RESULTS_DIR) -> Path:
    """benchmarks/results/<date>-<benchmark>.json, numbered when that day has one already."""
    stem = datetime.now(UTC).strftime("%Y-%m-%d") + f"-{benchmark}"
    path, k = directory / f"{stem}.json", 1
    while path.exists():
        k += 1
        path = directory / f"{stem}-{k}.json"
    return path


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scale", description=__doc__)
    parser.add_argument(
        "--partners",
        type=int,
        nargs="+",
        default=list(DEFAULT_SIZES),
        metavar="N",
        help="registry sizes to run (default: 100 1000)",
    )
    parser.add_argument(
        "--ceiling-gib",
        type=float,
        default=8.0,
        help="kill a run whose process tree RSS passes this (default 8)",
    )
    parser.add_argument(
        "--timeout-min", type=float, default=120.0, help="kill a run after this (default 120)"
    )
    parser.add_argument(
        "--skip-big",
        action="store_true",
        help="skip a size whose tree RSS, extrapolated from the sizes run before it, would "
        "pass the ceiling (instead of running it until it is killed)",
    )
    parser.add_argument(
        "--no-demo", action="store_true", help="skip the offline demo refresh measurement"
    )
    parser.add_argument("--output", type=Path, help="JSON file (default benchmarks/results/)")
    parser.add_argument("--note", help="free text stored in the JSON (what was measured, how)")
    parser.add_argument("--workdir", type=Path, help="scratch directory (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="partnerdd-scale-"))
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"scale benchmark: scratch directory {workdir}", file=sys.stderr)
    try:
        result = run_all(
            args.partners,
            workdir,
            ceiling_bytes=int(args.ceiling_gib * GIB),
            timeout_s=args.timeout_min * 60,
            skip_big=args.skip_big,
            with_demo=not args.no_demo,
        )
    finally:
        if not args.keep and args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    if args.note:
        result["note"] = args.note
    print_table(result["measurements"])
    output = args.output or results_path()
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(f"(written to {output})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
