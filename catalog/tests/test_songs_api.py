from datetime import timedelta
from http import HTTPStatus
from pathlib import Path

import pytest
from django.test import Client
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django.utils import timezone

from catalog import services
from catalog.audio import AUDIO_NOT_READABLE, AUDIO_TRUNCATED
from catalog.models import Play, Song
from catalog.selectors.albums import ALBUM_NOT_FOUND
from catalog.selectors.songs import SONG_NOT_FOUND
from config.api import AUTHENTICATION_REQUIRED
from core.errors import NotFound
from core.files.images import IMAGE_NOT_READABLE
from core.files.uploads import FILE_EMPTY, file_too_large_message
from core.permissions import ADMIN_REQUIRED
from core.text import BLANK
from tests.api_shapes import song_out
from tests.helpers import asgi_request, bearer, iso, multipart
from tests.media_samples import audio_bytes, media_path, png_bytes, stored_files, upload, wav_bytes

SONGS = "/api/songs/"


def song_url(song_id: int) -> str:
    return f"/api/songs/{song_id}/"


def field_error(field: str, message: str) -> dict:
    return {"detail": [{"type": "value_error", "loc": ["body", field], "msg": message}]}


# --- Reading --------------------------------------------------------------------------


def test_list_answers_whole_songs_newest_first_with_the_album_image_as_fallback(
    client: Client, make_song, make_album
):
    album = make_album(image=True)
    on_album = make_song(
        "Blue Train", album=album, genre="Hard bop", year=1957, track_number=1, disc_number=1
    )
    with_image = make_song("Naima", "John Coltrane", image=True)
    bare = make_song("So What", "Miles Davis")

    response = client.get(SONGS)

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {
        "count": 3,
        "next": None,
        "items": [
            song_out(bare),
            song_out(with_image, image=with_image.image.name),
            song_out(on_album, image=album.image.name),
        ],
    }
    assert response.json()["items"][2] == {
        "id": on_album.pk,
        "title": "Blue Train",
        "artist": "John Coltrane",
        "artist_id": album.artist_id,  # the album's artist: the same name
        "album_id": album.pk,
        "genre": "Hard bop",
        "year": 1957,
        "track_number": 1,
        "disc_number": 1,
        "duration": 1,
        "image_url": f"http://testserver/media/{album.image.name}",
        "audio_url": f"http://testserver/api/songs/{on_album.pk}/stream/",
        "formats": ["original"],
        "replay_gain": None,
        "waveform_url": None,
        "created_at": iso(on_album.created_at),
        "updated_at": iso(on_album.updated_at),
    }


def test_list_searches_title_or_artist_and_filters_by_artist_and_album(
    client: Client, make_song, make_album
):
    album = make_album()
    train = make_song("Blue Train", "John Coltrane", album=album)
    blue = make_song("Kind of Blue", "Miles Davis")
    giant = make_song("Giant Steps", "john coltrane")

    def titles(**query) -> list[str]:
        response = client.get(SONGS, query)
        assert response.status_code == HTTPStatus.OK
        return [item["title"] for item in response.json()["items"]]

    assert titles(search="blue") == [blue.title, train.title]
    assert titles(search="DAVIS") == [blue.title]
    assert titles(artist="John Coltrane") == [giant.title, train.title]
    assert titles(album_id=album.pk) == [train.title]
    assert titles(search="nothing like this") == []


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("-created_at", ["Cc", "Aa", "Bb"]),
        ("created_at", ["Bb", "Aa", "Cc"]),
        ("title", ["Aa", "Bb", "Cc"]),
        ("artist", ["Aa", "Cc", "Bb"]),
    ],
)
def test_list_orders_as_asked(client: Client, make_song, ordering, expected):
    make_song("Bb", "Zed")
    make_song("Aa", "Abe")
    make_song("Cc", "Kim")

    response = client.get(SONGS, {"ordering": ordering})

    assert [item["title"] for item in response.json()["items"]] == expected


def test_list_pages_with_limit_and_offset(client: Client, make_song):
    for title in ("One", "Two", "Three"):
        make_song(title)

    response = client.get(SONGS, {"limit": 1, "offset": 1, "ordering": "created_at"})

    assert response.status_code == HTTPStatus.OK
    assert response.json()["count"] == 3
    assert [item["title"] for item in response.json()["items"]] == ["Two"]


