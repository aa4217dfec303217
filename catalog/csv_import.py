"""The admin's CSV import as background jobs: upload → preview (a dry run) → confirm → import.

`start` checks the upload (a UTF-8 CSV, its header, its size), keeps the file where nothing
serves it, and creates an `ImportRun` with its preview job, in one transaction: bad input is
refused before anything is written. The jobs stream the file in batches of
CSV_IMPORT_BATCH_ROWS rows through django-import-export's resources (catalog/resources.py),
so memory stays flat whatever the file's length, and write their progress after each batch.

The import commits each batch in its own transaction together with the run's count of rows
done; a job run again (a dead worker, a retry) resumes after the last committed batch, and a
batch run twice updates or skips its rows, never duplicates them (rows match on title and
artist). The resource sends `audio_changed`/`album_tracks_changed` for the rows it saves,
inside the batch's transaction, as the services do.
"""

import codecs
import csv
import io
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.core.files.storage import FileSystemStorage, Storage, default_storage
from django.db import connection, transaction
from django.utils import timezone
from import_export.results import Result, RowResult
from tablib import Dataset

from catalog.models import ImportRun, ImportRunState
from catalog.resources import AlbumResource, SongImportResource

RESOURCES = {"song": SongImportResource, "album": AlbumResource}
# The first rows of the preview and the first errors kept on the run (the counts are whole).
PREVIEW_ROWS = 100
ERRORS_KEPT = 100
ENCODING = "utf-8-sig"  # a spreadsheet's byte order mark is dropped
NOT_A_CSV = "The file is not a CSV in UTF-8: {reason}."
EMPTY_FILE = "The file is empty: its first line must be its header."
TOO_LARGE = "The file is {size} bytes; a CSV import takes at most {limit} bytes."
NOT_PREVIEWED = "Only a previewed import without errors can be confirmed."
# SQLite's busy handler sleeps at most 100 ms between two tries for the write lock.
SQLITE_WRITER_TURN_SECONDS = 0.12


def import_storage() -> Storage:
    """Where uploaded CSVs wait for their jobs: never under MEDIA_URL."""
    if settings.STORAGE_BUCKET:
        return default_storage  # the bucket is private; no URL is ever made for these
    root = settings.CSV_IMPORT_ROOT or Path(settings.MEDIA_ROOT).parent / "csv-imports"
    return FileSystemStorage(location=root)


def check_upload(upload: File, model: str) -> None:
    """Refuse (ValidationError, a sentence) a file that is too large, not UTF-8 text, or whose
    first line is not the header the resource needs. Reads the first line only."""
    if upload.size is not None and upload.size > settings.CSV_IMPORT_MAX_BYTES:
        raise ValidationError(
            TOO_LARGE.format(size=upload.size, limit=settings.CSV_IMPORT_MAX_BYTES)
        )
    upload.seek(0)
    start = upload.read(64 * 1024)
    upload.seek(0)
    if not start.strip():
        raise ValidationError(EMPTY_FILE)
    if b"\x00" in start:
        raise ValidationError(NOT_A_CSV.format(reason="it holds binary data"))
    try:
        # The start may end inside a character: an incremental decoder keeps that part back.
        text = codecs.getincrementaldecoder(ENCODING)().decode(start)
    except UnicodeDecodeError as error:
        raise ValidationError(NOT_A_CSV.format(reason=error.reason)) from None
    first_line = next(csv.reader(io.StringIO(text)), [])
    error = RESOURCES[model].header_error(first_line)
    if error:
        raise ValidationError(error)


def start(*, user: Any, model: str, upload: File) -> ImportRun:
    """Check the upload, keep it, and queue its preview. Writes nothing when it raises."""
    from catalog import tasks  # tasks.py imports this module

    check_upload(upload, model)
    storage = import_storage()
    name = storage.save(f"csv-imports/{uuid.uuid4().hex}.csv", upload)
    try:
        with transaction.atomic():
            run = ImportRun.objects.create(
                user=user,
                model=model,
                file_name=name,
                original_name=Path(upload.name or "").name[:255],
            )
            tasks.csv_import_preview.enqueue(run_id=run.pk)
    except BaseException:
        storage.delete(name)
        raise
    return run


