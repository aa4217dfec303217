"""Stored files that follow their rows: a replaced or deleted file goes after commit, a
failed save leaves no new file behind, and URLs are absolute."""

from collections.abc import Iterator
from contextlib import contextmanager

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import FileField, Model
from django.db.models.fields.files import FieldFile
from django.http import HttpRequest

from core.files.uploads import client_name


def delete_after_commit(name: str | None) -> None:
    """Remove a stored file once the surrounding transaction has committed."""
    if name:
        transaction.on_commit(lambda: default_storage.delete(name))


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
        for name in pending:
            field_file = getattr(instance, name)
            if field_file and field_file._committed:
                field_file.storage.delete(field_file.name)
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
