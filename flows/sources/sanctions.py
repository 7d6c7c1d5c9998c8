"""Sanctions lists as whole datasets: OFAC SDN (sdn/alt/add CSV) and the UN SC consolidated XML,
each with its publication date. Screening happens in the marts (marts.partner_sanctions_hits).
"""

from __future__ import annotations

from typing import Any

import requests
from prefect import task
from prefect.cache_policies import NO_CACHE

from connectors.config import Settings
from connectors.http import make_session
from connectors.sanctions import parse as sp
from connectors.sanctions.settings import LIST_KEYS, SOURCE, sanctions_settings
from flows.progress import report
from flows.registry import Partner
from flows.sources.base import Batch, Extracted, Parsed, SourceSpec, Stored

OFAC_KEYS = ("ofac_sdn", "ofac_alt", "ofac_add")


@task(name="extract-sanctions", cache_policy=NO_CACHE)
def extract(partners: list[Partner], settings: Settings, out: Extracted) -> None:
    config = sanctions_settings(settings)
    session = make_session(SOURCE, settings)
    report(SOURCE, total=len(LIST_KEYS))
    for key in LIST_KEYS:
        url = config.urls[key]
        try:
            out.record_response(None, session.fetch(url), kind=key)
        except requests.RequestException as exc:
            out.record_exception(None, url, exc, kind=key)
        report(SOURCE, advance=1)


def _rows(
    entries: list[dict[str, Any]], names: list[dict[str, Any]], sha: dict[str, str], at: Any
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    entry_rows = [
        {
            **{k: "; ".join(v) if isinstance(v, list) else v for k, v in e.items()},
            "payload_sha256": e["sha256"],
            "fetched_at": at,
        }
        for e in entries
    ]
    for row in entry_rows:
        del row["sha256"]
    name_rows = [{**n, "payload_sha256": sha.get(n["source_url"]), "fetched_at": at} for n in names]
    return entry_rows, name_rows


def _parse_ofac(parsed: Parsed, files: dict[str, Stored], configured: str | None) -> None:
    missing = [k for k in OFAC_KEYS if k not in files or not files[k].ok]
    sdn = files.get("ofac_sdn")
    if missing:
        if sdn is not None:
            parsed.problem(
                SOURCE, None, sdn, f"OFAC not loaded: {missing} missing (kept the previous load)"
            )
        return
    alt, add = files["ofac_alt"], files["ofac_add"]
    published, basis = sp.ofac_list_published(files["ofac_sdn"], configured)
    try:
        entries, names = sp.parse_ofac(
            files["ofac_sdn"].body,
            alt.body,
            add.body,
            sdn_url=files["ofac_sdn"].url,
            alt_url=alt.url,
            add_url=add.url,
            list_published=published,
        )
    except sp.SanctionsFormatError as exc:
        parsed.problem(SOURCE, None, files["ofac_sdn"], str(exc))
        return
    sha = {r.url: r.sha256 for r in (files["ofac_sdn"], alt, add)}
    entry_rows, name_rows = _rows(entries, names, sha, files["ofac_sdn"].fetched_at)
    for row in entry_rows:
        row["list_published_basis"] = basis
    parsed.add("raw.sanctions__entries", entry_rows)
    parsed.add("raw.sanctions__names", name_rows)


def _parse_un(parsed: Parsed, response: Stored | None) -> None:
    if response is None or not response.ok:
        return
    try:
        entries, names = sp.parse_un_consolidated(response.body, response.url)
    except sp.SanctionsFormatError as exc:
        parsed.problem(SOURCE, None, response, str(exc))
        return
    entry_rows, name_rows = _rows(
        entries, names, {response.url: response.sha256}, response.fetched_at
    )
    for row in entry_rows:
        row["list_published_basis"] = "dateGenerated"
    parsed.add("raw.sanctions__entries", entry_rows)
    parsed.add("raw.sanctions__names", name_rows)


def parse(batch: Batch) -> Parsed:
    parsed = Parsed()
    files = {r.kind: r for r in batch.responses}  # list key -> its answer of this run
    if not files:
        return parsed
    _parse_ofac(parsed, files, sanctions_settings(batch.settings).ofac_published)
    _parse_un(parsed, files.get("un_sc"))
    return parsed


def offline(base_url: str) -> dict[str, str]:
    return {
        "PARTNERDD_SANCTIONS_OFAC_SDN_URL": f"{base_url}/sanctions/ofac/sdn.csv",
        "PARTNERDD_SANCTIONS_OFAC_ALT_URL": f"{base_url}/sanctions/ofac/alt.csv",
        "PARTNERDD_SANCTIONS_OFAC_ADD_URL": f"{base_url}/sanctions/ofac/add.csv",
        "PARTNERDD_SANCTIONS_UN_SC_URL": f"{base_url}/sanctions/un/consolidated.xml",
        # OFAC's CSVs carry no date; the snapshot's files are from the upstream commit of
        # about 2021-04 (demo/snapshot/sanctions/PROVENANCE.md).
        "PARTNERDD_SANCTIONS_OFAC_PUBLISHED": "2021-04-01",
    }


SPEC = SourceSpec(
    name=SOURCE,
    extract=extract,
    parse=parse,
    landing={"raw.sanctions__entries": "list_name", "raw.sanctions__names": "list_name"},
    kinds=LIST_KEYS,
    offline=offline,
    per_partner=False,
)
