"""partnerdd command line: refresh, request, serve, reparse, profile, shortlist, sql.

Exit codes of refresh, request and reparse: 0 ok, 3 partial (a source or table failed, the
rest was published), 1 failed (nothing published), 2 usage or configuration error (or the
writer lock is held), 4 an ambiguous request (candidates listed, nothing written).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from rich.console import Console
from rich.table import Table
from rich.text import Text

from connectors.config import CONFIG_ENV, ConfigError
from flows.db import (
    DatabaseMissing,
    WriterBusy,
    connect_readonly,
    database_path,
    refuse_if_busy,
)
from flows.registry import RegistryFileError

console = Console()
err = Console(stderr=True)
EXIT_CODES = {"ok": 0, "ok_with_warnings": 0, "partial": 3, "failed": 1}


def _quiet_prefect(verbose: bool) -> None:
    """Prefect's per-task log lines give way to the progress display, unless asked for."""
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO" if verbose else "WARNING")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")  # no network here
    # The temporary server takes 7-22 s to start on these machines; Prefect waits 20 s.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")


@contextmanager
def _progress_display() -> Iterator[None]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from flows import progress

    bars: dict[str, Any] = {}
    with Progress(
        TextColumn("{task.description:<22}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    ) as bar:

        def on_event(stage: str, advance: int, total: int | None, note: str | None) -> None:
            if stage not in bars:
                bars[stage] = bar.add_task(stage, total=total)
            if total is not None:
                bar.update(bars[stage], total=total)
            if advance:
                bar.advance(bars[stage], advance)

        unsubscribe = progress.subscribe(on_event)
        try:
            yield
        finally:
            unsubscribe()


@contextmanager
def _sigterm_exits() -> Iterator[None]:
    """SIGTERM ends the command by an exception, as Ctrl-C does, so that exit handlers run
    and Prefect's temporary server is stopped, not orphaned (the default action kills the
    process outright); exit code 143 whatever form the signal took on its way out of the
    flow (during a flow run the refresh stops its requests and Prefect cancels the run:
    flows/refresh.py)."""

    from connectors.http import CANCELLATION

    def stop(signum: int, frame: Any) -> None:
        CANCELLATION.cancel(by_signal=True)
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    except BaseException:
        if not CANCELLATION.by_signal:
            raise
        # the run's own exception, whatever form the signal took on its way out
        err.print("stopped by SIGTERM: the run is recorded as cancelled, nothing published")
        raise SystemExit(128 + signal.SIGTERM) from None
    finally:
        signal.signal(signal.SIGTERM, previous)


def _cmd_refresh(args: argparse.Namespace) -> int:
    _quiet_prefect(args.verbose)
    from flows.offline import DEMO_PARTNERS, offline_sources
    from flows.startup import start_server_importing

    partners = Path(args.partners) if args.partners else (DEMO_PARTNERS if args.offline else None)
    if partners is None:
        err.print("refresh needs --partners FILE (or --offline for the bundled demo registry)")
        return 2
    if not partners.exists():
        err.print(f"partner registry {partners} does not exist")
        return 2
    db = str(database_path(args.db))
    if args.wait <= 0:
        refuse_if_busy(Path(db))
    with _sigterm_exits(), _progress_display():
        start_server_importing(("flows.refresh",), freeze=args.own_process)
        from flows.refresh import refresh

        if args.offline:
            with offline_sources() as overrides:
                summary = refresh(
                    str(partners), db, overrides, args.reports, args.full, writer_wait=args.wait
                )
        else:
            summary = refresh(
                str(partners), db, None, args.reports, args.full, writer_wait=args.wait
            )
    _print_summary(summary)
    return EXIT_CODES.get(summary["status"], 1)


EXIT_AMBIGUOUS = 4


def _cmd_request(args: argparse.Namespace) -> int:
    _quiet_prefect(args.verbose)
    from flows.startup import start_server_importing

    db = database_path(args.db)
    if args.wait <= 0:
        refuse_if_busy(db)  # refused before Prefect starts or anything is searched
    with _sigterm_exits(), _progress_display():
        start_server_importing(("flows.request",), freeze=args.own_process)
        from flows.request import RequestRefused, request_partner

        refused: RequestRefused | None = None
        try:
            result = request_partner(
                args.name, args.country, args.website, args.lei, args.cik, args.partners,
                str(db), args.reports, args.pdf, args.wait, args.offline,
            )  # fmt: skip
        except RequestRefused as exc:
            refused = exc
    if refused is not None:
        err.print(Text(str(refused), style="red"))
        return 2
    return _print_request(result)


def _print_request(result: dict[str, Any]) -> int:
    from flows.request_report import ambiguous_table, request_lines

    if result["status"] == "ambiguous":
        console.print(ambiguous_table(result))
        err.print(
            Text(
                f"{result['name']!r} is ambiguous: nothing was written. Choose a candidate "
                "and request again with --lei LEI or --cik CIK.",
                style="yellow",
            )
        )
        return EXIT_AMBIGUOUS
    if result["status"] == "failed":
        _print_summary(result)
        err.print(Text("the request failed: nothing was published, the registry is as it was"))
        return EXIT_CODES["failed"]
    for line in result.get("partial", []):
        console.print(Text("partial: " + line, style="yellow"))
    for line in request_lines(result):
        console.print(line, soft_wrap=True)  # paths stay whole, to copy
    return EXIT_CODES.get(result["status"], 1)


def _cmd_reparse(args: argparse.Namespace) -> int:
    from flows.refresh import reparse

    try:
        with _progress_display():
            summary = reparse(args.db, args.source, args.reports)
    except ValueError as exc:
        err.print(Text(str(exc)))
        return 2
    _print_summary(summary)
    return EXIT_CODES.get(summary["status"], 1)


def _cmd_serve(args: argparse.Namespace) -> int:
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")  # no network here
    from dataclasses import replace

    from flows.offline import DEMO_PARTNERS
    from flows.operations import load_operations
    from flows.serve import FLOW_NAME, serve

    ops = load_operations()
    if args.offline:
        ops = replace(ops, schedule=replace(ops.schedule, partners=DEMO_PARTNERS, offline=True))
    s = ops.schedule
    err.print(
        Text(
            f"serving {FLOW_NAME}/{s.deployment}: cron '{s.cron}' in {s.timezone}, "
            f"registry {s.partners}, database {s.database}"
            + (" (offline: recorded payloads)" if s.offline else "")
        )
    )
    serve(ops)
    return 0


def _print_summary(summary: dict[str, Any], shown: int = 12) -> None:
    console.print(
        f"run [bold]{summary['run_id']}[/]: [bold]{summary['status']}[/] -> {summary['database']}",
        highlight=False,
    )
    for issue in summary["registry_issues"]:
        console.print(Text("registry: " + issue, style="yellow"))
    for line in summary.get("partial", []):
        console.print(Text("partial: " + line, style="yellow"))
    unrecorded = sum(
        n for k, n in summary.get("fetch_outcomes", {}).items() if k.endswith(":not_recorded")
    )
    if unrecorded:
        console.print(
            Text(
                f"{unrecorded} request(s) not recorded in the offline snapshot (not failures; "
                "see ops.fetch_log outcome 'not_recorded')",
                style="dim",
            )
        )
    problems = summary["fetch_problems"]
    if problems:
        counts: dict[str, int] = {}
        for row in problems:
            key = f"{row['source']} {row['outcome']}"
            counts[key] = counts.get(key, 0) + 1
        console.print(
            Text(
                "fetch problems: " + ", ".join(f"{k} ×{n}" for k, n in counts.items()),
                style="yellow",
            )
        )
        for row in problems[:shown]:
            parts = urlsplit(row.get("url") or "")
            where = parts.path + (f"?{parts.query}" if parts.query else "")
            what = f"HTTP {row['status']}" if row["outcome"] == "http_error" else row["outcome"]
            if row["outcome"] != "http_error":
                where += " " + " ".join(str(row.get("error") or "").split())
            line = f"  {row['source']} {row.get('partner_id') or '-'}: {what} {where}"
            console.print(Text(line, style="yellow"), overflow="ellipsis", no_wrap=True)
        if len(problems) > shown:
            console.print(
                Text(
                    f"  … {len(problems) - shown} more: see marts.partner_source_status "
                    "and ops.fetch_log",
                    style="yellow",
                )
            )
    changed = {n: t for n, t in summary["tables"].items() if t["status"] != "unchanged"}
    table = Table(
        "table", "rows", "validated", "quarantined", "problems", title="rebuilt and validated"
    )
    for name, t in changed.items():
        problems_text = "; ".join(t["failures"] + t["warnings"])
        table.add_row(
            name,
            str(t["loaded"] if t["status"] == "built" else "kept previous"),
            str(t["validated"]),
            str(t["quarantined"]),
            Text(problems_text[:200]),
        )
    console.print(table)
    unchanged = len(summary["tables"]) - len(changed)
    if unchanged:
        console.print(f"{unchanged} table(s) unchanged: their inputs did not change")
    timings = summary.get("timings") or {}
    if timings:
        slowest = sorted(
            ((t["seconds"], n) for n, t in summary["tables"].items() if t.get("seconds")),
            reverse=True,
        )[:3]
        stages = ", ".join(f"{k} {v:.1f} s" for k, v in timings.items() if "parse " not in k)
        console.print(
            Text(f"time: {stages}; slowest tables: ")
            + Text(", ".join(f"{n} {sec:.1f} s" for sec, n in slowest))
        )
    console.print(f"Data Docs: {summary['data_docs']}/index.html")
    if summary.get("site"):
        console.print(f"Portfolio and dossiers: {summary['site']}")


def _connect(args: argparse.Namespace) -> Any:
    return connect_readonly(database_path(args.db))


def _one_partner(con: Any, name: str, find: Any) -> dict[str, Any] | None:
    """The one partner `name` (an id or part of a name) means; None, said why, otherwise."""
    rows = find(con, name)
    if not rows:
        err.print(Text(f"no partner matches {name!r}"))
        return None
    exact = [r for r in rows if r["partner_id"] == name]
    if len(rows) > 1 and not exact:
        names = ", ".join(f"{r['partner_id']} ({r['name']})" for r in rows)
        err.print(Text(f"{name!r} matches several partners: {names}"))
        return None
    return dict((exact or rows)[0])


def _cmd_changes(args: argparse.Namespace) -> int:
    from flows import changes

    with _connect(args) as con:
        try:
            since, label = changes.resolve_since(con, args.since)
        except changes.ChangesError as exc:
            err.print(Text(str(exc)))
            return 2
        found = changes.changes(con, since)
        raised = changes.alerts(found, changes.load_rules(), changes.partners_by_country(con))
    if args.format == "json":
        body = {
            "since": label,
            "alerts": [a.__dict__ for a in raised],
            "changes": [c.as_json() for c in found],
        }
        sys.stdout.write(json.dumps(body, indent=2, default=str, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(changes.markdown(changes.counts(found), raised, label))
    return 0


def _cmd_history(args: argparse.Namespace) -> int:
    from flows.changes import partner_history
    from flows.report import find_partners

    with _connect(args) as con:
        profile = _one_partner(con, args.name, find_partners)
        if profile is None:
            return 1
        events = partner_history(con, profile["partner_id"])
    if args.format == "json":
        sys.stdout.write(json.dumps(events, indent=2, default=str, ensure_ascii=False) + "\n")
        return 0
    table = Table("when", "run", "", "mart", "fact", title=f"history of {profile['partner_id']}")
    for e in events:
        key = ", ".join(f"{k}={v}" for k, v in e["key"].items() if k != "partner_id")
        shown = ", ".join(
            f"{k}={v}" for k, v in e["values"].items() if k not in e["key"] and k != "partner_id"
        )
        table.add_row(
            str(e["at"])[:19],
            str(e["run"]),
            "+" if e["event"] == "opened" else "-",
            e["mart"],
            Text(f"{key}: {shown}"[:300] if key else shown[:300]),
        )
    console.print(table)
    return 0


def _cmd_profile(args: argparse.Namespace) -> int:
    from flows.report import find_partners, profile_report

    fmt = "json" if args.json else args.format
    with _connect(args) as con:
        profile = _one_partner(con, args.name, find_partners)
        if profile is None:
            return 1
        if fmt == "text":
            import io

            from rich.console import Group

            from flows.portfolio import fit_line

            report = Group(profile_report(con, profile), fit_line(con, profile["partner_id"]))
            if not args.out:
                console.print(report)
                return 0
            buffer = io.StringIO()
            Console(file=buffer, width=120).print(report)
            body = buffer.getvalue().encode("utf-8")
        else:
            from flows.dossier.render import render

            body = render(con, profile["partner_id"], fmt)
    if args.out:
        Path(args.out).write_bytes(body)
        err.print(Text(f"wrote {args.out}"))
    elif fmt == "pdf" and sys.stdout.isatty():
        err.print("a PDF is not for the terminal: use --out FILE (or redirect the output)")
        return 2
    else:
        sys.stdout.buffer.write(body)
        sys.stdout.flush()
    return 0


def _cmd_shortlist(args: argparse.Namespace) -> int:
    from flows.portfolio import shortlist, shortlist_table

    with _connect(args) as con:
        frame = shortlist(con)
    if args.format == "table":
        console.print(shortlist_table(frame))
        return 0
    if args.format == "parquet":
        if not args.out:
            err.print("--format parquet needs --out FILE")
            return 2
        import duckdb

        with duckdb.connect() as scratch:
            scratch.from_df(frame).write_parquet(args.out)
    else:
        from flows.analyst_sql import csv_cell

        text = (
            frame.map(csv_cell).to_csv(index=False)
            if args.format == "csv"
            else frame.to_json(orient="records", indent=2, force_ascii=False) + "\n"
        )
        if args.out:
            Path(args.out).write_text(text, encoding="utf-8")
        else:
            sys.stdout.write(text)
            return 0
    err.print(Text(f"wrote {args.out}"))
    return 0


def _number(value: float) -> str:
    """Large amounts in full with separators (revenue), small ones to 4 significant digits."""
    if value != value:
        return "NaN"
    return f"{value:,.0f}" if abs(value) >= 10_000 else f"{value:.4g}"


@contextmanager
def _output(path: str | None) -> Iterator[Any]:
    if not path:
        yield sys.stdout
        return
    with Path(path).open("w", encoding="utf-8", newline="") as out:
        yield out
    err.print(Text(f"wrote {path}"))


def _cmd_sql(args: argparse.Namespace) -> int:
    import duckdb

    from flows.analyst_sql import connect_analyst, run_script, write_csv

    if args.out and args.format != "csv":
        err.print("--out writes CSV: add --format csv")
        return 2
    with connect_analyst(database_path(args.db)) as con, _output(args.out) as out:
        shown = 0
        try:
            for result in run_script(con, args.query, args.limit):
                if not result.columns:
                    continue
                if args.format == "csv":
                    if shown:
                        out.write("\n")  # a blank line between result sets
                    write_csv(out, result.columns, result.rows)
                else:
                    _print_result(result, several=";" in args.query.strip().rstrip(";"))
                if result.more:
                    err.print(Text(f"(first {args.limit} rows of {result.sql!r}; use --limit)"))
                shown += 1
        except duckdb.Error as exc:
            err.print(Text(f"SQL error: {exc}"))
            return 1
    return 0


def _print_result(result: Any, several: bool) -> None:
    from flows.report import render_value

    if several:
        console.print(Text(result.sql, style="bold"))
    table = Table(*result.columns)
    for row in result.rows:
        table.add_row(
            *(render_value(v) if not isinstance(v, float) else Text(_number(v)) for v in row)
        )
    console.print(table)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="partnerdd", description=__doc__)
    parser.add_argument(
        "--config",
        help="directory with your own config files (default: $PARTNERDD_CONFIG; files it "
        "lacks come from the defaults shipped with partnerdd)",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    db_help = "DuckDB file (default: $PARTNERDD_DB or data/partnerdd.duckdb)"

    refresh = sub.add_parser("refresh", help="fetch, validate and publish all sources")
    refresh.add_argument(
        "--offline",
        action="store_true",
        help="serve the bundled recorded payloads on loopback and use them",
    )
    refresh.add_argument("--partners", help="partner registry CSV (default with --offline: demo)")
    refresh.add_argument("--db", help=db_help)
    refresh.add_argument("--reports", help="Data Docs directory (default reports/data_docs)")
    refresh.add_argument("--verbose", action="store_true", help="show Prefect's log lines")
    refresh.add_argument(
        "--full",
        action="store_true",
        help="fetch everything again: no conditional requests, no reuse of fresh answers",
    )
    refresh.add_argument(
        "--wait",
        type=float,
        default=0,
        metavar="SECONDS",
        help="when another refresh of this database is running, wait up to SECONDS for it "
        "(default 0: refuse at once, naming the running refresh)",
    )
    refresh.set_defaults(handler=_cmd_refresh)

    request = sub.add_parser(
        "request",
        help="an on-demand dossier for one company: resolve it, add it to the registry, "
        "refresh it alone, publish, write its dossier",
    )
    request.add_argument("name", help="the company's name, e.g. 'SAP SE'")
    request.add_argument("--country", required=True, help="ISO 3166 code or name, e.g. DE")
    request.add_argument("--website", help="its website (crawled like a registry website)")
    request.add_argument("--lei", help="its LEI: wins over the search (choose an ambiguous one)")
    request.add_argument("--cik", help="its SEC CIK: wins over the search")
    request.add_argument(
        "--partners",
        help="registry CSV to add it to (default: the one the database was refreshed from, "
        "else [schedule] partners)",
    )
    request.add_argument("--db", help=db_help)
    request.add_argument("--reports", help="Data Docs directory (default reports/data_docs)")
    request.add_argument("--pdf", action="store_true", help="also write the dossier as PDF")
    request.add_argument(
        "--offline", action="store_true", help="use the bundled recorded payloads (demo)"
    )
    request.add_argument(
        "--wait",
        type=float,
        default=0,
        metavar="SECONDS",
        help="when a refresh of this database is running, wait up to SECONDS for it "
        "(default 0: refuse at once, naming it)",
    )
    request.add_argument("--verbose", action="store_true", help="show Prefect's log lines")
    request.set_defaults(handler=_cmd_request)

    serve = sub.add_parser(
        "serve",
        help="serve the refresh as a Prefect deployment on its nightly schedule "
        "(config/operations.toml; needs PREFECT_API_URL)",
    )
    serve.add_argument(
        "--offline",
        action="store_true",
        help="the offline demo: the bundled registry and recorded payloads",
    )
    serve.set_defaults(handler=_cmd_serve)

    reparse = sub.add_parser(
        "reparse", help="rebuild tables from the stored payloads (no network request)"
    )
    reparse.add_argument("--source", help="parse only this source again (default: all)")
    reparse.add_argument("--db", help=db_help)
    reparse.add_argument("--reports", help="Data Docs directory (default reports/data_docs)")
    reparse.set_defaults(handler=_cmd_reparse)

    profile = sub.add_parser("profile", help="one partner's profile or dossier")
    profile.add_argument("name", help="partner id or part of its name")
    profile.add_argument("--db", help=db_help)
    profile.add_argument(
        "--format",
        choices=("text", "html", "pdf", "md", "json"),
        default="text",
        help="text: terminal report (default); html/pdf/md/json: the partner dossier",
    )
    profile.add_argument("--out", help="write to FILE instead of standard output")
    profile.add_argument("--json", action="store_true", help="same as --format json")
    profile.set_defaults(handler=_cmd_profile)

    shortlist = sub.add_parser("shortlist", help="all partners ranked by fit on the four Cs")
    shortlist.add_argument("--db", help=db_help)
    shortlist.add_argument("--format", choices=("table", "csv", "parquet", "json"), default="table")
    shortlist.add_argument("--out", help="write to FILE (required for parquet)")
    shortlist.set_defaults(handler=_cmd_shortlist)

    changes = sub.add_parser(
        "changes", help="what changed since a date or run: alerts first, then every fact"
    )
    changes.add_argument(
        "--since", help="YYYY-MM-DD or a run id (default: the run before the latest)"
    )
    changes.add_argument("--db", help=db_help)
    changes.add_argument("--format", choices=("md", "json"), default="md")
    changes.set_defaults(handler=_cmd_changes)

    history = sub.add_parser("history", help="a partner's facts over time (opened +, closed -)")
    history.add_argument("name", help="partner id or part of its name")
    history.add_argument("--db", help=db_help)
    history.add_argument("--format", choices=("table", "json"), default="table")
    history.set_defaults(handler=_cmd_history)

    sql = sub.add_parser(
        "sql",
        help="run read-only SQL against the published database (no file access; "
        "every result of a ';'-separated script is shown)",
    )
    sql.add_argument("query")
    sql.add_argument("--db", help=db_help)
    sql.add_argument("--limit", type=int, default=100, help="rows shown per statement")
    sql.add_argument(
        "--format",
        choices=("table", "csv"),
        default="table",
        help="csv: cells a spreadsheet would run as a formula get a leading '",
    )
    sql.add_argument("--out", help="write to FILE instead of standard output")
    sql.set_defaults(handler=_cmd_sql)
    return parser


def main(argv: Sequence[str] | None = None, own_process: bool = False) -> int:
    """Run a command; `own_process`: the process is this command's alone (run())."""
    args = build_parser().parse_args(argv)
    args.own_process = own_process
    if args.config:
        os.environ[CONFIG_ENV] = str(Path(args.config).expanduser().resolve())
    try:
        code: int = args.handler(args)
    except (DatabaseMissing, ConfigError, RegistryFileError, WriterBusy) as exc:
        err.print(Text(f"{type(exc).__name__}: {exc}", style="red"))
        return 2
    return code


def run() -> None:
    """The `partnerdd` command line (the console script and `python -m flows.cli`)."""
    sys.exit(main(own_process=True))


if __name__ == "__main__":
    run()
