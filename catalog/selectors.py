"""Reads about the catalog, each shaped for its response so query counts stay constant."""

import random
from collections import Counter
from collections.abc import Collection
from datetime import timedelta

from django.db import connection
from django.db.models import Count, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone

from catalog.models import Album, Play, Song
from core.errors import NotFoundError
from users.models import User

SONG_NOT_FOUND = "No song with this id."
ALBUM_NOT_FOUND = "No album with this id."

FEATURED_COUNT = 6
MADE_FOR_YOU_COUNT = 4
TRENDING_COUNT = 4
TRENDING_DAYS = 7
# Made for you looks at this many of the listener's latest plays, and picks among at most
# this many songs by the artists and albums found there.
RECENT_PLAYS = 200
TOP_ARTISTS = 5
CANDIDATES = 100

_ORDERINGS = {
    "created_at": ("created_at", "id"),
    "-created_at": ("-created_at", "-id"),
    "title": ("title", "id"),
    "artist": ("artist", "id"),
}

_random = random.SystemRandom()


def _songs() -> QuerySet[Song]:
    # The album is joined for the image fallback of SongOut.
    return Song.objects.select_related("album")


def _matching(rows: QuerySet, *, search: str | None, artist: str | None) -> QuerySet:
    """Songs or albums whose title or artist contains `search`, by `artist` ignoring case."""
    if search and search.strip():
        term = search.strip()
        rows = rows.filter(Q(title__icontains=term) | Q(artist__icontains=term))
    if artist and artist.strip():
        rows = rows.filter(artist__iexact=artist.strip())
    return rows


def song_list(
    *,
    search: str | None = None,
    artist: str | None = None,
    album_id: int | None = None,
    ordering: str = "-created_at",
) -> QuerySet[Song]:
    songs = _matching(_songs(), search=search, artist=artist)
    if album_id is not None:
        songs = songs.filter(album_id=album_id)
    return songs.order_by(*_ORDERINGS[ordering])


def song_get(*, song_id: int) -> Song:
    song = _songs().filter(pk=song_id).first()
    if song is None:
        raise NotFoundError(SONG_NOT_FOUND)
    return song


async def song_for_stream(*, song_id: int) -> Song:
    song = await Song.objects.only("id", "audio").filter(pk=song_id).afirst()
    if song is None:
        raise NotFoundError(SONG_NOT_FOUND)
    return song


def _albums() -> QuerySet[Album]:
    return Album.objects.annotate(song_count=Count("songs"))


def album_list(
    *, search: str | None = None, artist: str | None = None, ordering: str = "-created_at"
) -> QuerySet[Album]:
    albums = _matching(_albums(), search=search, artist=artist)
    return albums.order_by(*_ORDERINGS[ordering])


def album_get(*, album_id: int) -> Album:
    """The album with its song count and its songs in the order they were added."""
    album = (
        _albums()
        .prefetch_related(Prefetch("songs", queryset=Song.objects.order_by("created_at", "id")))
        .filter(pk=album_id)
        .first()
    )
    if album is None:
        raise NotFoundError(ALBUM_NOT_FOUND)
    return album


# --- Discovery ------------------------------------------------------------------------
# No ORDER BY random() over the table: songs are found by random id probes, each an index
# lookup ("the first id at or after a random point"), so the cost stays flat whatever the
# size of the catalog. Songs after a gap in the ids come up a little more often, which is
# fine for discovery.


def songs_featured() -> list[Song]:
    return random_songs(count=FEATURED_COUNT)


def songs_trending(*, count: int = TRENDING_COUNT) -> list[Song]:
    """The most played songs of the last days, most played first, topped up at random."""
    since = timezone.now() - timedelta(days=TRENDING_DAYS)
    top_ids = list(
        Play.objects.filter(played_at__gte=since)
        .values("song_id")
        .annotate(plays=Count("id"))
        .order_by("-plays", "-song_id")
        .values_list("song_id", flat=True)[:count]
    )
    by_id = _songs().in_bulk(top_ids) if top_ids else {}
    top = [by_id[song_id] for song_id in top_ids if song_id in by_id]
    return top + random_songs(count=count - len(top), exclude=by_id.keys())


def songs_made_for(*, user: User | None, count: int = MADE_FOR_YOU_COUNT) -> list[Song]:
    """Songs by the artists and from the albums the listener played lately; random for
    anonymous listeners and topped up at random."""
    if user is None:
        return random_songs(count=count)
    recent = list(
        Play.objects.filter(user=user)
        .order_by("-played_at")
        .values_list("song__artist", "song__album_id")[:RECENT_PLAYS]
    )
    if not recent:
        return random_songs(count=count)
    artists = [artist for artist, _ in Counter(a for a, _ in recent).most_common(TOP_ARTISTS)]
    album_ids = {album_id for _, album_id in recent if album_id is not None}
    # No ordering: the database returns any matches it finds first, from the indexes.
    candidates = list(
        _songs().filter(Q(artist__in=artists) | Q(album_id__in=album_ids)).order_by()[:CANDIDATES]
    )
    picked = _random.sample(candidates, min(count, len(candidates)))
    return picked + random_songs(count=count - len(picked), exclude={s.pk for s in picked})


def random_songs(*, count: int, exclude: Collection[int] = ()) -> list[Song]:
    """Up to `count` distinct random songs not in `exclude`; fewer only if the catalog has
    fewer. Two to four queries, each an index lookup."""
    if count <= 0:
        return []
    low, high = _song_id_bounds()
    if low is None or high is None:
        return []
    excluded = set(exclude)
    # Twice as many probes as needed: some land on the same song or on an excluded one.
    probes = Q()
    for _ in range(count * 2):
        point = _random.randint(low, high)
        first_at_or_after = Song.objects.filter(pk__gte=point).order_by("pk").values("pk")[:1]
        probes |= Q(pk=Subquery(first_at_or_after))
    found = list(_songs().filter(probes).exclude(pk__in=excluded).order_by())
    found = _random.sample(found, min(count, len(found)))
    if len(found) < count:
        found += _songs_from_random_point(
            count=count - len(found),
            exclude=excluded | {song.pk for song in found},
            low=low,
            high=high,
        )
    _random.shuffle(found)
    return found


def _song_id_bounds() -> tuple[int | None, int | None]:
    """The lowest and highest song ids, each read off the primary key index.

    Two scalar subqueries rather than MIN() and MAX() side by side, which SQLite answers
    with a scan of the whole table.
    """
    table = connection.ops.quote_name(Song._meta.db_table)  # the model's, never input
    sql = f"SELECT (SELECT MIN(id) FROM {table}), (SELECT MAX(id) FROM {table})"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()


def _songs_from_random_point(*, count: int, exclude: set[int], low: int, high: int) -> list[Song]:
    """Consecutive songs from a random id on, wrapping around: the probes came back short
    (a small catalog or many exclusions), and the answer must still be full."""
    start = _random.randint(low, high)
    available = _songs().exclude(pk__in=exclude)
    after = list(available.filter(pk__gte=start).order_by("pk")[:count])
    if len(after) == count:
        return after
    before = list(available.filter(pk__lt=start).order_by("pk")[: count - len(after)])
    return after + before
