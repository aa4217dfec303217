"""star, unstar, setRating, scrobble, getStarred2 and getNowPlaying: what they write, what
they refuse (writing nothing), and what the listener then reads, here and in the REST API."""

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from catalog.models import Like, Play
from catalog.selectors import discovery
from library import services
from library.models import AlbumLike, AlbumRating, ArtistLike, ArtistRating, NowPlaying, Rating
from library.services import NOW_PLAYING_MARGIN, RATING_OUT_OF_RANGE
from subsonic import ids
from subsonic.endpoints.annotation import (
    MAX_IDS,
    RATING_NOT_A_NUMBER,
    STAR_IDS_MISSING,
    SUBMISSION_NOT_BOOLEAN,
    TIME_INVALID,
    TOO_MANY_IDS,
)
from subsonic.endpoints.lists_starred import NO_SUCH_FOLDER
from subsonic.envelope import plain
from subsonic.listener import UNMARKED, SongMarks, annotations_for, song_children
from subsonic.tests.calls import CLIENT_NAME, LISTENER_EMAIL, answer, api_key, call, error_of
from tests.helpers import bearer
from users.models import User

NOTHING_STARRED = {"artist": [], "album": [], "song": []}


def ok(response) -> None:
    body = answer(response)
    assert body["status"] == "ok", body
    assert set(body) == {"status", "version", "type", "serverVersion", "openSubsonic"}


def not_found(text: str) -> dict:
    return {"code": 70, "message": f"No such item: {text}."}


def generic(message: str) -> dict:
    return {"code": 0, "message": message}


@pytest.fixture
def songs(make_song, make_album):
    album = make_album("Giant Steps", "John Coltrane")
    return [
        make_song("Naima", "John Coltrane", album=album),
        make_song("So What", "Miles Davis"),
        make_song("Blue in Green", "Miles Davis"),
    ]


def starred2(client: Client, secret: str) -> dict:
    return answer(call(client, "getStarred2", api_key(secret)))["starred2"]


def starred_ids(client: Client, secret: str) -> dict[str, list[str]]:
    found = starred2(client, secret)
    return {
        kind: [item["id"] for item in found.get(kind, [])] for kind in ("song", "album", "artist")
    }


# --- star and unstar --------------------------------------------------------------------


def test_star_takes_songs_albums_and_artists_repeated_and_get_starred2_lists_them(
    client: Client, secret: str, listener, songs
):
    naima, so_what, _ = songs
    miles = so_what.artist
    params = {
        "id": [ids.song_id(naima.pk), ids.song_id(so_what.pk), ids.artist_id(miles.pk)],
        "albumId": [ids.album_id(naima.album_id)],
        "artistId": [ids.artist_id(naima.artist_id)],
    }

    ok(call(client, "star", api_key(secret), **params))

    assert set(Like.objects.filter(user=listener).values_list("song", flat=True)) == {
        naima.pk,
        so_what.pk,
    }
    assert list(AlbumLike.objects.values_list("user", "album")) == [(listener.pk, naima.album_id)]
    assert set(ArtistLike.objects.values_list("artist", flat=True)) == {miles.pk, naima.artist_id}
    found = starred2(client, secret)
    like = Like.objects.get(song=naima)
    song = next(item for item in found["song"] if item["id"] == ids.song_id(naima.pk))
    assert song["starred"] == plain(like.liked_at)
    assert (song["title"], song["album"], song["albumId"]) == (
        "Naima",
        "Giant Steps",
        ids.album_id(naima.album_id),
    )
    assert "userRating" not in song
    assert found["album"] == [
        {
            "id": ids.album_id(naima.album_id),
            "name": "Giant Steps",
            "artist": "John Coltrane",
            "artistId": ids.artist_id(naima.artist_id),
            "songCount": 1,
            "duration": naima.duration,
            "created": plain(naima.album.created_at),
            "genres": [],  # no genre: OpenSubsonic's list, empty
            "starred": plain(AlbumLike.objects.get().created_at),
        }
    ]
    assert {artist["name"]: artist["albumCount"] for artist in found["artist"]} == {
        "John Coltrane": 1,
        "Miles Davis": 0,
    }
    assert all(artist["starred"] for artist in found["artist"])


