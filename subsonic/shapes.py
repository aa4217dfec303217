"""Our rows as the specification's objects: a song as `Child`, an album as `AlbumID3`, an
artist as `ArtistID3` (openapi/schemas/ of the OpenSubsonic spec). Every endpoint that
answers songs, albums or artists builds them here, so a field is named and typed once.

They read only what the row holds or was annotated with by its selector (never a query):
songs with `album` and `artist` selected; albums with `song_count` and `total_duration`;
artists with `album_count`. What the listener adds (starred, rating, play count) comes from
the caller, which reads it for the whole page at once.
"""

import mimetypes
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from catalog.models import Album, Song
from catalog.renditions import replay_gain
from library.models import Playlist
from subsonic import ids
from users.models import User

# Content types clients know by suffix; mimetypes' guesses for the others.
_CONTENT_TYPES = {
    "mp3": "audio/mpeg",
    "flac": "audio/flac",
    "ogg": "audio/ogg",
    "opus": "audio/ogg",
    "m4a": "audio/mp4",
    "aac": "audio/aac",
    "wav": "audio/wav",
}


def suffix_of(stored_name: str) -> str:
    """The extension of the name's last part, lower case ("" for none), as
    PurePosixPath(name).suffix has it, without building a path for each song of a list."""
    name = stored_name.rpartition("/")[2]
    dot = name.rfind(".")
    return name[dot + 1 :].lower() if 0 < dot < len(name) - 1 else ""


def content_type_of(suffix: str) -> str:
    known = _CONTENT_TYPES.get(suffix)
    if known is not None:
        return known
    guessed, _ = mimetypes.guess_type(f"x.{suffix}")
    return guessed or "application/octet-stream"


def song_cover_id(song: Song) -> str | None:
    """The id `getCoverArt` takes for the song's picture: its own, else its album's."""
    if song.image:
        return ids.song_id(song.pk)
    if song.album_id and song.album.image:
        return ids.album_id(song.album_id)
    return None


def _genre_fields(genre: str | None) -> dict[str, Any]:
    """The legacy `genre` and OpenSubsonic's `genres` (empty, not absent, when there is none:
    the specification's rule for a field the server supports)."""
    return {"genre": genre, "genres": [{"name": genre}] if genre else []}


def _listener_fields(
    starred: datetime | None, rating: int | None, play_count: int | None
) -> dict[str, Any]:
    return {"starred": starred, "userRating": rating, "playCount": play_count}


def song_child(
    song: Song,
    *,
    starred: datetime | None = None,
    rating: int | None = None,
    play_count: int | None = None,
) -> dict[str, Any]:
    suffix = suffix_of(song.audio.name)
    child: dict[str, Any] = {
        "id": ids.song_id(song.pk),
        "parent": ids.album_id(song.album_id) if song.album_id else ids.artist_id(song.artist_id),
        "isDir": False,
        "title": song.title,
        "album": song.album.title if song.album_id else None,
        "artist": song.artist_name,
        "coverArt": song_cover_id(song),
        "contentType": content_type_of(suffix),
        "suffix": suffix,
        "duration": song.duration,
        "isVideo": False,
        "created": song.created_at,
        "albumId": ids.album_id(song.album_id) if song.album_id else None,
        "artistId": ids.artist_id(song.artist_id),
        "type": "music",
        "mediaType": "song",
        # The song's own year, else its album's: clients show one year per song.
        "year": song.year or (song.album.release_year if song.album_id else None),
        "track": song.track_number,
        "discNumber": song.disc_number,
        **_genre_fields(song.genre),
        **_listener_fields(starred, rating, play_count),
        "replayGain": _replay_gain(song),
    }
    return child


def _replay_gain(song: Song) -> dict[str, float] | None:
    """The OpenSubsonic ReplayGain, absent until the pipeline has measured the song. The
    album comes with the song (the song rows join it): no query."""
    gain = replay_gain(song, song.album if song.album_id else None)
    if gain is None:
        return None
    return {
        "trackGain": gain.track_gain,
        "albumGain": gain.album_gain,
        "trackPeak": gain.track_peak,
        "albumPeak": gain.album_peak,
    }


