"""The Socket.IO server, its rooms and the presence store, chosen once from the settings.

With `REDIS_URL` set, emits go through Redis pub/sub (`AsyncRedisManager`) so that every
process delivers to its own sockets, and presence lives in Redis; without it, one process
works alone with in-memory state.
"""

import asyncio

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


def _build() -> tuple[socketio.AsyncServer, Presence]:
    if settings.REDIS_URL:
        manager = socketio.AsyncRedisManager(settings.REDIS_URL, channel=redis_channel())
        presence: Presence = RedisPresence(
            settings.REDIS_URL,
            prefix=f"{_redis_prefix()}:presence",
            process_id=manager.host_id,
            ttl_seconds=PRESENCE_TTL_SECONDS,
        )
    else:
        manager = None
        presence = MemoryPresence()
    server = socketio.AsyncServer(
        async_mode="asgi",
        client_manager=manager,
        cors_allowed_origins=_allowed_origins(),
    )
    return server, presence


sio, presence = _build()

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
