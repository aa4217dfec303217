"""Featured, made for you and trending: shape, uniqueness and cost on SQLite and PostgreSQL."""

from datetime import timedelta
from http import HTTPStatus

import pytest
from django.core.cache import cache
from django.db import connection
from django.db.models import Value
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog.models import Album, Play, Song
from catalog.selectors import artists, discovery
from tests.api_shapes import song_out
from tests.helpers import bearer, credited

FEATURED = "/api/songs/featured/"
MADE_FOR_YOU = "/api/songs/made-for-you/"
TRENDING = "/api/songs/trending/"
ROUNDS = 15  # answers are random: each property is checked on many of them


@pytest.fixture
def catalog(make_song) -> list[Song]:
    return [make_song(f"Song {number}", f"Artist {number % 5}") for number in range(12)]


def ids(response) -> list[int]:
    assert response.status_code == HTTPStatus.OK
    return [item["id"] for item in response.json()]


def play(song: Song, user=None, *, days_ago: float = 0, times: int = 1) -> None:
    moment = timezone.now() - timedelta(days=days_ago)
    Play.objects.bulk_create(Play(song=song, user=user, played_at=moment) for _ in range(times))


def reads_plays(queries: CaptureQueriesContext) -> bool:
    """Whether any of the queries read the plays table (an aggregate or a history)."""
    return any("catalog_play" in query["sql"] for query in queries)


# --- Shape and uniqueness -------------------------------------------------------------


@pytest.mark.parametrize(("url", "size"), [(FEATURED, 6), (MADE_FOR_YOU, 4), (TRENDING, 4)])
def test_lists_are_full_and_never_repeat_a_song(client: Client, catalog, url, size):
    known = {song.pk for song in catalog}

    for _ in range(ROUNDS):
        answer = ids(client.get(url))
        assert len(answer) == size
        assert len(set(answer)) == size
        assert set(answer) <= known


def test_items_are_whole_songs(client: Client, make_song, make_album):
    album = make_album(image=True)
    song = make_song(album=album)

    response = client.get(FEATURED)

    assert response.json() == [song_out(song, image=album.image.name)]


@pytest.mark.parametrize(("url", "size"), [(FEATURED, 6), (MADE_FOR_YOU, 4), (TRENDING, 4)])
def test_exactly_enough_songs_are_always_all_answered(client: Client, make_song, url, size):
    songs = {make_song(f"Song {number}").pk for number in range(size)}

    for _ in range(ROUNDS):
        assert sorted(ids(client.get(url))) == sorted(songs)


def test_a_small_catalog_answers_every_song_once(client: Client, make_song):
    songs = {make_song(f"Song {number}").pk for number in range(3)}

    for url in (FEATURED, MADE_FOR_YOU, TRENDING):
        answer = ids(client.get(url))
        assert sorted(answer) == sorted(songs)


def test_an_empty_catalog_answers_empty_lists(client: Client, db):
    for url in (FEATURED, MADE_FOR_YOU, TRENDING):
        assert ids(client.get(url)) == []


def test_gaps_in_the_ids_still_give_full_answers(client: Client, make_song):
    songs = [make_song(f"Song {number}") for number in range(30)]
    # Keep six songs far apart, with long runs of deleted ids between them.
    kept = songs[0::6][:6]
    Song.objects.exclude(pk__in=[song.pk for song in kept]).delete()

    for _ in range(ROUNDS):
        assert sorted(ids(client.get(FEATURED))) == sorted(song.pk for song in kept)


def test_random_songs_leaves_out_the_excluded_ones(catalog):
    excluded = {song.pk for song in catalog[:9]}

    for _ in range(ROUNDS):
        picked = discovery.random_songs(count=5, exclude=excluded)
        assert sorted(song.pk for song in picked) == sorted(song.pk for song in catalog[9:])


