"""stream, download and getCoverArt: the file itself, with Range, by GET, form POST and HEAD,
streamed a chunk at a time under WSGI and ASGI, never a redirect; cover pictures resized once
and kept; every refusal in the envelope."""

import io
from http import HTTPStatus
from urllib.parse import urlencode

import mutagen
import pytest
from django.core.files.storage import default_storage
from django.test import Client
from PIL import Image

from catalog import services as catalog_services
from catalog.models import Play
from catalog.streaming import CHUNK_SIZE
from core.files.thumbnails import THUMBNAILS_FOLDER
from library import services as library_services
from subsonic import ids
from subsonic.tests.calls import CLIENT_NAME, answer, api_key, call, error_of
from subsonic.tests.sample_catalog import SampleCatalog
from tests.helpers import asgi_request
from tests.media_samples import audio_bytes, media_path, png_bytes, upload, wav_bytes
from tests.object_storage import use_bucket


@pytest.fixture
def song(make_song):
    return make_song(audio=wav_bytes(8.0))


@pytest.fixture
def audio(song, settings) -> bytes:
    return media_path(settings, song.audio.name).read_bytes()


def stream(client: Client, secret: str, song, *, name: str = "stream", **options):
    return call(client, name, api_key(secret), f=None, id=ids.song_id(song.pk), **options)


def body_of(response) -> bytes:
    assert response.streaming
    return b"".join(response.streaming_content)


def test_stream_answers_the_whole_file_in_chunks(client: Client, secret: str, song, audio):
    assert len(audio) > 3 * CHUNK_SIZE

    response = stream(client, secret, song)

    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "audio/wav"
    assert response["Content-Length"] == str(len(audio))
    assert response["Accept-Ranges"] == "bytes"
    assert not response.is_async  # under WSGI a plain iterator: Django would gather an async one
    chunks = list(response.streaming_content)
    assert b"".join(chunks) == audio
    assert len(chunks) > 1
    assert all(len(chunk) <= CHUNK_SIZE for chunk in chunks)


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_range_is_answered_with_206_by_get_and_form_post(
    client: Client, secret: str, song, audio, method: str
):
    response = stream(client, secret, song, method=method, headers={"Range": "bytes=1000-1999"})

    assert response.status_code == HTTPStatus.PARTIAL_CONTENT
    assert response["Content-Range"] == f"bytes 1000-1999/{len(audio)}"
    assert response["Content-Length"] == "1000"
    assert body_of(response) == audio[1000:2000]


def test_a_range_past_the_end_is_416(client: Client, secret: str, song, audio):
    response = stream(client, secret, song, headers={"Range": f"bytes={len(audio)}-"})

    assert response.status_code == HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE
    assert response["Content-Range"] == f"bytes */{len(audio)}"


def test_head_answers_the_headers_without_the_body(client: Client, secret: str, song, audio):
    response = stream(client, secret, song, method="head")

    assert response.status_code == HTTPStatus.OK
    assert response["Content-Length"] == str(len(audio))
    assert response["Content-Type"] == "audio/wav"
    assert response.content == b""


def test_under_asgi_the_body_is_streamed_asynchronously(secret: str, song, audio):
    query = urlencode({"v": "1.16.1", "c": CLIENT_NAME, "apiKey": secret, "id": f"tr-{song.pk}"})

    response, body = asgi_request(
        "GET", f"/rest/stream.view?{query}", headers={"Range": "bytes=7-"}
    )

    assert response.status_code == HTTPStatus.PARTIAL_CONTENT
    assert response.is_async
    assert body == audio[7:]


def test_a_real_mp3_streams_whole_and_from_a_seek(client: Client, secret: str, make_song):
    original = audio_bytes("tone.mp3")
    song = make_song(audio=original)
    middle = len(original) // 2

    whole = body_of(stream(client, secret, song))
    seeked = stream(client, secret, song, headers={"Range": f"bytes={middle}-"})

    assert whole == original
    assert seeked.status_code == HTTPStatus.PARTIAL_CONTENT
    assert body_of(seeked) == original[middle:]
    parsed = mutagen.File(io.BytesIO(whole))  # the bytes a player gets are the audio
    assert type(parsed).__name__ == "MP3"
    assert round(parsed.info.length) == song.duration


