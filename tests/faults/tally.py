"""Which faults were injected into which connector and answered a request: counted in the
process that ran the test (an xdist worker sends its counts to the controller, which prints
them at the end of the session: tests/conftest.py)."""

from __future__ import annotations

from collections import Counter, defaultdict

from connectors.replay_faults import Fault

TALLY: defaultdict[str, Counter[str]] = defaultdict(Counter)


def record_faults(faults: list[Fault]) -> None:
    """Count the faults that answered at least one request, under their label (the
    connector they were aimed at); a fault that never fired would prove nothing."""
    silent = [f"{f.label}: {f.kind} {f.path}" for f in faults if not f.hits]
    assert not silent, f"injected faults no request met: {silent}"
    for fault in faults:
        TALLY[fault.label][fault.kind] += 1


def merge(counts: dict[str, dict[str, int]]) -> None:
    for connector, kinds in counts.items():
        TALLY[connector].update(kinds)


def summary_lines() -> list[str]:
    lines = [
        f"{connector:16} {sum(kinds.values()):4} faults of {len(kinds):2} kinds: "
        + ", ".join(f"{kind} {n}" for kind, n in sorted(kinds.items()))
        for connector, kinds in sorted(TALLY.items())
    ]
    total = sum(sum(kinds.values()) for kinds in TALLY.values())
    return [*lines, f"{'all connectors':16} {total:4} faults"] if lines else []
