"""`?search=` on songs and albums: every word of the term in the title, artist (or a song's
album), the last as a prefix, ignoring case and accents, punctuation only separating words,
answered from the text indexes of catalog migration 0012 (core/search.py). The ranking of the
search box: test_search_relevance.py."""

from http import HTTPStatus

import pytest
from django.db import connection
from django.db.models import QuerySet
from django.test import Client

from catalog import search
from catalog.models import Album, Song
from catalog.selectors.albums import album_list
from catalog.selectors.songs import song_list
from tests.helpers import ON_POSTGRESQL, credited

SONGS = "/api/songs/"
ALBUMS = "/api/albums/"


def found(client: Client, url: str, term: str) -> list[str]:
    response = client.get(url, {"search": term})
    assert response.status_code == HTTPStatus.OK
    page = response.json()
    assert page["count"] == len(page["items"])
    return sorted(item["title"] for item in page["items"])


def add_songs(*titles_and_artists: tuple[str, str]) -> list[Song]:
    return Song.objects.bulk_create(
        Song(title=title, **credited(artist), duration=60, audio=f"songs/{n}.wav")
        for n, (title, artist) in enumerate(titles_and_artists)
    )


def test_search_ignores_case_in_title_and_artist(client: Client, make_album, db):
    add_songs(("Halo", "Beyoncé"), ("Crazy in Love", "Beyoncé"), ("Yellow", "Coldplay"))
    make_album("Café Society", "Various")
    make_album("Parachutes", "COLDPLAY")

    for term in ("beyon", "BEYON", "Beyoncé", "bEyOnCé"):
        assert found(client, SONGS, term) == ["Crazy in Love", "Halo"], term
    assert found(client, SONGS, "HALO") == ["Halo"]
    assert found(client, ALBUMS, "café") == ["Café Society"]
    assert found(client, ALBUMS, "Café soc") == ["Café Society"]
    assert found(client, ALBUMS, "coldplay") == ["Parachutes"]


@pytest.mark.postgres_only
def test_search_ignores_accents_on_postgresql(client: Client, make_album, db):
    add_songs(("Halo", "Beyoncé"), ("Straße", "Kraftwerk"), ("Yellow", "Coldplay"))
    make_album("Café Society", "Various")
    make_album("Cafeteria", "Nobody")
    make_album("Dark Side", "Pink Floyd")

    for term in ("beyonce", "BEYONCE", "Beyoncé", "BEYONCÉ", "Beyonce\u0301"):
        assert found(client, SONGS, term) == ["Halo"], term
    assert found(client, SONGS, "strasse") == ["Straße"]
    assert found(client, ALBUMS, "cafe") == ["Cafeteria", "Café Society"]
    assert found(client, ALBUMS, "CAFÉ SOCIETY") == ["Café Society"]


def test_punctuation_separates_words_and_is_never_an_operator(client: Client, make_album, db):
    # Before issue 22 a term was one literal piece of a title ("100%" found only "100% Pure");
    # now `%`, `_` and `\\` separate words like spaces, as the index cuts the titles.
    add_songs(
        ("100% Pure", "Band"),
        ("100 Pure", "Band"),
        ("snake_case", "Band"),
        ("snakecase", "Band"),
        ("back\\slash", "Band"),
        ("backslash", "Band"),
    )
    make_album("50% Off", "Sale")
    make_album("Fifty Off", "Sale")

    assert found(client, SONGS, "100%") == ["100 Pure", "100% Pure"]
    assert found(client, SONGS, "snake_case") == ["snake_case"]
    assert found(client, SONGS, "snake case") == ["snake_case"]
    assert found(client, SONGS, "back\\slash") == ["back\\slash"]
    assert found(client, SONGS, "backslash") == ["backslash"]
    assert found(client, ALBUMS, "50% off") == ["50% Off"]
    # A term without any letter or digit is looked for literally, `%` and `_` as themselves.
    assert found(client, SONGS, "%") == ["100% Pure"]
    assert found(client, SONGS, "_") == ["snake_case"]
    if ON_POSTGRESQL:
        # A fullwidth percent sign folds to "%", still taken literally.
        assert found(client, SONGS, "\uff05") == ["100% Pure"]


