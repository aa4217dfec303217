"""Search on PostgreSQL: trigram GIN indexes on the folded title and artist of songs and albums.

`?search=` compares `music_fold(column) LIKE '%' || music_fold(term) || '%'` (see
`catalog.search.matching`), and PostgreSQL answers it from these indexes. `music_fold` is
lower case without accents ("Beyoncé" -> "beyonce").

`unaccent()` is only STABLE (its dictionary could change), so it cannot be indexed directly:
`music_fold` is an IMMUTABLE wrapper that names the dictionary and every function by schema,
so that it never depends on the caller's search_path. When the migration runs as a superuser
the wrapper calls unaccent's own C entry point declared IMMUTABLE (`music_unaccent`): then
PostgreSQL inlines `music_fold`, in the index expressions and in queries alike, instead of
running it as a SQL function per row, which makes a scan that folds every row (the count of
a term found in most rows) about four times faster. Other roles may not create C functions;
for them `music_fold` calls `unaccent()` itself, which gives the same results and uses the
same indexes, only slower per row.

Reversing drops the indexes and the functions and leaves the extensions, which other objects
may use. On SQLite this migration does nothing: search there is a plain LOWER() LIKE.
"""

from django.db import migrations

from catalog.migrations._trigram import (
    _extension_schema,
    _one,
    _run,
    create_trigram_indexes,
    drop_indexes,
)

INDEXES = [
    ("catalog_song_title_trgm_idx", "catalog_song", "title"),
    ("catalog_song_artist_trgm_idx", "catalog_song", "artist"),
    ("catalog_album_title_trgm_idx", "catalog_album", "title"),
    ("catalog_album_artist_trgm_idx", "catalog_album", "artist"),
]


def create_search_indexes(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    quote = connection.ops.quote_name
    _run(schema_editor, "CREATE EXTENSION IF NOT EXISTS pg_trgm")
    _run(schema_editor, "CREATE EXTENSION IF NOT EXISTS unaccent")
    with connection.cursor() as cursor:
        unaccent = quote(_extension_schema(cursor, "unaccent"))
        here = quote(_one(cursor, "SELECT current_schema()"))
        superuser = _one(cursor, "SELECT current_setting('is_superuser')") == "on"
    dictionary = f"'{unaccent}.unaccent'::regdictionary"
    if superuser:
        _run(
            schema_editor,
            f"CREATE OR REPLACE FUNCTION {here}.music_unaccent(regdictionary, text)"
            " RETURNS text LANGUAGE c IMMUTABLE PARALLEL SAFE STRICT"
            " AS '$libdir/unaccent', 'unaccent_dict'",
        )
        unaccented = f"{here}.music_unaccent({dictionary}, $1)"
    else:
        unaccented = f"{unaccent}.unaccent({dictionary}, $1)"
    _run(
        schema_editor,
        f"CREATE OR REPLACE FUNCTION {here}.music_fold(text) RETURNS text"
        f" LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$ SELECT lower({unaccented}) $$",
    )
    create_trigram_indexes(schema_editor, INDEXES)


def drop_search_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    drop_indexes(schema_editor, INDEXES)
    _run(schema_editor, "DROP FUNCTION IF EXISTS music_fold(text)")
    _run(schema_editor, "DROP FUNCTION IF EXISTS music_unaccent(regdictionary, text)")


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0002_row_counts"),
    ]

    operations = [
        migrations.RunPython(create_search_indexes, drop_search_indexes, elidable=False),
    ]