@pytest.mark.parametrize(
    "query",
    [{"limit": 0}, {"limit": 201}, {"offset": -1}, {"ordering": "random"}, {"album_id": "x"}],
)
def test_list_refuses_out_of_range_parameters(client: Client, db, query):
    response = client.get(SONGS, query)

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json()["detail"][0]["loc"][0] == "query"


def test_detail_answers_one_song(client: Client, make_song):
    song = make_song(image=True)

    response = client.get(song_url(song.pk))

    assert response.status_code == HTTPStatus.OK
    assert response.json() == song_out(song, image=song.image.name)


def test_detail_of_an_unknown_song_is_404(client: Client, db):
    response = client.get(song_url(999))

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json() == {"detail": SONG_NOT_FOUND}


# --- Query counts ---------------------------------------------------------------------


@pytest.mark.parametrize("songs", [2, 25])
def test_list_runs_two_queries_whatever_the_page_size(
    client: Client, make_song, make_album, django_assert_num_queries, songs
):
    album = make_album(image=True)
    for number in range(songs):
        make_song(f"Song {number}", album=album if number % 2 else None, image=number % 3 == 0)

    with django_assert_num_queries(1):  # the last page: its length is the count
        response = client.get(SONGS, {"limit": 200})
    with django_assert_num_queries(2):  # a page before the last: the page and the count
        earlier = client.get(SONGS, {"limit": songs - 1})

    assert (response.status_code, earlier.status_code) == (HTTPStatus.OK, HTTPStatus.OK)
    assert len(response.json()["items"]) == songs
    assert earlier.json()["count"] == songs


def test_detail_runs_one_query(client: Client, make_song, make_album, django_assert_num_queries):
    song = make_song(album=make_album(image=True))

    with django_assert_num_queries(1):
        response = client.get(song_url(song.pk))

    assert response.status_code == HTTPStatus.OK
    assert response.json()["album_id"] == song.album_id


# --- Creating -------------------------------------------------------------------------


def test_admin_creates_a_song_with_the_duration_read_from_the_file(
    admin_client: Client, make_album, settings
):
    album = make_album(image=True)
    mp3 = audio_bytes("tone.mp3")

    response = admin_client.post(
        SONGS,
        {
            "title": " Giant Steps ",
            "artist": "John Coltrane",
            "album_id": album.pk,
            "audio_file": upload("../../x.mp3", mp3, "text/plain"),
        },
    )

    assert response.status_code == HTTPStatus.CREATED
    song = Song.objects.get()
    assert response.json() == {
        "id": song.pk,
        "title": "Giant Steps",
        "artist": "John Coltrane",
        "artist_id": album.artist_id,
        "album_id": album.pk,
        "genre": None,
        "year": None,
        "track_number": None,
        "disc_number": None,
        "duration": 3,
        "image_url": f"http://testserver/media/{album.image.name}",
        "audio_url": f"http://testserver/api/songs/{song.pk}/stream/",
        "formats": ["original"],
        "replay_gain": None,
        "waveform_url": None,
        "created_at": iso(song.created_at),
        "updated_at": iso(song.updated_at),
    }
    # The client's name never becomes a path: a generated one under songs/ instead.
    assert Path(song.audio.name).parent == Path("songs")
    assert len(Path(song.audio.name).stem) == 32
    assert int(Path(song.audio.name).stem, 16) >= 0  # hex, from uuid4
    assert song.audio.name.endswith(".mp3")
    assert media_path(settings, song.audio.name).read_bytes() == mp3
    assert stored_files(settings) == sorted(
        [media_path(settings, song.audio.name), media_path(settings, album.image.name)]
    )


@pytest.mark.parametrize(
    ("file_name", "extension", "duration"),
    [
        ("tone.mp3", "mp3", 3),
        ("tone.ogg", "ogg", 3),
        ("tone.opus", "opus", 3),
        ("tone.flac", "flac", 3),
        ("tone.m4a", "m4a", 3),
    ],
)
def test_every_accepted_format_is_stored_with_its_own_extension(
    admin_client: Client, settings, file_name, extension, duration
):
    # Sent under a misleading name: the extension comes from the content.
    response = admin_client.post(
        SONGS,
        {
            "title": "Tone",
            "artist": "Lab",
            "audio_file": upload("tone.bin", audio_bytes(file_name)),
        },
    )

    assert response.status_code == HTTPStatus.CREATED, response.json()
    song = Song.objects.get()
    assert response.json()["duration"] == duration
    assert song.audio.name.startswith("songs/")
    assert song.audio.name.endswith(f".{extension}")


