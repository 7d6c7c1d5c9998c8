"""Adding a requested company to the registry file or updating its line (flows/registry_file.py),
and the requested website's address check (flows/website_check.py): every other line stays
byte for byte, the same company is never added twice, a failed request restores the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.web.guard import BlockedAddress
from flows.registry import RegistryFileError, read_registry
from flows.registry_file import Requested, plan
from flows.website_check import check_website

SAP_SE = "529900D6BF99LW9R2E68"
HEADER = "partner_id,name,website,country,lei,cik"


def _write(path: Path, text: str) -> bytes:
    path.write_bytes(text.encode("utf-8"))
    return path.read_bytes()


def test_a_new_company_is_appended_and_every_other_line_kept(tmp_path: Path) -> None:
    registry = tmp_path / "partners.csv"
    before = _write(
        registry,
        f'{HEADER}\r\nacme,"Acme, Inc.",https://acme.example,US,,\r\nfraport,Fraport AG,,DEU,,',
    )
    edit = plan(registry, Requested("SAP SE", "DE", website="www.sap.com"))
    assert (edit.action, edit.partner_id, edit.line) == ("added", "sap-se", 4)
    edit.write()
    after = registry.read_bytes()
    assert after.startswith(before)  # untouched, only a line ending added before the new line
    assert after == before + b"\r\nsap-se,SAP SE,https://www.sap.com,DE,,\r\n"
    partners, issues = read_registry(registry)
    assert not issues and [p.partner_id for p in partners] == ["acme", "fraport", "sap-se"]
    edit.restore()
    assert registry.read_bytes() == before


def test_the_same_company_is_updated_not_added(tmp_path: Path) -> None:
    registry = tmp_path / "partners.csv"
    _write(registry, f"\ufeff{HEADER}\nsap,SAP SE,,DE,{SAP_SE},\nother,Other GmbH,,DE,,\n")
    by_lei = plan(registry, Requested("SAP Aktiengesellschaft", "DE", cik="1000184"), lei=SAP_SE)
    assert (by_lei.action, by_lei.partner_id, by_lei.line) == ("updated", "sap", 2)
    by_lei.write()
    text = registry.read_bytes().decode("utf-8")
    assert text == f"\ufeff{HEADER}\nsap,SAP SE,,DE,{SAP_SE},0001000184\nother,Other GmbH,,DE,,\n"
    by_name = plan(registry, Requested("Other", "DEU"))  # legal form aside, same country
    assert (by_name.action, by_name.partner_id) == ("unchanged", "other")
    resolved = plan(registry, Requested("Other Holding", "DE"), resolved_to_same={"other"})
    assert resolved.partner_id == "other"
    elsewhere = plan(registry, Requested("Other GmbH", "AT"))  # another country: another line
    assert (elsewhere.action, elsewhere.partner_id) == ("added", "other-gmbh")


def test_an_id_taken_by_another_company_gets_a_suffix(tmp_path: Path) -> None:
    registry = tmp_path / "partners.csv"
    _write(registry, f"{HEADER}\nnova,Nova,,US,,\n")
    edit = plan(registry, Requested("Nova", "FR"))
    assert (edit.action, edit.partner_id) == ("added", "nova-2")


def test_a_missing_registry_starts_from_the_seed_and_restore_removes_it(tmp_path: Path) -> None:
    seed = tmp_path / "demo.csv"
    _write(seed, f"{HEADER}\nsap,SAP SE,,DE,{SAP_SE},\n")
    registry = tmp_path / "data" / "partners.csv"
    edit = plan(registry, Requested("Toyota Motor Corporation", "JP"), seed=seed)
    edit.write()
    assert registry.read_text(encoding="utf-8").splitlines()[1:] == [
        f"sap,SAP SE,,DE,{SAP_SE},",
        "toyota-motor-corporation,Toyota Motor Corporation,,JP,,",
    ]
    edit.restore()
    assert not registry.exists() and seed.exists()


@pytest.mark.parametrize(
    ("requested", "message"),
    [
        (Requested("X", "ZZ"), "country 'ZZ'"),
        (Requested("X", "DE", lei="529900D6BF99LW9R2E69"), "lei"),
        (Requested("X", "DE", website="ftp://x.example"), "website"),
    ],
)
def test_a_bad_cell_is_refused_before_anything_is_written(
    tmp_path: Path, requested: Requested, message: str
) -> None:
    registry = tmp_path / "partners.csv"
    before = _write(registry, f"{HEADER}\nnova,Nova,,US,,\n")
    with pytest.raises(RegistryFileError, match=message):
        plan(registry, requested)
    assert registry.read_bytes() == before


def test_a_website_on_a_private_or_loopback_address_is_refused_unless_allowed() -> None:
    def resolver(host: str) -> list[str]:
        return {"intranet.example": ["10.0.0.7"], "www.sap.com": ["155.56.68.211"]}[host]

    with pytest.raises(BlockedAddress, match="10.0.0.7"):
        check_website("https://intranet.example/", "", resolver)
    with pytest.raises(BlockedAddress, match="127.0.0.1"):
        check_website("http://127.0.0.1:8080/", "", resolver)
    check_website("http://127.0.0.1:8080/", "127.0.0.1", resolver)  # allowed (tests, demo)
    check_website("https://www.sap.com/", "", resolver)

    def unresolvable(host: str) -> list[str]:
        raise OSError("no network here")

    check_website("https://www.sap.com/", "", unresolvable)  # the crawler checks again
