"""The one search box: songs, albums, artists and playlists in one call, best match first."""

from http import HTTPStatus

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from catalog import services as catalog_services
from catalog.models import Artist
from catalog.search import ARTISTS, SONGS
from catalog.selectors.rows import song_rows
from core.search import Matches, Query
from core.text import BLANK, CONTROL_CHARACTERS
from library.models import Playlist
from library.selectors import PLAYLISTS
from tests.api_shapes import album_out, playlist_out, song_out
from tests.helpers import bearer

SEARCH = "/api/search/"


def names(body: dict, kind: str) -> list[str]:
    return [item.get("title") or item.get("name") for item in body[kind]]


def artist_body(name: str, *, song_count: int, album_count: int) -> dict:
    artist = Artist.objects.get(name=name)
    return {
        "id": artist.pk,
        "name": name,
        "image_url": None,
        "song_count": song_count,
        "album_count": album_count,
    }


@pytest.fixture
def catalog(make_song, make_album, make_user, make_playlist):
    """Titles where "blue" is the whole title, a whole word (in a title, an artist or an
    album) and a prefix: best first is the same order on PostgreSQL and SQLite."""
    train = make_album("Blue Train", "John Coltrane")
    kind = make_album("Kind of Blue", "Miles Davis")
    songs = {
        "Kind of Blue": make_song("Kind of Blue", "Miles Davis", album=kind),
        "Blue": make_song("Blue", "Joni Mitchell"),
        "Blue Train": make_song("Blue Train", "John Coltrane", album=train),
        "Naima": make_song("Naima", "John Coltrane", album=train),
        "Bluesy": make_song("Bluesy", "Blue Note Trio"),  # an artist named with the term too
    }
    owner = make_user(full_name="Ana Owner")
    playlists = {
        "Blue Monday mix": make_playlist(owner, "Blue Monday mix", is_public=True),
        "Blue": make_playlist(owner, "Blue", is_public=True, songs=[songs["Blue"]]),
        "Secret blue": make_playlist(owner, "Secret blue"),  # private: the owner's only
    }
    return {"songs": songs, "albums": {"train": train, "kind": kind}, "owner": owner, **playlists}


def test_one_call_answers_every_kind_best_match_first(client: Client, catalog):
    songs = catalog["songs"]

    response = client.get(SEARCH, {"q": "blue"})

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {
        # The whole title, then the songs with "blue" as a whole word in a title, artist or
        # album title (Naima, by its album: issue 22), newer first.
        "songs": [
            song_out(songs["Blue"]),
            song_out(songs["Bluesy"]),
            song_out(songs["Naima"]),
            song_out(songs["Blue Train"]),
            song_out(songs["Kind of Blue"]),
        ],
        "albums": [
            album_out(catalog["albums"]["kind"], song_count=1),
            album_out(catalog["albums"]["train"], song_count=2),
        ],
        "artists": [artist_body("Blue Note Trio", song_count=1, album_count=0)],
        "playlists": [
            playlist_out(catalog["Blue"], song_count=1, duration=1),
            playlist_out(catalog["Blue Monday mix"], song_count=0, duration=0),
        ],
    }


def test_the_limit_is_per_kind(client: Client, catalog):
    body = client.get(SEARCH, {"q": "blue", "limit": 2}).json()

    assert names(body, "songs") == ["Blue", "Bluesy"]
    assert names(body, "albums") == ["Kind of Blue", "Blue Train"]
    assert names(body, "playlists") == ["Blue", "Blue Monday mix"]
    assert len(client.get(SEARCH, {"q": "blue", "limit": 1}).json()["songs"]) == 1


def test_case_does_not_matter(client: Client, catalog):
    assert client.get(SEARCH, {"q": "BLUE"}).json() == client.get(SEARCH, {"q": "blue"}).json()


def test_artists_are_found_by_the_credited_name_of_songs_and_albums(client: Client, catalog):
    body = client.get(SEARCH, {"q": "coltrane"}).json()

    assert names(body, "songs") == ["Naima", "Blue Train"]  # equal rank: the newer first
    assert names(body, "albums") == ["Blue Train"]
    assert body["artists"] == [artist_body("John Coltrane", song_count=2, album_count=1)]
    assert body["playlists"] == []


def test_private_playlists_are_found_by_their_owner_only(client: Client, make_user, catalog):
    owner = catalog["owner"]

    anonymous = client.get(SEARCH, {"q": "secret"}).json()
    stranger = client.get(SEARCH, {"q": "secret"}, headers=bearer(make_user())).json()
    own = client.get(SEARCH, {"q": "secret"}, headers=bearer(owner)).json()

    assert anonymous["playlists"] == stranger["playlists"] == []
    assert own["playlists"] == [playlist_out(catalog["Secret blue"], song_count=0, duration=0)]
    found = names(client.get(SEARCH, {"q": "blue"}, headers=bearer(owner)).json(), "playlists")
    assert found[0] == "Blue"
    assert sorted(found[1:]) == ["Blue Monday mix", "Secret blue"]


