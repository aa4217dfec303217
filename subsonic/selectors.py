"""Subsonic's reads: catalog's selectors and search engine, and the listener's plays, composed
into what subsonic/shapes.py reads, so that no answer queries once per row.

Albums come with `song_count` and `total_duration` (`albums_with_totals`: a scalar subquery
each on the songs' (album, created_at, id) index, for the rows answered only). A list is a
page by `offset` and `size` read as a deferred join (`_page`): the page's ids first, from the
ordering's index alone, then those rows with their annotations, so that an offset deep into
the catalog skips index entries rather than computing the counts of every row it skips.
"""

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from django.core.cache import cache
from django.db import connection
from django.db.models import Count, F, Max, Model, OrderBy, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from catalog.models import Album, Artist, Play, Song, artist_key
from catalog.renditions import STREAM_FIELDS
from catalog.search import (
    SEARCH_CANDIDATES,
    albums_matching,
    artists_matching,
    genre_is,
    songs_matching,
)
from catalog.selectors import albums, artists, discovery
from catalog.selectors.albums import ALBUM_NOT_FOUND
from catalog.selectors.artists import ARTIST_NOT_FOUND
from catalog.selectors.rows import artist_rows, credited, credited_artists, song_rows
from catalog.selectors.songs import SONG_NOT_FOUND, songs_in_order
from core.errors import NotFound
from core.queries import count_of, get_or_not_found
from library.selectors import album_ratings_by, albums_starred, playlist_get
from subsonic import ids
from subsonic.ids import Kind
from users.models import User

_M = TypeVar("_M", bound=Model)

NO_COVER = "This item has no picture."

# The most rows of one kind a list answers: the specification's bound on `size`.
LIST_MAX = 500
# An artist's folder (getArtist, getMusicDirectory) lists this many albums at most, and as
# many songs without an album: a compilation "artist" may have thousands, which
# getAlbumList2 and search3 page through.
ARTIST_ALBUMS_MAX = 500
ARTIST_SINGLES_MAX = 500

# The orderings of getAlbumList2 that follow an index of the album table.
ALBUMS_NEWEST: tuple[str, ...] = ("-created_at", "-id")
ALBUMS_BY_NAME: tuple[str, ...] = ("title", "id")
ALBUMS_BY_ARTIST: tuple[str, ...] = ("artist_name", "id")

_random = random.SystemRandom()


def albums_with_totals() -> QuerySet[Album]:
    """Albums with `song_count` and `total_duration` (seconds), what an AlbumID3 needs."""
    durations = (
        Song.objects.filter(album=OuterRef("pk"))
        .order_by()
        .values("album")
        .annotate(total=Sum("duration"))
        .values("total")
    )
    return Album.objects.annotate(
        song_count=count_of(Song, "album"), total_duration=Coalesce(Subquery(durations), 0)
    )


def _page(
    rows: QuerySet[_M],
    *,
    ordering: Sequence[str | OrderBy],
    offset: int,
    size: int,
    within: Q | None = None,
) -> list[_M]:
    """The rows [offset, offset + size) of `rows` in `ordering` (`within`: the condition they
    meet): their ids from the ordering's index alone, then those rows. Two steps, one query."""
    if size <= 0:
        return []
    ids = rows.model.objects.filter(within or Q()).order_by(*ordering).values("pk")
    return list(rows.filter(pk__in=Subquery(ids[offset : offset + size])).order_by(*ordering))


# --- Artists ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IndexedArtist:
    """An artist of the index (getArtists, getIndexes, the music folder): read as a tuple,
    not a model, since there are 5,000 at a million songs."""

    pk: int
    name: str
    name_key: str  # the name as uniqueness compares it (catalog.models.artist_key)
    image: str  # the stored picture's name; empty for none
    album_count: int


def artists_indexed() -> list[IndexedArtist]:
    """Every artist some album or song credits, with `album_count`, in no order (getArtists
    and getIndexes sort them by their index name). One query."""
    rows = credited_artists().annotate(album_count=count_of(Album, "artist")).order_by()
    columns = ("id", "name", "name_key", "image", "album_count")
    return [IndexedArtist(*row) for row in rows.values_list(*columns)]


def artist_get(*, artist_id: int) -> Artist:
    """The artist with `album_count`; NotFound for an unknown or uncredited one."""
    return get_or_not_found(artist_rows(), ARTIST_NOT_FOUND, pk=artist_id)