def test_random_rows_pick_distinct_albums_as_shaped_by_the_caller(make_album):
    albums = [make_album(f"Album {number}", "Various") for number in range(7)]
    shaped = Album.objects.annotate(shaped=Value(1))

    for _ in range(ROUNDS):
        picked = discovery.random_rows(shaped, count=4, exclude={albums[0].pk})
        assert len({album.pk for album in picked}) == 4
        assert albums[0].pk not in {album.pk for album in picked}
        assert all(album.shaped == 1 for album in picked)
    every = discovery.random_rows(shaped, count=10)
    assert sorted(album.pk for album in every) == sorted(album.pk for album in albums)


def test_an_artists_top_songs_are_the_most_played_then_the_newest(make_song):
    songs = [make_song(f"Take {number}", "Even Keel") for number in range(5)]
    make_song("Elsewhere", "Someone Else")
    play(songs[1], times=3)
    play(songs[3], times=1)

    top = artists.artist_top_songs(artist_id=songs[0].artist_id, count=4)

    assert [song.pk for song in top] == [songs[1].pk, songs[3].pk, songs[4].pk, songs[2].pk]
    assert artists.artist_top_songs(artist_id=songs[0].artist_id, count=0) == []


def test_featured_is_not_captured_by_the_song_detail_route(client: Client, catalog):
    response = client.get(FEATURED)

    assert response.status_code == HTTPStatus.OK
    assert isinstance(response.json(), list)


# --- Trending -------------------------------------------------------------------------


def test_trending_is_the_most_played_of_the_week_topped_up_at_random(client: Client, catalog):
    first, second, third, old_hit = catalog[:4]
    play(first, times=5)
    play(second, times=3, days_ago=6.5)
    play(third, times=1)
    play(old_hit, times=50, days_ago=8)  # outside the 7 days

    for _ in range(ROUNDS):
        answer = ids(client.get(TRENDING))
        assert answer[:3] == [first.pk, second.pk, third.pk]
        assert len(answer) == 4
        assert answer[3] not in answer[:3]


def test_trending_with_many_played_songs_keeps_the_top_four(client: Client, catalog):
    for rank, song in enumerate(catalog[:6]):
        play(song, times=10 - rank)

    assert ids(client.get(TRENDING)) == [song.pk for song in catalog[:4]]


def test_songs_played_as_often_rank_newest_first_in_trending_and_on_the_artist(
    client: Client, make_song
):
    songs = [make_song(f"Tie {number}", "Even Keel") for number in range(4)]
    play(songs[1], times=3)
    for song in (songs[0], songs[2], songs[3]):
        play(song, times=2)
    # The most played, then the three played twice: the newest (highest id) first.
    expected = [songs[1].pk, songs[3].pk, songs[2].pk, songs[0].pk]

    trending = ids(client.get(TRENDING))
    artist = client.get(f"/api/artists/{songs[0].artist_id}/")

    assert trending == expected
    assert artist.status_code == HTTPStatus.OK
    assert [item["id"] for item in artist.json()["top_songs"]] == expected


def test_trending_follows_plays_once_the_interval_has_passed(client: Client, settings, catalog):
    settings.DISCOVERY_REFRESH_SECONDS = 60
    early, late = catalog[:2]
    play(early, times=3)
    assert ids(client.get(TRENDING))[0] == early.pk

    play(late, times=9)
    assert ids(client.get(TRENDING))[0] == early.pk  # within the interval: as computed

    settings.DISCOVERY_REFRESH_SECONDS = 0  # the interval has passed
    assert ids(client.get(TRENDING))[:2] == [late.pk, early.pk]


def test_trending_within_the_interval_is_served_from_the_cache(
    client: Client, settings, catalog, django_assert_num_queries
):
    settings.DISCOVERY_REFRESH_SECONDS = 60
    for rank, song in enumerate(catalog[:4]):
        play(song, times=10 - rank)
    with CaptureQueriesContext(connection) as first:
        ranking = ids(client.get(TRENDING))
    assert reads_plays(first)
    play(catalog[5], times=50)

    for _ in range(3):
        # One query, the four songs by id: no plays read, no aggregate.
        with django_assert_num_queries(1) as queries:
            assert ids(client.get(TRENDING)) == ranking
        assert not reads_plays(queries)


