"""Platform figures for the stats API and the admin dashboard (one source for both)."""

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from catalog.models import Album, Play, Song
from catalog.selectors.discovery import most_played
from catalog.selectors.rows import credited_artists
from catalog.selectors.songs import songs_in_order
from users.selectors import active_users

TOTALS_CACHE_KEY = "stats:platform-totals"
# The generation of the cached totals: every committed write that moves a total replaces it
# (stats.signals), so the next read misses and counts again. The totals are cached under it.
TOTALS_GENERATION_KEY = "stats:platform-totals:generation"
# At most this long between two counts, for writes no signal reports (queryset.update(), SQL).
TOTALS_CACHE_SECONDS = 60


@dataclass(frozen=True)
class PlatformTotals:
    total_songs: int
    total_albums: int
    total_users: int
    total_artists: int


def _totals_key() -> str:
    generation = cache.get(TOTALS_GENERATION_KEY)
    if generation is None:  # first read, or evicted: any new generation will do
        cache.add(TOTALS_GENERATION_KEY, uuid.uuid4().hex, timeout=None)
        generation = cache.get(TOTALS_GENERATION_KEY)
    return f"{TOTALS_CACHE_KEY}:{generation}"


def invalidate_platform_totals() -> None:
    """Make the next read count again. Called after commit (stats.signals).

    A new generation rather than a delete: a read that was counting while the write committed
    stores its (older) totals under the old generation, which no later read looks at.
    """
    cache.set(TOTALS_GENERATION_KEY, uuid.uuid4().hex, timeout=None)


def platform_totals() -> PlatformTotals:
    """The four totals, exact after every write, counted at most once per write or minute.

    A read storm between writes is served from the cache: one count per generation and
    process (under ASGI a process runs its sync views one at a time).
    """
    key = _totals_key()
    cached = cache.get(key)
    if cached is not None:
        return PlatformTotals(**cached)
    totals = PlatformTotals(
        total_songs=Song.objects.count(),
        total_albums=Album.objects.count(),
        total_users=active_users().count(),
        total_artists=credited_artists().count(),
    )
    cache.set(key, totals.__dict__, timeout=TOTALS_CACHE_SECONDS)
    return totals


def listener_count() -> int:
    """Active accounts that are not admins (`User.is_admin`: superusers and ADMIN_EMAIL).

    The admin dashboard's "Listeners"; the stats API's `total_users` counts every active user.
    """
    listeners = active_users().filter(is_superuser=False)
    admin_email = settings.ADMIN_EMAIL.strip().lower()
    if admin_email:  # emails are stored lowercased (User.save)
        listeners = listeners.exclude(email=admin_email)
    return listeners.count()


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


def top_songs(*, days: int = 7, limit: int = 10) -> list[Song]:
    """The most played songs of the last `days` days, with their `plays_count`, ranked as
    trending ranks them (`most_played`: of songs played as often, the newest first)."""
    ranked = most_played(days=days, limit=limit)
    songs = songs_in_order([song_id for song_id, _ in ranked])
    plays = dict(ranked)
    for song in songs:
        song.plays_count = plays[song.pk]
    return songs


def most_liked_songs(*, days: int = 7, limit: int = 5) -> QuerySet[Song]:
    """The songs liked most in the last `days` days, with their `likes_count` (of that week);
    of songs liked as often, the newest first, as `top_songs` ranks."""
    since = timezone.now() - timedelta(days=days)
    return (
        Song.objects.filter(likes__liked_at__gte=since)
        .annotate(likes_count=Count("likes"))
        .select_related("album")
        .order_by("-likes_count", "-id")[:limit]
    )


def newest_songs(*, limit: int = 8) -> QuerySet[Song]:
    return Song.objects.select_related("album").order_by("-created_at", "-id")[:limit]
