"""Stored files that follow their rows: a replaced or deleted file goes after commit, a
failed save leaves no new file behind, and URLs are absolute.

Removing a file after its row's deletion committed never fails the request: should the
storage be away (or refuse), the file is recorded as a `PendingFileDeletion`, which
`manage.py cleanup_media --delete` removes once the storage answers again.
"""

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from django.core.files.storage import default_storage
from django.db import DatabaseError, transaction
from django.db.models import FileField, Model
from django.db.models.fields.files import FieldFile
from django.http import HttpRequest

from core.errors import StorageUnavailable
from core.files.uploads import client_name

logger = logging.getLogger(__name__)


def delete_after_commit(*names: str | None) -> None:
    """Remove stored files once the surrounding transaction has committed (one by one;
    what cannot be removed then is left for cleanup_media, see `remove_files`)."""
    kept = [name for name in names if name]
    if kept:
        transaction.on_commit(lambda: remove_files(kept), robust=True)


def remove_files(names: Sequence[str]) -> None:
    """Delete stored files no row refers to any more; never raises.

    With the storage away, the first failure records it and all the rest as pending
    deletions without trying them (each try would wait out the timeouts again); any other
    failure records that one file and goes on."""
    for index, name in enumerate(names):
        try:
            default_storage.delete(name)
        except StorageUnavailable as error:
            logger.warning("Storage away: %d file(s) left to cleanup_media: %s", len(names), error)
            record_pending_deletions(names[index:], error)
            return
        except Exception as error:
            logger.exception("Could not delete %s; left to cleanup_media", name)
            record_pending_deletions([name], error)


def record_pending_deletions(names: Sequence[str], error: BaseException) -> None:
    """Note files to delete later (cleanup_media --delete); a name noted already stays once.

    Without a database either, the files are only logged: cleanup_media's scan for files no
    row refers to still finds them."""
    from core.models import PendingFileDeletion

    try:
        PendingFileDeletion.objects.bulk_create(
            [PendingFileDeletion(name=name, last_error=str(error)[:2000]) for name in names],
            ignore_conflicts=True,
        )
    except DatabaseError:
        logger.exception("Could not record the pending deletion of %s", ", ".join(names))


@contextmanager
def files_removed_on_failure(instance: Model, *field_names: str) -> Iterator[None]:
    """If the block fails, delete the files it stored for `instance`: no orphan is left.

    Only a file assigned before the block and saved inside it is removed; a file the row
    already had is kept.
    """
    pending = [name for name in field_names if _is_uncommitted(getattr(instance, name))]
    try:
        yield
    except BaseException:
        stored = [getattr(instance, name) for name in pending]
        names = [field_file.name for field_file in stored if field_file and field_file._committed]
        # The first error is the one raised; a storage away now leaves these to cleanup_media.
        remove_files(names)
        raise


def _is_uncommitted(field_file: FieldFile) -> bool:
    return bool(field_file) and not field_file._committed


def absolute_file_url(request: HttpRequest | None, field_file: FieldFile | None) -> str | None:
    """The absolute URL of a stored file, or None when there is none.

    With a bucket it is presigned (valid MEDIA_URL_EXPIRY_SECONDS), or on MEDIA_PUBLIC_URL.

    Within one request each file's URL is built once: the songs of an album share its cover.
    """
    if not field_file:
        return None
    if request is None:
        return field_file.url
    built: dict[tuple[int, str], str] = request.__dict__.setdefault("_file_urls", {})
    key = (id(field_file.storage), field_file.name)
    if key not in built:
        built[key] = request.build_absolute_uri(field_file.url)
    return built[key]


def save_with_files(instance: Model) -> None:
    """Save `instance` and keep its stored files in step with the row.

    - A file this save stores is deleted again if the save fails.
    - A model with a `<field>_original_name` column keeps there what the client called the
      file this save stores (cleared with the file).
    - For a row that exists, the row is locked and the names of the files it held are read
      under the lock (two replacements at once each delete the file they really replaced);
      each file replaced or cleared is deleted once the transaction commits.

    Raises the model's DoesNotExist when the row was deleted meanwhile.
    """
    model = type(instance)
    fields = [field.name for field in model._meta.fields if isinstance(field, FileField)]
    for name in fields:
        _note_original_name(instance, name)
    with files_removed_on_failure(instance, *fields), transaction.atomic():
        if instance._state.adding:
            instance.save()
            return
        stored = model._default_manager.select_for_update().only(*fields).get(pk=instance.pk)
        instance.save()
        for name in fields:
            held = getattr(stored, name).name
            if held and held != getattr(instance, name).name:
                delete_after_commit(held)


def _note_original_name(instance: Model, field_name: str) -> None:
    column = f"{field_name}_original_name"
    if not hasattr(instance, column):
        return
    field_file = getattr(instance, field_name)
    if not field_file:
        setattr(instance, column, "")
    elif _is_uncommitted(field_file):  # a new upload, checked and renamed
        setattr(instance, column, client_name(field_file.file))
