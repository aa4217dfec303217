"""Exact whole-table counts read in O(1): RowCount, kept by triggers whatever writes."""

from http import HTTPStatus

import pytest
from django.db import connection
from django.test import Client

from catalog.models import Album, RowCount, Song
from tests.helpers import credited


def counted(model) -> int:
    return RowCount.objects.get(table_name=model._meta.db_table).row_count


def add_songs(count: int, album: Album | None = None) -> None:
    Song.objects.bulk_create(
        Song(title=f"S{n}", **credited("A"), duration=1, audio="songs/x.wav", album=album)
        for n in range(count)
    )


def test_the_count_follows_inserts_deletes_and_cascades(db, make_song, make_album):
    album = Album.objects.create(title="T", **credited("A"))
    add_songs(5, album=album)
    make_song()
    Song.objects.filter(title="S0").delete()

    assert counted(Song) == Song.objects.filter(pk__gt=0).count() == 5
    album.delete()  # its four songs go with it

    assert counted(Song) == 1
    assert counted(Album) == 0


@pytest.mark.postgres_only
def test_the_count_follows_a_truncate(db):
    add_songs(3)

    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no deferred checks left pending
        # CASCADE: every table that points at songs (plays, likes, playlist items) goes too.
        cursor.execute("TRUNCATE catalog_song CASCADE")

    assert counted(Song) == 0


def test_an_unfiltered_list_reads_the_count_and_a_filtered_one_counts(
    client: Client, db, django_assert_num_queries
):
    add_songs(4)
    RowCount.objects.filter(table_name="catalog_song").update(row_count=1000)  # prove the source

    with django_assert_num_queries(2):
        whole = client.get("/api/songs/", {"limit": 2}).json()
    filtered = client.get("/api/songs/", {"limit": 2, "artist": "A"}).json()

    assert whole["count"] == 1000
    assert filtered["count"] == 4


def test_api_writes_keep_the_list_count_exact(admin_client: Client, make_song):
    song = make_song()
    make_song(title="Second")

    assert admin_client.delete(f"/api/songs/{song.pk}/").status_code == HTTPStatus.NO_CONTENT

    assert admin_client.get("/api/songs/").json()["count"] == 1 == counted(Song)


@pytest.mark.sqlite_only
def test_the_count_triggers_survive_every_migration_on_sqlite(db):
    # SQLite rebuilds a table to add a NOT NULL column, dropping its triggers (0004 restores);
    # the search's FTS5 triggers (catalog 0012, users 0004, library 0006) must survive as well.
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        triggers = {name for (name,) in cursor.fetchall()}

    assert triggers == {
        *(
            f"catalog_{table}_count_{event}"
            for table in ("song", "album")
            for event in ("insert", "delete")
        ),
        *(
            f"{table}_search_{event}"
            for table in (
                "catalog_song",
                "catalog_album",
                "catalog_artist",
                "users_user",
                "library_playlist",
            )
            for event in ("insert", "update", "delete")
        ),
        "catalog_album_title_to_songs",
    }
