"""The scale benchmark's synthetic partners: every partner gets its own valid identifiers and
its own parseable payloads over real loopback HTTP, through the real clients and parsers."""

from __future__ import annotations

from pathlib import Path

import requests

from benchmarks.synthetic import (
    SyntheticPartners,
    replay_server,
    source_env,
    synthetic_cik,
    synthetic_lei,
)
from connectors.config import load_settings
from connectors.gleif import ownership as gl
from connectors.gleif.client import GleifClient
from connectors.gleif.parse import parse_lei_records
from connectors.identifiers import lei_checksum_ok
from connectors.sec.client import make_sec_client
from connectors.sec.parse import parse_companyfacts, parse_submissions
from flows.registry import read_registry

N = 8  # more than the seven recorded GLEIF records: the templates wrap around


def test_registry_rows_are_valid_and_distinct(tmp_path: Path) -> None:
    partners, issues = read_registry(SyntheticPartners(N).write_registry(tmp_path / "p.csv"))
    assert issues == []
    assert len(partners) == N
    assert len({p.partner_id for p in partners}) == N
    assert len({p.lei for p in partners}) == N
    assert len({p.cik for p in partners}) == N
    assert all(p.lei and lei_checksum_ok(p.lei) for p in partners)


def test_synthetic_lei_check_digits_hold_across_the_range() -> None:
    leis = [synthetic_lei(i) for i in (0, 1, 97, 9_999, 10_000, 999_999)]
    assert all(lei_checksum_ok(lei) for lei in leis)
    assert not lei_checksum_ok(synthetic_lei(1)[:-2] + "00")


def test_each_partner_gets_its_own_parseable_payloads() -> None:
    synthetic = SyntheticPartners(N)
    rows = synthetic.registry_rows()
    with replay_server(synthetic) as server:
        env = source_env(server.base_url)
        settings = load_settings(env)
        gleif = GleifClient.from_settings(settings)
        sec = make_sec_client(settings)
        hashes: dict[str, set[str]] = {"lei": set(), "facts": set(), "submissions": set()}
        facts_per_partner = set()
        for i, row in enumerate(rows):
            record = gleif.lei_record(row["lei"])
            assert record.status == 200
            (parsed,) = parse_lei_records(record.body)
            assert parsed["lei"] == row["lei"]
            assert parsed["legal_name"] == synthetic.template(i).legal_name
            assert parsed["legal_address_country"] == row["country"]

            facts_response = sec.companyfacts(row["cik"])
            facts = parse_companyfacts(facts_response.body, facts_response.url)
            assert {f["cik"] for f in facts} == {row["cik"]}
            facts_per_partner.add(len(facts))

            submissions_response = sec.submissions(row["cik"])
            submissions = parse_submissions(submissions_response.body, submissions_response.url)
            assert submissions["company"]["cik"] == row["cik"]
            assert submissions["filings"]

            hashes["lei"].add(record.sha256)
            hashes["facts"].add(facts_response.sha256)
            hashes["submissions"].add(submissions_response.sha256)
        assert all(len(kind) == N for kind in hashes.values())
        assert len(facts_per_partner) == 1 and facts_per_partner.pop() > 1000


def test_level2_answers_carry_the_partners_lei() -> None:
    with replay_server(SyntheticPartners(2)) as server:
        settings = load_settings(source_env(server.base_url))
        gleif = GleifClient.from_settings(settings)
        lei = synthetic_lei(1)
        relationship = gl.fetch_direct_parent_relationship(gleif.session, gleif.base_url, lei)
        assert relationship.status == 404  # no parent reported: the exception answers why
        for fetch in (
            gl.fetch_direct_parent_reporting_exception,
            gl.fetch_ultimate_parent_reporting_exception,
        ):
            response = fetch(gleif.session, gleif.base_url, lei)
            (row,) = gl.parse_reporting_exception(response.body, response.url)
            assert row["child_lei"] == lei
        page = gl.fetch_children_page(gleif.session, gleif.base_url, lei, gl.first_children_page())
        assert lei.encode() in page.body
        children = gl.parse_direct_children(page.body, lei, page.url)
        assert len(children) == 2 and gl.next_page_params(page.body) is None


def test_unknown_ids_answer_404() -> None:
    with replay_server(SyntheticPartners(2)) as server:
        unknown = [
            f"/gleif/lei-records/{synthetic_lei(2)}",  # valid, beyond the registry
            "/gleif/lei-records/529900D6BF99LW9R2E68",  # a real LEI, not a synthetic one
            f"/sec/api/xbrl/companyfacts/CIK{synthetic_cik(2)}.json",
            "/sec/submissions/CIK0001640147.json",
        ]
        for path in unknown:
            assert requests.get(server.base_url + path, timeout=10).status_code == 404, path
        known = requests.get(f"{server.base_url}/worldbank/wgidataset.xlsx", timeout=10)
        assert known.status_code == 200 and known.content[:2] == b"PK"
