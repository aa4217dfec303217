"""getGenres and getSongsByGenre, and the genre, year and track fields of the shapes."""

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import libopensonic
import libsonic
import pytest
from django.conf import settings
from django.test import Client

from catalog.models import Album, Artist, Like, Song
from library.models import Rating
from subsonic import ids
from subsonic.shapes import album_id3, song_child
from subsonic.spec import XML_NAMESPACE
from subsonic.tests.calls import (
    LISTENER_EMAIL,
    SAVED,
    answer,
    api_key,
    assert_saved,
    call,
    error_of,
    xml_root,
)
from tests.helpers import credited
from users import services

ADDED = datetime(2026, 1, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def jazz_catalog(db) -> dict[str, Song | Album]:
    """Rows with fixed ids and dates, so that answers can be saved (on PostgreSQL too, whose
    sequences a rolled-back test does not rewind): an album of two numbered songs, a single
    with its own year, and a song of another genre."""
    for pk, name in ((7, "Miles Davis"), (8, "John Coltrane"), (9, "Black Sabbath")):
        Artist.objects.create(pk=pk, name=name)
    album = Album.objects.create(
        pk=12,
        title="Kind of Blue",
        **credited("Miles Davis"),
        release_year=1959,
        genre="Jazz",
        image="album_images/kind-of-blue.jpg",
        created_at=ADDED,
    )

    def song(pk: int, title: str, **fields) -> Song:
        return Song.objects.create(
            pk=pk,
            title=title,
            **credited(fields.pop("artist", "Miles Davis")),
            duration=300 + pk,
            audio=f"songs/{pk}.mp3",
            created_at=ADDED.replace(minute=pk),
            **fields,
        )

    return {
        "album": album,
        "so_what": song(42, "So What", album=album, genre="Jazz", track_number=1, disc_number=1),
        "blue": song(43, "Blue in Green", album=album, genre="Jazz", track_number=3, year=1958),
        "single": song(44, "Naima", artist="John Coltrane", genre="Jazz", year=1960),
        "other": song(45, "Paranoid", artist="Black Sabbath", genre="Metal"),
    }


# --- Saved answers ------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["xml", "json"])
@pytest.mark.parametrize(
    ("name", "params"), [("getGenres", {}), ("getSongsByGenre", {"genre": "JAZZ", "count": 3})]
)
def test_the_genre_answers_are_the_saved_ones(
    client: Client, secret: str, jazz_catalog, name: str, params: dict, form: str
):
    response = call(client, name, api_key(secret), f=form, **params)

    if form == "xml":
        assert xml_root(response).get("status") == "ok"
    assert_saved(response, f"{name}_catalog", form)


# --- getGenres ----------------------------------------------------------------------------


def test_genres_are_listed_with_their_counts(client: Client, secret: str, jazz_catalog):
    body = answer(call(client, "getGenres", api_key(secret)))

    assert body["genres"] == {
        "genre": [
            {"songCount": 3, "albumCount": 1, "value": "Jazz"},
            {"songCount": 1, "albumCount": 0, "value": "Metal"},
        ]
    }


def test_in_xml_a_genres_name_is_its_text(client: Client, secret: str, jazz_catalog):
    root = xml_root(call(client, "getGenres", api_key(secret), f="xml"))

    genres = [(genre.text, genre.attrib) for genre in root.iter(f"{{{XML_NAMESPACE}}}genre")]
    assert genres == [
        ("Jazz", {"songCount": "3", "albumCount": "1"}),
        ("Metal", {"songCount": "1", "albumCount": "0"}),
    ]


def test_a_catalog_without_genres_has_an_empty_list(client: Client, secret: str, make_song):
    make_song()

    assert answer(call(client, "getGenres", api_key(secret)))["genres"] == {"genre": []}


def test_get_genres_costs_the_sign_in_and_one_query(
    client: Client, secret: str, jazz_catalog, django_assert_num_queries
):
    call(client, "ping", api_key(secret))  # the first use is recorded: one write

    with django_assert_num_queries(2):  # the app password, the genres (then cached)
        response = call(client, "getGenres", api_key(secret))

    assert len(answer(response)["genres"]["genre"]) == 2


# --- getSongsByGenre ----------------------------------------------------------------------


def song_ids_of(response) -> list[str]:
    return [song["id"] for song in answer(response)["songsByGenre"]["song"]]


def test_songs_of_a_genre_ignoring_case_in_the_order_added(
    client: Client, secret: str, jazz_catalog
):
    response = call(client, "getSongsByGenre", api_key(secret), genre=" jazz")

    assert song_ids_of(response) == ["tr-42", "tr-43", "tr-44"]


def test_count_and_offset_page_through_a_genre(client: Client, secret: str, jazz_catalog):
    def page(**params) -> list[str]:
        return song_ids_of(call(client, "getSongsByGenre", api_key(secret), genre="Jazz", **params))

    assert page(count=2) == ["tr-42", "tr-43"]
    assert page(count=2, offset=2) == ["tr-44"]
    assert page(offset=3) == []
    assert page(count=0) == []
    assert page(offset=99) == []


def test_count_defaults_to_10_and_stops_at_500(client: Client, secret: str, db):
    artist = credited("Many")
    Song.objects.bulk_create(
        Song(title=f"Song {n}", **artist, duration=1, audio="songs/x.mp3", genre="Noise")
        for n in range(501)
    )

    def count_of(**params) -> int:
        response = call(client, "getSongsByGenre", api_key(secret), genre="noise", **params)
        return len(song_ids_of(response))

    assert count_of() == 10
    assert count_of(count=600) == 500
    assert count_of(count=500, offset=500) == 1


def test_another_music_folder_has_no_songs(client: Client, secret: str, jazz_catalog):
    def folder(music_folder_id: str) -> list[str]:
        response = call(
            client, "getSongsByGenre", api_key(secret), genre="Jazz", musicFolderId=music_folder_id
        )
        return song_ids_of(response)

    assert folder("1") == ["tr-42", "tr-43", "tr-44"]
    assert folder("2") == []


@pytest.mark.parametrize("genre", [None, "", "   "])
def test_the_genre_is_required(client: Client, secret: str, jazz_catalog, genre):
    response = call(client, "getSongsByGenre", api_key(secret), genre=genre)

    assert error_of(response) == {
        "code": 10,
        "message": "Required parameter is missing: genre.",
    }


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"count": "ten"}, "count must be a whole number of at most 18 digits."),
        ({"count": "-1"}, "count must be a whole number of at most 18 digits."),
        ({"offset": "1.5"}, "offset must be a whole number of at most 18 digits."),
        ({"offset": "9" * 5000}, "offset must be a whole number of at most 18 digits."),
        ({"offset": str(2**63)}, "offset must be a whole number of at most 18 digits."),
        ({"genre": "Jazz\x00"}, "This field may not contain control characters."),
    ],
)
def test_a_bad_parameter_is_error_0_with_a_sentence(
    client: Client, secret: str, jazz_catalog, params, message
):
    response = call(client, "getSongsByGenre", api_key(secret), **{"genre": "Jazz", **params})

    assert error_of(response) == {"code": 0, "message": message}


