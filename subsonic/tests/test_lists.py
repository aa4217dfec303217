"""The album lists of getAlbumList2 (and getAlbumList) by type, getRandomSongs: what each
answers, its paging and bounds, its refusals, and its cost in queries."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from catalog.models import Album, Play, Song
from library import services
from subsonic import ids
from subsonic.endpoints.lists import ListType
from subsonic.tests.calls import answer, api_key, call, error_of
from subsonic.tests.sample_catalog import SampleCatalog
from users.models import User


def album_names(response) -> list[str]:
    return [album["name"] for album in answer(response)["albumList2"]["album"]]


def album_list(client: Client, secret: str, **params) -> list[str]:
    return album_names(call(client, "getAlbumList2", api_key(secret), **params))


@pytest.fixture
def shelf(make_album, make_song) -> list[Album]:
    """Five albums, added in this order, two songs each."""
    albums = [
        make_album("Kind of Blue", "Miles Davis", release_year=1959),
        make_album("A Love Supreme", "John Coltrane", release_year=1965),
        make_album("Mingus Ah Um", "Charles Mingus", release_year=1959),
        make_album("Time Out", "Dave Brubeck", release_year=1959),
        make_album("Bitches Brew", "Miles Davis", release_year=1970),
    ]
    for album in albums:
        for number in (1, 2):
            make_song(f"{album.title} {number}", album.artist_name, album=album)
    return albums


def played(user: User | None, album: Album, *, times: int, days_ago: float = 1) -> None:
    song = Song.objects.filter(album=album).first()
    moment = timezone.now() - timedelta(days=days_ago)
    Play.objects.bulk_create(Play(song=song, user=user, played_at=moment) for _ in range(times))


def test_newest_and_alphabetical_lists_page_with_size_and_offset(
    client: Client, secret: str, shelf
):
    newest = album_list(client, secret, type="newest")
    by_name = album_list(client, secret, type="alphabeticalByName", size=2, offset=1)
    by_artist = album_list(client, secret, type="alphabeticalByArtist")

    assert newest == [album.title for album in reversed(shelf)]
    assert by_name == ["Bitches Brew", "Kind of Blue"]
    # By the credited artist, then in the order they were added.
    assert by_artist == [
        "Mingus Ah Um",
        "Time Out",
        "A Love Supreme",
        "Kind of Blue",
        "Bitches Brew",
    ]


def test_albums_come_with_their_song_count_and_duration(client: Client, secret: str, shelf):
    (first,) = answer(call(client, "getAlbumList2", api_key(secret), type="newest", size=1))[
        "albumList2"
    ]["album"]

    assert first == {
        "id": ids.album_id(shelf[-1].pk),
        "name": "Bitches Brew",
        "artist": "Miles Davis",
        "artistId": ids.artist_id(shelf[-1].artist_id),
        "songCount": 2,
        "duration": 2,
        "created": first["created"],
        "year": 1970,
        "genres": [],
    }


def test_size_is_10_by_default_and_at_most_500(client: Client, secret: str, make_album):
    Album.objects.bulk_create(
        Album(title=f"Album {number:03}", artist=make_album().artist, artist_name="Various")
        for number in range(502)
    )

    default = album_list(client, secret, type="alphabeticalByName")
    largest = album_list(client, secret, type="alphabeticalByName", size=100000)
    none = call(client, "getAlbumList2", api_key(secret), type="alphabeticalByName", size=0)

    assert default == [f"Album {number:03}" for number in range(10)]
    assert len(largest) == 500
    assert error_of(none) == {"code": 0, "message": "size must be at least 1."}


def test_by_year_runs_oldest_first_or_newest_first_when_from_is_later(
    client: Client, secret: str, shelf
):
    forward = album_list(client, secret, type="byYear", fromYear=1959, toYear=1965)
    backward = album_list(client, secret, type="byYear", fromYear=1970, toYear=1960)

    assert forward == ["Kind of Blue", "Mingus Ah Um", "Time Out", "A Love Supreme"]
    assert backward == ["Bitches Brew", "A Love Supreme"]


def test_frequent_is_the_listeners_most_played_with_their_play_count(
    client: Client, secret: str, shelf, listener, make_user
):
    played(listener, shelf[2], times=3)
    played(listener, shelf[0], times=1)
    played(make_user(), shelf[4], times=9)  # someone else's plays do not count
    played(None, shelf[3], times=9)
    services.album_rate(user=listener, album_id=shelf[1].pk, rating=5)  # rated, never played

    frequent = answer(call(client, "getAlbumList2", api_key(secret), type="frequent"))
    paged = album_list(client, secret, type="frequent", offset=1)

    albums = frequent["albumList2"]["album"]
    assert [(album["name"], album["playCount"]) for album in albums] == [
        ("Mingus Ah Um", 3),
        ("Kind of Blue", 1),
    ]
    assert paged == ["Kind of Blue"]


def test_highest_is_the_listeners_best_rated_then_most_played(
    client: Client, secret: str, shelf, listener, make_user
):
    played(listener, shelf[2], times=3)  # Mingus Ah Um: played most, not rated
    played(listener, shelf[0], times=1)  # Kind of Blue: rated 4, played once
    played(listener, shelf[3], times=2)  # Time Out: rated 4, played twice
    services.album_rate(user=listener, album_id=shelf[0].pk, rating=4)
    services.album_rate(user=listener, album_id=shelf[3].pk, rating=4)
    services.album_rate(user=listener, album_id=shelf[1].pk, rating=5)  # never played
    services.album_rate(user=make_user(), album_id=shelf[4].pk, rating=5)  # someone else's
    played(make_user(), shelf[4], times=9)

    highest = answer(call(client, "getAlbumList2", api_key(secret), type="highest"))
    paged = album_list(client, secret, type="highest", offset=1, size=2)
    folders = answer(call(client, "getAlbumList", api_key(secret), type="highest", size=1))

    albums = highest["albumList2"]["album"]
    assert [(a["name"], a.get("userRating"), a["playCount"]) for a in albums] == [
        ("A Love Supreme", 5, 0),
        ("Time Out", 4, 2),
        ("Kind of Blue", 4, 1),
        ("Mingus Ah Um", None, 3),
    ]
    assert paged == ["Time Out", "Kind of Blue"]
    [first] = folders["albumList"]["album"]
    assert (first["title"], first["userRating"]) == ("A Love Supreme", 5)


def test_every_list_shows_the_listeners_own_album_ratings(
    client: Client, secret: str, shelf, listener, make_user
):
    services.album_rate(user=listener, album_id=shelf[0].pk, rating=3)
    services.album_rate(user=make_user(), album_id=shelf[4].pk, rating=5)

    albums = answer(call(client, "getAlbumList2", api_key(secret), type="alphabeticalByName"))

    ratings = {a["name"]: a.get("userRating") for a in albums["albumList2"]["album"]}
    assert ratings == {album.title: (3 if album == shelf[0] else None) for album in shelf}


def test_recent_is_what_the_listener_played_the_latest_first(
    client: Client, secret: str, shelf, listener, make_user
):
    played(listener, shelf[0], times=5, days_ago=3)
    played(listener, shelf[1], times=1, days_ago=2)
    played(listener, shelf[0], times=1, days_ago=1)
    played(make_user(), shelf[4], times=1, days_ago=0)

    assert album_list(client, secret, type="recent") == ["Kind of Blue", "A Love Supreme"]


def test_random_answers_distinct_albums(client: Client, secret: str, shelf):
    for _ in range(5):
        picked = album_list(client, secret, type="random", size=3)
        assert len(set(picked)) == 3
        assert set(picked) <= {album.title for album in shelf}
    assert sorted(album_list(client, secret, type="random", size=50)) == sorted(
        album.title for album in shelf
    )


def test_starred_and_by_genre_are_empty_until_albums_have_stars_and_genres(
    client: Client, secret: str, shelf
):
    assert album_list(client, secret, type="starred") == []
    assert album_list(client, secret, type="byGenre", genre="Jazz") == []


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({}, {"code": 10, "message": "Required parameter is missing: type."}),
        (
            {"type": "best"},
            {
                "code": 0,
                "message": "Unknown list type: best. One of: random, newest, highest, "
                "frequent, recent, alphabeticalByName, alphabeticalByArtist, starred, "
                "byYear, byGenre.",
            },
        ),
        (
            {"type": "byYear", "fromYear": 1959},
            {"code": 10, "message": "Required parameter is missing: toYear."},
        ),
        (
            {"type": "byYear", "fromYear": "late", "toYear": 1960},
            {
                "code": 0,
                "message": "fromYear must be a whole number of at most 18 digits.",
            },
        ),
        ({"type": "byGenre"}, {"code": 10, "message": "Required parameter is missing: genre."}),
        (
            {"type": "random", "fromYear": 0, "toYear": "AAA"},  # not used, still checked
            {"code": 0, "message": "toYear must be a whole number of at most 18 digits."},
        ),
        (
            {"type": "newest", "size": "-1"},
            {"code": 0, "message": "size must be a whole number of at most 18 digits."},
        ),
        (
            {"type": "newest", "offset": "1e3"},
            {
                "code": 0,
                "message": "offset must be a whole number of at most 18 digits.",
            },
        ),
    ],
)
def test_a_bad_list_request_is_refused_with_its_reason(
    client: Client, secret: str, params: dict, error: dict
):
    for name in ("getAlbumList2", "getAlbumList"):
        assert error_of(call(client, name, api_key(secret), **params)) == error


@pytest.mark.parametrize("kind", list(ListType))
def test_each_list_costs_the_same_queries_whatever_its_size(
    client: Client,
    secret: str,
    shelf,
    listener,
    kind: ListType,
    django_assert_num_queries,
    django_assert_max_num_queries,
):
    for album in shelf:
        played(listener, album, times=1)
    params = {"type": kind.value, "fromYear": 1900, "toYear": 2000, "genre": "Jazz"}
    call(client, "ping", api_key(secret))
    # The sign-in and the page, one more for the lists ranked by plays (two for highest:
    # the listener's album ratings too), and the listener's stars and ratings of the albums
    # listed (none for an empty list: no starred album, no Jazz album).
    expected = {ListType.FREQUENT: 5, ListType.HIGHEST: 6, ListType.RECENT: 5}.get(kind, 4)
    expected = {ListType.STARRED: 2, ListType.BY_GENRE: 2}.get(kind, expected)

    def counted():
        if kind is ListType.RANDOM:
            # The id bounds, the ids drawn, probes and a walk (wrapping: two reads) for what
            # they missed, then the stars and ratings.
            return django_assert_max_num_queries(8)
        return django_assert_num_queries(expected)

    with counted():
        one = answer(call(client, "getAlbumList2", api_key(secret), size=1, **params))
    with counted():
        five = answer(call(client, "getAlbumList2", api_key(secret), size=5, **params))

    empty = kind in (ListType.STARRED, ListType.BY_GENRE)
    assert len(one["albumList2"]["album"]) == (0 if empty else 1)
    assert len(five["albumList2"]["album"]) == (0 if empty else 5)


def test_get_album_list_answers_the_same_albums_as_folders(client: Client, secret: str, shelf):
    folders = answer(call(client, "getAlbumList", api_key(secret), type="newest", size=2))
    id3 = answer(call(client, "getAlbumList2", api_key(secret), type="newest", size=2))

    children = folders["albumList"]["album"]
    assert [child["id"] for child in children] == [
        album["id"] for album in id3["albumList2"]["album"]
    ]
    assert children[0] == {
        "id": ids.album_id(shelf[-1].pk),
        "parent": ids.artist_id(shelf[-1].artist_id),
        "isDir": True,
        "title": "Bitches Brew",
        "album": "Bitches Brew",
        "artist": "Miles Davis",
        "duration": 2,
        "created": children[0]["created"],
        "artistId": ids.artist_id(shelf[-1].artist_id),
        "mediaType": "album",
        "year": 1970,
    }


# --- getRandomSongs -------------------------------------------------------------------


def random_titles(client: Client, secret: str, **params) -> list[str]:
    response = call(client, "getRandomSongs", api_key(secret), **params)
    return [song["title"] for song in answer(response)["randomSongs"]["song"]]


def test_random_songs_are_distinct_and_as_many_as_asked(
    client: Client, secret: str, sample: SampleCatalog
):
    every = {song.title for song in Song.objects.all()}

    for _ in range(5):
        picked = random_titles(client, secret, size=4)
        assert len(set(picked)) == 4
        assert set(picked) <= every
    assert sorted(random_titles(client, secret)) == sorted(every)  # 10 by default


def test_random_songs_of_years_are_songs_of_albums_released_then(
    client: Client, secret: str, sample: SampleCatalog
):
    for _ in range(5):
        assert sorted(random_titles(client, secret, fromYear=1950, toYear=1960)) == [
            "Blue Train",
            "Moment's Notice",
        ]
    assert random_titles(client, secret, fromYear=1960) == ["Come Together"]
    assert random_titles(client, secret, toYear=1960, size=1)[0] in (
        "Blue Train",
        "Moment's Notice",
    )
    assert random_titles(client, secret, fromYear=1970, toYear=1960) == ["Come Together"]
    assert random_titles(client, secret, fromYear=2000) == []


def test_random_songs_of_a_genre_are_none_until_songs_have_genres(
    client: Client, secret: str, sample: SampleCatalog
):
    assert random_titles(client, secret, genre="Jazz") == []


def test_random_songs_cost_few_queries_whatever_their_number(
    client: Client,
    secret: str,
    sample: SampleCatalog,
    django_assert_num_queries,
    django_assert_max_num_queries,
):
    call(client, "ping", api_key(secret))

    # The sign-in, the id bounds, the ids drawn, probes and a walk (wrapping) for the rest,
    # then the listener's stars and ratings of the songs.
    with django_assert_max_num_queries(7):
        answer(call(client, "getRandomSongs", api_key(secret), size=50))
    # The sign-in, the albums of those years, their songs' ids, the songs picked, the
    # listener's stars and ratings.
    with django_assert_num_queries(5):
        answer(call(client, "getRandomSongs", api_key(secret), size=50, fromYear=1900))