def test_an_expired_ranking_is_recomputed_once_while_the_others_serve_the_old_one(
    client: Client, settings, catalog
):
    settings.DISCOVERY_REFRESH_SECONDS = 60
    play(catalog[0], times=3)
    assert ids(client.get(TRENDING))[0] == catalog[0].pk
    play(catalog[1], times=9)
    settings.DISCOVERY_REFRESH_SECONDS = 0
    # Another request (or process) is recomputing it.
    lock = discovery._lock_key(discovery._trending_key(discovery.TRENDING_COUNT))
    assert cache.add(lock, True)

    with CaptureQueriesContext(connection) as queries:
        assert ids(client.get(TRENDING))[0] == catalog[0].pk
    assert not reads_plays(queries)

    cache.delete(lock)  # its refresh is over (or its lock expired)
    with CaptureQueriesContext(connection) as queries:
        assert ids(client.get(TRENDING))[0] == catalog[1].pk
    assert reads_plays(queries)
    assert cache.get(lock) is None  # released by the request that refreshed


def test_cached_trending_reads_its_songs_fresh_and_leaves_out_deleted_ones(
    client: Client, settings, catalog
):
    settings.DISCOVERY_REFRESH_SECONDS = 60
    gone, renamed, *_ = hits = catalog[:4]
    for rank, song in enumerate(hits):
        play(song, times=10 - rank)
    assert ids(client.get(TRENDING)) == [song.pk for song in hits]

    Song.objects.filter(pk=gone.pk).delete()  # its plays go with it
    Song.objects.filter(pk=renamed.pk).update(title="New Title")

    for _ in range(ROUNDS):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(TRENDING)
        assert not reads_plays(queries)  # still the cached ranking
        answer = ids(response)  # status 200, then the ids
        assert answer[:3] == [song.pk for song in hits[1:]]
        assert gone.pk not in answer
        assert len(set(answer)) == 4  # topped up at random
        assert response.json()[0]["title"] == "New Title"


# --- Made for you ---------------------------------------------------------------------


def test_made_for_you_draws_from_the_artists_a_listener_plays(
    client: Client, make_song, make_user, user, catalog
):
    favourites = [make_song(f"Fav {number}", "Nina Hertz") for number in range(5)]
    play(favourites[0], user, times=3)
    play(catalog[0], make_user(), times=9)  # another listener's taste is not this one's
    signed_in = Client(headers=bearer(user))

    for _ in range(ROUNDS):
        answer = ids(signed_in.get(MADE_FOR_YOU))
        assert len(answer) == 4
        assert set(answer) <= {song.pk for song in favourites}


def test_made_for_you_tops_up_at_random_when_the_taste_is_narrow(
    client: Client, make_song, user, catalog
):
    liked = make_song("Only One", "Nina Hertz")
    play(liked, user)
    signed_in = Client(headers=bearer(user))

    for _ in range(ROUNDS):
        answer = ids(signed_in.get(MADE_FOR_YOU))
        assert answer[0] == liked.pk
        assert len(set(answer)) == 4


def test_made_for_you_with_a_bad_token_answers_as_for_anyone(client: Client, catalog, user):
    # A listener's history that a valid token would bring up first.
    play(catalog[7], user, times=5)

    response = client.get(MADE_FOR_YOU, headers={"Authorization": "Bearer not-a-token"})

    answer = ids(response)
    assert len(set(answer)) == 4
    assert set(answer) <= {song.pk for song in catalog}
    # Random picks for anyone: across rounds the history's song does not always lead.
    leaders = {
        ids(client.get(MADE_FOR_YOU, headers={"Authorization": "Bearer x"}))[0]
        for _ in range(ROUNDS)
    }
    assert leaders != {catalog[7].pk}


def test_plays_recorded_through_the_api_feed_trending_and_made_for_you(make_song, user, catalog):
    liked = make_song("Hook", "Nina Hertz")
    signed_in = Client(headers=bearer(user))

    assert signed_in.post(f"/api/songs/{liked.pk}/plays/").status_code == HTTPStatus.CREATED
    assert signed_in.post(f"/api/songs/{liked.pk}/plays/").status_code == HTTPStatus.CREATED

    assert ids(signed_in.get(TRENDING))[0] == liked.pk
    assert ids(signed_in.get(MADE_FOR_YOU))[0] == liked.pk


