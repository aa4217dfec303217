"""Genre and year become fields of songs and albums, with a song's track and disc numbers
(issue 20).

Every new column is nullable without a default, so adding it writes no row (PostgreSQL and
SQLite alike: no table rebuild, the row-count triggers stay). The two genre indexes start
out on columns of nulls; the album order index replaces the old (album, created_at, id) one
and is built before that goes, so an album's songs are never read without an index. The
years' validators (1000 to 2100, the API's range) are Django's only: no SQL.
"""

import django.core.validators
import django.db.models.functions.text
from django.db import migrations, models


def year_field():
    return models.PositiveSmallIntegerField(
        blank=True,
        null=True,
        validators=[
            django.core.validators.MinValueValidator(1000),
            django.core.validators.MaxValueValidator(2100),
        ],
    )


def position_field(verbose_name):
    return models.PositiveSmallIntegerField(
        blank=True,
        null=True,
        validators=[
            django.core.validators.MinValueValidator(1),
            django.core.validators.MaxValueValidator(999),
        ],
        verbose_name=verbose_name,
    )


def genre_index(model_name):
    return migrations.AddIndex(
        model_name=model_name,
        index=models.Index(
            django.db.models.functions.text.Upper("genre"),
            models.F("created_at"),
            models.F("id"),
            models.F("genre"),
            name=f"catalog_{model_name}_genre_idx",
        ),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0006_artists"),
    ]

    operations = [
        migrations.AddField(
            model_name="album",
            name="genre",
            field=models.CharField(blank=True, max_length=100, null=True),
        ),
        migrations.AddField(
            model_name="song",
            name="genre",
            field=models.CharField(blank=True, max_length=100, null=True),
        ),
        migrations.AddField(model_name="song", name="year", field=year_field()),
        migrations.AddField(model_name="song", name="track_number", field=position_field("track")),
        migrations.AddField(model_name="song", name="disc_number", field=position_field("disc")),
        migrations.AlterField(model_name="album", name="release_year", field=year_field()),
        genre_index("album"),
        genre_index("song"),
        migrations.AddIndex(
            model_name="song",
            index=models.Index(
                fields=["album", "disc_number", "track_number", "created_at", "id"],
                name="catalog_song_album_order_idx",
            ),
        ),
        migrations.RemoveIndex(model_name="song", name="catalog_song_album_idx"),
    ]
