"""Audio responses with byte ranges and revalidation (RFC 9110), streamed in chunks.

The body is an async generator that reads the stored file a chunk at a time, so the memory
of a stream stays flat whatever the file size. With `MEDIA_ACCEL_REDIRECT` set, the app only
checks the request and hands the file to nginx (`X-Accel-Redirect`), which then answers
ranges and revalidation itself (see deploy/nginx.conf).

With the files in a bucket (STORAGE_BUCKET), MEDIA_STREAM_MODE says how: "redirect" answers
302 to a presigned URL of the object, and the bucket answers ranges itself; "proxy" streams
it through the app as from disk, each body one ranged GetObject read a chunk at a time.
"""

import hashlib
import re
from collections.abc import AsyncIterator, Generator, Iterator
from dataclasses import dataclass
from datetime import datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.files.storage import Storage
from django.core.handlers.asgi import ASGIRequest
from django.db.models.fields.files import FieldFile
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
    StreamingHttpResponse,
)
from django.utils.http import http_date, parse_etags, parse_http_date_safe

from core.errors import NotFound
from core.files.content_types import AUDIO_CONTENT_TYPES, audio_content_type
from core.files.object_storage import is_bucket, read_range, stat

CHUNK_SIZE = 64 * 1024
RANGE_NOT_SATISFIABLE = "The requested range is not within the audio file."
AUDIO_MISSING = "The audio file of this song is missing."
# Players revalidate with the ETag on each request; the URL stays the same across edits.
CACHE_CONTROL = "no-cache"
# A redirect names a URL that expires: never kept by a cache.
REDIRECT_CACHE_CONTROL = "no-store"

_RANGE_SPEC = re.compile(r"(\d*)-(\d*)")
_MAX_DIGITS = 30  # longer positions are treated as malformed, never parsed


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int  # inclusive, as in Content-Range

    @property
    def length(self) -> int:
        return self.end - self.start + 1


