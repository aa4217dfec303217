"""What the uploader called each file (stored names are random), for display and export.

On SQLite, adding (or removing) a NOT NULL column rebuilds the table, which drops its
triggers: the row-count triggers of migration 0002 are put back (and the counts taken again)
afterwards, both ways.
PostgreSQL adds the columns in place and keeps its triggers.
"""

from django.db import migrations, models

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


def original_name():
    return models.CharField(
        blank=True, db_default="", default="", max_length=255, verbose_name="uploaded as"
    )


class Migration(migrations.Migration):
    dependencies = [("catalog", "0003_search_trigram_indexes")]

    operations = [
        # Run last when unapplied: removing the columns rebuilds the tables again.
        migrations.RunPython(migrations.RunPython.noop, restore_sqlite_row_counts),
        migrations.AddField(model_name="album", name="image_original_name", field=original_name()),
        migrations.AddField(model_name="song", name="audio_original_name", field=original_name()),
        migrations.AddField(model_name="song", name="image_original_name", field=original_name()),
        migrations.RunPython(restore_sqlite_row_counts, migrations.RunPython.noop),
    ]
