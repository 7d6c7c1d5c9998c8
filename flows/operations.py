"""Settings for running partnerdd unattended (config/operations.toml): the nightly schedule,
whole-task retries, how long a scheduled run waits for another refresh, snapshots kept."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connectors.config import ConfigError, config_file, env_overlay

CONFIG_NAME = "operations.toml"


@dataclass(frozen=True)
class Schedule:
    deployment: str
    cron: str
    timezone: str
    partners: Path
    database: Path
    reports: Path
    offline: bool
    wait_seconds: float


@dataclass(frozen=True)
class Retries:
    task_retries: int
    backoff_seconds: float
    jitter_factor: float


@dataclass(frozen=True)
class Operations:
    schedule: Schedule
    retries: Retries
    keep_snapshots: int


def _section(raw: dict[str, Any], name: str, env: Mapping[str, str]) -> dict[str, Any]:
    if name not in raw:
        raise ConfigError(f"no [{name}] section in config/{CONFIG_NAME}")
    return env_overlay(name, raw[name], env)


def load_operations(env: Mapping[str, str] | None = None, base: Path | None = None) -> Operations:
    """Read config/operations.toml (or the user's copy) with PARTNERDD_<SECTION>_<KEY>
    overrides; relative paths are resolved against `base` (default: the current directory)."""
    env = os.environ if env is None else env
    raw = tomllib.loads(config_file(CONFIG_NAME, env).read_text(encoding="utf-8"))
    base = Path.cwd() if base is None else base
    sched = _section(raw, "schedule", env)
    schedule = Schedule(
        deployment=str(sched["deployment"]),
        cron=str(sched["cron"]),
        timezone=str(sched["timezone"]),
        partners=(base / Path(sched["partners"]).expanduser()).resolve(),
        database=(base / Path(sched["database"]).expanduser()).resolve(),
        reports=(base / Path(sched["reports"]).expanduser()).resolve(),
        offline=bool(sched["offline"]),
        wait_seconds=float(sched["wait_seconds"]),
    )
    retry = _section(raw, "retries", env)
    retries = Retries(
        task_retries=int(retry["task_retries"]),
        backoff_seconds=float(retry["backoff_seconds"]),
        jitter_factor=float(retry["jitter_factor"]),
    )
    keep = int(_section(raw, "snapshots", env)["keep"])
    if keep < 0 or retries.task_retries < 0:
        raise ConfigError(f"config/{CONFIG_NAME}: snapshots.keep and task_retries must be >= 0")
    return Operations(schedule=schedule, retries=retries, keep_snapshots=keep)
