"""Reads of songs: the list (searched, filtered, ordered), one song, one song's files."""

from django.db.models import QuerySet
from django.db.models.fields.files import FieldFile

from catalog.models import Song
from catalog.prepared import PreparedQuery
from catalog.renditions import STREAM_FIELDS, outputs_current
from catalog.search import matching
from catalog.selectors.rows import song_rows
from core.errors import NotFound

SONG_NOT_FOUND = "No song with this id."
WAVEFORM_NOT_READY = "This song's waveform is not made yet."

# The orderings of the song and album lists, each made total by the id.
LIST_ORDERINGS = {
    "created_at": ("created_at", "id"),
    "-created_at": ("-created_at", "-id"),
    "title": ("title", "id"),
    "artist": ("artist_name", "id"),
}


def song_list(
    *,
    search: str | None = None,
    artist: str | None = None,
    album_id: int | None = None,
    genre: str | None = None,
    ordering: str = "-created_at",
) -> QuerySet[Song]:
    songs = matching(song_rows(), search=search, artist=artist, genre=genre)
    if album_id is not None:
        songs = songs.filter(album_id=album_id)
    return songs.order_by(*LIST_ORDERINGS[ordering])


# Its SQL built once (catalog/prepared.py).
_SONG_BY_ID = PreparedQuery(lambda song_id: song_rows().filter(pk=song_id))


def song_get(*, song_id: int) -> Song:
    found = _SONG_BY_ID.rows(song_id)
    if not found:
        raise NotFound(SONG_NOT_FOUND)
    return found[0]


async def song_for_stream(*, song_id: int) -> Song:
    """The song's files: its audio and what the pipeline made of it (catalog/renditions)."""
    song = await Song.objects.only(*STREAM_FIELDS).filter(pk=song_id).afirst()
    if song is None:
        raise NotFound(SONG_NOT_FOUND)
    return song


async def song_waveform(*, song_id: int) -> FieldFile:
    """The song's waveform file, made from its current audio; NotFound until there is one."""
    song = await Song.objects.only(*STREAM_FIELDS, "waveform_file").filter(pk=song_id).afirst()
    if song is None:
        raise NotFound(SONG_NOT_FOUND)
    if not (song.waveform_file and outputs_current(song)):
        raise NotFound(WAVEFORM_NOT_READY)
    return song.waveform_file


def songs_in_order(ids: list[int]) -> list[Song]:
    """The songs with these ids as they are now, in the order of `ids`, without the ones
    deleted meanwhile."""
    by_id = song_rows().in_bulk(ids) if ids else {}
    return [by_id[song_id] for song_id in ids if song_id in by_id]
