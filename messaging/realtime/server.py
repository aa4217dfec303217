"""The Socket.IO server, its rooms and the presence store, chosen once from the settings.

With `REDIS_URL` set, emits go through Redis pub/sub (`AsyncRedisManager`) so that every
process delivers to its own sockets, and presence lives in Redis; without it, one process
works alone with in-memory state.
"""

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from functools import cache
from typing import Any

import engineio
import socketio
from django.conf import settings
from redis import asyncio as aioredis

from messaging.realtime import fast_json
from messaging.realtime.batch import PresenceBatch, WelcomeBatch
from messaging.realtime.channels import NAMESPACE, presence_prefix, redis_channel
from messaging.realtime.presence import (
    MemoryPresence,
    Presence,
    RedisPresence,
    emit_message,
    presence_message,
    shared_redis,
)

logger = logging.getLogger(__name__)

# A process whose heartbeat is older than this is taken for dead and its sockets uncounted.
PRESENCE_TTL_SECONDS: int = settings.SOCKETIO_PRESENCE_TTL_SECONDS
HEARTBEAT_SECONDS = PRESENCE_TTL_SECONDS / 3


def _own_origins(environ: dict[str, Any]) -> set[str]:
    """The origins of the server's own pages (the Jam demo page), as engine.io counts them
    when no list is given: the request's host, and the one a proxy forwarded."""
    host = environ.get("HTTP_HOST", "")
    scheme = environ.get("wsgi.url_scheme", "http")
    forwarded_scheme = environ.get("HTTP_X_FORWARDED_PROTO", scheme).split(",")[0].strip()
    forwarded_host = environ.get("HTTP_X_FORWARDED_HOST", host).split(",")[0].strip()
    return {f"{scheme}://{host}", f"{forwarded_scheme}://{forwarded_host}"}


def _allowed_origins() -> Callable[[str | None, dict[str, Any]], bool]:
    """The browser frontends allowed by the API, and the server's own origin always: given a
    list, engine.io would accept only the list, and the server's own pages could not connect
    wherever a frontend's origin is configured."""
    frontends = frozenset(settings.SOCKETIO_CORS_ALLOWED_ORIGINS)

    def allowed(origin: str | None, environ: dict[str, Any]) -> bool:
        return origin in frontends or origin in _own_origins(environ)

    return allowed


# How long a new socket may wait for this process to catch up with Redis before it is refused.
CATCH_UP_SECONDS = 5.0
# A probe published before the listener's SUBSCRIBE reached Redis is lost: send another.
_FIRST_PROBE_INTERVAL_SECONDS = 0.05
# Waits between attempts to subscribe again after the subscription failed: doubling from the
# first to the last, so a Redis that comes back is heard again within about a second.
LISTEN_RETRY_MIN_SECONDS = 0.05
LISTEN_RETRY_MAX_SECONDS = 1.0


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


async def _fan_out(
    manager: socketio.AsyncManager,
    event: str,
    data: Any,
    *,
    namespace: str,
    room: str | None,
    skip_sid: Any,
) -> None:
    """python-socketio's emit without a callback, minus a task per recipient.

    Its emit encodes the packet once, then starts one task per recipient and waits for them
    all: a broadcast to 2,000 sockets made 2,000 tasks. Each task only puts the packet on
    its socket's queue (unbounded, so the put never waits); here that is done in a plain
    loop, and one closed socket does not keep the packet from the others."""
    if namespace not in manager.rooms:
        return
    if isinstance(data, tuple):
        data = list(data)  # a tuple is several arguments, as python-socketio reads it
    elif data is not None:
        data = [data]
    else:
        data = []
    skipped = skip_sid if isinstance(skip_sid, list) else [skip_sid]
    # No bytes in these events: python-socketio would otherwise walk the whole payload
    # looking for some (a tenth of a connect storm's CPU, a snapshot being large).
    encoded = manager.server.packet_class(
        socketio.packet.EVENT, namespace=namespace, data=[event, *data], binary=False
    ).encode()
    packets = [
        engineio.packet.Packet(engineio.packet.MESSAGE, part)
        for part in (encoded if isinstance(encoded, list) else [encoded])
    ]
    send = manager.server._send_eio_packet
    for sid, eio_sid in list(manager.get_participants(namespace, room)):
        if sid in skipped:
            continue
        for packet in packets:
            try:
                await send(eio_sid, packet)
            except Exception:  # closed meanwhile: its disconnect handler is on its way
                logger.debug("No emit to closed socket %s", sid, exc_info=True)


