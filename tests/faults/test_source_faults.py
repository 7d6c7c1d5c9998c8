"""Every fault against every connector that fetches, one level below the flow: the source's
real extract, raw store, parse and landing against the faulty loopback server.

For each (connector, fault): a store holding a clean run is refreshed again a night later
(every answer revalidated) while one of its requests meets the fault. Then:
- the failure is a row of the run's fetch log with its reason (or the fault was absorbed:
  a charset the connector read right anyway), and nothing raised out of the connector;
- the landing tables hold exactly what the clean run landed: no fact lost, none made up
  (the other partners and files of the source completed: their rows are there);
- with the fault gone, a rerun right after it (stored answers still fresh) lands exactly the
  clean run again, and its fetch log has no failure.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.replay_faults import FAULTS, Fault, FaultyReplayServer
from connectors.source import Partner, SourceSpec, declared_sources
from flows.offline import SNAPSHOT_DIR
from tests.faults.sources import (
    FAULT_ENV,
    OUTCOME_TABLES,
    Landed,
    land,
    revalidating,
    settings_env,
    site_routes,
)
from tests.faults.tally import record_faults

SAP = Partner("sap", "SAP SE", "DEU", "DE", lei="529900D6BF99LW9R2E68", cik="0001000184")
SHELL = Partner("shell", "Shell plc", "GBR", "GB", lei="21380068P1DRHMJ8KU70", cik="0001306965")
APPLE = Partner("apple", "Apple Inc.", "USA", "US", lei="HWUPKR0MPOU8FGXBT394", cik="0000320193")
SNOWFLAKE = Partner("snowflake", "Snowflake Inc.", "USA", "US", cik="0001640147")
INFOSYS = Partner("infosys", "Infosys Ltd", "IND", "IN", cik="0001067491")
FRAPORT = Partner("fraport", "Fraport AG", "DEU", "DE", lei="5299001ERX0K10IZUL40")
SITES = ("sap", "apple")

# Per connector: the partners it runs for, and the request the fault meets (path pattern,
# query); the other partners' and files' requests are answered as recorded.
CASES: dict[str, tuple[list[Partner], str, dict[str, str]]] = {
    "gleif": ([SAP, SHELL], r"/gleif/lei-records", {}),  # the page of both (filter[lei])
    "gleif_ownership": (
        [SHELL, APPLE],
        r"/gleif/lei-records/21380068P1DRHMJ8KU70/direct-children",
        {},
    ),
    "sec": ([SAP, SHELL], r"/sec/submissions/CIK0001000184\.json", {}),
    "resolution": ([SAP, SNOWFLAKE, FRAPORT], r"/sec/files/company_tickers\.json", {}),
    "sanctions": ([SAP], r"/sanctions/un/consolidated\.xml", {}),
    "worldbank": ([SAP], r"/worldbank/wgidataset\.xlsx", {}),
    "indices": ([SAP], r"/indices/6-dimensions-for-website-2015-08-16\.csv", {}),
    "web": ([], r"/sap/", {}),
    "news": ([], r"/gdelt/doc/doc", {"query": "SAP"}),
}
# Faults a connector may absorb: it read the text right although the label was wrong; GDELT
# answers an object without articles ({}) when nothing matched, so that is no news.
ABSORBABLE = {"wrong_charset", "missing_charset", ("news", "unexpected_shape")}
# A website's 200 page is what the site says, error text or not: it lands as its content
# (and, like any answer, is reused while younger than the source's max age).
SITE_CONTENT = {("web", "html_200"), ("web", "unexpected_shape")}
SPECS = {spec.name: spec for spec in declared_sources()}


def _partners(name: str, server: FaultyReplayServer) -> list[Partner]:
    partners = CASES[name][0]
    if partners:
        return partners
    return [  # web and news: the partners' sites on the replay server
        Partner(pid, name, "DEU", "DE", website=f"{server.base_url}/{pid}/")
        for pid, name in (("sap", "SAP SE"), ("apple", "Apple Inc."))
    ]


@pytest.fixture(scope="module")
def server() -> Iterator[FaultyReplayServer]:
    with FaultyReplayServer(SNAPSHOT_DIR, routes=site_routes(list(SITES))) as replay:
        yield replay


@pytest.fixture(scope="module")
def clean(
    server: FaultyReplayServer, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, tuple[Path, Landed]]:
    """Per connector, a store holding one clean run, and what that run landed."""
    env = settings_env(server.base_url)
    out = {}
    for name in CASES:
        root = tmp_path_factory.mktemp(f"clean-{name}")
        out[name] = (root, land(root, SPECS[name], _partners(name, server), env))
    return out


def test_the_clean_runs_land_every_connector(clean: dict[str, tuple[Path, Landed]]) -> None:
    for name, (_, landed) in clean.items():
        assert not landed.failures(), (name, landed.failures())
        assert any(landed.tables.values()), name  # the comparisons below compare something


@pytest.mark.parametrize(("name", "kind"), [(n, k) for n in CASES for k in FAULTS])
def test_a_fault_fails_alone_loses_nothing_and_clears(
    name: str,
    kind: str,
    server: FaultyReplayServer,
    clean: dict[str, tuple[Path, Landed]],
    tmp_path: Path,
) -> None:
    spec: SourceSpec = SPECS[name]
    baseline_root, baseline = clean[name]
    root = tmp_path / "store"
    shutil.copytree(baseline_root, root)
    partners = _partners(name, server)
    env = settings_env(server.base_url)
    _, path, query = CASES[name]
    fault = server.inject(Fault(kind, path, query, label=name))
    try:
        faulted = land(root, spec, partners, {**revalidating(env), **FAULT_ENV.get(kind, {})})
    finally:
        server.clear()
    record_faults([fault])

    raised = [r for r in faulted.failures() if str(r["error"]).startswith("raised ")]
    assert not raised, raised  # the connector handled it: no crash of its extract
    failures = faulted.failures()
    assert all(r["error"] for r in failures), failures  # every failure says why
    if (name, kind) in SITE_CONTENT:
        assert not failures
    else:
        absorbable = kind in ABSORBABLE or (name, kind) in ABSORBABLE
        at_fault = [r for r in failures if re.search(path, f"{r['url']} {r['error']}")]
        assert at_fault or absorbable, f"{name}/{kind}: no failure logged for {path}"
        _same(faulted, baseline, skip=OUTCOME_TABLES)  # nothing lost, nothing made up

    if (name, kind) in SITE_CONTENT:  # a night later, when the page is asked again
        env = revalidating(env)
    rerun = land(root, spec, partners, env)  # right after: stored answers are still fresh
    assert not rerun.failures(), rerun.failures()
    # an answer read right despite its label is reused while fresh, and its fetch row says
    # how it was read (e.g. the web page's charset sniffed as cp1252)
    absorbed = not failures and (kind in ABSORBABLE or (name, kind) in ABSORBABLE)
    _same(rerun, baseline, skip=OUTCOME_TABLES if absorbed else frozenset())


def _same(landed: Landed, baseline: Landed, skip: set[str] | frozenset[str] = frozenset()) -> None:
    for table, rows in baseline.tables.items():
        if table not in skip:
            assert landed.tables[table] == rows, f"{table} differs from the clean run"
