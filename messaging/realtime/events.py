"""The Socket.IO events of API.md. The user always comes from the access token given at
connect time, never from an event's payload."""

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from functools import cache, partial, wraps
from typing import Any, ParamSpec, TypeVar

import pydantic
from django.conf import settings
from django.db import close_old_connections
from ninja_jwt.exceptions import AuthenticationFailed, InvalidToken, TokenError
from socketio.exceptions import ConnectionRefusedError as SocketRefused

from core.auth import bearer_jwt
from core.errors import DomainError, NotAuthenticated, validation_items
from messaging import services
from messaging.realtime import push
from messaging.realtime.channels import NAMESPACE, user_room
from messaging.realtime.server import (
    HEARTBEAT_SECONDS,
    caught_up,
    check_subscription,
    flush_presence,
    on_recovered,
    presence,
    presence_changed,
    remember_loop,
    sio,
    welcome,
)
from messaging.schemas import ActivityEvent, MessageEvent

logger = logging.getLogger(__name__)

CONNECTION_REFUSED = "A valid access token is required: connect with auth {token: <access JWT>}."
ACCOUNT_INACTIVE = services.SENDER_INACTIVE
SEND_PAYLOAD_INVALID = "Send {receiver_id, content}: the receiver's user id and the text."
SEND_FAILED = "The message could not be sent. Try again."
SERVER_UNAVAILABLE = "The chat server is unavailable right now. Try again shortly."

# How long a new socket may take to be accepted before its welcome is given up.
ACCEPT_WAIT_SECONDS = 5.0
# The `reason` of the `resync` sent to every socket of a process whose Redis subscription was
# cut (Redis restarted or unreachable) and is back: pushes meanwhile were lost.
RESYNC_DELIVERY_INTERRUPTED = "delivery_interrupted"

# This process's accepted sockets: sid -> user id.
_users_by_sid: dict[str, int] = {}
_tasks: set[asyncio.Task] = set()  # strong references to background tasks
_heartbeat_task: asyncio.Task | None = None

P = ParamSpec("P")
R = TypeVar("R")


@cache
def _database_threads() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(
        max_workers=settings.SOCKETIO_DATABASE_THREADS, thread_name_prefix="socketio-db"
    )


def on_database_thread(function: Callable[P, R]) -> Callable[P, Any]:
    """Run ORM code off the event loop, opening and closing connections as a request would,
    on the sockets' own threads: not on the one thread Django's sync code shares, where
    every socket's message would wait for all the others'.

    A plain executor call, not asgiref's `sync_to_async`, whose thread-sensitivity
    bookkeeping this pool does not need (the database connections are thread-local either
    way). Pushes the code makes without Redis are emitted by this coroutine once the thread
    is done, on the same wake-up of the loop as the result (`push.held_for_the_loop`)."""

    def run(pushes: list[push.Push], call: Callable[[], R]) -> R:
        close_old_connections()
        try:
            with push.held_for_the_loop(pushes):
                return call()
        finally:
            close_old_connections()

    @wraps(function)
    async def on_a_thread(*args: P.args, **kwargs: P.kwargs) -> R:
        pushes: list[push.Push] = []
        # In the thread's own context, not a copy of the caller's: what Django keeps per
        # thread (the cache's connection) then lasts from one call to the next, where a
        # copy made it anew for every message.
        call = partial(function, *args, **kwargs)
        try:
            return await asyncio.get_running_loop().run_in_executor(
                _database_threads(), run, pushes, call
            )
        finally:
            if pushes:  # what was committed is pushed even when the code raised after it
                await push.emit_held(pushes)

    return on_a_thread


# Per user, the events waiting or running. python-socketio runs each event as a task of its
# own, and their awaits (the database threads, Redis) would let a later one overtake an
# earlier one: one user's messages are stored, and activities set, in the order they came.
# Other users are not held.
_events_by_user: dict[int, tuple[asyncio.Lock, int]] = {}


def user_of(sid: str) -> int | None:
    """The user of an accepted socket of this process, None for any other sid."""
    return _users_by_sid.get(sid)


@asynccontextmanager
async def in_user_order(user_id: int) -> AsyncIterator[None]:
    lock, waiting = _events_by_user.get(user_id, (asyncio.Lock(), 0))
    _events_by_user[user_id] = (lock, waiting + 1)
    try:
        async with lock:  # asyncio's locks are taken in the order they were asked for
            yield
    finally:
        lock, waiting = _events_by_user[user_id]
        if waiting == 1:
            del _events_by_user[user_id]
        else:
            _events_by_user[user_id] = (lock, waiting - 1)


