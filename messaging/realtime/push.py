"""Reaching open sockets from synchronous Django code (a REST view, after commit).

With Redis, a write-only synchronous `RedisManager` publishes on the servers' channel and
every process, this one included, delivers to its own sockets; it works from any thread and
any process (a management command too). Without Redis, the sockets live in this process's
event loop, so the emit is handed to that loop, and this thread goes on without waiting.

A push that Redis does not take (Redis down, restarting, too slow) is lost, but the message
is stored: its room is remembered, and as soon as Redis takes messages again (the next push
that goes through, or the presence heartbeat) the sockets of that room are sent `resync`, so
that their clients fetch what they missed.
"""

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Callable, Coroutine, Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from typing import Any

import orjson
import redis
import socketio
from django.conf import settings
from redis.exceptions import RedisError

from core.cache import reconnect_once
from core.renderers import dumps
from messaging.models import Message
from messaging.realtime import server
from messaging.realtime.channels import NAMESPACE, presence_prefix, redis_channel, user_room
from messaging.realtime.presence import (
    emit_message,
    presence_message,
    publish_shared_state,
    set_shared_activity,
)
from messaging.schemas import ACTIVITY_MAX_LENGTH, MessageOut

logger = logging.getLogger(__name__)

# The `reason` of a `resync` sent to the sockets of a user after a push to them failed.
RESYNC_PUSH_FAILED = "push_failed"

# One push: an event, its payload, the room it goes to (or the rooms: each socket in any of
# them gets it once).
Push = tuple[str, Any, str | list[str]]

# Strong references until the emits finish.
_scheduled: set[asyncio.Future | concurrent.futures.Future] = set()

# A thread's pushes kept for the serving loop to emit itself (`held_for_the_loop`).
_held = threading.local()

# Rooms whose pushes Redis did not take, to be told to resync once it does.
_missed_rooms: set[str] = set()
_missed_lock = threading.Lock()


def message_payload(message: Message) -> dict[str, Any]:
    """`MessageOut` exactly as the REST API renders it: the same encoder (core/renderers)."""
    return orjson.loads(dumps(MessageOut.model_validate(message).model_dump()))


class _Publisher(socketio.RedisManager):
    """A write-only manager whose publish raises when Redis does not take the message
    (python-socketio's logs it and carries on, so a lost push would go unnoticed)."""

    def _publish(self, data: Any) -> Any:
        return self._reconnecting(lambda: self.redis.publish(self.channel, self.json.dumps(data)))

    def _reconnecting(self, send: Callable[[], Any]) -> Any:
        for attempt in (1, 2):  # a connection that Redis closed since the last push: reopen
            try:
                if not self.connected:
                    self._redis_connect()
                return send()
            except RedisError:
                self.connected = False
                if attempt == 2:
                    raise
        return None

    def publish_emits(self, pushes: Sequence[Push]) -> None:
        """Publish the emits of `pushes`, in order, in one round trip (a pipeline); raises
        when Redis does not take them. The messages are those python-socketio's `emit` would
        publish (`emit_message`: no callbacks; the payloads here are JSON, never bytes)."""
        messages = []
        for event, data, room in pushes:
            head, tail = emit_message(event, namespace=NAMESPACE, host_id=self.host_id, room=room)
            messages.append(head + self.json.dumps(data) + tail)

        def send() -> None:
            with self.redis.pipeline(transaction=False) as pipeline:
                for message in messages:
                    pipeline.publish(self.channel, message)
                pipeline.execute()

        self._reconnecting(send)


@cache
def _redis_writer() -> _Publisher:
    timeout = settings.REDIS_TIMEOUT_SECONDS
    return _Publisher(
        settings.REDIS_URL,
        channel=redis_channel(),
        write_only=True,
        redis_options={
            "socket_connect_timeout": timeout,
            "socket_timeout": timeout,
            "retry": reconnect_once(),
        },
    )


@cache
def _redis_client() -> redis.Redis:
    """A synchronous client for presence's shared store (see `on_activity_changed`)."""
    timeout = settings.REDIS_TIMEOUT_SECONDS
    return redis.Redis.from_url(
        settings.REDIS_URL,
        decode_responses=True,
        socket_connect_timeout=timeout,
        socket_timeout=timeout,
        retry=reconnect_once(),
    )


def _publish(event: str, data: Any, *, to: str | None) -> None:
    _redis_writer().emit(event, data, namespace=NAMESPACE, room=to)


def _missed(room: str | list[str], error: Exception) -> None:
    with _missed_lock:
        first = not _missed_rooms
        _missed_rooms.update([room] if isinstance(room, str) else room)
    if first:  # once per outage, not once per push
        logger.warning(
            "Redis did not take a push (%s): the sockets it was for are told to resync once "
            "it does",
            error,
        )


def resync_missed() -> int:
    """Send `resync` to every room whose push was lost, if Redis takes it now; returns how
    many rooms were told. Safe to call from any thread, and often (nothing to do is free)."""
    with _missed_lock:
        rooms = sorted(_missed_rooms)
        _missed_rooms.clear()
    told = 0
    for index, room in enumerate(rooms):
        try:
            _publish("resync", {"reason": RESYNC_PUSH_FAILED}, to=room)
        except RedisError:
            with _missed_lock:
                _missed_rooms.update(rooms[index:])
            break
        told += 1
    if told:
        logger.warning("Redis takes pushes again: told %d room(s) to resync", told)
    return told


@contextmanager
def held_for_the_loop(pushes: list[Push]) -> Iterator[None]:
    """Within, a push this thread makes without Redis is appended to `pushes` instead of
    handed to the serving loop, for a caller on that loop, which waits for this thread
    anyway, to emit them with `emit_held` once it resumes: the loop wakes once for the
    thread's result and its pushes instead of twice. With Redis this changes nothing."""
    _held.pushes = pushes
    try:
        yield
    finally:
        _held.pushes = None


