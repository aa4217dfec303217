"""A bare python-socketio server: the floor under the project's real-time layer.

    .venv/bin/python bench/socketio_bare.py --port 8900 [--batch-seconds 0.1] \\
        [--redis-url redis://127.0.0.1:6390/0 --redis-prefix swarm-bare]

bench/socket_swarm.py starts it for `--target bare` (one process, or two sharing a Redis with
`--processes 2`); nothing else uses it. It is the same python-socketio `AsyncServer` under
uvicorn as config/asgi.py, speaking the events of the new presence design (docs/API.md, 8),
with nothing of the project's: no Django, no database, no token check, no rate limit. What
the project costs beyond it is the cost of those.

- **Connect.** The auth `token` is the user id as a string (anything else is refused with
  `44`). Once the socket is accepted it gets `users_online` `[user_id, ...]` and `activities`
  `[[user_id, activity], ...]`, then joins the rooms that hear the rest.
- **Presence.** One socket or more per user; a user's first socket brings it online with the
  activity "Idle", its last one takes it offline. Every change (online, offline, activity) is
  sent to every welcomed socket in a `presence` frame `{"online": [[user_id, activity], ...],
  "offline": [user_id, ...]}` holding the current state of each user that changed: at most
  one frame per `--batch-seconds`, the first change after a quiet spell at once.
- **Messages.** `send_message` `{receiver_id, content}` and `POST /api/messages/` (header
  `Authorization: Bearer <user id>`) send `receive_message` to the receiver's sockets and
  `message_sent` to the sender's, a MessageOut-like dict with an increasing id; nothing is
  stored. `message_error` `{detail}` for a payload of the wrong shape or to oneself.
- **Several processes.** With `--redis-url`, emits go through python-socketio's
  `AsyncRedisManager` and presence lives in two Redis hashes (sockets per user, activity per
  user) under `--redis-prefix`; each process batches the changes of its own sockets, and
  holds deliveries from the channel while it reads and sends a welcome (so no batch lands
  between the two). Kept simple: no heartbeat, no catching up with the channel.

`GET /api/health/` answers 200, so the bench waits for it as for the project.

`--text-packets` uses python-socketio's own switch for packets that never carry binary
attachments (`uses_binary_events = False`): stock python-socketio walks every value of every
payload looking for bytes, which in a connect storm is about half of this server's CPU (each
welcome carries every online user twice). The bench passes it with `--bare-text-packets`.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from typing import Any, Protocol

import orjson
import socketio
import uvicorn
from redis import asyncio as aioredis

NAMESPACE = "/"
IDLE = "Idle"
# The sockets that had their welcome, or are having it: only they hear `presence`.
WELCOMED = "welcomed"
ACCEPT_WAIT_SECONDS = 5.0
CONTENT_MAX_LENGTH = 2000
PAYLOAD_INVALID = "Send {receiver_id, content}: the receiver's user id and the text."
TO_SELF = "You cannot send a message to yourself."


def user_room(user_id: int) -> str:
    return f"user:{user_id}"


class State(Protocol):
    async def add(self, user_id: int) -> bool: ...
    async def remove(self, user_id: int) -> bool: ...
    async def online(self) -> list[int]: ...
    async def activities(self) -> list[list[Any]]: ...
    async def set_activity(self, user_id: int, activity: str) -> bool: ...
    async def current(self, user_ids: Iterable[int]) -> tuple[list[list[Any]], list[int]]: ...
    async def next_id(self) -> int: ...


class MemoryState:
    """One process alone."""

    def __init__(self) -> None:
        self.sockets: Counter[int] = Counter()
        self.activity: dict[int, str] = {}
        self.ids = itertools.count(1)

    async def add(self, user_id: int) -> bool:
        self.sockets[user_id] += 1
        if self.sockets[user_id] == 1:
            self.activity[user_id] = IDLE
            return True
        return False

    async def remove(self, user_id: int) -> bool:
        if self.sockets[user_id] <= 0:
            return False
        self.sockets[user_id] -= 1
        if self.sockets[user_id] == 0:
            del self.sockets[user_id]
            self.activity.pop(user_id, None)
            return True
        return False

    async def online(self) -> list[int]:
        return sorted(self.sockets)

    async def activities(self) -> list[list[Any]]:
        return [[user_id, self.activity[user_id]] for user_id in sorted(self.activity)]

    async def set_activity(self, user_id: int, activity: str) -> bool:
        if user_id not in self.activity:
            return False
        self.activity[user_id] = activity
        return True

    async def current(self, user_ids: Iterable[int]) -> tuple[list[list[Any]], list[int]]:
        online, offline = [], []
        for user_id in sorted(user_ids):
            if user_id in self.activity:
                online.append([user_id, self.activity[user_id]])
            else:
                offline.append(user_id)
        return online, offline

    async def next_id(self) -> int:
        return next(self.ids)


class RedisState:
    """Processes sharing a Redis: sockets per user and activity per user in two hashes (a
    user's activity is set exactly while it is online)."""

    def __init__(self, url: str, prefix: str) -> None:
        # A connect storm runs hundreds of these at once: they wait for a connection rather
        # than fail (redis-py's pool refuses past 100 by default).
        pool = aioredis.BlockingConnectionPool.from_url(
            url, max_connections=100, timeout=10, decode_responses=True
        )
        self.redis = aioredis.Redis(connection_pool=pool)
        self.sockets_key = f"{prefix}:sockets"
        self.activity_key = f"{prefix}:activity"
        self.ids_key = f"{prefix}:ids"

    async def add(self, user_id: int) -> bool:
        if await self.redis.hincrby(self.sockets_key, str(user_id), 1) == 1:
            await self.redis.hset(self.activity_key, str(user_id), IDLE)
            return True
        return False

    async def remove(self, user_id: int) -> bool:
        if await self.redis.hincrby(self.sockets_key, str(user_id), -1) <= 0:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.hdel(self.sockets_key, str(user_id))
                pipe.hdel(self.activity_key, str(user_id))
                await pipe.execute()
            return True
        return False

    async def online(self) -> list[int]:
        return sorted(int(key) for key in await self.redis.hkeys(self.activity_key))

    async def activities(self) -> list[list[Any]]:
        stored = await self.redis.hgetall(self.activity_key)
        return [[user_id, stored[str(user_id)]] for user_id in sorted(map(int, stored))]

    async def set_activity(self, user_id: int, activity: str) -> bool:
        if not await self.redis.hexists(self.sockets_key, str(user_id)):
            return False
        await self.redis.hset(self.activity_key, str(user_id), activity)
        return True

    async def current(self, user_ids: Iterable[int]) -> tuple[list[list[Any]], list[int]]:
        ordered = sorted(user_ids)
        values = await self.redis.hmget(self.activity_key, [str(u) for u in ordered])
        online = [[u, a] for u, a in zip(ordered, values, strict=True) if a is not None]
        offline = [u for u, a in zip(ordered, values, strict=True) if a is None]
        return online, offline

    async def next_id(self) -> int:
        return int(await self.redis.incr(self.ids_key))


class TextPacket(socketio.packet.Packet):
    """A packet that never looks for binary attachments (see the module docstring)."""

    uses_binary_events = False


class OrderedRedisManager(socketio.AsyncRedisManager):
    """python-socketio's Redis manager whose deliveries from the channel wait while a welcome
    is read and sent (`gate`): no batch lands between a socket joining the rooms and its
    snapshot, where one newer than the snapshot would be undone by it."""

    def __init__(self, url: str, *, channel: str, gate: asyncio.Lock) -> None:
        # Every emit publishes on a pooled connection; a storm's emits run at once.
        super().__init__(url, channel=channel, redis_options={"max_connections": 1000})
        self.gate = gate

    async def _handle_emit(self, message: dict) -> None:
        async with self.gate:
            await super()._handle_emit(message)


class Batcher:
    """Collects the users whose presence changed and sends their current state at most once
    per `seconds`; the first change after a quiet spell goes at once."""

    def __init__(self, sio: socketio.AsyncServer, state: State, seconds: float) -> None:
        self.sio = sio
        self.state = state
        self.seconds = seconds
        self.changed: set[int] = set()
        self.last = float("-inf")
        self.task: asyncio.Task | None = None

    def mark(self, user_id: int) -> None:
        self.changed.add(user_id)
        if self.task is None:
            delay = max(0.0, self.last + self.seconds - time.monotonic())
            self.task = asyncio.get_running_loop().create_task(self._flush(delay))

    async def _flush(self, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        # From here on a new change schedules the next frame, a window after this one.
        self.last = time.monotonic()
        self.task = None
        users, self.changed = self.changed, set()
        online, offline = await self.state.current(users)
        payload = {"online": online, "offline": offline}
        await self.sio.emit("presence", payload, room=WELCOMED, namespace=NAMESPACE)


def build(args: argparse.Namespace) -> socketio.ASGIApp:
    # Held while a welcome is read and sent, and by each delivery from Redis.
    gate = asyncio.Lock()
    if args.redis_url:
        channel = f"{args.redis_prefix}:socketio"
        manager: socketio.AsyncManager = OrderedRedisManager(
            args.redis_url, channel=channel, gate=gate
        )
        state: State = RedisState(args.redis_url, args.redis_prefix)
    else:
        manager = socketio.AsyncManager()
        state = MemoryState()
    serializer = TextPacket if args.text_packets else "default"
    sio = socketio.AsyncServer(async_mode="asgi", client_manager=manager, serializer=serializer)
    batcher = Batcher(sio, state, args.batch_seconds)
    users_by_sid: dict[str, int] = {}
    tasks: set[asyncio.Task] = set()  # strong references to the welcomes

    async def welcome(sid: str, user_id: int) -> None:
        # Events sent before the CONNECT answer confuse clients: wait for the acceptance.
        deadline = time.monotonic() + ACCEPT_WAIT_SECONDS
        while not sio.manager.is_connected(sid, NAMESPACE):
            if sid not in users_by_sid or time.monotonic() > deadline:
                return
            await asyncio.sleep(0.005)
        # In the rooms before the snapshot is read, so every later change reaches the socket;
        # the snapshot straight to it (not through Redis), with no delivery in between: a
        # batch that lands before it is older than it, one after it may be older too but is
        # followed by the batch of the change that made it stale.
        async with gate:
            await sio.enter_room(sid, user_room(user_id), namespace=NAMESPACE)
            await sio.enter_room(sid, WELCOMED, namespace=NAMESPACE)
            online, activities = await state.online(), await state.activities()
            here = {"to": sid, "namespace": NAMESPACE, "ignore_queue": True}
            await sio.emit("users_online", online, **here)
            await sio.emit("activities", activities, **here)

    @sio.event
    async def connect(sid: str, environ: dict, auth: object = None) -> None:
        token = auth.get("token") if isinstance(auth, dict) else None
        if not isinstance(token, str) or not token.isdigit():
            raise socketio.exceptions.ConnectionRefusedError("A user id is required as token.")
        user_id = int(token)
        users_by_sid[sid] = user_id
        if await state.add(user_id):
            batcher.mark(user_id)
        task = asyncio.get_running_loop().create_task(welcome(sid, user_id))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    @sio.event
    async def disconnect(sid: str, reason: str | None = None) -> None:
        user_id = users_by_sid.pop(sid, None)
        if user_id is not None and await state.remove(user_id):
            batcher.mark(user_id)

    @sio.event
    async def update_activity(sid: str, data: object = None) -> None:
        user_id = users_by_sid.get(sid)
        activity = data.get("activity") if isinstance(data, dict) else None
        if user_id is None or not isinstance(activity, str) or not 0 < len(activity) <= 200:
            return
        if await state.set_activity(user_id, activity):
            batcher.mark(user_id)

    async def deliver(sender_id: int, data: object) -> tuple[dict[str, Any] | None, str]:
        """The message sent, or None and why not."""
        receiver_id = data.get("receiver_id") if isinstance(data, dict) else None
        content = data.get("content") if isinstance(data, dict) else None
        if not isinstance(receiver_id, int) or not isinstance(content, str):
            return None, PAYLOAD_INVALID
        if not content.strip() or len(content) > CONTENT_MAX_LENGTH:
            return None, PAYLOAD_INVALID
        if receiver_id == sender_id:
            return None, TO_SELF
        message = {
            "id": await state.next_id(),
            "sender_id": sender_id,
            "receiver_id": receiver_id,
            "content": content,
            "created_at": datetime.now(UTC).isoformat(),
        }
        await sio.emit("receive_message", message, room=user_room(receiver_id))
        await sio.emit("message_sent", message, room=user_room(sender_id))
        return message, ""

    @sio.event
    async def send_message(sid: str, data: object = None) -> None:
        user_id = users_by_sid.get(sid)
        if user_id is None:
            return
        message, error = await deliver(user_id, data)
        if message is None:
            await sio.emit("message_error", {"detail": error}, to=sid, namespace=NAMESPACE)

    async def http(scope: dict, receive: Callable[[], Awaitable[dict]], send: Callable) -> None:
        """The two HTTP paths the bench uses; everything else 404."""

        async def answer(status: int, body: object) -> None:
            content = orjson.dumps(body)
            headers = [(b"content-type", b"application/json")]
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": content})

        if scope["type"] != "http":
            return
        if scope["path"] == "/api/health/":
            await answer(200, {"status": "ok"})
            return
        if scope["path"] != "/api/messages/" or scope["method"] != "POST":
            await answer(404, {"detail": "Not found."})
            return
        body = b""
        while True:
            chunk = await receive()
            body += chunk.get("body", b"")
            if not chunk.get("more_body"):
                break
        authorization = dict(scope["headers"]).get(b"authorization", b"").decode()
        token = authorization.removeprefix("Bearer ")
        if not token.isdigit():
            await answer(401, {"detail": "A user id is required as bearer token."})
            return
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            data = None
        message, error = await deliver(int(token), data)
        if message is None:
            await answer(422, {"detail": error})
        else:
            await answer(201, message)

    async def on_shutdown() -> None:
        # Shared presence: this process's sockets leave it (the others go on counting).
        for user_id in list(users_by_sid.values()):
            await state.remove(user_id)
        users_by_sid.clear()

    return socketio.ASGIApp(sio, other_asgi_app=http, on_shutdown=on_shutdown)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--batch-seconds", type=float, default=0.1)
    parser.add_argument("--redis-url", default="")
    parser.add_argument("--redis-prefix", default="swarm-bare")
    parser.add_argument("--text-packets", action="store_true", help="no binary-attachment walk")
    args = parser.parse_args()
    # uvicorn as the bench runs the project's: uvloop, httptools, websockets when installed.
    uvicorn.run(build(args), host=args.host, port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
