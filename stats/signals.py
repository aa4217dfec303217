"""Keeps the cached platform totals exact: a write that can move a total makes the next read
count again, once its transaction commits.

Signals rather than calls from the services, so the admin, the CSV import and the shell are
covered too, and so that no app imports `stats` (stats reads the others; nothing imports it).
"""

from typing import Any

from django.db import transaction
from django.db.models import Model
from django.db.models.signals import post_delete, post_save

from catalog.models import Album, Artist, Song
from stats.selectors import invalidate_platform_totals
from users.models import User

# The fields a save may change that move a total (besides creating or deleting a row):
# whether a user counts in `total_users`.
COUNTED_FIELDS: dict[type[Model], frozenset[str]] = {
    Song: frozenset(),
    Album: frozenset(),
    Artist: frozenset(),
    User: frozenset({"is_active"}),
}


def _after_commit(using: str | None) -> None:
    # Never before: a rolled-back write must not cost a count, and a read between the write
    # and its commit would cache the old totals again. Robust: the write stands whatever the
    # cache does (the totals then catch up within TOTALS_CACHE_SECONDS).
    transaction.on_commit(invalidate_platform_totals, using=using, robust=True)


def _saved(
    sender: type[Model],
    created: bool,
    update_fields: frozenset[str] | None,
    using: str | None = None,
    **kwargs: Any,
) -> None:
    # A save that names its fields and none of them moves a total (a user's last_login at
    # every sign-in, a song's title) keeps the cache.
    if not created and update_fields is not None and not update_fields & COUNTED_FIELDS[sender]:
        return
    _after_commit(using)


def _deleted(sender: type[Model], using: str | None = None, **kwargs: Any) -> None:
    _after_commit(using)


def connect() -> None:
    for model in COUNTED_FIELDS:
        label = model._meta.label
        post_save.connect(_saved, sender=model, dispatch_uid=f"stats-totals-saved-{label}")
        post_delete.connect(_deleted, sender=model, dispatch_uid=f"stats-totals-deleted-{label}")
