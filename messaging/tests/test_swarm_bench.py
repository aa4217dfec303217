"""bench/socket_swarm.py runs end to end with tiny numbers, against the project and against the
bare python-socketio floor (bench/socketio_bare.py): the benchmark of the real-time layer keeps
working as the server changes, and its exactly-once and presence checks pass.

Each run is a subprocess with servers of its own (uvicorn on a scratch SQLite database, no
Redis), so this needs nothing but the repository and runs under pytest-xdist.
"""

import os
import re
import signal
import subprocess
import sys

import pytest

from tests.helpers import PROJECT

BENCH = PROJECT / "bench" / "socket_swarm.py"
TINY = [
    *("--sockets", "20", "--rates", "20", "--duration", "1"),
    *("--only", "connect,socket,activity,disconnect", "--time-limit", "120"),
]
# The bench bounds itself at 120 s; this only catches a bench that does not.
RUN_TIMEOUT_SECONDS = 180


def run_bench(*arguments: str) -> subprocess.CompletedProcess[str]:
    # The bench sets every server setting itself; REDIS_URL stays empty as for the suite.
    env = {**os.environ, "REDIS_URL": ""}
    process = subprocess.Popen(
        [sys.executable, str(BENCH), *arguments],
        cwd=PROJECT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=RUN_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        # SIGTERM first: the bench then stops the servers it started.
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=30)
        pytest.fail(f"the bench ran over {RUN_TIMEOUT_SECONDS} s:\n{stdout}\n{stderr}")
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def row(output: str, header_start: str) -> list[str]:
    """The cells of the first data row of the table whose header starts with `header_start`."""
    lines = output.splitlines()
    for index, line in enumerate(lines):
        if line.startswith(f"| {header_start} |"):
            return [cell.strip() for cell in lines[index + 2].strip("|").split("|")]
    pytest.fail(f"no table starting with {header_start!r} in:\n{output}")


@pytest.mark.parametrize("target", ["project", "bare"])
def test_the_socket_swarm_bench_runs_and_its_checks_pass(target):
    result = run_bench("--target", target, *TINY)
    output = result.stdout

    assert result.returncode == 0, f"{output}\n{result.stderr[-3000:]}"
    assert f"## socket_swarm: target {target}, 1 socket process(es)" in output
    assert "legacy presence events off" in output
    # 1. Every socket accepted, every view settled on the 20 users.
    connect = row(output, "sockets")
    assert connect[:3] == ["20", "20", "0"], connect
    assert connect[-1] == "ok", connect
    # 2. 20 messages, each received and confirmed once (and stored once by the project).
    socket = row(output, "rate/s")
    assert socket[:2] == ["20", "20"], socket
    assert socket[4:7] == ["20", "20", "20" if target == "project" else "—"], socket
    assert "yes" in socket, socket
    # 4. Five changes, each seen by the 20 sockets.
    activity = row(output, "changes")
    assert activity[:5] == ["5", "20", "100", "100", "0"], activity
    # 5. Half leave; the ten left see exactly each other.
    disconnect = row(output, "closed")
    assert disconnect[:2] == ["10", "10"], disconnect
    assert disconnect[4] == "10/10", disconnect
    assert disconnect[-1] == "ok", disconnect
    assert re.search(r"^0 failure\(s\)", output, re.MULTILINE), output