@on_database_thread
def _user_id_for(token: object) -> int | None:
    """The active user an access token names; None for anything else (expired included)."""
    if not isinstance(token, str) or not token:
        return None
    try:
        return bearer_jwt.get_user(bearer_jwt.get_validated_token(token)).pk
    except (InvalidToken, AuthenticationFailed, TokenError):
        return None


@on_database_thread
def _send(*, sender_id: int, receiver_id: int, content: str) -> None:
    # The service pushes `receive_message` and `message_sent` after commit, and refuses a
    # sender deactivated since the socket connected (NotAuthenticated).
    services.message_send(sender_id=sender_id, receiver_id=receiver_id, content=content)


def _contained(handler: Callable[..., Any]) -> Callable[..., Any]:
    """Log an unexpected failure (Redis or the database away) instead of losing it in a task."""

    @wraps(handler)
    async def run(*args: Any) -> Any:
        try:
            return await handler(*args)
        except Exception:
            logger.exception("Socket.IO %s failed", handler.__name__)
            return None

    return run


def _background(coroutine_function: Callable[..., Any], *args: Any) -> None:
    task = sio.start_background_task(coroutine_function, *args)
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)


def _legacy_events() -> bool:
    return settings.SOCKETIO_LEGACY_PRESENCE_EVENTS


async def _announce(event: str, user_ids: list[int]) -> None:
    """The Node original's per-user presence event, when the legacy events are on."""
    if not _legacy_events():
        return
    for user_id in user_ids:
        await sio.emit(event, user_id, namespace=NAMESPACE)


async def _beat(*, rewrite: bool = False) -> None:
    gone, back = await presence.heartbeat(rewrite=rewrite)
    presence_changed([*gone, *back], came_online=bool(back))
    await _announce("user_disconnected", gone)
    await _announce("user_connected", back)


async def _heartbeat() -> None:
    """Keep this process alive in shared presence and uncount processes that died; check
    that the Redis subscription still delivers; tell the rooms whose pushes Redis did not
    take, once it takes them, to resync."""
    failing = False
    while True:
        try:
            await _beat()
            await check_subscription()
            await asyncio.to_thread(push.resync_missed)
        except Exception as error:  # Redis away: try again at the next beat
            if not failing:  # once per outage
                logger.warning("Presence heartbeat failed (%s); retrying every beat", error)
            failing = True
        else:
            if failing:
                logger.warning("Presence heartbeat works again")
            failing = False
        await asyncio.sleep(HEARTBEAT_SECONDS)


async def _resync_everyone_here() -> None:
    """After this process's Redis subscription was cut and is back: what was pushed meanwhile
    never reached its sockets, and Redis may have lost presence (a restart keeps nothing).
    Write this process's sockets back into presence, then tell every socket here to resync
    and give it the presence of now."""
    try:
        await _beat(rewrite=True)
    except Exception:
        logger.exception("Could not write presence back after Redis returned")
    online = await presence.online()
    activities = await presence.activities()
    # This process's accepted sockets only: the other processes tell their own.
    local = {"namespace": NAMESPACE, "ignore_queue": True}
    await sio.emit("resync", {"reason": RESYNC_DELIVERY_INTERRUPTED}, **local)
    await sio.emit("users_online", online, **local)
    await sio.emit("activities", activities, **local)
    await asyncio.to_thread(push.resync_missed)


on_recovered(_resync_everyone_here)


def _ensure_started() -> None:
    """Idempotent start, from the ASGI lifespan or, if the server runs without it, at connect."""
    global _heartbeat_task
    remember_loop()
    if _heartbeat_task is None or _heartbeat_task.done():
        _heartbeat_task = sio.start_background_task(_heartbeat)


async def on_startup() -> None:
    _ensure_started()


async def on_shutdown() -> None:
    global _heartbeat_task
    if _heartbeat_task is not None:
        _heartbeat_task.cancel()
        _heartbeat_task = None
    _users_by_sid.clear()
    try:
        gone = await presence.stop()
        presence_changed(gone)
        await flush_presence()
        await _announce("user_disconnected", gone)
    except Exception:  # Redis away: the other processes' sweep will uncount these sockets
        logger.exception("Could not take this process's sockets off shared presence")
    await sio.shutdown()