def confirm(run: ImportRun) -> bool:
    """Queue the import of a previewed run without errors (False if it is not one)."""
    from catalog import tasks  # tasks.py imports this module

    with transaction.atomic():
        changed = ImportRun.objects.filter(
            pk=run.pk, state=ImportRunState.PREVIEWED, error_count=0
        ).update(
            state=ImportRunState.IMPORTING,
            rows_done=0,
            new_count=0,
            updated_count=0,
            skipped_count=0,
        )
        if changed:
            tasks.csv_import.enqueue(run_id=run.pk)
    return bool(changed)


def _batches(run: ImportRun, size: int) -> Iterator[tuple[int, Dataset]]:
    """(rows before it, a Dataset of up to `size` rows), streamed from the stored file."""
    with import_storage().open(run.file_name, "rb") as raw:
        text = io.TextIOWrapper(raw, encoding=ENCODING, newline="")
        reader = csv.reader(text)
        headers = next(reader, [])
        batch: list[list[str]] = []
        done = 0
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue  # a blank line, as tablib skips it
            batch.append((row + [""] * len(headers))[: len(headers)])
            if len(batch) == size:
                yield done, Dataset(*batch, headers=headers)
                done += len(batch)
                batch = []
        if batch:
            yield done, Dataset(*batch, headers=headers)


def _count_rows(run: ImportRun) -> int:
    with import_storage().open(run.file_name, "rb") as raw:
        reader = csv.reader(io.TextIOWrapper(raw, encoding=ENCODING, newline=""))
        next(reader, None)
        return sum(1 for row in reader if any(cell.strip() for cell in row))


def _row_errors(result: Result, offset: int) -> list[dict[str, Any]]:
    """The batch's errors as the run keeps them, one entry per row: its number in the file
    (1 is the first row after the header), its sentences ("column: message") and its cells."""
    errors: list[dict[str, Any]] = []
    for invalid in result.invalid_rows:
        errors.append(
            {
                "row": offset + invalid.number,
                "messages": [
                    f"{column}: {message}" if column != "__all__" else message
                    for column, messages in invalid.error_dict.items()
                    for message in messages
                ],
                "values": [str(value) for value in invalid.values],
            }
        )
    for number, row_errors in result.row_errors():
        errors.append(
            {
                "row": offset + number,
                "messages": [str(error.error) for error in row_errors],
                "values": [str(value) for value in (row_errors[0].row or {}).values()]
                if row_errors
                else [],
            }
        )
    return errors


def _counts(result: Result) -> dict[str, int]:
    totals = result.totals
    return {
        "new": totals.get(RowResult.IMPORT_TYPE_NEW, 0),
        "update": totals.get(RowResult.IMPORT_TYPE_UPDATE, 0),
        "skip": totals.get(RowResult.IMPORT_TYPE_SKIP, 0),
        "error": totals.get(RowResult.IMPORT_TYPE_ERROR, 0)
        + totals.get(RowResult.IMPORT_TYPE_INVALID, 0),
    }


def _import_batch(run: ImportRun, dataset: Dataset, *, dry_run: bool) -> Result:
    """The batch through the resource. The preview (a dry run) is import-export's own
    transaction, rolled back, with a savepoint per row so that a row the database refuses
    leaves the next rows checked. The import runs in run_import's transaction without them:
    a batch with an error is rolled back whole, so a savepoint per row would be two more
    statements a row for nothing."""
    resource = RESOURCES[run.model]()
    return resource.import_data(
        dataset,
        dry_run=dry_run,
        raise_errors=False,
        use_transactions=dry_run,
        rollback_on_validation_errors=True,
        file_name=run.original_name,
        user=run.user,
    )


