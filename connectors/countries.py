"""Country normalisation to ISO 3166-1 alpha-3, shared by every source.

resolve() says whether a value is a country (with its code), an aggregate that must stay
out of country tables, or unknown, so callers can report instead of silently dropping.
"""

from __future__ import annotations

import tomllib
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import pycountry

from connectors.config import config_file

Kind = Literal["country", "aggregate", "unknown"]


@dataclass(frozen=True)
class CountryResolution:
    value: str
    kind: Kind
    iso3: str | None = None

    @property
    def iso2(self) -> str | None:
        if self.iso3 is None:
            return None
        if self.iso3 == "XKX":
            return "XK"
        country = pycountry.countries.get(alpha_3=self.iso3)
        return country.alpha_2 if country else None

    @property
    def name(self) -> str | None:
        if self.iso3 == "XKX":
            return "Kosovo"
        country = pycountry.countries.get(alpha_3=self.iso3) if self.iso3 else None
        return getattr(country, "common_name", None) or (country.name if country else None)


def _key(value: str) -> str:
    folded = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    return " ".join(folded.casefold().split())


@lru_cache(maxsize=1)
def _tables() -> tuple[dict[str, str], frozenset[str]]:
    raw = tomllib.loads((config_file("country_aliases.toml")).read_text(encoding="utf-8"))
    aliases = {_key(k): v for k, v in raw.get("aliases", {}).items()}
    aggregates = frozenset(_key(n) for n in raw.get("aggregates", {}).get("names", []))
    return aliases, aggregates


@lru_cache(maxsize=4096)
def resolve(value: str | None) -> CountryResolution:
    text = (value or "").strip()
    if not text:
        return CountryResolution(value="", kind="unknown")
    aliases, aggregates = _tables()
    key = _key(text)
    if key in aggregates:
        return CountryResolution(value=text, kind="aggregate")
    if key in aliases:
        return CountryResolution(value=text, kind="country", iso3=aliases[key])
    upper = text.upper()
    country = None
    if len(upper) == 2 and upper.isalpha():
        country = pycountry.countries.get(alpha_2=upper)
    elif len(upper) == 3 and upper.isalpha():
        country = pycountry.countries.get(alpha_3=upper)
    if country is None:
        try:
            country = pycountry.countries.lookup(text)
        except LookupError:
            country = None
    if country is None:
        return CountryResolution(value=text, kind="unknown")
    return CountryResolution(value=text, kind="country", iso3=country.alpha_3)


def to_iso3(value: str | None) -> str | None:
    """ISO alpha-3 for a country name or code; None for aggregates and unknown values."""
    return resolve(value).iso3
