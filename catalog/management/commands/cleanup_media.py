"""Stored files and rows out of step: files no row refers to, and rows whose file is gone.

Works on whichever storage is configured (the disk or the bucket), and looks only in the
folders the file fields upload to. A dry run by default; `--delete` removes the orphaned
files (never a row). Files younger than `--older-than` minutes are left alone: an upload in
progress stores its file before its row commits.
"""

from collections.abc import Iterator
from datetime import timedelta

from django.apps import apps
from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandParser
from django.db.models import FileField
from django.utils import timezone

from core.files.object_storage import listing

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
        referenced: dict[str, list[str]] = {}
        for model, field in file_fields():
            rows = model._default_manager.exclude(**{field.name: ""}).exclude(
                **{f"{field.name}__isnull": True}
            )
            for pk, name in rows.values_list("pk", field.name).iterator():
                referenced.setdefault(name, []).append(f"{model._meta.label} {pk} {field.name}")

        cutoff = timezone.now() - timedelta(minutes=older_than)
        stored: set[str] = set()
        orphans: list[str] = []
        for folder in upload_folders():
            for name, modified in listing(default_storage, folder):
                stored.add(name)
                if name not in referenced and modified <= cutoff:
                    orphans.append(name)

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
                f"{sum(len(referenced[name]) for name in missing)} rows with a missing file."
            )
        )