def test_a_term_found_nowhere_answers_empty_lists(client: Client, catalog):
    assert client.get(SEARCH, {"q": "zzz"}).json() == {
        "songs": [],
        "albums": [],
        "artists": [],
        "playlists": [],
    }


def test_punctuation_separates_words(client: Client, make_song):
    # Before issue 22 "100%" was one literal piece of a title; now it is the word "100",
    # whole first, then as the start of another.
    make_song("100% Pure")
    make_song("1000 Pure")

    assert names(client.get(SEARCH, {"q": "100%"}).json(), "songs") == ["100% Pure", "1000 Pure"]
    # A term of no word at all is looked for literally.
    assert names(client.get(SEARCH, {"q": "_"}).json(), "songs") == []


@pytest.mark.parametrize(
    ("query", "loc", "message"),
    [
        ({}, ["query", "q"], "Field required"),
        ({"q": ""}, ["query", "q"], BLANK),
        ({"q": "   "}, ["query", "q"], BLANK),
        ({"q": "blue\x00"}, ["query", "q"], CONTROL_CHARACTERS),
        ({"q": "blue\x1b"}, ["query", "q"], CONTROL_CHARACTERS),
        ({"q": "x" * 101}, ["query", "q"], None),
        ({"q": "blue", "limit": 0}, ["query", "limit"], None),
        ({"q": "blue", "limit": 21}, ["query", "limit"], None),
        ({"q": "blue", "limit": "many"}, ["query", "limit"], None),
    ],
)
def test_bad_terms_and_limits_are_a_422(client: Client, db, query, loc, message):
    response = client.get(SEARCH, query)

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    [error] = response.json()["detail"]
    assert error["loc"] == loc
    if message is not None:
        assert error["msg"] == message


def test_the_longest_term_is_taken(client: Client, make_song):
    make_song("x" * 100)

    assert names(client.get(SEARCH, {"q": "x" * 100}).json(), "songs") == ["x" * 100]


def test_a_search_costs_the_same_queries_whatever_the_limit(
    client: Client, make_song, make_album, make_user, make_playlist
):
    owner = make_user()
    album = make_album("Loop Album", "Loop Artist", image=True)
    for number in range(12):
        song = make_song(f"Loop {number}", f"Loop Artist {number}", album=album)
        make_playlist(owner, f"Loop list {number}", is_public=True, songs=[song])

    def queries(limit: int) -> int:
        cache.clear()  # nothing kept from the other limit's search
        with CaptureQueriesContext(connection) as captured:
            response = client.get(SEARCH, {"q": "loop", "limit": limit})
        assert response.status_code == HTTPStatus.OK
        body = response.json()
        assert len(body["songs"]) == len(body["playlists"]) == limit
        return len(captured)

    assert queries(1) == queries(10)


def test_a_search_is_one_select_per_kind(client: Client, make_song, make_user, make_playlist):
    make_song("Loop")
    make_playlist(make_user(), "Loop mix", is_public=True)

    with CaptureQueriesContext(connection) as captured:
        response = client.get(SEARCH, {"q": "loop"})

    assert response.status_code == HTTPStatus.OK
    assert names(response.json(), "songs") == ["Loop"]
    assert names(response.json(), "playlists") == ["Loop mix"]
    # The vocabulary's word on the term (once for the catalog's three kinds), then songs,
    # albums, artists; the playlists' vocabulary's word, then playlists: nothing else, on
    # SQLite and PostgreSQL alike (the typos: catalog's test_search_query_counts).
    assert [query["sql"].split()[0] for query in captured] == ["SELECT"] * 6


@pytest.mark.postgres_only
def test_accents_and_case_are_ignored_on_postgresql(client: Client, make_song, make_album):
    song = make_song("Halo", "Beyoncé")
    album = make_album("Lemonade", "Beyoncé")

    for term in ("beyonce", "BEYONCE", "Beyoncé"):
        body = client.get(SEARCH, {"q": term}).json()
        assert body["songs"] == [song_out(song)], term
        assert body["albums"] == [album_out(album, song_count=0)], term
        assert body["artists"] == [artist_body("Beyoncé", song_count=1, album_count=1)], term


def test_the_whole_title_ranks_first(client: Client, make_song):
    # Each holds the term's words; the whole title comes first, not the newest.
    for title in ("Song 99999 (live)", "Song 99999", "Song 999990", "Another Song 99999"):
        make_song(title, "Bench")

    body = client.get(SEARCH, {"q": "song 99999"}).json()

    assert names(body, "songs") == [
        "Song 99999",
        "Another Song 99999",  # every word whole, newer first
        "Song 99999 (live)",
        "Song 999990",  # the last word as a prefix
    ]


