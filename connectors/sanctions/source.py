"""Sanctions lists as whole datasets: OFAC SDN (sdn/alt/add CSV) and the UN SC consolidated XML,
each with its publication date. Screening happens in the marts (marts.partner_sanctions_hits).
"""

from __future__ import annotations

from typing import Any

import requests

from connectors.config import Settings
from connectors.http import make_session
from connectors.sanctions import parse as sp
from connectors.sanctions.settings import LIST_KEYS, SOURCE, sanctions_settings
from connectors.source import Batch, Extracted, Parsed, Partner, SourceSpec, Stored

OFAC_KEYS = ("ofac_sdn", "ofac_alt", "ofac_add")


def extract(partners: list[Partner], settings: Settings, out: Extracted) -> None:
    config = sanctions_settings(settings)
    session = make_session(SOURCE, settings)
    out.report(total=len(LIST_KEYS))
    for key in LIST_KEYS:
        url = config.urls[key]
        try:
            out.record_response(None, session.fetch(url), kind=key)
        except requests.RequestException as exc:
            out.record_exception(None, url, exc, kind=key)
        out.report(advance=1)


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
    config={
        SOURCE: {
            "rate_per_second": 1.0,
            "max_age_hours": 0,  # revalidated or fetched again every run
            # The legacy treasury.gov download URLs redirect to
            # sanctionslistservice.ofac.treas.gov; redirects are followed.
            "ofac_sdn_url": "https://www.treasury.gov/ofac/downloads/sdn.csv",
            "ofac_alt_url": "https://www.treasury.gov/ofac/downloads/alt.csv",
            "ofac_add_url": "https://www.treasury.gov/ofac/downloads/add.csv",
            "un_sc_url": "https://scsanctions.un.org/resources/xml/en/consolidated.xml",
            # OFAC's CSV files carry no publication date. Pin one here (YYYY-MM-DD) when
            # loading a saved snapshot; when empty, the Last-Modified header of the sdn.csv
            # response is used, and failing that the fetch date. The entries'
            # list_published records which value was used.
            "ofac_published": "",
            # Screening: minimum score (0..100, rapidfuzz token_sort_ratio on
            # connectors.names.normalise_name) for a hit. Chosen from
            # tests/connectors/test_sanctions.py on the real fixtures (OFAC 2021 subset + UN
            # 2018 list, 5,415 names): word-order swaps and legal-form suffixes score 100; the
            # highest score of a clean real company name is 88.9 ("Al Rajhi Bank" vs the
            # UN-listed "Al-Rashid Bank"), so 90 keeps that out while still catching about
            # 80 % of aliases with a single deleted character. Hits are for human review,
            # never an automatic verdict.
            "threshold": 90.0,
            # Weak aliases (OFAC "weak aka", UN QUALITY "Low") are screened too and reported
            # with name_type "weak"; false leaves them out.
            "include_weak": True,
        }
    },
    offline=offline,
    per_partner=False,
)
