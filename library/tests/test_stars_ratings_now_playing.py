"""The listener's stars on songs, albums and artists, ratings and now playing (written by the
Subsonic API through library/services.py): idempotent, all or nothing, and gone with what
they are about."""

from datetime import timedelta
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from catalog import services as catalog_services
from catalog.models import Like
from catalog.selectors.albums import ALBUM_NOT_FOUND
from catalog.selectors.artists import ARTIST_NOT_FOUND
from catalog.selectors.songs import SONG_NOT_FOUND
from core.errors import Invalid, NotFound
from library import selectors, services
from library.models import AlbumLike, AlbumRating, ArtistLike, ArtistRating, NowPlaying, Rating
from library.services import NOW_PLAYING_MARGIN, RATING_OUT_OF_RANGE
from users.signals import activity_changed


@pytest.fixture
def songs(make_song, make_album):
    album = make_album("Kind of Blue", "Miles Davis")
    return [make_song("So What", "Miles Davis", album=album), make_song("Naima")]


def star_counts() -> tuple[int, int, int]:
    return Like.objects.count(), AlbumLike.objects.count(), ArtistLike.objects.count()


# --- Stars ------------------------------------------------------------------------------


def test_starring_again_keeps_every_first_time(user, songs):
    song, album, artist = songs[0].pk, songs[0].album_id, songs[0].artist_id
    services.stars_add(user=user, song_ids=[song], album_ids=[album], artist_ids=[artist])
    first = (
        Like.objects.get().liked_at,
        AlbumLike.objects.get().created_at,
        ArtistLike.objects.get().created_at,
    )

    services.stars_add(user=user, song_ids=[song, song], album_ids=[album], artist_ids=[artist])

    assert star_counts() == (1, 1, 1)
    assert (
        Like.objects.get().liked_at,
        AlbumLike.objects.get().created_at,
        ArtistLike.objects.get().created_at,
    ) == first


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("song_ids", SONG_NOT_FOUND),
        ("album_ids", ALBUM_NOT_FOUND),
        ("artist_ids", ARTIST_NOT_FOUND),
    ],
)
def test_one_unknown_id_of_any_kind_stars_nothing(user, songs, kind, message):
    given: dict[str, Any] = {
        "song_ids": [songs[0].pk, songs[1].pk],
        "album_ids": [songs[0].album_id],
        "artist_ids": [songs[0].artist_id],
    }
    given[kind] = [*given[kind], 999_999]

    with pytest.raises(NotFound, match=message):
        services.stars_add(user=user, **given)

    assert star_counts() == (0, 0, 0)


def test_unstarring_takes_back_only_those_given_and_an_unknown_id_nothing(user, songs):
    services.stars_add(user=user, song_ids=[s.pk for s in songs], album_ids=[songs[0].album_id])

    with pytest.raises(NotFound, match=ALBUM_NOT_FOUND):
        services.stars_remove(user=user, song_ids=[songs[0].pk], album_ids=[999_999])
    assert star_counts() == (2, 1, 0)

    services.stars_remove(user=user, song_ids=[songs[0].pk], album_ids=[songs[0].album_id])
    services.stars_remove(user=user, song_ids=[songs[0].pk])  # not starred any more: fine
    assert list(Like.objects.values_list("song", flat=True)) == [songs[1].pk]
    assert star_counts() == (1, 0, 0)


def test_a_pair_is_starred_once_by_the_database_too(user, songs):
    AlbumLike.objects.create(user=user, album_id=songs[0].album_id)

    with pytest.raises(IntegrityError), transaction.atomic():
        AlbumLike.objects.create(user=user, album_id=songs[0].album_id)


def test_starred_albums_and_artists_come_newest_first_with_their_counts(user, make_user, songs):
    miles, coltrane = songs[0].artist, songs[1].artist
    services.stars_add(user=user, album_ids=[songs[0].album_id], artist_ids=[miles.pk])
    services.stars_add(user=make_user(), artist_ids=[coltrane.pk])  # someone else's
    services.stars_add(user=user, artist_ids=[coltrane.pk])
    ArtistLike.objects.filter(user=user, artist=coltrane).update(
        created_at=timezone.now() + timedelta(minutes=1)
    )

    [album] = selectors.albums_starred(user=user)
    artists = list(selectors.artists_starred(user=user))

    assert (album.title, album.song_count, album.total_duration) == (
        "Kind of Blue",
        1,
        songs[0].duration,
    )
    assert album.starred_at == AlbumLike.objects.get().created_at
    assert [(artist.name, artist.album_count) for artist in artists] == [
        ("John Coltrane", 0),
        ("Miles Davis", 1),
    ]


