"""HTTP access to SEC EDGAR's JSON APIs. Fetches only; parsing lives in connectors.sec.parse.

The SEC's fair-access policy requires a User-Agent that names the requester and gives a
contact; live requests therefore need PARTNERDD_SEC_CONTACT (see .env.example).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

from connectors.config import ConfigError, Settings, load_settings, require_secret
from connectors.http import PoliteSession, RawResponse, make_session
from connectors.sec.cik import normalise_cik

SOURCE = "sec"
DEFAULT_BASE_URL = "https://data.sec.gov"
DEFAULT_TICKERS_URL = "https://www.sec.gov/files/company_tickers.json"
CONTACT_ENV = "PARTNERDD_SEC_CONTACT"
USER_AGENT_PRODUCT = "partnerdd/0.1"
OFFLINE_CONTACT = "offline replay, no contact"
_PAGE_NAME = re.compile(r"^CIK\d{10}-submissions-\d{3}\.json$")

__all__ = [
    "SecClient",
    "make_sec_client",
    "normalise_cik",
    "sec_user_agent",
]


def sec_user_agent(env: Mapping[str, str] | None = None, *, offline: bool) -> str:
    """'partnerdd/0.1 (<contact>)' from PARTNERDD_SEC_CONTACT.

    Live mode raises ConfigError naming the variable when it is missing or empty;
    offline (replay) mode falls back to a placeholder contact.
    """
    env = os.environ if env is None else env
    if offline and not env.get(CONTACT_ENV, "").strip():
        return f"{USER_AGENT_PRODUCT} ({OFFLINE_CONTACT})"
    contact = require_secret(CONTACT_ENV, env)
    if any(ch in contact for ch in "\r\n()"):
        raise ConfigError(f"{CONTACT_ENV} must be a plain e-mail or name, without newlines or ()")
    return f"{USER_AGENT_PRODUCT} ({contact})"


class SecClient:
    """Builds EDGAR URLs and fetches them; every method returns the RawResponse as received."""

    def __init__(self, session: PoliteSession, base_url: str, tickers_url: str) -> None:
        self.session = session
        self.base_url = base_url.rstrip("/")
        self.tickers_url = tickers_url

    def submissions_url(self, cik: str | int) -> str:
        return f"{self.base_url}/submissions/CIK{normalise_cik(cik)}.json"

    def companyfacts_url(self, cik: str | int) -> str:
        return f"{self.base_url}/api/xbrl/companyfacts/CIK{normalise_cik(cik)}.json"

    def submissions(self, cik: str | int) -> RawResponse:
        """Company profile plus its most recent (up to ~1000) filings."""
        return self.session.fetch(self.submissions_url(cik))

    def submissions_page(self, file_name: str) -> RawResponse:
        """An older filings page named in submissions' filings.files[].name."""
        if not _PAGE_NAME.match(file_name):
            raise ValueError(f"not an EDGAR submissions page name: {file_name!r}")
        return self.session.fetch(f"{self.base_url}/submissions/{file_name}")

    def companyfacts(self, cik: str | int) -> RawResponse:
        """Every XBRL fact the company has filed (us-gaap, ifrs-full, dei, ...)."""
        return self.session.fetch(self.companyfacts_url(cik))

    def company_tickers(self) -> RawResponse:
        """The SEC's ticker -> CIK -> title list (about 10,000 rows)."""
        return self.session.fetch(self.tickers_url)


def make_sec_client(
    settings: Settings | None = None,
    env: Mapping[str, str] | None = None,
    offline: bool = False,
) -> SecClient:
    """Wire a SecClient from [sources.sec] (url, tickers_url, rate_per_second) and the contact."""
    env = os.environ if env is None else env
    settings = settings or load_settings(env)
    section = settings.sources.get(SOURCE, {})
    base_url = str(section.get("url") or DEFAULT_BASE_URL)
    tickers_url = str(section.get("tickers_url") or DEFAULT_TICKERS_URL)
    session = make_session(SOURCE, settings, user_agent=sec_user_agent(env, offline=offline))
    return SecClient(session, base_url, tickers_url)
