"""Migration 0006 turns the names songs and albums credit into artists, and back.

Runs the real migrations on the test database (both ways, then forwards again), with rows
inserted through the historical models of 0005, where `artist` is still the name."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("catalog", "0005_likes")]
COUNTED = ("catalog_song", "catalog_album")
TRIGGERS = {f"{table}_count_{event}" for table in COUNTED for event in ("insert", "delete")}

# What each row credits at 0005: mixed case and accents of the same three artists.
SONG_CREDITS = [
    ("Help!", "The Beatles"),
    ("Yesterday", "The Beatles"),
    ("Let It Be", "the beatles"),
    ("Halo", "Beyoncé"),
    ("Feeling Good", "Nina Simone"),
]
ALBUM_CREDITS = [("Abbey Road", "THE BEATLES"), ("Lemonade", "beyonce")]

# The spelling most rows use ("The Beatles", though "THE BEATLES" sorts first); on a tie the
# first in code-point order ("Beyoncé" before "beyonce").
EXPECTED_ARTIST = {
    "The Beatles": "The Beatles",
    "the beatles": "The Beatles",
    "THE BEATLES": "The Beatles",
    "Beyoncé": "Beyoncé",
    "beyonce": "Beyoncé",
    "Nina Simone": "Nina Simone",
}


@pytest.fixture
def executor(transactional_db):
    executor = MigrationExecutor(connection)
    yield executor
    # Whatever happened, leave the database at the latest migrations for the other tests.
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


def migrate(executor: MigrationExecutor, targets) -> object:
    """Migrate to `targets` (None: the latest) and return the historical apps there."""
    executor.loader.build_graph()
    targets = targets or executor.loader.graph.leaf_nodes()
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


def sqlite_triggers() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        return {name for (name,) in cursor.fetchall()}


def row_counts(apps) -> dict[str, int]:
    RowCount = apps.get_model("catalog", "RowCount")
    return dict(
        RowCount.objects.filter(table_name__in=COUNTED).values_list("table_name", "row_count")
    )


def spoil_row_counts(apps) -> None:
    """Wrong counts, so that a right one afterwards was taken again by the migration."""
    apps.get_model("catalog", "RowCount").objects.filter(table_name__in=COUNTED).update(
        row_count=999
    )


def assert_counted_by_working_triggers(apps) -> None:
    """The counts are exact and still follow inserts and deletes (SQLite only)."""
    Song, Album = apps.get_model("catalog", "Song"), apps.get_model("catalog", "Album")
    assert sqlite_triggers() >= TRIGGERS
    assert row_counts(apps) == {
        "catalog_song": Song.objects.count(),
        "catalog_album": Album.objects.count(),
    }
    songs = Song.objects.count()
    extra = Song.objects.filter(title="Halo").values()[0]
    extra.pop("id")
    added = Song.objects.create(**extra)
    assert row_counts(apps)["catalog_song"] == songs + 1
    added.delete()
    assert row_counts(apps)["catalog_song"] == songs


def insert_at_0005(apps) -> tuple[dict[int, str], dict[int, str]]:
    """The rows of SONG_CREDITS and ALBUM_CREDITS: {id: artist column} of songs and albums."""
    RowCount = apps.get_model("catalog", "RowCount")
    for table in COUNTED:  # a flush by an earlier transactional test empties the table
        RowCount.objects.update_or_create(table_name=table, defaults={"row_count": 0})
    Song, Album = apps.get_model("catalog", "Song"), apps.get_model("catalog", "Album")
    songs = {
        Song.objects.create(title=title, artist=name, duration=60, audio="songs/x.wav").pk: name
        for title, name in SONG_CREDITS
    }
    albums = {
        Album.objects.create(title=title, artist=name).pk: name for title, name in ALBUM_CREDITS
    }
    return songs, albums


def assert_linked(apps, songs: dict[int, str], albums: dict[int, str]) -> None:
    Artist = apps.get_model("catalog", "Artist")
    artists = {artist.name: artist for artist in Artist.objects.all()}
    assert sorted(artists) == ["Beyoncé", "Nina Simone", "The Beatles"]
    assert {artist.name_key for artist in artists.values()} == {
        "beyonce",
        "nina simone",
        "the beatles",
    }
    for model_name, credits in (("Song", songs), ("Album", albums)):
        rows = apps.get_model("catalog", model_name).objects.values_list(
            "pk", "artist_id", "artist_name"
        )
        linked = {pk: (artist_id, name) for pk, artist_id, name in rows}
        assert linked == {
            pk: (artists[EXPECTED_ARTIST[name]].pk, name) for pk, name in credits.items()
        }, model_name


def assert_names_only(apps, songs: dict[int, str], albums: dict[int, str]) -> None:
    tables = connection.introspection.table_names()
    assert "catalog_artist" not in tables
    for model_name, credits in (("Song", songs), ("Album", albums)):
        model = apps.get_model("catalog", model_name)
        assert dict(model.objects.values_list("pk", "artist")) == credits, model_name
        with connection.cursor() as cursor:
            columns = connection.introspection.get_table_description(cursor, model._meta.db_table)
        assert "artist_id" not in {column.name for column in columns}, model_name


def test_artists_are_made_from_names_and_unmade_back(executor):
    on_sqlite = connection.vendor == "sqlite"
    at_0005 = migrate(executor, BEFORE)
    songs, albums = insert_at_0005(at_0005)

    for _ in range(2):  # forwards, backwards, and forwards again from what backwards left
        if on_sqlite:
            spoil_row_counts(at_0005)
        latest = migrate(executor, None)
        assert_linked(latest, songs, albums)
        if on_sqlite:
            assert_counted_by_working_triggers(latest)
        else:
            assert row_counts(latest) == {"catalog_song": 5, "catalog_album": 2}

        if on_sqlite:
            spoil_row_counts(latest)
        at_0005 = migrate(executor, BEFORE)
        assert_names_only(at_0005, songs, albums)
        if on_sqlite:
            assert_counted_by_working_triggers(at_0005)
        else:
            assert row_counts(at_0005) == {"catalog_song": 5, "catalog_album": 2}