def test_download_names_the_file_as_it_was_uploaded(client: Client, secret: str, song, audio):
    response = stream(client, secret, song, name="download")

    assert response.status_code == HTTPStatus.OK
    assert response["Content-Disposition"] == 'attachment; filename="song.wav"'
    assert body_of(response) == audio


def test_streaming_is_not_a_play(client: Client, secret: str, song):
    body_of(stream(client, secret, song))

    assert not Play.objects.exists()


@pytest.mark.parametrize("name", ["stream", "download"])
def test_an_unknown_song_or_a_missing_file_is_error_70_in_the_envelope(
    client: Client, secret: str, song, settings, name: str
):
    unknown = call(client, name, api_key(secret), f=None, id="tr-999999")
    album = call(client, name, api_key(secret), id=ids.album_id(1))
    media_path(settings, song.audio.name).unlink()
    missing = call(client, name, api_key(secret), id=ids.song_id(song.pk))

    assert unknown["Content-Type"] == "text/xml; charset=utf-8"  # as the specification says
    assert b'<error code="70" message="No song with this id."/>' in unknown.content
    assert error_of(album)["code"] == 70
    assert error_of(missing) == {"code": 70, "message": "The audio file of this song is missing."}


def test_a_bucket_is_read_through_even_in_redirect_mode(
    client: Client, secret: str, settings, moto_endpoint, make_song
):
    use_bucket(settings, moto_endpoint)
    settings.MEDIA_STREAM_MODE = "redirect"
    original = wav_bytes(8.0)
    song = make_song(audio=original)

    whole = stream(client, secret, song)
    ranged = stream(client, secret, song, headers={"Range": "bytes=4-11"})

    assert whole.status_code == HTTPStatus.OK  # never a 302 to the bucket
    chunks = list(whole.streaming_content)
    assert b"".join(chunks) == original
    assert len(chunks) > 1
    assert ranged.status_code == HTTPStatus.PARTIAL_CONTENT
    assert body_of(ranged) == original[4:12]


def test_with_accel_redirect_nginx_serves_the_file(client: Client, secret: str, song, settings):
    settings.MEDIA_ACCEL_REDIRECT = "/protected-media/"

    response = stream(client, secret, song)

    assert response.status_code == HTTPStatus.OK
    assert response["X-Accel-Redirect"] == f"/protected-media/{song.audio.name}"
    assert response.content == b""


# --- getCoverArt --------------------------------------------------------------------------


def cover(client: Client, secret: str, item_id: str, **params):
    return call(client, "getCoverArt", api_key(secret), id=item_id, **params)


def stored(settings, field_file) -> bytes:
    return media_path(settings, field_file.name).read_bytes()


def test_each_kind_of_id_answers_its_picture(
    client: Client, secret: str, sample: SampleCatalog, settings
):
    cases = [
        (ids.song_id(sample.lazy_bird.pk), sample.lazy_bird.image),  # its own
        (ids.song_id(sample.blue_train_song.pk), sample.blue_train.image),  # its album's
        (ids.album_id(sample.blue_train.pk), sample.blue_train.image),
        (ids.artist_id(sample.coltrane.pk), sample.coltrane.image),
    ]

    for item_id, picture in cases:
        response = cover(client, secret, item_id)
        assert response.status_code == HTTPStatus.OK, item_id
        assert response["Content-Type"] == "image/png"
        assert response["Cache-Control"] == "private, max-age=86400"
        assert response.content == stored(settings, picture), item_id