def test_starring_again_keeps_the_first_time(client: Client, secret: str, songs):
    song_id = ids.song_id(songs[0].pk)
    album_id = ids.album_id(songs[0].album_id)
    ok(call(client, "star", api_key(secret), id=song_id, albumId=album_id))
    first = (Like.objects.get().liked_at, AlbumLike.objects.get().created_at)

    ok(call(client, "star", api_key(secret), id=[song_id, song_id], albumId=album_id))

    assert (Like.objects.get().liked_at, AlbumLike.objects.get().created_at) == first


def test_a_starred_song_is_a_liked_song_in_the_rest_api(
    client: Client, secret: str, listener, songs
):
    ok(call(client, "star", api_key(secret), id=ids.song_id(songs[1].pk)))

    likes = client.get("/api/me/likes/", headers=bearer(listener)).json()

    assert [like["song"]["id"] for like in likes["items"]] == [songs[1].pk]


@pytest.mark.parametrize(
    ("name", "bad"),
    [
        ("id", "tr-999999"),  # no such song
        ("id", "al-999999"),
        ("id", "pl-1"),  # a playlist cannot be starred
        ("albumId", "ar-1"),  # an artist's id where an album's is asked for
        ("artistId", "nonsense"),
    ],
)
def test_one_unknown_id_stars_nothing_at_all(client: Client, secret: str, songs, name, bad):
    good = {
        "id": [ids.song_id(songs[0].pk)],
        "albumId": [ids.album_id(songs[0].album_id)],
        "artistId": [ids.artist_id(songs[1].artist_id)],
    }
    good[name] = [*good[name], bad]

    error = error_of(call(client, "star", api_key(secret), **good))

    assert error["code"] == 70
    assert (Like.objects.count(), AlbumLike.objects.count(), ArtistLike.objects.count()) == (
        0,
        0,
        0,
    )


def test_star_and_unstar_need_an_id(client: Client, secret: str):
    for name in ("star", "unstar"):
        assert error_of(call(client, name, api_key(secret))) == {
            "code": 10,
            "message": STAR_IDS_MISSING,
        }


def test_star_takes_at_most_max_ids(client: Client, secret: str, songs):
    too_many = [ids.song_id(songs[0].pk)] * (MAX_IDS + 1)

    assert error_of(call(client, "star", api_key(secret), id=too_many)) == generic(TOO_MANY_IDS)
    assert not Like.objects.exists()


def test_unstar_takes_back_only_the_given_stars_and_twice_is_fine(
    client: Client, secret: str, listener, songs
):
    services.stars_add(
        user=listener,
        song_ids=[songs[0].pk, songs[1].pk],
        album_ids=[songs[0].album_id],
        artist_ids=[songs[1].artist_id],
    )
    params = {"id": ids.song_id(songs[0].pk), "albumId": ids.album_id(songs[0].album_id)}

    ok(call(client, "unstar", api_key(secret), **params))
    ok(call(client, "unstar", api_key(secret), **params))

    assert starred_ids(client, secret) == {
        "song": [ids.song_id(songs[1].pk)],
        "album": [],
        "artist": [ids.artist_id(songs[1].artist_id)],
    }


def test_unstar_with_an_unknown_id_removes_nothing(client: Client, secret: str, listener, songs):
    services.stars_add(user=listener, song_ids=[songs[0].pk])

    response = call(client, "unstar", api_key(secret), id=[ids.song_id(songs[0].pk), "tr-999999"])

    assert error_of(response) == {"code": 70, "message": "No song with this id."}
    assert Like.objects.count() == 1


