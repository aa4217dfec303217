# ruff: noqa: S608 - the SQL is built from the migrations' own table and column names
"""The text indexes of core/search.py, made by the migrations of the apps that search
(catalog 0012, users 0004, library 0006): the SQL is here once, for PostgreSQL and SQLite.

PostgreSQL: `music_search_vector(texts...)` (IMMUTABLE: `music_fold` of catalog 0003, ASCII
punctuation made spaces, `to_tsvector('simple')`), a `search_vector` column per table (generated
from the row's own columns, or kept by a trigger when it reads another table), its GIN index,
and a vocabulary table of every word the table's rows ever held (trigram-indexed, for the
fuzzy step), filled by statement triggers. Words are never taken out of a vocabulary: a
stale word only offers an alternative that then finds nothing.

SQLite: an FTS5 table per searched table (unicode61 with remove_diacritics 2, prefix indexes
of 2 and 3 characters), its rows kept by triggers on the table, and an fts5vocab table over
it; a vocabulary is a view of the words of its tables' fts5vocab tables. A migration that
rebuilds a searched table on SQLite (Django does, to alter a column)
drops its triggers: it must call `restore_sqlite_search` for that table, as it calls
`restore_sqlite_row_counts` (catalog/migrations/_row_count_triggers.py).
"""

from dataclasses import dataclass

from django.db.migrations import RunPython


@dataclass(frozen=True)
class SearchedTable:
    """`columns`: (FTS5 column, SQL of its value from the row `new`) pairs. `generated`: the
    PostgreSQL vector can be a generated column (every value is of the row itself)."""

    table: str
    columns: tuple[tuple[str, str], ...]
    vocabulary: str
    generated: bool = True

    @property
    def fts(self) -> str:
        return f"{self.table}_search"


def _run(schema_editor, sql: str) -> None:
    schema_editor.execute(sql, None)  # sent as written, never %-formatted


