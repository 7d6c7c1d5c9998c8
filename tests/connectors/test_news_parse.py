"""News parsing on saved real feeds (and a GDELT answer shaped by us: no real one exists)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.news.adverse import (
    ADVERSE_KEYS,
    adverse_categories,
    load_adverse_lexicon,
    tag_adverse,
)
from connectors.news.dedupe import canonical_url, dedupe_news, normalised_title
from connectors.news.parse import (
    NEWS_KEYS,
    GdeltError,
    GdeltRateLimited,
    parse_feed,
    parse_gdelt_artlist,
    parse_seendate,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "news"
MARTS = Path(__file__).resolve().parents[2] / "sql" / "marts"


def feed(name: str, content_type: str = "") -> list[dict]:
    body = (FIXTURES / name).read_bytes()
    return parse_feed(body, feed_url=f"https://feeds.test/{name}", content_type=content_type)


def test_guardian_rss_utf8() -> None:
    rows = feed("guardian_us.rss", "application/rss+xml; charset=utf-8")
    assert len(rows) == 55 and set(rows[0]) == set(NEWS_KEYS)
    first = rows[0]
    assert (
        first["title"] == "Trump State of the Union address promised unity but emphasized discord"
    )
    assert first["published"] == datetime(2018, 1, 31, 7, 26, 5, tzinfo=UTC)
    assert first["source"] == "The Guardian" and first["lang"] == "en"
    assert first["url"].startswith("https://www.theguardian.com/us-news/2018/jan/31/")
    assert first["origin"] == "feed" and first["feed_url"] == "https://feeds.test/guardian_us.rss"


def test_heise_atom_german_with_offset_converted_to_utc() -> None:
    rows = feed("heise_developer.atom", "application/atom+xml")
    assert len(rows) == 15
    assert rows[0]["title"] == "Java-Anwendungsserver: Red Hat gibt WildFly 10 frei"
    assert rows[0]["published"] == datetime(2016, 2, 1, 16, 22, tzinfo=UTC)  # 17:22+01:00
    assert rows[1]["title"] == "Scrum Day 2016: Bewerbungen für Vorträge und Workshops"
    assert rows[0]["source"] == "heise developer neueste Meldungen"


def test_qq_gb2312_feed_decodes_chinese_titles() -> None:
    rows = feed("qq_news_china_gb2312.rss", "text/xml")  # charset only in the XML declaration
    assert len(rows) == 20
    assert rows[0]["title"] == "习近平为何如此强调崇尚英雄？"
    assert rows[0]["source"] == "新闻国内" and rows[0]["lang"] == "zh"
    assert rows[0]["published"] == datetime(2018, 9, 18, 14, 38, 10, tzinfo=UTC)


def test_uol_latin1_feed_without_declaration_keeps_portuguese_accents() -> None:
    rows = feed("uol_noticias_latin1.rss")  # no charset anywhere: sniffed
    assert len(rows) == 15
    assert rows[0]["title"] == (
        "Ibope: Bolsonaro perde de Haddad, Ciro e Alckmin em simulações de 2º turno"
    )
    # pubDate is "Seg, 24 Set 2018 19:42:40 -0300" (Portuguese day and month names)
    assert rows[0]["published"] == datetime(2018, 9, 24, 22, 42, 40, tzinfo=UTC)
    assert all(r["published"] is not None for r in rows)


def test_dedupe_merges_redirector_copy_by_title() -> None:
    rows = feed("uol_noticias_latin1.rss")
    kept = dedupe_news(rows)
    assert len(kept) == 14
    merged = next(r for r in kept if r["duplicates"])
    assert merged["title"].startswith("Match Eleitoral já soma mais de 500 mil testes")
    assert merged["canonical_url"].startswith("https://www1.folha.uol.com.br/poder/")
    assert len(dedupe_news(rows + feed("uol_noticias_latin1.rss"))) == 14


def test_canonical_url_and_title_key() -> None:
    assert (
        canonical_url(
            "HTTPS://WWW.Example.COM:443/News/Story/?utm_source=x&id=7&fbclid=abc#comments"
        )
        == "https://www.example.com/News/Story?id=7"
    )
    assert canonical_url("http://example.com:8080/a/") == "http://example.com:8080/a"
    assert (
        normalised_title("  Société Générale: FRAUDE présumée! ")
        == "societe generale fraude presumee"
    )


def test_adverse_tags_in_portuguese_and_english_feeds() -> None:
    tags = tag_adverse(feed("uol_noticias_latin1.rss"))
    assert set(tags[0]) == set(ADVERSE_KEYS)
    found = {(t["category"], t["phrase"], t["lang"]) for t in tags}
    assert ("bribery_corruption", "improbidade", "pt") in found
    skaf = next(t for t in tags if t["phrase"] == "improbidade")
    assert "Skaf" in skaf["evidence"] and skaf["field"] == "title"
    guardian = {(t["category"], t["phrase"]) for t in tag_adverse(feed("guardian_us.rss"))}
    assert ("litigation", "lawsuit") in guardian


def test_adverse_matching_is_accent_insensitive_and_word_bounded() -> None:
    rows = [
        {"url": "u1", "title": "Ermittlungen wegen Steuerbetrug und Geldwasche"},
        {"url": "u2", "title": "Enquête pour CORRUPTION et faillite"},
        {"url": "u3", "title": "Fraudster-proof payments; defraud-free checkout"},  # no "fraud"
        {"url": "u4", "title": "Concurso: empresa entra em recuperação judicial"},
    ]
    tags = {(t["url"], t["category"], t["matched_text"]) for t in tag_adverse(rows)}
    assert ("u1", "fraud", "Steuerbetrug") in tags
    assert ("u1", "fraud", "Geldwasche") in tags  # lexicon says geldwäsche
    assert ("u2", "bribery_corruption", "CORRUPTION") in tags
    assert ("u2", "insolvency", "faillite") in tags
    assert not any(url == "u3" for url, _, _ in tags)
    assert ("u4", "insolvency", "recuperação judicial") in tags


def test_adverse_lexicon_covers_every_category_in_five_languages() -> None:
    lexicon = load_adverse_lexicon()
    assert len(lexicon.entries) >= 8
    for _label, phrases in lexicon.entries.values():
        assert {"en", "de", "fr", "es", "pt"} <= {lang for lang, _ in phrases}


@pytest.mark.parametrize("mart", ["partner_media_summary", "partner_profile"])
def test_marts_have_one_adverse_column_per_lexicon_category(mart: str) -> None:
    """SQL cannot read the lexicon: its adverse_<category> columns must follow it."""
    sql = (MARTS / f"{mart}.sql").read_text(encoding="utf-8")
    columns = set(re.findall(r"\bas\s+(adverse_\w+)", sql)) - {"adverse_articles"}
    assert columns == {f"adverse_{c}" for c in adverse_categories()}


# -- GDELT DOC 2.0 ArtList (fixture shaped by us, see PROVENANCE.md) -----------------------


def test_gdelt_artlist_rows() -> None:
    body = (FIXTURES / "gdelt_artlist_shaped.json").read_bytes()
    rows = parse_gdelt_artlist(body, source_url="https://api.test/doc/doc?q", sha256="abc")
    assert len(rows) == 3 and set(rows[0]) == set(NEWS_KEYS)
    assert rows[0]["published"] == datetime(2024, 6, 15, 17, 0, tzinfo=UTC)
    assert [r["lang"] for r in rows] == ["de", "en", "pt"]
    assert rows[0]["source"] == "example-news.de" and rows[0]["source_country"] == "Germany"
    assert rows[0]["origin"] == "gdelt" and rows[0]["sha256"] == "abc" and rows[0]["tone"] is None
    tags = {(t["url"].rsplit("/", 1)[1], t["category"]) for t in tag_adverse(rows)}
    assert ("sap-betrugsverdacht-100.html", "fraud") in tags
    assert ("sap-multa", "bribery_corruption") in tags
    assert ("sap-multa", "litigation") in tags  # "ação judicial"


def test_gdelt_empty_and_error_answers() -> None:
    assert parse_gdelt_artlist(b"{}", source_url="u") == []
    assert parse_gdelt_artlist(b"  ", source_url="u") == []
    too_common = b"One or more of your keywords were too short, too long or too common."
    with pytest.raises(GdeltError, match="too common"):
        parse_gdelt_artlist(too_common, source_url="u", status=200)
    with pytest.raises(GdeltRateLimited, match="limit requests"):
        parse_gdelt_artlist(
            b"Please limit requests to one every 5 seconds", source_url="u", status=429
        )
    with pytest.raises(GdeltError, match="invalid JSON"):
        parse_gdelt_artlist(b'{"articles": [', source_url="u")


def test_seendate() -> None:
    assert parse_seendate("20240615T170000Z") == datetime(2024, 6, 15, 17, tzinfo=UTC)
    assert parse_seendate("2024-06-15") is None and parse_seendate(None) is None
