"""Reads about the catalog, each shaped for its response so query counts stay constant."""

import hashlib
import random
import time
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from datetime import timedelta
from functools import reduce
from operator import or_
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    FloatField,
    Func,
    IntegerField,
    Lookup,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest, Length
from django.utils import timezone

from catalog.models import Album, Artist, Like, Play, Song
from catalog.prepared import PreparedQuery
from core.errors import NotFound
from core.queries import get_or_not_found, planned_per_value
from users.models import User

_M = TypeVar("_M", Song, Album, Artist)

SONG_NOT_FOUND = "No song with this id."
ALBUM_NOT_FOUND = "No album with this id."
ARTIST_NOT_FOUND = "No artist with this id."

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

_ORDERINGS = {
    "created_at": ("created_at", "id"),
    "-created_at": ("-created_at", "-id"),
    "title": ("title", "id"),
    "artist": ("artist_name", "id"),
}

_random = random.SystemRandom()


def _songs() -> QuerySet[Song]:
    # The album is joined for the image fallback of SongOut.
    return Song.objects.select_related("album")


class _Fold(Func):
    """Text as search compares it: lower case without accents on PostgreSQL (`music_fold`,
    made by catalog migration 0003 and indexed there with trigrams), lower case elsewhere."""

    function = "LOWER"
    arity = 1
    output_field = CharField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, function="music_fold", **extra_context)


class _Contains(Lookup):
    """`lhs` contains `rhs` literally: `lhs LIKE '%' || rhs || '%'`, with `%`, `_` and `\\`
    in `rhs` escaped after it is folded (unaccent turns a fullwidth percent sign into `%`).

    Not Django's `contains`, which casts the left side (`::text`) on PostgreSQL, so that
    the left side stays exactly the indexed expression."""

    lookup_name = "search_contains"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        pattern = connection.pattern_ops["contains"].format(connection.pattern_esc.format(rhs))
        return f"{lhs} {pattern}", [*lhs_params, *rhs_params]


def _search(term: str) -> Q:
    """Title or artist contains `term`, ignoring case (and accents on PostgreSQL): on
    PostgreSQL a BitmapOr of the two trigram indexes of the table."""
    folded = _Fold(Value(term))
    return Q(_Contains(_Fold("title"), folded)) | Q(_Contains(_Fold("artist_name"), folded))


def _matching(rows: QuerySet, *, search: str | None, artist: str | None) -> QuerySet:
    """Songs or albums whose title or artist contains `search` (ignoring case, and accents on
    PostgreSQL), by `artist` ignoring case."""
    if search and search.strip():
        rows = planned_per_value(rows.filter(_search(search.strip())))
    if artist and artist.strip():
        rows = rows.filter(artist_name__iexact=artist.strip())
    return rows


# A search found in at least this many rows has its count kept for SEARCH_COUNT_SECONDS: a
# term found in most rows (`?search=a`) folds every row to count them (over a second at a
# million songs), so it is counted once per interval rather than once per request. Smaller
# counts come from the trigram indexes and are always exact.
SEARCH_COUNT_CACHE_MIN_ROWS = 10_000
SEARCH_COUNT_SECONDS = 10


def _searches(node: object) -> bool:
    """Whether a filter tree holds a `?search=` condition."""
    if isinstance(node, _Contains):
        return True
    return any(_searches(child) for child in getattr(node, "children", ()))


def search_count(rows: QuerySet) -> int | None:
    """The count of a song or album list filtered by `?search=`, None for any other list.

    Exact, except that a count of at least SEARCH_COUNT_CACHE_MIN_ROWS may be up to
    SEARCH_COUNT_SECONDS old. The cache key is a hash of the list's database, model and SQL
    with its parameters (the term and every other filter), ordering aside."""
    if not _searches(rows.query.where):
        return None
    unordered = rows.order_by()
    sql, params = unordered.query.sql_with_params()
    identity = repr((unordered.db, rows.model._meta.label, sql, params))
    key = "catalog:search-count:" + hashlib.sha256(identity.encode()).hexdigest()
    count = cache.get(key)
    if count is None:
        count = unordered.count()
        if count >= SEARCH_COUNT_CACHE_MIN_ROWS:
            cache.set(key, count, SEARCH_COUNT_SECONDS)
    return count


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


