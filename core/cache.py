"""The Django cache on Redis, falling back to this process's memory while Redis is away.

`FallbackRedisCache` is Django's `RedisCache` (settings: `CACHES` with `REDIS_URL`). When an
operation finds Redis unreachable (a refused connection, a timeout), it is answered from a
local-memory cache instead, so callers (the message and registration limits, the stats cache)
never see the outage: counts and cached values are then per process until Redis answers
again. One warning is logged when an outage begins and one line when it ends, not one per
request. While Redis is down, it is tried again at most once every `RETRY_SECONDS` (an
option, default 1 s) so that a host that swallows packets costs one connect timeout per
interval, not one per request; every other call goes straight to memory. What was kept in
memory meanwhile is not copied to Redis.

The outage state is shared by the whole process (Django makes one cache object per thread).
"""

import functools
import logging
import threading
import time
from typing import Any

import redis
from django.core.cache import caches
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.utils.functional import cached_property
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import NoBackoff
from redis.commands.core import Script
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

logger = logging.getLogger(__name__)

# What an unreachable, restarting or overloaded Redis raises (redis-py wraps socket errors).
REDIS_UNREACHABLE = (RedisConnectionError, RedisTimeoutError)
DEFAULT_RETRY_SECONDS = 1.0


def reconnect_once(*, for_asyncio: bool = False) -> Retry | AsyncRetry:
    """redis-py's retry policy for a connection that Redis closed (a restart): reconnect and
    send again, once. Timeouts are not retried: the command may have run.

    A `redis.asyncio` client (presence, the Socket.IO manager) takes the policy's asyncio
    class, whose retries are awaited; `for_asyncio` picks it."""
    policy = AsyncRetry if for_asyncio else Retry
    return policy(NoBackoff(), 1, supported_errors=(RedisConnectionError,))


class _Outage:
    """Whether one Redis location is reachable, for the whole process."""

    def __init__(self, location: str, retry_seconds: float) -> None:
        self.location = location
        self.retry_seconds = retry_seconds
        self._lock = threading.Lock()
        self.down_since: float | None = None
        self._next_try = 0.0

    def worth_trying(self) -> bool:
        """True when Redis is up, or when it is time for one caller to try it again."""
        if self.down_since is None:
            return True
        with self._lock:
            now = time.monotonic()
            if now < self._next_try:
                return False
            self._next_try = now + self.retry_seconds
            return True

    def went_down(self, error: Exception) -> None:
        with self._lock:
            self._next_try = time.monotonic() + self.retry_seconds
            if self.down_since is not None:
                return
            self.down_since = time.monotonic()
        logger.warning(
            "Redis at %s is unreachable (%s): the cache and the rate limits use this "
            "process's memory until it answers again",
            self.location,
            error,
        )

    def came_back(self) -> None:
        if self.down_since is None:
            return
        with self._lock:
            if self.down_since is None:
                return
            lasted, self.down_since = time.monotonic() - self.down_since, None
        logger.warning(
            "Redis at %s answers again after %.1f s: the cache is shared again",
            self.location,
            lasted,
        )


_outages: dict[str, _Outage] = {}
_outages_lock = threading.Lock()


def _outage_for(location: str, retry_seconds: float) -> _Outage:
    with _outages_lock:
        return _outages.setdefault(location, _Outage(location, retry_seconds))


# Redis connection pools of the process, by location: one for every cache object of it.
_pools: dict[str, dict[int, Any]] = {}


def _shared_pools(location: str) -> dict[int, Any]:
    with _outages_lock:
        return _pools.setdefault(location, {})