def test_stars_are_each_listeners_own(client: Client, secret: str, make_user, songs):
    other = make_user()
    services.stars_add(user=other, song_ids=[songs[0].pk], artist_ids=[songs[0].artist_id])

    assert starred2(client, secret) == NOTHING_STARRED


def test_get_starred2_lists_the_newest_star_first(client: Client, secret: str, listener, songs):
    for song in songs:
        services.stars_add(user=listener, song_ids=[song.pk])
    Like.objects.filter(song=songs[1]).update(liked_at=timezone.now() + timedelta(minutes=1))

    assert starred_ids(client, secret)["song"] == [
        ids.song_id(songs[1].pk),
        ids.song_id(songs[2].pk),
        ids.song_id(songs[0].pk),
    ]


def test_get_starred2_knows_one_music_folder(client: Client, secret: str):
    assert answer(call(client, "getStarred2", api_key(secret), musicFolderId="1"))["starred2"] == (
        NOTHING_STARRED
    )
    response = call(client, "getStarred2", api_key(secret), musicFolderId="2")
    assert error_of(response) == {"code": 70, "message": NO_SUCH_FOLDER}


def test_get_starred2_costs_the_same_queries_at_any_size(
    client: Client, secret: str, listener, make_song, make_album, django_assert_num_queries
):
    call(client, "ping", api_key(secret))  # the app password's first use is recorded

    def star_more(count: int) -> None:
        for number in range(count):
            name = f"{count}-{number}"
            album = make_album(f"Album {name}", f"Artist {name}")
            song = make_song(f"Song {name}", f"Artist {name}", album=album)
            services.stars_add(
                user=listener,
                song_ids=[song.pk],
                album_ids=[album.pk],
                artist_ids=[song.artist_id],
            )
            services.song_rate(user=listener, song_id=song.pk, rating=4)
            services.album_rate(user=listener, album_id=album.pk, rating=3)
            services.artist_rate(user=listener, artist_id=song.artist_id, rating=2)

    sizes = []
    for count in (1, 5):
        star_more(count)
        # Sign-in, likes with their songs and albums, their ratings, albums, artists.
        with django_assert_num_queries(5):
            found = starred2(client, secret)
        assert all(song["userRating"] == 4 for song in found["song"])
        assert all(album["songCount"] == 1 for album in found["album"])
        assert all(album["userRating"] == 3 for album in found["album"])
        assert all(artist["userRating"] == 2 for artist in found["artist"])
        sizes.append([len(found[kind]) for kind in ("song", "album", "artist")])
    assert sizes == [[1, 1, 1], [6, 6, 6]]


# --- setRating --------------------------------------------------------------------------


def test_set_rating_sets_replaces_and_removes(client: Client, secret: str, listener, songs):
    song_id = ids.song_id(songs[0].pk)
    services.stars_add(user=listener, song_ids=[songs[0].pk])

    ok(call(client, "setRating", api_key(secret), id=song_id, rating="3"))
    assert list(Rating.objects.values_list("user", "song", "rating")) == [
        (listener.pk, songs[0].pk, 3)
    ]
    ok(call(client, "setRating", api_key(secret), id=song_id, rating="5"))
    assert starred2(client, secret)["song"][0]["userRating"] == 5
    assert Rating.objects.count() == 1
    ok(call(client, "setRating", api_key(secret), id=song_id, rating="0"))
    assert not Rating.objects.exists()
    ok(call(client, "setRating", api_key(secret), id=song_id, rating="0"))  # none is fine


@pytest.mark.parametrize(
    ("rating", "message"),
    [("6", RATING_OUT_OF_RANGE), ("-1", RATING_OUT_OF_RANGE), ("three", RATING_NOT_A_NUMBER)],
)
def test_a_rating_out_of_bounds_writes_nothing(
    client: Client, secret: str, listener, songs, rating, message
):
    services.song_rate(user=listener, song_id=songs[0].pk, rating=2)

    response = call(
        client, "setRating", api_key(secret), id=ids.song_id(songs[0].pk), rating=rating
    )

    assert error_of(response) == generic(message)
    assert list(Rating.objects.values_list("rating", flat=True)) == [2]


