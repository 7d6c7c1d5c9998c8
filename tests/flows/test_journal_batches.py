"""The journal of a run in progress is ingested a bounded batch at a time: every complete
line once, in order, whatever the batch size, and never a line still being written."""

from __future__ import annotations

import json
from pathlib import Path

from flows.landing import JournalReader


def _line(i: int, pad: int = 0) -> bytes:
    return (json.dumps({"type": "log", "i": i, "pad": "x" * pad}) + "\n").encode()


def test_batches_give_every_complete_line_once_in_order(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    path.write_bytes(b"".join(_line(i) for i in range(50)) + _line(999, pad=500) + b'{"type": "lo')
    reader = JournalReader(path)
    batches = list(reader.new_batches(max_bytes=200))  # a few lines each; one line > 200
    assert len(batches) > 10 and all(batches)
    seen = [e["i"] for batch in batches for e in batch]
    assert seen == [*range(50), 999]
    assert list(reader.new_batches(max_bytes=200)) == []  # the cut line waits
    with path.open("ab") as fh:  # the writer finishes it and writes one more
        fh.write(b'g", "i": 1000, "pad": ""}\n' + _line(1001))
    assert [e["i"] for b in reader.new_batches(max_bytes=200) for e in b] == [1000, 1001]
