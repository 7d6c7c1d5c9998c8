"""Real news articles about demo partners (Fraport, Microsoft) through the web extractor and the
adverse-media tagger. The pages are publishers' copyright, kept unmodified as small test input
only (tests/fixtures/news/PROVENANCE.md); every expected value below is read off the page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from connectors.news.adverse import tag_adverse
from connectors.web.charset import decode_body
from connectors.web.extract import parse_page

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "news"
FRAPORT = "aero.de.fraport-q3-2023.html"
FRAPORT_URL = "https://www.aero.de/news-46212/Fraport-verdient-im-Sommer-so-viel-wie-noch-nie.html"
MICROSOFT = "vancouversun.com.microsoft-carbon-negative-2020.html"
MICROSOFT_URL = (
    "https://vancouversun.com/technology/microsoft-moves-to-erase-its-carbon-footprint-from-the-"
    "atmosphere-in-climate-push/wcm/76e426d9-56de-40ad-9504-18d5101013d2"
)


def _page(name: str, url: str) -> dict[str, Any]:
    decoded = decode_body((FIXTURES / name).read_bytes(), "text/html")
    return parse_page(decoded.text, url)


def _as_news_row(page: dict[str, Any]) -> dict[str, Any]:
    """What a feed item about the article carries: its headline and lede (OpenGraph)."""
    return {
        "url": page["canonical_url"],
        "title": page["opengraph"]["og:title"],
        "summary": page["opengraph"]["og:description"],
        "source_url": page["source_url"],
    }


def test_fraport_article_metadata_from_opengraph_and_meta_tags() -> None:
    page = _page(FRAPORT, FRAPORT_URL)
    assert page["title"] == "Fraport verdient im Sommer so viel wie noch nie"
    assert page["lang"] == "de"
    assert page["canonical_url"] == FRAPORT_URL
    og = page["opengraph"]
    assert og["og:type"] == "article" and og["og:locale"] == "de_DE"
    assert og["og:title"] == page["title"]
    assert og["og:description"].startswith(
        "Die Rückkehr der Reiselust hat dem Frankfurter Flughafenbetreiber Fraport im Sommer"
    )
    assert og["og:updated_time"] == "2023-11-07T12:03:11+01:00"
    # the meta description is HTML-entity encoded in the page (R&uuml;ckkehr) and cut with ".."
    assert page["meta_description"].startswith("FRANKFURT - Die Rückkehr der Reiselust")
    assert page["meta_description"].endswith("zählte der..")
    assert page["organizations"] == []  # no JSON-LD and no microdata on this page
    assert "Im Oktober betrug der Rückstand nach vorläufigen Zahlen noch 12 Prozent" in page["text"]


def test_microsoft_article_metadata_and_the_publisher_from_microdata() -> None:
    page = _page(MICROSOFT, MICROSOFT_URL)
    assert page["lang"] == "en"
    assert page["title"] == (
        "Microsoft moves to erase its carbon footprint from the atmosphere in climate push"
        " | Vancouver Sun"
    )
    og = page["opengraph"]
    assert og["og:site_name"] == "Vancouver Sun"
    assert og["og:url"] == MICROSOFT_URL
    assert og["og:description"] == (
        "Microsoft will invest US$1 billion over the next four years to speed up the"
        " development of carbon removal technology"
    )
    # a syndicated story: its canonical URL is on another Postmedia site
    assert page["canonical_url"] == (
        "https://business.financialpost.com/technology/microsoft-moves-to-erase-its-carbon-"
        "footprint-from-the-atmosphere-in-climate-push"
    )
    # microdata Organizations: the header logo's (Vancouver Sun) and the copyright holder's;
    # the NewsArticle's third, an empty <span itemprop="publisher" itemscope .../>, states
    # nothing and is left out rather than landed as a row of nulls
    orgs = page["organizations"]
    assert [(o["name"], o["method"]) for o in orgs] == [
        ("Vancouver Sun", "microdata"),
        ("Postmedia Network Inc.", "microdata"),
    ]
    assert orgs[0]["url"] == "https://vancouversun.com"
    assert "https://twitter.com/VancouverSun" in orgs[0]["same_as"]


@pytest.mark.parametrize("name, url", [(FRAPORT, FRAPORT_URL), (MICROSOFT, MICROSOFT_URL)])
def test_real_headline_and_lede_of_good_news_carry_no_adverse_tag(name: str, url: str) -> None:
    """Record results (Fraport) and a carbon-removal pledge (Microsoft): no adverse category.
    ("carbon footprint", "emissions" and "climate" are not harm phrases.)"""
    row = _as_news_row(_page(name, url))
    assert row["title"] and row["summary"]
    assert tag_adverse([row]) == []


def test_a_real_german_sentence_with_the_verb_betrug_is_not_fraud() -> None:
    sentence = "Im Oktober betrug der Rückstand nach vorläufigen Zahlen noch 12 Prozent"
    assert sentence in _page(FRAPORT, FRAPORT_URL)["text"]
    row = {"url": FRAPORT_URL, "title": "Fraport", "summary": sentence, "source_url": FRAPORT_URL}
    assert tag_adverse([row]) == []
    noun = {**row, "summary": "Ermittlungen wegen Betrug gegen den Vorstand"}
    assert [(t["category"], t["matched_text"]) for t in tag_adverse([noun])] == [
        ("fraud", "Betrug")
    ]
