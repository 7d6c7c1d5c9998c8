"""Project configuration: TOML defaults overridden by PARTNERDD_* environment variables."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = PROJECT_ROOT / "config"
ENV_PREFIX = "PARTNERDD_"


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

    def source(self, name: str) -> dict[str, Any]:
        try:
            return self.sources[name]
        except KeyError as exc:
            raise ConfigError(f"no [sources.{name}] section in config/sources.toml") from exc

    def source_url(self, name: str, key: str = "url") -> str:
        return str(self.source(name)[key]).rstrip("/")


def load_settings(env: Mapping[str, str] | None = None, path: Path | None = None) -> Settings:
    env = os.environ if env is None else env
    raw = tomllib.loads((path or CONFIG_DIR / "sources.toml").read_text(encoding="utf-8"))
    http = _overlay(None, raw.get("http", {}), env)
    sources = {
        name: _overlay(name, section, env) for name, section in raw.get("sources", {}).items()
    }
    return Settings(http=http, sources=sources)
