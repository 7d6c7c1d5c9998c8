"""Pure extraction from one HTML page: metadata, schema.org organisations, links and text.

``parse_page(html, source_url, sha256="")`` returns one dict (see ``PAGE_KEYS``):
  source_url, sha256, title, meta_description, lang, canonical_url,
  opengraph: {og:title: ..., ...},
  organizations: [ORG dicts, see ``ORG_KEYS``],
  social_links: [{platform, url}], feed_links: [{url, type, title}],
  links: [{url, text}] (absolute http(s) URLs, fragment removed), text: visible text.
Nothing here does I/O.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit

from bs4 import BeautifulSoup, Tag

PAGE_KEYS = (
    "source_url", "sha256", "title", "meta_description", "lang", "canonical_url", "opengraph",
    "organizations", "social_links", "feed_links", "links", "text",
)  # fmt: skip
ORG_KEYS = (
    "source_url", "method", "schema_type", "id", "name", "legal_name", "url", "address",
    "country", "founding_date", "employees", "same_as", "lei", "vat_id", "tax_id", "duns",
    "email", "telephone",
)  # fmt: skip
ORG_TYPES = frozenset(
    """Organization Corporation LocalBusiness NGO OnlineBusiness OnlineStore NewsMediaOrganization
    EducationalOrganization GovernmentOrganization MedicalOrganization SportsOrganization
    ResearchOrganization Consortium FundingScheme Airline Cooperative LibrarySystem
    PerformingGroup PoliticalParty ProfessionalService WorkersUnion""".split()
)
FEED_TYPES = frozenset({"application/rss+xml", "application/atom+xml", "application/feed+json"})
SOCIAL_HOSTS = {
    "linkedin.com": "linkedin",
    "twitter.com": "twitter",
    "x.com": "twitter",
    "facebook.com": "facebook",
    "instagram.com": "instagram",
    "youtube.com": "youtube",
    "xing.com": "xing",
    "github.com": "github",
    "tiktok.com": "tiktok",
    "weibo.com": "weibo",
    "mastodon.social": "mastodon",
    "vimeo.com": "vimeo",
}
_SHARE_PATH = re.compile(r"/(share|sharer|sharearticle|intent)\b|/sharer\.php", re.I)
INVISIBLE_TAGS = ("script", "style", "noscript", "template", "svg", "head", "iframe")


def _clean(value: Any) -> str | None:
    if value is None:
        return None
    text = " ".join(str(value).split())
    return text or None


def _types(node: dict[str, Any]) -> list[str]:
    raw = node.get("@type", [])
    values = raw if isinstance(raw, list) else [raw]
    return [str(v).rsplit("/", 1)[-1] for v in values]


def _is_org(types: list[str]) -> bool:
    return any(t in ORG_TYPES or t.endswith("Organization") for t in types)


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else value


def _as_list(value: Any) -> list[str]:
    values = value if isinstance(value, list) else [value]
    return [str(v).strip() for v in values if isinstance(v, str) and v.strip()]


def _address(value: Any) -> tuple[str | None, str | None]:
    """(one-line address, country) from a PostalAddress node or a plain string."""
    value = _first(value)
    if isinstance(value, str):
        return _clean(value), None
    if not isinstance(value, dict):
        return None, None
    country = value.get("addressCountry")
    if isinstance(country, dict):
        country = country.get("name") or country.get("identifier")
    keys = ("streetAddress", "postalCode", "addressLocality", "addressRegion")
    parts = [_clean(value.get(k)) for k in keys] + [_clean(country)]
    line = ", ".join(p for p in parts if p)
    return line or None, _clean(country)


def _employees(value: Any) -> str | None:
    value = _first(value)
    if isinstance(value, dict):
        if value.get("value") is not None:
            return _clean(value["value"])
        lo, hi = value.get("minValue"), value.get("maxValue")
        if lo is not None or hi is not None:
            return f"{lo if lo is not None else ''}-{hi if hi is not None else ''}"
        return None
    return _clean(value)


def _org_row(node: dict[str, Any], source_url: str, method: str) -> dict[str, Any]:
    address, country = _address(node.get("address"))
    url = _first(node.get("url"))
    return {
        "source_url": source_url,
        "method": method,
        "schema_type": ",".join(_types(node)),
        "id": _clean(node.get("@id")),
        "name": _clean(_first(node.get("name"))),
        "legal_name": _clean(_first(node.get("legalName"))),
        "url": _clean(url) if isinstance(url, str) else None,
        "address": address,
        "country": country,
        "founding_date": _clean(_first(node.get("foundingDate"))),
        "employees": _employees(node.get("numberOfEmployees")),
        "same_as": _as_list(node.get("sameAs")),
        "lei": _clean(_first(node.get("leiCode"))),
        "vat_id": _clean(_first(node.get("vatID"))),
        "tax_id": _clean(_first(node.get("taxID"))),
        "duns": _clean(_first(node.get("duns"))),
        "email": _clean(_first(node.get("email"))),
        "telephone": _clean(_first(node.get("telephone"))),
    }


def _says_something(row: dict[str, Any]) -> bool:
    """False for an Organization that states nothing (e.g. Vancouver Sun's empty
    ``<span itemprop="publisher" itemscope itemtype="https://schema.org/Organization" />``)."""
    return any(v for k, v in row.items() if k not in ("source_url", "method", "schema_type"))


# -- JSON-LD --------------------------------------------------------------------------------


def _load_json_ld(text: str) -> Any:
    text = text.strip()
    text = re.sub(r"^\s*(<!--|/\*<!\[CDATA\[\*/|<!\[CDATA\[)", "", text)
    text = re.sub(r"(-->|/\*\]\]>\*/|\]\]>)\s*$", "", text)
    try:
        return json.loads(text, strict=False)
    except json.JSONDecodeError:
        return None


def _walk_nodes(value: Any) -> Iterator[dict[str, Any]]:
    """Every dict in a JSON-LD document: @graph members, nested publisher/author, etc."""
    if isinstance(value, dict):
        yield value
        for child in value.values():
            yield from _walk_nodes(child)
    elif isinstance(value, list):
        for child in value:
            yield from _walk_nodes(child)


def json_ld_documents(soup: BeautifulSoup) -> list[Any]:
    docs = []
    for script in soup.find_all("script"):
        kind = str(script.get("type") or "").lower()
        if "ld+json" in kind:
            doc = _load_json_ld(script.string or script.get_text())
            if doc is not None:
                docs.append(doc)
    return docs


def json_ld_organizations(docs: list[Any], source_url: str) -> list[dict[str, Any]]:
    nodes = [n for doc in docs for n in _walk_nodes(doc)]
    full_by_id = {n["@id"]: n for n in nodes if isinstance(n.get("@id"), str) and len(n) > 1}
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for node in nodes:
        if len(node) == 1 and node.get("@id") in full_by_id:
            continue  # a bare reference; the full node is visited on its own
        if not _is_org(_types(node)):
            continue
        key = str(node.get("@id") or json.dumps(node, sort_keys=True, default=str))
        if key in seen:
            continue
        seen.add(key)
        row = _org_row(node, source_url, "json-ld")
        if _says_something(row):
            rows.append(row)
    return rows


# -- microdata ------------------------------------------------------------------------------


def _microdata_value(tag: Tag, base_url: str) -> Any:
    if tag.has_attr("itemscope"):
        return _microdata_item(tag, base_url)
    for attr, names in (
        ("content", None),
        ("href", {"a", "link", "area"}),
        ("src", {"img", "audio", "video", "source"}),
        ("datetime", {"time"}),
    ):
        if tag.has_attr(attr) and (names is None or tag.name in names):
            value = str(tag[attr])
            return urljoin(base_url, value) if attr in {"href", "src"} else value
    return _clean(tag.get_text(" "))


def _microdata_item(scope: Tag, base_url: str) -> dict[str, Any]:
    item: dict[str, Any] = {"@type": [t for t in str(scope.get("itemtype", "")).split() if t]}
    stack = list(scope.find_all(True, recursive=False))
    while stack:
        tag = stack.pop(0)
        if tag.has_attr("itemprop"):
            value = _microdata_value(tag, base_url)
            for prop in str(tag["itemprop"]).split():
                if prop in item:
                    existing = item[prop]
                    item[prop] = (existing if isinstance(existing, list) else [existing]) + [value]
                else:
                    item[prop] = value
        if not tag.has_attr("itemscope"):
            stack = list(tag.find_all(True, recursive=False)) + stack
    return item


def microdata_organizations(soup: BeautifulSoup, source_url: str) -> list[dict[str, Any]]:
    rows = []
    for scope in soup.select("[itemscope]"):
        item = _microdata_item(scope, source_url)
        if _is_org(_types(item)):
            row = _org_row(item, source_url, "microdata")
            if _says_something(row):
                rows.append(row)
    return rows


# -- the rest -------------------------------------------------------------------------------


def _meta(soup: BeautifulSoup, attr: str, value: str) -> str | None:
    for tag in soup.find_all("meta"):
        if str(tag.get(attr, "")).strip().lower() == value:
            return _clean(tag.get("content"))
    return None


def opengraph(soup: BeautifulSoup) -> dict[str, str]:
    out: dict[str, str] = {}
    for tag in soup.find_all("meta"):
        prop = str(tag.get("property") or tag.get("name") or "").strip().lower()
        content = _clean(tag.get("content"))
        if prop.startswith("og:") and content and prop not in out:
            out[prop] = content
    return out


def _absolute(base: str, href: str) -> str | None:
    url = urldefrag(urljoin(base, href.strip()))[0]
    return url if urlsplit(url).scheme in {"http", "https"} else None


def page_links(soup: BeautifulSoup, base_url: str) -> list[dict[str, str]]:
    links: list[dict[str, str]] = []
    seen: set[str] = set()
    for anchor in soup.find_all("a", href=True):
        url = _absolute(base_url, str(anchor["href"]))
        if url and url not in seen:
            seen.add(url)
            text = _clean(anchor.get_text(" ")) or _clean(anchor.get("title")) or ""
            links.append({"url": url, "text": text})
    return links


def social_platform(url: str) -> str | None:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().removeprefix("www.").removeprefix("m.")
    platform = SOCIAL_HOSTS.get(host) or next(
        (name for dom, name in SOCIAL_HOSTS.items() if host.endswith("." + dom)), None
    )
    segments = [s for s in parts.path.split("/") if s]
    if platform is None or _SHARE_PATH.search(parts.path) or not 1 <= len(segments) <= 2:
        return None  # a share button, the bare site, or a post rather than a profile
    return platform


def feed_links(soup: BeautifulSoup, base_url: str) -> list[dict[str, str]]:
    out = []
    for link in soup.find_all("link", href=True):
        rel = [str(r).lower() for r in (link.get("rel") or [])]
        kind = str(link.get("type", "")).strip().lower()
        if "alternate" in rel and kind in FEED_TYPES:
            url = _absolute(base_url, str(link["href"]))
            if url:
                out.append({"url": url, "type": kind, "title": _clean(link.get("title")) or ""})
    return out


def visible_text(soup: BeautifulSoup) -> str:
    body = soup.body or soup
    parts = []
    for node in body.find_all(string=True):
        if any(parent.name in INVISIBLE_TAGS for parent in node.parents if parent.name):
            continue
        text = str(node).strip()
        if text and not text.startswith("<!--") and type(node).__name__ == "NavigableString":
            parts.append(text)
    return " ".join(" ".join(parts).split())


def parse_page(html: str, source_url: str, sha256: str = "") -> dict[str, Any]:
    """Everything the pipeline keeps from one page (see module docstring for the keys)."""
    soup = BeautifulSoup(html, "lxml")
    base = source_url
    base_tag = soup.find("base", href=True)
    if isinstance(base_tag, Tag):
        base = urljoin(source_url, str(base_tag["href"]))
    canonical = None
    for link in soup.find_all("link", href=True):
        if "canonical" in [str(r).lower() for r in (link.get("rel") or [])]:
            canonical = _absolute(base, str(link["href"]))
            break
    html_tag = soup.find("html")
    lang = _clean(html_tag.get("lang")) if isinstance(html_tag, Tag) else None
    title_tag = soup.find("title")
    links = page_links(soup, base)
    organizations = json_ld_organizations(json_ld_documents(soup), source_url)
    organizations += microdata_organizations(soup, source_url)
    socials = {
        link["url"]: platform
        for link in links
        if (platform := social_platform(link["url"])) is not None
    }
    for org in organizations:
        for url in org["same_as"]:
            if (platform := social_platform(url)) is not None:
                socials.setdefault(url, platform)
    return {
        "source_url": source_url,
        "sha256": sha256,
        "title": _clean(title_tag.get_text()) if title_tag else None,
        "meta_description": _meta(soup, "name", "description"),
        "lang": lang or _meta(soup, "http-equiv", "content-language"),
        "canonical_url": canonical,
        "opengraph": opengraph(soup),
        "organizations": organizations,
        "social_links": [{"platform": p, "url": u} for u, p in socials.items()],
        "feed_links": feed_links(soup, base),
        "links": links,
        "text": visible_text(soup),
    }
