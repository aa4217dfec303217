"""Copy the media folder on disk (MEDIA_ROOT) into the configured bucket, without downtime.

Every file a row refers to (with `--all`, every file under the upload folders too) is
copied to the same name in the bucket, streamed from its path a part at a time, with the
bucket's object headers (BucketStorage.get_object_parameters: the Content-Type of the
extension, inline, immutable caching). Each copy's size is checked by a HEAD afterwards.
Rows are never changed: the names stay what they are, so the switch is

    copy_media --to-bucket    # while the site runs on the disk
    STORAGE_BUCKET=...        # restart: new uploads now go to the bucket
    copy_media --to-bucket    # again: catches what was uploaded to the disk in between

Idempotent: an object already in the bucket with the same size is skipped (names are never
reused for other bytes), one of another size is copied again. A row whose file is neither
on disk nor in the bucket is reported as missing; missing files, failed copies and size
mismatches make the exit non-zero. `--dry-run` lists what would be copied (HEADs only).
"""

import os
from dataclasses import dataclass, field
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import FileSystemStorage, storages
from django.core.management.base import BaseCommand, CommandError, CommandParser

from catalog.management.commands.cleanup_media import file_fields, upload_folders
from core.files.object_storage import BucketStorage, is_bucket, listing

NOT_CONFIGURED = "Set STORAGE_BUCKET (and its STORAGE_* settings): there is no bucket to copy to."


@dataclass
class Tally:
    copied: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


class Command(BaseCommand):
    help = (
        "Copy the files on disk (MEDIA_ROOT) that rows refer to into the configured bucket, "
        "under the same names; run it again after switching STORAGE_BUCKET on."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--to-bucket",
            action="store_true",
            required=True,
            help="Copy from MEDIA_ROOT on disk to the bucket STORAGE_BUCKET names.",
        )
        parser.add_argument(
            "--all",
            action="store_true",
            dest="everything",
            help="Also copy the files under the upload folders that no row refers to.",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="List what would be copied; write nothing."
        )

    def handle(self, *args, everything: bool, dry_run: bool, **options) -> None:
        bucket = storages["default"]  # what STORAGE_BUCKET built (the tests' override too)
        if not is_bucket(bucket):
            raise CommandError(NOT_CONFIGURED)
        source = FileSystemStorage(location=settings.MEDIA_ROOT)

        referenced: dict[str, list[str]] = {}
        for model, file_field in file_fields():
            rows = model._default_manager.exclude(**{file_field.name: ""}).exclude(
                **{f"{file_field.name}__isnull": True}
            )
            for pk, name in rows.values_list("pk", file_field.name).iterator():
                referenced.setdefault(name, []).append(
                    f"{model._meta.label} {pk} {file_field.name}"
                )
        names = set(referenced)
        if everything:
            for folder in upload_folders():
                names.update(name for name, _ in listing(source, folder))

        tally = Tally()
        for name in sorted(names):
            self._copy(name, source, bucket, tally, rows=referenced.get(name, []), dry=dry_run)

        would = "would be " if dry_run else ""
        summary = (
            f"{len(tally.copied)} {would}copied, {len(tally.skipped)} skipped (already in the "
            f"bucket), {len(tally.missing)} missing on disk, {len(tally.failed)} failed"
            f"{' (dry run: nothing was written)' if dry_run else ''}."
        )
        if tally.missing or tally.failed:
            self.stdout.write(self.style.ERROR(summary))
            raise CommandError(
                f"{len(tally.missing) + len(tally.failed)} files were not copied: "
                "see the lines marked missing or failed."
            )
        self.stdout.write(self.style.SUCCESS(summary))

    def _copy(
        self,
        name: str,
        source: FileSystemStorage,
        bucket: BucketStorage,
        tally: Tally,
        *,
        rows: list[str],
        dry: bool,
    ) -> None:
        try:
            path = Path(source.path(name))
            there = _object_size(bucket, name)
        except (ClientError, BotoCoreError, SuspiciousFileOperation) as error:
            tally.failed.append(name)
            self.stdout.write(f"failed {name}: {error}")
            return
        try:
            size = path.stat().st_size if path.is_file() else None
        except OSError:
            size = None
        if size is None:
            if there is not None:
                # Uploaded after the switch: it went straight to the bucket.
                tally.skipped.append(name)
                self.stdout.write(f"skipped {name} (in the bucket only)")
                return
            tally.missing.append(name)
            for row in rows or ["no row"]:
                self.stdout.write(f"missing {name} ({row})")
            return
        if there == size:
            tally.skipped.append(name)
            self.stdout.write(f"skipped {name} (same size in the bucket)")
            return
        why = "new" if there is None else f"{there} bytes in the bucket, {size} on disk"
        if dry:
            tally.copied.append(name)
            self.stdout.write(f"would copy {name} ({why})")
            return
        try:
            _upload(bucket, name, path)
            written = _object_size(bucket, name)
        except (ClientError, BotoCoreError, OSError) as error:
            tally.failed.append(name)
            self.stdout.write(f"failed {name}: {error}")
            return
        if written != size:
            tally.failed.append(name)
            self.stdout.write(f"failed {name}: {written} bytes in the bucket, {size} on disk")
            return
        tally.copied.append(name)
        self.stdout.write(f"copied {name} ({why})")


def _object_size(bucket: BucketStorage, name: str) -> int | None:
    """The size of the object under `name` (one HEAD), None when there is none."""
    try:
        size, _ = bucket.stat(name)
    except FileNotFoundError:
        return None
    return size


def _upload(bucket: BucketStorage, name: str, path: Path) -> None:
    """Stream a file from its path into the object of `name`: s3transfer reads it a part at
    a time (multipart past the threshold), never the whole file at once."""
    parameters = bucket.get_object_parameters(name)
    if "ACL" not in parameters and bucket.default_acl:
        parameters["ACL"] = bucket.default_acl
    bucket.client.upload_file(
        os.fspath(path),
        bucket.bucket_name,
        bucket.key(name),
        ExtraArgs=parameters,
        Config=bucket.transfer_config,
    )
