"""The job queue's runner for SQLite (core/jobs.py): jobs run in this process after commit,
never for a rolled-back transaction, retried with backoff, their failures recorded. Run on
either database (the runner is chosen by JOBS_BACKEND; `make run` on SQLite uses it)."""

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connection, transaction
from django.urls import reverse

from catalog.models import Artist
from core.jobs import IN_PROCESS, PROCRASTINATE, retry_delay
from core.models import JobFailure
from tests.job_tasks import (
    always_fail,
    fail_first_once,
    fail_twice,
    journal_lines,
    name_artist,
    note_run,
    note_run_once,
    release,
)

pytestmark = pytest.mark.django_db(transaction=True)


class RolledBack(Exception):
    pass


def wait_for(condition: Callable[[], object], *, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def runs(directory: Path, event: str) -> list[str]:
    return [key for kind, key, _ in journal_lines(directory) if kind == event]


def create_and_enqueue_then_roll_back(directory: Path) -> None:
    with transaction.atomic():
        Artist.objects.create(name="Rolled back with its job")
        note_run.enqueue(directory=str(directory), key="rolled-back")
        raise RolledBack


@pytest.fixture
def in_process(settings):
    settings.JOBS_BACKEND = IN_PROCESS
    settings.JOBS_RETRY_BASE_SECONDS = 0.05
    return settings


def test_a_job_runs_after_its_transaction_commits_and_never_after_a_rollback(in_process, tmp_path):
    with transaction.atomic():
        Artist.objects.create(name="Committed with its job")
        note_run.enqueue(directory=str(tmp_path), key="committed")
        time.sleep(0.2)
        assert journal_lines(tmp_path) == []  # not before the commit
    with pytest.raises(RolledBack):
        create_and_enqueue_then_roll_back(tmp_path)
    note_run.enqueue(directory=str(tmp_path), key="after")  # outside a transaction: at once

    wait_for(lambda: {"committed", "after"} <= set(runs(tmp_path, "done")))
    time.sleep(0.2)
    assert sorted(runs(tmp_path, "start")) == ["after", "committed"]
    assert not Artist.objects.filter(name="Rolled back with its job").exists()


def test_a_failing_job_is_retried_with_backoff_and_its_failures_recorded(in_process, tmp_path):
    fail_twice.enqueue(directory=str(tmp_path), key="flaky")

    wait_for(lambda: runs(tmp_path, "done") == ["flaky"])
    assert runs(tmp_path, "start") == ["flaky"] * 3
    failures = JobFailure.objects.order_by("attempt")
    assert [(f.task_name, f.attempt, f.final) for f in failures] == [
        ("tests.fail_twice", 1, False),
        ("tests.fail_twice", 2, False),
    ]
    assert failures[0].error == "ConnectionError: the bucket is away (run 1)"
    assert failures[0].arguments == {"directory": str(tmp_path), "key": "flaky"}
    assert "raise ConnectionError" in failures[0].details


def test_a_job_that_keeps_failing_stops_after_its_attempts_with_the_reason(in_process, tmp_path):
    always_fail.enqueue(directory=str(tmp_path), key="jammed")

    wait_for(lambda: JobFailure.objects.filter(final=True).exists())
    time.sleep(retry_delay(3) * 3)  # no fourth run comes
    assert runs(tmp_path, "start") == ["jammed"] * 3
    failures = JobFailure.objects.order_by("attempt").values_list("attempt", "final", "error")
    assert list(failures) == [
        (1, False, "RuntimeError: the tape is jammed (jammed)"),
        (2, False, "RuntimeError: the tape is jammed (jammed)"),
        (3, True, "RuntimeError: the tape is jammed (jammed)"),
    ]


def test_the_admin_lists_each_failed_run_with_its_error(in_process, tmp_path, staff_client):
    always_fail.enqueue(directory=str(tmp_path), key="jammed")
    wait_for(lambda: JobFailure.objects.filter(final=True).exists())

    page = staff_client.get(reverse("admin:core_jobfailure_changelist")).content.decode()
    assert page.count("RuntimeError: the tape is jammed (jammed)") == 3
    assert (page.count("Retried"), page.count("Given up")) == (2, 1)
    final = JobFailure.objects.get(final=True)
    detail = staff_client.get(reverse("admin:core_jobfailure_change", args=[final.pk]))
    assert "raise RuntimeError" in detail.content.decode()


def test_running_a_job_twice_leaves_the_same_rows(in_process):
    def rows() -> list[tuple]:
        return list(Artist.objects.order_by("id").values_list("id", "name", "name_key"))

    name_artist.enqueue(name="Twice Told")
    wait_for(lambda: Artist.objects.filter(name="Twice Told").exists())
    once = rows()
    name_artist.enqueue(name="Twice Told")
    name_artist(name="Twice Told")  # and once more, called directly
    time.sleep(0.3)

    assert rows() == once


def test_arguments_that_are_not_json_are_refused_when_enqueued(in_process, tmp_path):
    with pytest.raises(TypeError, match=r"tests\.note_run: a job's arguments must be JSON"):
        note_run.enqueue(directory=tmp_path, key="a path object")
    time.sleep(0.1)
    assert journal_lines(tmp_path) == []


def test_a_coalesced_job_enqueued_ten_times_in_one_transaction_runs_once(in_process, tmp_path):
    with transaction.atomic():
        for _ in range(10):
            note_run_once.enqueue(directory=str(tmp_path), key="album-1")
        note_run_once.enqueue(directory=str(tmp_path), key="album-2")  # another key: its own
        # One handed over at commit per key (Django's pending callbacks of this transaction).
        assert len(connection.run_on_commit) == 2

    wait_for(lambda: sorted(runs(tmp_path, "done")) == ["album-1", "album-2"])
    time.sleep(0.3)  # no late duplicate comes
    assert sorted(runs(tmp_path, "start")) == ["album-1", "album-2"]


def test_a_coalesced_job_enqueued_during_its_run_runs_again_after(in_process, tmp_path):
    note_run_once.enqueue(directory=str(tmp_path), key="album", hold=True)
    wait_for(lambda: runs(tmp_path, "start") == ["album"])

    note_run_once.enqueue(directory=str(tmp_path), key="album", hold=True)  # a later change
    release(tmp_path, "album")

    wait_for(lambda: runs(tmp_path, "done") == ["album", "album"])
    assert runs(tmp_path, "start") == ["album", "album"]


@pytest.mark.postgres_only
def test_on_postgresql_a_coalesced_job_waits_once_in_the_queue(tmp_path):
    from procrastinate.contrib.django.models import ProcrastinateJob

    queued = ProcrastinateJob.objects.filter(task_name="tests.note_run_once")
    try:
        with transaction.atomic():
            for _ in range(10):
                note_run_once.enqueue(directory=str(tmp_path), key="album-1")
            # The refused inserts cost a savepoint each, never the caller's transaction.
            Artist.objects.create(name="Written after the refused enqueues")
        note_run_once.enqueue(directory=str(tmp_path), key="album-1")  # a later transaction
        note_run_once.enqueue(directory=str(tmp_path), key="album-2")

        assert Artist.objects.filter(name="Written after the refused enqueues").exists()
        assert sorted((job.queueing_lock, job.status) for job in queued) == [
            ('tests.note_run_once:["album-1"]', "todo"),
            ('tests.note_run_once:["album-2"]', "todo"),
        ]
        queued.filter(queueing_lock__endswith='["album-1"]').update(status="doing")
        note_run_once.enqueue(directory=str(tmp_path), key="album-1")  # started: queued anew
        assert queued.filter(queueing_lock__endswith='["album-1"]').count() == 2
    finally:
        queued.delete()  # procrastinate's table is not flushed with the test's rows


@pytest.mark.postgres_only
def test_the_stalled_job_sweep_ends_a_coalesced_job_whose_newer_one_waits(tmp_path):
    """Put back in the queue, it would collide with the newer one on the unique queueing
    lock (and stay `doing` for good): it ends failed, and the newer one does the work."""
    from asgiref.sync import async_to_sync
    from procrastinate import JobContext
    from procrastinate.contrib.django import app
    from procrastinate.contrib.django.models import ProcrastinateJob

    from core.tasks import retry_stalled_jobs

    queued = ProcrastinateJob.objects.filter(task_name="tests.fail_first_once")
    try:
        fail_first_once.enqueue(directory=str(tmp_path), key="album")
        queued.update(status="doing")  # under a worker that is gone (no heartbeat at all)
        (stalled_id,) = queued.values_list("id", flat=True)
        fail_first_once.enqueue(directory=str(tmp_path), key="album")  # a change meanwhile

        # The sweep as a worker runs it (it reads only the context's app).
        context = JobContext(app=app, job=None, start_timestamp=0.0, abort_reason=lambda: None)
        async_to_sync(retry_stalled_jobs.func)(context, timestamp=0)

        statuses = dict(queued.values_list("id", "status"))
        assert statuses.pop(stalled_id) == "failed"
        assert list(statuses.values()) == ["todo"]
        failure = JobFailure.objects.get(job_id=stalled_id)
        assert failure.final
        assert failure.error.startswith("WorkerLost")
    finally:
        queued.delete()  # procrastinate's table is not flushed with the test's rows


@pytest.mark.sqlite_only
def test_on_sqlite_the_queue_and_its_migrations_are_not_installed():
    assert django_settings.JOBS_BACKEND == IN_PROCESS
    assert not apps.is_installed("procrastinate.contrib.django")
    assert not any(
        name.startswith("procrastinate") for name in connection.introspection.table_names()
    )


@pytest.mark.postgres_only
def test_on_postgresql_jobs_go_to_the_queue_whose_tables_migrate_made():
    assert django_settings.JOBS_BACKEND == PROCRASTINATE
    assert apps.is_installed("procrastinate.contrib.django")
    assert {"procrastinate_jobs", "procrastinate_workers"} <= set(
        connection.introspection.table_names()
    )


@pytest.mark.sqlite_only
def test_the_worker_command_ends_at_once_on_sqlite_where_jobs_run_in_the_server(capsys):
    call_command("jobs_worker")

    assert "Jobs run in the server process on SQLite: no worker to start" in capsys.readouterr().out


def test_the_backoff_doubles_up_to_its_ceiling(settings):
    settings.JOBS_RETRY_BASE_SECONDS = 10
    settings.JOBS_RETRY_MAX_SECONDS = 60

    assert [retry_delay(attempt) for attempt in (1, 2, 3, 4, 5)] == [10, 20, 40, 60, 60]
