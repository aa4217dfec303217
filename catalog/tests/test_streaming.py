import io
import tracemalloc
import wave
from http import HTTPStatus

import pytest
from asgiref.sync import async_to_sync
from django.test import AsyncClient, Client
from django.utils.http import http_date

from catalog.selectors.songs import SONG_NOT_FOUND
from catalog.streaming import AUDIO_MISSING, CHUNK_SIZE, RANGE_NOT_SATISFIABLE
from tests.helpers import asgi_request, bearer, multipart
from tests.media_samples import audio_bytes, media_path, upload, wav_bytes

pytestmark = pytest.mark.django_db


def stream_url(song) -> str:
    return f"/api/songs/{song.pk}/stream/"


@pytest.fixture
def song(make_song):
    return make_song(audio=wav_bytes(2.0))


@pytest.fixture
def audio(song, settings) -> bytes:
    return media_path(settings, song.audio.name).read_bytes()


def test_get_streams_the_whole_file_in_chunks_with_validators(song, audio):
    response, body = asgi_request("GET", stream_url(song))

    assert response.status_code == HTTPStatus.OK
    assert response.streaming
    assert response.is_async
    assert body == audio
    assert response["Content-Type"] == "audio/wav"
    assert response["Content-Length"] == str(len(audio))
    assert response["Accept-Ranges"] == "bytes"
    assert response["ETag"].startswith('"')
    assert response["ETag"].endswith('"')
    assert response["Last-Modified"].endswith("GMT")
    assert response["Cache-Control"] == "no-cache"
    assert "Content-Range" not in response


def test_under_wsgi_the_body_is_a_plain_chunked_iterator(client, song, audio):
    response = client.get(stream_url(song), headers={"Range": "bytes=100-"})

    assert response.status_code == HTTPStatus.PARTIAL_CONTENT
    assert response.streaming
    assert not response.is_async  # Django would gather an async body whole under WSGI
    chunks = list(response.streaming_content)
    assert b"".join(chunks) == audio[100:]
    assert all(len(chunk) <= CHUNK_SIZE for chunk in chunks)


@pytest.mark.parametrize(
    ("file_name", "content_type"),
    [
        ("tone.mp3", "audio/mpeg"),
        ("tone.ogg", "audio/ogg"),
        ("tone.opus", "audio/ogg"),
        ("tone.flac", "audio/flac"),
        ("tone.m4a", "audio/mp4"),
    ],
)
def test_the_content_type_is_the_real_format(make_song, file_name, content_type):
    song = make_song(audio=audio_bytes(file_name))

    response, body = asgi_request("GET", stream_url(song))

    assert response["Content-Type"] == content_type
    assert body == audio_bytes(file_name)


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-0", 0, 0),
        ("bytes=10-19", 10, 19),
        ("bytes=100-", 100, None),
        ("bytes=-500", -500, None),
        ("bytes=0-999999999", 0, None),  # a last position past the end is clamped
        ("bytes=-999999999", 0, None),  # a suffix longer than the file is the whole file
        ("BYTES = 5-6", 5, 6),  # the unit ignores case; spaces around it are tolerated
        ("bytes=3-4,", 3, 4),  # an empty list element is allowed
    ],
)
def test_a_single_range_is_answered_with_206(song, audio, header, start, end):
    expected = audio[start : None if end is None else end + 1]
    first = len(audio) + start if start < 0 else start

    response, body = asgi_request("GET", stream_url(song), headers={"Range": header})

    assert response.status_code == HTTPStatus.PARTIAL_CONTENT
    assert body == expected
    assert response["Content-Range"] == f"bytes {first}-{first + len(expected) - 1}/{len(audio)}"
    assert response["Content-Length"] == str(len(expected))
    assert response["Content-Type"] == "audio/wav"
    assert response["Accept-Ranges"] == "bytes"


@pytest.mark.parametrize("header", ["bytes=999999999-", "bytes=-0", "size"])
def test_an_unsatisfiable_range_is_416(song, audio, header):
    header = f"bytes={len(audio)}-" if header == "size" else header

    response, _ = asgi_request("GET", stream_url(song), headers={"Range": header})

    assert response.status_code == HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE
    assert response["Content-Range"] == f"bytes */{len(audio)}"
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": RANGE_NOT_SATISFIABLE}


@pytest.mark.parametrize(
    "header",
    [
        "bytes=abc",
        "bytes=5-2",  # last before first: invalid, so the header is ignored
        "bytes=",
        "bytes=-",
        "bytes=1-2-3",
        "0-10",  # no unit
        "items=0-10",  # another unit
        "bytes=0-1,5-9",  # several ranges: ignoring Range is allowed, no multipart
        "bytes=1" + "0" * 40 + "-",  # absurdly long positions are not parsed
    ],
)
def test_a_malformed_or_multiple_range_is_ignored_as_rfc_9110_allows(song, audio, header):
    response, body = asgi_request("GET", stream_url(song), headers={"Range": header})

    assert response.status_code == HTTPStatus.OK
    assert body == audio
    assert "Content-Range" not in response


def test_head_answers_the_headers_of_get_without_a_body(song, audio):
    get, _ = asgi_request("GET", stream_url(song))

    response, body = asgi_request("HEAD", stream_url(song))

    assert response.status_code == HTTPStatus.OK
    assert body == b""
    for header in ("Content-Type", "Content-Length", "Accept-Ranges", "ETag", "Last-Modified"):
        assert response[header] == get[header]
    assert response["Content-Length"] == str(len(audio))