@pytest.mark.postgres_only
def test_postgresql_reads_the_text_and_trigram_indexes(make_song, make_user, make_playlist):
    owner = make_user()
    for number in range(30):
        make_song(f"Song {number}", f"Artist {number}")
        make_playlist(owner, f"List {number}", is_public=True)
    Artist.objects.bulk_create(
        Artist(name=f"Other {number}", name_key=f"other {number}") for number in range(2000)
    )
    with connection.cursor() as cursor:
        for table in ("catalog_song", "catalog_artist", "library_playlist"):
            cursor.execute(f"ANALYZE {table}")
        # What was just inserted waits in the GIN indexes' pending lists, which the planner
        # prices as a scan of the whole list: merge them, as autovacuum would.
        cursor.execute(
            "SELECT gin_clean_pending_list(indexrelid) FROM pg_index"
            " WHERE indexrelid::regclass::text LIKE '%%trgm_idx'"
            " OR indexrelid::regclass::text LIKE '%%search_idx'"
        )
        # Tables this small are cheapest to read whole or by another index: forbid both (for
        # this transaction only), which leaves bitmap scans, to show the indexes can answer.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")

    words = Query.of(["song", "1"])
    plans = [
        query.explain()
        for query in (
            song_rows().filter(Matches(SONGS, words))[:5],
            Artist.objects.filter(Matches(ARTISTS, Query.of(["other", "1"])))[:5],
            Playlist.objects.filter(Matches(PLAYLISTS, Query.of(["list", "1"])))[:5],
        )
    ]

    assert "catalog_song_search_idx" in plans[0], plans[0]
    assert "catalog_artist_search_idx" in plans[1], plans[1]
    assert "library_playlist_search_idx" in plans[2], plans[2]


def test_a_terms_ranking_is_kept_a_few_seconds_and_its_rows_read_fresh(
    client: Client, make_song, settings
):
    settings.SEARCH_CACHE_SECONDS = 10
    first, second = make_song("Loop One"), make_song("Loop Two")
    # As long as each other: the newer first.
    assert names(client.get(SEARCH, {"q": "loop"}).json(), "songs") == ["Loop Two", "Loop One"]

    first.title = "Loop One (remaster)"
    first.save()
    catalog_services.song_delete(song_id=second.pk)
    make_song("Loop")  # the best match, but after the ranking was kept

    again = client.get(SEARCH, {"q": "LOOP"}).json()  # the same term, any case
    assert names(again, "songs") == ["Loop One (remaster)"]
    assert again["songs"] == [song_out(first)]

    settings.SEARCH_CACHE_SECONDS = 0  # kept nothing: every search ranks afresh
    assert names(client.get(SEARCH, {"q": "loop"}).json(), "songs") == [
        "Loop",
        "Loop One (remaster)",
    ]


def test_a_kept_ranking_is_read_by_id_in_one_query_per_kind(
    client: Client, make_song, make_album, make_user, make_playlist, settings
):
    settings.SEARCH_CACHE_SECONDS = 10
    song = make_song("Loop", artist="Loop Artist", album=make_album("Loop Album", "Loop Artist"))
    playlist = make_playlist(make_user(), "Loop list", is_public=True, songs=[song])
    first = client.get(SEARCH, {"q": "loop"}).json()

    with CaptureQueriesContext(connection) as captured:
        response = client.get(SEARCH, {"q": "loop"})

    assert response.status_code == HTTPStatus.OK
    again = response.json()
    assert again == first
    assert [len(again[kind]) for kind in ("songs", "albums", "artists", "playlists")] == [1] * 4
    selects = [query["sql"] for query in captured if query["sql"].startswith("SELECT")]
    assert len(selects) == 4
    assert not any("LIKE" in sql for sql in selects)  # read by id, not searched again
    # A playlist made private meanwhile drops out of the kept ranking at once.
    playlist.is_public = False
    playlist.save()
    assert client.get(SEARCH, {"q": "loop"}).json()["playlists"] == []


def test_each_caller_keeps_a_ranking_of_the_playlists_they_see(
    client: Client, make_user, make_playlist, settings
):
    settings.SEARCH_CACHE_SECONDS = 10
    owner = make_user()
    make_playlist(owner, "Loop private")
    assert client.get(SEARCH, {"q": "loop"}).json()["playlists"] == []  # anonymous, kept

    mine = client.get(SEARCH, {"q": "loop"}, headers=bearer(owner)).json()["playlists"]

    assert [playlist["name"] for playlist in mine] == ["Loop private"]
