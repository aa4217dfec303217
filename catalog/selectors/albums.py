"""Reads of albums: the list (searched, filtered, ordered) and one album with its songs."""

from django.db.models import F, QuerySet

from catalog.models import Album
from catalog.prepared import PreparedQuery
from catalog.search import matching
from catalog.selectors.rows import album_rows, song_rows
from catalog.selectors.songs import LIST_ORDERINGS
from core.errors import NotFound

ALBUM_NOT_FOUND = "No album with this id."


def album_list(
    *,
    search: str | None = None,
    artist: str | None = None,
    genre: str | None = None,
    ordering: str = "-created_at",
) -> QuerySet[Album]:
    albums = matching(album_rows(), search=search, artist=artist, genre=genre)
    return albums.order_by(*LIST_ORDERINGS[ordering])


# An album's songs: by disc, then track number, unnumbered ones after the numbered (the
# order of catalog_song_album_order_idx on PostgreSQL), then in the order added.
TRACK_ORDER = (
    F("disc_number").asc(nulls_last=True),
    F("track_number").asc(nulls_last=True),
    "created_at",
    "id",
)

# Its SQL built once (catalog/prepared.py).
_ALBUM_TRACKS = PreparedQuery(
    lambda album_id: song_rows().filter(album_id=album_id).order_by(*TRACK_ORDER)
)


def album_get(*, album_id: int) -> Album:
    """The album with its songs in order (`album.tracks`: TRACK_ORDER) and their count.

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
