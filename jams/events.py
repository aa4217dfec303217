"""The Socket.IO events of Jams (docs/API.md section 8, "Jam"), on the chat's server: the
same sockets, the same token's user, the same database threads.

Every event is answered by its acknowledgement, `{"ok": true, ...}` or `{"ok": false,
"error": {"code", "detail"}}`; a refused one also sends the socket `jam_error`, and the
service it would have called has changed nothing (domain errors are raised before any
write, inside the service's transaction)."""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pydantic
from django.conf import settings

from core.errors import (
    Conflict,
    DomainError,
    Invalid,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    Throttled,
    validation_items,
)
from jams import selectors, services
from jams.push import member_room, parse_member_room, state_payload
from jams.schemas import (
    CommandEvent,
    EndedEvent,
    JamRefEvent,
    QueueAddEvent,
    QueueMoveEvent,
    QueueRemoveEvent,
    TimeSyncEvent,
)
from messaging.realtime.channels import NAMESPACE
from messaging.realtime.events import in_user_order, on_database_thread, user_of
from messaging.realtime.server import sio
from users.models import User

logger = logging.getLogger(__name__)

NOT_SIGNED_IN = "This socket is not signed in."
UNAVAILABLE = "The Jam could not be changed right now. Try again."
OK: dict[str, Any] = {"ok": True}

_CODES: tuple[tuple[type[DomainError], str], ...] = (
    (NotFound, "not_found"),
    (PermissionDenied, "forbidden"),
    (NotAuthenticated, "forbidden"),
    (Throttled, "too_fast"),
    (Invalid, "invalid"),
    (Conflict, "invalid"),
)

_tasks: set[asyncio.Task] = set()
_sweeper: asyncio.Task | None = None


def _server_clock_ms() -> float:
    return time.time() * 1000


async def _refused(sid: str, event: str, code: str, detail: str) -> dict[str, Any]:
    error = {"code": code, "detail": detail}
    await sio.emit("jam_error", {"event": event, **error}, to=sid, namespace=NAMESPACE)
    return {"ok": False, "error": error}


def _code_of(error: DomainError) -> str:
    return next((code for kind, code in _CODES if isinstance(error, kind)), "invalid")


def _detail_of(error: pydantic.ValidationError) -> str:
    item = validation_items(error, location="body")[0]
    where = ".".join(str(part) for part in item["loc"][1:])
    return f"{where}: {item['msg']}" if where else item["msg"]


Handler = Callable[[str, int, Any], Awaitable[dict[str, Any]]]


def _jam_event(schema: type[pydantic.BaseModel]) -> Callable[[Handler], Any]:
    """The common part of a Jam event: the socket's user, the payload validated by `schema`,
    the user's events in order, domain errors as a refusal, the rest as `unavailable`."""

    def wrap(handler: Handler) -> Any:
        event = handler.__name__

        async def run(sid: str, data: object = None) -> dict[str, Any]:
            user_id = user_of(sid)
            if user_id is None:
                return await _refused(sid, event, "forbidden", NOT_SIGNED_IN)
            try:
                payload = schema.model_validate(data)
            except pydantic.ValidationError as error:
                return await _refused(sid, event, "invalid", _detail_of(error))
            try:
                async with in_user_order(user_id):
                    return await handler(sid, user_id, payload)
            except DomainError as error:
                return await _refused(sid, event, _code_of(error), error.detail)
            except Exception:
                logger.exception("Socket.IO %s failed for user %s", event, user_id)
                return await _refused(sid, event, "unavailable", UNAVAILABLE)

        run.__name__ = event
        return sio.on(event, namespace=NAMESPACE)(run)

    return wrap


@on_database_thread
def _call(service: Callable[..., Any], user_id: int, **kwargs: Any) -> Any:
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        raise NotAuthenticated("Your account is no longer active.")
    return service(user=user, **kwargs)


@sio.on("time_sync", namespace=NAMESPACE)
async def time_sync(sid: str, data: object = None) -> dict[str, Any]:
    """NTP's four timestamps: `t1` (received) and `t2` (answered) on the server's clock."""
    received = _server_clock_ms()
    user_id = user_of(sid)
    if user_id is None:
        return await _refused(sid, "time_sync", "forbidden", NOT_SIGNED_IN)
    try:
        payload = TimeSyncEvent.model_validate(data)
    except pydantic.ValidationError as error:
        return await _refused(sid, "time_sync", "invalid", _detail_of(error))
    if payload.jam_id is not None and payload.rtt_ms is not None:
        _background(_report_rtt, payload.jam_id, user_id, payload.rtt_ms)
    return {"t0": payload.t0, "t1": received, "t2": _server_clock_ms()}


async def _report_rtt(jam_id: int, user_id: int, rtt_ms: int) -> None:
    try:
        await _call(services.report_rtt, user_id, jam_id=jam_id, rtt_ms=rtt_ms)
    except Exception:
        logger.debug("A round trip was not recorded", exc_info=True)


