"""HTTP access to the GLEIF API. Returns raw responses; parsing lives in parse.py."""

from __future__ import annotations

from connectors.config import Settings
from connectors.http import PoliteSession, RawResponse, make_session


class GleifClient:
    def __init__(self, session: PoliteSession, base_url: str) -> None:
        self.session = session
        self.base_url = base_url.rstrip("/")

    @classmethod
    def from_settings(cls, settings: Settings) -> GleifClient:
        return cls(make_session("gleif", settings), settings.source_url("gleif"))

    def lei_record(self, lei: str) -> RawResponse:
        return self.session.fetch(
            f"{self.base_url}/lei-records/{lei}", headers={"Accept": "application/vnd.api+json"}
        )
