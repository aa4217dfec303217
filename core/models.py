"""Rows the project's plumbing keeps: files still to remove from storage."""

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
