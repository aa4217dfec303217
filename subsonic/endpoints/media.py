"""Media retrieval: stream, download and getCoverArt. They answer the file itself; their
errors (an unknown id, a missing file: error 70) come in the envelope as any other's.

`stream` answers the file `format` and `maxBitRate` pick from the original and the ready
renditions (catalog.renditions.pick_stream); `download` the original always. Both through
catalog/streaming.py: `Range` (206 with Content-Range; 416 for a range past the end), ETag
and Last-Modified revalidation, HEAD; by GET or form POST alike (the POST stands for a GET,
Range and all). Never a redirect, which clients such as DSub do not follow: files in a
bucket are read through the app (as MEDIA_STREAM_MODE=proxy does), and with
MEDIA_ACCEL_REDIRECT nginx serves the file from disk by its internal redirect, which the
client never sees. The body is read a chunk at a time under WSGI (gunicorn) and ASGI
(uvicorn) alike. `stream`'s `timeOffset` (the transcodeOffset extension) answers the picked
file from that far in, copied by ffmpeg as it is sent (processing/offset.py; a file in a
bucket is read by ffmpeg from a presigned URL, seeking by ranged requests): no length, no
ranges. `estimateContentLength` is ignored. Neither counts as a play: clients report plays
with `scrobble`.

`getCoverArt` answers the picture of a song (its own, else its album's), an album, an artist
or a playlist (one the caller may see: its own picture, else its first song's), at `size`
rounded up to 64, 128, 256, 512 or 1024 pixels (made once and kept, core/files/thumbnails.py),
the picture itself without `size` or for a larger one. Cached by the client for a day, then
revalidated by ETag.
"""

import hashlib
import math
import re
from http import HTTPStatus

from asgiref.sync import async_to_sync
from django.db.models.fields.files import FieldFile
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.utils.http import content_disposition_header, parse_etags

from catalog import streaming
from catalog.models import Song
from catalog.renditions import StreamFormat, pick_stream
from core.errors import NotFound
from core.files.thumbnails import image_at_size, served_name
from processing.offset import output_content_type, stream_from_offset
from subsonic import ids, selectors
from subsonic.errors import SubsonicError
from subsonic.ids import Kind
from subsonic.registry import Call, endpoint
from subsonic.shapes import suffix_of
from subsonic.spec import ErrorCode

# A cover's URL names the item, not the picture, which may be replaced: kept a day, then
# revalidated (the ETag names the stored picture and size, so a replaced one answers anew).
COVER_CACHE_CONTROL = "private, max-age=86400"


# --- stream and download ------------------------------------------------------------------

# `format` -> what it asks for; any other (e.g. "flv") is no preference.
FORMATS = {
    "raw": StreamFormat.ORIGINAL,
    "opus": StreamFormat.OPUS,
    "mp3": StreamFormat.MP3,
    "aac": StreamFormat.AAC,
    "m4a": StreamFormat.AAC,
}
_DECIMAL_SECONDS = re.compile(r"(\d+)(?:\.(\d+))?")
# More whole seconds than this is past the end of any song: never parsed further.
_OFFSET_MAX_DIGITS = 9
OFFSET_NOT_A_NUMBER = "timeOffset must be a number of seconds, 0 or more (e.g. 30 or 30.5)."


def _song(call: Call) -> Song:
    ref = ids.parse_as(call.params.required("id"), Kind.SONG)
    return selectors.song_audio(song_id=ref.pk)


def _method(call: Call) -> str:
    # A form POST (the formPost extension) stands for a GET: its Range applies.
    return "GET" if call.request.method == "POST" else call.request.method


def _audio(call: Call, field_file: FieldFile) -> HttpResponseBase:
    return async_to_sync(streaming.audio_response)(
        call.request, field_file, method=_method(call), read_through=True
    )


def _time_offset(call: Call) -> float:
    """`timeOffset` in seconds (0 when absent): a whole number, as the Subsonic API has it,
    or a decimal one, as some clients send."""
    value = (call.params.get("timeOffset") or "0").strip()
    match = _DECIMAL_SECONDS.fullmatch(value) if value.isascii() else None
    if match is None:
        raise SubsonicError(ErrorCode.GENERIC, OFFSET_NOT_A_NUMBER)
    whole, fraction = match[1], match[2] or "0"
    if len(whole) > _OFFSET_MAX_DIGITS:
        return math.inf
    return float(f"{whole}.{fraction[:6]}")


@endpoint("stream")
def stream(call: Call) -> HttpResponseBase:
    """The file picked by `format` and `maxBitRate` from the original and the ready
    renditions (catalog.renditions.pick_stream); from `timeOffset` seconds in when given."""
    song = _song(call)
    wanted = FORMATS.get((call.params.get("format") or "").strip().lower())
    max_bit_rate = call.params.integer("maxBitRate", default=0)
    offset = _time_offset(call)
    field_file = pick_stream(song, wanted, max_bit_rate)
    if offset <= 0:
        return _audio(call, field_file)
    if offset >= song.duration:
        # Nothing is left to play from there: an empty stream, as a seek to the end would be.
        return streaming.empty_audio(output_content_type(field_file.name))
    if not field_file.storage.exists(field_file.name):
        raise NotFound(streaming.AUDIO_MISSING)
    from_offset = stream_from_offset(
        field_file.storage, field_file.name, offset, duration_seconds=song.duration
    )
    return streaming.unsized_response(
        call.request,
        from_offset.chunks,
        content_type=from_offset.content_type,
        method=_method(call),
    )


@endpoint("download")
def download(call: Call) -> HttpResponseBase:
    """The original as uploaded, whatever the renditions, saved under the name it was uploaded
    with (else its title)."""
    song = _song(call)
    response = _audio(call, song.audio)
    name = song.audio_original_name or f"{song.title}.{suffix_of(song.audio.name)}"
    response["Content-Disposition"] = content_disposition_header(True, name)
    return response


# --- getCoverArt --------------------------------------------------------------------------


def _etag(stored_name: str) -> str:
    return f'"{hashlib.sha256(stored_name.encode()).hexdigest()[:32]}"'


def _matches(request: HttpRequest, etag: str) -> bool:
    held = request.headers.get("If-None-Match")
    if held is None:
        return False
    tags = [tag.removeprefix("W/") for tag in parse_etags(held)]
    return "*" in tags or etag in tags


@endpoint("getCoverArt")
def get_cover_art(call: Call) -> HttpResponseBase:
    ref = ids.parse(call.params.required("id"))
    size = call.params.integer("size", default=0) or None
    name = selectors.cover_name(ref, user=call.user)
    headers = {"ETag": _etag(served_name(name, size)), "Cache-Control": COVER_CACHE_CONTROL}
    if _matches(call.request, headers["ETag"]):
        return HttpResponse(status=HTTPStatus.NOT_MODIFIED, headers=headers)
    image = image_at_size(name, size)
    return HttpResponse(image.content, content_type=image.content_type, headers=headers)