def test_a_wav_with_an_image_is_stored_under_generated_names(admin_client: Client, settings):
    response = admin_client.post(
        SONGS,
        {
            "title": "Sine",
            "artist": "Lab",
            "audio_file": upload("../../song.wav", wav_bytes(2.0)),
            "image_file": upload("../../art.png", png_bytes()),
        },
    )

    assert response.status_code == HTTPStatus.CREATED
    song = Song.objects.get()
    assert response.json() == song_out(song, image=song.image.name)
    assert response.json()["duration"] == 2
    assert song.audio.name.startswith("songs/")
    assert song.audio.name.endswith(".wav")
    assert song.image.name.startswith("song_images/")
    assert song.image.name.endswith(".png")
    assert stored_files(settings) == sorted(
        [media_path(settings, song.audio.name), media_path(settings, song.image.name)]
    )


def test_anonymous_and_non_admin_cannot_create(client: Client, auth_client: Client, settings):
    data = {"title": "T", "artist": "A", "audio_file": upload("a.mp3", audio_bytes("tone.mp3"))}

    anonymous = client.post(SONGS, data)
    data["audio_file"].seek(0)
    listener = auth_client.post(SONGS, data)

    assert anonymous.status_code == HTTPStatus.UNAUTHORIZED
    assert anonymous.json() == {"detail": AUTHENTICATION_REQUIRED}
    assert listener.status_code == HTTPStatus.FORBIDDEN
    assert listener.json() == {"detail": ADMIN_REQUIRED}
    assert not Song.objects.exists()
    assert stored_files(settings) == []


def truncated_mp3() -> bytes:
    mp3 = audio_bytes("tone.mp3")
    return mp3[: len(mp3) // 2]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("cover.mp3", png_bytes(), AUDIO_NOT_READABLE),
        ("empty.mp3", b"", FILE_EMPTY),
        ("cut.mp3", truncated_mp3(), AUDIO_TRUNCATED),
        ("setup.mp3", b"MZ\x90\x00\x03\x00\x00\x00" + bytes(range(256)) * 40, AUDIO_NOT_READABLE),
        ("notes.mp3", b"ID3 but then just some text", AUDIO_NOT_READABLE),
    ],
    ids=["png-as-mp3", "zero-bytes", "truncated-mp3", "exe-as-mp3", "text"],
)
def test_audio_that_is_not_playable_is_refused_and_nothing_is_stored(
    admin_client: Client, settings, name, content, message
):
    response = admin_client.post(
        SONGS, {"title": "T", "artist": "A", "audio_file": upload(name, content, "audio/mpeg")}
    )

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == field_error("audio_file", message)
    assert not Song.objects.exists()
    assert stored_files(settings) == []


def test_an_oversized_audio_file_is_refused_with_413(admin_client: Client, settings):
    settings.AUDIO_MAX_BYTES = 1024 * 1024
    wav = wav_bytes(34.0)  # a real WAV just over 1 MB
    assert len(wav) > settings.AUDIO_MAX_BYTES

    response = admin_client.post(
        SONGS, {"title": "T", "artist": "A", "audio_file": upload("long.wav", wav)}
    )

    assert response.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert response.json() == {"detail": file_too_large_message(settings.AUDIO_MAX_BYTES)}
    assert not Song.objects.exists()
    assert stored_files(settings) == []


def test_a_bad_image_with_good_audio_stores_nothing(admin_client: Client, settings):
    response = admin_client.post(
        SONGS,
        {
            "title": "T",
            "artist": "A",
            "audio_file": upload("a.mp3", audio_bytes("tone.mp3")),
            "image_file": upload("a.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>"),
        },
    )

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == field_error("image_file", IMAGE_NOT_READABLE)
    assert not Song.objects.exists()
    assert stored_files(settings) == []


