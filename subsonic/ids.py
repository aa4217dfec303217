"""Subsonic ids: strings with a prefix per kind, so that one id says what it names.

`ar-7` is the artist 7, `al-12` the album 12, `tr-42` the song 42, `pl-3` the playlist 3;
the one music folder is `1`. Clients treat ids as opaque strings, and several endpoints take
an id of any kind (`star`, `getCoverArt`, `getMusicDirectory`), which the prefix tells apart
without a lookup. A bare number is read as a song, as older clients that kept a number from
another server send (`getSong?id=42`), nothing else.
"""

from dataclasses import dataclass
from enum import StrEnum

from core.schemas import MAX_ID
from subsonic.errors import SubsonicError
from subsonic.spec import ErrorCode

MUSIC_FOLDER_ID = 1


class Kind(StrEnum):
    ARTIST = "ar"
    ALBUM = "al"
    SONG = "tr"
    PLAYLIST = "pl"


@dataclass(frozen=True)
class Ref:
    kind: Kind
    pk: int


def of(kind: Kind, pk: int) -> str:
    return f"{kind}-{pk}"


def artist_id(pk: int) -> str:
    return of(Kind.ARTIST, pk)


def album_id(pk: int) -> str:
    return of(Kind.ALBUM, pk)


def song_id(pk: int) -> str:
    return of(Kind.SONG, pk)


def playlist_id(pk: int) -> str:
    return of(Kind.PLAYLIST, pk)


def _not_found(text: str) -> SubsonicError:
    return SubsonicError(ErrorCode.NOT_FOUND, f"No such item: {text}.")


def parse(text: str) -> Ref:
    """The kind and row id `text` names; error 70 (not found) for anything that is not an id
    of ours, as a client that sends another server's id expects."""
    prefix, dash, number = text.partition("-")
    if not dash:
        prefix, number = Kind.SONG.value, text
    known = {kind.value for kind in Kind}
    if prefix not in known or not (number.isascii() and number.isdigit()):
        raise _not_found(text)
    pk = int(number)
    if not 0 < pk <= MAX_ID:
        raise _not_found(text)
    return Ref(Kind(prefix), pk)


def parse_as(text: str, *kinds: Kind) -> Ref:
    """`parse`, refusing (error 70) an id of a kind other than `kinds`."""
    ref = parse(text)
    if ref.kind not in kinds:
        raise _not_found(text)
    return ref