def test_set_rating_refuses_unknown_ids_and_missing_parameters(client: Client, secret: str, songs):
    album = ids.album_id(songs[0].album_id)

    assert error_of(call(client, "setRating", api_key(secret), id="tr-999999", rating="4")) == {
        "code": 70,
        "message": "No song with this id.",
    }
    assert error_of(call(client, "setRating", api_key(secret), id="al-999999", rating="4")) == {
        "code": 70,
        "message": "No album with this id.",
    }
    assert error_of(call(client, "setRating", api_key(secret), id="ar-999999", rating="4")) == {
        "code": 70,
        "message": "No artist with this id.",
    }
    assert error_of(call(client, "setRating", api_key(secret), id="x-1", rating="4")) == (
        not_found("x-1")
    )
    assert error_of(call(client, "setRating", api_key(secret), rating="4"))["code"] == 10
    assert error_of(call(client, "setRating", api_key(secret), id=album))["code"] == 10
    assert not Rating.objects.exists()
    assert not AlbumRating.objects.exists()
    assert not ArtistRating.objects.exists()


def test_set_rating_rates_albums_and_artists_apart_from_their_songs(
    client: Client, secret: str, listener, make_user, songs
):
    album, artist = songs[0].album, songs[0].artist
    services.stars_add(user=listener, album_ids=[album.pk], artist_ids=[artist.pk])
    services.album_rate(user=make_user(), album_id=album.pk, rating=1)  # someone else's

    ok(call(client, "setRating", api_key(secret), id=ids.album_id(album.pk), rating="4"))
    ok(call(client, "setRating", api_key(secret), id=ids.artist_id(artist.pk), rating="2"))
    ok(call(client, "setRating", api_key(secret), id=ids.album_id(album.pk), rating="5"))

    assert not Rating.objects.exists()  # the songs keep no rating
    assert AlbumRating.objects.filter(user=listener).get().rating == 5
    assert list(ArtistRating.objects.values_list("user", "artist", "rating")) == [
        (listener.pk, artist.pk, 2)
    ]
    found = starred2(client, secret)
    assert [(a["name"], a["userRating"]) for a in found["album"]] == [("Giant Steps", 5)]
    assert [(a["name"], a["userRating"]) for a in found["artist"]] == [("John Coltrane", 2)]
    detail = answer(call(client, "getAlbum", api_key(secret), id=ids.album_id(album.pk)))
    assert detail["album"]["userRating"] == 5
    assert detail["album"]["starred"] == found["album"][0]["starred"]  # the same moment
    assert "userRating" not in detail["album"]["song"][0]

    ok(call(client, "setRating", api_key(secret), id=ids.album_id(album.pk), rating="0"))
    ok(call(client, "setRating", api_key(secret), id=ids.artist_id(artist.pk), rating="0"))
    assert not AlbumRating.objects.filter(user=listener).exists()
    assert not ArtistRating.objects.exists()
    assert "userRating" not in starred2(client, secret)["album"][0]


@pytest.mark.parametrize("kind", ["album", "artist"])
@pytest.mark.parametrize(
    ("rating", "message"),
    [("6", RATING_OUT_OF_RANGE), ("-1", RATING_OUT_OF_RANGE), ("three", RATING_NOT_A_NUMBER)],
)
def test_an_album_or_artist_rating_out_of_bounds_writes_nothing(
    client: Client, secret: str, listener, songs, kind, rating, message
):
    album, artist = songs[0].album, songs[0].artist
    services.album_rate(user=listener, album_id=album.pk, rating=2)
    services.artist_rate(user=listener, artist_id=artist.pk, rating=2)
    target = ids.album_id(album.pk) if kind == "album" else ids.artist_id(artist.pk)

    response = call(client, "setRating", api_key(secret), id=target, rating=rating)

    assert error_of(response) == generic(message)
    assert list(AlbumRating.objects.values_list("rating", flat=True)) == [2]
    assert list(ArtistRating.objects.values_list("rating", flat=True)) == [2]


