"""Pure parsers for news payloads; no I/O.

News row keys (``NEWS_KEYS``): url, title, published (UTC datetime or None), source, lang,
tone (None: neither ArtList nor feeds carry it), feed_url (None for GDELT), summary,
source_country, origin (gdelt|feed), source_url (the request URL), sha256.
"""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import feedparser
import pycountry
from bs4 import BeautifulSoup

from connectors.web.charset import decode_body

NEWS_KEYS = (
    "url", "title", "published", "source", "lang", "tone", "feed_url", "summary",
    "source_country", "origin", "source_url", "sha256",
)  # fmt: skip
SUMMARY_CHARS = 1000
_XML_DECL_ENCODING = re.compile(r"""^(\s*<\?xml[^>]*?encoding\s*=\s*["'])[^"']*(["'])""", re.I)


class GdeltError(ValueError):
    """GDELT answered with a plaintext error instead of JSON (the message is GDELT's text)."""


class GdeltRateLimited(GdeltError):
    """GDELT answered 429 (it asks for about one request every 5 seconds)."""


class FeedError(ValueError):
    """The bytes are not a feed feedparser can read."""


def parse_seendate(value: str | None) -> datetime | None:
    """'20240615T170000Z' -> 2024-06-15 17:00:00+00:00; None for empty or malformed values."""
    if not value:
        return None
    try:
        return datetime.strptime(value.strip(), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None


def language_code(name: str | None) -> str | None:
    """'English' -> 'en', 'de-DE' -> 'de'; None when unknown."""
    if not name:
        return None
    text = name.strip()
    if len(text) in (2, 3) or "-" in text or "_" in text:
        return text.replace("_", "-").split("-")[0].lower() or None
    lang = pycountry.languages.get(name=text)
    code = getattr(lang, "alpha_2", None) if lang else None
    return str(code) if code else text.lower()


def _plain(html: str | None) -> str | None:
    if not html:
        return None
    text = " ".join(BeautifulSoup(html, "lxml").get_text(" ").split())
    return text[:SUMMARY_CHARS] or None


def parse_gdelt_artlist(
    body: bytes, *, source_url: str, sha256: str = "", status: int = 200
) -> list[dict[str, Any]]:
    """Rows from a DOC 2.0 ArtList JSON answer. An empty answer ({} or blank) gives [].
    Raises GdeltRateLimited on 429 and GdeltError on other errors or plaintext answers."""
    text = body.decode("utf-8", errors="replace").strip()
    if status == 429:
        raise GdeltRateLimited(text[:300] or "HTTP 429")
    if status != 200:
        raise GdeltError(f"HTTP {status}: {text[:300]}")
    try:  # JSON is UTF-8: other bytes would land as replacement characters in titles
        text = body.decode("utf-8").strip()
    except UnicodeDecodeError as exc:
        raise GdeltError(f"GDELT answer is not UTF-8: {exc}") from exc
    if not text:
        return []
    if not text.startswith("{"):
        raise GdeltError(text[:300])
    try:
        data = json.loads(text, strict=False)
    except json.JSONDecodeError as exc:
        raise GdeltError(f"invalid JSON from GDELT: {exc}") from exc
    articles = data.get("articles", []) if isinstance(data, dict) else None
    if not isinstance(articles, list):
        raise GdeltError("GDELT JSON has no 'articles' list")
    rows = []
    for art in articles:
        if not isinstance(art, dict):
            continue
        rows.append(
            {
                "url": art.get("url") or None,
                "title": " ".join(str(art.get("title") or "").split()) or None,
                "published": parse_seendate(art.get("seendate")),
                "source": art.get("domain") or None,
                "lang": language_code(art.get("language")),
                "tone": None,
                "feed_url": None,
                "summary": None,
                "source_country": art.get("sourcecountry") or None,
                "origin": "gdelt",
                "source_url": source_url,
                "sha256": sha256,
            }
        )
    return rows


def _struct_to_datetime(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        year, month, day, hour, minute, second = value[:6]
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except (TypeError, ValueError):
        return None


# Month abbreviations some non-English feeds put in RFC 822 dates ("Seg, 24 Set 2018 ...").
FOREIGN_MONTHS = {
    "fev": "Feb", "abr": "Apr", "mai": "May", "ago": "Aug", "set": "Sep", "out": "Oct",
    "dez": "Dec", "ene": "Jan", "dic": "Dec", "mär": "Mar", "mrz": "Mar", "okt": "Oct",
    "janv": "Jan", "févr": "Feb", "fevr": "Feb", "mars": "Mar", "avr": "Apr", "juin": "Jun",
    "juil": "Jul", "août": "Aug", "aout": "Aug", "sept": "Sep", "déc": "Dec",
}  # fmt: skip
_RFC822_LOCAL = re.compile(r"^\s*(?:[^\W\d]+\.?,\s*)?(\d{1,2})\s+([^\W\d]+)\.?\s+(\d{4})\s+(.*)$")


def parse_foreign_rfc822(value: str | None) -> datetime | None:
    """'Seg, 24 Set 2018 19:42:40 -0300' -> 2018-09-24 22:42:40+00:00 (UTC); None if unsure."""
    match = _RFC822_LOCAL.match(value or "")
    if not match:
        return None
    day, month, year, rest = match.groups()
    month = FOREIGN_MONTHS.get(month.lower(), month[:3].title())
    try:
        parsed = parsedate_to_datetime(f"{day} {month} {year} {rest}")
    except (TypeError, ValueError):
        return None
    if parsed.tzinfo is None:
        return None
    return parsed.astimezone(UTC)


def parse_feed(
    body: bytes, *, feed_url: str, content_type: str = "", sha256: str = ""
) -> list[dict[str, Any]]:
    """Rows from RSS 0.9x/1.0/2.0 or Atom bytes. Decoding follows connectors.web.charset
    (HTTP charset, XML declaration, sniffing), so GB2312 and undeclared Latin-1 feeds work.
    Raises BadEncoding or FeedError when nothing can be read."""
    text = decode_body(body, content_type).text
    text = _XML_DECL_ENCODING.sub(r"\1utf-8\2", text, count=1)
    parsed = feedparser.parse(
        io.BytesIO(text.encode("utf-8")),  # a stream: feedparser never opens URLs or files
        response_headers={"content-type": "application/xml; charset=utf-8"},
    )
    if not parsed.entries and (parsed.bozo or not parsed.get("version")):
        reason = parsed.get("bozo_exception") or "no RSS/Atom root element"
        raise FeedError(f"{feed_url}: not a readable feed: {reason}")
    feed = parsed.feed
    feed_lang = language_code(feed.get("language"))
    rows = []
    for entry in parsed.entries:
        published = (
            # dict.get: FeedParserDict.get warns when it maps published_parsed to updated_parsed
            _struct_to_datetime(dict.get(entry, "published_parsed"))
            or _struct_to_datetime(dict.get(entry, "updated_parsed"))
            or parse_foreign_rfc822(entry.get("published") or entry.get("updated"))
        )
        rows.append(
            {
                "url": entry.get("link") or entry.get("id") or None,
                "title": " ".join(str(entry.get("title") or "").split()) or None,
                "published": published,
                "source": " ".join(str(feed.get("title") or "").split()) or None,
                "lang": language_code(entry.get("language")) or feed_lang,
                "tone": None,
                "feed_url": feed_url,
                "summary": _plain(entry.get("summary")),
                "source_country": None,
                "origin": "feed",
                "source_url": feed_url,
                "sha256": sha256,
            }
        )
    return rows
