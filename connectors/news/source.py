"""News about partners: GDELT DOC 2.0 article lists, the partner's own press feeds and feeds from
config, deduplicated per partner and tagged with the adverse-media lexicon.

The partner's own feeds are the ones its home page declares. This task fetches the home page
itself (through its own SafeFetcher and a RobotsCache shared by the news fetches) instead of
waiting for the web source: the two extracts then run side by side, so GDELT's one request per
5 seconds overlaps the site crawls instead of adding to them, and either source fails alone.
The price is one more home-page (and robots.txt) request per site and run.
Feeds declared on another site are not followed (recorded as skipped with the reason).
GDELT is asked only for the articles seen since the partner's latest one already landed (the
source's `cursor`), so articles land merged per article, never replaced per partner.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlsplit

import requests

from connectors.budget import DEFERRED, BudgetSpent
from connectors.config import ConfigError, Settings
from connectors.http import RawResponse
from connectors.news.adverse import load_adverse_lexicon, tag_adverse
from connectors.news.client import (
    GdeltClient,
    configured_feeds,
    gdelt_phrase_query,
    gdelt_start,
)
from connectors.news.dedupe import dedupe_news
from connectors.news.mentions import mention_phrase, mentions
from connectors.news.parse import (
    FeedError,
    GdeltError,
    GdeltRateLimited,
    parse_feed,
    parse_gdelt_artlist,
)
from connectors.source import Batch, Extracted, Parsed, Partner, SourceSpec, Stored
from connectors.web.charset import BadEncoding
from connectors.web.extract import parse_page
from connectors.web.fetcher import FetchResult, SafeFetcher
from connectors.web.robots import RobotsCache
from connectors.web.site import same_site
from connectors.web.source import OFFLINE_REASON, is_offline

SOURCE = "news"
FETCHES = "raw.news__fetches"
FEED_FETCHES = "raw.news__feed_fetches"
PHRASES = "_mention_phrases"  # a parse input, not a landing table
OFFLINE_GDELT = "offline snapshot has no recorded GDELT answer"
OFFLINE_FEED = "offline snapshot has no recorded feed"
ARTICLE_KEYS = (
    "url", "canonical_url", "title", "title_key", "published", "source", "lang", "tone",
    "feed_url", "summary", "source_country", "origin", "duplicates",
)  # fmt: skip


class _Run:
    """One news extract: the Extracted being filled plus the fetch rows it reports."""

    def __init__(self, settings: Settings, out: Extracted) -> None:
        self.out = out
        self.collection_id = uuid.uuid4().hex
        self.settings = settings
        self.conf = settings.source(SOURCE)
        self.robots = RobotsCache(float(self.conf["robots_max_age_seconds"]))

    def row(
        self, partner_id: str | None, kind: str, url: str | None, outcome: str, reason: str | None,
        *, status: int | None = None, response: RawResponse | None = None,
        fetched_at: datetime | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        row = {
            "partner_id": partner_id,
            "collection_id": self.collection_id,
            "kind": kind,
            "url": url,
            "final_url": response.url if response else None,
            "status": response.status if response else status,
            "outcome": outcome,
            "reason": reason,
            "items": None,
            "row_id": uuid.uuid4().hex,
            "fetched_at": response.fetched_at if response else (fetched_at or datetime.now(UTC)),
            "source_url": url,
            "payload_sha256": response.sha256 if response else None,
        }
        if partner_id is None:
            row.pop("partner_id")
        self.out.emit(FEED_FETCHES if partner_id is None else FETCHES, partner_id, row)
        logged = response if outcome == "ok" else None
        self.out.record(
            partner_id, url, outcome, response=logged, kind=kind, error=reason,
            meta={"row_id": row["row_id"]},
        )  # fmt: skip
        return row

    def fetched(self, partner_id: str | None, kind: str, result: FetchResult) -> None:
        fetch = result.row
        ok = result.ok and result.response is not None
        self.row(
            partner_id, kind, fetch["url"], fetch["outcome"], None if ok else fetch["reason"],
            status=fetch["status"], response=result.response if ok else None,
            fetched_at=fetch["fetched_at"],
        )  # fmt: skip

    def fetcher(self, pages: int) -> SafeFetcher:
        return SafeFetcher(
            self.settings, source=SOURCE, robots_cache=self.robots, max_pages=max(1, pages)
        )


def _gdelt(run: _Run, client: GdeltClient, partner: Partner, phrase: str) -> None:
    """One ArtList request: since the partner's latest GDELT article already landed (the
    cursor; none with --full or on a first run), else the configured timespan."""
    timespan = str(run.conf["timespan"])
    latest = run.settings.cursors.get(SOURCE, {}).get(partner.partner_id)
    try:
        query = gdelt_phrase_query(phrase)
        raw = client.artlist(
            query,
            timespan=timespan,
            maxrecords=int(run.conf["max_records"]),
            startdatetime=gdelt_start(latest, timespan, datetime.now(UTC)),
        )
    except ValueError as exc:
        run.row(partner.partner_id, "gdelt", client.base_url, "skipped", str(exc))
        return
    except requests.RequestException as exc:
        reason = f"{type(exc).__name__}: {exc}"
        outcome = DEFERRED if isinstance(exc, BudgetSpent) else "failed"
        run.row(partner.partner_id, "gdelt", f"{client.base_url}/doc/doc", outcome, reason)
        return
    if raw.ok:
        run.row(partner.partner_id, "gdelt", raw.url, "ok", None, response=raw)
    else:
        snippet = raw.body[:200].decode("utf-8", "replace")
        error = f"HTTP {raw.status}: {snippet}"
        run.row(partner.partner_id, "gdelt", raw.url, "http_error", error, response=raw)


def _own_feeds(run: _Run, partner: Partner) -> None:
    assert partner.website is not None
    max_feeds = int(run.conf["max_feeds_per_site"])
    fetcher = run.fetcher(1 + max_feeds)
    try:
        home = fetcher.fetch(partner.website)
        run.fetched(partner.partner_id, "home", home)
        if not home.ok or home.text is None:
            return
        declared = parse_page(home.text, home.row["final_url"])["feed_links"]
        for link in declared[:max_feeds]:
            if not same_site(link["url"], home.row["final_url"]):
                host = urlsplit(link["url"]).hostname
                reason = f"feed on another site ({host}) is not followed"
                run.row(partner.partner_id, "own_feed", link["url"], "skipped", reason)
                continue
            run.fetched(partner.partner_id, "own_feed", fetcher.fetch(link["url"]))
    finally:
        fetcher.close()


def extract(partners: list[Partner], settings: Settings, out: Extracted) -> None:
    run = _Run(settings, out)
    offline = is_offline(settings, SOURCE)
    feeds = configured_feeds(settings)
    names = {p.partner_id: mention_phrase(p.name) for p in partners}
    for partner_id, phrase in names.items():
        out.emit(PHRASES, partner_id, {"partner_id": partner_id, "phrase": phrase})
    if offline:
        for url in feeds:
            run.row(None, "config_feed", url, "skipped", OFFLINE_FEED)
    elif feeds:
        fetcher = run.fetcher(len(feeds))
        try:
            for url in dict.fromkeys(feeds):
                run.fetched(None, "config_feed", fetcher.fetch(url))
        finally:
            fetcher.close()
    client = GdeltClient(settings)
    out.report(total=len(partners))
    for partner in partners:
        if out.deferred(partner.partner_id, settings.budget, kind="gdelt"):
            continue  # its fetch rows of an earlier run stay; its articles stay anyway
        phrase = names[partner.partner_id] or partner.name
        if offline:
            run.row(partner.partner_id, "gdelt", None, "skipped", OFFLINE_GDELT)
        else:
            _gdelt(run, client, partner, phrase)
        if not partner.website:
            run.row(partner.partner_id, "home", None, "skipped", "no website in the registry")
        elif offline:
            run.row(partner.partner_id, "home", partner.website, "skipped", OFFLINE_REASON)
        else:
            try:
                _own_feeds(run, partner)
            except BudgetSpent as exc:  # the feeds not asked yet wait for the next run
                run.row(partner.partner_id, "own_feed", partner.website, DEFERRED, str(exc))
        out.report(advance=1, note=partner.partner_id)
    client.session.close()


def _parse_payload(row: dict[str, Any], response: Stored) -> list[dict[str, Any]]:
    """News rows from one stored payload; raises GdeltError/FeedError/BadEncoding."""
    if row["kind"] == "gdelt":
        return parse_gdelt_artlist(
            response.body, source_url=response.url, sha256=response.sha256, status=response.status
        )
    return parse_feed(
        response.body,
        feed_url=row["url"],
        content_type=response.content_type,
        sha256=response.sha256,
    )


def _failure_outcome(exc: Exception) -> str:
    if isinstance(exc, GdeltRateLimited):
        return "rate_limited"
    if isinstance(exc, GdeltError):
        return "api_error"
    return "bad_encoding" if isinstance(exc, BadEncoding) else "not_a_feed"


def _read(
    stored: dict[str, Stored], parsed: Parsed, row: dict[str, Any]
) -> list[dict[str, Any]] | None:
    """Parse the stored payload behind a fetch row, updating the row's outcome and item count."""
    response = stored.get(row["row_id"])
    if response is None or row["kind"] == "home":
        return None
    partner_id = response.partner_id
    try:
        items = _parse_payload(row, response)
    except (GdeltError, FeedError, BadEncoding) as exc:
        outcome = _failure_outcome(exc)
        row.update(outcome=outcome, reason=str(exc))
        parsed.problem(SOURCE, partner_id, response, f"{outcome}: {exc}")
        return None
    row["items"] = len(items)
    return [{**item, "fetched_at": response.fetched_at} for item in items]


