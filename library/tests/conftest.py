"""Playlist fixtures; songs and albums come from tests/factories.py."""

from collections.abc import Callable

import pytest

from library import services
from library.models import Playlist
from users.models import User


@pytest.fixture
def make_playlist(db) -> Callable[..., Playlist]:
    def make(owner: User, name: str = "Road Trip", *, songs=(), **fields) -> Playlist:
        playlist = services.playlist_create(owner=owner, name=name, **fields)
        for song in songs:
            services.playlist_item_add(playlist_id=playlist.pk, user=owner, song_id=song.pk)
        playlist.refresh_from_db()
        return playlist

    return make
