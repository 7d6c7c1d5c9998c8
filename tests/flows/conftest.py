"""Fixtures shared by the flow tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flows.db import store_path
from tests.conftest import DEMO_DB, copy_state


@pytest.fixture(scope="module")
def demo_copies(
    demo_state: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, Path]]:
    here = copy_state(demo_state, tmp_path_factory.mktemp("here")) / DEMO_DB
    there = copy_state(demo_state, tmp_path_factory.mktemp("there")) / DEMO_DB
    yield store_path(here), store_path(there)
