"""Songs and albums made through the real services, with real files: fixtures for every app's
tests (a pytest plugin the root conftest.py registers)."""

from collections.abc import Callable

import pytest

from catalog import services
from catalog.models import Album, Song
from tests.media_samples import png_bytes, upload, wav_bytes


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
        **extra,
    ) -> Song:
        return services.song_create(
            title=title,
            artist=artist,
            album_id=album.pk if album else None,
            audio_file=upload("song.wav", audio or wav_bytes()),
            image_file=upload("art.png", png_bytes()) if image else None,
            **extra,
        )

    return make


@pytest.fixture
def listeners(make_user) -> list:
    """Six listeners, for tests that count likes or plays by several people."""
    return [make_user() for _ in range(6)]
