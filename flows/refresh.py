"""The refresh flow: registry -> extract -> raw -> parse -> validate -> staging/marts."""

from __future__ import annotations

import json
import os
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from prefect import flow, get_run_logger

from connectors.config import PROJECT_ROOT, load_settings
from flows import load, models
from flows.checks import run_params
from flows.db import database_path, publishing
from flows.home import load_home
from flows.progress import report
from flows.registry import Partner, RegistryIssue, read_registry
from flows.resolution import resolve_identifiers
from flows.sources import SOURCES
from flows.sources.base import Extracted, Parsed

DEFAULT_REPORTS = PROJECT_ROOT / "reports" / "data_docs"


def _registry_frame(partners: list[Partner], path: Path, at: datetime) -> pd.DataFrame:
    columns = [
        "partner_id",
        "name",
        "country_iso3",
        "country_iso2",
        "website",
        "lei",
        "cik",
        "line",
    ]
    frame = pd.DataFrame([p.as_row() for p in partners], columns=columns)
    return frame.assign(registry_path=str(path), loaded_at=at)


def _write_registry(
    con: Any,
    run_id: str,
    path: Path,
    partners: list[Partner],
    issues: list[RegistryIssue],
    at: datetime,
) -> None:
    con.execute("delete from raw.partners")
    if partners:
        load.upsert(
            con,
            "raw.partners",
            _registry_frame(partners, path, at).to_dict("records"),
            key="partner_id",
        )
    con.execute("delete from quarantine.partner_registry")
    for issue in issues:
        con.execute(
            "insert into quarantine.partner_registry values (?, ?, ?, ?, ?, ?, ?)",
            [run_id, at, str(path), issue.line, issue.column, issue.value, issue.message],
        )


