"""The request plan over real loopback HTTP with the real Prefect engine, on synthetic partners
made from the real recorded payloads (benchmarks/synthetic.py):

- GLEIF records come `lei_batch_size` LEIs a request (/lei-records?filter[lei]=...), so N
  partners need ceil(N / batch) requests, and the marts are those of one request per LEI
  (apart from what a history row's identity leaves out: each fact's provenance, the run);
- against a replay server that enforces a rate per publisher and answers 429 with
  Retry-After beyond it, a client sending faster (its limits lifted, 8 workers a source) is
  refused, waits as told and still completes every partner;
- marts.source_requests counts the requests per partner and source.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from benchmarks.synthetic import SyntheticPartners, replay_server, source_env
from flows.history import NOT_KEPT, VOLATILE
from flows.refresh import refresh

N, BATCH = 12, 5
# what a row's identity leaves out: each fact's provenance (URL, payload hash, fetch time),
# the run and the time its figures are as of; not the rank
PROVENANCE = VOLATILE - {"rank"}  # ranks must agree too
SINGLE_RECORD = re.compile(r"/gleif/lei-records/[0-9A-Z]{20}")


def _marts(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every fact mart's rows without provenance columns, sorted."""
    out = {}
    with duckdb.connect(str(db), read_only=True) as con:
        tables = con.execute(
            "select table_name from duckdb_tables() where schema_name = 'marts'"
        ).fetchall()
        for (table,) in tables:
            if table in NOT_KEPT:
                continue  # logs of the run's own fetches (collection ids), not facts
            columns = [
                name
                for name, *_ in con.execute(f"describe marts.{table}").fetchall()
                if name not in PROVENANCE and not name.endswith("_source_url")  # another port
            ]
            select = ", ".join(f'"{c}"' for c in columns)
            rows = con.execute(f"select {select} from marts.{table}").fetchall()  # noqa: S608
            out[table] = sorted(rows, key=repr)
    return out


def _query(db: Path, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params).fetchall()


@pytest.fixture(scope="module")
def runs(prefect_harness: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    synthetic = SyntheticPartners(N)
    out: dict[str, Any] = {"leis": {row["lei"] for row in synthetic.registry_rows()}}
    limits = {"/gleif/": 10.0, "/sec/": 10.0}
    for name, batch, rate_limits in (("batched", BATCH, limits), ("single", 1, None)):
        work = tmp_path_factory.mktemp(name)
        registry = synthetic.write_registry(work / "partners.csv")
        with replay_server(synthetic, rate_limits=rate_limits) as server:
            env = {
                **source_env(server.base_url),  # the client's own limits lifted
                "PARTNERDD_GLEIF_LEI_BATCH_SIZE": str(batch),
                "PARTNERDD_RETRIES": "10",  # a refused request waits Retry-After, then retries
            }
            db = work / "p.duckdb"
            summary = refresh(str(registry), str(db), env, str(work / "reports"))
        out[name] = {
            "summary": summary,
            "db": db,
            "requests": [r for r in server.requests if not r["limited"]],
            "limited": sum(server.limited.values()),
            "marts": _marts(db),
        }
    yield out


def test_n_partners_gleif_records_come_in_ceil_n_over_batch_requests(runs: dict) -> None:
    batched = runs["batched"]["requests"]
    pages = [r for r in batched if r["path"] == "/gleif/lei-records"]
    assert len(pages) == math.ceil(N / BATCH)
    asked = [r["query"]["filter[lei]"].split(",") for r in pages]
    assert all(len(leis) <= BATCH for leis in asked)
    assert set().union(*asked) == runs["leis"]
    assert not any(SINGLE_RECORD.fullmatch(r["path"]) for r in batched)

    single = runs["single"]["requests"]
    assert sorted(r["path"] for r in single if SINGLE_RECORD.fullmatch(r["path"])) == sorted(
        f"/gleif/lei-records/{lei}" for lei in runs["leis"]
    )
    assert not any(r["path"] == "/gleif/lei-records" for r in single)


def test_batched_and_one_per_lei_land_the_same_marts(runs: dict) -> None:
    batched, single = runs["batched"]["marts"], runs["single"]["marts"]
    assert batched.keys() == single.keys()
    assert batched["partner_profile"] and len(batched["partner_profile"]) == N
    assert all(r[0] is not None for r in batched["partner_profile"])
    for table in batched:
        assert batched[table] == single[table], table


def test_a_rate_limited_server_refuses_and_the_refresh_still_completes(runs: dict) -> None:
    run = runs["batched"]
    assert run["limited"] > 0  # the server did refuse requests over its rate
    assert run["summary"]["status"] in ("ok", "ok_with_warnings")
    problems = _query(
        run["db"],
        "select source, outcome, error from ops.fetch_log where run_id = ? "
        "and outcome not in ('ok', 'skipped', 'not_recorded')",
        [run["summary"]["run_id"]],
    )
    assert problems == []
    legal_names = _query(run["db"], "select count(legal_name) from marts.partner_profile", [])
    assert legal_names == [(N,)]


def test_source_requests_counts_requests_per_partner(runs: dict) -> None:
    for name, gleif_requests in (("batched", math.ceil(N / BATCH)), ("single", N)):
        run = runs[name]
        rows = _query(
            run["db"],
            "select source, requests, partners, requests_per_partner from marts.source_requests "
            "where run_id = ? order by source",
            [run["summary"]["run_id"]],
        )
        by_source = {source: rest for source, *rest in rows}
        assert by_source["gleif"] == [gleif_requests, N, round(gleif_requests / N, 3)]
        assert by_source["sec"] == [2 * N, N, 2.0]
