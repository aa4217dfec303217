"""Artists become rows: one per distinct name ignoring case and accents, linked from every
song and album.

The name each song and album credits stays in its `artist` column, untouched (the model
calls it `artist_name` now), so going back only drops the links and the artists, and the
API's `artist` reads exactly as before. An artist's name is the spelling most of its rows
use (ties: the first in code-point order).

On SQLite, adding the NOT NULL links rebuilds both tables, which drops their row-count
triggers: they are put back afterwards, both ways, as in 0004.
"""

import unicodedata
from collections import Counter, defaultdict

import django.db.models.deletion
import django.db.models.functions.text
import django.utils.timezone
from django.db import migrations, models
from django.db.models import Count

from catalog.migrations._row_count_triggers import restore_sqlite_row_counts
from catalog.migrations._trigram import trigram_indexes_operation

# The one search box and `/api/artists/?search=` (PostgreSQL; see 0003).
SEARCH_INDEXES = [("catalog_artist_name_trgm_idx", "catalog_artist", "name")]


def artist_key(name):
    # catalog.models.artist_key as of this migration.
    decomposed = unicodedata.normalize("NFKD", name)
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    # Cut to the column: decomposition can lengthen a name (one "ﷺ" becomes 18 letters).
    return " ".join(bare.casefold().split())[:200]


def link_artists(apps, schema_editor):
    Artist = apps.get_model("catalog", "Artist")
    entries = [apps.get_model("catalog", "Song"), apps.get_model("catalog", "Album")]
    spellings = defaultdict(Counter)  # key -> {name as written: rows}
    for model in entries:
        grouped = model.objects.order_by().values_list("artist_name").annotate(rows=Count("id"))
        for name, rows in grouped:
            spellings[artist_key(name)][name] += rows
    for key, names in spellings.items():
        name = min(names, key=lambda written: (-names[written], written))
        artist = Artist.objects.create(name=name, name_key=key)
        for model in entries:
            model.objects.filter(artist_name__in=list(names)).update(artist=artist)


def artist_link(*, null):
    return models.ForeignKey(
        db_index=False,
        null=null,
        on_delete=django.db.models.deletion.PROTECT,
        related_name="%(class)ss",
        to="catalog.artist",
    )


def credited_name(model_name):
    return migrations.AlterField(
        model_name=model_name,
        name="artist_name",
        field=models.CharField(db_column="artist", max_length=200, verbose_name="credited as"),
    )


def name_indexes(model_name):
    return [
        models.Index(fields=["artist_name", "id"], name=f"catalog_{model_name}_artist_idx"),
        models.Index(
            django.db.models.functions.text.Upper("artist_name"),
            name=f"catalog_{model_name}_artist_upper_idx",
        ),
    ]


# The column keeps its name and its two indexes: only Django's idea of the field changes.
RENAME_IN_STATE = [
    operation
    for model_name in ("song", "album")
    for operation in (
        migrations.RemoveIndex(model_name=model_name, name=f"catalog_{model_name}_artist_idx"),
        migrations.RemoveIndex(
            model_name=model_name, name=f"catalog_{model_name}_artist_upper_idx"
        ),
        migrations.RenameField(model_name=model_name, old_name="artist", new_name="artist_name"),
        credited_name(model_name),
        *(
            migrations.AddIndex(model_name=model_name, index=index)
            for index in name_indexes(model_name)
        ),
    )
]


class Migration(migrations.Migration):
    dependencies = [("catalog", "0005_likes")]

    operations = [
        # Run last when unapplied: removing the links rebuilds the tables again.
        migrations.RunPython(migrations.RunPython.noop, restore_sqlite_row_counts),
        migrations.CreateModel(
            name="Artist",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=200)),
                ("name_key", models.CharField(editable=False, max_length=200, unique=True)),
                ("image", models.ImageField(blank=True, upload_to="artist_images/")),
                (
                    "image_original_name",
                    models.CharField(
                        blank=True,
                        db_default="",
                        default="",
                        max_length=255,
                        verbose_name="uploaded as",
                    ),
                ),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("updated_at", models.DateTimeField(auto_now=True)),
            ],
            options={"ordering": ["name", "id"]},
        ),
        migrations.AddIndex(
            model_name="artist",
            index=models.Index(fields=["name", "id"], name="catalog_artist_name_idx"),
        ),
        trigram_indexes_operation(SEARCH_INDEXES),
        migrations.SeparateDatabaseAndState(state_operations=RENAME_IN_STATE),
        # Nullable until every row is linked.
        migrations.AddField(model_name="song", name="artist", field=artist_link(null=True)),
        migrations.AddField(model_name="album", name="artist", field=artist_link(null=True)),
        migrations.RunPython(link_artists, migrations.RunPython.noop),
        migrations.AlterField(model_name="song", name="artist", field=artist_link(null=False)),
        migrations.AlterField(model_name="album", name="artist", field=artist_link(null=False)),
        migrations.AddIndex(
            model_name="song",
            index=models.Index(
                fields=["artist", "-created_at", "-id"], name="catalog_song_by_artist_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="album",
            index=models.Index(
                fields=["artist", "-created_at", "-id"], name="catalog_album_by_artist_idx"
            ),
        ),
        migrations.RunPython(restore_sqlite_row_counts, migrations.RunPython.noop),
    ]
