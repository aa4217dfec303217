"""What the signed-in listener adds to the songs, albums and artists of an answer: their
stars (`starred`) and ratings (`userRating`). Read for a whole page at once, one query per
kind, never one per row; the shapes (subsonic/shapes.py) take them as keywords.

A tier-2 endpoint that answers songs calls `song_children(call.user, songs)`; with albums
or artists, `album_stars(call.user, albums)` / `artist_stars(call.user, artists)` and
`shapes.album_id3(album, starred=stars.get(album.pk))`, and `album_ratings(call.user,
albums)` for their `rating=` (one more query). An endpoint that needs the marks apart from
the shapes (getAlbum's songs inside its album) calls `annotations_for`.
"""

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from catalog.models import Album, Artist, Song
from library import selectors
from subsonic import shapes
from users.models import User


class SongMarks(NamedTuple):
    """The listener's star (when) and rating (1 to 5) of one song; None when they have none.
    The names are `shapes.song_child`'s keywords: `song_child(song, **marks._asdict())`."""

    starred: datetime | None = None
    rating: int | None = None


UNMARKED = SongMarks()


def annotations_for(user: User, songs: Iterable[Song]) -> dict[int, SongMarks]:
    """Each song's marks by its id (every song of `songs` has an entry): two queries, the
    listener's stars and their ratings among these songs; none for no songs."""
    song_ids = list({song.pk for song in songs})
    if not song_ids:
        return {}
    starred = selectors.song_stars_of(user=user, song_ids=song_ids)
    ratings = selectors.song_ratings_of(user=user, song_ids=song_ids)
    return {pk: SongMarks(starred.get(pk), ratings.get(pk)) for pk in song_ids}


def song_children(user: User, songs: Sequence[Song]) -> list[dict[str, Any]]:
    """The songs as `Child`, in their order, with the listener's stars and ratings."""
    marks = annotations_for(user, songs)
    return [shapes.song_child(song, **marks[song.pk]._asdict()) for song in songs]


def album_stars(user: User, albums: Iterable[Album]) -> dict[int, datetime]:
    """When the listener starred each of the albums they starred: one query."""
    album_ids = list({album.pk for album in albums})
    if not album_ids:
        return {}
    return selectors.album_stars_of(user=user, album_ids=album_ids)


def artist_stars(user: User, artists: Iterable[Artist]) -> dict[int, datetime]:
    """When the listener starred each of the artists they starred: one query."""
    artist_ids = list({artist.pk for artist in artists})
    if not artist_ids:
        return {}
    return selectors.artist_stars_of(user=user, artist_ids=artist_ids)


def album_ratings(user: User, albums: Iterable[Album]) -> dict[int, int]:
    """The listener's rating (1 to 5) of each of the albums they rated: one query."""
    album_ids = list({album.pk for album in albums})
    if not album_ids:
        return {}
    return selectors.album_ratings_of(user=user, album_ids=album_ids)


def album_marks(user: User, album: Album) -> tuple[datetime | None, int | None]:
    """The listener's star (when) and rating of one album (getAlbum): one query."""
    return selectors.album_marks_of(user=user, album_id=album.pk)
