"""Every implemented endpoint's answer, in XML and JSON, against the one saved in
responses/ (as Gonic's tests do). After a deliberate change: `UPDATE_SAVED=1 pytest
subsonic/tests/test_saved_responses.py`, then review the diff of responses/."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from catalog.models import Album, Artist, Like, Song
from library import services as library_services
from library.models import AlbumLike, ArtistLike, NowPlaying, Rating
from subsonic import ids
from subsonic.registry import ENDPOINTS
from subsonic.tests.calls import (
    LISTENER_EMAIL,
    api_key,
    assert_as_specified,
    assert_saved,
    call,
    xml_root,
)
from subsonic.tests.sample_catalog import SampleCatalog
from users.models import User

# Each implemented endpoint, with the parameters of its saved call.
CALLS = {
    "ping": {},
    "getLicense": {},
    "getOpenSubsonicExtensions": {},
    "getMusicFolders": {},
    "getScanStatus": {},
    "getUser": {"username": LISTENER_EMAIL},
    "tokenInfo": {},
    # The listener's collections: "{name}" is filled from the scene (_collections below).
    "getPlaylists": {},
    "getPlaylist": {"id": "{playlist}"},
    "createPlaylist": {"name": "Road Trip", "songId": ["{song}", "{other_song}", "{song}"]},
    "updatePlaylist": {
        "playlistId": "{playlist}",
        "name": "Later Night",
        "public": "false",
        "songIndexToRemove": "0",
        "songIdToAdd": "{song}",
    },
    "deletePlaylist": {"id": "{playlist}"},
    "getPlayQueue": {},
    "savePlayQueue": {"id": ["{other_song}", "{song}"], "current": "{song}", "position": "1000"},
    "getBookmarks": {},
    "createBookmark": {"id": "{other_song}", "position": "5000", "comment": "Bridge"},
    "deleteBookmark": {"id": "{song}"},
    # With genres: test_genres.py saves getGenres_catalog and getSongsByGenre_catalog.
    "getGenres": {},
    "getSongsByGenre": {"genre": "Hard bop"},
}


def _collections(listener: User, other: User, song: Song, other_song: Song) -> dict[str, str]:
    """The listener's playlist, someone else's public one, a play queue and a bookmark; the
    ids the calls name."""
    playlist = library_services.playlist_create(
        owner=listener,
        name="Late Night",
        description="Slow songs for after midnight.",
        is_public=True,
        song_ids=[other_song.pk, song.pk],
    )
    library_services.playlist_create(
        owner=other, name="Bo's Mix", is_public=True, song_ids=[song.pk]
    )
    library_services.play_queue_save(
        user=listener,
        song_ids=[other_song.pk, song.pk],
        current_id=song.pk,
        position_ms=61_500,
        client="DSub",
    )
    library_services.bookmark_save(
        user=listener, song_id=song.pk, position_ms=12_000, comment="Chapter 2"
    )
    return {
        "song": ids.song_id(song.pk),
        "other_song": ids.song_id(other_song.pk),
        "playlist": ids.playlist_id(playlist.pk),
    }


def _filled(params: dict[str, Any], scene: dict[str, str]) -> dict[str, Any]:
    return {
        key: [item.format(**scene) for item in value]
        if isinstance(value, list)
        else value.format(**scene)
        for key, value in params.items()
    }


# The listener's own data (stars, ratings, plays, now playing), called in `listeners_world`.
LISTENER_CALLS = {
    "star": {"id": "tr-9202", "albumId": "al-9101"},
    "unstar": {"id": "tr-9201"},
    "setRating": {"id": "tr-9202", "rating": "5"},
    "scrobble": {"id": "tr-9201"},
    "getStarred2": {},
    "getNowPlaying": {},
}


# The browsing, list, search and file endpoints, on the sample catalog
# (subsonic/tests/sample_catalog.py): each call's parameters made from it. The file
# endpoints answer the file itself (test_media.py): their saved answer is their error.
SAMPLE_CALLS: dict[str, Callable[[SampleCatalog], dict[str, Any]]] = {
    "getArtists": lambda sample: {},
    "getIndexes": lambda sample: {},
    "getMusicDirectory": lambda sample: {"id": ids.artist_id(sample.coltrane.pk)},
    "getArtist": lambda sample: {"id": ids.artist_id(sample.coltrane.pk)},
    "getAlbum": lambda sample: {"id": ids.album_id(sample.blue_train.pk)},
    "getSong": lambda sample: {"id": ids.song_id(sample.lazy_bird.pk)},
    "getTopSongs": lambda sample: {"artist": "John Coltrane", "count": 2},
    "getArtistInfo2": lambda sample: {"id": ids.artist_id(sample.coltrane.pk)},
    "getAlbumInfo2": lambda sample: {"id": ids.album_id(sample.blue_train.pk)},
    "getAlbumList2": lambda sample: {"type": "newest"},
    "getAlbumList": lambda sample: {"type": "alphabeticalByName"},
    "getRandomSongs": lambda sample: {"fromYear": 1969, "toYear": 1969},
    "search3": lambda sample: {"query": "blue train"},
    "stream": lambda sample: {"id": "tr-999999"},
    "download": lambda sample: {"id": "al-1"},
    "getCoverArt": lambda sample: {"id": ids.song_id(sample.come_together.pk)},
    "getLyricsBySongId": lambda sample: {
        "id": ids.song_id(sample.la_vie_en_rose.pk),
        "enhanced": "true",
    },
}


def test_every_implemented_endpoint_has_a_saved_call():
    assert not set(CALLS) & set(LISTENER_CALLS)
    assert not (set(CALLS) | set(LISTENER_CALLS)) & set(SAMPLE_CALLS)
    assert set(CALLS) | set(LISTENER_CALLS) | set(SAMPLE_CALLS) == set(ENDPOINTS)


@pytest.mark.parametrize("form", ["xml", "json"])
@pytest.mark.parametrize("name", CALLS)
def test_the_answer_is_the_saved_one(
    client: Client, secret: str, listener, make_user, make_song, name: str, form: str
):
    song = make_song()
    other_song = make_song(title="Lazy Bird")
    other = make_user(email="bo@example.com", full_name="Bo Other")
    scene = _collections(listener, other, song, other_song)

    response = call(client, name, api_key(secret), f=form, **_filled(CALLS[name], scene))

    if form == "xml":
        assert xml_root(response).get("status") == "ok"
    else:
        assert_as_specified(response, name)
    assert_saved(response, name, form)


@pytest.mark.parametrize("form", ["xml", "json"])
def test_an_error_is_the_saved_one(client: Client, db, form: str):
    response = call(client, "ping", api_key("not-a-key"), f=form)

    if form == "xml":
        assert xml_root(response).get("status") == "failed"
    assert_saved(response, "error_invalid_api_key", form)


# Fixed ids and times, the same on every database and every run (no sequence is used).
SAVED_MOMENT = datetime(2026, 3, 14, 15, 9, 26, 535000, tzinfo=UTC)


@pytest.fixture
def listeners_world(listener: User, make_user) -> None:
    """Two artists, an album, two songs; the listener starred the first song (rated 4), the
    album and its artist; Bob has been playing the second song for three minutes."""
    coltrane = Artist.objects.create(pk=9001, name="John Coltrane", created_at=SAVED_MOMENT)
    davis = Artist.objects.create(pk=9002, name="Miles Davis", created_at=SAVED_MOMENT)
    album = Album.objects.create(
        pk=9101,
        title="Giant Steps",
        artist=coltrane,
        artist_name=coltrane.name,
        release_year=1960,
        created_at=SAVED_MOMENT,
    )
    naima = Song.objects.create(
        pk=9201,
        title="Naima",
        artist=coltrane,
        artist_name=coltrane.name,
        album=album,
        duration=261,
        audio="songs/naima.mp3",
        created_at=SAVED_MOMENT,
    )
    so_what = Song.objects.create(
        pk=9202,
        title="So What",
        artist=davis,
        artist_name=davis.name,
        duration=562,
        audio="songs/so-what.flac",
        created_at=SAVED_MOMENT,
    )
    starred = SAVED_MOMENT + timedelta(days=1)
    Like.objects.create(user=listener, song=naima, liked_at=starred)
    AlbumLike.objects.create(user=listener, album=album, created_at=starred)
    ArtistLike.objects.create(user=listener, artist=coltrane, created_at=starred)
    Rating.objects.create(user=listener, song=naima, rating=4, updated_at=starred)
    now = timezone.now()
    NowPlaying.objects.create(
        user=make_user(full_name="Bob Player"),
        song=so_what,
        player_name="DSub",
        started_at=now - timedelta(minutes=3, seconds=10),
        expires_at=now + timedelta(hours=1),
    )


@pytest.mark.parametrize("form", ["xml", "json"])
@pytest.mark.parametrize("name", LISTENER_CALLS)
def test_the_listeners_answer_is_the_saved_one(
    client: Client, secret: str, listeners_world: None, name: str, form: str
):
    response = call(client, name, api_key(secret), f=form, **LISTENER_CALLS[name])

    if form == "xml":
        assert xml_root(response).get("status") == "ok"
    assert_saved(response, name, form)


@pytest.mark.parametrize("form", ["xml", "json"])
@pytest.mark.parametrize("name", SAMPLE_CALLS)
def test_the_answer_on_the_sample_catalog_is_the_saved_one(
    client: Client, secret: str, sample: SampleCatalog, name: str, form: str
):
    response = call(client, name, api_key(secret), f=form, **SAMPLE_CALLS[name](sample))

    if form == "xml":
        xml_root(response)
    else:
        assert_as_specified(response, name)
    assert_saved(response, name, form)
