"""Processes for the benchmarks: the ones under a server, read from /proc (Linux), whose
memory they sample (bench/stream_rss.py, bench/rss_soak.py), and this interpreter run on the
project's scripts (bench/socket_swarm.py, bench/stream_rss.py)."""

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent


def run_python(arguments: Sequence[str], *, env: dict[str, str], timeout: float) -> str:
    """Run this interpreter on `arguments` (a script, or manage.py and a command) in the
    project's folder: its stdout, or exit with the end of its stderr when it failed."""
    result = subprocess.run(
        [sys.executable, *arguments],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(arguments)} failed:\n{result.stderr[-3000:]}")
    return result.stdout


def _parent_pid(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # ended meanwhile
        return None
    # The command name (field 2) may hold spaces and parentheses: split after the last ")".
    return int(stat.rsplit(")", 1)[1].split()[1])


def descendants(root: int) -> list[int]:
    """Every process started by `root`, by its children or theirs (not `root` itself)."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            parent = _parent_pid(int(entry.name))
            if parent is not None:
                children.setdefault(parent, []).append(int(entry.name))
    found, queue = [], [root]
    while queue:
        for child in children.get(queue.pop(), []):
            found.append(child)
            queue.append(child)
    return found