def test_a_playlist_shows_its_picture_or_its_first_songs_to_whoever_may_see_it(
    client: Client, secret: str, sample: SampleCatalog, listener, make_user, settings
):
    own = library_services.playlist_create(owner=listener, name="Mine")
    library_services.playlist_item_add(
        playlist_id=own.pk, user=listener, song_id=sample.moments_notice.pk
    )
    other = make_user()
    private = library_services.playlist_create(owner=other, name="Theirs")
    public = library_services.playlist_create(owner=other, name="Shared", is_public=True)
    for playlist in (private, public):
        library_services.playlist_update(
            playlist_id=playlist.pk, user=other, image_file=upload("p.png", png_bytes())
        )

    mine = cover(client, secret, ids.playlist_id(own.pk))
    shared = cover(client, secret, ids.playlist_id(public.pk))
    hidden = cover(client, secret, ids.playlist_id(private.pk))

    assert mine.content == stored(settings, sample.blue_train.image)
    public.refresh_from_db()
    assert shared.content == stored(settings, public.image)
    assert error_of(hidden) == {"code": 70, "message": "No playlist with this id."}


def test_a_size_answers_a_copy_rounded_up_to_the_next_size_made_once_and_kept(
    client: Client, secret: str, make_album, settings
):
    album = make_album("Wide", "Painter")
    catalog_services.album_update(
        album_id=album.pk, image_file=upload("wide.png", png_bytes((600, 300)))
    )
    album.refresh_from_db()
    album_id = ids.album_id(album.pk)

    first = cover(client, secret, album_id, size=100)
    copy = f"{THUMBNAILS_FOLDER}/128/{album.image.name}"
    media_path(settings, album.image.name).unlink()  # from now on only the copy can answer
    again = cover(client, secret, album_id, size=128)
    larger = cover(client, secret, album_id, size=2000)

    assert first.status_code == HTTPStatus.OK
    assert Image.open(io.BytesIO(first.content)).size == (128, 64)
    assert default_storage.exists(copy)
    assert again.content == first.content
    assert again["ETag"] == first["ETag"]
    assert error_of(larger) == {"code": 70, "message": "The image file is missing."}


def test_a_small_picture_is_never_enlarged(
    client: Client, secret: str, sample: SampleCatalog, settings
):
    response = cover(client, secret, ids.artist_id(sample.coltrane.pk), size=512)

    assert Image.open(io.BytesIO(response.content)).size == (40, 30)
    assert response.content == stored(settings, sample.coltrane.image)


def test_revalidation_with_the_etag_is_304_without_reading_the_picture(
    client: Client, secret: str, sample: SampleCatalog, settings
):
    album_id = ids.album_id(sample.blue_train.pk)
    first = cover(client, secret, album_id, size=64)
    media_path(settings, sample.blue_train.image.name).unlink()

    again = cover(client, secret, album_id, size=64, headers={"If-None-Match": first["ETag"]})
    other_size = cover(client, secret, album_id, size=256)

    assert again.status_code == HTTPStatus.NOT_MODIFIED
    assert again["ETag"] == first["ETag"]
    assert error_of(other_size)["code"] == 70


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("tr-999999", "No song with this id."),
        ("al-999999", "No album with this id."),
        ("ar-999999", "No artist with this id."),
        ("pl-999999", "No playlist with this id."),
        ("cover-1", "No such item: cover-1."),
    ],
)
def test_an_unknown_item_is_error_70(client: Client, secret: str, db, item: str, message: str):
    assert error_of(call(client, "getCoverArt", api_key(secret), id=item)) == {
        "code": 70,
        "message": message,
    }


def test_an_item_without_a_picture_or_a_bad_size_is_refused(
    client: Client, secret: str, sample: SampleCatalog
):
    no_picture = call(client, "getCoverArt", api_key(secret), id=ids.album_id(sample.abbey_road.pk))
    bad_size = call(
        client, "getCoverArt", api_key(secret), id=ids.album_id(sample.blue_train.pk), size="big"
    )

    assert error_of(no_picture) == {"code": 70, "message": "This item has no picture."}
    assert error_of(bad_size) == {
        "code": 0,
        "message": "size must be a whole number of at most 18 digits.",
    }


def test_a_cover_costs_one_query_after_the_sign_in(
    client: Client, secret: str, sample: SampleCatalog, django_assert_num_queries
):
    call(client, "ping", api_key(secret))

    with django_assert_num_queries(2):
        response = cover(client, secret, ids.song_id(sample.blue_train_song.pk), size=64)

    assert response.status_code == HTTPStatus.OK
    assert answer(call(client, "ping", api_key(secret)))["status"] == "ok"