# --- scrobble ---------------------------------------------------------------------------


def test_a_scrobble_is_one_play_in_history_that_trending_counts(
    client: Client, secret: str, listener, songs
):
    before = timezone.now()

    ok(call(client, "scrobble", api_key(secret), id=ids.song_id(songs[2].pk)))

    play = Play.objects.get()
    assert (play.user, play.song) == (listener, songs[2])
    assert before <= play.played_at <= timezone.now()
    history = client.get("/api/me/history/", headers=bearer(listener)).json()
    assert [item["song"]["id"] for item in history["items"]] == [songs[2].pk]
    assert discovery.songs_trending()[0] == songs[2]
    assert not NowPlaying.objects.exists()


def test_a_scrobble_of_several_songs_at_their_times(client: Client, secret: str, songs):
    times = [datetime(2026, 5, 1, 12, 0, tzinfo=UTC), datetime(2026, 5, 1, 12, 4, tzinfo=UTC)]

    ok(
        call(
            client,
            "scrobble",
            api_key(secret),
            method="post",
            id=[ids.song_id(songs[0].pk), ids.song_id(songs[1].pk)],
            # Whole milliseconds, or with a fraction as some clients send them.
            time=[str(int(times[0].timestamp() * 1000)), f"{int(times[1].timestamp() * 1000)}.0"],
            submission="true",
        )
    )

    assert list(Play.objects.order_by("played_at").values_list("song", "played_at")) == [
        (songs[0].pk, times[0]),
        (songs[1].pk, times[1]),
    ]


def test_a_scrobble_from_the_future_is_played_now(client: Client, secret: str, songs):
    tomorrow = timezone.now() + timedelta(days=1)

    ok(
        call(
            client,
            "scrobble",
            api_key(secret),
            id=ids.song_id(songs[0].pk),
            time=str(int(tomorrow.timestamp() * 1000)),
        )
    )

    assert Play.objects.get().played_at <= timezone.now()


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"id": ["tr-1", "tr-999999"]}, {"code": 70, "message": "No song with this id."}),
        ({"id": ["al-1"]}, not_found("al-1")),
        ({"id": ["tr-1"], "time": "yesterday"}, generic(TIME_INVALID)),
        ({"id": ["tr-1"], "time": "-5"}, generic(TIME_INVALID)),
        ({"id": ["tr-1"], "time": "nan"}, generic(TIME_INVALID)),
        ({"id": ["tr-1"], "time": "9" * 30}, generic(TIME_INVALID)),
        (
            {"id": ["tr-1", "tr-1"], "time": "1700000000000"},
            generic("Give one time per id, or none: 1 times for 2 ids."),
        ),
        ({"id": ["tr-1"], "submission": "maybe"}, generic(SUBMISSION_NOT_BOOLEAN)),
        ({}, {"code": 10, "message": "Required parameter is missing: id."}),
    ],
)
def test_a_refused_scrobble_records_nothing(client: Client, secret: str, songs, params, expected):
    params = {
        key: [text.replace("tr-1", ids.song_id(songs[0].pk)) for text in value]
        if isinstance(value, list)
        else value
        for key, value in params.items()
    }

    assert error_of(call(client, "scrobble", api_key(secret), **params)) == expected
    assert not Play.objects.exists()
    assert not NowPlaying.objects.exists()


# --- now playing ------------------------------------------------------------------------


