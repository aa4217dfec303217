from http import HTTPStatus

import pytest
from django.test import Client
from pydantic import ValidationError

from catalog.models import Album, Play, Song
from catalog.schemas import AlbumOut
from catalog.selectors.albums import ALBUM_NOT_FOUND
from config.api import AUTHENTICATION_REQUIRED
from core.files.images import IMAGE_NOT_READABLE
from core.files.uploads import file_too_large_message
from core.permissions import ADMIN_REQUIRED
from tests.api_shapes import album_out, song_out
from tests.helpers import iso, multipart
from tests.media_samples import media_path, png_bytes, stored_files, upload

ALBUMS = "/api/albums/"


def album_url(album_id: int) -> str:
    return f"/api/albums/{album_id}/"


# --- Reading --------------------------------------------------------------------------


def test_list_answers_whole_albums_with_their_song_counts(client: Client, make_album, make_song):
    older = make_album(
        "Blue Train", "John Coltrane", image=True, release_year=1958, genre="Hard bop"
    )
    newer = make_album("Kind of Blue", "Miles Davis")
    make_song("Blue Train", album=older)
    make_song("Moment's Notice", album=older)
    make_song("Loose", album=None)

    response = client.get(ALBUMS)

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {
        "count": 2,
        "next": None,
        "items": [
            album_out(newer, song_count=0),
            album_out(older, song_count=2, image=older.image.name),
        ],
    }
    assert response.json()["items"][1] == {
        "id": older.pk,
        "title": "Blue Train",
        "artist": "John Coltrane",
        "artist_id": older.artist_id,
        "release_year": 1958,
        "genre": "Hard bop",
        "image_url": f"http://testserver/media/{older.image.name}",
        "song_count": 2,
        "created_at": iso(older.created_at),
        "updated_at": iso(older.updated_at),
    }


def test_list_searches_filters_and_orders(client: Client, make_album):
    make_album("Blue Train", "John Coltrane")
    make_album("Kind of Blue", "Miles Davis")
    make_album("A Love Supreme", "JOHN COLTRANE")

    def titles(**query) -> list[str]:
        response = client.get(ALBUMS, query)
        assert response.status_code == HTTPStatus.OK
        return [item["title"] for item in response.json()["items"]]

    assert titles(search="blue") == ["Kind of Blue", "Blue Train"]
    assert titles(search="davis") == ["Kind of Blue"]
    assert titles(artist="john coltrane") == ["A Love Supreme", "Blue Train"]
    assert titles(ordering="title") == ["A Love Supreme", "Blue Train", "Kind of Blue"]
    assert titles(ordering="created_at") == ["Blue Train", "Kind of Blue", "A Love Supreme"]
    assert titles(limit=1, offset=2, ordering="title") == ["Kind of Blue"]


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("-created_at", ["Cc", "Aa", "Bb"]),
        ("created_at", ["Bb", "Aa", "Cc"]),
        ("title", ["Aa", "Bb", "Cc"]),
        ("artist", ["Aa", "Cc", "Bb"]),
    ],
)
def test_list_orders_as_asked(client: Client, make_album, ordering, expected):
    make_album("Bb", "Zed")
    make_album("Aa", "Abe")
    make_album("Cc", "Kim")

    response = client.get(ALBUMS, {"ordering": ordering})

    assert [item["title"] for item in response.json()["items"]] == expected


@pytest.mark.parametrize("query", [{"limit": 0}, {"limit": 201}, {"offset": -1}, {"ordering": "x"}])
def test_list_refuses_out_of_range_parameters(client: Client, db, query):
    response = client.get(ALBUMS, query)

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY


def test_detail_has_the_songs_in_the_order_they_were_added(client: Client, make_album, make_song):
    album = make_album(image=True, release_year=1958)
    first = make_song("Blue Train", album=album)
    second = make_song("Moment's Notice", album=album, image=True)
    make_song("Elsewhere")

    response = client.get(album_url(album.pk))

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {
        **album_out(album, song_count=2, image=album.image.name),
        "songs": [
            song_out(first, image=album.image.name),
            song_out(second, image=second.image.name),
        ],
    }


def test_detail_of_an_unknown_album_is_404(client: Client, db):
    response = client.get(album_url(999))

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json() == {"detail": ALBUM_NOT_FOUND}


# --- Query counts ---------------------------------------------------------------------


@pytest.mark.parametrize("albums", [1, 15])
def test_list_runs_two_queries_whatever_the_page_size(
    client: Client, make_album, make_song, django_assert_num_queries, albums
):
    for number in range(albums):
        album = make_album(f"Album {number}", image=number % 2 == 0)
        make_song(f"Song {number}", album=album)

    with django_assert_num_queries(1):  # the last page: its length is the count
        response = client.get(ALBUMS)
    with django_assert_num_queries(2):  # a page before the last: the page and the count
        earlier = client.get(ALBUMS, {"limit": albums - 1 or 1, "offset": 0 if albums > 1 else 1})

    assert (response.status_code, earlier.status_code) == (HTTPStatus.OK, HTTPStatus.OK)
    assert [item["song_count"] for item in response.json()["items"]] == [1] * albums
    assert earlier.json()["count"] == albums


