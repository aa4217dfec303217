"""Files in an S3-compatible bucket (django-storages with boto3), and what the stream needs
from either kind of storage: a file's size and time, and a byte range read a chunk at a time.

The bucket is private by default (no ACL is ever set): URLs are presigned for
MEDIA_URL_EXPIRY_SECONDS, or built on MEDIA_PUBLIC_URL when the operator serves the bucket
publicly (a CDN or a public-read bucket policy). Every object is written with the
Content-Type of its verified format (never the client's), `Content-Disposition: inline` and
an immutable Cache-Control: stored names are random and never reused.

A bucket that is down, stuck or overloaded raises `StorageUnavailable` (the API answers 503
with Retry-After): every call has connect and read timeouts and a bounded number of attempts
(STORAGE_CONNECT_TIMEOUT, STORAGE_READ_TIMEOUT, STORAGE_MAX_ATTEMPTS), so a stuck bucket
costs a request seconds, never the worker.
"""

import io
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from http import HTTPStatus
from typing import Any

from botocore.config import Config
from botocore.exceptions import (
    ClientError,
    ConnectionError,
    CredentialRetrievalError,
    HTTPClientError,
)
from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation, SuspiciousOperation
from django.core.files.storage import Storage
from django.utils.encoding import filepath_to_uri
from storages.backends.s3 import S3Storage
from storages.utils import clean_name

from core.errors import StorageUnavailable
from core.files.content_types import content_type_for

# A stored name is never reused for other bytes (core/files/uploads.generated_name).
IMMUTABLE_CACHE_CONTROL = "max-age=31536000, immutable"
# Read-ahead of a ranged object file: mutagen's many small header reads cost one request a block.
RANGED_BLOCK_BYTES = 64 * 1024
# Guards the first build of BucketStorage's shared client.
_CLIENT_LOCK = threading.Lock()


# Error codes a bucket gives for "not now" (S3 and the S3-compatible servers), whatever status.
_BUSY_CODES = frozenset(
    {
        "SlowDown",
        "ServiceUnavailable",
        "InternalError",
        "RequestTimeout",
        "Throttling",
        "ThrottlingException",
        "RequestTimeTooSkewed",
        "XMinioServerNotInitialized",
    }
)


def is_unavailable(error: BaseException) -> bool:
    """Whether a botocore error means the bucket cannot be reached or cannot serve now (a
    retry later may work), as opposed to a refusal about the request itself."""
    if isinstance(error, HTTPClientError | ConnectionError | CredentialRetrievalError):
        return True  # refused, reset, timed out, or credentials not fetched from their source
    if isinstance(error, ClientError):
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        code = error.response.get("Error", {}).get("Code", "")
        return status >= 500 or code in _BUSY_CODES
    return False


@contextmanager
def bucket_errors(what: str) -> Iterator[None]:
    """Raise StorageUnavailable, from the botocore error, when the bucket is away."""
    try:
        yield
    except (ClientError, HTTPClientError, ConnectionError, CredentialRetrievalError) as error:
        if is_unavailable(error):
            raise StorageUnavailable(f"{what}: {error}") from error
        raise


