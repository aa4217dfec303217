"""The catalog's jobs (core/jobs.py): the admin's CSV import, previewed then imported, and
its folder import."""

from catalog import csv_import as importing
from catalog import storage_import
from core import jobs


@jobs.task(name="catalog.csv_import_preview")
def csv_import_preview(*, run_id: int) -> None:
    """Validate every row of the run's CSV (a dry run), recording progress and errors."""
    importing.preview(run_id)


@jobs.task(name="catalog.csv_import")
def csv_import(*, run_id: int) -> None:
    """Import the run's CSV, one transaction per batch, resuming after the last one."""
    importing.run_import(run_id)


@jobs.task(name="catalog.folder_import")
def folder_import(*, run_id: int) -> None:
    """Import the audio files of the run's folder of the storage, going on after the files
    an earlier run of this job walked."""
    storage_import.run_import(run_id)
