"""The scale benchmark keeps a refresh's own stage timings from its `time:` line."""

from __future__ import annotations

from benchmarks.scale import phase_seconds


def test_the_stages_of_a_wrapped_time_line_are_read() -> None:
    out = (
        "run 20261204T163346662476-18f655: ok -> /tmp/x.duckdb\n"
        "time: validator_start 0.1 s, extract_and_parse 158.2 s, build 52.1 s,\n"
        "publish 17.1 s, data_docs 3.5 s, site 7.3 s; slowest tables: stg_sec__facts 27.5 s"
    )
    assert phase_seconds(out) == {
        "validator_start": 0.1,
        "extract_and_parse": 158.2,
        "build": 52.1,
        "publish": 17.1,
        "data_docs": 3.5,
        "site": 7.3,
    }
    assert phase_seconds("request time: total 9.4 s (resolve 0.1 s); slowest tables: x") == {}