def artist_albums(*, artist_id: int) -> list[Album]:
    """The artist's albums, oldest release first (without a year last), then by title; at
    most ARTIST_ALBUMS_MAX."""
    ordering = (F("release_year").asc(nulls_last=True), "title", "id")
    rows = albums_with_totals().filter(artist_id=artist_id).order_by(*ordering)
    return list(rows[:ARTIST_ALBUMS_MAX])


def artist_singles(*, artist_id: int) -> list[Song]:
    """The artist's songs on no album, newest first; at most ARTIST_SINGLES_MAX."""
    rows = song_rows().filter(artist_id=artist_id, album__isnull=True)
    return list(rows.order_by("-created_at", "-id")[:ARTIST_SINGLES_MAX])


def artist_of(
    *, artist_id: int | None = None, album_id: int | None = None, song_id: int | None = None
) -> Artist:
    """The artist with this id, or the one the album or song credits; NotFound when there is
    none. One query."""
    if album_id is not None:
        rows = Artist.objects.filter(albums__pk=album_id)
    elif song_id is not None:
        rows = Artist.objects.filter(songs__pk=song_id)
    else:
        rows = credited_artists().filter(pk=artist_id)
    return get_or_not_found(rows, ARTIST_NOT_FOUND)


def top_songs(*, artist_name: str, count: int) -> list[Song]:
    """The artist's (by name, ignoring case and accents) most played songs, topped up with
    their newest, as the REST artist page ranks them; none for an unknown name."""
    artist_id = (
        Artist.objects.filter(name_key=artist_key(artist_name)).values_list("pk", flat=True).first()
    )
    if artist_id is None or count <= 0:
        return []
    return artists.artist_top_songs(artist_id=artist_id, count=count)


# --- Albums ----------------------------------------------------------------------------


def album_with_songs(*, album_id: int) -> Album:
    """The album with its songs in the REST album detail's order (`album.tracks`, through
    catalog's album_get: one query), `song_count` and `total_duration`."""
    album = albums.album_get(album_id=album_id)
    album.total_duration = sum(song.duration for song in album.tracks)
    return album


def album_of(*, album_id: int | None = None, song_id: int | None = None) -> Album:
    """The album with this id, or the song's; NotFound when there is none. One query."""
    if song_id is not None:
        rows = Album.objects.filter(songs__pk=song_id)
    else:
        rows = Album.objects.filter(pk=album_id)
    return get_or_not_found(rows, ALBUM_NOT_FOUND)


def albums_ordered(ordering: Sequence[str], *, offset: int, size: int) -> list[Album]:
    """A page of albums in one of the indexed orderings (ALBUMS_NEWEST, ...)."""
    return _page(albums_with_totals(), ordering=ordering, offset=offset, size=size)


def albums_random(*, size: int) -> list[Album]:
    """Random albums, by catalog's id probes (no ordering of the table at random)."""
    return discovery.random_rows(albums_with_totals(), count=size)


def albums_by_year(*, from_year: int, to_year: int, offset: int, size: int) -> list[Album]:
    """Albums released from `from_year` to `to_year`, in that direction: oldest first, or
    newest first when `from_year` is the later year (as the specification says)."""
    low, high = sorted((from_year, to_year))
    ordering = ("release_year", "id") if from_year <= to_year else ("-release_year", "-id")
    within = Q(release_year__gte=low, release_year__lte=high)
    return _page(albums_with_totals(), ordering=ordering, offset=offset, size=size, within=within)


def albums_of_genre(*, genre: str, offset: int, size: int) -> list[Album]:
    """Albums of `genre` (ignoring case), the newest first, on the albums' genre index."""
    return _page(
        albums_with_totals(),
        ordering=ALBUMS_NEWEST,
        offset=offset,
        size=size,
        within=genre_is(genre.strip()),
    )


def albums_starred_by(*, user: User, offset: int, size: int) -> list[Album]:
    """The albums the listener starred, the latest star first, with `starred_at`."""
    return list(albums_starred(user=user)[offset : offset + size])


def _albums_ranked(ranked: list[tuple[int, int]]) -> list[tuple[Album, int]]:
    by_id = albums_with_totals().in_bulk([album_id for album_id, _ in ranked])
    return [(by_id[album_id], value) for album_id, value in ranked if album_id in by_id]


