"""Upload checks shared by the API and the admin: files are verified by their content.

A file's extension and the client's content type are never trusted, and the client's file
name never becomes a storage path: every accepted file gets a generated name.
"""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Model
from django.db.models.fields.files import FieldFile
from django.http import HttpRequest
from PIL import Image, UnidentifiedImageError

from core.errors import PayloadTooLargeError, UnprocessableError

# Pillow format name -> extension of the stored file. SVG, EPS, HTML and others are refused.
IMAGE_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}

IMAGE_NOT_READABLE = "The file is not an image in an accepted format (JPEG, PNG, WebP or GIF)."
IMAGE_TOO_MANY_PIXELS = "The image has too many pixels."
FILE_EMPTY = "The file is empty."


def file_too_large_message(limit_bytes: int) -> str:
    return f"The file is larger than the limit of {limit_bytes // (1024 * 1024)} MB."


def generated_name(extension: str) -> str:
    """A fresh random file name; storage adds the field's folder (`upload_to`)."""
    return f"{uuid.uuid4().hex}.{extension}"


def check_size(upload: UploadedFile, *, limit_bytes: int, field: str) -> None:
    if upload.size is None or upload.size == 0:
        raise UnprocessableError(field, FILE_EMPTY)
    if upload.size > limit_bytes:
        raise PayloadTooLargeError(file_too_large_message(limit_bytes))


def verify_image(upload: UploadedFile, *, field: str = "image_file") -> UploadedFile:
    """Accept an upload only if Pillow reads it as an allowed image; rename it safely."""
    check_size(upload, limit_bytes=settings.IMAGE_MAX_BYTES, field=field)
    try:
        upload.seek(0)
        with Image.open(upload) as image:
            image_format = image.format
            if image.width * image.height > settings.IMAGE_MAX_PIXELS:
                raise UnprocessableError(field, IMAGE_TOO_MANY_PIXELS)
            image.verify()  # walks the data: catches truncated and corrupt files
    except UnprocessableError:
        raise
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        OSError,
        SyntaxError,
        ValueError,
    ) as error:
        raise UnprocessableError(field, IMAGE_NOT_READABLE) from error
    if image_format not in IMAGE_FORMATS:
        raise UnprocessableError(field, IMAGE_NOT_READABLE)
    upload.seek(0)
    upload.name = generated_name(IMAGE_FORMATS[image_format])
    return upload


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
    """The absolute URL of a stored file, or None when there is none."""
    if not field_file:
        return None
    url = field_file.url
    return request.build_absolute_uri(url) if request is not None else url
