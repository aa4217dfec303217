"""The admin's folder import: make songs of the audio files of a folder already in the storage
(the disk under MEDIA_ROOT, or the bucket when STORAGE_BUCKET is set), as a background job.

`clean_folder` checks the folder the admin typed (relative to the storage's root, no "..",
not one of the folders the app writes, there); `start` saves its `FolderImportRun` and
queues the job in one transaction, so bad input writes nothing. The job (`run_import`) walks
the folder and hands each file to catalog/folder_import.py's per-file import
(`import_source`), the one `manage.py import_music` uses: the same tags, albums, checks and
`ImportedFile` records (keyed "storage:<name>"), so a second run adds nothing, a changed file
updates its song, and a moved one keeps it.

- The song gets a copy. `song_create` stores the file under songs/ with a generated name, as
  an upload; the file in the folder is never moved, changed nor deleted. The song owns its
  copy: deleting or replacing the song removes the copy, never the admin's own file, and the
  stored name is never reused (the bucket's objects are cached as immutable). The price is
  the space of a second copy.
- Streamed: the walk lists one folder at a time (`storage.listdir`, each folder's names
  sorted, so a run is repeatable) and keeps nothing per file but the run's counters. A file on
  disk is read in place (`storage.open`); one in the bucket is copied by a streamed ranged
  read into a temporary file (mutagen needs a seekable file), at most AUDIO_MAX_BYTES (a
  larger file is skipped unread), removed once the file is done.
- Refused or skipped, with the reason: names that could climb out of the folder ("..", ".",
  a backslash, which the bucket's backend turns into a slash), links on disk that lead out
  of the folder (links to folders are not followed), pipes and devices, and, as the
  folder itself, the
  folders the app writes (`app_folders`: songs/, covers, renditions, waveforms, thumbnails,
  csv-imports/).
- Resumable: the run's counts and the number of entries walked are saved after each file,
  which its own transaction imported; a job run again (a retry, a dead worker) passes over
  the entries walked before, and a file done but not yet counted is "unchanged" by its
  record. A bucket away (StorageUnavailable) or a database error fails the job, which
  the job queue runs again; any other error of one file fails that file only.

Counts: added, updated, unchanged (moved files too), skipped (not audio, too large, a
duplicate, a refused name) and failed (unreadable, or an audio file's name whose bytes are
not readable audio: a damaged file); the first PROBLEMS_KEPT skipped or failed files are
kept with their reasons.
"""

import gc
import logging
import os
import posixpath
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO

from django.core.exceptions import SuspiciousFileOperation, ValidationError
from django.core.files.storage import FileSystemStorage, Storage, default_storage
from django.db import DatabaseError, close_old_connections, connection, transaction
from django.utils import timezone

from catalog.folder_import import (
    COLLECT_EVERY,
    STORED_PATH_PREFIX,
    FileResult,
    Outcome,
    import_source,
)
from catalog.management.commands.cleanup_media import upload_folders
from catalog.models import FolderImportRun, FolderImportState
from core.errors import StorageUnavailable
from core.files.content_types import AUDIO_CONTENT_TYPES
from core.files.object_storage import read_range, stat
from core.files.thumbnails import THUMBNAILS_FOLDER

logger = logging.getLogger(__name__)

# The first skipped or failed files kept on a run (the counts are whole).
PROBLEMS_KEPT = 100
COPY_CHUNK_BYTES = 1024 * 1024
# The admin's CSV uploads wait there in the bucket (catalog/csv_import.py).
CSV_IMPORTS_FOLDER = "csv-imports"
TOP_LEVEL_FOLDERS_SHOWN = 50

FOLDER_EMPTY = "Name a folder of the storage."
FOLDER_ABSOLUTE = (
    "Give the folder relative to the storage's root (music/albums), without a leading slash."
)
FOLDER_BAD_NAME = "A folder name cannot hold '.' or '..' parts, backslashes or control characters."
FOLDER_OF_THE_APP = "{top}/ holds the app's own files; pick a folder of your music."
FOLDER_MISSING = "There is no folder {folder!r} in the storage (or it holds no file)."
FOLDER_OUTSIDE = "{folder!r} is a link to another folder: name the folder itself."

UNSAFE_NAME = "a name that could lead out of the folder ('.', '..', a backslash): not read"
LINKED_FOLDER = "a link to a folder: not followed"
LINK_OUTSIDE = "a link to a file outside the folder: not read"
NOT_A_FILE = "not a regular file (a pipe, a socket, a device): not read"


# --- The folder ---------------------------------------------------------------------------


def app_folders() -> frozenset[str]:
    """The top-level folders the app writes in the storage: never imported from."""
    uploads = {folder.strip("/").split("/")[0] for folder in upload_folders()}
    return frozenset(uploads | {THUMBNAILS_FOLDER, CSV_IMPORTS_FOLDER})


def _safe_part(name: str) -> bool:
    return (
        bool(name)
        and name not in (".", "..")
        and "/" not in name
        and "\\" not in name
        and name.isprintable()
    )