async def emit_held(pushes: Sequence[Push]) -> None:
    """Emit, on the serving loop, what `held_for_the_loop` kept; failures are logged."""
    try:
        await _emit_in_turn(pushes)
    except Exception:
        # The message is stored either way; a missed push is repaired by the next fetch.
        logger.exception("Could not push %s", ", ".join(f"{e} to {room}" for e, _, room in pushes))


def emit_together(pushes: Sequence[Push]) -> None:
    """Emit each (event, data, room) of `pushes` from synchronous code, in order, handed over
    at once: one Redis round trip, or one hop to the serving loop (or kept for the loop, see
    `held_for_the_loop`). Failures are logged, not raised."""
    try:
        if settings.REDIS_URL:
            try:
                _redis_writer().publish_emits(pushes)
            except RedisError as error:
                for _, _, room in pushes:
                    _missed(room, error)
                return
            if _missed_rooms:
                resync_missed()
            return
        held: list[Push] | None = getattr(_held, "pushes", None)
        if held is not None:
            held.extend(pushes)
            return
        _on_serving_loop(lambda: _emit_in_turn(pushes))
    except Exception:
        # The message is stored either way; a missed push is repaired by the next fetch.
        logger.exception("Could not push %s", ", ".join(f"{e} to {room}" for e, _, room in pushes))


async def _emit_in_turn(pushes: Sequence[Push]) -> None:
    for event, data, room in pushes:
        await server.sio.emit(event, data, to=room, namespace=NAMESPACE)


def _on_serving_loop(work: Callable[[], Coroutine[Any, Any, Any]]) -> None:
    """Run the coroutine `work()` makes on the loop that serves this process's sockets,
    without waiting for it; a failure is logged.

    Without Redis only a process that serves sockets has anyone to push to; any other
    process (gunicorn, a command) has no serving loop, never builds a server, and does
    nothing here."""
    loop = server.serving_loop()
    if loop is None:
        return  # this process serves no sockets, so no one here to tell
    coroutine = work()
    try:
        on_loop_thread = asyncio.get_running_loop() is loop
    except RuntimeError:
        on_loop_thread = False
    if on_loop_thread:
        future: asyncio.Future | concurrent.futures.Future = loop.create_task(coroutine)
    else:
        # Handed over, not waited for: the thread (a socket's message, a request) goes on
        # while the loop emits, and the emits of one thread keep their order.
        future = asyncio.run_coroutine_threadsafe(coroutine, loop)
    _scheduled.add(future)
    future.add_done_callback(_pushed)


def _pushed(future: asyncio.Future | concurrent.futures.Future) -> None:
    _scheduled.discard(future)
    if not future.cancelled() and future.exception() is not None:
        # The message is stored either way; a missed push is repaired by the next fetch.
        logger.error("A push failed", exc_info=future.exception())


def on_message_committed(sender: type[Message], *, message: Message, **kwargs: Any) -> None:
    """`message_committed`: the receiver's sockets get `receive_message`, the sender's
    `message_sent`."""
    data = message_payload(message)
    emit_together(
        [
            ("receive_message", data, user_room(message.receiver_id)),
            ("message_sent", data, user_room(message.sender_id)),
        ]
    )


def shown_activity(activity: str) -> str:
    """`activity` cut to what `update_activity` takes (ACTIVITY_MAX_LENGTH), with an ellipsis."""
    if len(activity) <= ACTIVITY_MAX_LENGTH:
        return activity
    return activity[: ACTIVITY_MAX_LENGTH - 1].rstrip() + "…"


def _activity_updated(user_id: int, activity: str) -> dict[str, Any] | None:
    """The legacy `activity_updated` event's payload, None when those events are off."""
    if not settings.SOCKETIO_LEGACY_PRESENCE_EVENTS:
        return None
    return {"user_id": user_id, "activity": activity}


async def _set_activity_here(user_id: int, activity: str) -> None:
    if await server.presence.set_activity(user_id, activity):
        server.presence_changed([user_id])
        if legacy := _activity_updated(user_id, activity):
            await server.sio.emit("activity_updated", legacy, namespace=NAMESPACE)


def on_activity_changed(sender: Any, *, user_id: int, activity: str, **kwargs: Any) -> None:
    """`activity_changed` (users/signals.py), sent after a commit in any process (library's
    now playing, from a Subsonic request): as the `update_activity` event does, the user's
    activity is stored in presence and everyone gets `activity_updated`, if the user is
    online; an offline user has no activity to show.

    With Redis, from any process: presence's shared store is written here and the event is
    published to every process. (A process holding the user's sockets keeps its own copy of
    their activities only to write presence back after Redis lost it: it then restores the
    one it last set itself, until the next change.) Without Redis: on this process's serving
    loop, if it serves sockets. Failures are logged, not raised: the write is committed."""
    activity = shown_activity(activity)
    try:
        if not settings.REDIS_URL:
            _on_serving_loop(lambda: _set_activity_here(user_id, activity))
            return
        client, prefix = _redis_client(), presence_prefix()
        if set_shared_activity(client, prefix=prefix, user_id=user_id, activity=activity):
            # One user's batch of one: a gunicorn worker has no loop to gather changes on.
            publish_shared_state(
                client,
                prefix=prefix,
                channel=redis_channel(),
                message=presence_message(namespace=NAMESPACE, host_id="presence"),
                user_ids=[user_id],
            )
            if legacy := _activity_updated(user_id, activity):
                _publish("activity_updated", legacy, to=None)
    except Exception:
        logger.exception("Could not show the activity of user %s", user_id)
