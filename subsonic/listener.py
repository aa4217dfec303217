"""What the signed-in listener adds to the songs, albums and artists of an answer: their
stars (`starred`) and ratings (`userRating`). Read for a whole page at once, one query per
kind (or one for all: library.selectors.marks_of), never one per row; the shapes
(subsonic/shapes.py) take them as keywords.

A tier-2 endpoint that answers songs calls `song_children(call.user, songs)`; with albums
or artists, `album_stars(call.user, albums)` / `artist_stars(call.user, artists)` and
`shapes.album_id3(album, starred=stars.get(album.pk))`, and `album_ratings(call.user,
albums)` for their `rating=` (one more query). An endpoint that needs the marks apart from
the shapes calls `annotations_for`; getAlbum, its songs and its own star and rating,
`album_songs_marked`.
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


def _by_song(marks: selectors.Marks, song_ids: Iterable[int]) -> dict[int, SongMarks]:
    stars, ratings = marks.song_stars, marks.song_ratings
    return {pk: SongMarks(stars.get(pk), ratings.get(pk)) for pk in song_ids}


def annotations_for(user: User, songs: Iterable[Song]) -> dict[int, SongMarks]:
    """Each song's marks by its id (every song of `songs` has an entry): one query, the
    listener's stars and ratings among these songs; none for no songs."""
    song_ids = list({song.pk for song in songs})
    if not song_ids:
        return {}
    return _by_song(selectors.marks_of(user=user, song_ids=song_ids), song_ids)


def song_children(user: User, songs: Sequence[Song]) -> list[dict[str, Any]]:
    """The songs as `Child`, in their order, with the listener's stars and ratings."""
    marks = annotations_for(user, songs)
    return [shapes.song_child(song, **marks[song.pk]._asdict()) for song in songs]


def album_songs_marked(
    user: User, album: Album
) -> tuple[list[dict[str, Any]], datetime | None, int | None]:
    """The album's songs (`album.tracks`) as `Child` with the listener's stars and ratings,
    when the listener starred the album and their rating of it (None for none): one query
    for all of it."""
    song_ids = {song.pk for song in album.tracks}
    marks = selectors.marks_of(user=user, song_ids=song_ids, album_ids=[album.pk])
    by_song = _by_song(marks, song_ids)
    songs = [shapes.song_child(song, **by_song[song.pk]._asdict()) for song in album.tracks]
    return songs, marks.album_stars.get(album.pk), marks.album_ratings.get(album.pk)


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