def _let_other_writers_in() -> None:
    """On SQLite, pause between two batches so that a writer waiting for the lock gets it.

    SQLite has one writer at a time, and a waiting writer polls for the lock (its busy
    timeout) rather than queueing: batches committed back to back, each holding the lock
    while it writes, would leave it only instants between them, and it would end in "database
    is locked" when its timeout ran out (the media pipeline's jobs, threads of the same
    process on SQLite, storing their outputs; a request saving a play). A pause longer than its
    longest sleep lets one in. PostgreSQL locks rows, not the database: no pause."""
    if connection.vendor == "sqlite":
        time.sleep(SQLITE_WRITER_TURN_SECONDS)


def preview(run_id: int) -> None:
    """The dry run: every row validated, batch after batch, none written. Run again, it
    starts over (it writes nothing but the run's own fields)."""
    run = ImportRun.objects.filter(pk=run_id).first()
    if run is None or run.state not in (ImportRunState.QUEUED, ImportRunState.PREVIEWING):
        return
    run.state = ImportRunState.PREVIEWING
    run.rows_total = _count_rows(run)
    run.rows_done = run.new_count = run.updated_count = run.skipped_count = 0
    run.error_count = 0
    run.errors, run.preview_rows = [], []
    run.save()
    for offset, dataset in _batches(run, settings.CSV_IMPORT_BATCH_ROWS):
        result = _import_batch(run, dataset, dry_run=True)
        counts = _counts(result)
        run.headings = [str(heading) for heading in result.diff_headers]
        room = PREVIEW_ROWS - len(run.preview_rows)
        for row in result.valid_rows()[: max(room, 0)]:
            run.preview_rows.append(
                {"type": row.import_type, "cells": [str(cell) for cell in row.diff or []]}
            )
        if len(run.errors) < ERRORS_KEPT:
            run.errors += _row_errors(result, offset)[: ERRORS_KEPT - len(run.errors)]
        run.rows_done = offset + len(dataset)
        run.new_count += counts["new"]
        run.updated_count += counts["update"]
        run.skipped_count += counts["skip"]
        run.error_count += counts["error"]
        run.save()
        _let_other_writers_in()
    run.state = ImportRunState.PREVIEWED
    run.save(update_fields=["state"])


def run_import(run_id: int) -> None:
    """The import: one transaction per batch, the run's progress committed with it; resumes
    after the last committed batch. A batch with an error (the catalog changed since the
    preview) is rolled back and ends the run failed, its errors listed."""
    run = ImportRun.objects.filter(pk=run_id).first()
    if run is None or run.state != ImportRunState.IMPORTING:
        return
    for offset, dataset in _batches(run, settings.CSV_IMPORT_BATCH_ROWS):
        if offset + len(dataset) <= run.rows_done:
            continue  # committed by an earlier run of this job
        errors: list[dict[str, Any]] = []
        with transaction.atomic():
            run = ImportRun.objects.select_for_update().get(pk=run_id)
            result = _import_batch(run, dataset, dry_run=False)
            errors = _row_errors(result, offset)
            if errors:
                transaction.set_rollback(True)
            else:
                # The batch's rows and the count that says they are done commit together.
                counts = _counts(result)
                run.rows_done = offset + len(dataset)
                run.new_count += counts["new"]
                run.updated_count += counts["update"]
                run.skipped_count += counts["skip"]
                run.save()
        if errors:
            ImportRun.objects.filter(pk=run_id).update(
                state=ImportRunState.FAILED,
                errors=errors[:ERRORS_KEPT],
                error_count=len(errors),
                finished_at=timezone.now(),
            )
            return
        _let_other_writers_in()
    _finish(run_id)


def _finish(run_id: int) -> None:
    run = ImportRun.objects.get(pk=run_id)
    run.state = ImportRunState.DONE
    run.finished_at = timezone.now()
    run.save(update_fields=["state", "finished_at"])
    import_storage().delete(run.file_name)