def test_stars_ratings_and_now_playing_go_with_their_song_album_and_artist(user, songs):
    so_what = songs[0]
    services.stars_add(
        user=user,
        song_ids=[so_what.pk],
        album_ids=[so_what.album_id],
        artist_ids=[so_what.artist_id],
    )
    services.song_rate(user=user, song_id=so_what.pk, rating=5)
    services.now_playing_set(user=user, song_id=so_what.pk)

    catalog_services.album_delete(album_id=so_what.album_id)

    assert star_counts() == (0, 0, 1)
    assert not Rating.objects.exists()
    assert not NowPlaying.objects.exists()


# --- Ratings ----------------------------------------------------------------------------


def test_a_rating_is_set_replaced_and_removed(user, songs):
    services.song_rate(user=user, song_id=songs[0].pk, rating=2)
    first = Rating.objects.get()

    services.song_rate(user=user, song_id=songs[0].pk, rating=5)
    again = Rating.objects.get()
    assert (again.pk, again.rating) == (first.pk, 5)
    assert again.updated_at >= first.updated_at
    assert selectors.song_ratings_of(user=user, song_ids=[s.pk for s in songs]) == {songs[0].pk: 5}

    services.song_rate(user=user, song_id=songs[0].pk, rating=0)
    assert not Rating.objects.exists()


@pytest.mark.parametrize("rating", [-1, 6, 100])
def test_a_rating_outside_0_to_5_is_refused_and_changes_nothing(user, songs, rating):
    services.song_rate(user=user, song_id=songs[0].pk, rating=3)

    with pytest.raises(Invalid, match=RATING_OUT_OF_RANGE):
        services.song_rate(user=user, song_id=songs[0].pk, rating=rating)

    assert list(Rating.objects.values_list("rating", flat=True)) == [3]


def test_rating_an_unknown_song_is_not_found(user, db):
    for rating in (0, 4):
        with pytest.raises(NotFound, match=SONG_NOT_FOUND):
            services.song_rate(user=user, song_id=999_999, rating=rating)
    assert not Rating.objects.exists()


def test_the_database_refuses_a_rating_out_of_range(user, songs):
    with pytest.raises(IntegrityError), transaction.atomic():
        Rating.objects.create(user=user, song=songs[0], rating=6)


def test_album_and_artist_ratings_are_set_replaced_and_removed_apart_from_songs(
    user, make_user, songs
):
    album, artist = songs[0].album_id, songs[0].artist_id
    services.album_rate(user=make_user(), album_id=album, rating=1)  # someone else's

    services.album_rate(user=user, album_id=album, rating=2)
    services.album_rate(user=user, album_id=album, rating=4)
    services.artist_rate(user=user, artist_id=artist, rating=5)

    assert selectors.album_ratings_of(user=user, album_ids=[album]) == {album: 4}
    assert selectors.album_ratings_by(user=user) == {album: 4}
    assert selectors.artist_ratings_of(user=user, artist_ids=[artist, 999_999]) == {artist: 5}
    assert not Rating.objects.exists()
    assert AlbumRating.objects.filter(user=user).count() == 1

    services.album_rate(user=user, album_id=album, rating=0)
    services.artist_rate(user=user, artist_id=artist, rating=0)
    services.artist_rate(user=user, artist_id=artist, rating=0)  # none left is fine
    assert selectors.album_ratings_by(user=user) == {}
    assert not ArtistRating.objects.exists()
    assert AlbumRating.objects.count() == 1  # the other listener's stays


