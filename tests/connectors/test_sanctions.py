"""OFAC SDN / UN consolidated list parsing and name screening on real list files."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from anyascii import anyascii

from connectors.config import ConfigError, load_settings
from connectors.http import RawResponse, make_session
from connectors.names import normalise_name
from connectors.replay import ReplayServer, Route
from connectors.sanctions.parse import (
    SDN_FIELDS,
    SanctionsFormatError,
    ofac_list_published,
    parse_ofac,
    parse_ofac_addresses,
    parse_un_consolidated,
    read_ofac_csv,
)
from connectors.sanctions.screen import (
    NORMALISATIONS,
    NamesIndex,
    build_names_index,
    normalise_with,
    screen,
)
from connectors.sanctions.settings import sanctions_settings

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "sanctions"
SDN = (FIXTURES / "ofac_sdn_subset_2021.csv").read_bytes()
ALT = (FIXTURES / "ofac_alt_subset_2021.csv").read_bytes()
ADD = (FIXTURES / "ofac_add_subset_2021.csv").read_bytes()
UN = (FIXTURES / "un_sc_consolidated_20181029.xml").read_bytes()
THRESHOLD = sanctions_settings(load_settings(env={})).threshold
Parsed = tuple[list[dict[str, Any]], list[dict[str, Any]]]


@pytest.fixture(scope="module")
def ofac() -> Parsed:
    return parse_ofac(
        SDN,
        ALT,
        ADD,
        sdn_url="sdn.csv",
        alt_url="alt.csv",
        add_url="add.csv",
        list_published="2021-04-01",
    )


@pytest.fixture(scope="module")
def un() -> Parsed:
    return parse_un_consolidated(UN, "consolidated.xml")


@pytest.fixture(scope="module")
def index(ofac: Parsed, un: Parsed) -> NamesIndex:
    return build_names_index(ofac[1] + un[1])


# ------------------------------------------------------------------ OFAC parsing


def test_ofac_sdn_rows_nulls_programs_and_eof(ofac: Parsed) -> None:
    entries, names = ofac
    assert len(entries) == 548  # every sdn.csv row; the trailing \x1a line is not a row
    by_id = {e["entry_id"]: e for e in entries}
    bnc = by_id["306"]
    assert bnc["primary_name"] == "BANCO NACIONAL DE CUBA"
    assert bnc["entity_type"] == "entity"  # SDN_Type "-0- " is null -> entity
    assert bnc["programs"] == ["CUBA"]
    assert bnc["remarks"] == "a.k.a. 'BNC'."
    assert bnc["countries"] == ["Switzerland", "Spain", "Japan", "Panama"]
    assert bnc["country_codes"] == ["CHE", "ESP", "JPN", "PAN"]
    assert bnc["list_published"] == "2021-04-01"
    assert bnc["source_url"] == "sdn.csv" and len(bnc["sha256"]) == 64
    assert by_id["1572"]["entity_type"] == "individual"
    assert by_id["1572"]["primary_name"] == "NORIEGA, Manuel Antonio"
    multi = [e for e in entries if len(e["programs"]) > 2]
    assert ["IRAN", "SDGT", "IRGC", "IFSR"] in [e["programs"] for e in multi]
    assert {e["entity_type"] for e in entries} == {"individual", "entity", "vessel", "aircraft"}
    assert all(e["remarks"] != "-0-" for e in entries)


def test_ofac_names_primary_aka_fka(ofac: Parsed) -> None:
    _, names = ofac
    assert len(names) == 548 + 700
    kala = [n for n in names if n["entry_id"] == "12032"]
    assert ("MSP KALA NAFT CO. TEHRAN", "primary") in [(n["name"], n["name_type"]) for n in kala]
    assert ("KALA NAFT COMPANY LTD", "aka") in [(n["name"], n["name_type"]) for n in kala]
    fka = [n for n in names if n["name_type"] == "fka"]
    assert len(fka) == 20
    assert {
        "list_name": "OFAC_SDN",
        "entry_id": "4642",
        "name_type": "fka",
        "name": "IRAN OVERSEAS INVESTMENT BANK LIMITED",
        "source_url": "alt.csv",
    } in fka


def test_ofac_addresses_keep_every_row() -> None:
    rows = parse_ofac_addresses(ADD, "add.csv")
    assert len(rows) == 1060
    assert rows[0] == {
        "list_name": "OFAC_SDN",
        "entry_id": "36",
        "address_id": "25",
        "address": None,
        "city_state": "Havana",
        "country": "Cuba",
        "remarks": None,
        "source_url": "add.csv",
    }


def test_ofac_bad_rows_raise_with_line_number() -> None:
    broken = SDN.replace(b'306,"BANCO NACIONAL DE CUBA",-0- ,', b'306,"BANCO NACIONAL DE CUBA",', 1)
    with pytest.raises(SanctionsFormatError, match="sdn.csv line 3: expected 12 columns, got 11"):
        read_ofac_csv(broken, SDN_FIELDS, "sdn.csv")
    with pytest.raises(SanctionsFormatError, match="ent_num"):
        read_ofac_csv(
            b'X1,"NAME",-0- ,"CUBA",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \r\n',
            SDN_FIELDS,
            "sdn.csv",
        )


def test_ofac_alt_rows_for_unknown_entries_are_refused() -> None:
    only_first_sdn_row = SDN.split(b"\r\n", 1)[0] + b"\r\n"
    with pytest.raises(SanctionsFormatError, match="out of step"):
        parse_ofac(only_first_sdn_row, ALT, None, sdn_url="s", list_published=None)


# ------------------------------------------------------------------ UN parsing


def test_un_entries_names_and_publication_date(un: Parsed) -> None:
    entries, names = un
    assert len(entries) == 703 + 390
    assert {e["list_published"] for e in entries} == {"2018-10-29"}  # dateGenerated
    ri = next(e for e in entries if e["entry_id"] == "6908555")
    assert ri["primary_name"] == "RI WON HO"  # " RI " + "WON HO", whitespace collapsed
    assert ri["entity_type"] == "individual"
    assert ri["reference_number"] == "KPi.033"
    assert ri["listed_on"] == "2016-11-30"
    assert ri["programs"] == ["DPRK"]
    assert ri["country_codes"] == ["PRK"]
    pad = next(e for e in entries if e["entry_id"] == "6908629")
    assert pad["entity_type"] == "entity"
    assert pad["primary_name"] == "PROPAGANDA AND AGITATION DEPARTMENT (PAD)"
    # Alias qualities: Good/a.k.a./empty -> aka, Low -> weak, f.k.a. -> fka.
    assert Counter(n["name_type"] for n in names) == {
        "primary": 1093,
        "aka": 2464,
        "weak": 595,
        "fka": 15,
    }
    assert {
        "list_name": "UN_SC",
        "entry_id": "6908570",
        "name": "Jang Chang Ha",
        "name_type": "aka",
        "source_url": "consolidated.xml",
    } in names
    assert not [n for n in names if not n["name"].strip()]  # empty <ALIAS_NAME/> skipped


def test_un_rejects_other_xml() -> None:
    with pytest.raises(SanctionsFormatError, match="CONSOLIDATED_LIST"):
        parse_un_consolidated(b"<rss/>", "x")
    with pytest.raises(SanctionsFormatError, match="well-formed"):
        parse_un_consolidated(UN[:5000], "x")


# ------------------------------------------------------------------ screening


def test_alias_is_a_hit_with_listed_primary_name(index: NamesIndex) -> None:
    # "PETROCHEMICAL TRADING COMPANY LIMITED" is an alias (alt.csv alt_num 12337) of SDN 11622.
    hits = screen("Petrochemical Trading Company Limited", index, THRESHOLD)
    top = hits[0]
    assert (top["list_name"], top["entry_id"]) == ("OFAC_SDN", "11622")
    assert top["listed_name"] == "PETROCHEMICAL COMMERCIAL COMPANY INTERNATIONAL"
    assert top["matched_name"] == "PETROCHEMICAL TRADING COMPANY LIMITED"
    assert top["name_type"] == "aka"
    assert top["score"] == 100.0
    assert top["matched_on"] == ["case_punctuation"]


def test_alias_with_swapped_words_and_legal_form_is_still_a_hit(index: NamesIndex) -> None:
    hits = screen("Trading Petrochemical GmbH", index, THRESHOLD)
    top = hits[0]
    assert (top["entry_id"], top["matched_name"]) == (
        "11622",
        "PETROCHEMICAL TRADING COMPANY LIMITED",
    )
    assert top["score"] == 100.0
    assert top["matched_on"] == ["case_punctuation", "legal_form", "word_order"]


def test_typo_scores_below_100_but_above_threshold(index: NamesIndex) -> None:
    hits = screen("Kala Naft Tehrn Company", index, THRESHOLD)
    top = hits[0]
    assert top["entry_id"] == "12032"
    # "KALA NAFT TEHRAN" and "KALA NAFT TEHRAN COMPANY" are both aliases; both normalise alike.
    assert normalise_name(top["matched_name"]) == "kala naft tehran"
    assert THRESHOLD <= top["score"] < 100
    assert "fuzzy" in top["matched_on"]


def test_diacritics_and_transliteration_are_reported(index: NamesIndex) -> None:
    # UN entry 6908427 has the aliases "Les Enturbannés" and "الملثمون" (original script).
    accents = screen("LES ENTURBANNES", index, THRESHOLD)[0]
    assert (accents["entry_id"], accents["matched_name"]) == ("6908427", "Les Enturbannés")
    assert accents["matched_on"] == ["case_punctuation", "diacritics"]
    romanised = anyascii("الملثمون")
    script = screen(romanised, index, THRESHOLD)[0]
    assert (script["entry_id"], script["matched_name"]) == ("6908427", "الملثمون")
    assert "transliteration" in script["matched_on"]


@pytest.mark.parametrize(
    "clean",
    [
        "Fraport AG",
        "SAP SE",
        "Microsoft Corporation",
        "Shell plc",
        "Al Rajhi Bank",
        "Apple Energy LLC",
        "FACEBOOK INDIA ONLINE SERVICES PRIVATE LIMITED",
    ],
)
def test_clean_company_names_are_not_hits(index: NamesIndex, clean: str) -> None:
    assert screen(clean, index, THRESHOLD) == []


def test_threshold_sits_above_the_closest_clean_name(index: NamesIndex) -> None:
    # The closest clean real name found choosing the threshold (connectors/sanctions/source.py).
    near = screen("Al Rajhi Bank", index, 0)[0]
    assert near["matched_name"] == "Al-Rashid Bank"
    assert 85 < near["score"] < THRESHOLD


def test_blocking_compares_only_names_sharing_a_token(index: NamesIndex) -> None:
    assert len(index) == 548 + 700 + 1093 + 2464 + 595 + 15
    for partner in ("Fraport AG", "SAP SE", "Petrochemical Trading Company Limited"):
        assert len(index.candidates(partner)) < len(index) / 50
    assert index.candidates("Zzyzx Qwvx") == set()


def test_weak_aliases_can_be_left_out(un: Parsed) -> None:
    weak = next(n for n in un[1] if n["name_type"] == "weak")
    with_weak = build_names_index(un[1])
    without = build_names_index(un[1], include_weak=False)
    assert len(with_weak) - len(without) == 595
    hits = screen(weak["name"], with_weak, THRESHOLD)
    assert any(h["entry_id"] == weak["entry_id"] and h["name_type"] == "weak" for h in hits)


def test_feature_normaliser_with_everything_on_is_normalise_name(ofac: Parsed, un: Parsed) -> None:
    all_on = frozenset(NORMALISATIONS)
    for row in ofac[1] + un[1]:
        assert normalise_with(row["name"], all_on) == normalise_name(row["name"])


def test_empty_candidate_is_an_error(index: NamesIndex) -> None:
    with pytest.raises(ValueError, match="empty"):
        screen(" ,. ", index, THRESHOLD)


# ------------------------------------------------------------------ config and fetching


def test_config_threshold_and_overrides() -> None:
    settings = sanctions_settings(load_settings(env={}))
    assert settings.threshold == 90.0
    assert settings.urls["ofac_sdn"] == "https://www.treasury.gov/ofac/downloads/sdn.csv"
    assert settings.urls["un_sc"] == "https://scsanctions.un.org/resources/xml/en/consolidated.xml"
    assert settings.ofac_published is None
    env = {
        "PARTNERDD_SANCTIONS_THRESHOLD": "85",
        "PARTNERDD_SANCTIONS_OFAC_PUBLISHED": "2021-04-01",
        "PARTNERDD_SANCTIONS_UN_SC_URL": "http://127.0.0.1:1/un.xml",
    }
    overridden = sanctions_settings(load_settings(env=env))
    assert overridden.threshold == 85.0
    assert overridden.ofac_published == "2021-04-01"
    assert overridden.urls["un_sc"] == "http://127.0.0.1:1/un.xml"
    assert overridden.include_weak is True
    weak_off = load_settings(env={"PARTNERDD_SANCTIONS_INCLUDE_WEAK": "false"})
    assert sanctions_settings(weak_off).include_weak is False
    with pytest.raises(ConfigError, match="0..100"):
        sanctions_settings(load_settings(env={"PARTNERDD_SANCTIONS_THRESHOLD": "150"}))


def test_ofac_publication_date_choice() -> None:
    fetched = datetime(2024, 5, 3, 12, 0, tzinfo=UTC)
    with_header = RawResponse(
        "sanctions", "u", 200, {"Last-Modified": "Thu, 02 May 2024 20:13:05 GMT"}, b"", fetched
    )
    without = RawResponse("sanctions", "u", 200, {}, b"", fetched)
    assert ofac_list_published(with_header, "2021-04-01") == ("2021-04-01", "config")
    assert ofac_list_published(with_header) == ("2024-05-02", "last_modified")
    assert ofac_list_published(without) == ("2024-05-03", "fetched_at")


def test_lists_fetched_through_replay_server_and_parsed() -> None:
    routes = [
        Route(
            path="/ofac/sdn.csv",
            body=SDN,
            content_type="text/csv",
            headers={"Last-Modified": "Fri, 02 Apr 2021 14:00:00 GMT"},
        ),
        Route(path="/ofac/alt.csv", body=ALT, content_type="text/csv"),
        Route(path="/ofac/add.csv", body=ADD, content_type="text/csv"),
        Route(path="/un/consolidated.xml", body=UN, content_type="text/xml"),
    ]
    with ReplayServer(routes=routes) as server:
        base = server.base_url
        urls = {
            "ofac_sdn": f"{base}/ofac/sdn.csv",
            "ofac_alt": f"{base}/ofac/alt.csv",
            "ofac_add": f"{base}/ofac/add.csv",
            "un_sc": f"{base}/un/consolidated.xml",
        }
        session = make_session("sanctions", load_settings(env={}))
        raw = {key: session.fetch(url) for key, url in urls.items()}
    assert [r["path"] for r in server.requests] == [
        "/ofac/sdn.csv",
        "/ofac/alt.csv",
        "/ofac/add.csv",
        "/un/consolidated.xml",
    ]
    assert all(r.ok for r in raw.values())
    assert raw["ofac_sdn"].body == SDN
    published, basis = ofac_list_published(raw["ofac_sdn"])
    assert (published, basis) == ("2021-04-02", "last_modified")
    entries, names = parse_ofac(
        raw["ofac_sdn"].body,
        raw["ofac_alt"].body,
        raw["ofac_add"].body,
        sdn_url=raw["ofac_sdn"].url,
        alt_url=raw["ofac_alt"].url,
        add_url=raw["ofac_add"].url,
        list_published=published,
    )
    assert entries[0]["source_url"] == f"{base}/ofac/sdn.csv"
    assert entries[0]["sha256"] == raw["ofac_sdn"].sha256
    un_entries, _ = parse_un_consolidated(raw["un_sc"].body, raw["un_sc"].url)
    assert un_entries[0]["sha256"] == raw["un_sc"].sha256
    index = build_names_index(names)
    assert (
        screen("Petrochemical Trading Company Limited", index, THRESHOLD)[0]["entry_id"] == "11622"
    )
