"""Speed and memory measurements, each a ratio against a bound or a peer in the same run.

    make bench            # or: .venv/bin/python -m benchmarks.run [scale options]
    make bench BENCH_ARGS="--partners 10000"

The micro benchmarks below, then the landing loader against dlt and a bare pyarrow insert
(benchmarks/loader.py: SEC company facts of 100 companies), then the on-demand request
benchmark (benchmarks/request.py: one new partner with 100 ms latency and the real rate
limits), then a refresh of 100 partners at the publishers' rate limits (benchmarks/limits.py:
wall ÷ the request plan's bound), then the scale benchmark (benchmarks/scale.py; its options
are passed through). Everything runs offline against loopback servers; nothing here is
asserted by tests.
"""

from __future__ import annotations

import gc
import sys
import time
import tracemalloc
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread
from typing import Any

import duckdb
import pandas as pd

from benchmarks import limits, loader, request, scale
from connectors.config import load_settings
from connectors.http import ResponseTooLarge, make_session
from connectors.replay import ReplayServer, Route
from flows.db import apply_schema
from flows.load import upsert
from flows.offline import SNAPSHOT_DIR

WORKBOOK = SNAPSHOT_DIR / "worldbank" / "wgidataset_2024release.xlsx"
GLEIF_BODY = next((SNAPSHOT_DIR / "gleif").glob("single_lei_record_*.json")).read_bytes()


def _timed(fn: Callable[[], Any], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def bench_rate_limited_fetch() -> dict[str, Any]:
    """N requests at the configured per-host rate: wall time against the bound N / rate."""
    requests_n, rate = 20, 10.0
    route = Route(path="/lei", body=GLEIF_BODY, content_type="application/json")
    with ReplayServer(routes=[route]) as server:
        settings = load_settings({"PARTNERDD_SEC_RATE_PER_SECOND": str(rate)})
        session = make_session("sec", settings)
        url = server.base_url + "/lei"
        elapsed = _timed(lambda: [session.fetch(url) for _ in range(requests_n)], repeat=1)
    bound = (requests_n - 1) / rate  # the first request goes at once
    return {
        "name": "fetch at 10 req/s (20 requests)",
        "measured_s": elapsed,
        "bound_s": bound,
        "ratio": elapsed / bound,
        "meaning": "≈1.0: the rate limit, not our code, sets the pace",
    }


def bench_workbook_parse() -> dict[str, Any]:
    """parse_wgi_workbook against a bare read of the same file by its reader, python-calamine
    (the peer); a bare openpyxl read (the reader before) shown beside it."""
    import io

    import openpyxl
    from python_calamine import CalamineWorkbook

    from connectors.worldbank.parse import parse_wgi_workbook

    body = WORKBOOK.read_bytes()

    def bare() -> None:
        CalamineWorkbook.from_filelike(io.BytesIO(body)).get_sheet_by_index(0).to_python()

    def bare_openpyxl() -> None:
        wb = openpyxl.load_workbook(io.BytesIO(body), read_only=True, data_only=True)
        for _ in wb.worksheets[0].iter_rows(values_only=True):
            pass
        wb.close()

    ours = _timed(lambda: parse_wgi_workbook(body))
    peer = _timed(bare)
    before = _timed(bare_openpyxl)
    return {
        "name": "WGI workbook parse (32,100 rows)",
        "measured_s": ours,
        "bound_s": peer,
        "ratio": ours / peer,
        "meaning": "our parse vs python-calamine's bare read "
        f"(a bare openpyxl read: {before:.2f} s, {before / ours:.1f}x ours)",
    }


def bench_loader() -> dict[str, Any]:
    """Our idempotent upsert of the WGI landing rows against a plain DuckDB insert."""
    from connectors.worldbank.parse import parse_wgi_workbook

    rows = parse_wgi_workbook(WORKBOOK.read_bytes())
    now = pd.Timestamp.now(tz="UTC")
    for row in rows:
        row.update(source_url="bench", payload_sha256="0" * 64, fetched_at=now)
    con = duckdb.connect()
    apply_schema(con)
    ours = _timed(lambda: upsert(con, "raw.worldbank__wgi", rows, key=None))

    def peer() -> None:
        con.register("peer_frame", pd.DataFrame(rows))
        con.execute("create or replace table peer as select * from peer_frame")
        con.unregister("peer_frame")

    peer_s = _timed(peer)
    return {
        "name": "upsert 32,100 WGI rows",
        "measured_s": ours,
        "bound_s": peer_s,
        "ratio": ours / peer_s,
        "meaning": "ours (frame, delete, insert by name) vs frame + CTAS",
    }


class _Endless(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.end_headers()
        chunk = b"x" * 65536
        try:
            for _ in range(50 * 16):  # 50 MiB, no Content-Length
                self.wfile.write(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *args: Any) -> None:
        return


def bench_size_cap_memory() -> dict[str, Any]:
    """Peak Python memory while a 50 MiB body is cut at a 5 MiB cap, against the cap."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Endless)
    Thread(target=server.serve_forever, daemon=True).start()
    cap = 5 * 1024 * 1024
    session = make_session("bench", load_settings({}), max_response_bytes=cap)
    tracemalloc.start()
    try:
        session.fetch(f"http://127.0.0.1:{server.server_address[1]}/big")
    except ResponseTooLarge:
        pass
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    server.shutdown()
    return {
        "name": "50 MiB body, 5 MiB cap",
        "measured_s": peak / 2**20,
        "bound_s": cap / 2**20,
        "ratio": peak / cap,
        "meaning": "peak MiB held vs the cap (≤ ~2 is fine)",
    }


def main(argv: list[str] | None = None) -> int:
    scale.build_parser().parse_args(argv)  # bad scale options fail before the micro benchmarks
    results = [
        bench_rate_limited_fetch(),
        bench_workbook_parse(),
        bench_loader(),
        bench_size_cap_memory(),
    ]
    print(f"{'benchmark':38} {'measured':>10} {'bound/peer':>11} {'ratio':>7}  meaning")
    for r in results:
        print(
            f"{r['name']:38} {r['measured_s']:10.3f} {r['bound_s']:11.3f} "
            f"{r['ratio']:7.2f}  {r['meaning']}"
        )
    print("(times in seconds; the memory row in MiB)\n", flush=True)
    loader.main([])  # the landing loader against dlt and a bare Arrow insert
    print(flush=True)
    request.main([])  # one on-demand request, live-shaped (benchmarks/request.py)
    print(flush=True)
    limits.main([])  # 100 partners at the publishers' rate limits (benchmarks/limits.py)
    print(flush=True)
    return scale.main(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
