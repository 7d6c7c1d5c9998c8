"""A flow command's start (flows/startup.py): its imports run while Prefect's server starts,
with the garbage collector off; what was imported is frozen out of later collections only
in a process that is the command's own."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from pathlib import Path

from flows.startup import start_server_importing

ROOT = Path(__file__).parents[2]


def test_inside_another_process_the_imports_run_and_nothing_is_frozen(prefect_api: str) -> None:
    """A test session calling the command (flows.cli.main) keeps its collector as it was:
    its own DuckDB objects, frozen, would be reported leaked when it exits."""
    sys.modules.pop("colorsys", None)
    frozen = gc.get_freeze_count()
    start_server_importing(("colorsys",), freeze=False)
    assert "colorsys" in sys.modules
    assert gc.isenabled() and gc.get_freeze_count() == frozen
    gc.disable()
    try:
        start_server_importing((), freeze=False)
        assert not gc.isenabled()  # a caller's choice is left alone
    finally:
        gc.enable()


def test_the_commands_own_process_freezes_what_it_imported(prefect_api: str) -> None:
    """As `partnerdd refresh` does: the CLI imported, the start, then DuckDB at work; at exit
    DuckDB's bindings would report any object of theirs that a frozen cycle kept alive."""
    script = (
        "import gc, sys\n"
        "import flows.cli\n"
        "from flows.startup import start_server_importing\n"
        "start_server_importing(('flows.refresh',), freeze=True)\n"
        "import duckdb\n"
        "con = duckdb.connect()\n"
        "frame = con.execute('select 1 as a, current_date as d').df()\n"
        "print(gc.isenabled(), gc.get_freeze_count() > 100_000, 'flows.refresh' in sys.modules)\n"
        "con.close()\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PREFECT_API_URL": prefect_api}
    done = subprocess.run(  # noqa: S603 (our own code)
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True", "True"]
    assert "leaked" not in done.stderr
