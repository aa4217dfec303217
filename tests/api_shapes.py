"""The API's bodies as a test expects them, built from the rows: SongOut, AlbumOut,
PlaylistOut."""

from typing import Any

from catalog.models import Album, Song
from library.models import Playlist
from tests.helpers import iso
from users.models import User


def song_out(song: Song, *, image: str | None = None) -> dict[str, Any]:
    """SongOut as the API writes it for `song` (image: the expected stored image name)."""
    song.refresh_from_db()
    return {
        "id": song.pk,
        "title": song.title,
        "artist": song.artist_name,
        "artist_id": song.artist_id,
        "album_id": song.album_id,
        "genre": song.genre,
        "year": song.year,
        "track_number": song.track_number,
        "disc_number": song.disc_number,
        "duration": song.duration,
        "image_url": f"http://testserver/media/{image}" if image else None,
        "audio_url": f"http://testserver/api/songs/{song.pk}/stream/",
        "formats": ["original"],
        "replay_gain": None,
        "waveform_url": None,
        "created_at": iso(song.created_at),
        "updated_at": iso(song.updated_at),
    }


def album_out(album: Album, *, song_count: int, image: str | None = None) -> dict[str, Any]:
    album.refresh_from_db()
    return {
        "id": album.pk,
        "title": album.title,
        "artist": album.artist_name,
        "artist_id": album.artist_id,
        "release_year": album.release_year,
        "genre": album.genre,
        "image_url": f"http://testserver/media/{image}" if image else None,
        "song_count": song_count,
        "created_at": iso(album.created_at),
        "updated_at": iso(album.updated_at),
    }


def user_public(user: User) -> dict[str, Any]:
    return {"id": user.pk, "full_name": user.full_name, "image_url": None}


def playlist_out(
    playlist: Playlist,
    *,
    song_count: int,
    duration: int,
    image: str | None = None,
) -> dict[str, Any]:
    """PlaylistOut as the API writes it (image: the expected stored image name)."""
    playlist.refresh_from_db()
    return {
        "id": playlist.pk,
        "name": playlist.name,
        "description": playlist.description,
        "is_public": playlist.is_public,
        "kind": "manual" if playlist.rules is None else "smart",
        "rules": playlist.rules,
        "owner": user_public(playlist.owner),
        "song_count": song_count,
        "duration": duration,
        "image_url": f"http://testserver/media/{image}" if image else None,
        "created_at": iso(playlist.created_at),
        "updated_at": iso(playlist.updated_at),
    }