def test_made_for_you_follows_the_listeners_plays_once_the_interval_has_passed(
    make_song, settings, user, catalog
):
    settings.DISCOVERY_REFRESH_SECONDS = 60
    first_love = make_song("Only One", "Nina Hertz")
    new_loves = {make_song(f"New {number}", "Otto Wave").pk for number in range(5)}
    play(first_love, user)
    signed_in = Client(headers=bearer(user))
    assert ids(signed_in.get(MADE_FOR_YOU))[0] == first_love.pk

    play(Song.objects.get(pk=min(new_loves)), user, times=3)
    with CaptureQueriesContext(connection) as queries:
        assert ids(signed_in.get(MADE_FOR_YOU))[0] == first_love.pk
    assert not reads_plays(queries)  # within the interval: as computed

    settings.DISCOVERY_REFRESH_SECONDS = 0  # the interval has passed
    for _ in range(ROUNDS):
        answer = set(ids(signed_in.get(MADE_FOR_YOU)))
        assert answer <= new_loves | {first_love.pk}
        assert len(answer & new_loves) >= 3


def test_cached_made_for_you_leaves_out_deleted_songs(make_song, settings, user, catalog):
    settings.DISCOVERY_REFRESH_SECONDS = 60
    favourites = [make_song(f"Fav {number}", "Nina Hertz") for number in range(5)]
    play(favourites[0], user, times=3)
    signed_in = Client(headers=bearer(user))
    assert set(ids(signed_in.get(MADE_FOR_YOU))) <= {song.pk for song in favourites}

    Song.objects.filter(pk__in=[song.pk for song in favourites[:3]]).delete()

    for _ in range(ROUNDS):
        answer = ids(signed_in.get(MADE_FOR_YOU))
        assert answer[:2] in (
            [favourites[3].pk, favourites[4].pk],
            [favourites[4].pk, favourites[3].pk],
        )
        assert len(set(answer)) == 4  # topped up at random
        assert not {song.pk for song in favourites[:3]} & set(answer)


# --- Cost -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "most_queries", "signed_in"),
    [(FEATURED, 4, False), (TRENDING, 6, False), (MADE_FOR_YOU, 4, False), (MADE_FOR_YOU, 7, True)],
)
def test_discovery_never_orders_the_table_at_random_and_runs_few_queries(
    make_song, user, url, most_queries, signed_in
):
    for number in range(40):
        song = make_song(f"Song {number}", f"Artist {number % 3}")
        if number % 4 == 0:
            play(song, user)
    caller = Client(headers=bearer(user)) if signed_in else Client()

    for _ in range(ROUNDS):
        with CaptureQueriesContext(connection) as queries:
            assert len(ids(caller.get(url))) in (4, 6)
        assert len(queries) <= most_queries
        assert not any("random" in query["sql"].lower() for query in queries)


def large_catalog_with_gaps() -> None:
    """20,000 songs (rows only) with a few ids far below the rest: nearly every probe lands
    in the gap and finds the same song, so answers are completed by the walk as well."""
    ids = [*range(1, 6), *range(1_000_000, 1_020_000)]
    Song.objects.bulk_create(
        Song(pk=pk, title=f"Song {pk}", **credited("Bulk"), duration=60, audio=f"songs/{pk}.wav")
        for pk in ids
    )
    _analyze()


def _analyze() -> None:
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def plans_of(queries: CaptureQueriesContext, explain: str) -> list[str]:
    plans = []
    for query in queries:
        with connection.cursor() as cursor:
            cursor.execute(f"{explain} {query['sql']}")
            plans.append("\n".join(" ".join(map(str, row)) for row in cursor.fetchall()))
    return plans


def random_songs_queries() -> CaptureQueriesContext:
    with CaptureQueriesContext(connection) as queries:
        songs = discovery.random_songs(count=6)
    assert len({song.pk for song in songs}) == 6
    assert len(queries) >= 3  # the id bounds, the probes and the walk
    return queries