def plan(rows: QuerySet) -> str:
    sql, params = rows.query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            return "\n".join(row[-1] for row in cursor.fetchall())
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.postgres_only
def test_search_reads_the_text_indexes_on_postgresql(db):
    Album.objects.bulk_create(
        Album(title=f"Album {n}", **credited(f"Artist {n}")) for n in range(300)
    )
    add_songs(*((f"Song {n}", f"Artist {n % 40}") for n in range(2000)))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE catalog_song")
        cursor.execute("ANALYZE catalog_album")
        # Tables this small are cheapest to read whole, or in the list's order through the
        # created_at index while filtering: forbid both (for this transaction only), which
        # leaves bitmap scans, to show that the plan can answer from the indexes.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")

    songs = plan(song_list(search="Song 1999"))
    albums = plan(album_list(search="Album 299"))
    by_artist = plan(song_list(artist="artist 7"))

    assert "catalog_song_search_idx" in songs, songs
    assert "catalog_album_search_idx" in albums, albums
    assert "catalog_song_artist_upper_idx" in by_artist, by_artist


@pytest.mark.sqlite_only
def test_search_reads_the_fts5_tables_on_sqlite(db):
    add_songs(*((f"Song {n}", f"Artist {n % 40}") for n in range(200)))

    songs = plan(song_list(search="Song 199"))

    assert "catalog_song_search VIRTUAL TABLE INDEX" in songs, songs


def test_search_count_is_exact_for_few_rows_and_kept_briefly_for_many(monkeypatch, db):
    monkeypatch.setattr(search, "SEARCH_COUNT_CACHE_MIN_ROWS", 3)
    add_songs(("Blue Train", "John Coltrane"), ("Kind of Blue", "Miles Davis"))

    assert search.search_count(song_list()) is None
    assert search.search_count(song_list(artist="Miles Davis")) is None
    assert search.search_count(song_list(search="blue")) == 2
    add_songs(("Blue in Green", "Miles Davis"))
    # Below the threshold: counted again, exact.
    assert search.search_count(song_list(search="blue")) == 3
    add_songs(("Blue Bossa", "Joe Henderson"))
    # At the threshold the count of 3 was kept, whatever the ordering of the list.
    assert search.search_count(song_list(search="blue", ordering="title")) == 3
    # Another term, another filter or another model is counted on its own (the same words
    # in other cases are the same search: "BLUE" is "blue").
    assert search.search_count(song_list(search="BLUE")) == 3
    assert search.search_count(song_list(search="blu")) == 4
    assert search.search_count(song_list(search="blue", artist="Miles Davis")) == 2
    assert search.search_count(album_list(search="blue")) == 0


def prepared_statements() -> list[tuple[str, int]]:
    """The statements PostgreSQL holds prepared for this connection, with their runs."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement, generic_plans + custom_plans FROM pg_prepared_statements")
        return cursor.fetchall()


@pytest.mark.postgres_only
def test_a_search_is_never_prepared_however_often_it_runs(client: Client, db):
    # A prepared statement may be run with one plan for any term after five runs; made
    # without the term, that plan walks the whole date index. Only the reads by id of
    # catalog/prepared.py are prepared: a search is planned with its term every time, and
    # needs nothing to remember for it.
    songs = add_songs(*[(f"Song {n}", f"Artist {n % 7}") for n in range(30)])
    for round_ in range(12):
        assert found(client, SONGS, f"song {round_}")
        assert found(client, ALBUMS, f"album {round_}") == []
        assert client.get(f"/api/songs/{songs[round_].pk}/").status_code == HTTPStatus.OK

    prepared = prepared_statements()

    assert [statement for statement, _ in prepared if "music_fold" in statement] == []
    # The song by id, prepared the first time and run prepared twelve times.
    assert [(runs, "catalog_song" in statement) for statement, runs in prepared] == [(12, True)]
