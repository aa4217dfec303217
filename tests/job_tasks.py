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


def wait_for_release(directory: str, key: str) -> None:
    deadline = time.monotonic() + HOLD_SECONDS
    while not (Path(directory) / f"release-{key}").exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{key} was never released")
        time.sleep(0.05)


@jobs.task(name="tests.note_run")
def note_run(*, directory: str, key: str, hold: bool = False, seconds: float = 0.0) -> None:
    note(directory, f"start {key} {os.getpid()}")
    if hold:
        wait_for_release(directory, key)
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


@jobs.task(name="tests.note_run_once", queued_once_by=("key",))
def note_run_once(*, directory: str, key: str, hold: bool = False) -> None:
    """`note_run` coalesced by `key`: while one waits to run, enqueueing it again does nothing."""
    note_run(directory=directory, key=key, hold=hold)


@jobs.task(name="tests.fail_first_once", queued_once_by=("key",))
def fail_first_once(*, directory: str, key: str, hold: bool = False) -> None:
    """Coalesced by `key`; its first run (held until released, with `hold`) fails, the later
    ones succeed."""
    note(directory, f"start {key} {os.getpid()}")
    if sum(1 for line in journal_lines(Path(directory)) if line[:2] == ["start", key]) > 1:
        note(directory, f"done {key} {os.getpid()}")
        return
    if hold:
        wait_for_release(directory, key)
    raise ConnectionError(f"the bucket is away ({key})")
