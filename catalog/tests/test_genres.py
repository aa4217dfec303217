"""Genre, year and track order: the fields of songs and albums through the API, the genre
list, `?genre=`, the spelling a write takes, and an album's songs in track order."""

from http import HTTPStatus

import pytest
from django.test import Client

from catalog import services
from catalog.models import Album, Song
from catalog.selectors.genres import Genre, genre_list
from core.text import BLANK, CONTROL_CHARACTERS
from tests.api_shapes import song_out
from tests.helpers import credited, multipart
from tests.media_samples import upload, wav_bytes

SONGS = "/api/songs/"
ALBUMS = "/api/albums/"
GENRES = "/api/genres/"


def song_url(song_id: int) -> str:
    return f"/api/songs/{song_id}/"


def album_url(album_id: int) -> str:
    return f"/api/albums/{album_id}/"


def loc_of(response) -> list:
    return [item["loc"] for item in response.json()["detail"]]


# --- The genre list ---------------------------------------------------------------------


def test_genres_lists_each_genre_once_with_its_counts_by_name(
    client: Client, make_album, make_song
):
    bop = make_album("Blue Train", genre="Hard bop")
    make_album("Kind of Blue", "Miles Davis", genre="Modal jazz")
    make_album("Untitled")  # no genre: not listed, not counted
    make_song("Blue Train", album=bop, genre="Hard bop")
    make_song("Moment's Notice", album=bop, genre="hard BOP")  # the catalog's spelling
    make_song("Naima", genre="ballad")
    make_song("Loose")

    response = client.get(GENRES)

    assert response.status_code == HTTPStatus.OK
    assert response.json() == [
        {"name": "ballad", "song_count": 1, "album_count": 0},
        {"name": "Hard bop", "song_count": 2, "album_count": 1},
        {"name": "Modal jazz", "song_count": 0, "album_count": 1},
    ]


def test_spellings_written_around_the_services_are_still_one_genre(client: Client, db):
    Song.objects.create(title="A", **credited("X"), duration=1, audio="songs/a.wav", genre="Rock")
    Song.objects.create(title="B", **credited("X"), duration=1, audio="songs/b.wav", genre="rock")
    Album.objects.create(title="C", **credited("X"), genre="ROCK")

    assert client.get(GENRES).json() == [{"name": "ROCK", "song_count": 2, "album_count": 1}]
    # The filters match every spelling.
    assert client.get(SONGS, {"genre": "Rock"}).json()["count"] == 2
    assert client.get(ALBUMS, {"genre": "rock"}).json()["count"] == 1


def test_an_empty_catalog_has_no_genres(client: Client, db):
    response = client.get(GENRES)

    assert response.status_code == HTTPStatus.OK
    assert response.json() == []


def test_genres_cost_one_query_then_none_until_the_refresh(
    client: Client, make_song, django_assert_num_queries, settings
):
    settings.DISCOVERY_REFRESH_SECONDS = 60
    make_song("So What", genre="Jazz")

    with django_assert_num_queries(1):
        first = client.get(GENRES)
    make_song("Paranoid", genre="Metal")
    with django_assert_num_queries(0):
        cached = client.get(GENRES)

    expected = [{"name": "Jazz", "song_count": 1, "album_count": 0}]
    assert first.status_code == cached.status_code == HTTPStatus.OK
    assert first.json() == cached.json() == expected


def test_genres_are_counted_again_once_the_interval_has_passed(client: Client, make_song, settings):
    settings.DISCOVERY_REFRESH_SECONDS = 60
    make_song("So What", genre="Jazz")
    client.get(GENRES)
    make_song("Paranoid", genre="Metal")
    settings.DISCOVERY_REFRESH_SECONDS = 0  # the interval has passed

    assert [genre["name"] for genre in client.get(GENRES).json()] == ["Jazz", "Metal"]


def test_the_genre_list_selector_answers_genres(make_album):
    make_album(genre="Jazz")

    assert genre_list() == [Genre(name="Jazz", song_count=0, album_count=1)]


# --- ?genre= on the lists -----------------------------------------------------------------


