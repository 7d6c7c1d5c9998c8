"""A flow command's start: Prefect's temporary server first, the command's own imports while
it starts.

The temporary server starts in a process of its own (7-22 s on these machines), so the
command's heavy imports (pandas, DuckDB, Great Expectations: ~4 s of CPU) cost no wall
time if they run while it starts, on a thread, rather than before it (delaying its start)
or after it. The flow engine then finds the server running: it is one per process
(prefect.server.api.server.SubprocessASGIServer) and stopped at exit, as before.

The garbage collector is off meanwhile: imports leave next to no garbage, yet each full
collection walks every object imported so far (~1.7 s of CPU in all during a refresh's
imports, and as much again in the interpreter's last collections at exit). What Prefect
and Great Expectations import lives as long as the process, so it is then frozen out of
every later collection, before the command makes any DuckDB object: DuckDB's bindings
report the objects of theirs that a frozen cycle keeps alive at exit as leaked.
"""

from __future__ import annotations

import gc
import importlib
import threading
from collections.abc import Sequence

GREAT_EXPECTATIONS = "great_expectations.data_context.types.base"


def _import_all(frozen: Sequence[str], others: Sequence[str], freeze: bool) -> None:
    for module in frozen:
        importlib.import_module(module)
    if freeze:
        gc.freeze()
    for module in others:
        importlib.import_module(module)


def start_server_importing(modules: Sequence[str], freeze: bool) -> None:
    """Start Prefect's temporary server (unless an API URL is configured or the temporary
    server is disabled, as in the tests), importing Great Expectations and then `modules`
    on a thread meanwhile; return when both are done. `freeze` only when the command is
    its process (not called inside another program, such as a test session, whose
    DuckDB objects would then be frozen too)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_EPHEMERAL_ENABLED

        temporary = not PREFECT_API_URL.value() and PREFECT_SERVER_EPHEMERAL_ENABLED.value()
        if temporary:
            from prefect.logging.configuration import ensure_logging_setup

            # before the thread starts: the server's own import must not wait for the GIL
            from prefect.server.api.server import SubprocessASGIServer

            ensure_logging_setup()  # else --verbose loses the server's "Starting" line
        imports = threading.Thread(
            target=_import_all,
            args=((GREAT_EXPECTATIONS,), modules, freeze),
            name="imports",
            daemon=True,
        )
        imports.start()
        if temporary:
            SubprocessASGIServer().start()
        imports.join()
    finally:
        if collecting:
            gc.enable()
