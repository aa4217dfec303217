"""Platform figures for the stats API and the admin dashboard (one source for both)."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.core.cache import cache
from django.db import connection
from django.db.models import Count, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from catalog.models import Album, Play, Song
from users.models import User

TOTALS_CACHE_KEY = "stats:platform-totals"
# Totals may lag this many seconds behind writes; a dashboard refresh doesn't rescan the tables.
TOTALS_CACHE_SECONDS = 60


@dataclass(frozen=True)
class PlatformTotals:
    total_songs: int
    total_albums: int
    total_users: int
    total_artists: int


def count_distinct_artists() -> int:
    """Distinct artist names over songs and albums together, ignoring case.

    One aggregate in the database. Each table is first grouped by its raw `artist` (a cheap
    hash of short strings), and only those few names are upper-cased and merged: on
    PostgreSQL with a million songs this takes ~0.4 s where a UNION of every upper-cased
    row takes ~2-4 s (benchmarks/stats_at_scale.py). The result is cached besides.
    """
    song_table = connection.ops.quote_name(Song._meta.db_table)
    album_table = connection.ops.quote_name(Album._meta.db_table)
    # Table names come from the models, never from input.
    sql = (
        "SELECT COUNT(*) FROM ("  # noqa: S608
        f" SELECT UPPER(artist) FROM (SELECT artist FROM {song_table} GROUP BY artist) songs"
        " UNION"
        f" SELECT UPPER(artist) FROM (SELECT artist FROM {album_table} GROUP BY artist) albums"
        ") names"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


def platform_totals() -> PlatformTotals:
    """The four totals, computed at most once a minute whatever the traffic (cached)."""
    cached = cache.get(TOTALS_CACHE_KEY)
    if cached is not None:
        return PlatformTotals(**cached)
    totals = PlatformTotals(
        total_songs=Song.objects.count(),
        total_albums=Album.objects.count(),
        total_users=User.objects.filter(is_active=True).count(),
        total_artists=count_distinct_artists(),
    )
    cache.set(TOTALS_CACHE_KEY, totals.__dict__, timeout=TOTALS_CACHE_SECONDS)
    return totals


def plays_per_day(*, days: int = 30, today: date | None = None) -> list[tuple[date, int]]:
    """Plays on each of the last `days` days (today included), zero-filled."""
    today = today or timezone.localdate()
    first_day = today - timedelta(days=days - 1)
    counts = dict(
        Play.objects.filter(played_at__date__gte=first_day)
        .annotate(day=TruncDate("played_at"))
        .values("day")
        .annotate(plays=Count("id"))
        .values_list("day", "plays")
    )
    return [
        (first_day + timedelta(days=n), counts.get(first_day + timedelta(days=n), 0))
        for n in range(days)
    ]


def top_songs(*, days: int = 7, limit: int = 10) -> QuerySet[Song]:
    """The most played songs of the last `days` days, with their `play_count`."""
    since = timezone.now() - timedelta(days=days)
    return (
        Song.objects.filter(plays__played_at__gte=since)
        .annotate(play_count=Count("plays"))
        .select_related("album")
        .order_by("-play_count", "title", "id")[:limit]
    )


def newest_songs(*, limit: int = 8) -> QuerySet[Song]:
    return Song.objects.select_related("album").order_by("-created_at", "-id")[:limit]
