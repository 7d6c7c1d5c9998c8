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


def _overlay(section: str | None, values: dict[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
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

    def source(self, name: str) -> dict[str, Any]:
        try:
            return self.sources[name]
        except KeyError as exc:
            raise ConfigError(f"no [sources.{name}] section in config/sources.toml") from exc

    def source_url(self, name: str, key: str = "url") -> str:
        return str(self.source(name)[key]).rstrip("/")


def load_settings(env: Mapping[str, str] | None = None, path: Path | None = None) -> Settings:
    env = os.environ if env is None else env
    raw = tomllib.loads((path or config_file("sources.toml", env)).read_text(encoding="utf-8"))
    http = _overlay(None, raw.get("http", {}), env)
    sources = {
        name: _overlay(name, section, env) for name, section in raw.get("sources", {}).items()
    }
    return Settings(http=http, sources=sources)
