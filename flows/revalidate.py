"""The answers a refresh already holds, for conditional and incremental fetching.

Before the extract tasks run, the latest final answer stored for every URL (a 2xx, or a
404/410 that says "no such record"; not an error) is looked up in the writer database; the
session factory (connectors/http.py) then revalidates it with its ETag / Last-Modified, or
reuses it without a request while it is younger than its source's `max_age_hours`.
Sources whose API takes a cursor (`SourceSpec.cursor`, e.g. GDELT's start time) get theirs
from what is already landed (`cursors`).
`partnerdd refresh --full` skips all of this.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import duckdb

from connectors.http import CachedAnswer
from connectors.source import SourceSpec
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
        # An answer that did not parse (an error page served as 200, a body of an unexpected
        # shape) is never reused or revalidated: the URL is asked again in full.
        rows = con.execute(
            """
            with latest as (
                select url, status, sha256, size, headers, fetched_at, run_id
                from raw.responses
                where status between 200 and 299 or status in (404, 410)
                qualify row_number() over (
                    partition by url order by fetched_at desc, response_id desc
                ) = 1
            )
            select url, status, sha256, size, headers, fetched_at from latest as r
            where not exists (
                select 1 from ops.fetch_log as f
                where f.outcome = 'parse_error' and f.url = r.url
                  and (f.payload_sha256 = r.sha256
                       or (f.payload_sha256 is null and f.run_id = r.run_id))
            )
            """
        ).fetchall()
        return cls(store, {r[0]: r[1:] for r in rows})

    def __len__(self) -> int:
        return len(self._rows)

    def lookup(self, url: str) -> CachedAnswer | None:
        row = self._rows.get(url)
        if row is None:
            return None
        status, sha, size, headers, at = row
        if not self.store.is_stored(sha):
            return None
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


def cursors(
    con: duckdb.DuckDBPyConnection, specs: Iterable[SourceSpec]
) -> dict[str, dict[str, Any]]:
    """{source: {partner_id: value}} from each source's `cursor` query over its landing
    tables. A query that fails costs only the cursor: that source fetches in full."""
    out: dict[str, dict[str, Any]] = {}
    for spec in specs:
        if spec.cursor is None:
            continue
        try:
            rows = con.execute(spec.cursor).fetchall()
        except duckdb.Error as exc:
            logging.getLogger(__name__).warning(
                "%s: cursor query failed, fetching in full: %s", spec.name, exc
            )
            continue
        out[spec.name] = {str(p): v for p, v in rows if p is not None and v is not None}
    return out
