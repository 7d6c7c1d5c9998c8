"""Whole-task retries on the real Prefect engine: a crash is retried, an HTTP failure (already
retried request by request in connectors/http.py) and a configuration error are not."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from connectors.config import ConfigError
from flows.operations import Retries, load_operations
from flows.retries import with_retries

NO_WAIT = Retries(task_retries=2, backoff_seconds=0, jitter_factor=0)


def _run(error: BaseException, fail_times: int) -> tuple[str, list[int]]:
    calls: list[int] = []

    @task(name="flaky", cache_policy=NO_CACHE)
    def flaky() -> str:
        calls.append(len(calls) + 1)
        if len(calls) <= fail_times:
            raise error
        return "done"

    @flow(name="retry-check")
    def run() -> Any:
        return with_retries(flaky, NO_WAIT).submit().result()

    try:
        return run(), calls
    except Exception as exc:
        return f"raised {type(exc).__name__}", calls


def test_a_crashed_task_is_retried(prefect_harness: None) -> None:
    assert _run(RuntimeError("disk full"), fail_times=2) == ("done", [1, 2, 3])
    assert _run(RuntimeError("disk full"), fail_times=3) == ("raised RuntimeError", [1, 2, 3])


@pytest.mark.parametrize(
    "error", [requests.ConnectionError("refused"), ConfigError("missing contact")]
)
def test_http_and_config_failures_are_not_retried(
    prefect_harness: None, error: BaseException
) -> None:
    assert _run(error, fail_times=1) == (f"raised {type(error).__name__}", [1])


def test_backoff_doubles_from_the_configured_delay() -> None:
    retries = load_operations({}).retries
    task_ = with_retries(task(name="t")(lambda: None), retries)
    first = retries.backoff_seconds
    assert task_.retries == retries.task_retries == 2
    assert task_.retry_delay_seconds == [first, 2 * first]
