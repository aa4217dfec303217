"""Reads of a song's lyrics, as parsed when they were stored (catalog/lyrics.py)."""

from catalog.models import Lyrics, Song
from catalog.selectors.songs import SONG_NOT_FOUND
from core.errors import NotFound

NO_LYRICS = "This song has no lyrics."


def lyrics_get(*, song_id: int) -> Lyrics:
    """The song's lyrics; a 404 that says whether the song or its lyrics are missing."""
    lyrics = Lyrics.objects.filter(song_id=song_id).first()
    if lyrics is None:
        if not Song.objects.filter(pk=song_id).exists():
            raise NotFound(SONG_NOT_FOUND)
        raise NotFound(NO_LYRICS)
    return lyrics


def lyrics_of(*, song_id: int) -> Lyrics | None:
    """The song's lyrics, None when it has none (or there is no such song)."""
    return Lyrics.objects.filter(song_id=song_id).first()
