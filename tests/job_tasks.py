"""Tasks the job queue's tests enqueue (core/tests/test_jobs*.py). The workers those tests
start import this module (JOBS_IMPORT_PATHS=tests.job_tasks).

Each run writes lines to `runs.log` in a folder the test gives: `start KEY PID` and
`done KEY PID`, so a test sees which process ran what, and how often. A run told to `hold`
waits until the test creates `release-KEY` beside it."""

import os
import time
from pathlib import Path

from catalog.services import artist_named
from core import jobs

JOURNAL = "runs.log"
HOLD_SECONDS = 60


def note(directory: str, line: str) -> None:
    # One write in append mode: lines from several processes never interleave.
    with (Path(directory) / JOURNAL).open("a") as journal:
        journal.write(line + "\n")


def journal_lines(directory: Path) -> list[list[str]]:
    path = directory / JOURNAL
    return [line.split() for line in path.read_text().splitlines()] if path.exists() else []


def release(directory: Path, key: str) -> None:
    (directory / f"release-{key}").touch()


@jobs.task(name="tests.note_run")
def note_run(*, directory: str, key: str, hold: bool = False, seconds: float = 0.0) -> None:
    note(directory, f"start {key} {os.getpid()}")
    if hold:
        deadline = time.monotonic() + HOLD_SECONDS
        while not (Path(directory) / f"release-{key}").exists():
            if time.monotonic() > deadline:
                raise TimeoutError(f"{key} was never released")
            time.sleep(0.05)
    time.sleep(seconds)
    note(directory, f"done {key} {os.getpid()}")


@jobs.task(name="tests.always_fail", max_attempts=3)
def always_fail(*, directory: str, key: str) -> None:
    note(directory, f"start {key} {os.getpid()}")
    raise RuntimeError(f"the tape is jammed ({key})")


@jobs.task(name="tests.fail_twice", max_attempts=3)
def fail_twice(*, directory: str, key: str) -> None:
    """Fails its first two runs, succeeds at the third."""
    note(directory, f"start {key} {os.getpid()}")
    runs = sum(1 for line in journal_lines(Path(directory)) if line[:2] == ["start", key])
    if runs <= 2:
        raise ConnectionError(f"the bucket is away (run {runs})")
    note(directory, f"done {key} {os.getpid()}")


@jobs.task(name="tests.name_artist")
def name_artist(*, name: str) -> None:
    """Idempotent as every task must be: the artist called `name`, made once however many
    times the job runs."""
    artist_named(name)