@pytest.mark.parametrize("songs", [1, 12])
def test_songs_by_genre_cost_three_queries_whatever_their_number(
    client: Client, secret: str, make_album, make_song, django_assert_num_queries, songs
):
    album = make_album(genre="Jazz", image=True)
    for number in range(songs):
        make_song(f"Song {number}", album=album if number % 2 else None, genre="Jazz")
    call(client, "ping", api_key(secret))

    # The app password, the songs with their albums, the listener's stars and ratings.
    with django_assert_num_queries(3):
        response = call(client, "getSongsByGenre", api_key(secret), genre="jazz", count=20)

    assert len(song_ids_of(response)) == songs


def test_no_songs_cost_the_sign_in_and_one_query(
    client: Client, secret: str, jazz_catalog, django_assert_num_queries
):
    call(client, "ping", api_key(secret))

    with django_assert_num_queries(2):
        response = call(client, "getSongsByGenre", api_key(secret), genre="Funk")

    assert song_ids_of(response) == []


def test_the_listeners_stars_and_ratings_come_with_the_songs(
    client: Client, secret: str, listener, jazz_catalog
):
    Like.objects.create(user=listener, song=jazz_catalog["blue"], liked_at=ADDED)
    Rating.objects.create(user=listener, song=jazz_catalog["so_what"], rating=4)

    songs = answer(call(client, "getSongsByGenre", api_key(secret), genre="Jazz"))
    marks = [
        (song["title"], song.get("starred"), song.get("userRating"))
        for song in songs["songsByGenre"]["song"]
    ]

    assert marks == [
        ("So What", None, 4),
        ("Blue in Green", "2026-01-02T09:00:00.000Z", None),
        ("Naima", None, None),
    ]


# --- The shapes ---------------------------------------------------------------------------


def test_a_songs_year_is_its_own_else_its_albums(jazz_catalog):
    so_what = song_child(Song.objects.select_related("album").get(pk=42))
    blue = song_child(Song.objects.select_related("album").get(pk=43))
    single = song_child(Song.objects.select_related("album").get(pk=44))
    other = song_child(Song.objects.select_related("album").get(pk=45))

    assert (so_what["year"], blue["year"], single["year"], other["year"]) == (
        1959,
        1958,
        1960,
        None,
    )
    assert (so_what["track"], so_what["discNumber"]) == (1, 1)
    assert (blue["track"], blue["discNumber"]) == (3, None)
    assert (so_what["genre"], so_what["genres"]) == ("Jazz", [{"name": "Jazz"}])