def test_an_unknown_album_is_refused_and_nothing_is_stored(admin_client: Client, settings, db):
    response = admin_client.post(
        SONGS,
        {
            "title": "T",
            "artist": "A",
            "album_id": 999,
            "audio_file": upload("a.mp3", audio_bytes("tone.mp3")),
        },
    )

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json() == {"detail": ALBUM_NOT_FOUND}
    assert not Song.objects.exists()
    assert stored_files(settings) == []


def test_missing_audio_or_blank_title_is_422(admin_client: Client, settings):
    no_audio = admin_client.post(SONGS, {"title": "T", "artist": "A"})
    blank = admin_client.post(
        SONGS, {"title": "   ", "artist": "A", "audio_file": upload("a.wav", wav_bytes())}
    )

    assert no_audio.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert no_audio.json()["detail"][0]["loc"] == ["body", "audio_file"]
    assert blank.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert blank.json()["detail"][0]["loc"] == ["body", "title"]
    assert BLANK in blank.json()["detail"][0]["msg"]
    assert not Song.objects.exists()
    assert stored_files(settings) == []


# --- Changing -------------------------------------------------------------------------


def test_put_with_json_replaces_the_fields_and_keeps_the_files(
    admin_client: Client, make_song, make_album, settings
):
    song = make_song(album=make_album())
    before = stored_files(settings)

    response = admin_client.put(
        song_url(song.pk), {"title": "Naima", "artist": "Coltrane"}, "application/json"
    )

    assert response.status_code == HTTPStatus.OK
    song.refresh_from_db()
    assert (song.title, song.artist_name, song.album_id) == ("Naima", "Coltrane", None)
    assert response.json() == song_out(song)
    assert stored_files(settings) == before


def test_put_needs_every_field(admin_client: Client, make_song):
    song = make_song()

    response = admin_client.put(song_url(song.pk), {"title": "Only"}, "application/json")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json()["detail"][0]["loc"] == ["body", "artist"]
    song.refresh_from_db()
    assert song.title == "Moment's Notice"


def test_patch_with_a_new_audio_file_replaces_and_then_deletes_the_old_one(
    admin_client: Client, make_song, settings, django_capture_on_commit_callbacks
):
    song = make_song()
    old_audio = media_path(settings, song.audio.name)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = admin_client.patch(
            song_url(song.pk),
            **multipart({"audio_file": upload("new.flac", audio_bytes("tone.flac"))}),
        )
        # Until the transaction commits, the old file is still there.
        assert old_audio.exists()
    for callback in callbacks:
        callback()

    assert response.status_code == HTTPStatus.OK
    song.refresh_from_db()
    assert response.json() == song_out(song)
    assert response.json()["duration"] == 3
    assert song.audio.name.endswith(".flac")
    assert not old_audio.exists()
    assert stored_files(settings) == [media_path(settings, song.audio.name)]


def test_put_with_multipart_replaces_the_image(
    admin_client: Client, make_song, settings, django_capture_on_commit_callbacks
):
    song = make_song(image=True)
    old_image = song.image.name

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.put(
            song_url(song.pk),
            **multipart(
                {
                    "title": "Equinox",
                    "artist": "John Coltrane",
                    "image_file": upload("new.png", png_bytes(color="green")),
                }
            ),
        )

    assert response.status_code == HTTPStatus.OK
    song.refresh_from_db()
    assert song.image.name != old_image
    assert response.json() == song_out(song, image=song.image.name)
    assert stored_files(settings) == sorted(
        [media_path(settings, song.audio.name), media_path(settings, song.image.name)]
    )


def test_patch_with_multipart_works_under_asgi(
    admin_user, make_song, settings, django_capture_on_commit_callbacks
):
    song = make_song()
    old_audio = song.audio.name
    body = encode_multipart(
        BOUNDARY,
        {"title": "Over ASGI", "audio_file": upload("new.ogg", audio_bytes("tone.ogg"))},
    )

    with django_capture_on_commit_callbacks(execute=True):
        response, content = asgi_request(
            "PATCH",
            song_url(song.pk),
            headers=bearer(admin_user),
            data=body,
            content_type=MULTIPART_CONTENT,
        )

    assert response.status_code == HTTPStatus.OK, content
    song.refresh_from_db()
    assert song.title == "Over ASGI"
    assert song.audio.name != old_audio
    assert song.audio.name.endswith(".ogg")
    assert stored_files(settings) == [media_path(settings, song.audio.name)]


