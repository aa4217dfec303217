"""Catalog fixtures: songs and albums made through the real services, with real files."""

import io
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpResponseBase
from django.test import AsyncClient
from PIL import Image

from catalog import services
from catalog.demo import melody_wav
from catalog.models import Album, Song
from catalog.tests.storage_fixtures import media_backend, moto_endpoint  # noqa: F401
from tests.helpers import iso

FILES = Path(__file__).parent / "files"

ON_POSTGRESQL = django_settings.DATABASES["default"]["ENGINE"] == django_settings.POSTGRESQL_ENGINE
# For the few tests that read a database's own query plans; everything else runs on both.


@cache
def audio_bytes(name: str) -> bytes:
    """A real encoded file from `files/` (tone.mp3, tone.ogg, tone.opus, tone.flac, tone.m4a)."""
    return (FILES / name).read_bytes()


@cache
def wav_bytes(seconds: float = 1.0) -> bytes:
    return melody_wav((0, 4), note_seconds=seconds / 2)


def png_bytes(size: tuple[int, int] = (8, 8), color: str = "red") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


def upload(name: str, content: bytes, content_type: str = "application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type)


def stored_files(settings) -> list[Path]:
    return sorted(path for path in Path(settings.MEDIA_ROOT).rglob("*") if path.is_file())


def media_path(settings, name: str) -> Path:
    return Path(settings.MEDIA_ROOT) / name


@pytest.fixture
def make_album(db) -> Callable[..., Album]:
    def make(
        title: str = "Blue Train", artist: str = "John Coltrane", *, image: bool = False, **extra
    ) -> Album:
        return services.album_create(
            title=title,
            artist=artist,
            image_file=upload("cover.png", png_bytes(color="blue")) if image else None,
            **extra,
        )

    return make


@pytest.fixture
def make_song(db) -> Callable[..., Song]:
    def make(
        title: str = "Moment's Notice",
        artist: str = "John Coltrane",
        *,
        album: Album | None = None,
        image: bool = False,
        audio: bytes | None = None,
    ) -> Song:
        return services.song_create(
            title=title,
            artist=artist,
            album_id=album.pk if album else None,
            audio_file=upload("song.wav", audio or wav_bytes()),
            image_file=upload("art.png", png_bytes()) if image else None,
        )

    return make


def credited(name: str) -> dict[str, Any]:
    """The fields that credit a row made directly, not through the services, to `name`."""
    return {"artist": services.artist_named(name), "artist_name": name}


def song_out(song: Song, *, image: str | None = None) -> dict[str, Any]:
    """SongOut as the API writes it for `song` (image: the expected stored image name)."""
    song.refresh_from_db()
    return {
        "id": song.pk,
        "title": song.title,
        "artist": song.artist_name,
        "artist_id": song.artist_id,
        "album_id": song.album_id,
        "duration": song.duration,
        "image_url": f"http://testserver/media/{image}" if image else None,
        "audio_url": f"http://testserver/api/songs/{song.pk}/stream/",
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
        "image_url": f"http://testserver/media/{image}" if image else None,
        "song_count": song_count,
        "created_at": iso(album.created_at),
        "updated_at": iso(album.updated_at),
    }


def asgi_request(
    method: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    data: bytes = b"",
    content_type: str = "application/octet-stream",
) -> tuple[HttpResponseBase, bytes]:
    """Send a request through Django's ASGI handler and read the body as a player would.

    Run from a sync test, so the view's database access shares the test's transaction.
    """

    async def send() -> tuple[HttpResponseBase, bytes]:
        response = await AsyncClient().generic(
            method, path, data, content_type, headers=headers or {}
        )
        if response.streaming:
            body = b"".join([chunk async for chunk in response.streaming_content])
        else:
            body = response.content
        return response, body

    return async_to_sync(send)()