class LocalManager(_AcceptedSocketsOnly, socketio.AsyncManager):
    """One process alone: rooms in memory."""

    async def emit(
        self, event, data, namespace, room=None, skip_sid=None, callback=None, to=None, **kwargs
    ):
        if callback is not None:
            return await super().emit(
                event, data, namespace, room=room, skip_sid=skip_sid, callback=callback, to=to
            )
        await _fan_out(self, event, data, namespace=namespace, room=to or room, skip_sid=skip_sid)
        return None


class RedisPubSubManager(_AcceptedSocketsOnly, socketio.AsyncRedisManager):
    """Processes sharing Redis pub/sub, with a way for a new socket to wait until this
    process has caught up with what the others published, and a prompt, announced recovery
    when the subscription is cut.

    The listener subscribes in a background task started by the first connection, and then
    handles messages one by one, some time after they were published. Until it is subscribed,
    what others publish never arrives here; while it lags, what they published before a
    socket came may reach that socket after its welcome. So `connect` waits for
    `caught_up()` before accepting a socket.

    When Redis goes away (a restart, a network cut), whatever was published until this
    process subscribes again is lost for its sockets, which stay connected and would never
    know. The listener here retries within `LISTEN_RETRY_MAX_SECONDS` (python-socketio's own
    waits up to a minute), and once it has caught up again it runs the `on_recovered`
    callbacks, which tell this process's sockets to fetch what they may have missed.
    """

    def __init__(self, url: str, *, channel: str, timeout: float | None = None) -> None:
        super().__init__(url, channel=channel, json=fast_json)  # its client: _redis_connect
        self._timeout = timeout
        # Probes of this process on their way, as the listener receives them -> their waiters.
        self._probes: dict[bytes, asyncio.Future[None]] = {}
        # When the subscription was lost (monotonic), None while it holds.
        self.lost_since: float | None = None
        self.on_recovered: list[Callable[[], Awaitable[None]]] = []
        self._recovering: set[asyncio.Task] = set()
        self._pubsub: Any = None  # the listener's current subscription
        self._subscriptions = 0  # how many the listener made

    def _redis_connect(self) -> None:
        """python-socketio's client for publishing, on a pool whose calls wait for a free
        connection instead of failing (`shared_redis`)."""
        self.redis = shared_redis(self.redis_url, timeout=self._timeout)
        self.pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        self.connected = True

    async def emit(
        self,
        event,
        data,
        namespace=None,
        room=None,
        skip_sid=None,
        callback=None,
        to=None,
        **kwargs,
    ):
        if kwargs.get("ignore_queue") and callback is None:  # this process's sockets only
            await _fan_out(
                self, event, data, namespace=namespace or "/", room=to or room, skip_sid=skip_sid
            )
            return None
        return await super().emit(
            event, data, namespace, room=room, skip_sid=skip_sid, callback=callback, to=to, **kwargs
        )

    async def _handle_emit(self, message: dict[str, Any]) -> None:
        """An emit published by a process (this one too), delivered to this one's sockets."""
        if message.get("callback") is not None or message.get("binary"):
            await super()._handle_emit(message)
            return
        data = message["data"]
        # Published as a list of arguments: one is the payload itself, several a tuple.
        data = data[0] if len(data) == 1 else tuple(data)
        await _fan_out(
            self,
            message["event"],
            data,
            namespace=message.get("namespace") or "/",
            room=message.get("room"),
            skip_sid=message.get("skip_sid"),
        )

    async def _subscription(self) -> AsyncIterator[dict[str, Any]]:
        """Pub/sub messages of the channel, subscribing again (each time on a new connection)
        whenever the connection fails; see the class docstring."""
        delay = LISTEN_RETRY_MIN_SECONDS
        while True:
            client = aioredis.Redis.from_url(
                self.redis_url,
                socket_connect_timeout=self._timeout,
                socket_timeout=self._timeout,  # not for the wait for messages, which blocks
            )
            pubsub = self._pubsub = client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                self._subscriptions += 1
                if self.lost_since is not None:
                    self._start_recovery(self._subscriptions)
                delay = LISTEN_RETRY_MIN_SECONDS
                async for message in pubsub.listen():
                    yield message
                raise ConnectionError("the subscription was closed")
            except asyncio.CancelledError:
                raise
            except Exception as error:
                if self.lost_since is None:
                    self.lost_since = time.monotonic()
                    logger.warning(
                        "Socket.IO lost its Redis subscription (%s): pushes to this process's "
                        "sockets are lost until it is back, then they are told to resync",
                        error,
                    )
            finally:
                await _quietly_close(pubsub, client)
            await asyncio.sleep(delay)
            delay = min(delay * 2, LISTEN_RETRY_MAX_SECONDS)

    def _start_recovery(self, subscription: int) -> None:
        task = asyncio.get_running_loop().create_task(self._recover(subscription))
        self._recovering.add(task)
        task.add_done_callback(self._recovering.discard)

    async def _recover(self, subscription: int) -> None:
        # Subscribed again once a probe comes back: from then on nothing more is lost. A
        # subscription that does not deliver is cut, and the next one recovers.
        caught_up = await self.caught_up()
        if subscription != self._subscriptions or self.lost_since is None:
            return
        if not caught_up:
            await _quietly_close(self._pubsub, None)
            return
        lasted, self.lost_since = time.monotonic() - self.lost_since, None
        logger.warning(
            "Socket.IO's Redis subscription is back after %.1f s; telling this process's "
            "sockets to resync",
            lasted,
        )
        for callback in self.on_recovered:
            try:
                await callback()
            except Exception:
                logger.exception("Socket.IO recovery step failed")

    async def check_subscription(self, timeout: float = CATCH_UP_SECONDS) -> bool:
        """Whether the subscription delivers (a probe comes back). If it does not while it
        seems to hold (a connection that died without a word), it is cut, so the listener
        subscribes again and recovers as from any other cut."""
        if self.lost_since is not None or self._pubsub is None:
            return False
        if await self.caught_up(timeout):
            return True
        if self.lost_since is None:
            logger.warning("Socket.IO's Redis subscription does not deliver: subscribing again")
            await _quietly_close(self._pubsub, None)
        return False

    async def _listen(self):
        channel = self.channel.encode()
        async for message in self._subscription():
            if message["channel"] != channel or message["type"] != "message":
                continue
            data = message["data"]
            if self._probes:
                arrived = self._probes.pop(data, None)
                if arrived is not None:
                    if not arrived.done():
                        arrived.set_result(None)
                    continue
            yield data

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