def test_patch_with_json_moves_a_song_out_of_its_album(admin_client: Client, make_song, make_album):
    song = make_song(album=make_album())

    response = admin_client.patch(song_url(song.pk), {"album_id": None}, "application/json")

    assert response.status_code == HTTPStatus.OK
    song.refresh_from_db()
    assert song.album_id is None
    assert song.title == "Moment's Notice"
    assert response.json() == song_out(song)


def test_patch_refuses_a_null_title_and_an_unknown_album(admin_client: Client, make_song):
    song = make_song()

    null_title = admin_client.patch(song_url(song.pk), {"title": None}, "application/json")
    unknown_album = admin_client.patch(song_url(song.pk), {"album_id": 999}, "application/json")

    assert null_title.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert null_title.json()["detail"][0]["loc"] == ["body", "title"]
    assert null_title.json()["detail"][0]["msg"] == "Input should be a valid string"
    assert unknown_album.status_code == HTTPStatus.NOT_FOUND
    assert unknown_album.json() == {"detail": ALBUM_NOT_FOUND}


def test_a_bad_replacement_file_leaves_the_song_and_its_files_alone(
    admin_client: Client, make_song, settings
):
    song = make_song()
    before = stored_files(settings)

    response = admin_client.patch(
        song_url(song.pk),
        **multipart({"title": "Changed", "audio_file": upload("x.mp3", truncated_mp3())}),
    )

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == field_error("audio_file", AUDIO_TRUNCATED)
    song.refresh_from_db()
    assert song.title == "Moment's Notice"
    assert stored_files(settings) == before


def test_writes_need_an_admin(client: Client, auth_client: Client, make_song):
    song = make_song()
    url = song_url(song.pk)

    for caller, status, detail in [
        (client, HTTPStatus.UNAUTHORIZED, AUTHENTICATION_REQUIRED),
        (auth_client, HTTPStatus.FORBIDDEN, ADMIN_REQUIRED),
    ]:
        put = caller.put(url, {"title": "X", "artist": "Y"}, "application/json")
        patch = caller.patch(url, {"title": "X"}, "application/json")
        delete = caller.delete(url)
        for response in (put, patch, delete):
            assert response.status_code == status
            assert response.json() == {"detail": detail}
    song.refresh_from_db()
    assert song.title == "Moment's Notice"


def test_writes_to_an_unknown_song_are_404(admin_client: Client, db):
    put = admin_client.put(song_url(999), {"title": "X", "artist": "Y"}, "application/json")
    patch = admin_client.patch(song_url(999), {"title": "X"}, "application/json")
    delete = admin_client.delete(song_url(999))

    for response in (put, patch, delete):
        assert response.status_code == HTTPStatus.NOT_FOUND
        assert response.json() == {"detail": SONG_NOT_FOUND}


def test_delete_removes_the_song_and_its_files_after_commit(
    admin_client: Client, make_song, settings, django_capture_on_commit_callbacks
):
    song = make_song(image=True)
    keep = make_song("Other")
    assert len(stored_files(settings)) == 3

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.delete(song_url(song.pk))

    assert response.status_code == HTTPStatus.NO_CONTENT
    assert response.content == b""
    assert list(Song.objects.all()) == [keep]
    assert stored_files(settings) == [media_path(settings, keep.audio.name)]


# --- Plays ----------------------------------------------------------------------------


def test_a_listener_records_a_play(auth_client: Client, user, make_song):
    song = make_song()

    response = auth_client.post(f"/api/songs/{song.pk}/plays/")

    assert response.status_code == HTTPStatus.CREATED
    play = Play.objects.get()
    assert (play.song, play.user) == (song, user)
    assert response.json() == {"id": play.pk, "song_id": song.pk, "played_at": iso(play.played_at)}


def test_plays_need_a_listener_and_a_known_song(client: Client, auth_client: Client, make_song):
    song = make_song()

    anonymous = client.post(f"/api/songs/{song.pk}/plays/")
    unknown = auth_client.post("/api/songs/999/plays/")

    assert anonymous.status_code == HTTPStatus.UNAUTHORIZED
    assert anonymous.json() == {"detail": AUTHENTICATION_REQUIRED}
    assert unknown.status_code == HTTPStatus.NOT_FOUND
    assert unknown.json() == {"detail": SONG_NOT_FOUND}
    assert not Play.objects.exists()