def create_search_function(schema_editor) -> None:
    """`music_search_vector(VARIADIC text[])`, IMMUTABLE, in the current schema, naming
    `music_fold` by schema (never the caller's search_path, as catalog 0003's)."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        here = schema_editor.connection.ops.quote_name(cursor.fetchone()[0])
    _run(
        schema_editor,
        f"CREATE OR REPLACE FUNCTION {here}.music_search_vector(VARIADIC texts text[])"
        " RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE"
        " AS $$ SELECT pg_catalog.to_tsvector("
        f"'pg_catalog.simple'::regconfig, pg_catalog.regexp_replace({here}.music_fold("
        "pg_catalog.array_to_string(texts, ' ')), '[[:punct:]]+', ' ', 'g')) $$",
    )


def drop_search_function(schema_editor) -> None:
    _run(schema_editor, "DROP FUNCTION IF EXISTS music_search_vector(VARIADIC text[])")


def _vector_of(searched: SearchedTable, row: str) -> str:
    """The vector of a row: `row` is what `new.` becomes ("NEW.", "table.", "")."""
    values = ", ".join(value.replace("new.", row) for _, value in searched.columns)
    return f"music_search_vector({values})"


def create_postgresql_index(schema_editor, searched: SearchedTable) -> None:
    """The vector column (filled), its GIN index, the vocabulary and its triggers."""
    table, vocabulary = searched.table, searched.vocabulary
    _run(
        schema_editor,
        f'CREATE TABLE IF NOT EXISTS {vocabulary} (word text COLLATE "C" PRIMARY KEY)',
    )
    _run(
        schema_editor,
        f"CREATE INDEX IF NOT EXISTS {vocabulary}_trgm_idx ON {vocabulary}"
        " USING gin (word gin_trgm_ops)",
    )
    if searched.generated:
        _run(
            schema_editor,
            f"ALTER TABLE {table} ADD COLUMN search_vector tsvector"
            f" GENERATED ALWAYS AS ({_vector_of(searched, '')}) STORED",
        )
    else:
        _run(schema_editor, f"ALTER TABLE {table} ADD COLUMN search_vector tsvector")
        vector = _vector_of(searched, f"{table}.")
        _run(schema_editor, f"UPDATE {table} SET search_vector = {vector}")
        names = ", ".join(
            value.removeprefix("new.") for _, value in searched.columns if value.startswith("new.")
        )
        _run(
            schema_editor,
            f"CREATE FUNCTION {table}_search_vector() RETURNS trigger LANGUAGE plpgsql AS $$"
            f" BEGIN NEW.search_vector := {_vector_of(searched, 'NEW.')}; RETURN NEW; END $$",
        )
        _run(
            schema_editor,
            f"CREATE TRIGGER {table}_search_vector BEFORE INSERT OR UPDATE OF {names}"
            f" ON {table} FOR EACH ROW EXECUTE FUNCTION {table}_search_vector()",
        )
    _run(schema_editor, f"CREATE INDEX {table}_search_idx ON {table} USING gin (search_vector)")
    _run(
        schema_editor,
        f"INSERT INTO {vocabulary} (word) SELECT DISTINCT unnest(tsvector_to_array("
        f"search_vector)) FROM {table} ON CONFLICT DO NOTHING",
    )
    _run(
        schema_editor,
        f"CREATE OR REPLACE FUNCTION {vocabulary}_add() RETURNS trigger LANGUAGE plpgsql AS $$"
        f" BEGIN INSERT INTO {vocabulary} (word) SELECT DISTINCT word FROM changed,"
        " unnest(tsvector_to_array(changed.search_vector)) AS word ORDER BY word"
        " ON CONFLICT DO NOTHING; RETURN NULL; END $$",
    )
    for event in ("INSERT", "UPDATE"):
        _run(
            schema_editor,
            f"CREATE TRIGGER {table}_search_words_{event.lower()} AFTER {event} ON {table}"
            f" REFERENCING NEW TABLE AS changed FOR EACH STATEMENT"
            f" EXECUTE FUNCTION {vocabulary}_add()",
        )


def drop_postgresql_index(schema_editor, searched: SearchedTable) -> None:
    table = searched.table
    for event in ("insert", "update"):
        _run(schema_editor, f"DROP TRIGGER IF EXISTS {table}_search_words_{event} ON {table}")
    _run(schema_editor, f"DROP TRIGGER IF EXISTS {table}_search_vector ON {table}")
    _run(schema_editor, f"DROP FUNCTION IF EXISTS {table}_search_vector()")
    _run(schema_editor, f"ALTER TABLE {table} DROP COLUMN IF EXISTS search_vector")


def drop_vocabulary(schema_editor, vocabulary: str) -> None:
    _run(schema_editor, f"DROP TABLE IF EXISTS {vocabulary}")
    _run(schema_editor, f"DROP FUNCTION IF EXISTS {vocabulary}_add()")


def _sqlite_values(searched: SearchedTable) -> str:
    return ", ".join(f"coalesce({value}, '')" for _, value in searched.columns)


def restore_sqlite_search(schema_editor, searched: SearchedTable) -> None:
    """The triggers that keep `searched`'s FTS5 rows (made again after a table rebuild),
    and its rows made afresh from the table."""
    table, fts = searched.table, searched.fts
    names = ", ".join(name for name, _ in searched.columns)
    watched = ", ".join(
        value.removeprefix("new.") for _, value in searched.columns if value.startswith("new.")
    )
    insert = f"INSERT INTO {fts} (rowid, {names}) VALUES (new.id, {_sqlite_values(searched)});"
    statements = [
        f"CREATE TRIGGER IF NOT EXISTS {table}_search_insert AFTER INSERT ON {table}"
        f" BEGIN {insert} END",
        f"CREATE TRIGGER IF NOT EXISTS {table}_search_update AFTER UPDATE OF {watched}"
        f" ON {table} BEGIN DELETE FROM {fts} WHERE rowid = old.id; {insert} END",
        f"CREATE TRIGGER IF NOT EXISTS {table}_search_delete AFTER DELETE ON {table}"
        f" BEGIN DELETE FROM {fts} WHERE rowid = old.id; END",
        f"DELETE FROM {fts}",
        f"INSERT INTO {fts} (rowid, {names}) SELECT new.id, {_sqlite_values(searched)}"
        f" FROM {table} AS new",
    ]
    for statement in statements:
        _run(schema_editor, statement)


def create_sqlite_index(schema_editor, searched: SearchedTable) -> None:
    fts = searched.fts
    names = ", ".join(name for name, _ in searched.columns)
    _run(
        schema_editor,
        f"CREATE VIRTUAL TABLE {fts} USING fts5({names},"
        " tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3')",
    )
    _run(schema_editor, f"CREATE VIRTUAL TABLE {fts}_vocab USING fts5vocab({fts}, 'row')")
    restore_sqlite_search(schema_editor, searched)


def create_sqlite_vocabulary(schema_editor, name: str, tables: list[SearchedTable]) -> None:
    """The vocabulary `name` on SQLite: a view of the words of the tables' FTS5 indexes, so
    that a vocabulary names the same words on either database."""
    words = " UNION ".join(f"SELECT term FROM {searched.fts}_vocab" for searched in tables)
    _run(schema_editor, f"CREATE VIEW {name} (word) AS {words}")


def drop_sqlite_vocabulary(schema_editor, name: str) -> None:
    _run(schema_editor, f"DROP VIEW IF EXISTS {name}")


def drop_sqlite_index(schema_editor, searched: SearchedTable) -> None:
    table, fts = searched.table, searched.fts
    for event in ("insert", "update", "delete"):
        _run(schema_editor, f"DROP TRIGGER IF EXISTS {table}_search_{event}")
    _run(schema_editor, f"DROP TABLE IF EXISTS {fts}_vocab")
    _run(schema_editor, f"DROP TABLE IF EXISTS {fts}")


def own_text_index(searched: SearchedTable) -> RunPython:
    """The migration operation for a table searched with a vocabulary of its own (users'
    names, playlists' names): its text index and vocabulary on either database, reversible."""

    def create(apps, schema_editor) -> None:
        if schema_editor.connection.vendor == "postgresql":
            create_postgresql_index(schema_editor, searched)
        elif schema_editor.connection.vendor == "sqlite":
            create_sqlite_index(schema_editor, searched)
            create_sqlite_vocabulary(schema_editor, searched.vocabulary, [searched])

    def drop(apps, schema_editor) -> None:
        if schema_editor.connection.vendor == "postgresql":
            drop_postgresql_index(schema_editor, searched)
            drop_vocabulary(schema_editor, searched.vocabulary)
        elif schema_editor.connection.vendor == "sqlite":
            drop_sqlite_vocabulary(schema_editor, searched.vocabulary)
            drop_sqlite_index(schema_editor, searched)

    return RunPython(create, drop, elidable=False)
