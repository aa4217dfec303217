"""Playlists found by name with the catalog's search rules (issue 22): the text index of
core/search_schema.py on `name`, with its own vocabulary on PostgreSQL
(`library_playlistsearchword`). Needs catalog's `music_search_vector` (catalog 0012).

The trigram index of library 0002 stays: a term without words (emoji only) is still looked
for literally in the name."""

from django.db import migrations

from core.search_schema import SearchedTable, own_text_index

SEARCHED = SearchedTable("library_playlist", (("name", "new.name"),), "library_playlistsearchword")


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0005_album_artist_ratings"),
        ("catalog", "0012_word_search"),
    ]

    operations = [
        own_text_index(SEARCHED),
    ]
