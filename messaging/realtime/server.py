"""The Socket.IO server, its rooms and the presence store, chosen once from the settings.

With `REDIS_URL` set, emits go through Redis pub/sub (`AsyncRedisManager`) so that every
process delivers to its own sockets, and presence lives in Redis; without it, one process
works alone with in-memory state.
"""

import asyncio
import uuid

import socketio
from django.conf import settings

from messaging.realtime.presence import MemoryPresence, Presence, RedisPresence, redis_db_number

NAMESPACE = "/"
# A process whose heartbeat is older than this is taken for dead and its sockets uncounted.
PRESENCE_TTL_SECONDS: int = settings.SOCKETIO_PRESENCE_TTL_SECONDS
HEARTBEAT_SECONDS = PRESENCE_TTL_SECONDS / 3


def _redis_prefix() -> str:
    # The cache's prefix keeps deployments that share one Redis apart.
    return f"{settings.CACHES['default'].get('KEY_PREFIX') or 'music'}:socketio"


def redis_channel() -> str:
    """The pub/sub channel. Pub/sub ignores database numbers, so the channel carries it."""
    return f"{_redis_prefix()}:db{redis_db_number(settings.REDIS_URL)}"


def _allowed_origins() -> list[str] | None:
    # The browser frontends allowed by the API; None means same origin only (an empty list
    # would turn the check off in engine.io).
    origins = settings.SOCKETIO_CORS_ALLOWED_ORIGINS
    return list(origins) or None


# How long a new socket may wait for this process to catch up with Redis before it is refused.
CATCH_UP_SECONDS = 5.0
# A probe published before the listener's SUBSCRIBE reached Redis is lost: send another.
_FIRST_PROBE_INTERVAL_SECONDS = 0.05


class _AcceptedSocketsOnly:
    """Emits reach accepted sockets only.

    python-socketio counts a socket among "everyone" from the start of its `connect` handler,
    which awaits the database and Redis. A broadcast meanwhile, from this process or through
    Redis from another, would reach a socket that is not accepted yet, with news from before
    it came (an `activities` list without its user) and ahead of its welcome.
    """

    def get_participants(self, namespace, room):
        pending = set(self.pending_connect.get(namespace, ()))
        for sid, eio_sid in super().get_participants(namespace, room):
            if sid not in pending:
                yield sid, eio_sid


class LocalManager(_AcceptedSocketsOnly, socketio.AsyncManager):
    """One process alone: rooms in memory."""


class RedisPubSubManager(_AcceptedSocketsOnly, socketio.AsyncRedisManager):
    """Processes sharing Redis pub/sub, with a way for a new socket to wait until this
    process has caught up with what the others published.

    The listener subscribes in a background task started by the first connection, and then
    handles messages one by one, some time after they were published. Until it is subscribed,
    what others publish never arrives here; while it lags, what they published before a
    socket came may reach that socket after its welcome. So `connect` waits for
    `caught_up()` before accepting a socket.
    """

    def __init__(self, url: str, *, channel: str) -> None:
        super().__init__(url, channel=channel)
        # Probes of this process on their way, as the listener receives them -> their waiters.
        self._probes: dict[bytes, asyncio.Future[None]] = {}

    async def _listen(self):
        async for message in super()._listen():
            if self._probes:
                key = message if isinstance(message, bytes) else message.encode()
                arrived = self._probes.pop(key, None)
                if arrived is not None:
                    if not arrived.done():
                        arrived.set_result(None)
                    continue
            yield message

    async def caught_up(self, timeout: float = CATCH_UP_SECONDS) -> bool:
        """Publish a probe and wait until the listener receives it. Redis delivers messages
        in order, so the listener is then subscribed and has handled everything published
        before the probe. False if that takes longer than `timeout`."""
        # Other processes ignore it (a method they do not know, from another host).
        probe = {"method": "probe", "host_id": self.host_id, "probe": uuid.uuid4().hex}
        key = self.json.dumps(probe).encode()
        arrived = asyncio.get_running_loop().create_future()
        self._probes[key] = arrived
        interval = _FIRST_PROBE_INTERVAL_SECONDS
        try:
            async with asyncio.timeout(timeout):
                while True:
                    await self._publish(probe)
                    done, _ = await asyncio.wait({arrived}, timeout=interval)
                    if done:
                        return True
                    interval = min(interval * 2, 1.0)  # not subscribed yet, or lagging
        except TimeoutError:
            return False
        finally:
            self._probes.pop(key, None)


def _build() -> tuple[socketio.AsyncServer, Presence]:
    if settings.REDIS_URL:
        manager: socketio.AsyncManager = RedisPubSubManager(
            settings.REDIS_URL, channel=redis_channel()
        )
        presence: Presence = RedisPresence(
            settings.REDIS_URL,
            prefix=f"{_redis_prefix()}:presence",
            process_id=manager.host_id,
            ttl_seconds=PRESENCE_TTL_SECONDS,
        )
    else:
        manager = LocalManager()
        presence = MemoryPresence()
    server = socketio.AsyncServer(
        async_mode="asgi",
        client_manager=manager,
        cors_allowed_origins=_allowed_origins(),
    )
    return server, presence


sio, presence = _build()


async def caught_up() -> bool:
    """Whether this process has handled what other processes published until now (always,
    without Redis); see `RedisPubSubManager.caught_up`."""
    manager = sio.manager
    if isinstance(manager, RedisPubSubManager):
        return await manager.caught_up()
    return True


# The event loop that serves the sockets, for synchronous code that must reach them.
_loop: asyncio.AbstractEventLoop | None = None


def remember_loop() -> None:
    global _loop
    _loop = asyncio.get_running_loop()


def serving_loop() -> asyncio.AbstractEventLoop | None:
    """The loop serving this process's sockets, or None when this process serves none."""
    if _loop is None or _loop.is_closed():
        return None
    return _loop


def user_room(user_id: int) -> str:
    """Every socket of one user (all tabs, on any process) joins this room."""
    return f"user:{user_id}"