def _landing(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != "row_id"}


def parse(batch: Batch) -> Parsed:
    """News for the whole run at once: general feeds are matched against every partner."""
    parsed = Parsed()
    stored = {str(r.meta.get("row_id")): r for r in batch.responses}
    fetches = batch.records.get(FETCHES, [])
    config_fetches = batch.records.get(FEED_FETCHES, [])
    names = {r["partner_id"]: r["phrase"] for r in batch.records.get(PHRASES, [])}
    general: list[dict[str, Any]] = []
    for row in config_fetches:
        general += _read(stored, parsed, row) or []
    per_partner: dict[str, list[dict[str, Any]]] = {pid: [] for pid in names}
    collection: dict[str, str] = {}
    for row in fetches:
        collection[row["partner_id"]] = row["collection_id"]
        items = _read(stored, parsed, row) or []
        attribution = "gdelt_query" if row["kind"] == "gdelt" else "own_feed"
        per_partner[row["partner_id"]] += [{**i, "attribution": attribution} for i in items]
    lexicon = load_adverse_lexicon()
    for partner_id, items in per_partner.items():
        phrase = names.get(partner_id)
        if phrase:
            items += [
                {**i, "attribution": "name_mention", "matched_name": hit}
                for i in general
                if (hit := mentions(i, phrase))
            ]
        articles = dedupe_news(items)
        base = {"partner_id": partner_id, "collection_id": collection.get(partner_id)}
        parsed.add("raw.news__articles", [_article(base, a) for a in articles])
        by_url = {a["url"]: a for a in articles}
        parsed.add(
            "raw.news__adverse",
            [
                _adverse(base, tag, by_url.get(tag["url"], {}))
                for tag in tag_adverse(articles, lexicon)
            ],
        )
    parsed.add(FETCHES, [_landing(r) for r in fetches])
    parsed.add(FEED_FETCHES, [_landing(r) for r in config_fetches])
    return parsed


