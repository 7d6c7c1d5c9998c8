"""The loader benchmark compares like with like: every loader lands the same rows of the
same companies from the real recorded SEC payload (timings are the benchmark's, not asserted)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import loader

COMPANIES = 3


def test_every_loader_lands_every_row_of_every_company(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(loader, "REPEAT", 1)  # rows, not timings: one round is enough
    # small chunks: a few companies (a small input) still make several
    monkeypatch.setattr(loader, "CHUNK_ROWS", 10_000)
    out = tmp_path / "loader.json"
    assert loader.main(["--companies", str(COMPANIES), "--output", str(out)]) == 0
    result = json.loads(out.read_text(encoding="utf-8"))
    per_company = len(loader.company_facts(1)[0])
    assert per_company > 8000  # Snowflake's facts, not an empty parse
    assert result["rows"] == COMPANIES * per_company
    assert sorted(r["loader"] for r in result["loaders"]) == [
        "bare arrow", "dlt append", "dlt merge", "ours",
    ]  # fmt: skip
    for r in result["loaders"]:
        assert (r["loader"], r["rows"], r["ciks"], r["complete"]) == (
            r["loader"], COMPANIES * per_company, COMPANIES, True,
        )  # fmt: skip
    assert COMPANIES * per_company > loader.CHUNK_ROWS  # ours lands in more than one chunk


def test_a_loader_that_lost_rows_is_reported_failed_not_fast() -> None:
    landed = [
        ("ours", 100, 2),
        ("dlt merge", 99, 2),
        ("dlt append", 100, 1),
        ("bare arrow", 100, 2),
    ]
    loaders = [
        {"loader": name, "seconds": 1.0, "rows": rows, "ciks": ciks} for name, rows, ciks in landed
    ]
    loader.score(loaders, loader.Landed(rows=100, ciks=2))
    assert [r["rows_per_s"] for r in loaders] == [100.0, None, None, 100.0]
    q = loader.ratios(loaders)
    assert q["ours_over_dlt_merge"] is None and q["ours_over_dlt_fastest"] is None
    assert q["dlt_target_met"] is False
    assert q["bare_over_ours"] == 1.0 and q["bare_bound_met"] is True
