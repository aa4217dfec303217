"""Rows the project's plumbing keeps: files still to remove from storage, failed jobs."""

from django.db import models


class PendingFileDeletion(models.Model):
    """A stored file whose row is gone (committed) but that the storage could not remove
    then (the bucket was down or stuck). `manage.py cleanup_media --delete` removes it and
    this record once the storage answers again; nothing refers to the file any more."""

    name = models.CharField(max_length=1024, unique=True)
    recorded_at = models.DateTimeField(auto_now_add=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ("recorded_at", "id")

    def __str__(self) -> str:
        return self.name


class JobFailure(models.Model):
    """One failed run of a background job (core/jobs.py): what raised, and whether the job
    was given up (`final`) or retried. Runs that succeed leave no row."""

    task_name = models.CharField(max_length=200)
    # The queue's job (procrastinate_jobs.id) on PostgreSQL; none for SQLite's in-process runs.
    job_id = models.BigIntegerField(null=True, blank=True)
    attempt = models.PositiveIntegerField()
    final = models.BooleanField(default=False)
    arguments = models.JSONField(default=dict)
    # "ExceptionType: message", then the traceback.
    error = models.TextField()
    details = models.TextField(blank=True)
    failed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-failed_at", "-id")
        indexes = [models.Index(fields=["job_id", "attempt"], name="core_jobfailure_job_idx")]

    def __str__(self) -> str:
        return f"{self.task_name} (run {self.attempt}): {self.error[:80]}"
