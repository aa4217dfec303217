"""Users found by name with the catalog's search rules (issue 22): the text index of
core/search_schema.py on `full_name`, with its own vocabulary on PostgreSQL
(`users_searchword`). Needs catalog's `music_search_vector` (catalog 0012)."""

from django.db import migrations

from core.search_schema import SearchedTable, own_text_index

SEARCHED = SearchedTable("users_user", (("full_name", "new.full_name"),), "users_searchword")


class Migration(migrations.Migration):
    dependencies = [
        ("users", "0003_app_passwords"),
        ("catalog", "0012_word_search"),
    ]

    operations = [
        own_text_index(SEARCHED),
    ]
