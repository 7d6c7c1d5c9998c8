"""Run a command and measure it from outside: wall time, CPU time, peak memory of the process
and of its whole process tree (e.g. Prefect's temporary server), read from /proc (Linux).

The tree is sampled every `interval` seconds; a tree whose summed RSS passes `ceiling_bytes`,
or a run longer than `timeout_s`, is killed and reported as aborted rather than left to push
the machine into swap.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Measured:
    wall_s: float
    cpu_s: float  # user + system of the process and every descendant it waited for
    returncode: int | None
    own_peak_rss: int  # bytes: the kernel's high-water mark (VmHWM) of the process itself
    tree_peak_rss: int  # bytes: the largest sampled sum of VmRSS over the process tree
    tree_peak_processes: int
    aborted: str | None  # why the harness killed the run, or None
    left_behind: int  # descendants still alive after the process exited (killed by us)


def _stat(pid: int) -> tuple[int, int] | None:
    """(parent pid, start time in clock ticks) from /proc/<pid>/stat; None when gone or a
    zombie (exited, holding no memory)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()  # the command name may hold spaces
    return None if fields[0] == "Z" else (int(fields[1]), int(fields[19]))


def _tree(root: int) -> dict[int, int]:
    """Every live process under `root` (root included): pid -> start time."""
    children: dict[int, list[int]] = {}
    started: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _stat(int(entry))
            if stat is not None:
                children.setdefault(stat[0], []).append(int(entry))
                started[int(entry)] = stat[1]
    tree: dict[int, int] = {}
    stack = [root]
    while stack:
        pid = stack.pop()
        if pid in started:
            tree[pid] = started[pid]
            stack.extend(children.get(pid, []))
    return tree


def _status_kib(pid: int, *keys: str) -> dict[str, int]:
    values = dict.fromkeys(keys, 0)
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            name, _, rest = line.partition(":")
            if name in values:
                values[name] = int(rest.split()[0])
    except (OSError, ValueError, IndexError):
        pass
    return values


def _kill(tree: dict[int, int]) -> int:
    """SIGKILL the processes of `tree` that are still the same processes (pid and start time)."""
    killed = 0
    for pid in _alive(tree):
        try:
            os.kill(pid, signal.SIGKILL)
            killed += 1
        except ProcessLookupError:
            pass
    return killed


def _alive(tree: dict[int, int]) -> dict[int, int]:
    return {pid: t for pid, t in tree.items() if (_stat(pid) or (0, -1))[1] == t}


def _kill_stragglers(tree: dict[int, int], grace_s: float = 3.0) -> int:
    """Descendants still alive `grace_s` after the process exited are debris: kill them."""
    deadline = time.monotonic() + grace_s
    while _alive(tree) and time.monotonic() < deadline:
        time.sleep(0.1)
    return _kill(_alive(tree))


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_measured(
    cmd: Sequence[str],
    *,
    env: dict[str, str],
    cwd: Path,
    log_prefix: Path,
    ceiling_bytes: int,
    timeout_s: float,
    interval: float = 0.2,
) -> Measured:
    """Run `cmd` (stdout and stderr to `<log_prefix>.out` / `.err`) and measure it."""
    own_peak = tree_peak = tree_processes = 0
    aborted: str | None = None
    seen: dict[int, int] = {}
    cpu_before = _children_cpu()
    with (
        open(f"{log_prefix}.out", "wb") as out,
        open(f"{log_prefix}.err", "wb") as err,
    ):
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=out, stderr=err)
        while True:
            tree = _tree(proc.pid)
            seen.update(tree)
            rss = sum(_status_kib(pid, "VmRSS")["VmRSS"] for pid in tree) * 1024
            own_peak = max(own_peak, _status_kib(proc.pid, "VmHWM")["VmHWM"] * 1024)
            if rss > tree_peak:
                tree_peak, tree_processes = rss, len(tree)
            if rss > ceiling_bytes:
                aborted = f"tree RSS {rss / 2**30:.2f} GiB passed the ceiling"
            elif time.perf_counter() - start > timeout_s:
                aborted = f"still running after {timeout_s:.0f} s"
            if aborted:
                _kill(tree)
            try:
                proc.wait(timeout=None if aborted else interval)
                break
            except subprocess.TimeoutExpired:
                continue
        wall = time.perf_counter() - start
    left_behind = _kill_stragglers({pid: t for pid, t in seen.items() if pid != proc.pid})
    return Measured(
        wall_s=wall,
        cpu_s=_children_cpu() - cpu_before,
        returncode=proc.returncode,
        own_peak_rss=own_peak,
        tree_peak_rss=tree_peak,
        tree_peak_processes=tree_processes,
        aborted=aborted,
        left_behind=left_behind,
    )
