"""Reads of Jams: one room with its members and queue, the caller's current one, and the
line presence shows for its members."""

from django.db.models import Prefetch, QuerySet

from core.errors import NotFound
from jams.models import Jam, JamItem, JamMember
from users.models import User

JAM_NOT_FOUND = "No Jam with this id."
NOT_IN_A_JAM = "You are not in a Jam."


def _with_room(jams: QuerySet[Jam]) -> QuerySet[Jam]:
    """Members (not the removed) with their users, the queue with each song, its album (the
    image fallback) and who added it: four queries for a whole room."""
    return jams.select_related("host").prefetch_related(
        Prefetch(
            "members",
            queryset=JamMember.objects.filter(removed_at__isnull=True).select_related("user"),
            to_attr="present",
        ),
        Prefetch(
            "items",
            queryset=JamItem.objects.select_related("song__album", "added_by"),
            to_attr="queue",
        ),
    )


def jam_get(*, jam_id: int, user: User) -> Jam:
    """An open Jam the caller is in; anything else is a 404 (its existence is not told)."""
    jam = (
        _with_room(Jam.objects.filter(pk=jam_id, closed_at__isnull=True))
        .filter(members__user=user, members__removed_at__isnull=True)
        .first()
    )
    if jam is None:
        raise NotFound(JAM_NOT_FOUND)
    return jam


def jam_room(*, jam_id: int) -> Jam | None:
    """An open Jam whatever the caller (the pushes to its members), or None."""
    return _with_room(Jam.objects.filter(pk=jam_id, closed_at__isnull=True)).first()


def current_jam(*, user: User) -> Jam:
    jam = (
        _with_room(Jam.objects.filter(closed_at__isnull=True))
        .filter(members__user=user, members__removed_at__isnull=True)
        .order_by("-id")
        .first()
    )
    if jam is None:
        raise NotFound(NOT_IN_A_JAM)
    return jam


def member_role(*, jam_id: int, user_id: int) -> str | None:
    """The role of a present member of an open Jam, else None."""
    return (
        JamMember.objects.filter(
            jam_id=jam_id, user_id=user_id, removed_at__isnull=True, jam__closed_at__isnull=True
        )
        .values_list("role", flat=True)
        .first()
    )


def now_playing_text(jam_id: int) -> tuple[str, list[int]]:
    """The activity a Jam's members show ("In a Jam: 3 listening to Halo by Beyoncé"), and
    those members' ids."""
    jam = Jam.objects.filter(pk=jam_id).select_related("now_item__song").first()
    if jam is None or jam.closed_at is not None:
        return "", []
    user_ids = list(
        JamMember.objects.filter(jam_id=jam_id, removed_at__isnull=True).values_list(
            "user_id", flat=True
        )
    )
    text = f"In a Jam: {len(user_ids)} listening"
    if jam.now_item is not None:
        song = jam.now_item.song
        text += f" to {song.title} by {song.artist_name}"
    return text, user_ids
