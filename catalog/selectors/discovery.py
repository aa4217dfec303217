"""Discovery: featured (random), trending (most played lately) and made for you (like what
the listener played), and the random songs that top each of them up (random rows of any
table: `random_rows`)."""

import random
import time
from collections import Counter
from collections.abc import Callable, Collection
from datetime import timedelta
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Model, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from catalog.models import Play, Song
from catalog.selectors.rows import song_rows
from catalog.selectors.songs import songs_in_order
from users.models import User

FEATURED_COUNT = 6
MADE_FOR_YOU_COUNT = 4
TRENDING_COUNT = 4
TRENDING_DAYS = 7
# Made for you looks at this many of the listener's latest plays, and picks among the first
# songs of the artists and the songs of the albums played most there.
RECENT_PLAYS = 200
TOP_ARTISTS = 5
TOP_ALBUMS = 5
SONGS_PER_ARTIST = 20
# At most this many rows of a random pick are looked for by probes, each a subquery of its
# own (hundreds of them cost seconds); the rest of a short pick is a walk from a random id.
RANDOM_PROBES_MOST = 16

_random = random.SystemRandom()

# No ORDER BY random() over the table: rows are found by ids drawn at random, read by the
# primary key index, then by probes ("the first id at or after a random point", each an index
# lookup) for the ids that were gaps, so the cost stays flat whatever the size of the
# catalog. A row after a gap comes up a little more often, which is fine for discovery.
#
# Trending and each listener's made-for-you candidates are computed from plays at most once
# per DISCOVERY_REFRESH_SECONDS for all the processes that share the cache (Redis when
# REDIS_URL is set), and only song ids are cached: the songs themselves are read on every
# request, so an edit shows at once and a song deleted meanwhile is left out.

_T = TypeVar("_T")
_M = TypeVar("_M", bound=Model)
# An expired value stays this much longer in the cache, served to every other request while
# one request recomputes it.
_STALE_KEPT_SECONDS = 60 * 60
# Longest a refresh holds its lock: after that (a worker that died mid-refresh) another
# request refreshes.
_REFRESH_LOCK_SECONDS = 30


def songs_featured() -> list[Song]:
    return random_songs(count=FEATURED_COUNT)


def songs_trending(*, count: int = TRENDING_COUNT) -> list[Song]:
    """The most played songs of the last days, most played first, topped up at random.

    The ranking is recomputed at most once per refresh interval; the songs are read fresh.
    """
    top_ids = refreshed(_trending_key(count), lambda: _trending_ids(count))
    top = songs_in_order(top_ids)
    return top + random_songs(count=count - len(top), exclude={song.pk for song in top})


def songs_made_for(*, user: User | None, count: int = MADE_FOR_YOU_COUNT) -> list[Song]:
    """Songs by the artists and from the albums the listener played lately; random for
    anonymous listeners and topped up at random.

    The listener's candidates are recomputed at most once per refresh interval; the songs
    are read fresh.
    """
    if user is None:
        return random_songs(count=count)
    candidates = refreshed(_made_for_key(user.pk), lambda: _taste_song_ids(user))
    # Twice as many as needed, for the ones deleted since the candidates were found.
    sampled = _random.sample(candidates, min(count * 2, len(candidates)))
    picked = songs_in_order(sampled)[:count]
    return picked + random_songs(count=count - len(picked), exclude={song.pk for song in picked})


def refreshed(key: str, compute: Callable[[], _T]) -> _T:
    """`compute()`, kept in the cache under `key` and recomputed at most once per
    DISCOVERY_REFRESH_SECONDS (0: on every call). The genre list is kept so too
    (catalog.selectors.genres).

    Once the value has expired, the one request that takes the lock (`cache.add`, atomic in
    Redis) recomputes it while the others go on serving the expired copy: no stampede. Only
    a cold cache, with no copy at all, has each request compute the value itself.
    """
    interval = max(settings.DISCOVERY_REFRESH_SECONDS, 0)
    cached = cache.get(key)
    if cached is not None:
        computed_at, value = cached
        if time.time() - computed_at < interval:
            return value
        if not cache.add(_lock_key(key), True, timeout=_REFRESH_LOCK_SECONDS):
            return value  # another request is refreshing it
    try:
        started = time.time()
        value = compute()
        cache.set(key, (started, value), timeout=interval + _STALE_KEPT_SECONDS)
    finally:
        if cached is not None:
            cache.delete(_lock_key(key))
    return value


def _trending_key(count: int) -> str:
    return f"catalog:trending:v1:{count}"


def _made_for_key(user_id: int) -> str:
    return f"catalog:made-for:v1:{user_id}"


def _lock_key(key: str) -> str:
    return f"{key}:refreshing"


def most_played(*, days: int, limit: int, artist_id: int | None = None) -> list[tuple[int, int]]:
    """(song id, plays) of the `limit` songs played most in the last `days` days, of
    `artist_id`'s songs only when given: most played first, and of songs played as often the
    newest (the highest id) first. Trending, an artist's top songs and the admin dashboard
    all rank so.

    One aggregate over the plays of those days, which ties break without reading the songs.
    Over a week of every listener's plays that is about 0.4 s at 200,000 plays: trending
    keeps the result (`refreshed`)."""
    since = timezone.now() - timedelta(days=days)
    plays = Play.objects.filter(played_at__gte=since)
    if artist_id is not None:
        plays = plays.filter(song__artist_id=artist_id)
    return list(
        plays.values("song_id")
        .annotate(plays=Count("id"))
        .order_by("-plays", "-song_id")
        .values_list("song_id", "plays")[:limit]
    )


