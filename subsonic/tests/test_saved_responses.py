"""Every implemented endpoint's answer, in XML and JSON, against the one saved in
responses/ (as Gonic's tests do). After a deliberate change: `UPDATE_SAVED=1 pytest
subsonic/tests/test_saved_responses.py`, then review the diff of responses/."""

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from catalog.models import Album, Artist, Like, Song
from library.models import AlbumLike, ArtistLike, NowPlaying, Rating
from subsonic.registry import ENDPOINTS
from subsonic.tests.calls import LISTENER_EMAIL, api_key, assert_saved, call, xml_root
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


def test_every_implemented_endpoint_has_a_saved_call():
    assert not set(CALLS) & set(LISTENER_CALLS)
    assert set(CALLS) | set(LISTENER_CALLS) == set(ENDPOINTS)


@pytest.mark.parametrize("form", ["xml", "json"])
@pytest.mark.parametrize("name", CALLS)
def test_the_answer_is_the_saved_one(client: Client, secret: str, make_song, name: str, form: str):
    make_song()
    make_song(title="Lazy Bird")

    response = call(client, name, api_key(secret), f=form, **CALLS[name])

    if form == "xml":
        assert xml_root(response).get("status") == "ok"
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
