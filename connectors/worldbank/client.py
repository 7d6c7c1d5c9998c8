"""HTTP access to the World Bank WGI: the publisher's bulk workbook or the API v2 series."""

from __future__ import annotations

from collections.abc import Iterator

from connectors.config import Settings
from connectors.http import PoliteSession, RawResponse, make_session
from connectors.worldbank.parse import WGI_API_CODES, WgiPayloadError, api_page_count


class WorldBankClient:
    def __init__(
        self, session: PoliteSession, base_url: str, bulk_url: str, max_pages: int = 50
    ) -> None:
        self.session = session
        self.base_url = base_url.rstrip("/")
        self.bulk_url = bulk_url
        self.max_pages = max_pages

    @classmethod
    def from_settings(cls, settings: Settings) -> WorldBankClient:
        return cls(
            make_session("worldbank", settings),
            settings.source_url("worldbank"),
            settings.source_url("worldbank", "bulk_url"),
        )

    def bulk_workbook(self) -> RawResponse:
        return self.session.fetch(self.bulk_url)

    def api_series(self, per_page: int = 20000) -> Iterator[RawResponse]:
        """All pages of the six GOV_WGI_*.EST series (source 3), one indicator at a time.

        Every answer is yielded (the caller stores it). A series stops at a non-2xx answer or
        at a 200 that is no page: the API answers errors as HTTP 200 with a one-element array
        ([{"message": [...]}]); the parse step reports that answer's message."""
        for code in WGI_API_CODES:
            page, pages = 1, 1
            while page <= pages and page <= self.max_pages:
                response = self.session.fetch(
                    f"{self.base_url}/country/all/indicator/{code}",
                    params={
                        "source": "3",
                        "format": "json",
                        "per_page": str(per_page),
                        "page": str(page),
                    },
                )
                yield response
                if not response.ok:
                    break
                try:
                    pages = api_page_count(response.body)
                except WgiPayloadError:
                    break
                page += 1
