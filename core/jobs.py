"""Background jobs: define a task, and enqueue it as part of the current transaction.

    from core import jobs

    @jobs.task()
    def song_analyse(*, song_id: int) -> None:
        ...  # idempotent: a job may run more than once (a retry, a dead worker's job)

    song_analyse.enqueue(song_id=song.pk)  # in the service's transaction.atomic()

Arguments are keywords with JSON values. A job enqueued in a transaction that rolls back never
runs; one in a transaction that commits runs once it is committed. Where it runs is
settings.JOBS_BACKEND's choice (docs/JOBS.md):

- "procrastinate" (PostgreSQL): the job is a row of procrastinate's queue, written through
  Django's own connection, so in the caller's transaction; worker processes
  (`manage.py procrastinate worker`) run it.
- "in_process" (SQLite, where procrastinate cannot run): `transaction.on_commit` hands it to
  a few threads of the server process. Not durable: a job queued when the process stops is
  lost, which suits `make run` and the tests, never production.

A task made with `queued_once_by=("album_id",)` is coalesced: while a job of it with the same
values of those arguments waits to run (queued, not yet started), enqueueing another does
nothing; once it has started, the next enqueue queues a new one, so a change made during a
run is never missed. For work that reads the current state when it runs (an album's loudness
after each of its songs changed): ten songs added in one go queue one job, not ten.

Either way a run that raises is retried after JOBS_RETRY_BASE_SECONDS, doubled at each
failure, until JOBS_MAX_ATTEMPTS runs; each failure is a `JobFailure` row (its exception
text and traceback) that the admin shows, the last one marked `final`.
"""

import json
import logging
import threading
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection, transaction

from core.models import JobFailure

logger = logging.getLogger(__name__)

PROCRASTINATE = "procrastinate"
IN_PROCESS = "in_process"
# The traceback kept with a failure is cut to this many characters (its end: the raise).
TRACEBACK_MAX_CHARS = 10_000


def retry_delay(attempt: int) -> float:
    """Seconds to wait after the `attempt`-th run (1, 2, ...) failed before the next one."""
    delay = settings.JOBS_RETRY_BASE_SECONDS * 2 ** (attempt - 1)
    return min(delay, settings.JOBS_RETRY_MAX_SECONDS)


# Every task defined in this process, by name.
TASKS: dict[str, "Task"] = {}


class Task:
    """A function that runs as a background job (made by the `task` decorator)."""

    def __init__(
        self,
        func: Callable[..., Any],
        *,
        name: str,
        max_attempts: int | None,
        queued_once_by: tuple[str, ...] = (),
    ) -> None:
        self.func = func
        self.name = name
        self._max_attempts = max_attempts
        self.queued_once_by = queued_once_by
        self._procrastinate_task: Any = None
        self.__doc__ = func.__doc__

    @property
    def max_attempts(self) -> int:
        return self._max_attempts or settings.JOBS_MAX_ATTEMPTS

    def __call__(self, **kwargs: Any) -> Any:
        """Run the function here and now (a command or a test), not as a job."""
        return self.func(**kwargs)

    def __repr__(self) -> str:
        return f"<Task {self.name}>"

    def queueing_lock(self, arguments: dict[str, Any]) -> str | None:
        """What identifies this job among the waiting ones (None: not coalesced)."""
        if not self.queued_once_by:
            return None
        values = [arguments.get(name) for name in self.queued_once_by]
        return f"{self.name}:{json.dumps(values, separators=(',', ':'))}"

    def enqueue(self, **kwargs: Any) -> None:
        """Run this task with these arguments as a job once the current transaction commits
        (at once outside a transaction); never if it rolls back. A coalesced task's job is
        not queued again while one with the same `queued_once_by` arguments waits."""
        arguments = _json_arguments(self.name, kwargs)
        lock = self.queueing_lock(arguments)
        if settings.JOBS_BACKEND == PROCRASTINATE:
            # Deferred through Django's connection: the job's row is written in the caller's
            # transaction, and commits or rolls back with it.
            _defer(self._procrastinate_task, arguments, lock)
        else:
            _submit_after_commit(self, arguments, lock)

    def run_job(self, arguments: dict[str, Any], *, job_id: int | None, attempt: int) -> None:
        """One run of a job: the function, and on failure its record; then the thread's
        database connection goes back (workers and the in-process runner reuse threads)."""
        try:
            self.func(**arguments)
        except Exception as error:
            record_failure(
                task_name=self.name,
                job_id=job_id,
                attempt=attempt,
                final=attempt >= self.max_attempts,
                arguments=arguments,
                error=f"{type(error).__name__}: {error}",
                details=traceback.format_exc()[-TRACEBACK_MAX_CHARS:],
            )
            raise
        finally:
            connection.close()


