"""Page extraction on saved real pages, capability mapping, and a crawl over the loopback server."""

from __future__ import annotations

from pathlib import Path

from connectors.config import Settings, load_settings
from connectors.replay import ReplayServer, Route
from connectors.web.capabilities import load_taxonomy, map_capabilities
from connectors.web.extract import ORG_KEYS, PAGE_KEYS, parse_page
from connectors.web.fetcher import SafeFetcher
from connectors.web.site import classify_link, crawl_site, same_site

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "company_html"
HTML = "text/html; charset=utf-8"


def page(name: str, url: str) -> dict:
    return parse_page((FIXTURES / name).read_text(encoding="utf-8"), url)


def settings() -> Settings:
    base = load_settings(env={"PARTNERDD_ALLOW_HOSTS": "127.0.0.1"})
    return Settings(
        http={**base.http, "retries": 0},
        sources={**base.sources, "web": {**base.sources["web"], "rate_per_second": 0.0}},
    )


def test_github_blog_organization_from_json_ld_graph() -> None:
    result = page("github.blog.spiceland.html", "https://github.blog/2019-03-29-x/")
    assert set(result) == set(PAGE_KEYS)
    assert result["title"] == "Leader spotlight: Erin Spiceland - The GitHub Blog"
    assert result["lang"] == "en-US"
    orgs = result["organizations"]
    assert len(orgs) == 1 and set(orgs[0]) == set(ORG_KEYS)
    org = orgs[0]
    assert (org["name"], org["id"], org["method"]) == (
        "GitHub",
        "https://github.blog/#organization",
        "json-ld",
    )
    assert "https://www.linkedin.com/company/github/" in org["same_as"]
    assert result["opengraph"]["og:site_name"] == "The GitHub Blog"
    assert {"url": "https://github.blog/feed/", "type": "application/rss+xml",
            "title": "The GitHub Blog » Feed"} in result["feed_links"]  # fmt: skip
    socials = {s["url"]: s["platform"] for s in result["social_links"]}
    assert socials["https://www.linkedin.com/company/github/"] == "linkedin"
    assert not any("shareArticle" in url or "sharer" in url for url in socials)


def test_caktus_nested_publisher_organization() -> None:
    result = page("caktusgroup.com.django.html", "https://www.caktusgroup.com/blog/x/")
    assert [o["name"] for o in result["organizations"]] == ["Caktus Group"]
    assert result["meta_description"].startswith("A test passes in isolation")
    assert {"platform": "twitter", "url": "https://twitter.com/caktusgroup"} in result[
        "social_links"
    ]


def test_microdata_organization_with_address_and_employees() -> None:
    """No saved real page carries microdata, so this snippet is written for the test."""
    html = """<html lang="fr"><body>
      <div itemscope itemtype="https://schema.org/Corporation">
        <span itemprop="name">Exemple</span> <span itemprop="legalName">Exemple SAS</span>
        <meta itemprop="foundingDate" content="1999-04-01">
        <div itemprop="address" itemscope itemtype="https://schema.org/PostalAddress">
          <span itemprop="streetAddress">3 rue de la Paix</span>
          <span itemprop="postalCode">75002</span> <span itemprop="addressLocality">Paris</span>
          <span itemprop="addressCountry">FR</span></div>
        <span itemprop="numberOfEmployees">120</span>
        <a itemprop="sameAs" href="https://www.linkedin.com/company/exemple">LinkedIn</a>
      </div></body></html>"""
    org = parse_page(html, "https://exemple.fr/a-propos")["organizations"][0]
    assert (org["name"], org["legal_name"], org["method"]) == (
        "Exemple",
        "Exemple SAS",
        "microdata",
    )
    assert org["founding_date"] == "1999-04-01" and org["employees"] == "120"
    assert org["address"] == "3 rue de la Paix, 75002, Paris, FR" and org["country"] == "FR"
    assert org["same_as"] == ["https://www.linkedin.com/company/exemple"]