def test_a_now_playing_scrobble_shows_in_get_now_playing_and_records_no_play(
    client: Client, secret: str, listener, songs
):
    song = songs[0]
    services.song_rate(user=listener, song_id=song.pk, rating=4)

    ok(call(client, "scrobble", api_key(secret), id=ids.song_id(song.pk), submission="false"))

    assert not Play.objects.exists()
    entry = NowPlaying.objects.get()
    assert (entry.user, entry.song, entry.player_name) == (listener, song, CLIENT_NAME)
    assert entry.expires_at == entry.started_at + timedelta(seconds=song.duration) + (
        NOW_PLAYING_MARGIN
    )
    [shown] = answer(call(client, "getNowPlaying", api_key(secret)))["nowPlaying"]["entry"]
    assert shown["id"] == ids.song_id(song.pk)
    assert shown["title"] == "Naima"
    assert shown["userRating"] == 4
    assert (shown["username"], shown["minutesAgo"], shown["playerId"], shown["playerName"]) == (
        LISTENER_EMAIL,
        0,
        0,
        CLIENT_NAME,
    )


def test_the_next_song_replaces_the_now_playing_one(client: Client, secret: str, songs):
    for song in songs[:2]:
        ok(call(client, "scrobble", api_key(secret), id=ids.song_id(song.pk), submission="false"))

    entries = answer(call(client, "getNowPlaying", api_key(secret)))["nowPlaying"]["entry"]

    assert [entry["id"] for entry in entries] == [ids.song_id(songs[1].pk)]


def test_others_show_by_their_public_name_and_an_ended_song_is_gone(
    client: Client, secret: str, make_user, songs
):
    bob = make_user(full_name="Bob Player")
    gone = make_user(full_name="Gone Player")
    services.now_playing_set(user=bob, song_id=songs[1].pk, player_name="DSub")
    services.now_playing_set(user=gone, song_id=songs[2].pk)
    NowPlaying.objects.filter(user=bob).update(started_at=timezone.now() - timedelta(minutes=3))
    NowPlaying.objects.filter(user=gone).update(expires_at=timezone.now())

    [entry] = answer(call(client, "getNowPlaying", api_key(secret)))["nowPlaying"]["entry"]

    assert (entry["username"], entry["minutesAgo"], entry["playerName"]) == (
        "Bob Player",
        3,
        "DSub",
    )
    assert "@" not in str(entry)


def test_get_now_playing_costs_the_same_queries_at_any_size(
    client: Client, secret: str, make_user, songs, django_assert_num_queries
):
    call(client, "ping", api_key(secret))
    sizes = []
    for count in (1, 4):
        for _ in range(count):
            services.now_playing_set(user=make_user(), song_id=songs[0].pk)
        # Sign-in, the entries with listener, song and album, the caller's stars and ratings.
        with django_assert_num_queries(3):
            entries = answer(call(client, "getNowPlaying", api_key(secret)))["nowPlaying"]
        sizes.append(len(entries["entry"]))
    assert sizes == [1, 5]


def test_annotations_for_reads_a_page_in_one_query(
    listener, make_user, songs, django_assert_num_queries
):
    services.stars_add(user=listener, song_ids=[songs[0].pk])
    services.song_rate(user=listener, song_id=songs[1].pk, rating=2)
    services.song_rate(user=make_user(), song_id=songs[0].pk, rating=5)  # someone else's

    with django_assert_num_queries(1):
        marks = annotations_for(listener, songs)
    with django_assert_num_queries(1):
        children = song_children(listener, songs)

    assert marks == {
        songs[0].pk: SongMarks(Like.objects.get().liked_at, None),
        songs[1].pk: SongMarks(None, 2),
        songs[2].pk: UNMARKED,
    }
    assert [(child["id"], child.get("starred"), child.get("userRating")) for child in children] == [
        (ids.song_id(songs[0].pk), Like.objects.get().liked_at, None),
        (ids.song_id(songs[1].pk), None, 2),
        (ids.song_id(songs[2].pk), None, None),
    ]
    assert annotations_for(listener, []) == {}


def test_an_inactive_listener_does_not_show_as_playing(
    client: Client, secret: str, make_user, songs
):
    quiet = make_user()
    services.now_playing_set(user=quiet, song_id=songs[0].pk)
    User.objects.filter(pk=quiet.pk).update(is_active=False)

    assert answer(call(client, "getNowPlaying", api_key(secret)))["nowPlaying"] == {"entry": []}