def clean_folder(value: str) -> str:
    """The folder the admin typed, as the walk takes it ("music/albums"); ValidationError (a
    sentence) when it is empty, absolute, climbs, is the app's, or is not in the storage."""
    value = (value or "").strip()
    if not value or not value.strip("/"):
        raise ValidationError(FOLDER_EMPTY)
    if value.startswith(("/", "\\")) or (len(value) > 1 and value[1] == ":"):
        raise ValidationError(FOLDER_ABSOLUTE)
    parts = [part for part in value.split("/") if part]
    if not all(_safe_part(part) for part in parts):
        raise ValidationError(FOLDER_BAD_NAME)
    if parts[0] in app_folders():
        raise ValidationError(FOLDER_OF_THE_APP.format(top=parts[0]))
    folder = "/".join(parts)
    storage = default_storage
    if isinstance(storage, FileSystemStorage):
        path = storage.path(folder)
        if not os.path.isdir(path):
            raise ValidationError(FOLDER_MISSING.format(folder=folder))
        # No link on the way: it could lead out of the storage, or into the app's folders.
        if os.path.realpath(path) != os.path.join(os.path.realpath(storage.location), folder):
            raise ValidationError(FOLDER_OUTSIDE.format(folder=folder))
        return folder
    try:
        directories, files = storage.listdir(folder)
    except (FileNotFoundError, NotADirectoryError):
        directories, files = [], []
    if not any(directories) and not any(files):  # a bucket has no empty folders
        raise ValidationError(FOLDER_MISSING.format(folder=folder))
    return folder


def top_level_folders() -> list[str]:
    """The storage's top-level folders an import may start from (the app's left out)."""
    directories, _ = default_storage.listdir("")
    own = app_folders()
    kept = sorted(name for name in directories if _safe_part(name) and name not in own)
    return kept[:TOP_LEVEL_FOLDERS_SHOWN]


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


# --- The walk -----------------------------------------------------------------------------


@dataclass
class StoredFile:
    """A file of the storage, as catalog/folder_import.py's per-file import reads it."""

    stored_name: str
    storage: Storage = field(default_factory=lambda: default_storage, repr=False)
    _size: int | None = field(default=None, repr=False)

    @property
    def path(self) -> str:
        return f"{STORED_PATH_PREFIX}{self.stored_name}"

    @property
    def name(self) -> str:
        return posixpath.basename(self.stored_name)

    def stat(self) -> tuple[int, int]:
        size, modified = stat(self.storage, self.stored_name)
        self._size = size
        return size, _nanoseconds(modified)

    @contextmanager
    def open(self) -> Iterator[IO[bytes]]:
        if isinstance(self.storage, FileSystemStorage):
            with self.storage.open(self.stored_name, "rb") as stored:  # named by its real path
                yield stored
            return
        size = self._size if self._size is not None else self.stat()[0]
        suffix = posixpath.splitext(self.name)[1][:16]
        with tempfile.NamedTemporaryFile(prefix="folder-import-", suffix=suffix) as copy:
            copied = 0
            chunks = read_range(
                self.storage, self.stored_name, start=0, length=size, chunk_size=COPY_CHUNK_BYTES
            )
            for chunk in chunks:
                copy.write(chunk)
                copied += len(chunk)
            if copied != size:
                raise OSError(f"changed while read ({copied} of {size} bytes)")
            copy.flush()
            copy.seek(0)
            yield copy

    def sibling(self, name: str) -> "StoredFile":
        return StoredFile(posixpath.join(posixpath.dirname(self.stored_name), name), self.storage)

    def read_at_most(self, limit: int) -> bytes | None:
        if not self.storage.exists(self.stored_name):
            return None
        with self.storage.open(self.stored_name, "rb") as stored:
            return stored.read(limit)


def _nanoseconds(moment: datetime) -> int:
    """A modification time as ImportedFile keeps it (whole: no float rounding)."""
    whole = int(moment.replace(microsecond=0).timestamp())
    return whole * 1_000_000_000 + moment.microsecond * 1000


@dataclass(frozen=True)
class Refused:
    """An entry of the folder the walk does not read, and why."""

    stored_name: str
    reason: str


def walk(folder: str, storage: Storage | None = None) -> Iterator[StoredFile | Refused]:
    """Every entry under `folder` (cleaned by `clean_folder`), depth first, each folder's
    names sorted; one folder's names are held at a time per level."""
    storage = storage or default_storage
    root = None
    if isinstance(storage, FileSystemStorage):
        root = os.path.realpath(storage.path(folder))
    yield from _walk(storage, folder, root)


def _walk(storage: Storage, folder: str, root: str | None) -> Iterator[StoredFile | Refused]:
    directories, files = storage.listdir(folder)
    entries = sorted([(name, True) for name in directories] + [(name, False) for name in files])
    del directories, files
    for name, is_directory in entries:
        if not name:
            continue  # a bucket's "folder/" marker, or an empty part of a key ("a//b")
        stored_name = f"{folder}/{name}"
        if not _safe_part(name):
            yield Refused(stored_name, UNSAFE_NAME)
            continue
        if root is not None:  # on disk: links must not lead the walk away
            path = storage.path(stored_name)
            if is_directory and os.path.islink(path):
                yield Refused(stored_name, LINKED_FOLDER)
                continue
            if not _inside(os.path.realpath(path), root):
                yield Refused(stored_name, LINK_OUTSIDE)
                continue
            if not is_directory and not os.path.isfile(path):
                yield Refused(stored_name, NOT_A_FILE)  # reading a pipe would never end
                continue
        if is_directory:
            yield from _walk(storage, stored_name, root)
        else:
            yield StoredFile(stored_name, storage)