def test_fairkom_german_about_page_maps_to_capabilities() -> None:
    result = page("fairkom.eu.about.html", "https://www.fairkom.eu/about")
    assert result["title"] == "Über uns | fairkom" and result["lang"] == "de"
    assert result["organizations"] == []
    rows = map_capabilities(result["text"], result["source_url"], load_taxonomy())
    found = {(r["capability"], r["phrase"]) for r in rows}
    assert ("software_development", "software entwicklung") in found
    assert ("open_source", "freie software") in found
    assert ("data_protection_security", "datenschutz") in found
    row = next(r for r in rows if r["phrase"] == "software entwicklung")
    assert row["lang"] == "de" and row["page_url"] == "https://www.fairkom.eu/about"
    assert "Software Entwicklung" in row["evidence"]


def test_link_classification_in_several_languages() -> None:
    cases = {
        ("https://x.de/ueber-uns", ""): "about",
        ("https://x.de/a", "Über uns"): "about",
        ("https://x.fr/qui-sommes-nous/", ""): "about",
        ("https://x.es/quienes-somos", ""): "about",
        ("https://x.br/sobre-nos", ""): "about",
        ("https://x.it/chi-siamo", ""): "about",
        ("https://x.jp/corp", "会社概要"): "about",
        ("https://x.cn/c", "关于我们"): "about",
        ("https://x.de/leistungen/tragwerksplanung", ""): "products",
        ("https://x.de/karriere", ""): "careers",
        ("https://x.com/investor-relations", ""): "investors",
        ("https://x.de/impressum", ""): "legal",
        ("https://x.com/blog/post", "Blog"): None,
    }
    for (url, text), expected in cases.items():
        assert classify_link(url, text) == expected, url
    assert same_site("https://blog.x.de/a", "https://www.x.de/")
    assert not same_site("https://x.de.evil.com/", "https://www.x.de/")


def test_crawl_follows_typed_same_site_links_and_obeys_robots() -> None:
    home = b"""<html lang="de"><head><title>RS Beispiel GmbH</title>
      <link rel="alternate" type="application/rss+xml" href="/feed.xml" title="News"></head>
      <body><a href="/ueber-uns">&Uuml;ber uns</a>
      <a href="/leistungen/tragwerksplanung">Leistungen</a>
      <a href="/karriere/intern">Karriere</a> <a href="/blog/2019">Blog</a>
      <a href="https://other.example/about">Partner</a> <a href="mailto:info@x.de">Mail</a>
      <a href="https://www.xing.com/pages/rs-beispiel">Xing</a></body></html>"""
    robots = b"User-agent: *\nDisallow: /karriere/\n"
    about = (FIXTURES / "fairkom.eu.about.html").read_bytes()
    service = (FIXTURES / "rs-ingenieure.de.tragwerksplanung.html").read_bytes()
    routes = [
        Route("/robots.txt", body=robots, content_type="text/plain"),
        Route("/", body=home, content_type=HTML),
        Route("/ueber-uns", body=about, content_type=HTML),
        Route("/leistungen/tragwerksplanung", body=service, content_type="text/html"),
    ]
    with ReplayServer(routes=routes) as server:
        crawl = crawl_site(server.base_url + "/", SafeFetcher(settings()), max_pages=4)
        requested = [r["path"] for r in server.requests]
    assert requested == ["/robots.txt", "/", "/ueber-uns", "/leistungen/tragwerksplanung"]
    assert "/blog/2019" not in requested and "/karriere/intern" not in requested
    types = {row["page_type"]: row["title"] for row in crawl.page_rows}
    assert types == {
        "home": "RS Beispiel GmbH",
        "about": "Über uns | fairkom",
        "products": "Tragwerksplanung | RS Ingenieure",
    }
    outcomes = [(r["kind"], r["outcome"]) for r in crawl.fetch_rows]
    assert outcomes.count(("page", "ok")) == 3 and ("page", "robots_disallowed") in outcomes
    caps = {(r["capability"], r["page_url"].rsplit("/", 1)[1]) for r in crawl.capability_rows}
    assert ("engineering_services", "tragwerksplanung") in caps
    assert ("open_source", "ueber-uns") in caps
    assert crawl.feed_rows[0]["url"] == server.base_url + "/feed.xml"
    assert {"source_url": server.base_url + "/", "platform": "xing",
            "url": "https://www.xing.com/pages/rs-beispiel"} in crawl.social_rows  # fmt: skip
    assert [r.status for r in crawl.responses] == [200, 200, 200]  # home, about, products
