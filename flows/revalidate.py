"""The answers a refresh already holds, for conditional and incremental fetching.

Before the extract tasks run, the latest final answer stored for every URL (a 2xx, or a
404/410 that says "no such record"; not an error) is looked up in the writer database; the
session factory (connectors/http.py) then revalidates it with its ETag / Last-Modified, or
reuses it without a request while it is younger than its source's `max_age_hours`.
`partnerdd refresh --full` skips all of this.
"""

from __future__ import annotations

import json
from datetime import datetime

import duckdb

from connectors.http import CachedAnswer
from flows.store import RawStore


class StoredAnswers:
    """connectors.http.AnswerCache over the raw store: url -> its last final answer."""

    def __init__(
        self, store: RawStore, rows: dict[str, tuple[int, str, int, str, datetime]]
    ) -> None:
        self.store = store
        self._rows = rows  # url -> (status, sha256, size, headers as JSON, fetched_at)

    @classmethod
    def load(cls, con: duckdb.DuckDBPyConnection, store: RawStore) -> StoredAnswers:
        rows = con.execute(
            """
            select url, status, sha256, size, headers, fetched_at
            from raw.responses
            where status between 200 and 299 or status in (404, 410)
            qualify row_number() over (
                partition by url order by fetched_at desc, response_id desc
            ) = 1
            """
        ).fetchall()
        return cls(store, {r[0]: r[1:] for r in rows})

    def __len__(self) -> int:
        return len(self._rows)

    def lookup(self, url: str) -> CachedAnswer | None:
        row = self._rows.get(url)
        if row is None or not self.store.blob_path(row[1]).exists():
            return None
        status, sha, size, headers, at = row
        return CachedAnswer(
            url=url,
            status=status,
            sha256=sha,
            size=size,
            headers=json.loads(headers or "{}"),
            fetched_at=at,
        )

    def body(self, sha256: str) -> bytes:
        return self.store.body(sha256)
