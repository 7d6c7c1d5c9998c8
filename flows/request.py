"""An on-demand dossier for one company (`partnerdd request`, the Prefect deployment
`partnerdd-request/on-demand`).

1. The company is checked like a registry line and searched with the refresh's own entity
   resolution (flows/identify.py); an ambiguous answer ends here with its candidates, and
   nothing is written.
2. The writer lock of the database is taken (waiting `wait_seconds`, or refused at once),
   so a request never runs beside a refresh. Under it the registry file gets the company's
   line (or its line is updated: the same company is never added twice,
   flows/registry_file.py) and the refresh flow runs for that one partner
   (`refresh(only=[id])`): its own sources are fetched, whole-dataset sources (sanctions,
   country indices) come from the store unless older than their max age, and the database
   is published with every partner.
3. A failed refresh (nothing published) or an error puts the registry file back as it was.
4. The partner's dossier (HTML; PDF on request) is written beside the portfolio site and
   attached to the flow run as a markdown artifact. A company that resolves to nothing
   still gets one: what was searched, what was not found, the launch questions, and the
   tier "insufficient data".
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger

from connectors.config import load_settings
from connectors.web.guard import BlockedAddress
from flows.db import connect_readonly, database_path, records, table_exists, writer_lock
from flows.identify import Identity, identify_one
from flows.progress import report
from flows.registry_file import Requested, check, plan
from flows.website_check import check_website

FLOW_NAME = "partnerdd-request"


class RequestRefused(ValueError):
    """The request cannot go ahead as given (a bad cell, a blocked website); nothing written."""


def _resolved_to(db_path: Path, lei: str | None, cik: str | None) -> set[str]:
    """Partner ids the published database resolved to this LEI or CIK."""
    if not db_path.exists() or not (lei or cik):
        return set()
    with connect_readonly(db_path) as con:
        if not table_exists(con, "marts.partner_identifiers"):
            return set()
        rows = con.execute(
            "select distinct partner_id from marts.partner_identifiers "
            "where status in ('given', 'resolved') and ("
            "(scheme = 'lei' and value = ?) or (scheme = 'cik' and value = ?))",
            [lei or "", cik or ""],
        ).fetchall()
    return {str(r[0]) for r in rows}


def default_registry(db_path: Path) -> tuple[Path, Path | None]:
    """(registry file, seed) when none is given: the registry the published database was
    last refreshed from, unless that is the bundled demo registry (never edited); else
    `[schedule] partners`, which starts as a copy of the demo registry when the published
    database came from the demo and the file does not exist yet."""
    from flows.offline import DEMO_PARTNERS
    from flows.operations import load_operations

    scheduled = load_operations().schedule.partners.resolve()
    last = None
    if db_path.exists():
        with connect_readonly(db_path) as con:
            if table_exists(con, "raw.partners"):
                row = con.execute(
                    "select registry_path from raw.partners order by loaded_at desc limit 1"
                ).fetchone()
                last = Path(row[0]) if row and row[0] else None
    demo = DEMO_PARTNERS.resolve()
    if last is not None and last.resolve() != demo and last.exists():
        return last, None
    return scheduled, demo if last is not None and last.resolve() == demo else None


def _published_identity(db_path: Path, partner_id: str) -> dict[str, dict[str, Any]]:
    """The partner's identifiers as the refresh found them (scheme -> status, value, reason,
    candidates), in the shape of Identity.as_json."""
    from flows.dossier.searched import candidates, reason

    with connect_readonly(db_path) as con:
        rows = records(
            con,
            "select scheme, status, value, evidence, candidates from marts.partner_identifiers "
            "where partner_id = ? order by scheme",
            [partner_id],
        )
    return {
        r["scheme"]: {
            "status": r["status"],
            "value": r["value"] if r["status"] in ("given", "resolved") else None,
            "reason": reason(r["evidence"]),
            "candidates": candidates(r["candidates"]),
        }
        for r in rows
    }


def _fit(db_path: Path, partner_id: str) -> dict[str, Any]:
    with connect_readonly(db_path) as con:
        if not table_exists(con, "marts.partner_fit"):
            return {}
        found = records(
            con,
            "select tier, tier_reason, overall_score, coverage from marts.partner_fit "
            "where partner_id = ?",
            [partner_id],
        )
    return found[0] if found else {}


def _write_dossier(db_path: Path, site_dir: Path, partner_id: str, pdf: bool) -> dict[str, str]:
    """The partner's dossier beside the portfolio site (the same page the site links to),
    and its PDF when asked."""
    from flows.dossier.data import dossier_data
    from flows.dossier.render import html_to_pdf, render_html
    from flows.portfolio import dossier_filename

    site_dir.mkdir(parents=True, exist_ok=True)
    html_path = site_dir / dossier_filename(partner_id)
    with connect_readonly(db_path) as con:
        html = render_html(dossier_data(con, partner_id))
    html_path.write_text(html, encoding="utf-8")
    written = {"html": str(html_path)}
    if pdf:
        pdf_path = html_path.with_suffix(".pdf")
        pdf_path.write_bytes(html_to_pdf(html))
        written["pdf"] = str(pdf_path)
    return written


def _ambiguous_markdown(identity: Identity) -> str:
    lines = [f"# Request for {identity.partner.name!r}: ambiguous, nothing written", ""]
    for scheme in identity.ambiguous:
        lines += [f"## {scheme.upper()}: {identity.reason(scheme)}", ""]
        for c in identity.candidates(scheme):
            lines.append(
                f"- `{c.get(scheme)}` {c.get('legal_name') or c.get('title')} "
                f"(confidence {c.get('confidence')})"
            )
        lines += ["", f"Choose one and request again with `{scheme}` set."]
    return "\n".join(lines) + "\n"


def _dossier_markdown(result: Mapping[str, Any]) -> str:
    fit = result.get("fit") or {}
    lines = [
        f"# Dossier: {result['name']} ({result['country']})",
        "",
        f"- partner id `{result['partner_id']}`, registry line {result['registry_line']} "
        f"({result['registry_action']}) in `{result['registry']}`",
        f"- LEI: {result['identity'].get('lei', {}).get('value') or 'not found'}; "
        f"CIK: {result['identity'].get('cik', {}).get('value') or 'not found'}",
        f"- tier: **{fit.get('tier') or 'unknown'}** — {fit.get('tier_reason') or ''}",
        f"- refresh run `{result['run_id']}`: {result['status']}",
        f"- dossier: `{result['dossier']['html']}`",
    ]
    if "pdf" in result["dossier"]:
        lines.append(f"- PDF: `{result['dossier']['pdf']}`")
    lines += [f"- partial: {line}" for line in result.get("partial", [])]
    return "\n".join(lines) + "\n"


@flow(name=FLOW_NAME, log_prints=True)
def request_partner(
    name: str,
    country: str,
    website: str | None = None,
    lei: str | None = None,
    cik: str | None = None,
    partners: str | None = None,
    database: str | None = None,
    reports: str | None = None,
    pdf: bool = False,
    wait_seconds: float = 0,
    offline: bool = False,
) -> dict[str, Any]:
    """A dossier for one company, added to (or updated in) the registry `partners` (default:
    `default_registry`) and refreshed alone into `database`. Returns a summary whose
    `status` is the refresh's (`ok`, `ok_with_warnings`, `partial`, `failed`) or
    `ambiguous` (candidates listed, nothing written). `offline`: the bundled recorded
    payloads (demo). Source settings come from the environment only, never from a
    parameter (a UI user cannot point a source elsewhere or widen the address guard)."""
    from flows.offline import DEMO_PARTNERS, offline_sources

    served = offline_sources() if offline else nullcontext(None)
    db_path = database_path(database)
    if partners:
        registry, seed = Path(partners).expanduser().resolve(), None
    else:
        registry, seed = default_registry(db_path)
    if registry == DEMO_PARTNERS.resolve():
        raise RequestRefused(
            f"{registry} is the bundled demo registry, which a request never edits: pass "
            "--partners FILE (a copy of it, or your own registry)"
        )
    with served as given:
        result = _request(
            Requested(name.strip(), country.strip(), website, lei, cik),
            (registry, seed),
            db_path,
            reports,
            pdf,
            wait_seconds,
            given,
        )
    from prefect.runtime import deployment

    if deployment.id and result["status"] in ("ambiguous", "failed"):  # the UI shows Failed
        raise RuntimeError(
            f"request for {name!r}: {result['status']}, nothing written "
            "(see the partnerdd-request artifact)"
        )
    return result


def _request(
    requested: Requested,
    registry_and_seed: tuple[Path, Path | None],
    db_path: Path,
    reports: str | None,
    pdf: bool,
    wait_seconds: float,
    overrides: dict[str, str] | None,
) -> dict[str, Any]:
    from prefect.artifacts import create_markdown_artifact

    from flows.refresh import DEFAULT_REPORTS, refresh

    logger = get_run_logger()
    started = time.perf_counter()
    registry, seed = registry_and_seed
    env = {**os.environ, **(overrides or {})}
    settings = load_settings(env)
    try:
        wanted = check(requested)
        if wanted.website:
            check_website(wanted.website, str(settings.http.get("allow_hosts") or ""))
    except (ValueError, BlockedAddress) as exc:
        raise RequestRefused(f"request for {requested.name!r}: {exc}; nothing written") from exc
    report("resolve", total=1)
    identity = identify_one(wanted, settings)
    report("resolve", advance=1)
    timings = {"resolve": time.perf_counter() - started}
    if identity.ambiguous:
        markdown = _ambiguous_markdown(identity)
        create_markdown_artifact(key="partnerdd-request", markdown=markdown)
        logger.warning("ambiguous: %s", "; ".join(identity.reason(s) for s in identity.ambiguous))
        return {
            "status": "ambiguous",
            "name": requested.name,
            "identity": identity.as_json(),
            "asked": identity.asked,
        }
    docs = Path(reports).resolve() if reports else DEFAULT_REPORTS
    holder = f"request {requested.name!r}"
    clock = time.perf_counter()
    with writer_lock(
        db_path, wait=wait_seconds, holder=holder, notify=logger.warning, reentrant=True
    ):
        timings["lock_wait"] = time.perf_counter() - clock
        clock = time.perf_counter()
        found_lei, found_cik = identity.value("lei"), identity.value("cik")
        edit = plan(
            registry, requested, lei=found_lei, cik=found_cik,
            resolved_to_same=_resolved_to(db_path, found_lei, found_cik), seed=seed,
        )  # fmt: skip
        logger.info("registry %s: %s line %d: %s", registry, edit.action, edit.line, edit.text)
        edit.write()
        try:
            summary = refresh(
                str(registry), str(db_path), overrides, str(docs), only=[edit.partner_id]
            )
        except BaseException:
            edit.restore()
            raise
        if summary["status"] == "failed":
            edit.restore()
            return {**summary, "name": requested.name, "identity": identity.as_json()}
        timings["refresh"] = time.perf_counter() - clock
    report("dossier", total=1)
    clock = time.perf_counter()
    dossier = _write_dossier(db_path, docs.parent / "site", edit.partner_id, pdf)
    report("dossier", advance=1)
    timings["dossier"] = time.perf_counter() - clock
    timings["total"] = time.perf_counter() - started
    found = _published_identity(db_path, edit.partner_id) or identity.as_json()
    result = {
        **summary,
        "name": requested.name,
        "country": wanted.country_iso3,
        "partner_id": edit.partner_id,
        "registry": str(registry),
        "registry_line": edit.line,
        "registry_action": edit.action,
        "registry_text": edit.text,
        "identity": found,
        "found_nothing": all(row["value"] is None for row in found.values()),
        "fit": _fit(db_path, edit.partner_id),
        "dossier": dossier,
        "request_timings": {k: round(v, 2) for k, v in timings.items()},
    }
    create_markdown_artifact(key="partnerdd-request", markdown=_dossier_markdown(result))
    return result