def test_head_ignores_range_since_ranges_are_defined_for_get_only(song, audio):
    response, body = asgi_request("HEAD", stream_url(song), headers={"Range": "bytes=0-9"})

    assert response.status_code == HTTPStatus.OK
    assert body == b""
    assert response["Content-Length"] == str(len(audio))


def test_revalidation_with_the_etag_is_304(song):
    first, _ = asgi_request("GET", stream_url(song))
    etag = first["ETag"]

    for value in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        response, body = asgi_request("GET", stream_url(song), headers={"If-None-Match": value})
        assert response.status_code == HTTPStatus.NOT_MODIFIED, value
        assert body == b""
        assert response["ETag"] == etag
    head, _ = asgi_request("HEAD", stream_url(song), headers={"If-None-Match": etag})
    assert head.status_code == HTTPStatus.NOT_MODIFIED


def test_a_stale_etag_gets_the_file(song, audio):
    response, body = asgi_request("GET", stream_url(song), headers={"If-None-Match": '"stale"'})

    assert response.status_code == HTTPStatus.OK
    assert body == audio


def test_revalidation_by_date_is_304_and_if_none_match_wins_over_it(song, audio):
    first, _ = asgi_request("GET", stream_url(song))
    last_modified = first["Last-Modified"]

    same, _ = asgi_request("GET", stream_url(song), headers={"If-Modified-Since": last_modified})
    older, _ = asgi_request(
        "GET", stream_url(song), headers={"If-Modified-Since": http_date(86400)}
    )
    both, body = asgi_request(
        "GET",
        stream_url(song),
        headers={"If-None-Match": '"stale"', "If-Modified-Since": last_modified},
    )

    assert same.status_code == HTTPStatus.NOT_MODIFIED
    assert older.status_code == HTTPStatus.OK
    assert both.status_code == HTTPStatus.OK
    assert body == audio


def test_if_range_applies_the_range_only_while_the_file_is_the_same(song, audio):
    first, _ = asgi_request("GET", stream_url(song))
    etag, last_modified = first["ETag"], first["Last-Modified"]

    def get(if_range: str):
        return asgi_request(
            "GET", stream_url(song), headers={"Range": "bytes=0-3", "If-Range": if_range}
        )

    same_tag, same_tag_body = get(etag)
    same_date, _ = get(last_modified)
    other_tag, other_body = get('"changed"')
    weak_tag, _ = get(f"W/{etag}")  # If-Range compares strongly: a weak tag never matches

    assert same_tag.status_code == HTTPStatus.PARTIAL_CONTENT
    assert same_tag_body == audio[:4]
    assert same_date.status_code == HTTPStatus.PARTIAL_CONTENT
    assert other_tag.status_code == HTTPStatus.OK
    assert other_body == audio
    assert weak_tag.status_code == HTTPStatus.OK


def test_replacing_the_audio_changes_the_etag(song, admin_user, django_capture_on_commit_callbacks):
    before, _ = asgi_request("GET", stream_url(song))

    with django_capture_on_commit_callbacks(execute=True):
        Client(headers=bearer(admin_user)).patch(
            f"/api/songs/{song.pk}/",
            **multipart({"audio_file": upload("n.mp3", audio_bytes("tone.mp3"))}),
        )
    after, body = asgi_request("GET", stream_url(song), headers={"If-None-Match": before["ETag"]})

    assert after.status_code == HTTPStatus.OK
    assert after["ETag"] != before["ETag"]
    assert body == audio_bytes("tone.mp3")


def test_an_unknown_song_or_a_missing_file_is_404(song, settings):
    unknown, _ = asgi_request("GET", "/api/songs/999/stream/")
    media_path(settings, song.audio.name).unlink()
    missing, _ = asgi_request("GET", stream_url(song))

    assert unknown.status_code == HTTPStatus.NOT_FOUND
    assert unknown.json() == {"detail": SONG_NOT_FOUND}
    assert missing.status_code == HTTPStatus.NOT_FOUND
    assert missing.json() == {"detail": AUDIO_MISSING}


def test_with_accel_redirect_nginx_gets_the_file_after_the_app_checked_the_song(song, settings):
    settings.MEDIA_ACCEL_REDIRECT = "/protected-media/"

    response, body = asgi_request("GET", stream_url(song), headers={"Range": "bytes=0-1"})
    unknown, _ = asgi_request("GET", "/api/songs/999/stream/")

    assert response.status_code == HTTPStatus.OK
    assert response["X-Accel-Redirect"] == f"/protected-media/{song.audio.name}"
    assert response["Content-Type"] == "audio/wav"
    assert body == b""
    assert unknown.status_code == HTTPStatus.NOT_FOUND
    assert "X-Accel-Redirect" not in unknown


def silent_wav(megabytes: int) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(16_000)
        wav.writeframes(b"\0" * (megabytes * 1024 * 1024))
    return buffer.getvalue()


def test_memory_stays_flat_while_a_large_file_streams(make_song):
    song = make_song(audio=silent_wav(24))

    async def stream() -> tuple[int, int, int]:
        received = chunks = 0
        await AsyncClient().head(stream_url(song))  # first-request set-up is not the stream
        tracemalloc.start()
        try:
            response = await AsyncClient().get(stream_url(song))
            async for chunk in response.streaming_content:
                received += len(chunk)
                chunks += 1
                assert len(chunk) <= CHUNK_SIZE
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        return received, chunks, peak

    received, chunks, peak = async_to_sync(stream)()

    assert received > 24 * 1024 * 1024
    assert chunks > 300
    assert peak < 2 * 1024 * 1024  # far below the 24 MB file
