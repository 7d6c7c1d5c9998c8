import pytest

from connectors.config import load_settings
from connectors.gleif.client import GleifClient
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
