"""Files in an S3-compatible bucket (django-storages with boto3), and what the stream needs
from either kind of storage: a file's size and time, and a byte range read a chunk at a time.

The bucket is private by default (no ACL is ever set): URLs are presigned for
MEDIA_URL_EXPIRY_SECONDS, or built on MEDIA_PUBLIC_URL when the operator serves the bucket
publicly (a CDN or a public-read bucket policy). Every object is written with the
Content-Type of its verified format (never the client's), `Content-Disposition: inline` and
an immutable Cache-Control: stored names are random and never reused.
"""

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError
from django.core.files.storage import Storage
from django.utils.encoding import filepath_to_uri
from storages.backends.s3 import S3Storage
from storages.utils import clean_name

from core.files.audio import AUDIO_CONTENT_TYPES
from core.files.images import IMAGE_FORMATS

# Extension of a stored file -> its Content-Type; extensions come from verification.
CONTENT_TYPES = {
    **AUDIO_CONTENT_TYPES,
    **{extension: f"image/{name.lower()}" for name, extension in IMAGE_FORMATS.items()},
}
# A stored name is never reused for other bytes (core/files/uploads.generated_name).
IMMUTABLE_CACHE_CONTROL = "max-age=31536000, immutable"


def content_type_for(name: str) -> str:
    return CONTENT_TYPES.get(name.rsplit(".", 1)[-1].lower(), "application/octet-stream")


class BucketStorage(S3Storage):
    """django-storages' S3 backend with this project's object headers and public URLs."""

    def get_default_settings(self) -> dict[str, Any]:
        return {**super().get_default_settings(), "public_url": ""}

    def get_object_parameters(self, name: str) -> dict[str, Any]:
        # Setting ContentType here also keeps the client's own content type out.
        return {
            **super().get_object_parameters(name),
            "ContentType": content_type_for(name),
            "ContentDisposition": "inline",
            "CacheControl": IMMUTABLE_CACHE_CONTROL,
        }

    def url(self, name, parameters=None, expire=None, http_method=None) -> str:
        if self.public_url:
            key = self._normalize_name(clean_name(name))
            return f"{self.public_url.rstrip('/')}/{filepath_to_uri(key)}"
        return super().url(name, parameters=parameters, expire=expire, http_method=http_method)

    @property
    def client(self):
        return self.connection.meta.client

    def key(self, name: str) -> str:
        """The object key of a stored name (with the prefix)."""
        return self._normalize_name(clean_name(name))

    def stat(self, name: str) -> tuple[int, datetime]:
        """Size and last modification, in one HEAD; FileNotFoundError when it is gone."""
        try:
            head = self.client.head_object(Bucket=self.bucket_name, Key=self.key(name))
        except ClientError as error:
            if _is_missing(error):
                raise FileNotFoundError(name) from error
            raise
        return head["ContentLength"], head["LastModified"]

    def read_range(self, name: str, *, start: int, length: int, chunk_size: int) -> Iterator[bytes]:
        """The bytes [start, start + length) by one ranged GetObject, a chunk at a time."""
        if length <= 0:
            return
        try:
            answer = self.client.get_object(
                Bucket=self.bucket_name,
                Key=self.key(name),
                Range=f"bytes={start}-{start + length - 1}",
            )
        except ClientError as error:
            if _is_missing(error):
                raise FileNotFoundError(name) from error
            raise
        body = answer["Body"]
        try:
            yield from body.iter_chunks(chunk_size)
        finally:
            body.close()

    def listing(self, folder: str = "") -> Iterator[tuple[str, datetime]]:
        """Every stored name under `folder` (as the rows hold it) with its modification
        time, a page of a thousand keys at a time."""
        root = f"{self.location.strip('/')}/" if self.location.strip("/") else ""
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket_name, Prefix=root + folder):
            for entry in page.get("Contents", ()):
                if not entry["Key"].endswith("/"):
                    yield entry["Key"][len(root) :], entry["LastModified"]


def _is_missing(error: ClientError) -> bool:
    return error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404


def is_bucket(storage: Storage) -> bool:
    return isinstance(storage, BucketStorage)


def stat(storage: Storage, name: str) -> tuple[int, datetime]:
    """A stored file's size and modification time; FileNotFoundError when it is gone."""
    if is_bucket(storage):
        return storage.stat(name)
    return storage.size(name), storage.get_modified_time(name)


def read_range(
    storage: Storage, name: str, *, start: int, length: int, chunk_size: int
) -> Iterator[bytes]:
    """The bytes [start, start + length) of a stored file, a chunk at a time: memory stays
    flat whatever the size. Ends early if the file shrank meanwhile."""
    if is_bucket(storage):
        yield from storage.read_range(name, start=start, length=length, chunk_size=chunk_size)
        return
    with storage.open(name, "rb") as handle:
        handle.seek(start)
        remaining = length
        while remaining > 0:
            chunk = handle.read(min(chunk_size, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk


def listing(storage: Storage, folder: str) -> Iterator[tuple[str, datetime]]:
    """Every stored file under `folder` ("songs/"), with its modification time."""
    if is_bucket(storage):
        yield from storage.listing(folder)
        return
    if not storage.exists(folder.rstrip("/") or "."):
        return
    directories, files = storage.listdir(folder)
    for name in files:
        yield f"{folder}{name}", storage.get_modified_time(f"{folder}{name}")
    for directory in directories:
        yield from listing(storage, f"{folder}{directory}/")
