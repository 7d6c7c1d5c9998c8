"""Faults through the whole refresh (real Prefect engine, DuckDB, loopback HTTP): one faulted
run carries a different fault on a request of each of several partners and on each
whole-dataset source at once; then the faults clear and the next run is compared with a
clean one. Each fault kind against each connector one level down: test_source_faults.py.

The demo registry, its websites moved to the replay server (web and news on): a clean run,
then a full run (every answer asked again) meeting the faults, then a normal rerun.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from connectors.replay_faults import Fault, FaultyReplayServer
from flows.db import store_path
from flows.offline import DEMO_PARTNERS, SNAPSHOT_DIR
from flows.refresh import refresh
from flows.registry import RegistryFileError
from tests.faults.sources import VOLATILE, settings_env, site_routes
from tests.faults.tally import record_faults
from tests.test_registry import HEADER

SITES = ("sap", "microsoft", "shell", "apple", "fraport", "infosys", "toyota", "snowflake")
LEI = {
    "sap": "529900D6BF99LW9R2E68",
    "microsoft": "INR2EJN1ERAN0W5ZP974",
    "shell": "21380068P1DRHMJ8KU70",
    "apple": "HWUPKR0MPOU8FGXBT394",
    "fraport": "5299001ERX0K10IZUL40",
    "nfa": "335800CCCPHKUOXPC332",
    "toyota": "5493006W3QUS5LMH6R84",
}
# (connector, fault, path pattern, query): a different fault for each partner's request.
FAULTS = [
    ("gleif", "truncated", f"/gleif/lei-records/{LEI['sap']}", {}),
    ("gleif", "html_200", f"/gleif/lei-records/{LEI['microsoft']}", {}),
    ("gleif", "5xx_burst", f"/gleif/lei-records/{LEI['shell']}", {}),
    ("gleif", "trickle", f"/gleif/lei-records/{LEI['apple']}", {}),
    ("gleif", "gzip_bomb", f"/gleif/lei-records/{LEI['fraport']}", {}),
    ("gleif", "429_retry_after", f"/gleif/lei-records/{LEI['nfa']}", {}),
    ("gleif", "unexpected_shape", f"/gleif/lei-records/{LEI['toyota']}", {}),
    ("gleif_ownership", "oversize", f"/gleif/lei-records/{LEI['shell']}/direct-children", {}),
    (
        "gleif_ownership",
        "redirect_loop",
        f"/gleif/lei-records/{LEI['microsoft']}/ultimate-parent-relationship",
        {},
    ),
    ("gleif_ownership", "html_200", f"/gleif/lei-records/{LEI['apple']}/direct-parent-.*", {}),
    ("sec", "read_timeout", r"/sec/submissions/CIK0000320193\.json", {}),
    ("sec", "truncated", r"/sec/api/xbrl/companyfacts/CIK0001640147\.json", {}),
    ("sec", "429_no_retry_after", r"/sec/submissions/CIK0000789019\.json", {}),
    ("sec", "connect_timeout", r"/sec/submissions/CIK0001094517\.json", {}),
    ("sanctions", "html_200", r"/sanctions/un/consolidated\.xml", {}),
    ("sanctions", "truncated", r"/sanctions/ofac/alt\.csv", {}),
    ("worldbank", "5xx_burst", r"/worldbank/wgidataset\.xlsx", {}),
    ("indices", "unexpected_shape", r"/indices/6-dimensions-.*\.csv", {}),
    ("indices", "oversize", r"/indices/CPI2024_.*\.csv", {}),
    ("web", "connect_timeout", "/sap/", {}),
    ("web", "redirect_loop", "/apple/", {}),
    ("web", "gzip_bomb", "/shell/", {}),
    ("news", "429_retry_after", "/gdelt/doc/doc", {"query": "Microsoft"}),
    ("news", "truncated", "/fraport/news.atom", {}),
]
# Marts that report each fetch's outcome: the faulted run is meant to show there (a crawl
# whose home page failed is the partner's latest attempt in partner_web_pages and
# partner_web_profile, while the facts of the crawl before stay published).
OUTCOME_MARTS = {
    "partner_source_status",
    "partner_web_pages",
    "partner_news_fetches",
    "partner_web_profile",
    "partner_media_summary",
}


ROW_FILTERS = {"partner_web_pages": " where kind <> 'robots'"}  # as in sources.py
WHEN = {"crawled_at"}


def _facts(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every mart's rows without the columns that say when or from which bytes."""
    out = {}
    with duckdb.connect(str(db), read_only=True) as con:
        tables = con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' "
            "and table_type = 'BASE TABLE' order by 1"
        ).fetchall()
        for (table,) in tables:
            names = [
                c
                for (c,) in con.execute(
                    "select column_name from information_schema.columns "
                    "where table_schema = 'marts' and table_name = ? order by ordinal_position",
                    [table],
                ).fetchall()
                if c not in VOLATILE | WHEN and not c.endswith(("run_id", "fetched_at"))
            ]
            select = ", ".join(f'"{c}"' for c in names)
            where = ROW_FILTERS.get(table, "")
            rows = con.execute(f"select {select} from marts.{table}{where}").fetchall()  # noqa: S608
            out[table] = sorted(rows, key=repr)
    return out


def _failures(db: Path, run_id: str) -> list[dict[str, Any]]:
    with duckdb.connect(str(db), read_only=True) as con:
        cursor = con.execute(
            "select source, partner_id, kind, url, outcome, error from ops.fetch_log "
            "where run_id = ? and outcome not in ('ok', 'skipped', 'not_recorded')",
            [run_id],
        )
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


