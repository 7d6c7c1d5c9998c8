"""Progress events from the flow to whoever displays them (the CLI's rich progress bars).

Tasks run in worker threads of the same process, so a listener list is enough; with no
listener, events are dropped and the flow's own log lines remain.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

Listener = Callable[[str, int, int | None, str | None], None]
_listeners: list[Listener] = []
_lock = threading.Lock()


def subscribe(listener: Listener) -> Callable[[], None]:
    with _lock:
        _listeners.append(listener)

    def unsubscribe() -> None:
        with _lock:
            if listener in _listeners:
                _listeners.remove(listener)

    return unsubscribe


def report(stage: str, advance: int = 0, total: int | None = None, note: str | None = None) -> None:
    """Stage `stage` advanced by `advance` steps (of `total` when known)."""
    with _lock:
        listeners = list(_listeners)
    for listener in listeners:
        listener(stage, advance, total, note)
