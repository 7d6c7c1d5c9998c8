"""Download the publishers' index files (HTTP only; parsing lives in cpi/hofstede/heritage).

Each source's file URL comes from ``[sources.<name>] url`` in config/sources.toml
(env override ``PARTNERDD_<NAME>_URL``); ``DEFAULT_URLS`` are used while the section is absent.
"""

from __future__ import annotations

from connectors.config import Settings, load_settings
from connectors.http import PoliteSession, RawResponse, make_session

DEFAULT_URLS = {
    # TI's results-and-trends workbook (XLSX; parse_cpi reads XLSX and the CSV copy)
    "cpi": "https://images.transparencycdn.org/images/CPI2024-Results-and-trends.xlsx",
    # geerthofstede.com "dimension data matrix", standard version (CSV, ';')
    "hofstede": (
        "https://geerthofstede.com/wp-content/uploads/2016/08/"
        "6-dimensions-for-website-2015-08-16.csv"
    ),
    # Heritage's yearly data file (XLS, Excel 97); parse_heritage reads XLS/XLSX/CSV
    "heritage": "https://www.heritage.org/index/excel/2019/index2019_data.xls",
}
INDEX_SOURCES = tuple(DEFAULT_URLS)


def index_url(source: str, settings: Settings | None = None) -> str:
    """The configured file URL for ``source`` (``cpi``, ``hofstede``, ``heritage``)."""
    if source not in DEFAULT_URLS:
        raise ValueError(f"unknown index source {source!r}; expected one of {INDEX_SOURCES}")
    settings = settings or load_settings()
    configured = settings.sources.get(source, {}).get("url")
    return str(configured or DEFAULT_URLS[source])


def fetch_index_file(
    source: str,
    settings: Settings | None = None,
    *,
    url: str | None = None,
    session: PoliteSession | None = None,
) -> RawResponse:
    """GET one publisher file. Non-2xx answers are returned (stored as evidence), not raised."""
    settings = settings or load_settings()
    target = url or index_url(source, settings)
    own_session = session is None
    session = session or make_session(source, settings)
    try:
        return session.fetch(target)
    finally:
        if own_session:
            session.close()


def fetch_cpi(settings: Settings | None = None, *, url: str | None = None) -> RawResponse:
    return fetch_index_file("cpi", settings, url=url)


def fetch_hofstede(settings: Settings | None = None, *, url: str | None = None) -> RawResponse:
    return fetch_index_file("hofstede", settings, url=url)


def fetch_heritage(settings: Settings | None = None, *, url: str | None = None) -> RawResponse:
    return fetch_index_file("heritage", settings, url=url)
