"""search3: the engine of /api/search/ (the same rows, ranked the same), paged per kind, and
everything for an empty query, page by page."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from catalog.models import Song
from subsonic import ids
from subsonic.tests.calls import answer, api_key, call, error_of
from subsonic.tests.sample_catalog import SampleCatalog


def search3(client: Client, secret: str, **params) -> dict:
    return answer(call(client, "search3", api_key(secret), **params))["searchResult3"]


@pytest.fixture
def pressings(make_album, make_song) -> None:
    """Rows that several terms find, in several kinds."""
    for number in range(4):
        album = make_album(f"Blue Session {number}", f"Blue Note Quartet {number}")
        make_song(f"Blue in Green {number}", f"Blue Note Quartet {number}", album=album)
    make_song("Bluesette", "Toots Thielemans")
    make_song("Green Dolphin Street", "Bill Evans")


@pytest.mark.parametrize("term", ["blue", "BLUE", "green", "note quartet 2", "coltrane", "zzz"])
def test_search3_finds_what_the_rest_search_finds_in_the_same_order(
    client: Client, secret: str, sample: SampleCatalog, pressings, term: str
):
    rest = client.get("/api/search/", {"q": term, "limit": 20}).json()

    found = search3(client, secret, query=term)

    assert [item["id"] for item in found["song"]] == [ids.song_id(s["id"]) for s in rest["songs"]]
    assert [item["id"] for item in found["album"]] == [
        ids.album_id(a["id"]) for a in rest["albums"]
    ]
    assert [item["id"] for item in found["artist"]] == [
        ids.artist_id(a["id"]) for a in rest["artists"]
    ]


def test_each_kind_pages_by_its_count_and_offset(
    client: Client, secret: str, sample: SampleCatalog, pressings
):
    whole = search3(client, secret, query="blue", songCount=100)

    page = search3(
        client, secret, query="blue", songCount=2, songOffset=1, albumCount=1, artistCount=0
    )

    assert [item["id"] for item in page["song"]] == [item["id"] for item in whole["song"][1:3]]
    assert [item["id"] for item in page["album"]] == [whole["album"][0]["id"]]
    assert page["artist"] == []


def test_albums_found_carry_their_song_count_and_duration(
    client: Client, secret: str, sample: SampleCatalog
):
    found = search3(client, secret, query="blue train")

    assert found["album"] == [
        {
            "id": ids.album_id(sample.blue_train.pk),
            "name": "Blue Train",
            "artist": "John Coltrane",
            "artistId": ids.artist_id(sample.coltrane.pk),
            "coverArt": ids.album_id(sample.blue_train.pk),
            "songCount": 2,
            "duration": 2,
            "created": found["album"][0]["created"],
            "year": 1957,
            "genres": [],
        }
    ]


@pytest.mark.parametrize("query", ["", '""', "  "])
def test_an_empty_query_pages_through_everything(
    client: Client, secret: str, sample: SampleCatalog, query: str
):
    song_ids = [ids.song_id(pk) for pk in Song.objects.order_by("pk").values_list("pk", flat=True)]

    first = search3(client, secret, query=query, songCount=4, albumCount=1, artistCount=2)
    rest = search3(client, secret, query=query, songCount=4, songOffset=4, albumOffset=1)

    assert [song["id"] for song in first["song"] + rest["song"]] == song_ids
    assert [album["name"] for album in first["album"] + rest["album"]] == [
        "Blue Train",
        "Abbey Road",
    ]
    assert [artist["name"] for artist in first["artist"]] == ["John Coltrane", "The Beatles"]
    assert [artist["name"] for artist in rest["artist"]] == [
        "John Coltrane",
        "The Beatles",
        "Édith Piaf",
        "2 Mello",
    ]


def test_a_page_past_the_ranked_matches_is_empty(client: Client, secret: str, sample):
    found = search3(client, secret, query="blue", songOffset=1000, albumOffset=5000)

    assert (found["song"], found["album"]) == ([], [])


def test_the_query_is_required_and_counts_are_numbers(client: Client, secret: str):
    assert error_of(call(client, "search3", api_key(secret))) == {
        "code": 10,
        "message": "Required parameter is missing: query.",
    }
    assert error_of(call(client, "search3", api_key(secret), query="a", songCount="x")) == {
        "code": 0,
        "message": "songCount must be a whole number of at most 18 digits.",
    }


def test_a_search_costs_one_query_per_kind_whatever_the_page(
    client: Client, secret: str, sample: SampleCatalog, pressings, django_assert_num_queries
):
    call(client, "ping", api_key(secret))

    # The sign-in; the vocabulary's word on the term (once for the three kinds: issue 22);
    # artists, albums (then their durations), songs, the listener's stars and ratings of
    # the songs (one query).
    with django_assert_num_queries(7):
        small = search3(client, secret, query="blue", songCount=1, albumCount=1, artistCount=1)
    with django_assert_num_queries(7):
        # (Before issue 22 "e" was found inside every title; now it is the start of a word.)
        large = search3(client, secret, query="blu", songCount=50, albumCount=50, artistCount=50)
    # Everything: the sign-in, one query per kind, the stars and ratings of the songs.
    with django_assert_num_queries(5):
        everything = search3(client, secret, query="", songCount=500, albumCount=500)

    assert len(small["song"]) == 1
    assert len(large["song"]) > 2
    assert len(large["album"]) > 1
    assert len(everything["song"]) == Song.objects.count()


def test_copying_the_library_page_by_page_reads_each_page_after_the_last(
    client: Client, secret: str, make_song
):
    songs = [make_song(f"Track {number}", "Copyist") for number in range(7)]
    song_ids = [ids.song_id(song.pk) for song in songs]

    first = search3(client, secret, query="", songCount=3, albumCount=0, artistCount=0)
    songs[1].delete()  # on a page already copied: the next pages shift, nothing is skipped
    with CaptureQueriesContext(connection) as queries:
        second = search3(
            client, secret, query="", songCount=3, songOffset=3, albumCount=0, artistCount=0
        )
    (read,) = [query["sql"] for query in queries if "catalog_song" in query["sql"]]
    third = search3(client, secret, query="", songCount=3, songOffset=6, artistCount=0)
    elsewhere = search3(client, secret, query="", songCount=2, songOffset=1, artistCount=0)

    copied = [song["id"] for song in first["song"] + second["song"] + third["song"]]
    assert copied == song_ids
    # The second page: the songs after the first page's last, an index range, no offset.
    assert "OFFSET" not in read.upper()
    assert f'"catalog_song"."id" > {songs[2].pk}' in read
    # A page no one asked before is read by its offset, of the songs there are now.
    assert [song["id"] for song in elsewhere["song"]] == song_ids[2:4]
