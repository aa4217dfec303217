"""Playlist fixtures; songs and albums come from the catalog's own fixtures."""

from collections.abc import Callable
from typing import Any

import pytest

from catalog.tests.conftest import make_album, make_song  # noqa: F401
from library import services
from library.models import Playlist
from tests.helpers import iso
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
        "owner": user_public(playlist.owner),
        "song_count": song_count,
        "duration": duration,
        "image_url": f"http://testserver/media/{image}" if image else None,
        "created_at": iso(playlist.created_at),
        "updated_at": iso(playlist.updated_at),
    }


def song_ids(playlist: Playlist) -> list[int]:
    """The playlist's song ids in position order, after checking positions are 0..n-1."""
    rows = list(playlist.items.order_by("position").values_list("position", "song_id"))
    assert [position for position, _ in rows] == list(range(len(rows)))
    return [song_id for _, song_id in rows]