def test_songs_and_albums_filter_by_genre_exactly_ignoring_case(
    client: Client, make_album, make_song
):
    jazz = make_album("Kind of Blue", genre="Jazz")
    make_album("Free Jazz", genre="Free jazz")
    make_song("So What", album=jazz, genre="Jazz")
    make_song("Blue in Green", genre="Jazz")
    make_song("Lonely Woman", genre="Free jazz")
    make_song("Loose")

    def titles(path: str, **query) -> list[str]:
        response = client.get(path, query)
        assert response.status_code == HTTPStatus.OK
        return [item["title"] for item in response.json()["items"]]

    assert titles(SONGS, genre="jAZZ ") == ["Blue in Green", "So What"]  # not "Free jazz"
    assert titles(SONGS, genre="jazz", ordering="title") == ["Blue in Green", "So What"]
    assert titles(SONGS, genre="Jazz", search="green") == ["Blue in Green"]
    assert titles(SONGS, genre="Funk") == []
    assert len(titles(SONGS, genre="  ")) == 4  # blank: no filter
    assert titles(ALBUMS, genre="JAZZ") == ["Kind of Blue"]
    assert titles(ALBUMS, genre="free jazz") == ["Free Jazz"]


def test_a_genre_filter_too_long_is_422(client: Client, db):
    for path in (SONGS, ALBUMS):
        response = client.get(path, {"genre": "x" * 101})

        assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
        assert loc_of(response) == [["query", "genre"]]


def test_a_genres_pages_follow_one_another_with_the_cursor(client: Client, make_song):
    for number in range(5):
        make_song(f"Song {number}", genre="Jazz")
    make_song("Other", genre="Funk")

    first = client.get(SONGS, {"genre": "jazz", "limit": 3}).json()
    second = client.get(SONGS, {"genre": "jazz", "limit": 3, "cursor": first["next"]}).json()

    assert first["count"] == second["count"] == 5
    titles = [item["title"] for item in first["items"] + second["items"]]
    assert titles == [f"Song {number}" for number in (4, 3, 2, 1, 0)]
    assert second["next"] is None


# --- Writes -------------------------------------------------------------------------------


def test_a_song_is_created_with_its_genre_year_and_numbers(admin_client: Client, make_album):
    album = make_album(genre="Jazz")

    response = admin_client.post(
        SONGS,
        {
            "title": "So What",
            "artist": "Miles Davis",
            "album_id": album.pk,
            "genre": " jazz ",
            "year": "1959",
            "track_number": "1",
            "disc_number": "null",
            "audio_file": upload("so-what.wav", wav_bytes()),
        },
    )

    assert response.status_code == HTTPStatus.CREATED
    song = Song.objects.get()
    assert (song.genre, song.year, song.track_number, song.disc_number) == ("Jazz", 1959, 1, None)
    assert response.json() == song_out(song)
    assert response.json()["genre"] == "Jazz"  # the album's spelling


def test_put_and_patch_set_and_clear_the_fields(admin_client: Client, make_song):
    song = make_song(genre="Jazz", year=1957, track_number=2, disc_number=1)

    replaced = admin_client.put(
        song_url(song.pk),
        {"title": "Naima", "artist": "John Coltrane", "genre": "Ballad", "track_number": 5},
        "application/json",
    )
    song.refresh_from_db()
    assert replaced.status_code == HTTPStatus.OK
    # PUT: what is left out is null.
    assert (song.genre, song.year, song.track_number, song.disc_number) == ("Ballad", None, 5, None)
    assert replaced.json() == song_out(song)

    patched = admin_client.patch(
        song_url(song.pk), {"year": 1959, "disc_number": 2}, "application/json"
    )
    song.refresh_from_db()
    assert patched.status_code == HTTPStatus.OK
    assert (song.genre, song.year, song.track_number, song.disc_number) == ("Ballad", 1959, 5, 2)

    cleared = admin_client.patch(
        song_url(song.pk), **multipart({"genre": "null", "track_number": "null"})
    )
    song.refresh_from_db()
    assert cleared.status_code == HTTPStatus.OK
    assert (song.genre, song.track_number, song.year) == (None, None, 1959)


def test_an_album_takes_a_genre_on_create_put_and_patch(admin_client: Client, make_song):
    make_song(genre="Modal jazz")

    created = admin_client.post(
        ALBUMS, {"title": "Kind of Blue", "artist": "Miles Davis", "genre": "MODAL JAZZ"}
    )
    album = Album.objects.get()
    assert created.status_code == HTTPStatus.CREATED
    assert created.json()["genre"] == album.genre == "Modal jazz"

    replaced = admin_client.put(
        album_url(album.pk), {"title": "Kind of Blue", "artist": "Miles Davis"}, "application/json"
    )
    album.refresh_from_db()
    assert replaced.status_code == HTTPStatus.OK
    assert replaced.json()["genre"] is album.genre is None

    patched = admin_client.patch(album_url(album.pk), {"genre": "Jazz"}, "application/json")
    album.refresh_from_db()
    assert patched.status_code == HTTPStatus.OK
    assert patched.json()["genre"] == album.genre == "Jazz"


