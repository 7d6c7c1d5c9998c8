"""The journal of a run in progress is ingested a bounded batch at a time: every complete
line once, in order, whatever the batch size, and never a line still being written. DuckDB
reads the lines into the writer database: each kind of entry into its table, a line cut by
a kill left out, the rest of the batch kept."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from flows.db import open_work
from flows.landing import JournalReader, ingest
from flows.store import RawStore


def _line(i: int, pad: int = 0) -> bytes:
    return (json.dumps({"type": "log", "i": i, "pad": "x" * pad}) + "\n").encode()


def _numbers(batches: list[bytes]) -> list[int]:
    return [json.loads(line)["i"] for batch in batches for line in batch.splitlines()]


def test_batches_give_every_complete_line_once_in_order(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    path.write_bytes(b"".join(_line(i) for i in range(50)) + _line(999, pad=500) + b'{"type": "lo')
    reader = JournalReader(path)
    batches = list(reader.new_batches(max_bytes=200))  # a few lines each; one line > 200
    assert len(batches) > 10 and all(b.endswith(b"\n") for b in batches)
    assert _numbers(batches) == [*range(50), 999]
    assert list(reader.new_batches(max_bytes=200)) == []  # the cut line waits
    with path.open("ab") as fh:  # the writer finishes it and writes one more
        fh.write(b'g", "i": 1000, "pad": ""}\n' + _line(1001))
    assert _numbers(list(reader.new_batches(max_bytes=200))) == [1000, 1001]


def test_ingest_puts_each_entry_in_its_table_and_skips_a_cut_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = RawStore(tmp_path / "store")
    store.begin("run-1")
    at = datetime(2026, 12, 4, 9, 30, tzinfo=UTC)
    store.put(
        source="sec", kind="facts", partner_id="p1", url="http://h/x", status=200,
        headers={"ETag": '"e1"', "Cookie": "secret"}, body=b"{}", sha256="ab" * 32,
        fetched_at=at, meta={"cik": "0000320193"},
    )  # fmt: skip
    store.log({"source": "sec", "kind": "facts", "partner_id": "p1", "outcome": "ok"})
    store.journal(
        {"type": "record", "run_id": "run-1", "source": "web", "partner_id": "p2",
         "table": "raw.web_skipped", "row": {"page": "/über", "why": None}}
    )  # fmt: skip
    store.close()
    path = store.journals / "run-1.jsonl"
    with path.open("ab") as fh:
        fh.write(b'{"type": "response", "run_id": "run-1", "source": "se')  # killed here
    con = open_work(tmp_path / "store", {})
    try:
        assert ingest(con, path) == 1
        response = con.execute(
            "select run_id, source, kind, partner_id, status, headers, size, fetched_at, meta "
            "from raw.responses"
        ).fetchall()
        assert response == [
            ("run-1", "sec", "facts", "p1", 200, '{"ETag":"\\"e1\\""}', 2, at,
             '{"cik":"0000320193"}'),
        ]  # fmt: skip
        log = con.execute("select run_id, source, partner_id, outcome from ops.fetch_log")
        assert log.fetchall() == [("run-1", "sec", "p1", "ok")]
        record = con.execute(
            "select partner_id, table_name, row_json from raw.extract_records"
        ).fetchall()
        assert [(p, t, json.loads(r)) for p, t, r in record] == [
            ("p2", "raw.web_skipped", {"page": "/über", "why": None})
        ]
        assert "1 journal line(s) could not be read" in caplog.text
    finally:
        con.close()
