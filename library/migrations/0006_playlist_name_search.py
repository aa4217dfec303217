"""Playlists found by name with the catalog's search rules (issue 22): the text index of
core/search_schema.py on `name`, with its own vocabulary on PostgreSQL
(`library_playlistsearchword`). Needs catalog's `music_search_vector` (catalog 0012).

The trigram index of library 0002 stays: a term without words (emoji only) is still looked
for literally in the name."""

from django.db import migrations

from core.search_schema import (
    SearchedTable,
    create_postgresql_index,
    create_sqlite_index,
    create_sqlite_vocabulary,
    drop_postgresql_index,
    drop_sqlite_index,
    drop_sqlite_vocabulary,
    drop_vocabulary,
)

SEARCHED = SearchedTable("library_playlist", (("name", "new.name"),), "library_playlistsearchword")


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        create_postgresql_index(schema_editor, SEARCHED)
    elif schema_editor.connection.vendor == "sqlite":
        create_sqlite_index(schema_editor, SEARCHED)
        create_sqlite_vocabulary(schema_editor, SEARCHED.vocabulary, [SEARCHED])


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        drop_postgresql_index(schema_editor, SEARCHED)
        drop_vocabulary(schema_editor, SEARCHED.vocabulary)
    elif schema_editor.connection.vendor == "sqlite":
        drop_sqlite_vocabulary(schema_editor, SEARCHED.vocabulary)
        drop_sqlite_index(schema_editor, SEARCHED)


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0005_album_artist_ratings"),
        ("catalog", "0012_word_search"),
    ]

    operations = [
        migrations.RunPython(create_index, drop_index, elidable=False),
    ]
