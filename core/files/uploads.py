"""What every upload check shares: the size limits and the generated names."""

import re
import uuid
from pathlib import PurePosixPath

from django.core.files.uploadedfile import UploadedFile
from django.db import models

from core.errors import Invalid, TooLarge

FILE_EMPTY = "The file is empty."


def file_too_large_message(limit_bytes: int) -> str:
    return f"The file is larger than the limit of {limit_bytes // (1024 * 1024)} MB."


def generated_name(extension: str) -> str:
    """A fresh random file name; storage adds the field's folder (`upload_to`)."""
    return f"{uuid.uuid4().hex}.{extension}"


# The longest original file name kept (the `*_original_name` columns).
ORIGINAL_NAME_MAX_LENGTH = 255
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


def original_name_field() -> models.CharField:
    """The `<file field>_original_name` column: what the client called the uploaded file, for
    display and export only (stored names are random); `save_with_files` fills it."""
    # A database default too: bulk loads (seed_scale, the benchmark's SQL) leave it out.
    return models.CharField(
        "uploaded as", max_length=ORIGINAL_NAME_MAX_LENGTH, blank=True, default="", db_default=""
    )


def display_name(name: str) -> str:
    """A client's file name as it may be shown and exported: its last path segment, without
    control characters, at most ORIGINAL_NAME_MAX_LENGTH characters. Never a storage path."""
    last = PurePosixPath(name.replace("\\", "/")).name
    return _CONTROL_CHARACTERS.sub("", last)[:ORIGINAL_NAME_MAX_LENGTH]


def rename_upload(upload: UploadedFile, extension: str) -> None:
    """Give an accepted upload a generated name, remembering the client's as `client_name`
    (for display; a second check of the same upload keeps the first name it had)."""
    if not hasattr(upload, "client_name"):
        upload.client_name = display_name(upload.name or "")  # type: ignore[attr-defined]
    upload.name = generated_name(extension)


def client_name(upload: UploadedFile | None) -> str:
    """What the client called an upload that passed its check; "" without one."""
    return getattr(upload, "client_name", "") if upload is not None else ""


def check_size(upload: UploadedFile, *, limit_bytes: int, field: str) -> None:
    if upload.size is None or upload.size == 0:
        raise Invalid(field, FILE_EMPTY)
    if upload.size > limit_bytes:
        raise TooLarge(file_too_large_message(limit_bytes))
