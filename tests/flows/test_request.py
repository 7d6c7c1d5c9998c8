"""`partnerdd request` on recorded real payloads, in-process with the real Prefect engine: a
registry without SAP is refreshed once (the offline demo's recorded answers over loopback),
then companies are requested one at a time against that database and registry.

- "SAP SE" in DE: the recorded GLEIF legal-name search for SAP SE answers SAP SE, the
  look-alike fund "SAP SE ADRHEDGED" and SAP Deutschland SE & Co. KG; the request resolves
  SAP SE's LEI, adds one registry line, publishes it with every other partner and writes its
  dossier. A second request for the same company updates that line.
- "Rio Tinto" in GB: the recorded SEC company tickers list two real filers, RIO TINTO PLC and
  RIO TINTO LTD; the candidates are listed and nothing is written.
- A name nothing answers for gets a dossier with tier "insufficient data" that says what was
  searched.
- A request whose refresh fails (an unreadable home company file) leaves the registry file
  and the published database as they were.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from connectors.config import CONFIG_ENV
from flows.cli import EXIT_AMBIGUOUS, main
from flows.offline import DEMO_PARTNERS

SAP_SE = "529900D6BF99LW9R2E68"
SAP_FUND = "254900IDOKBRQ34N6D66"  # SAP SE ADRHEDGED, a fund named after the company


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _query(db: Path, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def _registry_rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


@pytest.fixture(scope="module")
def work(prefect_harness: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    work = tmp_path_factory.mktemp("request")
    lines = DEMO_PARTNERS.read_text(encoding="utf-8").splitlines(keepends=True)
    (work / "partners.csv").write_text(
        "".join(line for line in lines if not line.startswith("sap,")), encoding="utf-8"
    )
    code = main(
        [
            "refresh", "--offline", "--partners", str(work / "partners.csv"),
            "--db", str(work / "pdd.duckdb"), "--reports", str(work / "reports" / "docs"),
        ]
    )  # fmt: skip
    assert code == 0
    yield work


def _request(work: Path, *args: str) -> int:
    return main(
        [
            "request", *args, "--offline", "--partners", str(work / "partners.csv"),
            "--db", str(work / "pdd.duckdb"), "--reports", str(work / "reports" / "docs"),
        ]
    )  # fmt: skip


def test_sap_se_resolves_past_its_look_alike_fund_and_is_published(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = work / "pdd.duckdb"
    before = {r[0] for r in _query(db, "select partner_id from marts.partner_profile")}
    apple_filings = _query(
        db, "select count(*) from marts.partner_filings where partner_id = ?", ["apple"]
    )
    assert "sap-se" not in before and len(before) == 8
    loaded = "select partner_id, loaded_at from staging.stg_registry__partners order by all"
    loaded_before = _query(db, loaded)

    assert _request(work, "SAP SE", "--country", "DE") == 0
    out = " ".join(capsys.readouterr().out.split())

    rows = _registry_rows(work / "partners.csv")
    assert len(rows) == 9
    assert rows[-1] == {
        "partner_id": "sap-se", "name": "SAP SE", "website": "", "country": "DE", "lei": "",
        "cik": "",
    }  # fmt: skip
    [(status, value, candidates)] = _query(
        db,
        "select status, value, candidates from marts.partner_identifiers "
        "where partner_id = 'sap-se' and scheme = 'lei'",
    )
    assert (status, value) == ("resolved", SAP_SE)
    ranked = {c["lei"]: c["confidence"] for c in json.loads(candidates)}
    assert ranked[SAP_FUND] < ranked[SAP_SE] == 1.0  # the fund was seen and ranked below
    after = {r[0] for r in _query(db, "select partner_id from marts.partner_profile")}
    assert after == before | {"sap-se"}  # every other partner is still published
    assert _query(
        db, "select lei, legal_name from marts.partner_profile where partner_id = 'sap-se'"
    ) == [(SAP_SE, "SAP SE")]
    assert (
        _query(db, "select count(*) from marts.partner_filings where partner_id = ?", ["apple"])
        == apple_filings
    )
    [(summary,)] = _query(db, "select summary from ops.runs order by started_at desc limit 1")
    assert json.loads(summary)["only"] == ["sap-se"]  # a refresh of that partner alone
    # the other partners' rows are as they were: only sap-se's changed, in every mart
    assert [r for r in _query(db, loaded) if r[0] != "sap-se"] == loaded_before
    tables = json.loads(summary)["tables"]
    assert (
        tables["partner_profile"]["validated"] == tables["partner_media_summary"]["validated"] == 1
    )
    statuses = {
        r[0] for r in _query(db, "select distinct partner_id from marts.partner_source_status")
    }
    assert statuses == after  # the other partners' source status is still shown

    dossier = work / "reports" / "site" / "dossier-sap-se.html"
    assert f"dossier: {dossier}" in out
    html = dossier.read_text(encoding="utf-8")
    assert SAP_SE in html and "SAP SE" in html
    assert f"LEI {SAP_SE} (resolved)" in out


def test_a_second_request_for_the_same_company_updates_its_line(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = work / "pdd.duckdb"
    code = _request(work, "SAP", "--country", "DEU", "--website", "https://www.sap.com", "--pdf")
    assert code == 0
    out = " ".join(capsys.readouterr().out.split())
    rows = _registry_rows(work / "partners.csv")
    assert [r["partner_id"] for r in rows].count("sap-se") == 1 and len(rows) == 9
    assert rows[-1]["website"] == "https://www.sap.com" and rows[-1]["name"] == "SAP SE"
    assert "updated line 10" in out
    assert _query(db, "select count(*) from marts.partner_profile where lei = ?", [SAP_SE]) == [
        (1,)
    ]
    assert _query(db, "select count(*) from marts.partner_profile") == [(9,)]
    pdf = work / "reports" / "site" / "dossier-sap-se.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")


def test_an_ambiguous_name_lists_the_candidates_and_writes_nothing(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    registry, db = work / "partners.csv", work / "pdd.duckdb"
    before = (_digest(registry), _digest(db))
    assert _request(work, "Rio Tinto", "--country", "GB") == EXIT_AMBIGUOUS
    captured = capsys.readouterr()
    out, err = " ".join(captured.out.split()), " ".join(captured.err.split())
    assert "0000863064" in out and "0000887028" in out  # RIO TINTO PLC and RIO TINTO LTD
    assert "--cik" in out and "nothing was written" in err
    assert (_digest(registry), _digest(db)) == before


def test_a_name_that_resolves_to_nothing_gets_an_insufficient_data_dossier(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = work / "pdd.duckdb"
    assert _request(work, "Nowhere Widgets GmbH", "--country", "DE") == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "tier: insufficient data" in out and "nothing identifies this company" in out
    assert _query(
        db, "select tier from marts.partner_fit where partner_id = 'nowhere-widgets-gmbh'"
    ) == [("insufficient data",)]
    html = (work / "reports" / "site" / "dossier-nowhere-widgets-gmbh.html").read_text()
    searched = html[html.index('id="searched"') : html.index('id="launch-questions"')]
    assert "Nowhere Widgets GmbH in DE" in searched  # what was asked
    assert "LEI (GLEIF legal-name search)" in searched and "SEC CIK" in searched
    assert "no LEI given in the registry or resolved" in searched  # what was not fetched
    assert "to ask" in html[html.index('id="launch-questions"') :]


def test_a_failed_request_leaves_the_registry_and_the_published_database(
    work: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    registry, db = work / "partners.csv", work / "pdd.duckdb"
    before = (_digest(registry), _digest(db))
    (tmp_path / "home.toml").write_text("[company\nbroken", encoding="utf-8")
    monkeypatch.setenv(CONFIG_ENV, str(tmp_path))  # the refresh fails reading it
    assert _request(work, "Fraport Hub GmbH", "--country", "DE") == 2
    assert "cannot read home company file" in " ".join(capsys.readouterr().err.split())
    assert (_digest(registry), _digest(db)) == before


def test_the_bundled_demo_registry_is_never_edited(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _digest(DEMO_PARTNERS)
    code = main(
        [
            "request", "Nowhere Widgets GmbH", "--country", "DE", "--offline",
            "--partners", str(DEMO_PARTNERS), "--db", str(work / "pdd.duckdb"),
        ]
    )  # fmt: skip
    assert code == 2 and "never edits" in " ".join(capsys.readouterr().err.split())
    assert _digest(DEMO_PARTNERS) == before