class FallbackRedisCache(RedisCache):
    """`RedisCache` that answers from local memory while Redis is unreachable.

    OPTIONS are those of Django's Redis cache (passed to redis-py's connection pool, e.g.
    `socket_connect_timeout`, `socket_timeout`), plus `RETRY_SECONDS`. A pooled connection
    that Redis closed (it restarted) is reopened once before Redis is taken for down.
    """

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        options = dict(params.get("OPTIONS") or {})
        retry_seconds = float(options.pop("RETRY_SECONDS", DEFAULT_RETRY_SECONDS))
        options.setdefault("retry", reconnect_once())
        super().__init__(server, {**params, "OPTIONS": options})
        location = server if isinstance(server, str) else ",".join(server)
        self._location = location
        self._outage = _outage_for(location, retry_seconds)
        # Same timeouts, prefix and versions as the Redis side; one store per process.
        local = {key: value for key, value in params.items() if key != "OPTIONS"}
        self._memory = LocMemCache(f"redis-fallback:{location}", local)

    @cached_property
    def _cache(self) -> RedisCacheClient:
        # Django makes a cache object per thread and, under ASGI, per task (its caches are
        # context-local): each would open its own pool, and a Socket.IO event or an ASGI
        # request would connect to Redis afresh (a fifth of a socket message's time). One
        # pool per location serves them all; redis-py's pools are thread-safe.
        client = self._class(self._servers, **self._options)
        client._pools = _shared_pools(self._location)
        return client

    @property
    def redis_is_down(self) -> bool:
        """Whether the last call that tried Redis found it unreachable (this process)."""
        return self._outage.down_since is not None

    def _either(self, method: str, *args: Any, **kwargs: Any) -> Any:
        if self._outage.worth_trying():
            try:
                result = getattr(super(), method)(*args, **kwargs)
            except REDIS_UNREACHABLE as error:
                self._outage.went_down(error)
            else:
                self._outage.came_back()
                return result
        return getattr(self._memory, method)(*args, **kwargs)

    def ping(self) -> bool:
        """Ask Redis itself (whatever the outage state says); True when it answers."""
        try:
            self._cache.get_client(None).ping()
        except REDIS_UNREACHABLE as error:
            self._outage.went_down(error)
            return False
        self._outage.came_back()
        return True

    def incr_in_window(self, key: str, timeout: int) -> int:
        """Count one more under `key`, a counter that lives `timeout` seconds from its first
        count; the count now. On Redis one atomic round trip (`_INCR_IN_WINDOW`) where
        Django's `add` and `incr` take three (a SET NX, an EXISTS, an INCR)."""
        if self._outage.worth_trying():
            try:
                client = self._cache.get_client(key, write=True)
                count = self._incr_in_window_script(
                    keys=[self.make_and_validate_key(key)], args=[timeout], client=client
                )
            except REDIS_UNREACHABLE as error:
                self._outage.went_down(error)
            else:
                self._outage.came_back()
                return int(count)
        return incr_in_window(self._memory, key, timeout)

    @cached_property
    def _incr_in_window_script(self) -> Script:
        # Registered on any client: a call names its own, and loads the script when Redis
        # does not know it (after a restart).
        return self._cache.get_client(None).register_script(_INCR_IN_WINDOW)

    def add(self, *args: Any, **kwargs: Any) -> bool:
        return self._either("add", *args, **kwargs)

    def get(self, *args: Any, **kwargs: Any) -> Any:
        return self._either("get", *args, **kwargs)

    def set(self, *args: Any, **kwargs: Any) -> None:
        return self._either("set", *args, **kwargs)

    def touch(self, *args: Any, **kwargs: Any) -> bool:
        return self._either("touch", *args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> bool:
        return self._either("delete", *args, **kwargs)

    def get_many(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return self._either("get_many", *args, **kwargs)

    def has_key(self, *args: Any, **kwargs: Any) -> bool:
        return self._either("has_key", *args, **kwargs)

    def incr(self, *args: Any, **kwargs: Any) -> int:
        return self._either("incr", *args, **kwargs)

    def set_many(self, *args: Any, **kwargs: Any) -> list[str]:
        return self._either("set_many", *args, **kwargs)

    def delete_many(self, *args: Any, **kwargs: Any) -> None:
        return self._either("delete_many", *args, **kwargs)

    def clear(self) -> bool:
        self._memory.clear()
        return self._either("clear")


# INCR then, for a counter it just created, its expiry: together, so a counter never lives
# without one. Django's RedisCache stores integers as plain numbers: `get` reads this back.
_INCR_IN_WINDOW = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""


def incr_in_window(cache: BaseCache, key: str, timeout: int) -> int:
    """Count one more under `key` in `cache`, a counter that lives `timeout` seconds from its
    first count (a fixed window); the count now. Atomic on Redis and in local memory."""
    if isinstance(cache, FallbackRedisCache):
        return cache.incr_in_window(key, timeout)
    # add() opens the window only once; incr() is atomic in local memory.
    cache.add(key, 0, timeout=timeout)
    try:
        return cache.incr(key)
    except ValueError:  # the window ended between add() and incr()
        cache.set(key, 1, timeout=timeout)
        return 1


def redis_answers(url: str, *, timeout: float) -> bool:
    """Whether the Redis at `url` answers a PING within `timeout` seconds (health checks).

    Through the default cache when it is this module's backend on that Redis (its connection
    pool, and its outage state learns the answer); otherwise with a client of its own.
    """
    backend = caches["default"]
    if isinstance(backend, FallbackRedisCache) and url in backend._servers:
        return backend.ping()
    try:
        return bool(_health_client(url, timeout).ping())
    except REDIS_UNREACHABLE:
        return False


@functools.cache
def _health_client(url: str, timeout: float) -> redis.Redis:
    return redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
