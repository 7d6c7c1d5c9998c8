"""Crawl a partner's website: the home page, then same-site about / products / careers /
investors / contact / legal pages found by multilingual link keywords, up to a page cap.

``crawl_site(home_url, fetcher, taxonomy)`` returns a ``SiteCrawl`` whose row lists are:
  fetch_rows: the fetcher's outcome rows (pages and robots.txt; see connectors.web.fetcher)
  page_rows: parse_page dicts without links/organizations (plus page_type, partner_home)
  organization_rows: ORG_KEYS dicts (connectors.web.extract)
  social_rows: {source_url, platform, url}
  feed_rows: {source_url, url, type, title} (the partner's own RSS/Atom feeds)
  capability_rows: CAPABILITY_KEYS dicts (connectors.web.capabilities)
  responses: the RawResponse of every page that arrived (store them raw)
  page_types: requested URL -> page type (home, about, ...) for every page fetch attempted
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from connectors.http import RawResponse
from connectors.web.capabilities import Lexicon, load_taxonomy, map_capabilities
from connectors.web.extract import parse_page
from connectors.web.fetcher import SafeFetcher
from connectors.web.phrases import find_phrase, fold_with_map

# Page type -> link keywords (URL path words or anchor text), any language.
PAGE_TYPES: dict[str, tuple[str, ...]] = {
    "about": (
        "about", "about us", "about-us", "who we are", "our company", "company", "profile",
        "über uns", "ueber uns", "uber uns", "ueber-uns", "unternehmen", "wir über uns", "profil",
        "qui sommes-nous", "qui sommes nous", "à propos", "a propos", "a-propos", "societe",
        "quiénes somos", "quienes somos", "sobre nosotros", "nosotros", "empresa",
        "sobre nós", "sobre nos", "quem somos", "chi siamo", "azienda", "over ons",
        "会社概要", "企業情報", "关于我们", "公司简介", "關於我們",
    ),
    "products": (
        "products", "services", "solutions", "what we do", "offering",
        "produkte", "leistungen", "lösungen", "dienstleistungen", "angebot",
        "produits", "nos services", "prestations",
        "productos", "servicios", "soluciones", "produtos", "serviços", "soluções",
        "prodotti", "servizi", "soluzioni", "製品", "サービス", "产品", "服务",
    ),
    "careers": (
        "careers", "jobs", "join us", "karriere", "stellenangebote", "carrières", "carrieres",
        "recrutement", "emplois", "empleo", "trabaja con nosotros", "carreiras",
        "trabalhe conosco", "lavora con noi", "採用情報", "招聘",
    ),
    "investors": (
        "investors", "investor relations", "investor-relations", "investoren", "anleger",
        "investisseurs", "inversores", "accionistas", "investidores", "investitori",
        "投资者关系", "投資家情報", "ir情報",
    ),
    "contact": (
        "contact", "contact us", "kontakt", "contacto", "contato", "contatti", "nous contacter",
        "联系我们", "お問い合わせ",
    ),
    "legal": (
        "impressum", "imprint", "legal notice", "mentions légales", "mentions legales",
        "aviso legal", "note legali", "colophon",
    ),
}  # fmt: skip
# Visit order after the home page; the cap usually leaves room for one page of each type.
TYPE_ORDER = ("about", "products", "legal", "contact", "investors", "careers")


def site_key(host: str) -> str:
    return host.lower().rstrip(".").removeprefix("www.")


def same_site(url: str, home_url: str) -> bool:
    """Same host ignoring 'www.', or a subdomain of it (no public-suffix list needed)."""
    host = site_key(urlsplit(url).hostname or "")
    home = site_key(urlsplit(home_url).hostname or "")
    return bool(host) and (host == home or host.endswith("." + home) or home.endswith("." + host))


def classify_link(url: str, text: str) -> str | None:
    """The page type a link points to, judged by its anchor text, then its URL path."""
    path = urlsplit(url).path.replace("-", " ").replace("_", " ").replace("/", " ")
    for candidate in (text, path):
        if not candidate:
            continue
        folded = fold_with_map(candidate)
        for page_type in TYPE_ORDER:
            if any(find_phrase(candidate, kw, folded) for kw in PAGE_TYPES[page_type]):
                return page_type
    return None


def pick_links(links: list[dict[str, str]], home_url: str, budget: int) -> list[tuple[str, str]]:
    """(page_type, url) pairs to visit: round-robin over TYPE_ORDER, same-site links only."""
    by_type: dict[str, list[str]] = {t: [] for t in TYPE_ORDER}
    home = home_url.rstrip("/")
    for link in links:
        url = link["url"]
        if url.rstrip("/") == home or not same_site(url, home_url):
            continue
        page_type = classify_link(url, link.get("text", ""))
        if page_type and url not in by_type[page_type]:
            by_type[page_type].append(url)
    picked: list[tuple[str, str]] = []
    seen: set[str] = set()
    depth = 0
    while len(picked) < budget and any(len(v) > depth for v in by_type.values()):
        for page_type in TYPE_ORDER:
            urls = by_type[page_type]
            if depth < len(urls) and urls[depth] not in seen and len(picked) < budget:
                seen.add(urls[depth])
                picked.append((page_type, urls[depth]))
        depth += 1
    return picked


@dataclass
class SiteCrawl:
    home_url: str
    fetch_rows: list[dict[str, Any]] = field(default_factory=list)
    page_rows: list[dict[str, Any]] = field(default_factory=list)
    organization_rows: list[dict[str, Any]] = field(default_factory=list)
    social_rows: list[dict[str, Any]] = field(default_factory=list)
    feed_rows: list[dict[str, Any]] = field(default_factory=list)
    capability_rows: list[dict[str, Any]] = field(default_factory=list)
    responses: list[RawResponse] = field(default_factory=list)
    page_types: dict[str, str] = field(default_factory=dict)


def _add_page(crawl: SiteCrawl, page: dict[str, Any], page_type: str, taxonomy: Lexicon) -> None:
    url = page["source_url"]
    crawl.page_rows.append(
        {
            **{k: v for k, v in page.items() if k not in {"links", "organizations"}},
            "page_type": page_type,
            "partner_home": crawl.home_url,
        }
    )
    crawl.organization_rows.extend(page["organizations"])
    known = {row["url"] for row in crawl.social_rows}
    crawl.social_rows.extend(
        {"source_url": url, **s} for s in page["social_links"] if s["url"] not in known
    )
    known_feeds = {row["url"] for row in crawl.feed_rows}
    crawl.feed_rows.extend(
        {"source_url": url, **f} for f in page["feed_links"] if f["url"] not in known_feeds
    )
    crawl.capability_rows.extend(map_capabilities(page["text"], url, taxonomy))


def crawl_site(
    home_url: str,
    fetcher: SafeFetcher,
    taxonomy: Lexicon | None = None,
    *,
    max_pages: int | None = None,
) -> SiteCrawl:
    """Fetch the home page and up to max_pages-1 typed same-site pages; never raises for I/O."""
    taxonomy = taxonomy or load_taxonomy()
    cap = max(1, min(max_pages or fetcher.max_pages, fetcher.max_pages))
    crawl = SiteCrawl(home_url)
    start = len(fetcher.rows)
    home = fetcher.fetch(home_url)
    crawl.page_types[home.row["url"]] = "home"
    if home.response is not None:
        crawl.responses.append(home.response)
    if home.ok and home.text is not None:
        final = home.row["final_url"]
        page = parse_page(home.text, final, home.row["sha256"] or "")
        _add_page(crawl, page, "home", taxonomy)
        for page_type, url in pick_links(page["links"], final, cap - 1):
            result = fetcher.fetch(url)
            crawl.page_types.setdefault(result.row["url"], page_type)
            if result.response is not None:
                crawl.responses.append(result.response)
            if result.ok and result.text is not None:
                sub = parse_page(result.text, result.row["final_url"], result.row["sha256"] or "")
                _add_page(crawl, sub, page_type, taxonomy)
    crawl.fetch_rows = fetcher.rows[start:]
    return crawl