def test_a_genre_only_the_row_itself_has_can_be_respelled(make_song, make_album):
    song = make_song(genre="hip hop")
    other = make_song(genre="Jazz")
    make_album(genre="Jazz")

    services.song_update(song_id=song.pk, genre="Hip Hop")
    services.song_update(song_id=other.pk, genre="JAZZ")  # the album still says "Jazz"

    song.refresh_from_db()
    other.refresh_from_db()
    assert (song.genre, other.genre) == ("Hip Hop", "Jazz")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("year", 999),
        ("year", 2101),
        ("year", True),  # a boolean is not a number, whatever lax parsing makes of it
        ("year", "soon"),
        ("track_number", 0),
        ("track_number", 1000),
        ("track_number", True),
        ("track_number", 1.5),
        ("disc_number", -1),
        ("disc_number", False),
        ("genre", ""),
        ("genre", "   "),
        ("genre", "x" * 101),
        ("genre", "Jazz\x00"),
        ("genre", 7),
    ],
)
def test_a_bad_song_field_is_422_and_writes_nothing(admin_client: Client, make_song, field, value):
    song = make_song(genre="Jazz", year=1959, track_number=1, disc_number=1)
    before = Song.objects.values().get()

    for method in (admin_client.patch, admin_client.put):
        response = method(
            song_url(song.pk),
            {"title": "T", "artist": "A", field: value},
            "application/json",
        )

        assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY, response.json()
        assert loc_of(response) == [["body", field]]
    assert Song.objects.values().get() == before


def test_a_bad_field_on_a_new_song_stores_nothing(admin_client: Client, settings, db):
    response = admin_client.post(
        SONGS,
        {
            "title": "T",
            "artist": "A",
            "genre": "Jazz\u202e",
            "track_number": "one",
            "audio_file": upload("t.wav", wav_bytes()),
        },
    )

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert sorted(loc_of(response)) == [["body", "genre"], ["body", "track_number"]]
    assert not Song.objects.exists()


@pytest.mark.parametrize(
    ("value", "message"), [("", BLANK), ("Jazz\n", CONTROL_CHARACTERS), (True, None)]
)
def test_a_bad_album_genre_is_422_and_writes_nothing(admin_client: Client, db, value, message):
    album = services.album_create(title="Kept", artist="A", genre="Jazz")
    responses = [admin_client.patch(album_url(album.pk), {"genre": value}, "application/json")]
    if isinstance(value, str):  # a form has text only
        responses.append(admin_client.post(ALBUMS, {"title": "T", "artist": "A", "genre": value}))

    for response in responses:
        assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
        assert loc_of(response) == [["body", "genre"]]
        if message:
            assert response.json()["detail"][0]["msg"] == message
    assert list(Album.objects.values_list("title", "genre")) == [("Kept", "Jazz")]


# --- An album's songs in track order ------------------------------------------------------


def test_an_albums_songs_come_by_disc_then_track_then_as_added(
    client: Client, make_album, make_song, django_assert_num_queries
):
    album = make_album()
    unnumbered = make_song("Bonus", album=album)
    second_disc = make_song("Disc 2, 1", album=album, disc_number=2, track_number=1)
    third = make_song("Three", album=album, disc_number=1, track_number=3)
    first = make_song("One", album=album, disc_number=1, track_number=1)
    no_track = make_song("Hidden", album=album, disc_number=1)
    track_only = make_song("Track 2, no disc", album=album, track_number=2)
    track_only_first = make_song("Track 1, no disc", album=album, track_number=1)

    with django_assert_num_queries(1):
        response = client.get(album_url(album.pk))

    assert response.status_code == HTTPStatus.OK
    assert [song["id"] for song in response.json()["songs"]] == [
        song.pk
        for song in (
            first,
            third,
            no_track,
            second_disc,
            track_only_first,
            track_only,
            unnumbered,
        )
    ]