def _plays_by_album(user: User) -> QuerySet:
    """The listener's plays of songs on an album, grouped by album (`song__album`), read on
    the (user, played_at) index: as many rows as the listener ever played."""
    plays = Play.objects.filter(user=user, song__album__isnull=False)
    return plays.values("song__album").order_by()


def albums_played_most_by(*, user: User, offset: int, size: int) -> list[tuple[Album, int]]:
    """The albums the listener played most (with their number of plays), most first, then
    the newest album; only albums they played."""
    ranked = (
        _plays_by_album(user)
        .annotate(plays=Count("id"))
        .order_by("-plays", "-song__album")
        .values_list("song__album", "plays")
    )
    return _albums_ranked(list(ranked[offset : offset + size]))


def albums_rated_highest_by(*, user: User, offset: int, size: int) -> list[tuple[Album, int]]:
    """The albums the listener rated or played, with their number of plays: the highest
    rated first (5 to 1, then the unrated), then the most played, then the newest album.
    Three queries: their album ratings, their plays by album (as many rows as albums they
    played, ranked here), the page's albums."""
    ratings = album_ratings_by(user=user)
    plays = dict(
        _plays_by_album(user).annotate(plays=Count("id")).values_list("song__album", "plays")
    )
    ranked = sorted(
        ratings.keys() | plays.keys(),
        key=lambda album_id: (-ratings.get(album_id, 0), -plays.get(album_id, 0), -album_id),
    )
    page = ranked[offset : offset + size]
    return _albums_ranked([(album_id, plays.get(album_id, 0)) for album_id in page])


def albums_played_lately_by(*, user: User, offset: int, size: int) -> list[Album]:
    """The albums the listener played, the most recently played first."""
    ranked = (
        _plays_by_album(user)
        .annotate(last_played=Max("played_at"))
        .order_by("-last_played", "-song__album")
        .values_list("song__album", "last_played")
    )
    return [album for album, _ in _albums_ranked(list(ranked[offset : offset + size]))]


# --- Songs -----------------------------------------------------------------------------


def songs_random(
    *, size: int, from_year: int | None, to_year: int | None, genre: str | None = None
) -> list[Song]:
    """Up to `size` random songs; with years, songs of albums released in them (a song's year
    is its album's). Without years catalog's random songs (id probes); with them, random
    albums among those of the years (their ids read off the album table), then random songs
    among theirs: never an ordering of the song table at random. Three queries at most.
    With a `genre`, random songs of that genre (and of the years, when given), by id probes
    among that genre's songs."""
    if genre is not None:
        return _songs_random_of_genre(size=size, genre=genre, from_year=from_year, to_year=to_year)
    if from_year is None and to_year is None:
        return discovery.random_songs(count=size)
    if from_year is not None and to_year is not None:
        from_year, to_year = sorted((from_year, to_year))
    years = Q()
    if from_year is not None:
        years &= Q(release_year__gte=from_year)
    if to_year is not None:
        years &= Q(release_year__lte=to_year)
    album_ids = list(Album.objects.filter(years).values_list("pk", flat=True))
    if not album_ids or size <= 0:
        return []
    picked_albums = _random.sample(album_ids, min(size, len(album_ids)))
    candidates = list(
        Song.objects.filter(album_id__in=picked_albums).order_by().values_list("pk", flat=True)
    )
    return songs_in_order(_random.sample(candidates, min(size, len(candidates))))


def _songs_random_of_genre(
    *, size: int, genre: str, from_year: int | None, to_year: int | None
) -> list[Song]:
    within = genre_is(genre.strip())
    if from_year is not None and to_year is not None:
        from_year, to_year = sorted((from_year, to_year))
    if from_year is not None:
        within &= Q(album__release_year__gte=from_year)
    if to_year is not None:
        within &= Q(album__release_year__lte=to_year)
    return discovery.random_rows(song_rows().filter(within), count=size)


# --- Search ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """Which of the matches to answer: `count` from `offset` on."""

    offset: int
    count: int


@dataclass(frozen=True)
class Found:
    artists: list[Artist]
    albums: list[Album]
    songs: list[Song]


