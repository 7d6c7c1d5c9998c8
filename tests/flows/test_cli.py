"""The partnerdd command line on a real refreshed database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flows.cli import main
from flows.offline import DEMO_PARTNERS
from tests.conftest import DEMO_DB, copy_state


@pytest.fixture(scope="module")
def cli_db(
    prefect_harness: None, demo_state: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Path]:
    """`partnerdd refresh --offline` of the demo registry plus a partner whose name carries
    markup, run on a copy of the session's demo refresh (so only that partner is new)."""
    work = copy_state(demo_state, tmp_path_factory.mktemp("cli"))
    registry = work / "partners.csv"
    registry.write_text(
        DEMO_PARTNERS.read_text(encoding="utf-8")
        + "evil,[bold red]Evil[/] Corp <script>alert(1)</script>,,DE,,\n",
        encoding="utf-8",
    )
    db = work / DEMO_DB
    code = main(
        [
            "refresh",
            "--offline",
            "--partners",
            str(registry),
            "--db",
            str(db),
            "--reports",
            str(work / "docs"),
        ]
    )
    assert code == 0
    yield db


def test_sql_prints_rows(cli_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "sql",
            "select partner_id, legal_name from marts.partner_profile where partner_id = 'sap'",
            "--db",
            str(cli_db),
            "--format",
            "csv",
        ]
    )
    assert code == 0
    assert capsys.readouterr().out.splitlines() == ["partner_id,legal_name", "sap,SAP SE"]


def test_sql_is_read_only(cli_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["sql", "delete from marts.partner_profile", "--db", str(cli_db)])
    assert code == 1
    assert "read-only" in capsys.readouterr().err
    main(
        [
            "sql",
            "select count(*) as n from marts.partner_profile",
            "--db",
            str(cli_db),
            "--format",
            "csv",
        ]
    )
    assert capsys.readouterr().out.splitlines()[1] == "10"


def test_profile_shows_partner_and_escapes_registry_text(
    cli_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["profile", "nfa-international", "--db", str(cli_db)]) == 0
    out = capsys.readouterr().out
    assert "NFA INTERNATIONAL" in out and "LAPSED" in out and "rule of law" in out
    assert main(["profile", "evil", "--db", str(cli_db)]) == 0
    out = capsys.readouterr().out
    assert "[bold red]Evil[/] Corp <script>alert(1)</script>" in out


def test_ambiguous_and_unknown_names_are_refused(
    cli_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["profile", "SE", "--db", str(cli_db)]) == 1  # SAP SE, Fraport (…Services…)
    assert "matches several partners" in capsys.readouterr().err
    assert main(["profile", "no such partner", "--db", str(cli_db)]) == 1


def test_missing_database_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sql", "select 1", "--db", str(tmp_path / "none.duckdb")]) == 2
    assert "run `partnerdd refresh` first" in capsys.readouterr().err


def test_refresh_without_registry_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["refresh"]) == 2
    assert "--partners" in capsys.readouterr().err


def test_live_refresh_without_sec_contact_fails_before_any_fetch(
    prefect_harness: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from flows.offline import offline_sources

    registry = tmp_path / "partners.csv"
    registry.write_text("name,country\nSAP SE,DE\n", encoding="utf-8")  # no website: no crawl
    monkeypatch.delenv("PARTNERDD_SEC_CONTACT", raising=False)
    with offline_sources() as overrides:  # every URL on loopback, should anything slip through
        for name, value in overrides.items():
            if name not in ("PARTNERDD_OFFLINE", "PARTNERDD_SEC_CONTACT"):
                monkeypatch.setenv(name, value)
        code = main(["refresh", "--partners", str(registry), "--db", str(tmp_path / "x.duckdb")])
    assert code == 2
    assert "PARTNERDD_SEC_CONTACT is required" in capsys.readouterr().err
    assert not (tmp_path / "x.duckdb").exists()
