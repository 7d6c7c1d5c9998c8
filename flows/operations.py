"""Settings for running partnerdd unattended (config/operations.toml): the nightly schedule,
whole-task retries, how long a scheduled run waits for another refresh, snapshots kept, and
where parsing runs."""

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


TASK_RUNNERS = ("default", "dask")
# [run] may be missing from a user's own operations.toml written before it existed.
RUN_DEFAULTS: dict[str, Any] = {
    "task_runner": "default",
    "dask_address": "",
    "dask_workers": 2,
    "dask_groups_per_task": 20,
    "parse_processes": 1,
}


@dataclass(frozen=True)
class Run:
    """Where parsing runs: "default" in the refresh's own process, "dask" on a Dask cluster
    (flows/scaleout.py): the one at `dask_address`, or a local one of `dask_workers`
    processes; `dask_groups_per_task` partners are parsed per Prefect task."""

    task_runner: str = "default"
    dask_address: str = ""
    dask_workers: int = 2
    dask_groups_per_task: int = 20
    parse_processes: int = 1


@dataclass(frozen=True)
class Operations:
    schedule: Schedule
    retries: Retries
    keep_snapshots: int
    run: Run = Run()


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
    unknown = sorted(set(raw.get("run", {})) - set(RUN_DEFAULTS))
    if unknown:
        raise ConfigError(f"config/{CONFIG_NAME}: [run] {', '.join(unknown)} is not a setting")
    run = Run(**env_overlay("run", {**RUN_DEFAULTS, **raw.get("run", {})}, env))
    if run.task_runner not in TASK_RUNNERS:
        raise ConfigError(
            f"config/{CONFIG_NAME}: [run] task_runner {run.task_runner!r} is not one of "
            f"{', '.join(TASK_RUNNERS)} (PARTNERDD_RUN_TASK_RUNNER)"
        )
    if run.parse_processes < 0:
        raise ConfigError(f"config/{CONFIG_NAME}: [run] parse_processes must be >= 0")
    if run.dask_workers < 1 or run.dask_groups_per_task < 1:
        raise ConfigError(
            f"config/{CONFIG_NAME}: [run] dask_workers and dask_groups_per_task must be >= 1"
        )
    return Operations(schedule=schedule, retries=retries, keep_snapshots=keep, run=run)
