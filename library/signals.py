"""Deleting a song (alone, or with its album) takes it out of every playlist and closes the
gaps; deleting a playlist (or its owner's account) removes its image after commit."""

from typing import Any

from django.db.models import Subquery
from django.db.models.signals import post_delete, pre_delete

from catalog.models import Song
from core.files.storage import delete_after_commit
from library import services
from library.models import Playlist, PlaylistItem

_HELD_IN = "_library_playlist_ids"


def _lock_playlists_of_song(sender: type[Song], instance: Song, **kwargs: Any) -> None:
    """Before the song's items go (CASCADE): lock the playlists that hold it, in id order as
    every multi-playlist write does, and note them for `_renumber`."""
    holding = PlaylistItem.objects.filter(song_id=instance.pk).values("playlist_id")
    ids = (
        Playlist.objects.select_for_update()
        .filter(pk__in=Subquery(holding))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    setattr(instance, _HELD_IN, list(ids))


def _renumber(sender: type[Song], instance: Song, **kwargs: Any) -> None:
    playlist_ids = getattr(instance, _HELD_IN, None)
    if playlist_ids:
        services.playlists_renumber(playlist_ids=playlist_ids)


def _delete_image(sender: type[Playlist], instance: Playlist, **kwargs: Any) -> None:
    delete_after_commit(instance.image.name)


def connect() -> None:
    pre_delete.connect(_lock_playlists_of_song, sender=Song, dispatch_uid="library_song_pre")
    post_delete.connect(_renumber, sender=Song, dispatch_uid="library_song_post")
    post_delete.connect(_delete_image, sender=Playlist, dispatch_uid="library_playlist_image")
