"""Job queue workers for tests on PostgreSQL: real `manage.py procrastinate worker`
processes on a database, with quick clocks, and reads of procrastinate's queue."""

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from django.db import connection

from tests.helpers import PROJECT
from tests.job_tasks import journal_lines
from tests.live_servers import ServerProcess, server_env

WORKER_START_SECONDS = 60
# Quick clocks for the tests: a worker silent for 4 s is dead (8 missed heartbeats: a busy
# machine does not kill a live one), swept every second.
WORKER_ENV = {
    "JOBS_IMPORT_PATHS": "tests.job_tasks",
    "JOBS_HEARTBEAT_SECONDS": "0.5",
    "JOBS_STALLED_AFTER_SECONDS": "4",
    "JOBS_STALLED_CHECK_SECONDS": "1",
    "JOBS_RETRY_BASE_SECONDS": "0.2",
    "JOBS_POLL_SECONDS": "0.2",
    "JOBS_WORKER_CONCURRENCY": "1",
    "LOG_LEVEL": "INFO",
}


def wait_for(condition: Callable[[], object], *, timeout: float = 20.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what or condition}"
        time.sleep(0.05)


def wait_for_status(task_name: str, status: str) -> None:
    """Until the task's one job has `status` (a worker records it just after the run ends)."""
    wait_for(lambda: [row[1] for row in job_rows(task_name)] == [status], what=status)


def job_rows(task_name: str) -> list[tuple[int, str, int, dict]]:
    """(id, status, attempts, args) of the task's jobs, oldest first."""
    from procrastinate.contrib.django.models import ProcrastinateJob  # PostgreSQL only

    jobs = ProcrastinateJob.objects.filter(task_name=task_name).order_by("id")
    return list(jobs.values_list("id", "status", "attempts", "args"))


def worker_ids() -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM procrastinate_workers")
        return {row[0] for row in cursor.fetchall()}


def started(directory: Path, key: str) -> list[int]:
    """The pids of the processes that started `key`, in order."""
    return [
        int(pid) for kind, name, pid in journal_lines(directory) if (kind, name) == ("start", key)
    ]


def finished(directory: Path, key: str) -> list[int]:
    return [
        int(pid) for kind, name, pid in journal_lines(directory) if (kind, name) == ("done", key)
    ]


class Workers:
    def __init__(self, database_url: str, log_dir: Path) -> None:
        self.env = server_env(database_url=database_url, redis_url="", env=WORKER_ENV)
        self.log_dir = log_dir
        self.started: list[ServerProcess] = []

    def start(self, count: int = 1) -> list[ServerProcess]:
        """`count` worker processes, started together, once each has registered in the queue's
        table of workers."""
        before = self.worker_ids()
        new = []
        for _ in range(count):
            log_path = self.log_dir / f"worker-{len(self.started)}.log"
            with log_path.open("w") as log:
                process = subprocess.Popen(
                    [sys.executable, "manage.py", "procrastinate", "worker"],
                    cwd=PROJECT,
                    env=self.env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            new.append(ServerProcess(process=process, log_path=log_path))
            self.started.append(new[-1])
        deadline = time.monotonic() + WORKER_START_SECONDS
        while len(self.worker_ids() - before) < count:
            for worker in new:
                if worker.process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"a worker did not start:\n{worker.log()}")
            time.sleep(0.1)
        return new

    def worker_ids(self) -> set[int]:
        """The workers registered in the queue the workers use (the test database's)."""
        return worker_ids()

    def running(self) -> list[ServerProcess]:
        return [worker for worker in self.started if worker.process.poll() is None]

    def stop_all(self) -> None:
        for worker in self.started:
            worker.stop()
            print(f"--- worker {worker.process.pid} ---\n{worker.log()}")
