"""Partner websites: home page plus typed same-site pages, every fetch outcome kept as a row.

Extract crawls each partner's site through its own SafeFetcher (robots.txt, address guard,
size/page/redirect caps), sharing one RobotsCache; pages are parsed there only to find links.
Parse re-reads the stored bytes and yields pages, schema.org organisations, social and feed
links and capability matches. Offline (demo) runs fetch nothing: no site is bundled.
"""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from connectors.budget import BudgetSpent
from connectors.config import Settings
from connectors.source import Batch, Extracted, Parsed, Partner, SourceSpec, Stored, provenance
from connectors.web.capabilities import Lexicon, load_taxonomy, map_capabilities
from connectors.web.charset import BadEncoding, decode_body
from connectors.web.extract import parse_page
from connectors.web.fetcher import SafeFetcher
from connectors.web.robots import RobotsCache
from connectors.web.site import SiteCrawl, crawl_site

SOURCE = "web"
PAGE = "page"
FETCHES = "raw.web__fetches"
OFFLINE_REASON = "offline snapshot has no recorded pages for this site"
NO_WEBSITE = "no website in the registry"
FETCH_COLUMNS = (
    "kind", "url", "final_url", "status", "fetched_at", "content_type", "charset", "bytes",
    "redirects", "outcome", "reason",
)  # fmt: skip


def is_offline(settings: Settings, source: str) -> bool:
    """Set by the source's offline() override (PARTNERDD_<SOURCE>_OFFLINE=1) in demo runs."""
    return bool(settings.source(source)["offline"])


def skipped_row(partner: Partner, collection_id: str, reason: str) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "partner_id": partner.partner_id,
        "collection_id": collection_id,
        "kind": "site",
        "page_type": None,
        "url": partner.website,
        "final_url": None,
        "status": None,
        "fetched_at": now,
        "content_type": None,
        "charset": None,
        "bytes": None,
        "redirects": 0,
        "outcome": "skipped",
        "reason": reason,
        "source_url": partner.website,
        "payload_sha256": None,
    }


def _reason(row: dict[str, Any]) -> str | None:
    """The fetcher leaves the reason empty for a plain HTTP error (e.g. robots.txt 404)."""
    if row["outcome"] == "ok" or row["reason"]:
        return str(row["reason"]) or None
    return f"HTTP {row['status']}" if row["status"] else row["outcome"]


def fetch_rows(partner_id: str, collection_id: str, crawl: SiteCrawl) -> list[dict[str, Any]]:
    rows = []
    for row in crawl.fetch_rows:
        rows.append(
            {
                "partner_id": partner_id,
                "collection_id": collection_id,
                "page_type": crawl.page_types.get(row["url"]) if row["kind"] == "page" else None,
                **{k: row[k] for k in FETCH_COLUMNS},
                "reason": _reason(row),
                "source_url": row["url"],
                "payload_sha256": row["sha256"],
            }
        )
    return rows


def _crawl(
    partner: Partner, settings: Settings, robots: RobotsCache, taxonomy: Lexicon
) -> SiteCrawl | BaseException:
    assert partner.website is not None
    if settings.budget is not None and settings.budget.spent():
        return BudgetSpent(settings.budget.reason)  # a crawl not begun: deferred
    fetcher = SafeFetcher(settings, source=SOURCE, robots_cache=robots)
    try:
        return crawl_site(partner.website, fetcher, taxonomy)
    except Exception as exc:  # a bug for one site must not lose the other partners
        return exc
    finally:
        fetcher.close()


def _record(out: Extracted, partner_id: str, rows: list[dict[str, Any]], crawl: SiteCrawl) -> None:
    ok = {r.sha256: r for r in crawl.responses if r.ok}
    for row in rows:
        out.emit(FETCHES, partner_id, row)
        if row["kind"] != "page":
            continue  # robots.txt answers stay in raw.web__fetches (a 404 there is normal)
        response = ok.get(row["payload_sha256"]) if row["outcome"] == "ok" else None
        error = None if row["outcome"] == "ok" else row["reason"]
        meta = {k: row[k] for k in ("url", "page_type", "collection_id")}
        out.record(
            partner_id, row["url"], row["outcome"], response=response, kind=PAGE, error=error,
            meta=meta,
        )  # fmt: skip


def extract(partners: list[Partner], settings: Settings, out: Extracted) -> None:
    collection_id = uuid.uuid4().hex
    conf = settings.source(SOURCE)
    offline = is_offline(settings, SOURCE)
    todo: list[Partner] = []
    for partner in partners:
        reason = NO_WEBSITE if not partner.website else (OFFLINE_REASON if offline else None)
        if reason:
            out.emit(FETCHES, partner.partner_id, skipped_row(partner, collection_id, reason))
            out.record(partner.partner_id, partner.website, "skipped", kind=PAGE, error=reason)
        else:
            todo.append(partner)
    out.report(total=len(todo))
    robots = RobotsCache(float(conf["robots_max_age_seconds"]))
    taxonomy = load_taxonomy()
    # Partners are different hosts, so crawling a few at once keeps every host's rate limit.
    with ThreadPoolExecutor(max_workers=max(1, int(conf["workers"]))) as pool:
        crawls = pool.map(lambda p: (p, _crawl(p, settings, robots, taxonomy)), todo)
        for partner, crawl in crawls:
            if isinstance(crawl, BudgetSpent):
                # deferred whole, what the crawl got so far too: a partial crawl would
                # replace the partner's last complete one
                out.record_exception(partner.partner_id, partner.website, crawl, kind=PAGE)
            elif isinstance(crawl, BaseException):
                row = skipped_row(partner, collection_id, f"{type(crawl).__name__}: {crawl}")
                out.emit(FETCHES, partner.partner_id, {**row, "outcome": "error"})
                out.record_exception(partner.partner_id, partner.website, crawl, kind=PAGE)
            else:
                rows = fetch_rows(partner.partner_id, collection_id, crawl)
                _record(out, partner.partner_id, rows, crawl)
            out.report(advance=1)