def test_a_song_and_album_without_genre_say_so_with_an_empty_list(db):
    album = Album.objects.create(title="Untitled", **credited("Nobody"))
    album.song_count, album.total_duration = 0, 0
    song = Song.objects.create(title="T", **credited("Nobody"), duration=1, audio="songs/t.mp3")

    assert (song_child(song)["genre"], song_child(song)["genres"]) == (None, [])
    shape = album_id3(album)
    assert (shape["genre"], shape["genres"], shape["id"]) == (None, [], ids.album_id(album.pk))


def test_an_albums_shape_has_its_genre(jazz_catalog):
    album = jazz_catalog["album"]
    album.song_count, album.total_duration = 2, 600

    shape = album_id3(album)

    assert (shape["genre"], shape["genres"], shape["year"]) == ("Jazz", [{"name": "Jazz"}], 1959)


# --- Clients no one here wrote -------------------------------------------------------------


def test_py_opensonic_and_py_sonic_read_genres_and_their_songs(
    uvicorn_server, make_user, make_album, make_song
):
    album = make_album("Kind of Blue", "Miles Davis", genre="Jazz", release_year=1959)
    make_song("So What", "Miles Davis", album=album, genre="Jazz", track_number=1, disc_number=1)
    make_song("Paranoid", "Black Sabbath", genre="Metal", year=1970)
    listener = make_user(email=LISTENER_EMAIL)
    secret = services.app_password_create(user=listener, name="clients").secret
    host, port = uvicorn_server.url.rsplit(":", 1)
    opensonic = libopensonic.Connection(host, port=int(port), api_key=secret, app_name="pytest")
    try:
        genres = opensonic.get_genres()
        songs = opensonic.get_songs_by_genre("jazz", count=5)
    finally:
        opensonic.cleanup()
    sonic = libsonic.Connection(
        host, LISTENER_EMAIL, secret, port=int(port), serverPath="/rest", appName="pytest"
    )

    assert [(genre.value, genre.song_count, genre.album_count) for genre in genres] == [
        ("Jazz", 1, 1),
        ("Metal", 1, 0),
    ]
    [so_what] = songs
    assert (so_what.title, so_what.genre, so_what.year) == ("So What", "Jazz", 1959)
    assert (so_what.track, so_what.disc_number) == (1, 1)
    assert [genre.name for genre in so_what.genres] == ["Jazz"]
    metal = sonic.getSongsByGenre("Metal")["songsByGenre"]["song"]
    assert [(song["title"], song["year"], song["genre"]) for song in metal] == [
        ("Paranoid", 1970, "Metal")
    ]
    assert sonic.getGenres()["genres"]["genre"][0] == {
        "songCount": 1,
        "albumCount": 1,
        "value": "Jazz",
    }


# --- The answers against the specification's schemas ---------------------------------------


def _spec_schemas() -> Path | None:
    """The specification's openapi/schemas folder (as test_spec.py finds it), or None."""
    candidates = [os.environ.get("OPENSUBSONIC_SPEC", "")]
    candidates.append(str(Path(settings.BASE_DIR).parent / "shared" / "opensubsonic"))
    for candidate in candidates:
        schemas = Path(candidate) / "openapi" / "schemas"
        if candidate and schemas.is_dir():
            return schemas
    return None


@pytest.mark.parametrize(
    ("saved", "member", "schema"),
    [
        ("getGenres_catalog", "genres", "Genres.json"),
        ("getSongsByGenre_catalog", "songsByGenre", "Songs.json"),
    ],
)
def test_the_saved_answers_follow_the_specifications_schemas(saved, member, schema):
    schemas = _spec_schemas()
    if schemas is None:
        pytest.skip("the OpenSubsonic specification is not beside the project")
    jsonschema = pytest.importorskip("jsonschema")
    referencing = pytest.importorskip("referencing")
    pytest.importorskip("referencing.jsonschema")

    def retrieve(uri: str):
        contents = json.loads(Path(uri.removeprefix("file://")).read_text())
        return referencing.jsonschema.DRAFT202012.create_resource(contents)

    registry = referencing.Registry(retrieve=retrieve)
    body = json.loads((SAVED / f"{saved}.json").read_text())["subsonic-response"][member]
    validator = jsonschema.Draft202012Validator(
        {"$ref": (schemas / schema).as_uri()}, registry=registry
    )

    assert list(validator.iter_errors(body)) == []