# The two reads by id, their SQL built once (catalog/prepared.py).
_SONG_BY_ID = PreparedQuery(lambda song_id: _songs().filter(pk=song_id))
_ALBUM_TRACKS = PreparedQuery(
    lambda album_id: _songs().filter(album_id=album_id).order_by("created_at", "id")
)


def song_get(*, song_id: int) -> Song:
    found = _SONG_BY_ID.rows(song_id)
    if not found:
        raise NotFound(SONG_NOT_FOUND)
    return found[0]


async def song_for_stream(*, song_id: int) -> Song:
    song = await Song.objects.only("id", "audio").filter(pk=song_id).afirst()
    if song is None:
        raise NotFound(SONG_NOT_FOUND)
    return song


def _albums() -> QuerySet[Album]:
    return Album.objects.annotate(song_count=Count("songs"))


def album_list(
    *, search: str | None = None, artist: str | None = None, ordering: str = "-created_at"
) -> QuerySet[Album]:
    albums = _matching(_albums(), search=search, artist=artist)
    return albums.order_by(*_ORDERINGS[ordering])


def album_get(*, album_id: int) -> Album:
    """The album with its songs in the order they were added (`album.tracks`) and their count.

    One query for an album with songs, its row joined to each of theirs; a second only for an
    album without songs (or none at all)."""
    tracks = _ALBUM_TRACKS.rows(album_id)
    if tracks:
        album = tracks[0].album
        for song in tracks:
            song.album = album  # one instance, not one per row of the join
    else:
        try:
            album = Album.objects.get(pk=album_id)
        except Album.DoesNotExist:
            raise NotFound(ALBUM_NOT_FOUND) from None
    album.tracks = tracks
    album.song_count = len(tracks)
    return album


# --- Artists ---------------------------------------------------------------------------

ARTIST_TOP_SONGS = 10
ARTIST_TOP_DAYS = 28
# An artist's page lists this many albums at most (a compilation "artist" may have
# thousands); `/api/albums/?artist=` lists them all.
ARTIST_ALBUMS = 100

_ARTIST_ORDERINGS = {"name": ("name", "id"), "-song_count": ("-song_count", "id")}


def _rows_of_artist(model: type[Song] | type[Album]) -> Coalesce:
    """How many songs (or albums) credit the outer artist: one count on the by-artist index
    per artist of a page, not a join that multiplies the two counts."""
    rows = (
        model.objects.filter(artist=OuterRef("pk"))
        .order_by()
        .values("artist")
        .annotate(rows=Count("id"))
        .values("rows")
    )
    return Coalesce(Subquery(rows), 0)


def _credited() -> Q:
    return reduce(
        or_,
        (
            Q(Exists(model.objects.filter(artist=OuterRef("pk")).order_by()))
            for model in (Song, Album)
        ),
    )


def credited_artists() -> QuerySet[Artist]:
    """Artists some song or album credits. An artist whose last song and album went stays a
    row (for the admin, which can delete it) but is not listed, counted or shown: deleting
    it then would race a new song crediting it."""
    return Artist.objects.filter(_credited())


def _artists() -> QuerySet[Artist]:
    return credited_artists().annotate(
        song_count=_rows_of_artist(Song), album_count=_rows_of_artist(Album)
    )


def artist_list(*, search: str | None = None, ordering: str = "name") -> QuerySet[Artist]:
    """Artists by name (or most songs first), their names searched ignoring case (and
    accents on PostgreSQL, from the trigram index of migration 0006)."""
    artists = _artists()
    if search and search.strip():
        folded = _Fold(Value(search.strip()))
        artists = planned_per_value(artists.filter(_Contains(_Fold("name"), folded)))
    return artists.order_by(*_ARTIST_ORDERINGS[ordering])


def artist_get(*, artist_id: int) -> Artist:
    """The artist with `albums` (newest first) and `top_songs`: the most played of the last
    ARTIST_TOP_DAYS days, topped up with their newest songs. Four queries at most."""
    artist = get_or_not_found(_artists(), ARTIST_NOT_FOUND, pk=artist_id)
    artist.albums_newest = list(
        _albums().filter(artist=artist).order_by("-created_at", "-id")[:ARTIST_ALBUMS]
    )
    since = timezone.now() - timedelta(days=ARTIST_TOP_DAYS)
    most_played = list(
        Play.objects.filter(song__artist=artist, played_at__gte=since)
        .values("song_id")
        .annotate(plays=Count("id"))
        .order_by("-plays", "-song_id")
        .values_list("song_id", flat=True)[:ARTIST_TOP_SONGS]
    )
    top = _songs_in_order(most_played)
    if len(top) < ARTIST_TOP_SONGS:
        newest = _songs().filter(artist=artist).exclude(pk__in=most_played)
        top += newest.order_by("-created_at", "-id")[: ARTIST_TOP_SONGS - len(top)]
    artist.top_songs = top
    return artist


