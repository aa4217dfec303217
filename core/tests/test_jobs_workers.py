"""The job queue on PostgreSQL with real worker processes (`manage.py procrastinate worker`
on the test database): a job commits or rolls back with its transaction, a killed worker's
job runs again, a failing job ends failed with its reason, workers share the queue."""

import os
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.urls import reverse

from catalog.models import Artist
from core.models import JobFailure
from tests.job_tasks import (
    always_fail,
    fail_first_once,
    journal_lines,
    name_artist,
    note_run,
    release,
)
from tests.job_workers import (
    Workers,
    finished,
    job_rows,
    started,
    wait_for,
    wait_for_status,
)
from tests.live_servers import _postgres_url

pytestmark = [pytest.mark.postgres_only]


class RolledBack(Exception):
    pass


@pytest.fixture(scope="module")
def worker_pool(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[Workers]:
    """Two workers on the test database for the module's tests (starting one takes seconds);
    stopped, and the queue emptied, at the end. The test database outlives each test's flush,
    so they serve every test."""
    log_dir = tmp_path_factory.mktemp("workers")
    with django_db_blocker.unblock():
        pool = Workers(_postgres_url(connection.settings_dict), log_dir)
        pool.start(2)
        yield pool
        pool.stop_all()
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM procrastinate_jobs")
            cursor.execute("DELETE FROM procrastinate_workers")


@pytest.fixture
def workers(worker_pool, transactional_db) -> Iterator[Workers]:
    """The module's workers, with a queue holding no test job of an earlier test (the queue's
    tables are procrastinate's unmanaged ones, which the test's flush leaves alone)."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM procrastinate_jobs WHERE task_name LIKE %s", ["tests.%"])
    return worker_pool


@pytest.fixture
def runs(tmp_path) -> Path:
    """The folder of the test tasks' journal (tests/job_tasks.py)."""
    directory = tmp_path / "runs"
    directory.mkdir()
    return directory


def create_and_enqueue_then_roll_back(runs: Path) -> None:
    with transaction.atomic():
        Artist.objects.create(name="Rolled back with its job")
        note_run.enqueue(directory=str(runs), key="rolled-back")
        raise RolledBack


def test_a_job_commits_or_rolls_back_with_the_rows_that_ask_for_it(workers, runs):
    with pytest.raises(RolledBack):
        create_and_enqueue_then_roll_back(runs)
    with transaction.atomic():
        Artist.objects.create(name="Committed with its job")
        note_run.enqueue(directory=str(runs), key="committed")

    wait_for_status("tests.note_run", "succeeded")
    keys = sorted(args["key"] for _, _, _, args in job_rows("tests.note_run"))
    assert keys == ["committed"]  # the rolled-back job never was a row
    assert [name for _, name, _ in journal_lines(runs)] == ["committed", "committed"]
    assert [(status, attempts) for _, status, attempts, _ in job_rows("tests.note_run")] == [
        ("succeeded", 1)
    ]
    assert not Artist.objects.filter(name="Rolled back with its job").exists()


def test_a_job_that_keeps_failing_stops_after_its_attempts_with_its_reason(workers, runs):
    always_fail.enqueue(directory=str(runs), key="jammed")

    wait_for_status("tests.always_fail", "failed")
    time.sleep(1)  # no fourth run comes
    ((job_id, _, attempts, _),) = job_rows("tests.always_fail")
    assert attempts == 3 == len(started(runs, "jammed"))
    failures = JobFailure.objects.filter(job_id=job_id).order_by("attempt")
    assert [(f.attempt, f.final, f.error) for f in failures] == [
        (1, False, "RuntimeError: the tape is jammed (jammed)"),
        (2, False, "RuntimeError: the tape is jammed (jammed)"),
        (3, True, "RuntimeError: the tape is jammed (jammed)"),
    ]
    assert 'raise RuntimeError(f"the tape is jammed ({key})")' in failures[2].details


def test_the_admin_shows_jobs_with_their_state_and_error_and_runs_failed_ones_again(
    workers, runs, staff_client
):
    always_fail.enqueue(directory=str(runs), key="jammed")
    wait_for_status("tests.always_fail", "failed")
    ((job_id, *_),) = job_rows("tests.always_fail")

    changelist = reverse("admin:procrastinate_procrastinatejob_changelist")
    listed = staff_client.get(changelist, {"task_name": "tests.always_fail"}).content.decode()
    assert "RuntimeError: the tape is jammed (jammed)" in listed
    assert re.search(r">\s*failed\s*<", listed)  # the status's label
    page = staff_client.get(
        reverse("admin:procrastinate_procrastinatejob_change", args=[job_id])
    ).content.decode()
    assert page.count("the tape is jammed (jammed)") == 3  # each run, in "Failed runs"
    assert "given up" in page

    # "Run again": once more (its attempts are spent, so one run), failed again.
    staff_client.post(changelist, {"action": "run_again", "_selected_action": [job_id]})
    wait_for(lambda: len(started(runs, "jammed")) == 4, what="the run asked for")
    wait_for_status("tests.always_fail", "failed")
    assert JobFailure.objects.filter(job_id=job_id).count() == 4


def test_a_coalesced_job_failing_while_a_newer_one_waits_leaves_the_work_to_it(workers, runs):
    """Its retry would put it back in the queue beside the newer one, which the unique
    queueing lock refuses (in the worker, after the run): it ends failed instead, and the
    newer one runs."""
    note_run.enqueue(directory=str(runs), key="busy", hold=True)  # keeps one worker busy
    wait_for(lambda: started(runs, "busy"), what="the other worker busy")
    fail_first_once.enqueue(directory=str(runs), key="album", hold=True)
    wait_for(lambda: started(runs, "album"), what="the first run")
    fail_first_once.enqueue(directory=str(runs), key="album")  # a change meanwhile: it waits

    release(runs, "album")

    wait_for(lambda: finished(runs, "album"), what="the newer job's run")
    wait_for(
        lambda: (
            [status for _, status, _, _ in job_rows("tests.fail_first_once")]
            == ["failed", "succeeded"]
        ),
        what="the first job failed, the newer one succeeded",
    )
    release(runs, "busy")
    assert len(started(runs, "album")) == 2  # no third run: the first was not retried
    (first_id, *_), _ = job_rows("tests.fail_first_once")
    failures = JobFailure.objects.filter(job_id=first_id)
    assert [(f.attempt, f.final) for f in failures] == [(1, True)]
    assert len(workers.running()) == 2
    wait_for_status("tests.note_run", "succeeded")


def test_admin_run_again_leaves_a_coalesced_job_alone_while_a_newer_one_waits(db, runs):
    from procrastinate.contrib.django.models import ProcrastinateJob

    from core.jobs import jobs_run_again

    queued = ProcrastinateJob.objects.filter(task_name="tests.fail_first_once")
    fail_first_once.enqueue(directory=str(runs), key="album")
    queued.update(status="failed")
    (failed_id,) = queued.values_list("id", flat=True)
    fail_first_once.enqueue(directory=str(runs), key="album")  # the newer one, waiting

    with transaction.atomic():
        assert jobs_run_again([failed_id]) == 0
        Artist.objects.create(name="The transaction still works")

    assert sorted(queued.values_list("status", flat=True)) == ["failed", "todo"]
    queued.delete()


def test_a_job_run_twice_leaves_the_same_rows(workers):
    def rows() -> list[tuple]:
        return list(Artist.objects.order_by("id").values_list("id", "name", "name_key"))

    def succeeded() -> int:
        return sum(status == "succeeded" for _, status, _, _ in job_rows("tests.name_artist"))

    name_artist.enqueue(name="Twice Told")
    wait_for(lambda: succeeded() == 1, what="the first job")
    once = rows()
    name_artist.enqueue(name="Twice Told")
    wait_for(lambda: succeeded() == 2, what="the second job")

    assert rows() == once
    assert [name for _, name, _ in once] == ["Twice Told"]


def test_two_workers_share_one_queue_each_job_run_once(workers, runs):
    pids = {worker.process.pid for worker in workers.running()}
    assert len(pids) == 2
    keys = [f"job-{number}" for number in range(16)]
    with transaction.atomic():
        for key in keys:
            note_run.enqueue(directory=str(runs), key=key, hold=True)
    try:
        # Each worker runs one job at a time (JOBS_WORKER_CONCURRENCY=1), and the first jobs
        # hold: two jobs under way are in two workers.
        wait_for(lambda: len(journal_lines(runs)) >= 2, what="two jobs under way")
        assert {int(pid) for _, _, pid in journal_lines(runs)} == pids
    finally:
        for key in keys:
            release(runs, key)

    wait_for(lambda: all(finished(runs, key) for key in keys), what="every job")
    ran_by = {key: started(runs, key) for key in keys}
    assert all(len(pids_of_key) == 1 for pids_of_key in ran_by.values()), ran_by
    assert {pid for (pid,) in ran_by.values()} == pids


def test_a_job_whose_worker_is_killed_runs_again_and_completes(workers, runs):
    """Last in the module: it kills one of the two workers."""
    note_run.enqueue(directory=str(runs), key="held", hold=True)
    try:
        wait_for(lambda: started(runs, "held"), what="the first run")
        (first_pid,) = started(runs, "held")
        (killed,) = [w for w in workers.running() if w.process.pid == first_pid]
        os.kill(first_pid, signal.SIGKILL)
        killed.process.wait(timeout=10)
        killed_at = time.monotonic()
        # The other worker sees the killed one's heartbeat stop and runs the job again.
        wait_for(lambda: len(started(runs, "held")) == 2, what="the run after the kill")
        requeued_after = time.monotonic() - killed_at
    finally:
        release(runs, "held")
    wait_for_status("tests.note_run", "succeeded")

    (survivor,) = workers.running()
    assert started(runs, "held") == [first_pid, survivor.process.pid]
    assert finished(runs, "held") == [survivor.process.pid]
    ((job_id, status, attempts, _),) = job_rows("tests.note_run")
    assert (status, attempts) == ("succeeded", 2)
    wait_for(lambda: JobFailure.objects.filter(job_id=job_id).exists(), what="its record")
    failure = JobFailure.objects.get(job_id=job_id)
    assert (failure.attempt, failure.final) == (1, False)
    assert failure.error.startswith("WorkerLost: the worker running this job stopped")
    # Heartbeats every 0.5 s, silent 4 s means dead, a sweep every second: 4 to 6 s.
    assert requeued_after < 10
    print(f"the killed worker's job ran again {requeued_after:.1f} s after the kill")
