"""The raw store: every HTTP answer as it arrived, durable the moment it arrives.

Bodies are gzip-compressed, content-addressed by their sha256 and written once
(``payloads/ab/<sha256>.gz``); a second identical answer costs a hash, not a write. Each
answer's metadata (source, kind, partner, url, status, headers, fetched_at, run) and each
fetch-log row is appended to the run's journal (``journal/<run_id>.jsonl``, one `write`
per line, no buffer), so a killed run loses at most the requests in flight: the next run
ingests the journal of every earlier run into the writer database before it starts.

Nothing here keeps a body in memory after it is written; parse steps read bodies back by
sha256 (`RawStore.body`).
"""

from __future__ import annotations

import gzip
import itertools
import json
import os
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from connectors.http import redact_url

SENSITIVE_HEADERS = {"authorization", "cookie", "set-cookie", "proxy-authorization"}


def redact_text(text: str | None, urls: tuple[str | None, ...] = ()) -> str | None:
    """An error message with any credentials of the given URLs removed."""
    if text is None:
        return None
    for url in urls:
        if url and "@" in url:
            parts = urlsplit(url)
            if parts.password:
                text = text.replace(parts.password, "***")
            if parts.username:
                text = text.replace(f"{parts.username}:", "***:").replace(
                    f"{parts.username}@", "***@"
                )
    return text


def _clean_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.lower() not in SENSITIVE_HEADERS}


class PayloadFiles:
    """The stored bodies, read only: what a parse in another local process reads them with
    (it pickles as its directory)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.payloads = root / "payloads"

    def blob_path(self, sha256: str) -> Path:
        return self.payloads / sha256[:2] / f"{sha256}.gz"

    def body(self, sha256: str) -> bytes:
        return gzip.decompress(self.compressed(sha256))

    def compressed(self, sha256: str) -> bytes:
        """The body as stored (gzip): what is sent to a parse on another machine."""
        return self.blob_path(sha256).read_bytes()


class RawStore(PayloadFiles):
    """A directory of compressed payloads and per-run journals (one writer process)."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.journals = root / "journal"
        self.payloads.mkdir(parents=True, exist_ok=True)
        self.journals.mkdir(parents=True, exist_ok=True)
        self._journal: Any = None
        self.run_id: str | None = None
        self._ids = itertools.count()
        self._id_prefix = uuid.uuid4().hex[:16]
        self._stored: set[str] = set()  # blobs known to be stored: no stat for them

    # -- writing -------------------------------------------------------------------
    def begin(self, run_id: str) -> None:
        self.run_id = run_id
        # unbuffered append: each line is one write(2), whole and in order with the other
        # threads' lines (O_APPEND), so no lock is needed. With a lock the extract threads
        # queued for it and then for the GIL after each write; without it a 1,000-partner
        # rerun's extract took about 1 s less (README, session 13).
        self._journal = (self.journals / f"{run_id}.jsonl").open("ab", buffering=0)

    def close(self) -> None:
        journal, self._journal = self._journal, None
        if journal is not None:
            journal.close()

    def write_body(self, sha256: str, body: bytes | Callable[[], bytes]) -> None:
        """Write the body once per sha256 (`body` may be a callable that reads it: not called
        when the blob is already stored)."""
        if self.is_stored(sha256):
            return
        path = self.blob_path(sha256)
        if callable(body):
            body = body()
        path.parent.mkdir(exist_ok=True)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
        with tmp.open("wb") as fh:
            # level 1: about 4x faster than 5 for 1.6x the bytes (a 2.5 MB body: 14 ms, not 65)
            fh.write(gzip.compress(body, compresslevel=1, mtime=0))
        os.replace(tmp, path)
        self._stored.add(sha256)

    def is_stored(self, sha256: str) -> bool:
        """Whether the blob is stored (asked of the file system once per run and blob)."""
        if sha256 in self._stored:
            return True
        if self.blob_path(sha256).exists():
            self._stored.add(sha256)
            return True
        return False

    def new_id(self) -> str:
        """A response id unique across runs without a system call per id (uuid4 reads
        os.urandom each time)."""
        return f"{self._id_prefix}{next(self._ids):016x}"

    def journal(self, entry: dict[str, Any]) -> None:
        line = (json.dumps(entry, default=_json_default, ensure_ascii=False) + "\n").encode()
        journal = self._journal
        if journal is None:
            raise RuntimeError("RawStore.begin(run_id) was not called")
        written = journal.write(line)
        if written != len(line):  # a full disk: the line is cut, and skipped when read
            raise OSError(f"journal {self.run_id}: wrote {written} of {len(line)} bytes")

    def put(
        self,
        *,
        source: str,
        kind: str,
        partner_id: str | None,
        url: str,
        status: int,
        headers: Mapping[str, str],
        body: bytes | Callable[[], bytes],
        sha256: str,
        fetched_at: datetime,
        meta: Mapping[str, Any] | None = None,
        size: int | None = None,
    ) -> dict[str, Any]:
        """Write the body (once per sha256) and journal the answer; returns its metadata."""
        self.write_body(sha256, body)
        entry = {
            "type": "response",
            "response_id": self.new_id(),
            "run_id": self.run_id,
            "source": source,
            "kind": kind,
            "partner_id": partner_id,
            "url": redact_url(url),
            "status": status,
            "headers": _clean_headers(headers),
            "sha256": sha256,
            "size": size if size is not None else len(body() if callable(body) else body),
            "fetched_at": fetched_at,
            "meta": dict(meta or {}),
        }
        self.journal(entry)
        return entry

    def log(self, row: Mapping[str, Any]) -> None:
        """One ops.fetch_log row (an attempt and its outcome), journaled like a response."""
        url = row.get("url")
        clean = {
            "occurred_at": datetime.now(UTC),
            **row,
            "url": redact_url(url),
            "error": redact_text(row.get("error"), (url,)),
        }
        self.journal({"type": "log", "run_id": self.run_id, **clean})

    # -- reading -------------------------------------------------------------------
    def pending_journals(self, exclude: str | None = None) -> list[Path]:
        return sorted(p for p in self.journals.glob("*.jsonl") if p.stem != exclude)

    def retire(self, path: Path) -> None:
        """A journal fully ingested into the writer database moves to journal/done/."""
        done = self.journals / "done"
        done.mkdir(exist_ok=True)
        os.replace(path, done / path.name)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)
