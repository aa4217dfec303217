"""Keeps the cached artist index (subsonic/artist_index.py) exact: a committed write that can
change it makes every process build it again.

What the index holds: each artist some album or song credits, their name, picture and album
count. So any save or delete of an artist or an album, and a song added, deleted or saved
with its artist possibly changed (a save naming its fields and not the artist keeps it).
Signals rather than calls from the services, so the admin, the imports and the shell are
covered too (the platform totals do the same: stats/signals.py).
"""

from typing import Any

from django.db import transaction
from django.db.models import Model
from django.db.models.signals import post_delete, post_save

from catalog.models import Album, Artist, Song
from subsonic import artist_index

# The fields of a song its save may change that move the index.
SONG_INDEXED_FIELDS = frozenset({"artist", "artist_id"})


def _after_commit(using: str | None) -> None:
    # After commit: a read between the write and its commit would build the old index again
    # under the new generation. Robust: the write stands whatever the cache does.
    transaction.on_commit(artist_index.invalidate, using=using, robust=True)


def _artist_or_album_saved(sender: type[Model], using: str | None = None, **kwargs: Any) -> None:
    _after_commit(using)


def _song_saved(
    sender: type[Model],
    created: bool,
    update_fields: frozenset[str] | None,
    using: str | None = None,
    **kwargs: Any,
) -> None:
    if not created and update_fields is not None and not update_fields & SONG_INDEXED_FIELDS:
        return
    _after_commit(using)


def _deleted(sender: type[Model], using: str | None = None, **kwargs: Any) -> None:
    _after_commit(using)


def connect() -> None:
    for model in (Artist, Album):
        label = model._meta.label
        post_save.connect(
            _artist_or_album_saved, sender=model, dispatch_uid=f"subsonic-index-saved-{label}"
        )
    post_save.connect(_song_saved, sender=Song, dispatch_uid="subsonic-index-saved-catalog.Song")
    for model in (Artist, Album, Song):
        label = model._meta.label
        post_delete.connect(_deleted, sender=model, dispatch_uid=f"subsonic-index-deleted-{label}")
