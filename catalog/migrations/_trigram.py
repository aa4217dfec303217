"""Trigram GIN indexes on `music_fold(column)` (the function migration 0003 makes), for the
searches of `catalog.search._Contains` and the one search box: 0003, 0006 and library's."""

from django.db import migrations


def _one(cursor, sql, params=()):
    cursor.execute(sql, params)
    return cursor.fetchone()[0]


def _extension_schema(cursor, name):
    return _one(
        cursor,
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"
        " WHERE e.extname = %s",
        [name],
    )


def _run(schema_editor, sql):
    # No parameters: the SQL is sent as written, never %-formatted.
    schema_editor.execute(sql, None)


def create_trigram_indexes(schema_editor, indexes):
    """`indexes`: (index name, table, column) triples. PostgreSQL only."""
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        trgm = quote(_extension_schema(cursor, "pg_trgm"))
        here = quote(_one(cursor, "SELECT current_schema()"))
    for name, table, column in indexes:
        _run(
            schema_editor,
            f"CREATE INDEX IF NOT EXISTS {quote(name)} ON {quote(table)}"
            f" USING gin ({here}.music_fold({quote(column)}) {trgm}.gin_trgm_ops)",
        )


def drop_indexes(schema_editor, indexes):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    for name, _, _ in indexes:
        _run(schema_editor, f"DROP INDEX IF EXISTS {connection.ops.quote_name(name)}")


def trigram_indexes_operation(indexes):
    """A migration operation that makes `indexes` (and drops them when unapplied)."""

    def create(apps, schema_editor):
        create_trigram_indexes(schema_editor, indexes)

    def drop(apps, schema_editor):
        drop_indexes(schema_editor, indexes)

    return migrations.RunPython(create, drop, elidable=False)