@on_database_thread
def _joined(jam_id: int, user_id: int) -> dict[str, Any] | None:
    if selectors.member_role(jam_id=jam_id, user_id=user_id) is None:
        raise NotFound(selectors.JAM_NOT_FOUND)
    services.touch([jam_id])
    services.announce_presence(jam_id)
    return state_payload(jam_id)


@_jam_event(JamRefEvent)
async def jam_join(sid: str, user_id: int, payload: Any) -> dict[str, Any]:
    state = await _joined(payload.jam_id, user_id)
    await sio.enter_room(sid, member_room(payload.jam_id, user_id), namespace=NAMESPACE)
    _ensure_sweeping()
    return {"ok": True, "state": state}


@_jam_event(JamRefEvent)
async def jam_leave(sid: str, user_id: int, payload: Any) -> dict[str, Any]:
    await sio.leave_room(sid, member_room(payload.jam_id, user_id), namespace=NAMESPACE)
    return OK


@_jam_event(CommandEvent)
async def jam_command(sid: str, user_id: int, payload: Any) -> dict[str, Any]:
    command = await _call(services.command, user_id, **payload.model_dump())
    return {"ok": True, "command": command.as_payload()}


@_jam_event(JamRefEvent)
async def jam_buffering(sid: str, user_id: int, payload: Any) -> dict[str, Any]:
    command = await _call(services.buffering, user_id, jam_id=payload.jam_id)
    if command is not None:  # the room holds: resume without the slow ones at the timeout
        asyncio.get_running_loop().call_later(
            settings.JAM_BUFFER_TIMEOUT_SECONDS + 0.05,
            lambda: _background(_resume_overdue, payload.jam_id),
        )
    return OK


# The payloads' fields are the services' arguments.
@_jam_event(JamRefEvent)
async def jam_ready(sid: str, user_id: int, payload: Any) -> dict[str, Any]:
    await _call(services.ready, user_id, **payload.model_dump())
    return OK


@_jam_event(EndedEvent)
async def jam_ended(sid: str, user_id: int, payload: Any) -> dict[str, Any]:
    await _call(services.ended, user_id, **payload.model_dump())
    return OK


@_jam_event(QueueAddEvent)
async def jam_queue_add(sid: str, user_id: int, payload: Any) -> dict[str, Any]:
    await _call(services.queue_add, user_id, **payload.model_dump())
    return OK


@_jam_event(QueueRemoveEvent)
async def jam_queue_remove(sid: str, user_id: int, payload: Any) -> dict[str, Any]:
    await _call(services.queue_remove, user_id, **payload.model_dump())
    return OK


@_jam_event(QueueMoveEvent)
async def jam_queue_move(sid: str, user_id: int, payload: Any) -> dict[str, Any]:
    await _call(services.queue_move, user_id, **payload.model_dump())
    return OK


# --- this process's sweep --------------------------------------------------------------------


def _background(coroutine_function: Callable[..., Awaitable[Any]], *args: Any) -> None:
    task = asyncio.ensure_future(coroutine_function(*args))
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)


@on_database_thread
def _resume_overdue_on_a_thread(jam_id: int | None) -> None:
    services.resume_overdue(jam_id=jam_id)


async def _resume_overdue(jam_id: int | None) -> None:
    try:
        await _resume_overdue_on_a_thread(jam_id)
    except Exception:
        logger.exception("Could not end a Jam's buffering hold")


@on_database_thread
def _sweep_on_a_thread(pairs: list[tuple[int, int]]) -> set[tuple[int, int]]:
    """Mark the Jams with sockets here active, close the idle ones, end overdue holds; the
    (jam, user) rooms whose member is gone (removed, left, or the Jam closed)."""
    present = services.members_present(pairs)
    services.touch(sorted({jam_id for jam_id, _ in present}))
    services.close_idle()
    services.resume_overdue()
    return set(pairs) - present


def _local_member_rooms() -> dict[tuple[int, int], str]:
    rooms = sio.manager.rooms.get(NAMESPACE, {})
    return {pair: room for room in list(rooms) if room and (pair := parse_member_room(room))}


async def _sweep_once() -> None:
    rooms = _local_member_rooms()
    gone = await _sweep_on_a_thread(list(rooms))
    for pair in gone:
        room = rooms[pair]
        for sid, _eio_sid in list(sio.manager.get_participants(NAMESPACE, room)):
            await sio.leave_room(sid, room, namespace=NAMESPACE)


async def _sweep() -> None:
    while True:
        try:
            await _sweep_once()
        except Exception:
            logger.exception("The Jam sweep failed; retrying")
        await asyncio.sleep(settings.JAM_SWEEP_SECONDS)


def _ensure_sweeping() -> None:
    global _sweeper
    if _sweeper is None or _sweeper.done():
        _sweeper = asyncio.ensure_future(_sweep())
