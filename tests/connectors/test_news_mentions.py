"""Attributing general-feed news to partners by the name phrase, on real fixture headlines."""

from __future__ import annotations

from pathlib import Path

from connectors.news.mentions import mention_phrase, mentions
from connectors.news.parse import parse_feed

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "news"


def test_mention_phrase_drops_legal_forms_in_any_script() -> None:
    assert mention_phrase("Red Hat, Inc.") == "Red Hat"
    assert mention_phrase("Société Générale S.A.") == "Société Générale"
    assert mention_phrase("良品铺子股份有限公司") == "良品铺子"
    assert mention_phrase("The Coca-Cola Company") == "Coca-Cola"
    assert mention_phrase("AB") is None  # too short to be specific
    assert mention_phrase("SAP SE") == "SAP"


def test_mentions_on_real_headlines() -> None:
    qq = parse_feed((FIXTURES / "qq_news_china_gb2312.rss").read_bytes(), feed_url="qq")
    uol = parse_feed((FIXTURES / "uol_noticias_latin1.rss").read_bytes(), feed_url="uol")
    assert [r["title"] for r in qq if mentions(r, "良品铺子")] == [
        "“917中国坚果健康周”开幕 良品铺子品质升级战略浮出水面"
    ]
    hits = [mentions(r, "Sebrae-SP") for r in uol]
    assert [h for h in hits if h] == ["Sebrae-SP"]
    assert not any(mentions(r, "Haddad SA") for r in uol)  # the whole phrase must appear