def _best(matching: Callable[..., list[_M]], term: str, window: Window) -> list[_M]:
    """`window` of catalog's ranking of `term` (best match first). The engine ranks the first
    SEARCH_CANDIDATES rows found, so there is nothing beyond them."""
    if window.count <= 0 or window.offset >= SEARCH_CANDIDATES:
        return []
    limit = min(window.offset + window.count, SEARCH_CANDIDATES)
    return matching(term=term, limit=limit)[window.offset :]


def _with_durations(found: list[Album]) -> list[Album]:
    """Albums of the search engine (`song_count` already counted) with `total_duration`."""
    if not found:
        return found
    totals = dict(
        Song.objects.filter(album_id__in=[album.pk for album in found])
        .order_by()
        .values("album")
        .annotate(total=Sum("duration"))
        .values_list("album", "total")
    )
    for album in found:
        album.total_duration = totals.get(album.pk, 0)
    return found


def search(*, term: str, artists: Window, albums: Window, songs: Window) -> Found:
    """What `term` finds, as /api/search/ finds it (catalog's one engine: the same rows, the
    same ranking), each kind paged by its window; an empty term finds everything in the
    order it was added (`_everything`), for clients that copy the whole library."""
    if not term:
        return Found(
            artists=_everything("artists", artist_rows(), artists, within=credited()),
            albums=_everything("albums", albums_with_totals(), albums),
            songs=_everything("songs", song_rows(), songs),
        )
    return Found(
        artists=_best(artists_matching, term, artists),
        albums=_with_durations(_best(albums_matching, term, albums)),
        songs=_best(songs_matching, term, songs),
    )


# A page of everything notes where the next one starts (the id after which it does) for this
# long, for the client copying the library page by page.
EVERYTHING_RESUME_SECONDS = 10 * 60


def _resume_key(kind: str, offset: int) -> str:
    return f"subsonic:everything:v1:{connection.alias}:{kind}:{offset}"


def _everything(
    kind: str, rows: QuerySet[_M], window: Window, *, within: Q | None = None
) -> list[_M]:
    """`window` of every row of `rows` by id (`within`: what they all hold): what is added
    later comes on a later page. A client copying the library asks page after page; each
    page notes in the cache the last id it answered, so the next page (by anyone) starts
    right after it, an index range, instead of skipping `offset` index entries (900,000
    songs deep: 90 to 180 ms of skipping saved on each page). Should rows be deleted meanwhile,
    the next page may repeat a row, never skip one."""
    if window.count <= 0:
        return []
    after = cache.get(_resume_key(kind, window.offset)) if window.offset else None
    if after is None:
        page = _page(rows, ordering=("id",), within=within, **_sized(window))
    else:
        page = list(rows.filter(within or Q(), pk__gt=after).order_by("id")[: window.count])
    if page:
        end = window.offset + len(page)
        cache.set(_resume_key(kind, end), page[-1].pk, EVERYTHING_RESUME_SECONDS)
    return page


def _sized(window: Window) -> dict[str, int]:
    return {"offset": window.offset, "size": window.count}


# --- Files -----------------------------------------------------------------------------


def song_audio(*, song_id: int) -> Song:
    """The song's audio file and renditions (catalog/renditions.py), its duration, title and
    uploaded name (for a download's file name). One query."""
    rows = Song.objects.only(*STREAM_FIELDS, "duration", "title", "audio_original_name")
    return get_or_not_found(rows, SONG_NOT_FOUND, pk=song_id)


def cover_name(ref: ids.Ref, *, user: User) -> str:
    """The stored name of the picture `ref` shows: a song's own, else its album's; an album's,
    an artist's; a playlist's (one the caller may see), else its first song's. NotFound when
    there is none. One query."""
    if ref.kind is Kind.SONG:
        song = get_or_not_found(
            Song.objects.select_related("album").only("image", "album", "album__image"),
            SONG_NOT_FOUND,
            pk=ref.pk,
        )
        name = song.image.name or (song.album.image.name if song.album_id else "")
    elif ref.kind is Kind.ALBUM:
        name = get_or_not_found(Album.objects.only("image"), ALBUM_NOT_FOUND, pk=ref.pk).image.name
    elif ref.kind is Kind.ARTIST:
        artist = get_or_not_found(credited_artists().only("image"), ARTIST_NOT_FOUND, pk=ref.pk)
        name = artist.image.name
    else:
        playlist = playlist_get(playlist_id=ref.pk, user=user)
        name = playlist.image.name or playlist.first_cover or ""
    if not name:
        raise NotFound(NO_COVER)
    return name