@pytest.fixture(scope="module")
def runs(prefect_harness: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    work = tmp_path_factory.mktemp("refresh-faults")
    with FaultyReplayServer(SNAPSHOT_DIR, routes=site_routes(list(SITES))) as server:
        lines = DEMO_PARTNERS.read_text(encoding="utf-8").splitlines()
        registry = work / "partners.csv"
        registry.write_text(
            "\n".join(
                [lines[0]]
                + [re.sub(r",https?://[^,]+,", f",{server.base_url}/{line.split(',')[0]}/,", line)
                   for line in lines[1:]]
            ) + "\n",
            encoding="utf-8",
        )  # fmt: skip
        # one GLEIF record request per LEI, so that each partner's can fail alone (the
        # batched page is faulted in test_source_faults)
        env = settings_env(server.base_url, PARTNERDD_GLEIF_LEI_BATCH_SIZE="1")
        db, docs = work / "p.duckdb", str(work / "docs")
        clean = refresh(str(registry), str(db), env, docs)
        clean_facts = _facts(db)
        injected = [server.inject(Fault(k, p, q, label=c)) for c, k, p, q in FAULTS]
        # the timing faults cost seconds, not minutes; generous enough that the answers of
        # a busy loopback server (the sources fetch side by side) still arrive in time
        timing = {
            "PARTNERDD_CONNECT_TIMEOUT_SECONDS": "2",
            "PARTNERDD_READ_TIMEOUT_SECONDS": "2",
            "PARTNERDD_TOTAL_TIMEOUT_SECONDS": "4",
            "PARTNERDD_RETRIES": "0",
        }
        try:
            faulted = refresh(str(registry), str(db), {**env, **timing}, docs, full=True)
            faulted_facts = _facts(db)
            with duckdb.connect(str(db), read_only=True) as con:
                failed_crawls = con.execute(
                    "select partner_id, web_status, failed_attempt_status, failed_attempt_reason "
                    "from marts.partner_web_profile where failed_attempt_status is not null"
                ).fetchall()
        finally:
            server.clear()
        rerun = refresh(str(registry), str(db), env, docs)
        yield {
            "db": db,
            "env": env,
            "server": server,
            "work": work,
            "clean": clean,
            "clean_facts": clean_facts,
            "faulted": faulted,
            "faulted_facts": faulted_facts,
            "failed_crawls": failed_crawls,
            "rerun": rerun,
            "faults": injected,
        }


def test_every_fault_met_its_request_and_is_logged_with_its_reason(runs: dict) -> None:
    record_faults(runs["faults"])
    failures = _failures(runs["db"], runs["faulted"]["run_id"])
    for fault in runs["faults"]:
        mine = [  # the request's URL, or the partner's with the request named in the error
            f
            for f in failures
            if f["source"] == fault.label and re.search(fault.path, f"{f['url']} {f['error']}")
        ]
        assert mine, f"{fault.label}/{fault.kind}: no failure in ops.fetch_log"
        assert all(f["error"] for f in mine), mine
    assert runs["faulted"]["status"] == "partial"
    assert any(line.startswith("source worldbank failed") for line in runs["faulted"]["partial"])


def test_no_published_fact_is_lost_or_changed_by_the_faults(runs: dict) -> None:
    clean, faulted = runs["clean_facts"], runs["faulted_facts"]
    assert runs["clean"]["status"] in ("ok", "ok_with_warnings"), runs["clean"]["partial"]
    changed = {t for t in clean if t not in OUTCOME_MARTS and faulted[t] != clean[t]}
    # every other partner and source completed, and the faulted kept what they had
    assert not changed


def test_a_failed_crawl_is_shown_beside_the_facts_of_the_crawl_before(runs: dict) -> None:
    """The partners whose home page failed: their web profile keeps the facts (and status) of
    the crawl before, and names the failed crawl with its reason."""
    web = {p.strip("/") for c, _, p, _ in FAULTS if c == "web"}
    failed = runs["failed_crawls"]
    assert {partner for partner, *_ in failed} == web
    for _, status, attempt, reason in failed:
        assert status == "ok" and attempt != "ok" and reason, failed


def test_a_rerun_after_the_faults_clear_equals_the_clean_run(runs: dict) -> None:
    assert runs["rerun"]["status"] == runs["clean"]["status"]
    assert not _failures(runs["db"], runs["rerun"]["run_id"])
    assert _facts(runs["db"]) == runs["clean_facts"]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (HEADER.encode() + "müller,Müller AG,,DE,,\n".encode("latin-1"), "not UTF-8"),
        (HEADER.encode() + b"sap,SAP SE,,DE,,,Walldorf\n", "column 7"),
        (HEADER.encode(), "header but no partner rows"),
        (b"", "the registry is empty"),
    ],
    ids=["latin-1", "extra-fields", "header-only", "empty"],
)
def test_a_malformed_registry_changes_nothing_and_is_a_failed_run(
    runs: dict, content: bytes, reason: str, tmp_path: Path
) -> None:
    """tests/test_registry.py reads these files; here the refresh meets them: refused with
    the file and the reason, no request made, the published database untouched, and the
    attempt a failed run in ops.runs with its reason."""
    registry = tmp_path / "partners.csv"
    registry.write_bytes(content)
    db = runs["db"]
    before, asked = db.read_bytes(), len(runs["server"].requests)
    with pytest.raises(RegistryFileError, match=reason):
        refresh(str(registry), str(db), runs["env"], str(runs["work"] / "docs"))
    assert db.read_bytes() == before
    assert len(runs["server"].requests) == asked
    with duckdb.connect(str(store_path(db) / "work.duckdb"), read_only=True) as con:
        last = con.execute(
            "select status, summary from ops.runs order by started_at desc limit 1"
        ).fetchone()
    assert last is not None
    assert last[0] == "failed" and str(registry) in last[1] and reason in last[1]