async def _quietly_close(pubsub: Any, client: aioredis.Redis | None) -> None:
    try:
        await pubsub.aclose()
        if client is not None:
            await client.aclose()
    except Exception:  # a connection that is already broken
        logger.debug("Closing a broken Redis subscription failed", exc_info=True)


def _build() -> tuple[socketio.AsyncServer, Presence]:
    if settings.REDIS_URL:
        manager: socketio.AsyncManager = RedisPubSubManager(
            settings.REDIS_URL, channel=redis_channel(), timeout=settings.REDIS_TIMEOUT_SECONDS
        )
        presence: Presence = RedisPresence(
            settings.REDIS_URL,
            prefix=presence_prefix(),
            process_id=manager.host_id,
            ttl_seconds=PRESENCE_TTL_SECONDS,
            timeout=settings.REDIS_TIMEOUT_SECONDS,
        )
    else:
        manager = LocalManager()
        presence = MemoryPresence()
    server = socketio.AsyncServer(
        async_mode="asgi",
        client_manager=manager,
        cors_allowed_origins=_allowed_origins(),
        json=fast_json,
    )
    return server, presence


@cache
def _built() -> tuple[socketio.AsyncServer, Presence]:
    return _build()


def __getattr__(name: str) -> Any:
    """`sio` and `presence`, built on first use (by the events, which the ASGI app imports):
    a process that only publishes (gunicorn, a command, a push) never builds them."""
    if name == "sio":
        return _built()[0]
    if name == "presence":
        return _built()[1]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@cache
