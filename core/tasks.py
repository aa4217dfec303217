"""The queue's own periodic jobs on PostgreSQL (procrastinate finds every app's `tasks.py`
when its Django app is installed, which is on PostgreSQL only: settings.JOBS_BACKEND).

- A dead worker's jobs run again: procrastinate's workers write a heartbeat; every
  JOBS_STALLED_CHECK_SECONDS a worker looks for jobs still "doing" under a worker silent for
  JOBS_STALLED_AFTER_SECONDS (killed, its host gone) and puts them back in the queue, or ends
  them failed when that was their last attempt. Procrastinate's own advice (its "retry
  stalled jobs" how-to), as a periodic task.
- Finished jobs and their failures are deleted JOBS_KEEP_FINISHED_HOURS after their end.
"""

import logging
from datetime import timedelta
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection
from django.utils import timezone
from procrastinate import JobContext, builtin_tasks
from procrastinate.contrib.django import app
from procrastinate.jobs import Status

from core.jobs import TASKS, newer_job_waits, record_failure
from core.models import JobFailure

logger = logging.getLogger(__name__)


def every(seconds: int) -> str:
    """A cron line (with procrastinate's sixth column, seconds) for every `seconds` seconds."""
    if seconds < 60:
        return f"* * * * * */{max(seconds, 1)}"
    return f"*/{seconds // 60} * * * *"


# None queued behind a waiting sweep (`queueing_lock`). Not a `lock`: a sweep whose own worker
# died would hold it for good, and no sweep would run again.
@app.periodic(cron=every(settings.JOBS_STALLED_CHECK_SECONDS))
@app.task(
    name="core.retry_stalled_jobs",
    pass_context=True,
    queueing_lock="core.retry_stalled_jobs",
)
async def retry_stalled_jobs(context: JobContext, timestamp: int) -> None:
    manager = context.app.job_manager
    stalled = await manager.get_stalled_jobs(
        seconds_since_heartbeat=settings.JOBS_STALLED_AFTER_SECONDS
    )
    for job in stalled:
        task = TASKS.get(job.task_name)
        attempt = job.attempts + 1
        final = attempt >= (task.max_attempts if task else settings.JOBS_MAX_ATTEMPTS)
        # A coalesced job whose newer one waits ends here: that one does the work, and this
        # one back in the queue would collide with it on the unique queueing lock.
        superseded = bool(job.queueing_lock) and await sync_to_async(_newer_job_waits)(
            job.queueing_lock
        )
        final = final or superseded
        try:
            if final:
                await manager.finish_job(job, status=Status.FAILED, delete_job=False)
            else:
                await manager.retry_job(job)
        except Exception:
            # Put back (or ended) meanwhile by another sweep: that one recorded it.
            logger.warning("Stalled job %s was no longer doing", job.id, exc_info=True)
            continue
        await sync_to_async(record_failure)(
            task_name=job.task_name,
            job_id=job.id,
            attempt=attempt,
            final=final,
            arguments=job.task_kwargs,
            error=(
                "WorkerLost: the worker running this job stopped sending heartbeats for "
                f"{settings.JOBS_STALLED_AFTER_SECONDS:g} s (killed, or its host gone)"
            ),
        )


@app.periodic(cron="17 * * * *")
@app.task(name="core.remove_finished_jobs", pass_context=True)
async def remove_finished_jobs(context: JobContext, timestamp: int) -> None:
    hours = settings.JOBS_KEEP_FINISHED_HOURS
    await builtin_tasks.remove_old_jobs(
        context, max_hours=hours, remove_failed=True, remove_cancelled=True, remove_aborted=True
    )
    await sync_to_async(_remove_old_failures)(hours)


def _newer_job_waits(lock: str) -> bool:
    try:
        return newer_job_waits(lock)
    finally:
        connection.close()  # a thread of sync_to_async's pool: its connection goes back


def _remove_old_failures(hours: int) -> Any:
    return JobFailure.objects.filter(failed_at__lt=timezone.now() - timedelta(hours=hours)).delete()
