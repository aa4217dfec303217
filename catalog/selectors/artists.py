"""Reads of artists: the list (searched by name), one artist with albums and top songs, and
an artist's songs. Which artists are shown at all: `rows.credited_artists`."""

from django.db.models import QuerySet

from catalog.models import Artist, Song
from catalog.search import found_by
from catalog.selectors.discovery import most_played
from catalog.selectors.rows import album_rows, artist_rows, credited_artists, song_rows
from catalog.selectors.songs import songs_in_order
from core.errors import NotFound
from core.queries import get_or_not_found

ARTIST_NOT_FOUND = "No artist with this id."

ARTIST_TOP_SONGS = 10
ARTIST_TOP_DAYS = 28
# An artist's page lists this many albums at most (a compilation "artist" may have
# thousands); `/api/albums/?artist=` lists them all.
ARTIST_ALBUMS = 100

_ARTIST_ORDERINGS = {"name": ("name", "id"), "-song_count": ("-song_count", "id")}


def artist_list(*, search: str | None = None, ordering: str = "name") -> QuerySet[Artist]:
    """Artists by name (or most songs first), their names searched by words
    (`catalog.search.found_by`)."""
    artists = artist_rows()
    if search and search.strip():
        artists = found_by(artists, search.strip())
    return artists.order_by(*_ARTIST_ORDERINGS[ordering])


def artist_get(*, artist_id: int) -> Artist:
    """The artist with `albums` (newest first) and `top_songs`: the most played of the last
    ARTIST_TOP_DAYS days (`discovery.most_played`), topped up with their newest songs. Four
    queries at most."""
    artist = get_or_not_found(artist_rows(), ARTIST_NOT_FOUND, pk=artist_id)
    artist.albums_newest = list(
        album_rows().filter(artist=artist).order_by("-created_at", "-id")[:ARTIST_ALBUMS]
    )
    artist.top_songs = artist_top_songs(artist_id=artist.pk)
    return artist


def artist_top_songs(*, artist_id: int, count: int = ARTIST_TOP_SONGS) -> list[Song]:
    """Up to `count` of the artist's songs: the most played of the last ARTIST_TOP_DAYS days
    (`discovery.most_played`), topped up with their newest songs. Two queries, or three
    when topped up; none of an unknown artist is an empty list."""
    ranked = most_played(days=ARTIST_TOP_DAYS, limit=count, artist_id=artist_id)
    played_ids = [song_id for song_id, _ in ranked]
    top = songs_in_order(played_ids)
    if len(top) < count:
        newest = song_rows().filter(artist_id=artist_id).exclude(pk__in=played_ids)
        top += newest.order_by("-created_at", "-id")[: count - len(top)]
    return top


def artist_songs(*, artist_id: int) -> QuerySet[Song]:
    """The artist's songs, newest first, read on the by-artist index."""
    if not credited_artists().filter(pk=artist_id).exists():
        raise NotFound(ARTIST_NOT_FOUND)
    return song_rows().filter(artist_id=artist_id).order_by("-created_at", "-id")