def _presence_message() -> tuple[str, str]:
    return presence_message(namespace=NAMESPACE, host_id="presence")


async def _send_presence(user_ids: list[int]) -> None:
    """One `presence` frame to every socket of every process: through Redis, read and
    published in one atomic step; alone, from this process's memory."""
    global _everyone_needs_activities
    server, store = _built()
    if isinstance(store, RedisPresence):
        await store.publish_state(
            user_ids, channel=server.manager.channel, message=_presence_message()
        )
    else:
        await server.emit("presence", await store.state_of(user_ids), namespace=NAMESPACE)
    if _everyone_needs_activities:
        _everyone_needs_activities = False
        await server.emit("activities", await store.activities(), namespace=NAMESPACE)


async def _send_snapshot(sids: list[str]) -> None:
    """`users_online` and `activities` to these new sockets: through Redis, read and
    published in one atomic step, in order with the `presence` frames; alone, from memory."""
    server, store = _built()
    if isinstance(store, RedisPresence):
        host = {"namespace": NAMESPACE, "host_id": "presence", "room": sids}
        await store.publish_snapshot(
            channel=server.manager.channel,
            users_online=emit_message("users_online", **host),
            activities=emit_message("activities", **host),
        )
    else:
        await server.emit("users_online", await store.online(), to=sids, namespace=NAMESPACE)
        await server.emit("activities", await store.activities(), to=sids, namespace=NAMESPACE)


@cache
def _welcomes() -> WelcomeBatch:
    return WelcomeBatch(_send_snapshot)


async def welcome(sid: str) -> None:
    """Send a new, accepted socket the whole picture of presence (with the other sockets
    accepted at the same moment: one read, one encoding)."""
    await _welcomes().welcome(sid)


@cache
def _batch() -> PresenceBatch:
    return PresenceBatch(_send_presence, window=settings.SOCKETIO_PRESENCE_BATCH_SECONDS)


# With the legacy events, the whole `activities` list goes to everyone with the next batch.
_everyone_needs_activities = False


def presence_changed(user_ids: Iterable[int], *, came_online: bool = False) -> None:
    """These users' presence or activity changed: everyone gets their state with the next
    `presence` batch. With the legacy events on, a user who came online also sends everyone
    the whole `activities` list with that batch (the Node original sent it at each connect).
    Call on the serving loop."""
    global _everyone_needs_activities
    if came_online and settings.SOCKETIO_LEGACY_PRESENCE_EVENTS:
        _everyone_needs_activities = True
    _batch().mark(user_ids)


async def flush_presence() -> None:
    """Send the batch now (this process is stopping)."""
    await _batch().flush()


async def caught_up() -> bool:
    """Whether this process has handled what other processes published until now (always,
    without Redis); see `RedisPubSubManager.caught_up`."""
    manager = _built()[0].manager
    if isinstance(manager, RedisPubSubManager):
        return await manager.caught_up()
    return True


async def check_subscription() -> bool:
    """Whether this process hears what is published (always without Redis); a subscription
    that stopped delivering is cut and made again (`RedisPubSubManager.check_subscription`)."""
    manager = _built()[0].manager
    if isinstance(manager, RedisPubSubManager):
        return await manager.check_subscription()
    return True


def on_recovered(callback: Callable[[], Awaitable[None]]) -> None:
    """Run `callback` each time this process's Redis subscription is back after a cut (never
    without Redis); see `RedisPubSubManager`."""
    manager = _built()[0].manager
    if isinstance(manager, RedisPubSubManager):
        manager.on_recovered.append(callback)


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