def artist_songs(*, artist_id: int) -> QuerySet[Song]:
    """The artist's songs, newest first, read on the by-artist index."""
    if not credited_artists().filter(pk=artist_id).exists():
        raise NotFound(ARTIST_NOT_FOUND)
    return _songs().filter(artist_id=artist_id).order_by("-created_at", "-id")


# --- The one search box (its playlists part is library's) --------------------------------

# A term is looked for in at most this many rows of each kind, which are then ranked: a
# term found in most of a million songs ("song") costs 45 ms instead of 3 s, and the best
# match among the first 1,000 found leads. Selective terms are ranked over every match.
SEARCH_CANDIDATES = 1_000


class _Similarity(Func):
    """pg_trgm's similarity of two texts, 0 to 1."""

    function = "similarity"
    arity = 2
    output_field = FloatField()


def best_match_first(
    rows: QuerySet, *, columns: Sequence[str], term: str, within: Q | None = None
) -> QuerySet:
    """`rows` whose `columns` contain `term` (as `?search=` matches: case, and on PostgreSQL
    accents, ignored), best match first. `within`: the condition `rows` already hold (the
    candidates are looked for among those rows only).

    PostgreSQL finds them on the trigram indexes and ranks them by trigram similarity to the
    term; SQLite ranks an exact match first, then a prefix, then the rest. Ties: the shorter
    first text, then the newest row."""
    folded = _Fold(Value(term))
    found = reduce(or_, (Q(_Contains(_Fold(column), folded)) for column in columns))
    candidates = rows.model.objects.filter(within or Q(), found).order_by().values("pk")
    candidates = candidates[:SEARCH_CANDIDATES]
    if connection.vendor == "postgresql":
        similarities = [_Similarity(_Fold(column), folded) for column in columns]
        rank = Greatest(*similarities) if len(similarities) > 1 else similarities[0]
    else:
        lowered = term.lower()
        rank = Case(
            When(reduce(or_, (Q(**{f"{column}__iexact": lowered}) for column in columns)), then=2),
            When(
                reduce(or_, (Q(**{f"{column}__istartswith": lowered}) for column in columns)),
                then=1,
            ),
            default=0,
            output_field=IntegerField(),
        )
    ranked = rows.filter(pk__in=candidates).alias(search_rank=rank)
    return planned_per_value(ranked.order_by(F("search_rank").desc(), Length(columns[0]), "-pk"))


def best_matches_kept(
    kind: str,
    *,
    rows: Callable[[], QuerySet[_M]],
    columns: Sequence[str],
    term: str,
    limit: int,
    within: Callable[[], Q] | None = None,
) -> list[_M]:
    """The first `limit` of `rows()` matching `term`, best first (`best_match_first`, where
    `within()` is what `rows()` already holds to).

    The ranked ids are kept SEARCH_CACHE_SECONDS per `kind` and term: the same term again (by
    anyone who shares `kind`) costs one read of those rows by id, neither a trigram search nor
    the building of its query (a few milliseconds of the ORM's time). The rows are read fresh
    from `rows()` either way, so an edit shows at once and a row deleted, or no longer in
    `rows()`, drops out; a new row is found once the term's ranking expires."""
    seconds = settings.SEARCH_CACHE_SECONDS
    identity = f"{connection.alias}\0{kind}\0{limit}\0{term.casefold()}"
    key = "catalog:search:" + hashlib.sha256(identity.encode()).hexdigest()
    ids = cache.get(key) if seconds else None
    if ids is None:
        condition = within() if within is not None else None
        ranked = best_match_first(rows(), columns=columns, term=term, within=condition)
        found = list(ranked[:limit])
        if seconds:
            cache.set(key, [row.pk for row in found], seconds)
        return found
    by_id = rows().in_bulk(ids) if ids else {}
    return [by_id[pk] for pk in ids if pk in by_id]