# --- The run ------------------------------------------------------------------------------


def start(run: FolderImportRun) -> None:
    """Save a new run (its folder cleaned) and queue its job, in one transaction."""
    from catalog import tasks  # tasks.py imports this module

    with transaction.atomic():
        run.save()
        tasks.folder_import.enqueue(run_id=run.pk)


def run_import(run_id: int) -> None:
    """The job: walk the run's folder and import each file, saving the progress after each;
    run again, it goes on after the entries it walked."""
    run = FolderImportRun.objects.filter(pk=run_id).first()
    if run is None or run.state == FolderImportState.DONE:
        return
    run.state, run.failure, run.finished_at = FolderImportState.IMPORTING, "", None
    run.save(update_fields=["state", "failure", "finished_at"])
    try:
        _import_run(run)
    except Exception as error:
        _record_stop(run_id, error)
        raise


def _record_stop(run_id: int, error: Exception) -> None:
    """Say on the run why its job stopped; never raises (the job's own error is the one to
    report, and the database may be what is away)."""
    try:
        if isinstance(error, DatabaseError) and not connection.in_atomic_block:
            close_old_connections()  # a connection the error broke
        FolderImportRun.objects.filter(pk=run_id).update(
            state=FolderImportState.FAILED,
            failure=(
                f"Stopped by {type(error).__name__}: {error}. The job runs again by itself "
                "until its attempts are spent (docs/JOBS.md), going on after the files done."
            ),
            finished_at=timezone.now(),
        )
    except DatabaseError:
        logger.exception("Could not record why folder import run %s stopped", run_id)


def _import_run(run: FolderImportRun) -> None:
    try:
        clean_folder(run.folder)
    except ValidationError as error:  # gone since the run was made: nothing to try again
        run.state = FolderImportState.FAILED
        run.failure = " ".join(error.messages)
        run.finished_at = timezone.now()
        run.save(update_fields=["state", "failure", "finished_at"])
        return
    if not run.files_total:
        run.files_total = sum(1 for _ in walk(run.folder))
        run.save(update_fields=["files_total"])
    for position, entry in enumerate(walk(run.folder)):
        if position < run.files_done:
            continue  # walked by an earlier run of this job
        counted, reason = _import_entry(entry)
        setattr(run, f"{counted}_count", getattr(run, f"{counted}_count") + 1)
        if reason and len(run.problems) < PROBLEMS_KEPT:
            run.problems.append({"path": entry.stored_name, "outcome": counted, "reason": reason})
        run.files_done = position + 1
        run.files_total = max(run.files_total, run.files_done)
        run.save(update_fields=[*_COUNTERS, "problems", "files_done", "files_total"])
        if run.files_done % COLLECT_EVERY == 0:
            gc.collect()
    run.state, run.finished_at = FolderImportState.DONE, timezone.now()
    run.save(update_fields=["state", "finished_at"])


_COUNTERS = ["added_count", "updated_count", "unchanged_count", "skipped_count", "failed_count"]
_COUNTED = {
    Outcome.ADDED: "added",
    Outcome.UPDATED: "updated",
    Outcome.UNCHANGED: "unchanged",
    Outcome.MOVED: "unchanged",
    Outcome.DUPLICATE: "skipped",
    Outcome.TOO_LARGE: "skipped",
    Outcome.NOT_AUDIO: "skipped",
    Outcome.LYRICS: "updated",
    Outcome.FAILED: "failed",
}


def _import_entry(entry: StoredFile | Refused) -> tuple[str, str]:
    """(the count it goes to, the reason kept for a skipped or failed one)."""
    if isinstance(entry, Refused):
        return "skipped", entry.reason
    try:
        result = import_source(entry)
    except (StorageUnavailable, DatabaseError):
        raise  # the whole run stops, and its job is run again later
    except SuspiciousFileOperation as error:
        return "skipped", f"{UNSAFE_NAME} ({error})"
    except Exception as error:  # this file only: the run goes on
        return "failed", f"{type(error).__name__}: {error}"
    counted = _COUNTED[result.outcome]
    if result.outcome is Outcome.NOT_AUDIO and _named_as_audio(entry.name):
        counted = "failed"  # an audio file by its name whose bytes are not: damaged
    if counted in ("skipped", "failed"):
        return counted, _reason(result)
    return counted, ""


def _named_as_audio(name: str) -> bool:
    return posixpath.splitext(name)[1].lower().lstrip(".") in AUDIO_CONTENT_TYPES


def _reason(result: FileResult) -> str:
    return f"{result.outcome.value}: {result.reason}" if result.reason else result.outcome.value