@pytest.mark.postgres_only
def test_random_songs_reads_songs_by_primary_key_on_postgresql(db):
    large_catalog_with_gaps()

    for plan in plans_of(random_songs_queries(), "EXPLAIN"):
        assert "Seq Scan on catalog_song" not in plan, plan
        assert "catalog_song_pkey" in plan, plan


@pytest.mark.sqlite_only
def test_random_songs_reads_songs_by_primary_key_on_sqlite(db):
    large_catalog_with_gaps()

    for plan in plans_of(random_songs_queries(), "EXPLAIN QUERY PLAN"):
        assert "SCAN catalog_song" not in plan, plan
        assert "SEARCH catalog_song" in plan, plan


@pytest.mark.postgres_only
def test_trending_and_made_for_you_read_plays_through_their_indexes_on_postgresql(user):
    songs = Song.objects.bulk_create(
        Song(title=f"Song {n}", **credited(f"Artist {n}"), duration=60, audio=f"songs/{n}.wav")
        for n in range(50)
    )
    long_ago = timezone.now() - timedelta(days=400)
    # A year of plays by everyone, a few this week, and one listener's history.
    Play.objects.bulk_create(
        Play(song=songs[n % 50], played_at=long_ago + timedelta(minutes=n)) for n in range(30_000)
    )
    play(songs[0], times=5)
    for song in songs[:10]:
        play(song, user, days_ago=30)
    _analyze()

    with CaptureQueriesContext(connection) as trending:
        discovery.songs_trending()
    with CaptureQueriesContext(connection) as made_for_you:
        discovery.songs_made_for(user=user)

    week_plan = plans_of(trending, "EXPLAIN")[0]
    history_plan = plans_of(made_for_you, "EXPLAIN")[0]
    assert "catalog_play_recent_idx" in week_plan, week_plan
    assert "Seq Scan on catalog_play" not in week_plan, week_plan
    assert "catalog_play_user_idx" in history_plan, history_plan
    assert "Seq Scan on catalog_play" not in history_plan, history_plan


def taste_queries(user) -> CaptureQueriesContext:
    """The queries that find a listener's made-for-you candidates in 20,000 songs (1,000
    albums of 20, 200 artists), for a listener who played songs of many of them."""
    Album.objects.bulk_create(
        Album(pk=pk, title=f"Album {pk}", **credited(f"Artist {pk % 200}"))
        for pk in range(1, 1_001)
    )
    Song.objects.bulk_create(
        Song(
            pk=pk,
            title=f"Song {pk}",
            **credited(f"Artist {pk % 200}"),
            album_id=(pk - 1) // 20 + 1,
            duration=60,
            audio=f"songs/{pk}.wav",
        )
        for pk in range(1, 20_001)
    )
    Play.objects.bulk_create(
        Play(song_id=pk, user=user, played_at=timezone.now() - timedelta(minutes=pk))
        for pk in [*range(1, 20_001, 397), *[7_001] * 5]
    )
    _analyze()
    with CaptureQueriesContext(connection) as queries:
        candidates = discovery._taste_song_ids(user)
    # The 20 first songs of each of 5 artists, and the 20 songs of each of 5 albums.
    assert 100 < len(candidates) <= 200
    assert set(Song.objects.filter(album_id=351).values_list("pk", flat=True)) <= set(candidates)
    assert len(queries) == 2  # the listener's latest plays, the candidates
    return queries


@pytest.mark.postgres_only
def test_made_for_you_candidates_are_index_ranges_on_postgresql(user):
    _, taste_plan = plans_of(taste_queries(user), "EXPLAIN")

    assert "Seq Scan" not in taste_plan, taste_plan
    assert "catalog_song_artist_idx" in taste_plan, taste_plan
    assert "catalog_song_album_order_idx" in taste_plan, taste_plan


@pytest.mark.sqlite_only
def test_made_for_you_candidates_are_index_ranges_on_sqlite(user):
    _, taste_plan = plans_of(taste_queries(user), "EXPLAIN QUERY PLAN")

    assert "SCAN catalog_song" not in taste_plan, taste_plan
    assert "catalog_song_artist_idx (artist=? AND id<?)" in taste_plan, taste_plan
    assert "catalog_song_album_order_idx (album_id=?)" in taste_plan, taste_plan
