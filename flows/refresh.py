"""The refresh flow: registry -> extract (streamed to the raw store) -> parse from raw ->
incremental staging and marts -> publish.

Run status: `ok` (or `ok_with_warnings` when rows were quarantined or a bound warned),
`partial` (a source failed, a table kept its previous rows, or registry rows were
rejected: `summary["partial"]` says which and why) or `failed` (the registry itself
failed validation; nothing is published).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.exceptions import TerminationSignal
from prefect.futures import as_completed

from connectors.budget import TimeBudget
from connectors.config import Settings, load_settings, work_dir
from connectors.http import CANCELLATION
from connectors.source import Extracted, SourceSpec, declared_sources
from flows import build, landing, load, models, revalidate, scaleout
from flows.budgets import least_recently_answered, over_budget, reached_partners, with_budget
from flows.checks import run_params
from flows.db import (
    WriterBusy,
    connect_readonly,
    database_path,
    note_server_processes,
    open_work,
    publish,
    records,
    writer_lock,
)
from flows.home import load_home
from flows.operations import load_operations
from flows.progress import report
from flows.registry import Partner, RegistryFileError, RegistryIssue, read_registry
from flows.retries import with_retries
from flows.revalidate import StoredAnswers
from flows.store import RawStore

DEFAULT_REPORTS = work_dir() / "reports" / "data_docs"
REGISTRY_MODEL = "stg_registry__partners"
_REGISTRY_COLUMNS = [
    "partner_id", "name", "country_iso3", "country_iso2", "website", "lei", "cik", "line",
]  # fmt: skip


def _write_registry(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    path: Path,
    partners: list[Partner],
    issues: list[RegistryIssue],
    at: datetime,
) -> None:
    """raw.partners is the registry as read this run; its version moves only when its
    content did, so an unchanged registry rebuilds nothing downstream."""
    frame = pd.DataFrame([p.as_row() for p in partners], columns=_REGISTRY_COLUMNS)
    digest = hashlib.sha256(frame.to_csv(index=False).encode()).hexdigest()
    before = load.scalar(
        con, "select inputs from ops.table_state where table_name = 'raw.partners'"
    )
    con.execute("begin transaction")
    con.execute("create or replace temp table _registry_before as from raw.partners")
    con.execute("delete from raw.partners")
    if partners:
        load.upsert(
            con,
            "raw.partners",
            frame.assign(registry_path=str(path), loaded_at=at).to_dict("records"),
            key="partner_id",
        )
    # a row read again unchanged keeps the time it was first loaded, so a line added to the
    # registry changes that partner's rows only
    same = " and ".join(f'n."{c}" is not distinct from b."{c}"' for c in _REGISTRY_COLUMNS)
    con.execute(
        "update raw.partners as n set loaded_at = b.loaded_at from _registry_before as b "  # noqa: S608 (our columns)
        f"where n.registry_path = b.registry_path and {same}"
    )
    con.execute("drop table _registry_before")
    con.execute("delete from quarantine.partner_registry")
    for issue in issues:
        con.execute(
            "insert into quarantine.partner_registry values (?, ?, ?, ?, ?, ?, ?)",
            [run_id, at, str(path), issue.line, issue.column, issue.value, issue.message],
        )
    if before != json.dumps(digest):
        landing.bump_version(con, "raw.partners", run_id)
        con.execute(
            "update ops.table_state set inputs = ? where table_name = 'raw.partners'",
            [json.dumps(digest)],
        )
    con.execute("commit")


def _source_failures(
    con: duckdb.DuckDBPyConnection, run_id: str, raised: dict[str, str]
) -> dict[str, str]:
    """Sources that failed as a whole this run: the extract raised, or every attempt that
    was made failed (a partner's single 404 is that partner's problem, not the source's)."""
    failed = dict(raised)
    rows = con.execute(
        """
        select source,
               count(*) filter (where outcome = 'ok') as ok,
               count(*) filter (where outcome in ('http_error', 'failed', 'parse_error')) as bad,
               string_agg(distinct coalesce(error, outcome), '; ') filter
                   (where outcome in ('http_error', 'failed', 'parse_error')) as why
        from ops.fetch_log where run_id = ? group by source
        """,
        [run_id],
    ).fetchall()
    for source, ok, bad, why in rows:
        if source not in failed and bad and not ok:
            failed[source] = str(why)[:300]
    return failed


def identified_partners(
    con: duckdb.DuckDBPyConnection, partners: list[Partner], specs: list[SourceSpec]
) -> list[Partner]:
    """The partners with the identifiers that sources found (`identifies` tables: given or
    resolved rows); an identifier given in the registry always wins."""
    found: dict[str, dict[str, Any]] = {}
    for spec in specs:
        if spec.identifies is None:
            continue
        rows = con.execute(
            f"select partner_id, scheme, value from {load.ident(spec.identifies)} "  # noqa: S608
            "where status in ('given', 'resolved') and value is not null "
            "and scheme in ('lei', 'cik')"
        ).fetchall()
        for partner_id, scheme, value in rows:
            found.setdefault(partner_id, {}).setdefault(scheme, value)
    return [
        replace(
            p,
            **{k: getattr(p, k) or v for k, v in found.get(p.partner_id, {}).items()},
        )
        for p in partners
    ]


def new_run_id() -> str:
    """A run's id: its start to the microsecond, then a random suffix. Ids sort in the
    order the runs began (landing takes a group's latest run as its greatest id), also when
    a killed run and the next one begin within the same second."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f") + "-" + uuid.uuid4().hex[:6]


def _extract_task(spec: SourceSpec) -> Any:
    """The source's extract as a Prefect task of its own: retried as a whole only when it
    crashed (flows/retries.py; HTTP retries live in the session); no cache. Its time budget
    starts when it starts (a task may wait for a thread of the task runner)."""

    def extract(partners: list[Partner], settings: Settings, out: Extracted) -> None:
        settings.budget.start()
        spec.extract(partners, settings, out)

    return with_retries(task(name=f"extract-{spec.name}", cache_policy=NO_CACHE)(extract))


def _extract_phase(
    specs: list[SourceSpec],
    partners: list[Partner],
    settings: Settings,
    store: RawStore,
    con: duckdb.DuckDBPyConnection,
    reader: landing.JournalReader,
    run_id: str,
    raised: dict[str, str],
    budgets: dict[str, TimeBudget],
    parser: landing.GroupParser,
) -> dict[str, landing.LandingResult]:
    """Extract the phase's sources side by side, each within its time budget (reaching the
    partners it answered least recently first); land each as soon as its extract ends."""
    submitted = []
    for spec in specs:
        own = with_budget(spec, settings)
        budgets[spec.name] = own.budget
        ordered = least_recently_answered(con, spec.name, partners)
        out = Extracted(spec.name, store, progress=report)
        submitted.append((spec, _extract_task(spec).submit(ordered, own, out)))
    spec_of = {id(future): spec for spec, future in submitted}
    results = {}
    for done in as_completed([future for _, future in submitted]):  # first done, first landed
        spec = spec_of[id(done)]
        try:
            done.result()
        except Exception as exc:  # anything at all: this source fails alone
            raised[spec.name] = f"{type(exc).__name__}: {exc}"
            store.log({"source": spec.name, "outcome": "failed", "error": raised[spec.name]})
        reader.ingest_new(con)
        if spec.name in raised:
            continue
        report(f"parse {spec.name}", total=None)
        results[spec.name] = landing.parse_pending(
            con, store, spec, settings, run_id,
            on_group=lambda name=spec.name: report(f"parse {name}", advance=1),
            parser=parser,
        )  # fmt: skip
        report(f"parse {spec.name}", total=results[spec.name].groups)  # done: the bar stops
    return results


def _build(
    con: duckdb.DuckDBPyConnection,
    validator: Any,
    run_id: str,
    context: dict[str, Any],
    params: dict[str, Any],
    names: tuple[str, ...] | None = None,
    stage: str = "build",
) -> dict[str, build.ModelOutcome]:
    fingerprint = build.config_fingerprint(context["settings"], context["env"])
    outcomes: dict[str, build.ModelOutcome] = {}
    todo = [m for m in models.ORDER if names is None or m.name in names]
    report(stage, total=len(todo))
    build.drop_scratch(con)  # what a killed run left
    build.empty_unbuilt(con, models.ORDER)
    for model in todo:
        started = time.perf_counter()
        try:
            outcome = build.build_model(con, validator, model, context, params, run_id, fingerprint)
        except Exception as exc:  # a model's bug keeps its previous table, the rest builds
            outcome = build.ModelOutcome(
                model.name, "kept_previous", failures=[f"{type(exc).__name__}: {exc}"]
            )
        outcome.seconds = time.perf_counter() - started
        outcomes[model.name] = outcome
        report(stage, advance=1)
    build.drop_scratch(con)
    return outcomes


def _publish(con: duckdb.DuckDBPyConnection, db_path: Path) -> None:
    """Publish, then forget the landed key values the published partitioned tables no
    longer need (kept until then: a publish that fails leaves them for the next one)."""
    views = {f"marts.{name}": load.model_sql("marts", name) for name in models.VIEWS}
    publish(con, db_path, views, partitions=build.partitions(models.ORDER))
    build.prune_landed_keys(con, models.ORDER)


def _status(
    issues: list[RegistryIssue],
    failed_sources: dict[str, str],
    outcomes: dict[str, build.ModelOutcome],
    over_budget: Mapping[str, str] | None = None,
) -> tuple[str, list[str]]:
    partial = [f"source {name} failed: {why}" for name, why in sorted(failed_sources.items())]
    partial += [line for _, line in sorted((over_budget or {}).items())]
    partial += [
        f"table {name} kept its previous rows: {'; '.join(o.failures)}"
        for name, o in outcomes.items()
        if o.status == "kept_previous"
    ]
    if issues:
        partial.append(f"{len(issues)} registry row(s) rejected (see quarantine.partner_registry)")
    if partial:
        return "partial", partial
    warned = any(o.quarantined or o.warnings for o in outcomes.values())
    return ("ok_with_warnings" if warned else "ok"), []


def _fetch_problems(con: duckdb.DuckDBPyConnection, run_id: str) -> list[dict[str, Any]]:
    return records(
        con,
        """
        select source, kind, partner_id, url, status, outcome, error
        from ops.fetch_log
        where run_id = ? and outcome not in ('ok', 'skipped', 'not_recorded', 'deferred')
        order by source, partner_id, occurred_at
        """,
        [run_id],
    )


def _outcome_counts(con: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, int]:
    rows = con.execute(
        "select source || ':' || outcome, count(*) from ops.fetch_log where run_id = ? "
        "group by 1 order by 1",
        [run_id],
    ).fetchall()
    return {k: int(n) for k, n in rows}


@flow(name="partnerdd-refresh", log_prints=True)
def refresh(
    partners_file: str,
    db: str | None = None,
    overrides: dict[str, str] | None = None,
    reports_dir: str | None = None,
    full: bool = False,
    writer_wait: float = 0,
    only: list[str] | None = None,
) -> dict[str, Any]:
    """Refresh every source for the partners in `partners_file` and publish the database.

    Answers already stored are revalidated or, while younger than their source's max age,
    reused (flows/revalidate.py); `full` fetches everything again. `writer_wait`: seconds to
    wait for another refresh of the same database (0: refuse). `only`: partner ids whose own
    sources are extracted (`partnerdd request`); the other partners keep what they have,
    whole-dataset sources come from the store unless older than their max age, and the
    marts and the published database still hold every partner of the registry."""
    logger = get_run_logger()
    env = {**os.environ, **(overrides or {})}
    settings = load_settings(env)
    where_parsed = load_operations(env).run
    offline = env.get("PARTNERDD_OFFLINE") == "1"
    home = load_home()  # fails before any fetch when config/home.toml is unusable
    run_id = new_run_id()
    started = datetime.now(UTC)
    db_path = database_path(db)
    registry_path = Path(partners_file).resolve()
    try:
        partners, issues = read_registry(registry_path)
    except RegistryFileError as exc:  # an unreadable file changes nothing but ops.runs
        _refuse_registry(db_path, run_id, started, exc, {**os.environ, **(overrides or {})})
        raise
    report("registry", advance=1, total=1)
    for issue in issues:
        logger.warning("registry %s: %s", registry_path.name, issue)
    logger.info("run %s: %d partners, %d registry issues", run_id, len(partners), len(issues))
    sources = declared_sources()
    for spec in sources:
        spec.preflight(settings, env, offline)

    from flows.validate import Validator  # Great Expectations import is slow; only here

    docs = Path(reports_dir) if reports_dir else DEFAULT_REPORTS
    clock = time.perf_counter()
    validator = Validator(docs)
    timings = {"validator_start": time.perf_counter() - clock}
    CANCELLATION.reset()  # `partnerdd serve` runs one refresh after another in one process
    with (
        _requests_stop_on_sigterm(),
        writer_lock(db_path, wait=writer_wait, run_id=run_id, notify=logger.warning) as store_root,
        scaleout.parser(where_parsed, store_root) as parser,
    ):
        note_server_processes(store_root)
        store = RawStore(store_root)
        con = open_work(store_root, env)
        try:
            recovered = landing.ingest_earlier_journals(con, store, run_id)
            store.begin(run_id)
            if not full:
                settings = replace(
                    settings,
                    answers=StoredAnswers.load(con, store),
                    cursors=revalidate.cursors(con, sources),
                )
            con.execute(
                "insert into ops.runs (run_id, started_at, status, partners) "
                "values (?, ?, 'running', ?)",
                [run_id, started, len(partners)],
            )
            _write_registry(con, run_id, registry_path, partners, issues, started)
            context = {"settings": settings, "env": env, "home": home, "run_id": run_id}
            params = run_params(partners, settings)
            outcomes = _build(
                con, validator, run_id, context, params, (REGISTRY_MODEL,), "validate registry"
            )
            summary: dict[str, Any] = {
                "run_id": run_id,
                "database": str(db_path),
                "partners": len(partners),
                "only": only,
                "registry_issues": [str(i) for i in issues],
                "recovered_responses": recovered,
                "data_docs": str(docs),
            }
            if not partners:  # every row was rejected: nothing to refresh
                outcomes[REGISTRY_MODEL].status = "kept_previous"
                outcomes[REGISTRY_MODEL].failures.append(
                    f"no valid partner row in {registry_path.name}; see the registry issues"
                )
            if outcomes[REGISTRY_MODEL].status == "kept_previous":
                summary.update(status="failed", partial=[], fetch_outcomes={}, fetch_problems=[])
                summary["tables"] = {k: o.report() for k, o in outcomes.items()}
                summary["failures"] = {REGISTRY_MODEL: outcomes[REGISTRY_MODEL].failures}
                _finish(con, run_id, summary)
                return summary
            reader = landing.JournalReader(store.journals / f"{run_id}.jsonl")
            raised: dict[str, str] = {}
            budgets: dict[str, TimeBudget] = {}
            current = partners
            clock = time.perf_counter()
            landed: dict[str, landing.LandingResult] = {}
            for phase in sorted({s.phase for s in sources}):
                specs = [s for s in sources if s.phase == phase]
                wanted = [p for p in current if only is None or p.partner_id in only]
                landed.update(
                    _extract_phase(
                        specs, wanted, settings, store, con, reader, run_id, raised, budgets, parser
                    )
                )
                current = identified_partners(con, partners, sources)
            timings["extract_and_parse"] = time.perf_counter() - clock
            timings.update({f"parse {name}": r.seconds for name, r in landed.items()})
            failed_sources = _source_failures(con, run_id, raised)
            rest = tuple(m.name for m in models.ORDER if m.name != REGISTRY_MODEL)
            reached = reached_partners(con, run_id, current)  # what the bounds count
            clock = time.perf_counter()
            outcomes.update(
                _build(con, validator, run_id, context, run_params(reached, settings), rest)
            )
            timings["build"] = time.perf_counter() - clock
            status, partial = _status(
                issues, failed_sources, outcomes, over_budget(con, run_id, budgets)
            )
            summary.update(
                status=status,
                partial=partial,
                raw_responses=load.scalar(
                    con, "select count(*) from raw.responses where run_id = ?", [run_id]
                ),
                fetch_outcomes=_outcome_counts(con, run_id),
                fetch_problems=_fetch_problems(con, run_id),
                tables={k: o.report() for k, o in outcomes.items()},
                failures={k: o.failures for k, o in outcomes.items() if o.failures},
            )
            _finish(con, run_id, summary)
            store.close()
            con.execute("insert or replace into ops.journals values (?, ?)", [run_id, started])
            report("publish", total=1)
            clock = time.perf_counter()
            _publish(con, db_path)
            timings["publish"] = time.perf_counter() - clock
            store.retire(store.journals / f"{run_id}.jsonl")
            report("publish", advance=1)
        except BaseException as exc:  # SIGTERM, Ctrl-C or a bug: say so in ops.runs
            _abandon(con, run_id, exc)
            raise
        finally:
            store.close()
            con.close()
    clock = time.perf_counter()
    validator.finish()  # Data Docs, once per run
    timings["data_docs"] = time.perf_counter() - clock
    clock = time.perf_counter()
    summary["site"] = _write_reports(db_path, docs.parent / "site", summary)
    timings["site"] = time.perf_counter() - clock
    summary["changes"] = _announce_changes(db_path, env)
    summary["timings"] = {k: round(v, 2) for k, v in timings.items()}
    logger.info("run %s finished: %s", run_id, summary["status"])
    return summary


def reparse(
    db: str | None = None, source: str | None = None, reports_dir: str | None = None
) -> dict[str, Any]:
    """Rebuild landing, staging and marts from the stored payloads, with no network request
    (what a parser fix or a new column needs), and publish. `source`: only that source is
    parsed again; every model downstream of what changed is rebuilt."""
    sources = declared_sources()
    names = [s.name for s in sources]
    if source is not None and source not in names:
        raise ValueError(f"unknown source {source!r}; sources: {', '.join(names)}")
    env = dict(os.environ)
    settings = load_settings(env)
    where_parsed = load_operations(env).run
    run_id = new_run_id()
    db_path = database_path(db)
    from flows.validate import Validator

    docs = Path(reports_dir) if reports_dir else DEFAULT_REPORTS
    validator = Validator(docs)
    with writer_lock(db_path) as store_root, scaleout.parser(where_parsed, store_root) as parser:
        store = RawStore(store_root)
        con = open_work(store_root, env)
        try:
            landing.ingest_earlier_journals(con, store, run_id)
            partners = identified_partners(con, _registry(con), sources)
            con.execute(
                "insert into ops.runs (run_id, started_at, status, partners) "
                "values (?, ?, 'reparsing', ?)",
                [run_id, datetime.now(UTC), len(partners)],
            )
            results = {}
            for spec in [s for s in sources if source in (None, s.name)]:
                landing.forget_parsed(con, spec.name)
                report(f"parse {spec.name}", total=None)
                results[spec.name] = landing.parse_pending(
                    con, store, spec, settings, run_id, parser=parser
                )
            context = {"settings": settings, "env": env, "home": load_home(), "run_id": run_id}
            outcomes = _build(con, validator, run_id, context, run_params(partners, settings))
            status, partial = _status([], {}, outcomes)
            summary = {
                "run_id": run_id,
                "status": status,
                "partial": partial,
                "database": str(db_path),
                "partners": len(partners),
                "registry_issues": [],
                "reparsed": {k: r.groups for k, r in results.items()},
                "fetch_outcomes": {},
                "fetch_problems": _fetch_problems(con, run_id),
                "tables": {k: o.report() for k, o in outcomes.items()},
                "failures": {k: o.failures for k, o in outcomes.items() if o.failures},
                "data_docs": str(docs),
            }
            _finish(con, run_id, summary)
            _publish(con, db_path)
        finally:
            con.close()
    return summary


def _registry(con: duckdb.DuckDBPyConnection) -> list[Partner]:
    rows = con.execute(
        f"select {', '.join(_REGISTRY_COLUMNS)} from raw.partners order by line"  # noqa: S608
    ).fetchall()
    return [Partner(**dict(zip(_REGISTRY_COLUMNS, row, strict=True))) for row in rows]


def _write_reports(db_path: Path, site_dir: Path, summary: Mapping[str, Any]) -> str | None:
    """The portfolio site (every partner ranked, each linking to its dossier; a request
    writes its partner's page and any missing ones) and the shortlist with what failed as
    a Prefect artifact. A report that cannot be written is logged; it never fails a run
    whose data is published."""
    from prefect.artifacts import create_markdown_artifact

    from flows.portfolio import shortlist_markdown, write_site

    logger = get_run_logger()
    try:
        with connect_readonly(db_path) as con:
            index = write_site(con, site_dir, summary.get("only"))
            markdown = shortlist_markdown(con)
    except Exception as exc:
        logger.warning("portfolio site not written: %s: %s", type(exc).__name__, exc)
        return None
    failed = summary.get("partial") or []
    markdown += "\n\n## What failed\n\n" + (
        "\n".join(f"- {line}" for line in failed) if failed else "Nothing: every source loaded."
    )
    create_markdown_artifact(key="partnerdd-shortlist", markdown=markdown)
    return str(index)


def _announce_changes(db_path: Path, env: Mapping[str, str]) -> dict[str, Any]:
    """What this run changed, as a Prefect markdown artifact and to the configured webhook /
    command. Like the site, a report that fails is logged and never fails the run."""
    from prefect.artifacts import create_markdown_artifact

    from flows import changes

    logger = get_run_logger()
    try:
        with connect_readonly(db_path) as con:
            since, label = changes.resolve_since(con, None)
            rules = changes.load_rules(env)
            if label == changes.FIRST_RUN:  # everything is new: counted, no alerts
                changed, raised = changes.first_run_counts(con), []
            else:
                found = changes.changes(con, since)
                changed = changes.counts(found)
                raised = changes.alerts(found, rules, changes.partners_by_country(con))
    except Exception as exc:
        logger.warning("changes not reported: %s: %s", type(exc).__name__, exc)
        return {"error": f"{type(exc).__name__}: {exc}"}
    report_md = changes.markdown(changed, raised, label)
    create_markdown_artifact(key="partnerdd-changes", markdown=report_md)
    problems = changes.notify(raised, rules, env)
    for problem in problems:
        logger.warning("notification failed: %s", problem)
    return {
        "since": label,
        "facts_changed": sum(changed.values()),
        "alerts": len(raised),
        "notification_problems": problems,
    }


@contextlib.contextmanager
def _requests_stop_on_sigterm() -> Iterator[None]:
    """SIGTERM stops every request of the run the moment it arrives, then goes on to the
    handler it found (Prefect's, during a flow run: it cancels the run by an exception).
    Without this, that exception may wait for an extract task blocked on a slow server."""

    def on_sigterm(signum: int, frame: Any) -> None:
        CANCELLATION.cancel(by_signal=True)
        if callable(previous):
            previous(signum, frame)
        else:
            raise SystemExit(128 + signum)

    try:
        previous = signal.signal(signal.SIGTERM, on_sigterm)
    except ValueError:  # not the main thread: signals are not ours to handle here
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _abandon(con: duckdb.DuckDBPyConnection, run_id: str, exc: BaseException) -> None:
    """A run ended by an exception is `cancelled` (SIGTERM, as a scheduler's cancel sends,
    or Ctrl-C: every request stops at once, so the run ends within seconds even on a server
    that trickles bytes) or `failed`, with the reason. What was stored stays in the raw
    store for the next run; nothing is published."""
    # SystemExit: the CLI's SIGTERM handler when the signal comes before Prefect's handler
    # the signal may land inside a query whose clean-up then raises instead: the
    # cancellation (set by the signal handler) says what happened
    cancelled = CANCELLATION.by_signal or isinstance(
        exc, (KeyboardInterrupt, SystemExit, TerminationSignal)
    )
    CANCELLATION.cancel()  # the run is over: its requests in flight are of no use
    reason = "cancelled by a termination signal" if cancelled else f"{type(exc).__name__}: {exc}"
    with contextlib.suppress(duckdb.Error):
        con.abort()  # a result the exception left unfinished
    with contextlib.suppress(duckdb.Error):
        con.execute("rollback")  # a transaction the exception interrupted
    with contextlib.suppress(duckdb.Error):
        con.execute(
            "update ops.runs set finished_at = ?, status = ?, summary = ? "
            "where run_id = ? and status = 'running'",
            [
                datetime.now(UTC),
                "cancelled" if cancelled else "failed",
                json.dumps({"run_id": run_id, "error": reason}),
                run_id,
            ],
        )


def _refuse_registry(
    db_path: Path, run_id: str, started: datetime, exc: RegistryFileError, env: Mapping[str, str]
) -> None:
    """A registry that cannot be read is a failed run in ops.runs with the reason (file,
    line, column); no data changes and nothing is published. Another refresh holding the
    database is left alone (the refusal is then only in the error)."""
    with contextlib.suppress(WriterBusy), writer_lock(db_path, run_id=run_id) as store_root:
        con = open_work(store_root, env)
        try:
            con.execute(
                "insert into ops.runs values (?, ?, ?, 'failed', 0, ?)",
                [
                    run_id,
                    started,
                    datetime.now(UTC),
                    json.dumps({"run_id": run_id, "error": str(exc)}),
                ],
            )
        finally:
            con.close()


def _finish(con: duckdb.DuckDBPyConnection, run_id: str, summary: Mapping[str, Any]) -> None:
    con.execute(
        "update ops.runs set finished_at = ?, status = ?, summary = ? where run_id = ?",
        [datetime.now(UTC), summary["status"], json.dumps(summary, default=str), run_id],
    )
