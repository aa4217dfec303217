"""Stored files and rows out of step: files no row refers to, and rows whose file is gone.

Works on whichever storage is configured (the disk or the bucket), and looks only in the
folders the file fields upload to. A dry run by default; `--delete` removes the orphaned
files (never a row). Files younger than `--older-than` minutes are left alone: an upload in
progress stores its file before its row commits.

It also finishes what the app could not: files whose rows were deleted while the storage was
away (`PendingFileDeletion`, removed with `--delete` whatever their age), and, in a bucket,
multipart uploads that were cut off and never aborted (aborted with `--delete` when older
than `--older-than`). Run `cleanup_media --delete` now and then (cron), or once the bucket is
back after an outage. With the storage still away it stops with an error (exit status 1).
"""

from collections.abc import Iterator
from datetime import timedelta

from django.apps import apps
from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import FileField
from django.utils import timezone

from core.errors import StorageUnavailable
from core.files.object_storage import is_bucket, listing
from core.models import PendingFileDeletion

DEFAULT_MIN_AGE_MINUTES = 60


def file_fields() -> Iterator[tuple[type, FileField]]:
    for model in apps.get_models():
        for field in model._meta.fields:
            if isinstance(field, FileField) and field.storage is default_storage:
                yield model, field


def upload_folders() -> list[str]:
    folders = {
        str(field.upload_to) for _, field in file_fields() if isinstance(field.upload_to, str)
    }
    return sorted(folder if folder.endswith("/") else f"{folder}/" for folder in folders)


class Command(BaseCommand):
    help = (
        "List stored files no row refers to and rows whose file is missing (a dry run); "
        "--delete removes the orphaned files."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--delete", action="store_true", help="Delete the orphaned files (rows are kept)."
        )
        parser.add_argument(
            "--older-than",
            type=int,
            default=DEFAULT_MIN_AGE_MINUTES,
            metavar="MINUTES",
            help="Only files older than this count as orphans (default: %(default)s).",
        )

    def handle(self, *args, delete: bool, older_than: int, **options) -> None:
        try:
            self._clean(delete=delete, older_than=older_than)
        except StorageUnavailable as error:
            message = f"The file storage is unavailable, try again later: {error}"
            raise CommandError(message) from error

    def _clean(self, *, delete: bool, older_than: int) -> None:
        referenced: dict[str, list[str]] = {}
        for model, field in file_fields():
            rows = model._default_manager.exclude(**{field.name: ""}).exclude(
                **{f"{field.name}__isnull": True}
            )
            for pk, name in rows.values_list("pk", field.name).iterator():
                referenced.setdefault(name, []).append(f"{model._meta.label} {pk} {field.name}")

        pending = self._pending_deletions(referenced, delete=delete)
        cutoff = timezone.now() - timedelta(minutes=older_than)
        stored: set[str] = set()
        orphans: list[str] = []
        for folder in upload_folders():
            for name, modified in listing(default_storage, folder):
                stored.add(name)
                if name not in referenced and name not in pending and modified <= cutoff:
                    orphans.append(name)
        uploads = self._incomplete_uploads(cutoff, delete=delete)

        for name in sorted(orphans):
            if delete:
                default_storage.delete(name)
                self.stdout.write(f"deleted orphan {name}")
            else:
                self.stdout.write(f"orphan {name}")
        missing = sorted(
            name
            for name in referenced
            if name not in stored
            # A bulk load may refer to a file outside the upload folders: asked one by one.
            and (name.startswith(tuple(upload_folders())) or not default_storage.exists(name))
        )
        for name in missing:
            for row in referenced[name]:
                self.stdout.write(f"missing {name} ({row})")
        verb = "deleted" if delete else "found (dry run: --delete removes them)"
        self.stdout.write(
            self.style.SUCCESS(
                f"{len(orphans)} orphaned files {verb}; "
                f"{sum(len(referenced[name]) for name in missing)} rows with a missing file; "
                f"{len(pending)} pending deletions {'done' if delete else 'found'}; "
                f"{uploads} incomplete uploads {'aborted' if delete else 'found'}."
            )
        )

    def _pending_deletions(self, referenced: dict[str, list[str]], *, delete: bool) -> set[str]:
        """The files left by deletions while the storage was away; removed with --delete."""
        names: set[str] = set()
        for record in PendingFileDeletion.objects.order_by("name"):
            if record.name in referenced:  # a row took the name back (a bulk load): keep it
                self.stdout.write(f"kept {record.name}: a row refers to it")
                record.delete()
                continue
            names.add(record.name)
            if delete:
                default_storage.delete(record.name)  # gone already: fine
                record.delete()
                self.stdout.write(f"deleted pending {record.name}")
            else:
                self.stdout.write(f"pending deletion {record.name}")
        return names

    def _incomplete_uploads(self, cutoff, *, delete: bool) -> int:
        """Multipart uploads of the bucket cut off before they were completed or aborted."""
        if not is_bucket(default_storage):
            return 0
        found = 0
        for key, upload_id, started in list(default_storage.incomplete_uploads()):
            if started > cutoff:
                continue  # perhaps still under way
            found += 1
            if delete:
                default_storage.abort_upload(key, upload_id)
                self.stdout.write(f"aborted incomplete upload {key}")
            else:
                self.stdout.write(f"incomplete upload {key}")
        return found
