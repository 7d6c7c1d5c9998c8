"""The home company (config/home.toml): the reference side of every comparison."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connectors.config import ConfigError, config_file
from connectors.countries import resolve


@dataclass(frozen=True)
class HomeCompany:
    name: str
    country_iso3: str
    capabilities_have: tuple[str, ...] = ()
    capabilities_seek: tuple[str, ...] = ()
    aims: dict[str, Any] = field(default_factory=dict)
    risk: dict[str, Any] = field(default_factory=dict)
    languages: tuple[str, ...] = ()
    size: dict[str, Any] = field(default_factory=dict)


def load_home(path: Path | None = None) -> HomeCompany:
    path = path or config_file("home.toml")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read home company file {path}: {exc}") from exc
    company = raw.get("company", {})
    country = resolve(str(company.get("country", "")))
    if country.iso3 is None:
        raise ConfigError(f"{path}: [company] country {company.get('country')!r} is not a country")
    capabilities = raw.get("capabilities", {})
    return HomeCompany(
        name=str(company.get("name", "home")),
        country_iso3=country.iso3,
        capabilities_have=tuple(capabilities.get("have", [])),
        capabilities_seek=tuple(capabilities.get("seek", [])),
        aims=dict(raw.get("aims", {})),
        risk=dict(raw.get("risk", {})),
        languages=tuple(str(lang).lower() for lang in company.get("languages", [])),
        size=dict(raw.get("size", {})),
    )
