"""Websites and news through the whole refresh flow: real Prefect engine, DuckDB and loopback HTTP.

Partner sites are ReplayServers on 127.0.0.1 serving the real saved pages in
tests/fixtures/company_html as they are (links that lead elsewhere are simply not followed);
the news feeds are the real feeds in tests/fixtures/news. The Red Hat home page, the robots.txt
files, the GDELT plaintext error and the GDELT answer (tests/fixtures/news/PROVENANCE.md) are
written by us. Every other source runs against the offline demo snapshot, so no packet leaves
loopback; a server on 127.0.0.2 proves that a redirect there is refused before any request.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from connectors.replay import ReplayServer, Route
from flows.offline import offline_sources
from flows.progress import subscribe
from flows.refresh import refresh
from tests.conftest import table_counts

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
HTML = "text/html; charset=utf-8"
MEDIA_TABLES = (
    "raw.web__fetches",
    "raw.web__pages",
    "raw.web__organizations",
    "raw.web__links",
    "raw.web__capabilities",
    "raw.news__fetches",
    "raw.news__feed_fetches",
    "raw.news__articles",
    "raw.news__adverse",
    "marts.partner_web_pages",
    "marts.partner_web_profile",
    "marts.partner_capabilities",
    "marts.partner_news",
    "marts.partner_adverse_media",
    "marts.partner_news_fetches",
    "marts.partner_media_summary",
)
REDHAT_HOME = b"""<!doctype html><html lang="en"><head><title>Red Hat</title>
<link rel="alternate" type="application/atom+xml" href="/news.atom" title="Red Hat news">
</head><body><p>Red Hat</p></body></html>"""


def _page(name: str) -> bytes:
    return (FIXTURES / "company_html" / name).read_bytes()


def _feed(name: str) -> bytes:
    return (FIXTURES / "news" / name).read_bytes()


def _counts(db: Path) -> dict[str, int]:
    return table_counts(db, MEDIA_TABLES)


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, ReplayServer]]:
    elsewhere = ReplayServer(
        routes=[Route("/kontakt", body=b"<html>never</html>", content_type=HTML)],
        host="127.0.0.2",
    )
    fairkom = ReplayServer(
        routes=[
            Route(
                "/robots.txt",
                body=b"User-agent: *\nDisallow: /imprint\n",
                content_type="text/plain",
            ),
            Route("/", body=_page("fairkom.eu.about.html"), content_type=HTML),
            Route("/about", body=_page("fairkom.eu.about.html"), content_type=HTML),
            Route("/imprint", body=b"<html>must not be fetched</html>", content_type=HTML),
        ]  # fmt: skip
    )
    github = ReplayServer(
        routes=[Route("/", body=_page("github.blog.spiceland.html"), content_type=HTML)]
    )
    redhat = ReplayServer(
        routes=[
            Route("/", body=REDHAT_HOME, content_type=HTML),
            Route(
                "/news.atom",
                body=_feed("heise_developer.atom"),
                content_type="application/atom+xml",
            ),
        ]  # fmt: skip
    )
    news = ReplayServer(
        routes=[
            Route(
                "/feeds/guardian.rss",
                body=_feed("guardian_us.rss"),
                content_type="application/rss+xml; charset=UTF-8",
            ),
            Route("/feeds/qq.rss", body=_feed("qq_news_china_gb2312.rss"), content_type="text/xml"),
            Route(
                "/feeds/uol.rss",
                body=_feed("uol_noticias_latin1.rss"),
                content_type="application/rss+xml",
            ),
            Route(
                "/gdelt/doc/doc",
                body=_feed("gdelt_artlist_shaped.json"),
                content_type="application/json",
                query={"query": "SAP", "mode": "ArtList"},
            ),
            Route(
                "/gdelt/doc/doc",
                body=b"The specified phrase is too short.",
                content_type="text/html",
                query={"query": '"Red Hat"'},
            ),
            Route("/gdelt/doc/doc", body=b"{}", content_type="application/json"),
        ]  # fmt: skip
    )
    started = [s.start() for s in (elsewhere, fairkom, github, redhat, news)]
    fairkom.add(
        Route("/kontakt", status=302, headers={"Location": elsewhere.base_url + "/kontakt"})
    )
    yield {"elsewhere": elsewhere, "fairkom": fairkom, "github": github, "redhat": redhat,
           "news": news}  # fmt: skip
    for server in started:
        server.stop()


@pytest.fixture(scope="module")
def media_run(
    prefect_harness: None,
    servers: dict[str, ReplayServer],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, Any]]:
    work = tmp_path_factory.mktemp("media")
    registry = work / "partners.csv"
    registry.write_text(
        "partner_id,name,website,country,lei,cik\n"
        f"fairkom,fairkom,{servers['fairkom'].base_url}/,AT,,\n"
        f'github,"GitHub, Inc.",{servers["github"].base_url}/,US,,\n'
        f'redhat,"Red Hat, Inc.",{servers["redhat"].base_url}/,US,,\n'
        "sebrae,Sebrae-SP,,BR,,\n"
        "bestore,良品铺子股份有限公司,,CN,,\n"
        'facebook,"Facebook, Inc.",,US,,\n'
        "sap,SAP SE,,DE,,\n",
        encoding="utf-8",
    )
    feeds = servers["news"].base_url + "/feeds/"
    db = work / "media.duckdb"
    events: list[tuple[str, int, int | None]] = []
    unsubscribe = subscribe(
        lambda stage, advance, total, note: events.append((stage, advance, total))
    )
    with offline_sources() as demo:
        overrides = {
            **demo,  # every other source replays the demo snapshot
            "PARTNERDD_WEB_OFFLINE": "0",
            "PARTNERDD_NEWS_OFFLINE": "0",
            "PARTNERDD_RETRIES": "0",
            "PARTNERDD_WEB_RATE_PER_SECOND": "0",
            "PARTNERDD_NEWS_RATE_PER_SECOND": "0",
            "PARTNERDD_GDELT_RATE_PER_SECOND": "0",
            "PARTNERDD_GDELT_URL": servers["news"].base_url + "/gdelt",
            "PARTNERDD_NEWS_FEEDS": ",".join(
                feeds + name for name in ("guardian.rss", "qq.rss", "uol.rss", "missing.rss")
            ),
            "PARTNERDD_NEWS_AS_OF": "2018-10-01",
        }
        first = refresh(str(registry), str(db), overrides, str(work / "docs"))
        counts = _counts(db)
        requests_after_first = {name: list(s.requests) for name, s in servers.items()}
        second = refresh(str(registry), str(db), overrides, str(work / "docs"))
    unsubscribe()
    yield {
        "db": db,
        "first": first,
        "second": second,
        "counts_after_first": counts,
        "requests": requests_after_first,
        "events": events,
    }


def _rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_media_tables_load_without_failures(media_run: dict[str, Any]) -> None:
    summary = media_run["first"]
    assert summary["status"] in ("ok", "ok_with_warnings"), summary["failures"]
    staged = [f"stg_web__{t}" for t in ("fetches", "pages", "organizations", "links")]
    staged += [f"stg_news__{t}" for t in ("fetches", "articles", "adverse")]
    marts = [t.split(".")[1] for t in MEDIA_TABLES if t.startswith("marts.")]
    for table in [*staged, "stg_web__capabilities", *marts]:
        report = summary["tables"][table]
        assert report["failures"] == [] and report["quarantined"] == 0, (table, report)
    assert summary["tables"]["partner_media_summary"]["loaded"] == 7


def test_every_site_fetch_is_a_row_with_its_reason(media_run: dict[str, Any]) -> None:
    rows = _rows(
        media_run["db"],
        "select kind, page_type, regexp_extract(url, '//[^/]+(/.*)$', 1), status, outcome, "
        "reason, lang, title from marts.partner_web_pages where partner_id = 'fairkom' "
        "order by fetched_at, kind",
    )
    by_path = {(r[0], r[2]): r for r in rows}
    assert by_path[("robots", "/robots.txt")][4] == "ok"
    (github_robots,) = _rows(
        media_run["db"],
        "select status, outcome, reason from marts.partner_web_pages "
        "where partner_id = 'github' and kind = 'robots'",
    )
    assert github_robots == (404, "http_error", "HTTP 404")  # no robots.txt: all allowed
    home = by_path[("page", "/")]
    assert (home[1], home[4], home[6], home[7]) == ("home", "ok", "de", "Über uns | fairkom")
    assert by_path[("page", "/about")][1] == "about" and by_path[("page", "/about")][4] == "ok"
    imprint = by_path[("page", "/imprint")]
    assert (imprint[1], imprint[3], imprint[4]) == ("legal", None, "robots_disallowed")
    assert "disallows /imprint" in imprint[5]
    contact = by_path[("page", "/kontakt")]
    assert (contact[1], contact[3], contact[4]) == ("contact", 302, "blocked_address")
    assert "127.0.0.2" in contact[5] and "loopback" in contact[5]
    fairkom_paths = [r["path"] for r in media_run["requests"]["fairkom"]]
    assert "/imprint" not in fairkom_paths and "/kontakt" in fairkom_paths
    assert media_run["requests"]["elsewhere"] == []  # the refused redirect never arrived


def test_partners_without_a_site_are_skipped_with_the_reason(media_run: dict[str, Any]) -> None:
    rows = _rows(
        media_run["db"],
        "select outcome, reason from marts.partner_web_pages where partner_id = 'sebrae'",
    )
    assert rows == [("skipped", "no website in the registry")]
    summary = _rows(
        media_run["db"],
        "select web_status, site_lang, capability_count from marts.partner_media_summary "
        "where partner_id = 'sebrae'",
    )
    assert summary == [("skipped", None, None)]  # unknown, not "no capabilities"


def test_pages_are_stored_raw_and_parsed_from_the_stored_bytes(media_run: dict[str, Any]) -> None:
    import gzip
    import hashlib

    from flows.db import store_path

    rows = _rows(
        media_run["db"],
        "select source, kind, sha256, status from raw.responses where source in ('web', 'news')",
    )
    assert {r[0] for r in rows} == {"web", "news"}
    assert {r[1] for r in rows if r[0] == "web"} == {"page"}
    assert all(status == 200 for *_, status in rows)
    payloads = store_path(media_run["db"]) / "payloads"
    for _, _, sha, _ in rows:  # the stored bytes are the fetched bytes
        body = gzip.decompress((payloads / sha[:2] / f"{sha}.gz").read_bytes())
        assert hashlib.sha256(body).hexdigest() == sha
    pages = _rows(
        media_run["db"],
        "select p.sha256 from marts.partner_web_pages as p "
        "left join raw.responses as r on p.sha256 = r.sha256 "
        "where p.outcome = 'ok' and p.kind = 'page' and r.sha256 is null",
    )
    assert pages == []  # every parsed page has its raw payload


def test_capabilities_cite_phrase_evidence_and_page(media_run: dict[str, Any]) -> None:
    rows = _rows(
        media_run["db"],
        "select capability, phrase, evidence, page_url from marts.partner_capabilities "
        "where partner_id = 'fairkom'",
    )
    found = {(r[0], r[1]) for r in rows}
    assert ("software_development", "software entwicklung") in found
    assert ("open_source", "freie software") in found
    assert ("data_protection_security", "datenschutz") in found
    evidence = next(r for r in rows if r[1] == "software entwicklung")
    assert "Software Entwicklung" in evidence[2]
    assert evidence[3].startswith("http://127.0.0.1:")


def test_web_profile_from_json_ld_and_open_graph(media_run: dict[str, Any]) -> None:
    (row,) = _rows(
        media_run["db"],
        "select web_status, site_lang, site_lang_tag, org_name, same_as, linkedin_url, "
        "og_site_name, feed_links, legal_name, founding_year "
        "from marts.partner_web_profile where partner_id = 'github'",
    )
    assert row[0:4] == ("ok", "en", "en-US", "GitHub")
    assert "https://www.linkedin.com/company/github/" in row[4]
    assert row[5].startswith("https://www.linkedin.com/company/github")
    assert row[6] == "The GitHub Blog"
    assert row[7] == "https://github.blog/feed/"
    assert row[8] is None and row[9] is None  # the page states neither: unknown


def test_news_from_feeds_in_four_encodings(media_run: dict[str, Any]) -> None:
    rows = _rows(
        media_run["db"],
        "select partner_id, title, attribution, origin, lang from marts.partner_news",
    )
    titles = {(r[0], r[1]): r for r in rows}
    assert titles[("redhat", "Java-Anwendungsserver: Red Hat gibt WildFly 10 frei")][2] == (
        "own_feed"
    )
    assert sum(1 for r in rows if r[0] == "redhat" and r[2] == "own_feed") == 15  # heise Atom
    bestore = titles[("bestore", "“917中国坚果健康周”开幕 良品铺子品质升级战略浮出水面")]  # GB2312
    assert bestore[2:] == ("name_mention", "feed", "zh")
    sebrae = "Promotoria abre inquérito para apurar suspeita de improbidade de Skaf no Sebrae-SP"
    assert titles[("sebrae", sebrae)][2] == "name_mention"  # Latin-1 without declaration
    facebook = "Facebook bans cryptocurrency adverts because so many are scams"
    assert titles[("facebook", facebook)][4] == "en"  # UTF-8
    assert {r[1] for r in rows if r[0] == "sap"} == {
        "SAP: Staatsanwaltschaft prüft Betrugsverdacht bei Tochterfirma",
        "SAP beats quarterly cloud revenue forecast",
        "SAP é alvo de ação judicial por corrupção no Brasil",
    }
    assert not any(r[0] == "github" for r in rows)


def test_adverse_media_tags_from_a_real_headline(media_run: dict[str, Any]) -> None:
    rows = _rows(
        media_run["db"],
        "select category, phrase, matched_text, field from marts.partner_adverse_media "
        "where partner_id = 'sebrae'",
    )
    assert ("bribery_corruption", "improbidade", "improbidade", "title") in rows
    assert ("litigation", "inquérito", "inquérito", "title") in rows


def test_news_fetch_failures_are_rows_with_reasons(media_run: dict[str, Any]) -> None:
    rows = _rows(
        media_run["db"],
        "select partner_id, kind, url, outcome, reason, items from marts.partner_news_fetches",
    )
    by_kind = {(r[0], r[1], (r[2] or "").rsplit("/", 1)[-1]): r for r in rows}
    assert by_kind[(None, "config_feed", "missing.rss")][3:5] == ("http_error", "HTTP 404")
    assert by_kind[(None, "config_feed", "qq.rss")][3:] == ("ok", None, 20)
    github_feed = by_kind[("github", "own_feed", "")]
    assert github_feed[3] == "skipped" and "(github.blog) is not followed" in github_feed[4]
    (redhat_gdelt,) = [r for r in rows if r[0] == "redhat" and r[1] == "gdelt"]
    assert redhat_gdelt[3:5] == ("api_error", "The specified phrase is too short.")
    assert by_kind[("redhat", "own_feed", "news.atom")][3:] == ("ok", None, 15)
    gdelt_queries = [
        r["query"]["query"] for r in media_run["requests"]["news"] if "gdelt" in r["path"]
    ]
    assert sorted(gdelt_queries) == sorted(
        ["fairkom", "GitHub", '"Red Hat"', "Sebrae-SP", "良品铺子", "Facebook", "SAP"]
    )


def test_media_summary_counts_news_relative_to_as_of(media_run: dict[str, Any]) -> None:
    rows = _rows(
        media_run["db"],
        "select partner_id, site_lang, news_count_total, news_count_90d, adverse_articles, "
        "adverse_bribery_corruption, adverse_litigation, adverse_fraud, capability_count "
        "from marts.partner_media_summary",
    )
    summary = {r[0]: r[1:] for r in rows}
    assert summary["sebrae"][1:6] == (1, 1, 1, 1, 1)  # 2018-09-24, within 90 days of as_of
    assert summary["bestore"][1:3] == (1, 1)
    assert summary["facebook"][1:3] == (1, 0)  # 2018-01-31 is older than 90 days
    assert summary["sap"][1:3] == (3, 0)
    assert summary["sap"][6] == 1  # "Betrugsverdacht" (fraud)
    assert summary["fairkom"][0] == "de" and summary["fairkom"][7] >= 3


def test_gdelt_progress_is_reported(media_run: dict[str, Any]) -> None:
    news = [e for e in media_run["events"] if e[0] == "news"]
    assert ("news", 0, 7) in news
    assert sum(advance for _, advance, _ in news) == 14  # 7 partners, two runs


def test_rerun_is_idempotent(media_run: dict[str, Any]) -> None:
    assert media_run["second"]["status"] == media_run["first"]["status"]
    assert _counts(media_run["db"]) == media_run["counts_after_first"]