def songs_matching(*, term: str, limit: int) -> list[Song]:
    """Songs by title or credited artist, best match first."""
    columns = ("title", "artist_name")
    return best_matches_kept("songs", rows=_songs, columns=columns, term=term, limit=limit)


def albums_matching(*, term: str, limit: int) -> list[Album]:
    """Albums by title or credited artist, best match first."""
    columns = ("title", "artist_name")
    return best_matches_kept("albums", rows=_albums, columns=columns, term=term, limit=limit)


def artists_matching(*, term: str, limit: int) -> list[Artist]:
    """Credited artists by name, best match first."""
    return best_matches_kept(
        "artists", rows=_artists, columns=("name",), term=term, limit=limit, within=_credited
    )


# --- The listener's likes and history --------------------------------------------------


def likes_of(*, user: User) -> QuerySet[Like]:
    """The listener's likes, newest first, each with its song and the song's album (SongOut's
    image fallback): one query per page, read on the (user, -liked_at) index."""
    return Like.objects.filter(user=user).select_related("song__album").order_by("-liked_at", "-id")


def songs_liked(*, user: User, song_ids: list[int]) -> list[bool]:
    """Whether the listener likes each of `song_ids`, in their order: one query on the
    (user, song) unique index."""
    liked = set(
        Like.objects.filter(user=user, song_id__in=song_ids).values_list("song_id", flat=True)
    )
    return [song_id in liked for song_id in song_ids]


def plays_of(*, user: User) -> QuerySet[Play]:
    """The listener's plays, newest first, each with its song and the song's album: one query
    per page, read on the (user, played_at) index."""
    return (
        Play.objects.filter(user=user).select_related("song__album").order_by("-played_at", "-id")
    )


# --- Discovery ------------------------------------------------------------------------
# No ORDER BY random() over the table: songs are found by random id probes, each an index
# lookup ("the first id at or after a random point"), so the cost stays flat whatever the
# size of the catalog. Songs after a gap in the ids come up a little more often, which is
# fine for discovery.
#
# Trending and each listener's made-for-you candidates are computed from plays at most once
# per DISCOVERY_REFRESH_SECONDS for all the processes that share the cache (Redis when
# REDIS_URL is set), and only song ids are cached: the songs themselves are read on every
# request, so an edit shows at once and a song deleted meanwhile is left out.

_T = TypeVar("_T")
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
    top_ids = _refreshed(_trending_key(count), lambda: _most_played_ids(count))
    top = _songs_in_order(top_ids)
    return top + random_songs(count=count - len(top), exclude={song.pk for song in top})


def songs_made_for(*, user: User | None, count: int = MADE_FOR_YOU_COUNT) -> list[Song]:
    """Songs by the artists and from the albums the listener played lately; random for
    anonymous listeners and topped up at random.

    The listener's candidates are recomputed at most once per refresh interval; the songs
    are read fresh.
    """
    if user is None:
        return random_songs(count=count)
    candidates = _refreshed(_made_for_key(user.pk), lambda: _taste_song_ids(user))
    # Twice as many as needed, for the ones deleted since the candidates were found.
    sampled = _random.sample(candidates, min(count * 2, len(candidates)))
    picked = _songs_in_order(sampled)[:count]
    return picked + random_songs(count=count - len(picked), exclude={song.pk for song in picked})


def _refreshed(key: str, compute: Callable[[], _T]) -> _T:
    """`compute()`, kept in the cache under `key` and recomputed at most once per
    DISCOVERY_REFRESH_SECONDS (0: on every call).

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


def _most_played_ids(count: int) -> list[int]:
    """Ids of the `count` songs played most in the last TRENDING_DAYS, most played first.
    An aggregate over a week of plays (about 0.4 s at 200,000 plays): see `_refreshed`."""
    since = timezone.now() - timedelta(days=TRENDING_DAYS)
    return list(
        Play.objects.filter(played_at__gte=since)
        .values("song_id")
        .annotate(plays=Count("id"))
        .order_by("-plays", "-song_id")
        .values_list("song_id", flat=True)[:count]
    )


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


def _songs_in_order(ids: list[int]) -> list[Song]:
    """The songs with these ids as they are now, in the order of `ids`, without the ones
    deleted meanwhile."""
    by_id = _songs().in_bulk(ids) if ids else {}
    return [by_id[song_id] for song_id in ids if song_id in by_id]


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
