"""A source's time budget per run: once its extract has run this long, it asks nothing more.

The refresh gives each extract its own budget (`Settings.budget`, from the source's
`time_budget_seconds`), started when the extract starts. Past it, the session refuses every
request not yet made (`BudgetSpent`, a requests error, so every connector records it where it
records a failed request: that partner's or dataset's row) and a per-partner loop records a
partner it has not begun as deferred without asking; requests in flight finish within their
own caps. What was stored stays; the fetch log says `deferred` with the reason, and the next
run asks the partners least recently answered first, so the deferred ones come first.
"""

from __future__ import annotations

import threading
import time

import requests

DEFERRED = "deferred"  # ops.fetch_log outcome of what the budget did not reach


class BudgetSpent(requests.RequestException):
    """The source's time budget for this run ran out before this request was made."""


class TimeBudget:
    """Seconds one source's extract may spend asking, from `start()` (≤ 0: no limit)."""

    def __init__(self, source: str, seconds: float) -> None:
        self.source = source
        self.seconds = seconds
        self.reached = False  # something was deferred because the budget ran out
        self._deadline: float | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start counting (once: a retried extract task does not get a new budget)."""
        with self._lock:
            if self._deadline is None:
                self._deadline = time.monotonic() + self.seconds

    @property
    def reason(self) -> str:
        return (
            f"deferred to the next run: source {self.source} ran out of its time budget of "
            f"{self.seconds:g} s per run (time_budget_seconds) before this request"
        )

    def spent(self) -> bool:
        """True once the budget has run out (and it is then counted as reached)."""
        if self.seconds <= 0 or self._deadline is None or time.monotonic() < self._deadline:
            return False
        self.reached = True
        return True

    def check(self) -> None:
        """Raise BudgetSpent when the budget has run out: the request is not made."""
        if self.spent():
            raise BudgetSpent(self.reason)
