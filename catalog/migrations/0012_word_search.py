"""Search by words (issue 22): the text indexes of core/search_schema.py on songs (title,
artist, album title), albums (title, artist) and artists (name), filled from the rows already
there, and one vocabulary of their words (`catalog_searchword`: a table on PostgreSQL, a view
of the FTS5 vocabularies on SQLite).

A song's vector reads its album's title, so on PostgreSQL it is kept by a trigger (not a
generated column), and an album's new title is written into its songs' vectors (and FTS5
rows on SQLite) by a trigger on the album.
"""

from django.db import migrations

from core.search_schema import (
    SearchedTable,
    create_postgresql_index,
    create_search_function,
    create_sqlite_index,
    create_sqlite_vocabulary,
    drop_postgresql_index,
    drop_search_function,
    drop_sqlite_index,
    drop_sqlite_vocabulary,
    drop_vocabulary,
)

VOCABULARY = "catalog_searchword"
ALBUM_TITLE = "(SELECT title FROM catalog_album WHERE id = new.album_id)"
SEARCHED = (
    SearchedTable(
        "catalog_song",
        (("title", "new.title"), ("artist", "new.artist"), ("album", ALBUM_TITLE)),
        VOCABULARY,
        generated=False,
    ),
    SearchedTable("catalog_album", (("title", "new.title"), ("artist", "new.artist")), VOCABULARY),
    SearchedTable("catalog_artist", (("name", "new.name"),), VOCABULARY),
)


def _run(schema_editor, sql):
    schema_editor.execute(sql, None)


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        create_search_function(schema_editor)
        for searched in SEARCHED:
            create_postgresql_index(schema_editor, searched)
        _run(
            schema_editor,
            "CREATE FUNCTION catalog_album_title_to_songs() RETURNS trigger LANGUAGE plpgsql"
            " AS $$ BEGIN UPDATE catalog_song SET search_vector = music_search_vector("
            "title, artist, NEW.title) WHERE album_id = NEW.id; RETURN NULL; END $$",
        )
        _run(
            schema_editor,
            "CREATE TRIGGER catalog_album_title_to_songs AFTER UPDATE OF title ON catalog_album"
            " FOR EACH ROW WHEN (OLD.title IS DISTINCT FROM NEW.title)"
            " EXECUTE FUNCTION catalog_album_title_to_songs()",
        )
    elif schema_editor.connection.vendor == "sqlite":
        for searched in SEARCHED:
            create_sqlite_index(schema_editor, searched)
        create_sqlite_vocabulary(schema_editor, VOCABULARY, list(SEARCHED))
        _run(
            schema_editor,
            "CREATE TRIGGER IF NOT EXISTS catalog_album_title_to_songs AFTER UPDATE OF title"
            " ON catalog_album BEGIN UPDATE catalog_song_search SET album = new.title"
            " WHERE rowid IN (SELECT id FROM catalog_song WHERE album_id = new.id); END",
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        _run(schema_editor, "DROP TRIGGER IF EXISTS catalog_album_title_to_songs ON catalog_album")
        _run(schema_editor, "DROP FUNCTION IF EXISTS catalog_album_title_to_songs()")
        for searched in SEARCHED:
            drop_postgresql_index(schema_editor, searched)
        drop_vocabulary(schema_editor, VOCABULARY)
        drop_search_function(schema_editor)
    elif schema_editor.connection.vendor == "sqlite":
        _run(schema_editor, "DROP TRIGGER IF EXISTS catalog_album_title_to_songs")
        drop_sqlite_vocabulary(schema_editor, VOCABULARY)
        for searched in SEARCHED:
            drop_sqlite_index(schema_editor, searched)


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0011_folder_import_runs"),
    ]

    operations = [
        migrations.RunPython(create_indexes, drop_indexes, elidable=False),
    ]