@sio.event
async def connect(sid: str, environ: dict, auth: object = None) -> None:
    token = auth.get("token") if isinstance(auth, dict) else None
    try:
        user_id = await _user_id_for(token)
        came_online = user_id is not None and await presence.add(user_id)
    except Exception as error:  # the database or Redis away: refuse rather than half-accept
        logger.exception("Socket.IO connect failed")
        raise SocketRefused(SERVER_UNAVAILABLE) from error
    if user_id is None:
        raise SocketRefused(CONNECTION_REFUSED)
    # Accepted once this process has caught up with the others: it then hears what they send
    # the socket, and nothing they published before reaches it. After presence, which fails
    # at once when Redis is down.
    if not await caught_up():
        logger.error("Socket.IO connect refused: Redis pub/sub did not answer in time")
        try:
            await presence.remove(user_id)
        except Exception:
            logger.exception("Could not take a refused socket off presence")
        raise SocketRefused(SERVER_UNAVAILABLE)
    _ensure_started()
    _users_by_sid[sid] = user_id
    _background(_welcome, sid, user_id, came_online)


@_contained
async def _welcome(sid: str, user_id: int, came_online: bool) -> None:
    """Rooms and first events once the server has accepted the socket: events sent before the
    acceptance confuse Socket.IO clients."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + ACCEPT_WAIT_SECONDS
    while not sio.manager.is_connected(sid, NAMESPACE):
        if sid not in _users_by_sid or loop.time() > deadline:
            await _forget(sid)
            return
        await asyncio.sleep(0.01)
    if sio.manager.eio_sid_from_sid(sid, NAMESPACE) not in sio.eio.sockets:
        # The client went away while its token was being checked.
        await sio.disconnect(sid, namespace=NAMESPACE)
        return
    await sio.enter_room(sid, user_room(user_id), namespace=NAMESPACE)
    # The whole picture once, to this socket; everyone else hears of this user in a batch.
    await welcome(sid)
    if came_online:
        presence_changed([user_id], came_online=True)
        await _announce("user_connected", [user_id])


async def _forget(sid: str) -> None:
    user_id = _users_by_sid.pop(sid, None)
    if user_id is not None and await presence.remove(user_id):
        presence_changed([user_id])
        await _announce("user_disconnected", [user_id])


@sio.event
@_contained
async def disconnect(sid: str, reason: str | None = None) -> None:
    await _forget(sid)


@sio.event
@_contained
async def update_activity(sid: str, data: object = None) -> None:
    user_id = _users_by_sid.get(sid)
    if user_id is None:
        return
    try:
        activity = ActivityEvent.model_validate(data).activity
    except pydantic.ValidationError:
        return  # API.md has no error event for activities: a bad one is not shown
    async with in_user_order(user_id):
        if not await presence.set_activity(user_id, activity):
            return
        presence_changed([user_id])
        if _legacy_events():
            payload = {"user_id": user_id, "activity": activity}
            await sio.emit("activity_updated", payload, namespace=NAMESPACE)


@sio.event
@_contained
async def send_message(sid: str, data: object = None) -> None:
    user_id = _users_by_sid.get(sid)
    if user_id is None:
        return
    try:
        # Extra keys such as sender_id or senderId are ignored: the sender is the token's user.
        if isinstance(data, dict):
            data = {key: data[key] for key in MessageEvent.model_fields if key in data}
        payload = MessageEvent.model_validate(data)
    except pydantic.ValidationError as error:
        # A rule the content breaks is worded as REST words it; a payload of the wrong shape
        # gets the sentence that says what to send.
        reason = validation_items(error, location="body")[0]
        is_rule = reason["type"] in ("value_error", "string_too_long")
        await _message_error(sid, reason["msg"] if is_rule else SEND_PAYLOAD_INVALID)
        return
    try:
        async with in_user_order(user_id):
            await _send(sender_id=user_id, receiver_id=payload.receiver_id, content=payload.content)
    except NotAuthenticated as error:  # deactivated: this socket is done
        await _message_error(sid, error.detail)
        await sio.disconnect(sid, namespace=NAMESPACE)
    except DomainError as error:
        await _message_error(sid, error.detail)
    except Exception:
        logger.exception("send_message failed for user %s", user_id)
        await _message_error(sid, SEND_FAILED)


async def _message_error(sid: str, detail: str) -> None:
    await sio.emit("message_error", {"detail": detail}, to=sid, namespace=NAMESPACE)