@pytest.mark.parametrize("songs", [1, 12])
def test_detail_runs_one_query_whatever_the_album_size(
    client: Client, make_album, make_song, django_assert_num_queries, songs
):
    album = make_album(image=True)
    for number in range(songs):
        make_song(f"Track {number}", album=album, image=number % 2 == 0)

    with django_assert_num_queries(1):  # its songs, each joined to the album
        response = client.get(album_url(album.pk))

    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert body["id"] == album.pk
    assert body["song_count"] == len(body["songs"]) == songs
    assert [song["title"] for song in body["songs"]] == [f"Track {n}" for n in range(songs)]


def test_an_album_without_songs_takes_a_second_query(
    client: Client, make_album, django_assert_num_queries
):
    album = make_album(title="Silence")

    with django_assert_num_queries(2):  # no song rows to join it to: the album by itself
        response = client.get(album_url(album.pk))

    assert response.status_code == HTTPStatus.OK
    assert response.json()["title"] == "Silence"
    assert response.json()["songs"] == []
    assert response.json()["song_count"] == 0


# --- Writing --------------------------------------------------------------------------


def test_admin_creates_an_album_with_a_cover(admin_client: Client, settings):
    response = admin_client.post(
        ALBUMS,
        {
            "title": "Giant Steps",
            "artist": "John Coltrane",
            "release_year": 1960,
            "image_file": upload("../../cover.png", png_bytes()),
        },
    )

    assert response.status_code == HTTPStatus.CREATED
    album = Album.objects.get()
    assert album.image.name.startswith("album_images/")
    assert album.image.name.endswith(".png")
    assert "cover" not in album.image.name
    assert response.json() == album_out(album, song_count=0, image=album.image.name)
    assert stored_files(settings) == [media_path(settings, album.image.name)]


def test_an_album_needs_no_cover_or_year(admin_client: Client, settings):
    response = admin_client.post(ALBUMS, {"title": "Untitled", "artist": "Someone"})

    assert response.status_code == HTTPStatus.CREATED
    album = Album.objects.get()
    assert response.json() == album_out(album, song_count=0)
    assert album.release_year is None


def without_songs(detail: dict) -> dict:
    """An album's GET body as AlbumOut: a write answers the album without its songs."""
    return {name: value for name, value in detail.items() if name != "songs"}


def test_create_answers_what_a_get_then_answers(admin_client: Client, django_assert_num_queries):
    body = {
        "title": "Giant Steps",
        "artist": "John Coltrane",
        "image_file": upload("c.png", png_bytes()),
    }

    # The caller; the artist looked up and added, the album added (each in a savepoint); then
    # the album read back as a GET reads it (two queries: it has no songs to join it to).
    with django_assert_num_queries(10):
        created = admin_client.post(ALBUMS, body)
    fetched = admin_client.get(album_url(created.json()["id"]))

    assert (created.status_code, fetched.status_code) == (HTTPStatus.CREATED, HTTPStatus.OK)
    assert created.json() == without_songs(fetched.json())
    assert created.json()["song_count"] == 0


@pytest.mark.parametrize("method", ["patch", "put"])
def test_an_update_answers_what_a_get_then_answers(
    admin_client: Client, make_album, make_song, django_assert_num_queries, method
):
    album = make_album(release_year=1958)
    make_song("Blue Train", album=album)
    make_song("Locomotion", album=album)

    # The caller, the album; the new artist looked up and added (in a savepoint), the album's
    # artist, its image name and the update (in a savepoint); then the album read back as a
    # GET reads it (one query: its songs joined to it).
    with django_assert_num_queries(12):
        updated = getattr(admin_client, method)(
            album_url(album.pk),
            {"title": "Blue Train (Remaster)", "artist": "Coltrane"},
            "application/json",
        )
    fetched = admin_client.get(album_url(album.pk))

    assert (updated.status_code, fetched.status_code) == (HTTPStatus.OK, HTTPStatus.OK)
    assert updated.json() == without_songs(fetched.json())
    assert (updated.json()["title"], updated.json()["song_count"]) == ("Blue Train (Remaster)", 2)


def test_the_schema_counts_nothing_itself(make_album, django_assert_num_queries):
    """An album not read through a selector fails loudly, rather than counting its songs."""
    bare = Album.objects.get(pk=make_album().pk)

    with django_assert_num_queries(0), pytest.raises(ValidationError, match="song_count"):
        AlbumOut.model_validate(bare)