def record_failure(
    *,
    task_name: str,
    job_id: int | None,
    attempt: int,
    final: bool,
    arguments: dict[str, Any],
    error: str,
    details: str = "",
) -> None:
    """Keep why a run failed. Never raises: the job's own error is the one to report."""
    try:
        close_old_connections()  # a connection the task broke (the database restarted)
        JobFailure.objects.create(
            task_name=task_name,
            job_id=job_id,
            attempt=attempt,
            final=final,
            arguments=arguments,
            error=error,
            details=details,
        )
    except Exception:
        logger.exception(
            "Could not record the failure of %s (job %s): %s", task_name, job_id, error
        )


def task(
    *,
    name: str | None = None,
    max_attempts: int | None = None,
    queued_once_by: tuple[str, ...] = (),
) -> Callable[..., Task]:
    """Make a function (keyword arguments with JSON values) a task that can be enqueued.

    `name` identifies its jobs in the queue (default: module.function; keep it when moving
    the function, or queued jobs will not find it); `max_attempts` overrides
    JOBS_MAX_ATTEMPTS for this task; `queued_once_by` names the arguments by which waiting
    jobs are coalesced (see the module's docstring)."""

    def register(func: Callable[..., Any]) -> Task:
        registered = Task(
            func,
            name=name or f"{func.__module__}.{func.__name__}",
            max_attempts=max_attempts,
            queued_once_by=tuple(queued_once_by),
        )
        if "procrastinate.contrib.django" in settings.INSTALLED_APPS:
            registered._procrastinate_task = _procrastinate_task(registered)
        TASKS[registered.name] = registered
        return registered

    return register


