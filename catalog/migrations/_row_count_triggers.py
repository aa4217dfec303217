"""Putting back the SQLite row-count triggers of 0002 after a migration rebuilds a counted
table (SQLite drops a table's triggers with it): 0004 and 0006."""

COUNTED = ("catalog_song", "catalog_album")

# As in 0002_row_counts.
SQLITE_TRIGGERS = """
CREATE TRIGGER IF NOT EXISTS {table}_count_insert AFTER INSERT ON {table} BEGIN
    UPDATE catalog_rowcount SET row_count = row_count + 1 WHERE table_name = '{table}';
END;
CREATE TRIGGER IF NOT EXISTS {table}_count_delete AFTER DELETE ON {table} BEGIN
    UPDATE catalog_rowcount SET row_count = row_count - 1 WHERE table_name = '{table}';
END;
"""


def restore_sqlite_row_counts(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        for table in COUNTED:
            for statement in SQLITE_TRIGGERS.format(table=table).split("END;")[:-1]:
                cursor.execute(statement + "END;")
            cursor.execute(
                f"UPDATE catalog_rowcount SET row_count = (SELECT count(*) FROM {table}) "  # noqa: S608
                f"WHERE table_name = '{table}'"
            )