def test_anonymous_and_non_admin_cannot_create(client: Client, auth_client: Client, settings):
    anonymous = client.post(ALBUMS, {"title": "T", "artist": "A"})
    listener = auth_client.post(ALBUMS, {"title": "T", "artist": "A"})

    assert anonymous.status_code == HTTPStatus.UNAUTHORIZED
    assert anonymous.json() == {"detail": AUTHENTICATION_REQUIRED}
    assert listener.status_code == HTTPStatus.FORBIDDEN
    assert listener.json() == {"detail": ADMIN_REQUIRED}
    assert not Album.objects.exists()


@pytest.mark.parametrize("year", [999, 2101, "soon"])
def test_a_bad_release_year_is_422(admin_client: Client, db, year):
    response = admin_client.post(ALBUMS, {"title": "T", "artist": "A", "release_year": year})

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json()["detail"][0]["loc"] == ["body", "release_year"]
    assert not Album.objects.exists()


def test_a_cover_that_is_not_an_image_stores_nothing(admin_client: Client, settings):
    response = admin_client.post(
        ALBUMS,
        {"title": "T", "artist": "A", "image_file": upload("c.png", b"<html>not a png</html>")},
    )

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {
        "detail": [
            {"type": "value_error", "loc": ["body", "image_file"], "msg": IMAGE_NOT_READABLE}
        ]
    }
    assert not Album.objects.exists()
    assert stored_files(settings) == []


def test_an_oversized_cover_is_413(admin_client: Client, settings):
    settings.IMAGE_MAX_BYTES = 1024 * 1024
    big = png_bytes(size=(1200, 1200))
    big += b"\0" * (settings.IMAGE_MAX_BYTES + 1 - len(big))

    response = admin_client.post(
        ALBUMS, {"title": "T", "artist": "A", "image_file": upload("big.png", big)}
    )

    assert response.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert response.json() == {"detail": file_too_large_message(settings.IMAGE_MAX_BYTES)}
    assert not Album.objects.exists()
    assert stored_files(settings) == []


def test_put_with_json_replaces_the_fields(admin_client: Client, make_album, make_song):
    album = make_album(release_year=1958)
    make_song(album=album)

    response = admin_client.put(
        album_url(album.pk),
        {"title": "Blue Train (Remaster)", "artist": "Coltrane"},
        "application/json",
    )

    assert response.status_code == HTTPStatus.OK
    album.refresh_from_db()
    assert (album.title, album.artist_name, album.release_year) == (
        "Blue Train (Remaster)",
        "Coltrane",
        None,
    )
    assert response.json() == album_out(album, song_count=1)


def test_patch_with_a_new_cover_deletes_the_old_one_after_commit(
    admin_client: Client, make_album, settings, django_capture_on_commit_callbacks
):
    album = make_album(image=True)
    old_cover = media_path(settings, album.image.name)

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.patch(
            album_url(album.pk),
            **multipart({"release_year": "1957", "image_file": upload("n.png", png_bytes())}),
        )

    assert response.status_code == HTTPStatus.OK
    album.refresh_from_db()
    assert album.release_year == 1957
    assert response.json() == album_out(album, song_count=0, image=album.image.name)
    assert not old_cover.exists()
    assert stored_files(settings) == [media_path(settings, album.image.name)]


def test_album_writes_need_an_admin_and_a_known_album(
    client: Client, auth_client: Client, admin_client: Client, make_album
):
    album = make_album()

    assert client.patch(album_url(album.pk), {"title": "X"}, "application/json").json() == {
        "detail": AUTHENTICATION_REQUIRED
    }
    assert auth_client.delete(album_url(album.pk)).json() == {"detail": ADMIN_REQUIRED}
    assert (
        auth_client.put(
            album_url(album.pk), {"title": "X", "artist": "Y"}, "application/json"
        ).status_code
        == HTTPStatus.FORBIDDEN
    )
    for response in (
        admin_client.patch(album_url(999), {"title": "X"}, "application/json"),
        admin_client.put(album_url(999), {"title": "X", "artist": "Y"}, "application/json"),
        admin_client.delete(album_url(999)),
    ):
        assert response.status_code == HTTPStatus.NOT_FOUND
        assert response.json() == {"detail": ALBUM_NOT_FOUND}
    album.refresh_from_db()
    assert album.title == "Blue Train"


def test_delete_removes_the_album_its_songs_their_plays_and_all_their_files(
    admin_client: Client,
    make_album,
    make_song,
    user,
    settings,
    django_capture_on_commit_callbacks,
):
    album = make_album(image=True)
    make_song("One", album=album, image=True)
    played = make_song("Two", album=album)
    Play.objects.create(song=played, user=user)
    other = make_song("Elsewhere", image=True)
    assert len(stored_files(settings)) == 6

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.delete(album_url(album.pk))

    assert response.status_code == HTTPStatus.NO_CONTENT
    assert not Album.objects.exists()
    assert list(Song.objects.all()) == [other]
    assert not Play.objects.exists()
    assert stored_files(settings) == sorted(
        [media_path(settings, other.audio.name), media_path(settings, other.image.name)]
    )