class RangeNotSatisfiable(Exception):
    """The Range header is valid but selects no byte of the file (416)."""


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The one byte range asked for, or None to send the whole file.

    As RFC 9110 allows, a header that is malformed, names another unit or asks for several
    ranges is ignored (the whole file, 200). Raises RangeNotSatisfiable when the range
    starts past the end or is a zero-length suffix.
    """
    if not header or "=" not in header:
        return None
    unit, _, range_set = header.partition("=")
    if unit.strip().lower() != "bytes":
        return None
    specs = [spec.strip() for spec in range_set.split(",") if spec.strip()]
    if len(specs) != 1:
        return None
    match = _RANGE_SPEC.fullmatch(specs[0])
    if match is None or len(match[1]) > _MAX_DIGITS or len(match[2]) > _MAX_DIGITS:
        return None
    first, last = match[1], match[2]
    if first:
        start = int(first)
        if last and int(last) < start:
            return None  # last-pos before first-pos: invalid, so ignored
        if start >= size:
            raise RangeNotSatisfiable
        end = min(int(last), size - 1) if last else size - 1
        return ByteRange(start, end)
    if not last:
        return None  # "bytes=-"
    suffix = int(last)
    if suffix == 0:
        raise RangeNotSatisfiable
    return ByteRange(max(0, size - suffix), size - 1)


@dataclass(frozen=True)
class StoredFile:
    storage: Storage
    name: str
    size: int
    modified: datetime

    @property
    def etag(self) -> str:
        # Stored names are generated per upload, so name, size and time identify the bytes.
        token = f"{self.name}:{self.size}:{self.modified.timestamp()}"
        return f'"{hashlib.sha256(token.encode()).hexdigest()[:32]}"'

    @property
    def last_modified(self) -> str:
        return http_date(int(self.modified.timestamp()))


def _stat(field_file: FieldFile) -> StoredFile:
    storage, name = field_file.storage, field_file.name
    try:
        return StoredFile(storage, name, *stat(storage, name))
    except FileNotFoundError as error:
        raise NotFound(AUDIO_MISSING) from error


async def audio_response(
    request: HttpRequest,
    field_file: FieldFile,
    *,
    method: str | None = None,
    read_through: bool = False,
    content_type: str | None = None,
) -> HttpResponse:
    """The answer to GET or HEAD for a stored audio file (or another stored file of a song,
    such as its waveform, given its `content_type`).

    `method`: what the request stands for when not its own method (a Subsonic form POST
    stands for a GET, Range and all). `read_through`: never redirect to the bucket, read it
    through as in "proxy" mode, for clients that do not follow redirects (nginx's internal
    redirect still applies: the client never sees it)."""
    method = method or request.method
    content_type = content_type or audio_content_type(field_file.name)
    redirect = settings.MEDIA_STREAM_MODE == "redirect" and not read_through
    if is_bucket(field_file.storage) and redirect:
        # Signing reads no network, but the first use in a thread builds a boto3 session.
        return await sync_to_async(_bucket_redirect, thread_sensitive=False)(
            request, field_file, content_type
        )
    if settings.MEDIA_ACCEL_REDIRECT:
        return _accel_redirect(field_file.name, content_type)
    stored = await sync_to_async(_stat, thread_sensitive=False)(field_file)
    headers = {
        "Accept-Ranges": "bytes",
        "ETag": stored.etag,
        "Last-Modified": stored.last_modified,
        "Cache-Control": CACHE_CONTROL,
    }
    if _not_modified(request, stored):
        return HttpResponse(status=HTTPStatus.NOT_MODIFIED, headers=headers)
    byte_range = None
    if method == "GET" and _if_range_holds(request, stored):  # ranges are for GET only
        try:
            byte_range = parse_range(request.headers.get("Range"), stored.size)
        except RangeNotSatisfiable:
            return JsonResponse(
                {"detail": RANGE_NOT_SATISFIABLE},
                status=HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE,
                headers={**headers, "Content-Range": f"bytes */{stored.size}"},
            )
    status, start, length = HTTPStatus.OK, 0, stored.size
    if byte_range is not None:
        status, start, length = HTTPStatus.PARTIAL_CONTENT, byte_range.start, byte_range.length
        headers["Content-Range"] = f"bytes {byte_range.start}-{byte_range.end}/{stored.size}"
    headers["Content-Length"] = str(length)
    if method == "HEAD":
        return HttpResponse(status=status, content_type=content_type, headers=headers)
    # Under ASGI an async generator; under WSGI (runserver) a plain one: Django would read
    # the whole of an async body into memory to serve it synchronously.
    chunks = _chunks if isinstance(request, ASGIRequest) else _sync_chunks
    return StreamingHttpResponse(
        chunks(stored, start=start, length=length),
        status=status,
        content_type=content_type,
        headers=headers,
    )


# Audio made for one request: not kept by any cache.
_UNSIZED_HEADERS = {"Cache-Control": "no-store"}


def unsized_response(
    request: HttpRequest,
    chunks: Generator[bytes, None, None],
    *,
    content_type: str,
    method: str | None = None,
) -> HttpResponse:
    """The answer for audio made as it is sent (a stream from an offset): its length is not
    known, so no Content-Length, no ranges (`Accept-Ranges: none`), no ETag. HEAD answers the
    headers and never starts `chunks`; closing the response closes `chunks`."""
    headers = {"Accept-Ranges": "none", **_UNSIZED_HEADERS}
    if (method or request.method) == "HEAD":
        chunks.close()
        return HttpResponse(content_type=content_type, headers=headers)
    body = _off_loop(chunks) if isinstance(request, ASGIRequest) else chunks
    return StreamingHttpResponse(body, content_type=content_type, headers=headers)


def empty_audio(content_type: str) -> HttpResponse:
    """Audio with nothing in it (a stream from an offset at or past the end)."""
    return HttpResponse(
        b"", content_type=content_type, headers={"Accept-Ranges": "none", **_UNSIZED_HEADERS}
    )


async def _off_loop(chunks: Generator[bytes, None, None]) -> AsyncIterator[bytes]:
    """A blocking iterator read in a worker thread, closed there when the body is closed."""
    in_thread = sync_to_async
    try:
        while (chunk := await in_thread(next, thread_sensitive=False)(chunks, None)) is not None:
            yield chunk
    finally:
        await in_thread(chunks.close, thread_sensitive=False)()


def _accel_redirect(name: str, content_type: str) -> HttpResponse:
    """Let nginx serve the file from its internal location (ranges, ETag and all)."""
    location = settings.MEDIA_ACCEL_REDIRECT.rstrip("/") + "/" + quote(name)
    return HttpResponse(content_type=content_type, headers={"X-Accel-Redirect": location})


def _bucket_redirect(request: HttpRequest, field_file: FieldFile, content_type: str):
    """302 to a presigned URL of the object (signed for the method asked), or its public URL.

    The bucket then answers ranges itself; the object is not looked up first (one request
    to the bucket saved per play), so a missing object is the bucket's 404 or 403."""
    method = "HEAD" if request.method == "HEAD" else "GET"
    url = field_file.storage.url(
        field_file.name,
        parameters={"ResponseContentType": content_type},
        expire=settings.MEDIA_URL_EXPIRY_SECONDS,
        http_method=method,
    )
    response = HttpResponseRedirect(url)
    response["Cache-Control"] = REDIRECT_CACHE_CONTROL
    return response


