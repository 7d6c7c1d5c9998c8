"""The README's example queries run, read-only, on a refreshed demo database."""

from __future__ import annotations

import re
from typing import Any

import duckdb

from connectors.config import PROJECT_ROOT


def readme_queries() -> list[str]:
    text = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Example queries\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sql\n(.*?)```", section, flags=re.DOTALL)


def test_readme_example_queries_return_rows(refreshed: dict[str, Any]) -> None:
    queries = readme_queries()
    assert len(queries) >= 5
    with duckdb.connect(str(refreshed["db"]), read_only=True) as con:
        for query in queries:
            rows = con.execute(query).fetchall()
            assert rows, query
