"""Project configuration: TOML defaults overridden by PARTNERDD_* environment variables."""

from __future__ import annotations

import os
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ENV_PREFIX = "PARTNERDD_"
CONFIG_ENV = "PARTNERDD_CONFIG"
# Every source's own time budget per run ([sources.<source>], else [http]: connectors/budget.py)
TIME_BUDGET = "time_budget_seconds"


def resource_dir(name: str) -> Path:
    """A folder shipped with partnerdd (sql, expectations, config, demo): the source
    checkout's when running from one (an editable install too), else the copy `pip install`
    put under <prefix>/share/partnerdd (pyproject.toml data-files)."""
    checkout = PROJECT_ROOT / name
    if (PROJECT_ROOT / "pyproject.toml").is_file() and checkout.is_dir():
        return checkout
    return Path(sys.prefix) / "share" / "partnerdd" / name


def work_dir() -> Path:
    """Where data/ and reports/ go by default: the checkout, or the current directory."""
    return PROJECT_ROOT if (PROJECT_ROOT / "pyproject.toml").is_file() else Path.cwd()


def config_file(name: str, env: Mapping[str, str] | None = None) -> Path:
    """A config file: from the user's directory ($PARTNERDD_CONFIG, set by --config) when it
    has one by that name, else the default shipped with partnerdd."""
    env = os.environ if env is None else env
    own = env.get(CONFIG_ENV, "").strip()
    if own:
        directory = Path(own).expanduser()
        if not directory.is_dir():
            raise ConfigError(f"{CONFIG_ENV}={own!r} is not a directory")
        if (directory / name).is_file():
            return directory / name
    return resource_dir("config") / name


class ConfigError(RuntimeError):
    """Raised when configuration is missing or malformed; the message says what to set."""


def _coerce(value: str, like: Any) -> Any:
    if isinstance(like, bool):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(like, int):
        return int(value)
    if isinstance(like, float):
        return float(value)
    return value


def env_overlay(
    section: str | None, values: dict[str, Any], env: Mapping[str, str]
) -> dict[str, Any]:
    """`values` with each key overridden by PARTNERDD_[<SECTION>_]<KEY> when set, coerced to
    the default's type (a value that does not parse is a ConfigError naming the variable)."""
    out = dict(values)
    for key, default in values.items():
        name = ENV_PREFIX + (f"{section}_" if section else "") + key
        name = name.upper()
        if name in env and env[name] != "":
            try:
                out[key] = _coerce(env[name], default)
            except ValueError as exc:
                raise ConfigError(
                    f"{name}={env[name]!r} is not a valid {type(default).__name__}"
                ) from exc
    return out


@dataclass(frozen=True)
class Settings:
    http: dict[str, Any]
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)
    # What the refresh already holds (connectors.http.AnswerCache): revalidated with
    # If-None-Match / If-Modified-Since, or reused while younger than a source's max age.
    # None (`--full`, or no earlier run) fetches everything.
    answers: Any = None
    # Where each source's incremental fetch starts, per partner (SourceSpec.cursor, read off
    # what is already landed): {source: {partner_id: value}}. Empty with `--full`.
    cursors: dict[str, dict[str, Any]] = field(default_factory=dict)
    # The running extract's time budget (connectors.budget.TimeBudget; the refresh gives each
    # source its own): past it, its sessions make no new request. None: no budget.
    budget: Any = None

    def source(self, name: str) -> dict[str, Any]:
        try:
            return self.sources[name]
        except KeyError as exc:
            raise ConfigError(f"no source declares [sources.{name}] settings") from exc

    def source_url(self, name: str, key: str = "url") -> str:
        return str(self.source(name)[key]).rstrip("/")


def source_defaults() -> dict[str, dict[str, Any]]:
    """Every setting a source declares (`config` in connectors/<src>/source.py), by section."""
    from connectors.source import declared_sources  # the sources import this module

    defaults: dict[str, dict[str, Any]] = {}
    for spec in declared_sources():
        for section, values in spec.config.items():
            if section in defaults:
                raise ConfigError(f"[sources.{section}] is declared by two sources")
            defaults[section] = dict(values)
    for spec in declared_sources():  # None: the [http] default, filled in by load_settings
        defaults.setdefault(spec.name, {}).setdefault(TIME_BUDGET, None)
    return defaults


def _overrides(path: Path, defaults: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """A sources.toml: [http] and [sources.<section>] values; a setting no source declares
    is refused (a typo would otherwise be ignored silently)."""
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    for section, values in raw.get("sources", {}).items():
        unknown = sorted(set(values) - set(defaults.get(section, {})))
        if unknown:
            known = ", ".join(sorted(defaults.get(section, {}))) or "none: no such source"
            raise ConfigError(
                f"{path}: [sources.{section}] {', '.join(unknown)} is not a setting "
                f"(known: {known})"
            )
    return raw


def for_every_source(key: str, value: str) -> dict[str, str]:
    """PARTNERDD_<SOURCE>_<KEY>=value for every source that has the setting `key`: e.g. lift
    every rate limit for a loopback server, or make every source revalidate its answers."""
    return {
        f"{ENV_PREFIX}{name.upper()}_{key.upper()}": value
        for name, section in load_settings({}).sources.items()
        if key in section
    }


def load_settings(env: Mapping[str, str] | None = None, path: Path | None = None) -> Settings:
    """The sources' declared defaults, overridden by config/sources.toml (the shipped one,
    then the user's own from $PARTNERDD_CONFIG or `path`), then by PARTNERDD_* variables."""
    env = os.environ if env is None else env
    defaults = source_defaults()
    shipped = resource_dir("config") / "sources.toml"
    own = path or config_file("sources.toml", env)
    files = [shipped] if own == shipped else [shipped, own]
    http: dict[str, Any] = {}
    sources = {name: dict(values) for name, values in defaults.items()}
    for file in files:
        raw = _overrides(file, defaults)
        http.update(raw.get("http", {}))
        for name, values in raw.get("sources", {}).items():
            sources.setdefault(name, {}).update(values)
    http = env_overlay(None, {**http, TIME_BUDGET: float(http[TIME_BUDGET])}, env)
    for values in sources.values():
        if TIME_BUDGET in values:
            own = values[TIME_BUDGET]
            values[TIME_BUDGET] = float(http[TIME_BUDGET] if own is None else own)
    return Settings(
        http=http,
        sources={name: env_overlay(name, values, env) for name, values in sources.items()},
    )