def article_key(partner_id: str, article: dict[str, Any]) -> str:
    """What an article is landed by, so that a run adds to a partner's articles instead of
    replacing them: partner and canonical URL (else normalised title). sql/raw/news.sql
    computes the same for rows landed before the key existed."""
    url, title = article.get("canonical_url"), article.get("title_key")
    return f"{partner_id}|{url or (f'title:{title}' if title else '')}"


def _article(base: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
    return {
        **base,
        "article_key": article_key(base["partner_id"], item),
        **{k: item.get(k) for k in ARTICLE_KEYS},
        "attribution": item["attribution"],
        "matched_name": item.get("matched_name"),
        "source_url": item["source_url"],
        "payload_sha256": item["sha256"],
        "fetched_at": item["fetched_at"],
    }


def _adverse(base: dict[str, Any], tag: dict[str, Any], article: dict[str, Any]) -> dict[str, Any]:
    return {
        **base,
        "article_key": article_key(base["partner_id"], article),
        **{k: tag[k] for k in ("url", "category", "phrase", "lang", "matched_text", "field")},
        "evidence": tag["evidence"],
        "title": article.get("title"),
        "published": article.get("published"),
        "source_url": tag["source_url"],
        "payload_sha256": article.get("sha256"),
        "fetched_at": article.get("fetched_at"),
    }


def news_as_of(settings: Settings) -> datetime:
    """End of the day given in [sources.news] as_of (for reproducible reports), else of
    today (UTC): runs of one day count the same window, so a partner's news counts change
    only with its news, not with the hour of the run."""
    value = str(settings.source(SOURCE)["as_of"]).strip()
    if not value:
        day = datetime.now(UTC).date()
    else:
        try:
            day = date.fromisoformat(value)
        except ValueError as exc:
            raise ConfigError(f"[sources.news] as_of {value!r} is not an ISO date") from exc
    return datetime.combine(day, time.min, tzinfo=UTC) + timedelta(days=1)


def preflight(settings: Settings, env: Mapping[str, str], offline: bool) -> None:
    news_as_of(settings)  # a malformed as_of fails before any fetch, not after the crawl


SPEC = SourceSpec(
    name=SOURCE,
    extract=extract,
    parse=parse,
    landing={
        "raw.news__fetches": "partner_id",
        "raw.news__feed_fetches": "url",
        # Merged per article: an answer since the cursor holds only the new articles, and a
        # partner whose fetch failed keeps the ones it had.
        "raw.news__articles": "article_key",
        "raw.news__adverse": "article_key",
    },
    kinds=("gdelt", "home", "own_feed", "config_feed"),
    config={
        "gdelt": {
            "url": "https://api.gdeltproject.org/api/v2",
            "rate_per_second": 0.2,  # GDELT asks for about one request every 5 seconds
            "max_age_hours": 0,  # revalidated or fetched again every run
        },
        # GDELT per partner, the partner's own press feeds and general feeds listed in
        # `feeds` (comma-separated URLs; items are kept for the partners they name).
        SOURCE: {
            "feeds": "",
            "timespan": "3months",  # GDELT ArtList window
            "max_records": 75,  # GDELT ArtList articles per partner (at most 250)
            "max_feeds_per_site": 3,
            "rate_per_second": 1.0,  # per feed host
            "max_age_hours": 0,  # revalidated or fetched again every run
            "max_redirects": 5,
            "max_response_bytes": 10485760,
            "robots_max_age_seconds": 86400,
            "as_of": "",  # ISO date for "last 90 days" in partner_media_summary; empty: run date
            "offline": False,  # the offline demo sets it: no recorded answers
        },
    },
    offline=lambda base_url: {"PARTNERDD_NEWS_OFFLINE": "1"},
    preflight=preflight,
    per_partner=False,
    # GDELT's startdatetime: the latest GDELT article landed per partner (connectors/news/
    # client.py gdelt_start). Feeds have no cursor: they are fetched whole (conditionally).
    cursor="""
        select partner_id, max(published) from raw.news__articles
        where origin = 'gdelt' and published is not null group by partner_id
    """,
)
