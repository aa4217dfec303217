"""What every upload check shares: the size limits and the generated names."""

import uuid

from django.core.files.uploadedfile import UploadedFile

from core.errors import PayloadTooLargeError, UnprocessableError

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
