"""Reaching open sockets from synchronous Django code (a REST view, after commit).

With Redis, a write-only synchronous `RedisManager` publishes on the servers' channel and
every process, this one included, delivers to its own sockets; it works from any thread and
any process (a management command too). Without Redis, the sockets live in this process's
event loop, so the emit is handed to that loop and awaited from this thread.
"""

import asyncio
import json
import logging
from functools import cache
from typing import Any

import socketio
from django.conf import settings
from ninja.responses import NinjaJSONEncoder

from messaging.models import Message
from messaging.realtime import server
from messaging.schemas import MessageOut

logger = logging.getLogger(__name__)

# How long a request waits for the local event loop to take a push.
PUSH_TIMEOUT_SECONDS = 5

_scheduled: set[asyncio.Future] = set()  # strong references until the emits finish


def message_payload(message: Message) -> dict[str, Any]:
    """`MessageOut` exactly as the REST API renders it (same timestamp format)."""
    return json.loads(
        json.dumps(MessageOut.model_validate(message).model_dump(), cls=NinjaJSONEncoder)
    )


@cache
def _redis_writer() -> socketio.RedisManager:
    return socketio.RedisManager(
        settings.REDIS_URL, channel=server.redis_channel(), write_only=True
    )


def emit(event: str, data: Any, *, to: str) -> None:
    """Emit `event` to room `to` from synchronous code; failures are logged, not raised."""
    try:
        if settings.REDIS_URL:
            _redis_writer().emit(event, data, namespace=server.NAMESPACE, room=to)
            return
        loop = server.serving_loop()
        if loop is None:
            return  # this process serves no sockets, so no one here to tell
        emitting = server.sio.emit(event, data, to=to, namespace=server.NAMESPACE)
        try:
            on_loop_thread = asyncio.get_running_loop() is loop
        except RuntimeError:
            on_loop_thread = False
        if on_loop_thread:  # waiting here would block the very loop that must do the work
            task = loop.create_task(emitting)
            _scheduled.add(task)
            task.add_done_callback(_scheduled.discard)
            return
        asyncio.run_coroutine_threadsafe(emitting, loop).result(timeout=PUSH_TIMEOUT_SECONDS)
    except Exception:
        # The message is stored either way; a missed push is repaired by the next fetch.
        logger.exception("Could not push %s to %s", event, to)


def message_created(message: Message) -> None:
    """After commit: the receiver's sockets get `receive_message`, the sender's `message_sent`."""
    data = message_payload(message)
    emit("receive_message", data, to=server.user_room(message.receiver_id))
    emit("message_sent", data, to=server.user_room(message.sender_id))