def _page_rows(
    partner_id: str, meta: dict[str, Any], page: dict[str, Any], response: Stored
) -> dict[str, list[dict[str, Any]]]:
    base = {"partner_id": partner_id, "collection_id": meta["collection_id"]}
    prov = provenance(response)
    og = page["opengraph"]
    page_row = {
        **base,
        "url": meta["url"],
        "final_url": response.url,
        "page_type": meta["page_type"],
        "status": response.status,
        "title": page["title"],
        "meta_description": page["meta_description"],
        "lang": page["lang"],
        "canonical_url": page["canonical_url"],
        "og_site_name": og.get("og:site_name"),
        "og_title": og.get("og:title"),
        "og_type": og.get("og:type"),
        "og_description": og.get("og:description"),
        "opengraph": json.dumps(og, ensure_ascii=False),
        **prov,
    }
    orgs = [
        {
            **base,
            **{k: v for k, v in org.items() if k not in ("source_url", "id", "same_as")},
            "org_id": org["id"],
            "same_as": json.dumps(org["same_as"], ensure_ascii=False),
            "page_type": meta["page_type"],
            "org_index": i,
            **prov,
        }
        for i, org in enumerate(page["organizations"])
    ]
    links = [
        {**base, "kind": "social", "platform": s["platform"], "url": s["url"], "title": None,
         "page_type": meta["page_type"], **prov}
        for s in page["social_links"]
    ] + [
        {**base, "kind": "feed", "platform": f["type"], "url": f["url"], "title": f["title"],
         "page_type": meta["page_type"], **prov}
        for f in page["feed_links"]
    ]  # fmt: skip
    return {
        "raw.web__pages": [page_row],
        "raw.web__organizations": orgs,
        "raw.web__links": links,
    }


def keyed_fetches(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each fetch row with its crawl's landing key. A crawl failed when it could not fetch the
    partner's home page (a site skipped did not: the registry names none, or the run crawls
    none). A failed crawl lands beside the partner's last crawl that did not fail instead of
    replacing it, so staging can keep publishing that one's pages and facts."""
    done = {
        (r["partner_id"], r["collection_id"])
        for r in rows
        if (r["kind"] == "page" and r["page_type"] == "home" and r["outcome"] == "ok")
        or (r["kind"] == "site" and r["outcome"] == "skipped")
    }
    out = []
    for row in rows:
        failed = (row["partner_id"], row["collection_id"]) not in done
        key = f"{row['partner_id']}|{'failed' if failed else 'done'}"
        out.append({**row, "crawl_failed": failed, "crawl_key": key})
    return out


def parse(batch: Batch) -> Parsed:
    parsed = Parsed()
    parsed.add(FETCHES, keyed_fetches(batch.records.get(FETCHES, [])))
    taxonomy = load_taxonomy()
    for partner_id, response in batch.ok_responses():
        assert partner_id is not None
        meta = response.meta
        try:
            text = decode_body(response.body, response.content_type).text
            page = parse_page(text, response.url, response.sha256)
        except (BadEncoding, ValueError) as exc:
            parsed.problem(SOURCE, partner_id, response, f"{type(exc).__name__}: {exc}")
            continue
        for table, rows in _page_rows(partner_id, meta, page, response).items():
            parsed.add(table, rows)
        capabilities = map_capabilities(page["text"], response.url, taxonomy)
        parsed.add(
            "raw.web__capabilities",
            [
                {
                    "partner_id": partner_id,
                    "collection_id": meta["collection_id"],
                    **cap,
                    **provenance(response),
                }
                for cap in capabilities
            ],
        )
    return parsed


SPEC = SourceSpec(
    name=SOURCE,
    extract=extract,
    parse=parse,
    landing={
        "raw.web__fetches": "crawl_key",
        "raw.web__pages": "partner_id",
        "raw.web__organizations": "partner_id",
        "raw.web__links": "partner_id",
        "raw.web__capabilities": "partner_id",
    },
    kinds=(PAGE,),
    config={
        SOURCE: {
            "rate_per_second": 1.0,  # per host; partners are crawled `workers` at a time
            "max_age_hours": 20,  # reused when younger (a nightly run revalidates)
            "max_pages": 8,  # per partner, home page included (robots.txt not counted)
            "max_redirects": 5,
            "max_response_bytes": 5242880,  # 5 MiB per page
            "robots_max_age_seconds": 86400,  # RFC 9309 caps robots.txt caching at 24 h
            "workers": 4,
            "offline": False,  # the offline demo sets it: no site is bundled
        }
    },
    offline=lambda base_url: {"PARTNERDD_WEB_OFFLINE": "1"},
)