def album_id3(
    album: Album,
    *,
    starred: datetime | None = None,
    rating: int | None = None,
    play_count: int | None = None,
    songs: list[Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """`songs`, when given, makes it an `AlbumID3WithSongs` (getAlbum)."""
    shape: dict[str, Any] = {
        "id": ids.album_id(album.pk),
        "name": album.title,
        "artist": album.artist_name,
        "artistId": ids.artist_id(album.artist_id),
        "coverArt": ids.album_id(album.pk) if album.image else None,
        "songCount": album.song_count,
        "duration": album.total_duration or 0,
        "created": album.created_at,
        "year": album.release_year,
        **_genre_fields(album.genre),
        **_listener_fields(starred, rating, play_count),
    }
    if songs is not None:
        shape["song"] = list(songs)
    return shape


class ArtistRow(Protocol):
    """An artist as the shapes read one: an Artist annotated with `album_count`, or the
    lighter row the artist index is read in (subsonic.selectors.IndexedArtist)."""

    pk: int
    name: str
    image: Any  # truthy when the artist has a picture
    album_count: int


def artist_id3(
    artist: ArtistRow, *, starred: datetime | None = None, rating: int | None = None
) -> dict[str, Any]:
    """`userRating` is not among the specification's ArtistID3 fields (its `Artist` has it),
    which allows more; Navidrome sends it too, and clients read it where they find it."""
    return {
        "id": ids.artist_id(artist.pk),
        "name": artist.name,
        "coverArt": ids.artist_id(artist.pk) if artist.image else None,
        "albumCount": artist.album_count,
        "starred": starred,
        "userRating": rating,
    }


def playlist(
    playlist: Playlist,
    *,
    viewer: User,
    songs: list[Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """A playlist read through library.selectors.with_summary (its owner, `song_count`,
    `duration`, `first_cover`) as `Playlist`; `songs`, when given, make it a
    `PlaylistWithSongs` (getPlaylist, createPlaylist).

    `owner` is the owner's email (their Subsonic username) to themselves and to admins, so
    that a client can tell its own playlists; to other listeners it is the owner's name, as
    the REST API shows another listener (never an email). `readonly` says who may change it:
    no one here, for a smart playlist (its songs are its rules').
    """
    owner = playlist.owner
    mine = owner.pk == viewer.pk
    shape: dict[str, Any] = {
        "id": ids.playlist_id(playlist.pk),
        "name": playlist.name,
        "comment": playlist.description or None,
        "owner": owner.email if mine or viewer.is_admin else owner.full_name,
        "public": playlist.is_public,
        "songCount": playlist.song_count,
        "duration": playlist.duration,
        "created": playlist.created_at,
        "changed": playlist.updated_at,
        # Its own image, else its first song's cover (as the REST API's image_url).
        "coverArt": ids.playlist_id(playlist.pk)
        if playlist.image or playlist.first_cover
        else None,
        "readonly": not mine or playlist.rules is not None,
    }
    if songs is not None:
        shape["entry"] = list(songs)
    return shape


# --- Folder-based browsing: getIndexes, getMusicDirectory, getAlbumList ------------------
# The catalog as folders: the music folder holds the artists, an artist their albums (and
# songs without one), an album its songs.


def artist_entry(artist: ArtistRow, *, starred: datetime | None = None) -> dict[str, Any]:
    """An artist of getIndexes (`Artist`)."""
    return {"id": ids.artist_id(artist.pk), "name": artist.name, "starred": starred}


def artist_child(artist: ArtistRow, *, starred: datetime | None = None) -> dict[str, Any]:
    """An artist as a folder of the music folder (`Child` with isDir)."""
    return {
        "id": ids.artist_id(artist.pk),
        "parent": str(ids.MUSIC_FOLDER_ID),
        "isDir": True,
        "title": artist.name,
        "artist": artist.name,
        "coverArt": ids.artist_id(artist.pk) if artist.image else None,
        "artistId": ids.artist_id(artist.pk),
        "mediaType": "artist",
        "starred": starred,
    }


def album_child(
    album: Album,
    *,
    starred: datetime | None = None,
    rating: int | None = None,
    play_count: int | None = None,
) -> dict[str, Any]:
    """An album as a folder of its artist (`Child` with isDir): getMusicDirectory and
    getAlbumList. Needs `total_duration`, as album_id3 does."""
    return {
        "id": ids.album_id(album.pk),
        "parent": ids.artist_id(album.artist_id),
        "isDir": True,
        "title": album.title,
        "album": album.title,
        "artist": album.artist_name,
        "coverArt": ids.album_id(album.pk) if album.image else None,
        "duration": album.total_duration or 0,
        "created": album.created_at,
        "artistId": ids.artist_id(album.artist_id),
        "mediaType": "album",
        "year": album.release_year,
        **_listener_fields(starred, rating, play_count),
    }