def _trending_ids(count: int) -> list[int]:
    return [song_id for song_id, _ in most_played(days=TRENDING_DAYS, limit=count)]


def _taste_song_ids(user: User) -> list[int]:
    """Ids of the songs made for you picks from: the first SONGS_PER_ARTIST songs of each of
    the TOP_ARTISTS artists, and the songs of the TOP_ALBUMS albums, played most among the
    listener's RECENT_PLAYS latest plays (read backwards on the (user, played_at) index).

    Each part is a bounded range of one index (one BitmapOr on PostgreSQL), and there is no
    LIMIT over the OR: with one, PostgreSQL may scan the table until enough rows match, up
    to all of it when the matches sit at its end.
    """
    recent = list(
        Play.objects.filter(user=user)
        .order_by("-played_at")
        .values_list("song__artist_name", "song__album_id")[:RECENT_PLAYS]
    )
    if not recent:
        return []
    artists = Counter(artist for artist, _ in recent).most_common(TOP_ARTISTS)
    albums = Counter(album_id for _, album_id in recent if album_id is not None)
    taste = Q(album_id__in=[album_id for album_id, _ in albums.most_common(TOP_ALBUMS)])
    for artist, _ in artists:
        theirs = Song.objects.filter(artist_name=artist).values("pk")
        # The id of the artist's SONGS_PER_ARTIST-th song, or of their last one.
        nth = theirs.order_by("artist_name", "pk")[SONGS_PER_ARTIST - 1 : SONGS_PER_ARTIST]
        last = theirs.order_by("-artist_name", "-pk")[:1]
        taste |= Q(artist_name=artist, pk__lte=Coalesce(Subquery(nth), Subquery(last)))
    return list(Song.objects.filter(taste).order_by().values_list("pk", flat=True))


def random_songs(*, count: int, exclude: Collection[int] = ()) -> list[Song]:
    """Up to `count` distinct random songs not in `exclude`; fewer only if the catalog has
    fewer. Two to five queries, each of index lookups (`random_rows`)."""
    return random_rows(song_rows(), count=count, exclude=exclude)


def random_rows(rows: QuerySet[_M], *, count: int, exclude: Collection[int] = ()) -> list[_M]:
    """Up to `count` distinct random rows of `rows` (songs, albums: any model's rows as
    shaped for their answer, unfiltered) not in `exclude`; fewer only if the table has
    fewer. Two to five queries, each of index lookups, whatever `count`.

    First ids drawn at random are read as they are (one lookup of them all): uniform over
    the rows, and where few ids were deleted nearly every one is a row. What that leaves
    short (ids left by deletions) is probed, a few at most, then walked."""
    if count <= 0:
        return []
    model = rows.model
    low, high = _id_bounds(model)
    if low is None or high is None:
        return []
    excluded = set(exclude)
    # Twice as many as needed: some are gaps, or excluded, or drawn twice.
    drawn = {_random.randint(low, high) for _ in range(count * 2)} - excluded
    found = {row.pk: row for row in rows.filter(pk__in=drawn).order_by()}
    missing = min(count - len(found), RANDOM_PROBES_MOST)
    if missing > 0:
        probes = Q()
        for _ in range(missing * 2):
            point = _random.randint(low, high)
            first_at_or_after = model.objects.filter(pk__gte=point).order_by("pk").values("pk")
            probes |= Q(pk=Subquery(first_at_or_after[:1]))
        probed = rows.filter(probes).exclude(pk__in=excluded | found.keys()).order_by()
        found |= {row.pk: row for row in probed}
    picked = _random.sample(list(found.values()), min(count, len(found)))
    if len(picked) < count:
        picked += _rows_from_random_point(
            rows,
            count=count - len(picked),
            exclude=excluded | {row.pk for row in picked},
            low=low,
            high=high,
        )
    _random.shuffle(picked)
    return picked


def _id_bounds(model: type[Model]) -> tuple[int | None, int | None]:
    """The lowest and highest ids of `model`'s table, each read off the primary key index.

    Two scalar subqueries rather than MIN() and MAX() side by side, which SQLite answers
    with a scan of the whole table.
    """
    table = connection.ops.quote_name(model._meta.db_table)  # the model's, never input
    sql = f"SELECT (SELECT MIN(id) FROM {table}), (SELECT MAX(id) FROM {table})"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()


def _rows_from_random_point(
    rows: QuerySet[_M], *, count: int, exclude: set[int], low: int, high: int
) -> list[_M]:
    """Consecutive rows from a random id on, wrapping around: the probes came back short
    (a small table or many exclusions), and the answer must still be full."""
    start = _random.randint(low, high)
    available = rows.exclude(pk__in=exclude)
    after = list(available.filter(pk__gte=start).order_by("pk")[:count])
    if len(after) == count:
        return after
    before = list(available.filter(pk__lt=start).order_by("pk")[: count - len(after)])
    return after + before