class BucketStorage(S3Storage):
    """django-storages' S3 backend with this project's object headers and public URLs."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        # Bounded waits: botocore's defaults are 60 s each, with several attempts, longer
        # than a worker lives. "standard" retries connection errors, timeouts, 5xx and
        # throttling, with jittered backoff, `max_attempts` times in all.
        self.client_config = self.client_config.merge(
            Config(
                connect_timeout=self.connect_timeout,
                read_timeout=self.read_timeout,
                retries={"mode": "standard", "total_max_attempts": self.max_attempts},
            )
        )

    def get_default_settings(self) -> dict[str, Any]:
        return {
            **super().get_default_settings(),
            "public_url": "",
            "connect_timeout": getattr(settings, "STORAGE_CONNECT_TIMEOUT", 3),
            "read_timeout": getattr(settings, "STORAGE_READ_TIMEOUT", 5),
            "max_attempts": getattr(settings, "STORAGE_MAX_ATTEMPTS", 2),
        }

    # Every call that reaches the bucket raises StorageUnavailable when it is away.

    def _save(self, name: str, content: Any) -> str:
        with bucket_errors(f"storing {name}"):
            return super()._save(name, content)

    def _open(self, name: str, mode: str = "rb") -> Any:
        with bucket_errors(f"opening {name}"):
            return super()._open(name, mode)

    def delete(self, name: str) -> None:
        with bucket_errors(f"deleting {name}"):
            super().delete(name)

    def exists(self, name: str) -> bool:
        with bucket_errors(f"looking up {name}"):
            return super().exists(name)

    def size(self, name: str) -> int:
        with bucket_errors(f"looking up {name}"):
            return super().size(name)

    def get_modified_time(self, name: str) -> datetime:
        with bucket_errors(f"looking up {name}"):
            return super().get_modified_time(name)

    def listdir(self, name: str) -> tuple[list[str], list[str]]:
        with bucket_errors(f"listing {name}"):
            return super().listdir(name)

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
        # Signing reaches no bucket, but the credentials may come from a server (an instance
        # role, a container's credentials endpoint) that is away.
        with bucket_errors(f"signing a URL of {name}"):
            return super().url(name, parameters=parameters, expire=expire, http_method=http_method)

    @property
    def client(self):
        """One botocore client for all threads (clients are thread-safe). django-storages
        keeps a boto3 resource per thread, and building one parses the S3 service model
        (about 12 MB allocated and tens of milliseconds): a view that runs in a fresh thread
        each request (an async view under WSGI) would pay that on every play."""
        client = self.__dict__.get("_shared_client")
        if client is None:
            with _CLIENT_LOCK:
                client = self.__dict__.get("_shared_client")
                if client is None:
                    client = self._shared_client = self.connection.meta.client
        return client

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state.pop("_shared_client", None)  # a client is rebuilt, as django-storages' resources
        return state

    def key(self, name: str) -> str:
        """The object key of a stored name (with the prefix)."""
        return self._normalize_name(clean_name(name))

    def contained_key(self, name: str) -> str:
        """The key of a file strictly under the prefix; SuspiciousFileOperation for a name
        that would climb out of it or name the prefix itself."""
        try:
            key = self.key(name)
        except SuspiciousOperation as error:  # django-storages: outside `location`
            raise SuspiciousFileOperation(f"{name!r} is outside the storage prefix") from error
        root = self.location.strip("/")
        if not key or key.endswith("/") or (root and not key.startswith(f"{root}/")):
            raise SuspiciousFileOperation(f"{name!r} is not a file under the storage prefix")
        return key

    def open_ranged(self, name: str, *, block_size: int = RANGED_BLOCK_BYTES) -> "RangedObjectFile":
        """A read-only, seekable file over a stored object that fetches only the byte ranges
        read (FileNotFoundError when it is gone), instead of downloading it whole as
        `open()` does. One HEAD now; a ranged GetObject per block read later."""
        key = self.contained_key(name)
        try:
            with bucket_errors(f"looking up {name}"):
                head = self.client.head_object(Bucket=self.bucket_name, Key=key)
        except ClientError as error:
            if _is_missing(error):
                raise FileNotFoundError(name) from error
            raise
        return RangedObjectFile(
            self.client,
            bucket=self.bucket_name,
            key=key,
            name=name,
            size=head["ContentLength"],
            etag=head.get("ETag", ""),
            block_size=block_size,
        )

    def stat(self, name: str) -> tuple[int, datetime]:
        """Size and last modification, in one HEAD; FileNotFoundError when it is gone."""
        try:
            with bucket_errors(f"looking up {name}"):
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
            with bucket_errors(f"reading {name}"):
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
            with bucket_errors(f"reading {name}"):
                yield from body.iter_chunks(chunk_size)
        finally:
            body.close()

    def listing(self, folder: str = "") -> Iterator[tuple[str, datetime]]:
        """Every stored name under `folder` (as the rows hold it) with its modification
        time, a page of a thousand keys at a time."""
        root = f"{self.location.strip('/')}/" if self.location.strip("/") else ""
        paginator = self.client.get_paginator("list_objects_v2")
        with bucket_errors(f"listing {folder}"):
            for page in paginator.paginate(Bucket=self.bucket_name, Prefix=root + folder):
                for entry in page.get("Contents", ()):
                    if not entry["Key"].endswith("/"):
                        yield entry["Key"][len(root) :], entry["LastModified"]

    def incomplete_uploads(self) -> Iterator[tuple[str, str, datetime]]:
        """Multipart uploads under the prefix that were started and never completed nor
        aborted (their parts are billed, yet no object shows): (key, upload id, started)."""
        root = f"{self.location.strip('/')}/" if self.location.strip("/") else ""
        paginator = self.client.get_paginator("list_multipart_uploads")
        with bucket_errors("listing incomplete uploads"):
            for page in paginator.paginate(Bucket=self.bucket_name, Prefix=root):
                for upload in page.get("Uploads", ()):
                    yield upload["Key"], upload["UploadId"], upload["Initiated"]

    def abort_upload(self, key: str, upload_id: str) -> None:
        with bucket_errors(f"aborting the upload of {key}"):
            self.client.abort_multipart_upload(Bucket=self.bucket_name, Key=key, UploadId=upload_id)


class RangedObjectFile(io.RawIOBase):
    """A bucket object read by byte ranges: each read past the buffered block is one ranged
    GetObject of at least `block_size` bytes (the read-ahead), so reading headers here and
    there costs a few small requests instead of the whole object. Every GetObject carries
    the ETag seen at open (If-Match): should the object be replaced meanwhile, reads fail
    with OSError rather than mixing the bytes of two files.

    `fetched_bytes` and `requests` count what was asked of the bucket.
    """

    def __init__(
        self,
        client: Any,
        *,
        bucket: str,
        key: str,
        name: str,
        size: int,
        etag: str = "",
        block_size: int = RANGED_BLOCK_BYTES,
    ) -> None:
        super().__init__()
        self._client, self._bucket, self._key, self._etag = client, bucket, key, etag
        self.name, self.size, self.mode = name, size, "rb"
        self.block_size = block_size
        self.fetched_bytes = 0
        self.requests = 0
        self._position = 0
        self._buffer, self._buffer_start = b"", 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        self._check_open()
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self._check_open()
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self.size}[whence]
        if base + offset < 0:
            raise ValueError(f"negative seek position {base + offset}")
        self._position = base + offset
        return self._position

    def read(self, size: int | None = -1) -> bytes:
        self._check_open()
        end = self.size if size is None or size < 0 else min(self.size, self._position + size)
        parts = []
        while self._position < end:
            offset = self._position - self._buffer_start
            if not 0 <= offset < len(self._buffer):
                # Read ahead a block, or exactly what is asked for when that is more.
                wanted = max(end - self._position, self.block_size)
                self._buffer = self._fetch(self._position, min(self.size, self._position + wanted))
                self._buffer_start, offset = self._position, 0
                if not self._buffer:
                    break  # the object is shorter than its HEAD said
            part = self._buffer[offset : offset + end - self._position]
            parts.append(part)
            self._position += len(part)
        return b"".join(parts)

    def readall(self) -> bytes:
        return self.read(-1)

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._buffer = b""
        super().close()

    def _check_open(self) -> None:
        if self.closed:
            raise ValueError("I/O operation on closed file.")

    def _fetch(self, start: int, stop: int) -> bytes:
        """The bytes [start, stop) of the object, by one ranged GetObject."""
        extra = {"IfMatch": self._etag} if self._etag else {}
        try:
            with bucket_errors(f"reading {self.name}"):
                answer = self._client.get_object(
                    Bucket=self._bucket, Key=self._key, Range=f"bytes={start}-{stop - 1}", **extra
                )
        except ClientError as error:
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if status == HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE:  # it shrank below `start`
                return b""
            raise OSError(f"reading {self.name}: {error}") from error
        body = answer["Body"]
        try:
            with bucket_errors(f"reading {self.name}"):
                data = body.read()
        finally:
            body.close()
        self.requests += 1
        self.fetched_bytes += len(data)
        return data


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
