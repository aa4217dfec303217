"""What the uploader called each file (stored names are random), for display and export.

On SQLite, adding (or removing) a NOT NULL column rebuilds the table, which drops its
triggers: the row-count triggers of migration 0002 are put back (and the counts taken again)
afterwards, both ways.
PostgreSQL adds the columns in place and keeps its triggers.
"""

from django.db import migrations, models

from catalog.migrations._row_count_triggers import restore_sqlite_row_counts

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