def _json_arguments(task_name: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    """The arguments as the job will get them (a JSON round trip), or a TypeError now rather
    than in the worker."""
    try:
        return json.loads(json.dumps(kwargs))
    except (TypeError, ValueError) as error:
        raise TypeError(f"{task_name}: a job's arguments must be JSON values ({error})") from None


# --- PostgreSQL: procrastinate ----------------------------------------------------------


class Superseded(Exception):
    """A coalesced job failed while a newer one with its queueing lock waits: that one does
    the work, so this one is not retried (a retry, back to `todo`, would collide with it on
    procrastinate's unique queueing-lock index)."""


def _defer(procrastinate_task: Any, arguments: dict[str, Any], lock: str | None) -> None:
    if lock is None:
        procrastinate_task.defer(**arguments)
        return
    from procrastinate.exceptions import AlreadyEnqueued

    try:
        # A savepoint: the refused insert aborts it, not the caller's transaction.
        with transaction.atomic():
            procrastinate_task.configure(queueing_lock=lock).defer(**arguments)
    except AlreadyEnqueued:
        logger.debug("A job %s is already queued", lock)


def newer_job_waits(lock: str) -> bool:
    """Whether a job with this queueing lock waits in the queue (PostgreSQL)."""
    from procrastinate.contrib.django.models import ProcrastinateJob

    return ProcrastinateJob.objects.filter(queueing_lock=lock, status="todo").exists()


def _procrastinate_task(registered: Task) -> Any:
    from procrastinate import BaseRetryStrategy, RetryDecision
    from procrastinate.contrib.django import app

    class ExponentialBackoff(BaseRetryStrategy):
        def get_retry_decision(self, *, exception: BaseException, job: Any) -> Any:
            attempt = job.attempts + 1  # procrastinate counts the runs before this one
            if attempt >= registered.max_attempts or isinstance(exception, Superseded):
                return None
            return RetryDecision(retry_in={"seconds": retry_delay(attempt)})

    def run(context: Any, **arguments: Any) -> None:
        try:
            registered.run_job(arguments, job_id=context.job.id, attempt=context.job.attempts + 1)
        except Exception as error:
            lock = context.job.queueing_lock
            try:
                if lock is not None and newer_job_waits(lock):
                    # Given up: the failure just recorded is this job's last.
                    attempt = context.job.attempts + 1
                    JobFailure.objects.filter(job_id=context.job.id, attempt=attempt).update(
                        final=True
                    )
                    raise Superseded(f"{lock}: a newer job waits") from error
            finally:
                connection.close()  # as run_job does: the worker's threads are reused
            raise

    run.__name__ = registered.func.__name__
    run.__module__ = registered.func.__module__
    return app.task(name=registered.name, pass_context=True, retry=ExponentialBackoff())(run)


# --- SQLite: threads of the server process ----------------------------------------------


class InProcessRunner:
    """Runs jobs on a few threads of this process, a retry after its delay (a timer)."""

    def __init__(self) -> None:
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._waiting: set[str] = set()  # queueing locks of coalesced jobs not yet started

    def _pool(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(
                    max_workers=settings.JOBS_IN_PROCESS_THREADS, thread_name_prefix="job"
                )
            return self._executor

    def submit(
        self,
        job_task: Task,
        arguments: dict[str, Any],
        attempt: int = 1,
        queueing_lock: str | None = None,
    ) -> bool:
        """Queue a run; False (nothing queued) when a job with `queueing_lock` waits."""
        if queueing_lock is not None:
            with self._lock:
                if queueing_lock in self._waiting:
                    return False
                self._waiting.add(queueing_lock)
        self._pool().submit(self._run, job_task, arguments, attempt, queueing_lock)
        return True

    def _run(
        self,
        job_task: Task,
        arguments: dict[str, Any],
        attempt: int,
        queueing_lock: str | None = None,
    ) -> None:
        if queueing_lock is not None:
            with self._lock:  # started: a change from now on queues a new job
                self._waiting.discard(queueing_lock)
        try:
            job_task.run_job(arguments, job_id=None, attempt=attempt)
        except Exception:
            if attempt >= job_task.max_attempts:
                logger.exception("Job %s%s failed for good", job_task.name, arguments)
                return
            delay = retry_delay(attempt)
            logger.warning(
                "Job %s%s failed (run %d), retried in %.1f s",
                job_task.name,
                arguments,
                attempt,
                delay,
                exc_info=True,
            )
            timer = threading.Timer(delay, self.submit, args=(job_task, arguments, attempt + 1))
            timer.daemon = True
            timer.start()


_runner = InProcessRunner()


def _submit_after_commit(job_task: Task, arguments: dict[str, Any], lock: str | None) -> None:
    """Hand the job to the runner after commit; a coalesced job once per transaction (the
    callbacks run one after another at commit, and the runner's threads could otherwise
    start the first before the second is handed over)."""

    def submit() -> None:
        _runner.submit(job_task, arguments, queueing_lock=lock)

    if lock is not None and connection.in_atomic_block:
        # Django keeps (savepoint ids, callback, robust) per pending callback; a savepoint
        # rolled back drops its callbacks, so one found here still runs at commit.
        if any(
            getattr(pending[1], "queueing_lock", None) == lock
            for pending in connection.run_on_commit
        ):
            return
        submit.queueing_lock = lock  # type: ignore[attr-defined]
    transaction.on_commit(submit)


def jobs_run_again(job_ids: list[int]) -> int:
    """Put these failed jobs of the queue (PostgreSQL) back to run now, with their attempts
    counted on; returns how many. Jobs in any other state are left alone."""
    from procrastinate.contrib.django import app
    from procrastinate.contrib.django.models import ProcrastinateJob
    from procrastinate.utils import utcnow

    failed = ProcrastinateJob.objects.filter(pk__in=job_ids, status="failed")
    count = 0
    for job in failed:
        # A coalesced job whose newer one waits: that one does the work (and two waiting
        # jobs with one queueing lock are refused by the queue's unique index).
        if job.queueing_lock and newer_job_waits(job.queueing_lock):
            continue
        app.job_manager.retry_job_by_id(job.id, utcnow(), job.priority, job.queue_name, job.lock)
        count += 1
    return count