def _not_modified(request: HttpRequest, stored: StoredFile) -> bool:
    """If-None-Match (weak comparison) or, without it, If-Modified-Since."""
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        tags = [tag.removeprefix("W/") for tag in parse_etags(if_none_match)]
        return "*" in tags or stored.etag in tags
    since = parse_http_date_safe(request.headers.get("If-Modified-Since") or "")
    return since is not None and int(stored.modified.timestamp()) <= since


def _if_range_holds(request: HttpRequest, stored: StoredFile) -> bool:
    """Without If-Range, or when it matches exactly (strong comparison), Range applies."""
    if_range = request.headers.get("If-Range")
    if if_range is None:
        return True
    if_range = if_range.strip()
    if if_range.startswith(('"', "W/")):
        return if_range == stored.etag  # a weak tag never matches
    return parse_http_date_safe(if_range) == int(stored.modified.timestamp())


async def _chunks(stored: StoredFile, *, start: int, length: int) -> AsyncIterator[bytes]:
    """The bytes [start, start + length) of the file, a chunk at a time, read off the loop."""
    in_thread = sync_to_async  # file and bucket reads block: run them in a worker thread
    chunks = _sync_chunks(stored, start=start, length=length)
    try:
        while (chunk := await in_thread(next, thread_sensitive=False)(chunks, None)) is not None:
            yield chunk
    finally:
        await in_thread(chunks.close, thread_sensitive=False)()


def _sync_chunks(stored: StoredFile, *, start: int, length: int) -> Iterator[bytes]:
    return read_range(
        stored.storage, stored.name, start=start, length=length, chunk_size=CHUNK_SIZE
    )


# The stream's OpenAPI: the conditional and range headers it reads, and what it answers.
_BINARY = {"schema": {"type": "string", "format": "binary"}}
# Every type a stored song can be served as, from the one list the upload checks use.
_AUDIO_CONTENT = dict.fromkeys(AUDIO_CONTENT_TYPES.values(), _BINARY)
_HEADERS = {
    "Range": "One byte range, e.g. bytes=0-1023, bytes=1024- or bytes=-500.",
    "If-Range": "The ETag or Last-Modified: the range applies only if the file is unchanged.",
    "If-None-Match": "ETags held by the client: 304 when one matches.",
    "If-Modified-Since": "304 when the file is no newer (ignored with If-None-Match).",
}
STREAM_OPENAPI: dict[str, Any] = {
    "parameters": [
        {
            "in": "header",
            "name": name,
            "required": False,
            "schema": {"type": "string"},
            "description": text,
        }
        for name, text in _HEADERS.items()
    ],
    "responses": {
        "200": {"description": "The whole file.", "content": _AUDIO_CONTENT},
        "206": {
            "description": "The byte range asked for (Content-Range).",
            "content": _AUDIO_CONTENT,
        },
        "302": {
            "description": (
                "With the files in a bucket (the default stream mode there): the audio is at "
                "the URL in Location, presigned for a few minutes. Follow it, with the same "
                "Range header: the bucket answers 200, 206 or 416 itself. Never cached."
            ),
            "headers": {
                "Location": {
                    "description": "Where the audio is.",
                    "schema": {"type": "string", "format": "uri"},
                }
            },
        },
        "304": {"description": "Not modified since the ETag or date sent."},
    },
}


WAVEFORM_CONTENT_TYPE = "application/json"
# The waveform is a stored file served as the audio is: ETag, 304, Range, a bucket's 302.
WAVEFORM_OPENAPI: dict[str, Any] = {
    "parameters": STREAM_OPENAPI["parameters"],
    "responses": {
        "200": {
            "description": (
                "The audiowaveform JSON (version 2): `version`, `channels` (1), `sample_rate`, "
                "`samples_per_pixel`, `bits` (8), `length` and `data` (a min and a max per "
                "point, -128 to 127)."
            ),
            "content": {WAVEFORM_CONTENT_TYPE: {"schema": {"type": "object"}}},
        },
        "206": {"description": "The byte range asked for (Content-Range)."},
        "302": STREAM_OPENAPI["responses"]["302"],
        "304": STREAM_OPENAPI["responses"]["304"],
    },
}