def _write_log(con: Any, run_id: str, rows: list[dict[str, Any]], at: datetime) -> None:
    for row in rows:
        con.execute(
            """insert into ops.fetch_log (run_id, source, partner_id, url, status, outcome,
                   error, payload_sha256, occurred_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [
                run_id,
                row["source"],
                row.get("partner_id"),
                row.get("url"),
                row.get("status"),
                row["outcome"],
                row.get("error"),
                row.get("payload_sha256"),
                at,
            ],
        )


def _table_report(result: Any, loaded: int) -> dict[str, Any]:
    return {
        "rows_in": result.rows_in,
        "loaded": loaded,
        "quarantined": len(result.quarantined),
        "failures": result.failures,
        "warnings": result.warnings,
    }


def _validate_and_build(
    con: Any,
    validator: Any,
    run_id: str,
    at: datetime,
    context: dict[str, Any],
    params: dict[str, int],
) -> dict[str, Any]:
    """Validate every staging batch; load staging and marts in one transaction unless a
    table-level expectation fails, in which case the previous tables stay in place."""
    tables: dict[str, Any] = {}
    staged = {}
    for model in models.STAGING:
        staged[model.name] = validator.validate(model.name, model.build(con, context), params)
        report("validate", advance=1)
    failures = {n: r.failures for n, r in staged.items() if r.stops_load}
    for name, result in staged.items():
        tables[name] = _table_report(result, 0 if failures else len(result.passed))
    if failures:
        return {"status": "validation_failed", "tables": tables, "failures": failures}
    con.execute("begin transaction")
    try:
        schemas = {m.name: m.schema_sql() for m in models.STAGING}
        for name, result in staged.items():
            load.replace_table(con, f"staging.{name}", result.passed, schemas[name])
            load.write_quarantine(con, name, run_id, at, result.quarantined)
        for model in models.MARTS:
            mart = validator.validate(model.name, model.build(con, context), params)
            tables[model.name] = _table_report(mart, len(mart.passed))
            report("validate", advance=1)
            if mart.stops_load:
                con.execute("rollback")
                for staged_name in staged:
                    tables[staged_name]["loaded"] = 0
                return {
                    "status": "validation_failed",
                    "tables": tables,
                    "failures": {model.name: mart.failures},
                }
            load.replace_table(con, f"marts.{model.name}", mart.passed, model.schema_sql())
            load.write_quarantine(con, model.name, run_id, at, mart.quarantined)
        for name in models.VIEWS:
            view = load.ident(f"marts.{name}")
            con.execute(f"create or replace view {view} as {load.model_sql('marts', name)}")
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    warned = any(t["warnings"] or t["quarantined"] for t in tables.values())
    return {"status": "ok_with_warnings" if warned else "ok", "tables": tables}


@flow(name="partnerdd-refresh", log_prints=True)
def refresh(
    partners_file: str,
    db: str | None = None,
    overrides: dict[str, str] | None = None,
    reports_dir: str | None = None,
) -> dict[str, Any]:
    """Refresh every source for the partners in `partners_file` and publish the database."""
    logger = get_run_logger()
    env = {**os.environ, **(overrides or {})}
    settings = load_settings(env)
    offline = env.get("PARTNERDD_OFFLINE") == "1"
    home = load_home()  # fails before any fetch when config/home.toml is unusable
    run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
    started = datetime.now(UTC)
    db_path = database_path(db)
    registry_path = Path(partners_file).resolve()
    partners, issues = read_registry(registry_path)
    report("registry", advance=1, total=1)
    for issue in issues:
        logger.warning("registry %s: %s", registry_path.name, issue)
    logger.info("run %s: %d partners, %d registry issues", run_id, len(partners), len(issues))

    for spec in SOURCES:
        spec.preflight(settings, env, offline)
    # Entity resolution first: the extracts use the given or resolved LEIs and CIKs.
    resolved, identifiers, resolution = resolve_identifiers(partners, settings)
    futures = [spec.extract.submit(resolved, settings) for spec in SOURCES]
    extracted: list[Extracted] = [future.result() for future in futures]

    from flows.validate import Validator  # Great Expectations import is slow; only here

    validator = Validator(Path(reports_dir) if reports_dir else DEFAULT_REPORTS)
    with publishing(db_path) as con:
        con.execute(
            "insert into ops.runs (run_id, started_at, status, partners) "
            "values (?, ?, 'running', ?)",
            [run_id, started, len(partners)],
        )
        _write_registry(con, run_id, registry_path, partners, issues, started)
        fetched = [resolution, *extracted]
        stored = load.store_raw(con, (r for e in fetched for _, r in e.responses))
        logs = [row for e in fetched for row in e.log]

        parsed: list[Parsed] = [spec.parse(e) for spec, e in zip(SOURCES, extracted, strict=True)]
        logs += [problem for p in parsed for problem in p.problems]
        _write_log(con, run_id, logs, started)
        load.upsert(con, "raw.resolution__identifiers", identifiers, key="partner_id")
        for spec, result in zip(SOURCES, parsed, strict=True):
            for table, key in spec.landing.items():
                load.upsert(con, table, result.tables.get(table, []), key=key)
        report("load", advance=1, total=1)

        report("validate", total=len(models.STAGING) + len(models.MARTS))
        context = {"settings": settings, "env": env, "home": home, "run_id": run_id}
        params = run_params(resolved, settings)  # what the row-count bounds scale with
        outcome = _validate_and_build(con, validator, run_id, started, context, params)
        validator.finish()  # Data Docs, built once for the whole run
        outcome_counts = Counter(f"{row['source']}:{row['outcome']}" for row in logs)
        summary = {
            "run_id": run_id,
            "status": outcome["status"],
            "database": str(db_path),
            "partners": len(partners),
            "registry_issues": [str(i) for i in issues],
            "raw_responses": stored,
            "fetch_outcomes": dict(sorted(outcome_counts.items())),
            "fetch_problems": [row for row in logs if row["outcome"] not in ("ok", "skipped")],
            "tables": outcome["tables"],
            "failures": outcome.get("failures", {}),
            "data_docs": str(Path(reports_dir) if reports_dir else DEFAULT_REPORTS),
        }
        con.execute(
            "update ops.runs set finished_at = ?, status = ?, summary = ? where run_id = ?",
            [datetime.now(UTC), summary["status"], json.dumps(summary, default=str), run_id],
        )
    report("publish", advance=1, total=1)
    logger.info("run %s finished: %s", run_id, summary["status"])
    return summary
