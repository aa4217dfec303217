"""The one search box finds playlists by name from a trigram index on PostgreSQL (as catalog
migration 0003 does for titles); nothing on SQLite."""

from django.db import migrations

from catalog.migrations._trigram import trigram_indexes_operation


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0001_initial"),
        ("catalog", "0003_search_trigram_indexes"),  # music_fold()
    ]

    operations = [
        trigram_indexes_operation([("library_playlist_name_trgm_idx", "library_playlist", "name")])
    ]
