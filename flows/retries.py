"""Prefect retries of a whole extract task, with exponential backoff (config/operations.toml
[retries]). A task that failed on HTTP is not retried: connectors/http.py retried each
request already (urllib3, honouring Retry-After), and retrying the task would multiply
those retries; so would a configuration error, which no retry heals."""

from __future__ import annotations

from typing import Any

import requests
from prefect import Task
from prefect.tasks import exponential_backoff

from connectors.config import ConfigError
from connectors.http import CANCELLATION
from flows.operations import Retries, load_operations

NOT_RETRIED: tuple[type[BaseException], ...] = (requests.RequestException, ConfigError)


def _worth_retrying(task: Any, task_run: Any, state: Any) -> bool:
    """Not for HTTP or configuration failures, nor for anything once the run is cancelled."""
    return not isinstance(state.data, NOT_RETRIED) and not CANCELLATION.event.is_set()


def with_retries(task: Task[Any, Any], retries: Retries | None = None) -> Task[Any, Any]:
    """`task` retried on failure, after 1, 2, 4 … × backoff_seconds (with jitter)."""
    retries = retries or load_operations().retries
    if not retries.task_retries:
        return task
    return task.with_options(
        retries=retries.task_retries,
        retry_delay_seconds=exponential_backoff(retries.backoff_seconds)(retries.task_retries),
        retry_jitter_factor=retries.jitter_factor,
        retry_condition_fn=_worth_retrying,
    )
