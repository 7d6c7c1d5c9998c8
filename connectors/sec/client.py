"""HTTP access to SEC EDGAR's JSON APIs. Fetches only; parsing lives in connectors.sec.parse.

The SEC's fair-access policy requires a User-Agent that names the requester and gives a
contact: [sources.sec] contact, set through PARTNERDD_SEC_CONTACT (see .env.example).
"""

from __future__ import annotations

from connectors.config import ConfigError, Settings
from connectors.http import PoliteSession, RawResponse, make_session
from connectors.sec.cik import normalise_cik

SOURCE = "sec"
CONTACT_ENV = "PARTNERDD_SEC_CONTACT"
USER_AGENT_PRODUCT = "partnerdd/0.1"
OFFLINE_CONTACT = "offline replay, no contact"

__all__ = [
    "SecClient",
    "make_sec_client",
    "normalise_cik",
    "sec_user_agent",
]


def sec_user_agent(settings: Settings, *, offline: bool) -> str:
    """'partnerdd/0.1 (<contact>)' from [sources.sec] contact (PARTNERDD_SEC_CONTACT).

    Live mode raises ConfigError naming the variable when it is missing or blank (never
    echoing a value); offline (replay) mode falls back to a placeholder contact.
    """
    contact = str(settings.source(SOURCE)["contact"]).strip()
    if not contact:
        if offline:
            return f"{USER_AGENT_PRODUCT} ({OFFLINE_CONTACT})"
        raise ConfigError(f"{CONTACT_ENV} is required but not set; see .env.example")
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

    def companyfacts(self, cik: str | int) -> RawResponse:
        """Every XBRL fact the company has filed (us-gaap, ifrs-full, dei, ...)."""
        return self.session.fetch(self.companyfacts_url(cik))

    def company_tickers(self) -> RawResponse:
        """The SEC's ticker -> CIK -> title list (about 10,000 rows)."""
        return self.session.fetch(self.tickers_url)


def make_sec_client(settings: Settings, *, offline: bool = False) -> SecClient:
    """Wire a SecClient from [sources.sec] (url, tickers_url, rate_per_second, contact)."""
    session = make_session(SOURCE, settings, user_agent=sec_user_agent(settings, offline=offline))
    return SecClient(
        session, settings.source_url(SOURCE), settings.source_url(SOURCE, "tickers_url")
    )