def test_a_play_reported_later_keeps_its_time_and_one_from_the_future_is_now(user, make_song):
    song = make_song()
    earlier = timezone.now() - timedelta(days=2)

    late = services.play_record(song_id=song.pk, user=user, played_at=earlier)
    future = services.play_record(song_id=song.pk, user=user, played_at=earlier + timedelta(9))

    assert Play.objects.get(pk=late.pk).played_at == earlier
    assert earlier < Play.objects.get(pk=future.pk).played_at <= timezone.now()


def test_several_plays_are_recorded_all_or_none(user, make_song):
    first, second = make_song("First"), make_song("Second")
    earlier = timezone.now() - timedelta(hours=1)

    with pytest.raises(NotFound, match=SONG_NOT_FOUND):
        services.plays_record(user=user, plays=[(first.pk, None), (999_999, None)])
    assert not Play.objects.exists()

    services.plays_record(user=user, plays=[(first.pk, earlier), (second.pk, None)])
    assert list(Play.objects.order_by("played_at").values_list("song", "user")) == [
        (first.pk, user.pk),
        (second.pk, user.pk),
    ]
    assert Play.objects.get(song=first).played_at == earlier


def test_an_album_id_beyond_any_row_is_a_422_not_a_database_overflow(client, db):
    response = client.get("/api/songs/", {"album_id": 2**63})

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json()["detail"][0]["loc"] == ["query", "album_id"]


def test_deeply_nested_json_on_song_writes_is_422_and_changes_nothing(
    admin_client: Client, make_song
):
    song = make_song()
    nested = b"[" * 100_000 + b"]" * 100_000
    for method in ("PUT", "PATCH"):
        response = admin_client.generic(
            method, song_url(song.pk), nested, content_type="application/json"
        )

        assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
        assert response.json()["detail"][0]["loc"] == ["body"]
    assert Song.objects.get(pk=song.pk).title == song.title


def test_multipart_null_takes_a_song_out_of_its_album(admin_client: Client, make_song, make_album):
    song = make_song(album=make_album())

    response = admin_client.patch(song_url(song.pk), **multipart({"album_id": "null"}))

    assert response.status_code == HTTPStatus.OK
    assert response.json()["album_id"] is None
    song.refresh_from_db()
    assert song.album_id is None


def test_a_malformed_multipart_patch_is_422_and_changes_nothing(admin_client: Client, make_song):
    song = make_song()

    response = admin_client.generic(
        "PATCH",
        song_url(song.pk),
        b"this is not multipart at all",
        content_type="multipart/form-data; boundary=xyz",
    )

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json()["detail"][0]["loc"] == ["body"]
    assert Song.objects.get(pk=song.pk).title == song.title


def test_a_duration_from_the_client_is_refused_and_nothing_is_written(
    admin_client: Client, settings
):
    response = admin_client.post(
        SONGS,
        {
            "title": "T",
            "artist": "A",
            "duration": 999,  # read from the file, never taken from the client
            "audio_file": upload("a.mp3", audio_bytes("tone.mp3")),
        },
    )

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {
        "detail": [
            {
                "loc": ["body", "duration"],
                "msg": "Extra inputs are not permitted",
                "type": "extra_forbidden",
            }
        ]
    }
    assert not Song.objects.exists()
    assert stored_files(settings) == []


@pytest.mark.parametrize("method", ["put", "patch"])
def test_an_update_without_files_keeps_the_song_and_album_images(
    admin_client: Client, make_song, make_album, settings, method
):
    album = make_album(image=True)
    song = make_song(image=True)
    before = stored_files(settings)
    send = getattr(admin_client, method)

    song_response = send(song_url(song.pk), {"title": "Naima", "artist": "C"}, "application/json")
    album_response = send(
        f"/api/albums/{album.pk}/", {"title": "Giant Steps", "artist": "C"}, "application/json"
    )

    assert (song_response.status_code, album_response.status_code) == (200, 200)
    song.refresh_from_db()
    album.refresh_from_db()
    assert song.image
    assert album.image
    assert song_response.json()["image_url"].endswith(song.image.name)
    assert album_response.json()["image_url"].endswith(album.image.name)
    assert stored_files(settings) == before
