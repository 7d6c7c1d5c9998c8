"""Adding a source is adding one package: a `connectors/<name>/source.py` that the flow has
never heard of is found, its settings defaults and offline overrides apply, its extract runs
as the Prefect task `extract-<name>` of the real refresh against a loopback server, its
answers are stored raw and its parse lands rows in its own raw table (DDL named by the
declaration). The flow modules hold no source name at all."""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

import connectors
from connectors.config import load_settings
from connectors.replay import ReplayServer, Route
from connectors.source import declared_sources
from flows import progress
from flows.db import store_path
from flows.offline import SNAPSHOT_DIR, source_overrides
from flows.refresh import refresh

FLOW_DIR = Path(__file__).resolve().parents[2] / "flows"

TINY_SOURCE = '''
"""A made-up source: one JSON list of items per partner."""

import json
from pathlib import Path

from connectors.http import make_session
from connectors.source import Batch, Extracted, Parsed, Partner, SourceSpec, provenance

ITEMS = "raw.tiny__items"


def extract(partners: list[Partner], settings, out: Extracted) -> None:
    session = make_session("tiny", settings)
    out.report(total=len(partners))
    for partner in partners:
        url = f"{settings.source_url('tiny')}/items/{partner.partner_id}"
        out.record_response(partner.partner_id, session.fetch(url), kind="item")
        out.report(advance=1)


def parse(batch: Batch) -> Parsed:
    parsed = Parsed()
    for partner_id, response in batch.ok_responses():
        items = json.loads(response.body)["items"]
        parsed.add(ITEMS, [{"partner_id": partner_id, "item": i, **provenance(response)}
                           for i in items])
    return parsed


SPEC = SourceSpec(
    name="tiny",
    extract=extract,
    parse=parse,
    landing={ITEMS: "partner_id"},
    kinds=("item",),
    config={"tiny": {"url": "https://tiny.invalid/api", "rate_per_second": 1.0}},
    offline=lambda base_url: {"PARTNERDD_TINY_URL": f"{base_url}/tiny"},
    raw_sql=Path(__file__).with_name("raw.sql"),
)
'''

TINY_DDL = """
create table if not exists raw.tiny__items (
    partner_id varchar not null,
    item varchar not null,
    source_url varchar,
    payload_sha256 varchar,
    fetched_at timestamptz
);
"""

REGISTRY = "partner_id,name,website,country,lei,cik\nsap,SAP SE,,DE,529900D6BF99LW9R2E68,\n"


@pytest.fixture
def tiny_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """connectors/tiny/ as a newcomer would add it, in a folder of its own (the checkout's
    connectors/ stays untouched): the package path is extended, nothing else."""
    extra = tmp_path / "extra_connectors"
    package = extra / "tiny"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text('"""Tiny items."""\n')
    (package / "source.py").write_text(TINY_SOURCE)
    (package / "raw.sql").write_text(TINY_DDL)
    monkeypatch.setattr(connectors, "__path__", [*connectors.__path__, str(extra)])
    yield package
    for name in [
        m for m in sys.modules if m == "connectors.tiny" or m.startswith("connectors.tiny.")
    ]:
        del sys.modules[name]


def test_a_new_source_package_runs_in_the_real_flow(
    prefect_harness: None, tiny_package: Path, tmp_path: Path
) -> None:
    assert "tiny" in [s.name for s in declared_sources()]
    assert load_settings({}).source_url("tiny") == "https://tiny.invalid/api"
    registry = tmp_path / "partners.csv"
    registry.write_text(REGISTRY)
    events: list[tuple[str, int, int | None]] = []
    unsubscribe = progress.subscribe(lambda s, a, t, n: events.append((s, a, t)))
    try:
        with ReplayServer(SNAPSHOT_DIR) as server:
            body = b'{"items": ["alpha", "beta"]}'
            server.add(Route("/tiny/items/sap", body=body, content_type="application/json"))
            db = tmp_path / "p.duckdb"
            summary = refresh(
                str(registry), str(db), source_overrides(server.base_url), str(tmp_path)
            )
        tiny_requests = [r["path"] for r in server.requests if r["path"].startswith("/tiny/")]
    finally:
        unsubscribe()
    assert tiny_requests == ["/tiny/items/sap"]
    assert summary["fetch_outcomes"]["tiny:ok"] == 1
    assert ("tiny", 0, 1) in events and ("tiny", 1, None) in events
    with duckdb.connect(str(db), read_only=True) as con:
        stored = con.execute(
            "select kind, partner_id, status from raw.responses where source = 'tiny'"
        ).fetchall()
    assert stored == [("item", "sap", 200)]
    with duckdb.connect(str(store_path(db) / "work.duckdb"), read_only=True) as con:
        items = con.execute(
            "select partner_id, item, payload_sha256 is not null from raw.tiny__items order by item"
        ).fetchall()
    assert items == [("sap", "alpha", True), ("sap", "beta", True)]
    assert _task_names() >= {"extract-tiny", "extract-gleif", "extract-resolution"}


def _task_names() -> set[str]:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return {r.name.rsplit("-", 1)[0] for r in client.read_task_runs(limit=200)}


def _literals(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }


@pytest.mark.parametrize("module", ["refresh.py", "landing.py", "offline.py", "build.py"])
def test_the_flow_names_no_source(module: str) -> None:
    names = {s.name for s in declared_sources()}
    named = _literals(FLOW_DIR / module) & names
    assert named == set(), f"flows/{module} names sources {named}"


def test_every_raw_ddl_file_belongs_to_a_declared_source_and_creates_its_landing_tables() -> None:
    from flows.db import SQL_DIR

    specs = {s.name: s for s in declared_sources()}
    ddl = {p.stem: p.read_text(encoding="utf-8") for p in (SQL_DIR / "raw").glob("*.sql")}
    ddl.pop("schema")
    assert set(ddl) <= set(specs)
    for name, spec in specs.items():
        created = set(_created_tables(ddl.get(name, "")))
        assert created == set(spec.landing), name


def _created_tables(sql: str) -> list[str]:
    import re

    return re.findall(r"create table if not exists (raw\.[a-z_0-9]+)", sql)


def test_offline_routes_are_per_declared_source() -> None:
    names = {s.name for s in declared_sources()}
    routes = {p.stem for p in (SNAPSHOT_DIR / "routes.d").glob("*.json")}
    assert routes and routes <= names


def test_every_landing_table_feeds_a_staging_model_with_row_count_bounds() -> None:
    """A source's expected row counts are the bounds of the staging models its landing tables
    feed (expectations/staging.yml, beside the models): declared once, per model."""
    from flows.checks import load_checks
    from flows.models import STAGING
    from flows.validate import EXPECTATIONS_DIR

    checks = load_checks(EXPECTATIONS_DIR)
    for spec in declared_sources():
        for table in spec.landing:
            readers = [m.name for m in STAGING if table in m.inputs]
            assert readers, f"{spec.name}: no staging model reads {table}"
            assert all(checks[name].rows for name in readers), (table, readers)


def test_connectors_import_neither_flows_nor_prefect() -> None:
    """The dependency points one way: flows (orchestration) uses connectors (sources)."""
    root = Path(connectors.__file__).parent
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            bad = [n for n in names if n.split(".")[0] in ("flows", "prefect")]
            assert not bad, f"{path.relative_to(root.parent)} imports {bad}"
