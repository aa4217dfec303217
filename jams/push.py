"""Jam announcements (jams/signals.py) pushed to the members' sockets in the room.

Each member's sockets in a Jam are in the room `member_room(jam_id, user_id)` (jams/events.py
puts them there on `jam_join`): a push goes to the rooms of the members present now, so a
member removed stops hearing the room at once, in every server process, with no room to
close. Sent through the chat's transport (messaging/realtime/push.py): Redis to every
process, or this process's serving loop."""

from typing import Any

import orjson
from django.dispatch import receiver

from core.renderers import dumps
from jams.models import JamMember
from jams.schemas import JamOut
from jams.selectors import jam_room
from jams.services import server_ms
from jams.signals import jam_changed, jam_commanded, jam_ended
from messaging.realtime.channels import user_room
from messaging.realtime.push import emit_together

ROOM_PREFIX = "jam:"


def member_room(jam_id: int, user_id: int) -> str:
    return f"{ROOM_PREFIX}{jam_id}:u:{user_id}"


def parse_member_room(room: str) -> tuple[int, int] | None:
    """(jam_id, user_id) of a member room's name, None for any other room."""
    if not room.startswith(ROOM_PREFIX):
        return None
    jam_id, _, user_id = room[len(ROOM_PREFIX) :].partition(":u:")
    if not (jam_id.isdigit() and user_id.isdigit()):
        return None
    return int(jam_id), int(user_id)


def state_payload(jam_id: int) -> dict[str, Any] | None:
    """`jam_state`: the Jam as REST renders it (file URLs relative: no request here), with
    the server's clock; None once it is closed."""
    jam = jam_room(jam_id=jam_id)
    if jam is None:
        return None
    state = orjson.loads(dumps(JamOut.model_validate(jam).model_dump()))
    state["server_ms"] = server_ms()
    return state


def _present_rooms(jam_id: int) -> list[str]:
    user_ids = JamMember.objects.filter(jam_id=jam_id, removed_at__isnull=True).values_list(
        "user_id", flat=True
    )
    return [member_room(jam_id, user_id) for user_id in user_ids]


@receiver(jam_changed, dispatch_uid="jams-push-state")
def on_jam_changed(sender: Any, *, jam_id: int, **kwargs: Any) -> None:
    state = state_payload(jam_id)
    if state is not None:
        emit_together([("jam_state", state, _present_rooms(jam_id))])


@receiver(jam_commanded, dispatch_uid="jams-push-command")
def on_jam_commanded(sender: Any, *, jam_id: int, command: dict[str, Any], **kwargs: Any) -> None:
    emit_together([("jam_command", command, _present_rooms(jam_id))])


@receiver(jam_ended, dispatch_uid="jams-push-ended")
def on_jam_ended(
    sender: Any, *, jam_id: int, reason: str, user_ids: list[int], **kwargs: Any
) -> None:
    """To each of the users' sockets (not only those in the room: a player elsewhere learns
    it too)."""
    closed = {"jam_id": jam_id, "reason": reason}
    emit_together([("jam_closed", closed, [user_room(user_id) for user_id in user_ids])])
