import json
from pathlib import Path

import pytest

from connectors.config import load_settings
from connectors.gleif.client import GleifClient
from connectors.gleif.ownership import parse_other_names
from connectors.gleif.parse import GleifPayloadError, parse_lei_records
from connectors.http import make_session
from connectors.replay import ReplayServer, Route
from tests.conftest import fixture_bytes


def test_parse_single_record_sap() -> None:
    (row,) = parse_lei_records(
        fixture_bytes("gleif", "single_lei_record_529900D6BF99LW9R2E68.json")
    )
    assert row["lei"] == "529900D6BF99LW9R2E68"
    assert row["legal_name"] == "SAP SE"
    assert row["legal_form_id"] == "SGST"
    assert row["jurisdiction"] == "DE"
    assert row["legal_address_city"] == "Walldorf"
    assert row["legal_address_region"] == "DE-BW"
    assert row["legal_address_lines"] == "Dietmar-Hopp-Allee 16"
    assert row["registration_status"] == "ISSUED"
    assert row["next_renewal_date"] == "2027-01-26T23:00:00Z"
    assert row["golden_copy_publish_date"] == "2026-06-26T00:00:00Z"


def test_parse_lapsed_record() -> None:
    (row,) = parse_lei_records(
        fixture_bytes("gleif", "single_lei_record_335800CCCPHKUOXPC332.json")
    )
    assert row["legal_name"] == "NFA INTERNATIONAL"
    assert row["registration_status"] == "LAPSED"
    assert row["legal_address_country"] == "IN"


def test_parse_multi_record_list() -> None:
    rows = parse_lei_records(fixture_bytes("gleif", "multi_lei_records.json"))
    assert len(rows) == 12
    names = {r["lei"]: r["legal_name"] for r in rows}
    assert names["851WYGNLUQLFZBSYGB56"] == "COMMERZBANK Aktiengesellschaft"
    assert names["INR2EJN1ERAN0W5ZP974"] == "MICROSOFT CORPORATION"


def test_empty_list_gives_no_rows() -> None:
    assert (
        parse_lei_records(fixture_bytes("gleif", "direct-children_254900LNRYNOQ9YPU758_empty.json"))
        == []
    )


@pytest.mark.parametrize("body", [b"<html>gateway error</html>", b"{}", b'{"data": {"type": "x"}}'])
def test_bad_payloads_raise_a_clear_error(body: bytes) -> None:
    with pytest.raises(GleifPayloadError):
        parse_lei_records(body)


def test_client_fetches_over_loopback_with_user_agent() -> None:
    body = fixture_bytes("gleif", "single_lei_record_529900D6BF99LW9R2E68.json")
    route = Route(
        path="/api/v1/lei-records/529900D6BF99LW9R2E68",
        body=body,
        content_type="application/vnd.api+json",
    )
    with ReplayServer(routes=[route]) as server:
        settings = load_settings({"PARTNERDD_GLEIF_URL": server.base_url + "/api/v1"})
        client = GleifClient(make_session("gleif", settings), settings.source_url("gleif"))
        response = client.lei_record("529900D6BF99LW9R2E68")
        missing = client.lei_record("54930043XZGB27CTOV49")
    assert response.ok and response.body == body
    assert response.sha256 == __import__("hashlib").sha256(body).hexdigest()
    assert missing.status == 404
    assert server.requests[0]["headers"]["User-Agent"].startswith("partnerdd/")


# Toyota: a real compound document (eckberg/whichlei's recording of
# /lei-records/5493006W3QUS5LMH6R84?include=direct-parent,ultimate-parent; the file wraps the
# answer as {url, status, contentType, recorded, body}; see tests/fixtures/gleif/PROVENANCE.md)
TOYOTA_LEI = "5493006W3QUS5LMH6R84"


def _whichlei_body(name: str) -> bytes:
    recording = json.loads(fixture_bytes("gleif", name))
    assert recording["status"] == 200
    return json.dumps(recording["body"], ensure_ascii=False).encode("utf-8")


def test_toyota_compound_document_gives_the_japanese_legal_name_and_addresses() -> None:
    body = _whichlei_body(f"whichlei_record-toyota_{TOYOTA_LEI}.json")
    (row,) = parse_lei_records(body)  # `included` (2 reporting exceptions) is not a record
    assert row["lei"] == TOYOTA_LEI
    assert row["legal_name"] == "トヨタ自動車株式会社"
    assert row["legal_name_language"] == "ja"
    assert row["legal_form_id"] == "T417"
    assert row["jurisdiction"] == "JP"
    assert row["entity_status"] == "ACTIVE"
    assert row["legal_address_lines"] == "トヨタ町1番地"
    assert row["legal_address_city"] == "愛知県 豊田市"
    assert row["legal_address_region"] is None  # null in the record: unknown, not invented
    assert row["legal_address_country"] == "JP"
    assert row["legal_address_postal_code"] == "471-8571"
    assert row["hq_address_city"] == "愛知県 豊田市"
    assert row["registration_status"] == "ISSUED"
    assert row["next_renewal_date"] == "2026-11-13T00:00:00Z"
    assert row["managing_lou"] == "353800279ADEFGKNTV65"
    assert row["golden_copy_publish_date"] == "2026-09-30T08:00:00Z"


def test_toyota_english_name_is_an_other_name_not_the_legal_name() -> None:
    body = _whichlei_body(f"whichlei_record-toyota_{TOYOTA_LEI}.json")
    names = parse_other_names(body, "https://api.gleif.org/api/v1/lei-records/" + TOYOTA_LEI)
    assert [(n["name"], n["name_type"], n["language"]) for n in names] == [
        ("Toyota Motor Corporation", "ALTERNATIVE_LANGUAGE_LEGAL_NAME", "en")
    ]


def test_toyota_bic_lookup_list_gives_the_same_record() -> None:
    recording = json.loads(fixture_bytes("gleif", "whichlei_lookup-bic_TOMCJP22XXX_toyota.json"))
    assert recording["body"]["meta"]["pagination"]["total"] == 1
    (row,) = parse_lei_records(_whichlei_body("whichlei_lookup-bic_TOMCJP22XXX_toyota.json"))
    assert (row["lei"], row["legal_name"]) == (TOYOTA_LEI, "トヨタ自動車株式会社")


def test_demo_snapshot_serves_the_body_of_the_toyota_recording() -> None:
    """demo/snapshot holds the recording's `body` member, re-serialized (provenance there)."""
    served = (
        Path(__file__).resolve().parents[2]
        / "demo/snapshot/gleif"
        / f"single_lei_record_{TOYOTA_LEI}.json"
    ).read_bytes()
    recording = json.loads(fixture_bytes("gleif", f"whichlei_record-toyota_{TOYOTA_LEI}.json"))
    assert json.loads(served) == recording["body"]