@pytest.mark.parametrize("rating", [-1, 6])
def test_an_album_or_artist_rating_outside_0_to_5_changes_nothing(user, songs, rating):
    album, artist = songs[0].album_id, songs[0].artist_id
    services.album_rate(user=user, album_id=album, rating=3)
    services.artist_rate(user=user, artist_id=artist, rating=3)

    with pytest.raises(Invalid, match=RATING_OUT_OF_RANGE):
        services.album_rate(user=user, album_id=album, rating=rating)
    with pytest.raises(Invalid, match=RATING_OUT_OF_RANGE):
        services.artist_rate(user=user, artist_id=artist, rating=rating)

    assert list(AlbumRating.objects.values_list("rating", flat=True)) == [3]
    assert list(ArtistRating.objects.values_list("rating", flat=True)) == [3]


def test_rating_an_unknown_album_or_artist_is_not_found(user, db):
    with pytest.raises(NotFound, match=ALBUM_NOT_FOUND):
        services.album_rate(user=user, album_id=999_999, rating=4)
    with pytest.raises(NotFound, match=ARTIST_NOT_FOUND):
        services.artist_rate(user=user, artist_id=999_999, rating=0)
    assert not AlbumRating.objects.exists()
    assert not ArtistRating.objects.exists()


def test_album_and_artist_ratings_go_with_their_album_and_artist(user, songs):
    album, artist = songs[0].album_id, songs[0].artist_id
    services.album_rate(user=user, album_id=album, rating=4)
    services.artist_rate(user=user, artist_id=artist, rating=4)

    catalog_services.album_delete(album_id=album)

    assert not AlbumRating.objects.exists()
    assert ArtistRating.objects.count() == 1


def test_the_database_refuses_an_album_or_artist_rating_out_of_range(user, songs):
    with pytest.raises(IntegrityError), transaction.atomic():
        AlbumRating.objects.create(user=user, album=songs[0].album, rating=0)
    with pytest.raises(IntegrityError), transaction.atomic():
        ArtistRating.objects.create(user=user, artist=songs[0].artist, rating=6)


# --- Now playing ------------------------------------------------------------------------


@pytest.fixture
def announced() -> list[dict[str, Any]]:
    heard: list[dict[str, Any]] = []

    def hear(sender: Any, **kwargs: Any) -> None:
        heard.append({key: kwargs[key] for key in ("user_id", "activity")})

    activity_changed.connect(hear, dispatch_uid="test-heard")
    yield heard
    activity_changed.disconnect(dispatch_uid="test-heard")


def test_now_playing_replaces_the_listeners_entry_and_is_announced_after_commit(
    user, songs, announced, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as pending:
        services.now_playing_set(user=user, song_id=songs[1].pk, player_name="DSub")
    assert announced == []  # not before the commit
    for callback in pending:
        callback()
    with django_capture_on_commit_callbacks(execute=True):
        services.now_playing_set(user=user, song_id=songs[0].pk, player_name="x" * 300)

    entry = NowPlaying.objects.get()
    assert (entry.user, entry.song, entry.player_name) == (user, songs[0], "x" * 100)
    assert entry.expires_at == entry.started_at + timedelta(seconds=songs[0].duration) + (
        NOW_PLAYING_MARGIN
    )
    assert announced == [
        {"user_id": user.pk, "activity": "Playing Naima by John Coltrane"},
        {"user_id": user.pk, "activity": "Playing So What by Miles Davis"},
    ]
    assert [e.user for e in selectors.now_playing()] == [user]


def _now_playing_then_fail(user, song_id: int) -> None:
    with transaction.atomic():
        services.now_playing_set(user=user, song_id=song_id)
        raise RuntimeError("the request failed after the write")


def test_a_rolled_back_now_playing_is_never_announced(
    user, songs, announced, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
    ):
        _now_playing_then_fail(user, songs[0].pk)

    assert callbacks == []
    assert announced == []
    assert not NowPlaying.objects.exists()


def test_now_playing_an_unknown_song_is_not_found(user, db, announced):
    with pytest.raises(NotFound, match=SONG_NOT_FOUND):
        services.now_playing_set(user=user, song_id=999_999)
    assert announced == []


def test_now_playing_lists_what_has_not_ended_latest_first(user, make_user, songs):
    ended, later = make_user(), make_user()
    for listener in (user, ended, later):
        services.now_playing_set(user=listener, song_id=songs[0].pk)
    NowPlaying.objects.filter(user=ended).update(expires_at=timezone.now())
    NowPlaying.objects.filter(user=later).update(started_at=timezone.now() + timedelta(seconds=1))

    assert [entry.user for entry in selectors.now_playing()] == [later, user]
