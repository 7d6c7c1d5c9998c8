"""HTTP access to the GLEIF API. Returns raw responses; parsing lives in parse.py."""

from __future__ import annotations

from connectors.config import Settings
from connectors.http import PoliteSession, RawResponse, make_session

ACCEPT = {"Accept": "application/vnd.api+json"}
MAX_PAGE_SIZE = 200


class GleifClient:
    def __init__(self, session: PoliteSession, base_url: str) -> None:
        self.session = session
        self.base_url = base_url.rstrip("/")

    @classmethod
    def from_settings(cls, settings: Settings) -> GleifClient:
        return cls(make_session("gleif", settings), settings.source_url("gleif"))

    def lei_record(self, lei: str) -> RawResponse:
        return self.session.fetch(f"{self.base_url}/lei-records/{lei}", headers=ACCEPT)

    def lei_records_url(self) -> str:
        return f"{self.base_url}/lei-records"

    def lei_records(self, leis: list[str]) -> RawResponse:
        """One page holding the records of up to 200 LEIs (GLEIF's largest page); an LEI
        GLEIF does not know is simply absent from `data`."""
        params = {"filter[lei]": ",".join(leis), "page[size]": str(len(leis))}
        return self.session.fetch(self.lei_records_url(), params=params, headers=ACCEPT)
