"""Who is online and what they are doing, counted per socket so that several tabs count once.

`MemoryPresence` serves one process alone. `RedisPresence` is shared by every process on one
Redis: a hash of user id -> open sockets across all processes, a hash of activities, and, so
that a process that dies without saying goodbye does not leave its users online forever, a
hash per process of the sockets it holds plus a sorted set of each process's last heartbeat.
Any live process that sees a heartbeat older than the TTL takes that process's sockets off the
counts (one atomic script, so only one process announces the users who went offline). A live
process that was wrongly taken for dead (a long pause) puts its sockets back on its next beat.
"""

import json
from collections import Counter
from typing import Any, Protocol
from urllib.parse import urlparse

import redis
from redis import asyncio as aioredis
from redis.exceptions import RedisError

from core.cache import reconnect_once

IDLE = "Idle"

# The `presence` event (docs/API.md, 8): users online now with their activity, users offline.
PresenceState = dict[str, list]


class Presence(Protocol):
    async def add(self, user_id: int) -> bool:
        """Count one more socket of `user_id`; True when the user just came online."""

    async def remove(self, user_id: int) -> bool:
        """Count one socket less; True when the user's last socket just left."""

    async def online(self) -> list[int]: ...

    async def set_activity(self, user_id: int, activity: str) -> bool:
        """Store the activity of an online user; False when the user is not online."""

    async def activities(self) -> list[list[int | str]]: ...

    async def state_of(self, user_ids: list[int]) -> "PresenceState":
        """The `presence` event's payload for these users, as they are now."""

    async def heartbeat(self, *, rewrite: bool = False) -> tuple[list[int], list[int]]:
        """Keep this process alive; return (users gone with dead processes, users back).

        With `rewrite`, write this process's sockets to the shared store again (after the
        store may have lost them)."""

    async def stop(self) -> list[int]:
        """This process is leaving: drop its sockets; return the users that went offline."""


class MemoryPresence:
    """One process alone: plain dictionaries."""

    def __init__(self) -> None:
        self._sockets: Counter[int] = Counter()
        self._activities: dict[int, str] = {}

    async def add(self, user_id: int) -> bool:
        self._sockets[user_id] += 1
        if self._sockets[user_id] == 1:
            self._activities[user_id] = IDLE
            return True
        return False

    async def remove(self, user_id: int) -> bool:
        if self._sockets[user_id] <= 0:
            return False
        self._sockets[user_id] -= 1
        if self._sockets[user_id] == 0:
            del self._sockets[user_id]
            self._activities.pop(user_id, None)
            return True
        return False

    async def online(self) -> list[int]:
        return sorted(self._sockets)

    def holds(self, user_id: int) -> bool:
        return self._sockets[user_id] > 0

    def held(self) -> list[tuple[int, int, str]]:
        """(user, sockets, activity) of every user online here."""
        return [
            (user_id, count, self._activities[user_id]) for user_id, count in self._sockets.items()
        ]

    async def set_activity(self, user_id: int, activity: str) -> bool:
        if user_id not in self._sockets:
            return False
        self._activities[user_id] = activity
        return True

    async def activities(self) -> list[list[int | str]]:
        return [[user_id, activity] for user_id, activity in sorted(self._activities.items())]

    async def state_of(self, user_ids: list[int]) -> PresenceState:
        online = [
            [user_id, self._activities[user_id]] for user_id in user_ids if user_id in self._sockets
        ]
        offline = [user_id for user_id in user_ids if user_id not in self._sockets]
        return {"online": online, "offline": offline}

    async def heartbeat(self, *, rewrite: bool = False) -> tuple[list[int], list[int]]:
        return [], []

    async def stop(self) -> list[int]:
        gone = sorted(self._sockets)
        self._sockets.clear()
        self._activities.clear()
        return gone


# KEYS: online, activities, processes, this process's hash. ARGV: user, process, idle.
# Returns the user's sockets across processes, or -1 when this process is not registered.
_ADD = """
if not redis.call('ZSCORE', KEYS[3], ARGV[2]) then return -1 end
redis.call('HINCRBY', KEYS[4], ARGV[1], 1)
local total = redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
if total == 1 then redis.call('HSET', KEYS[2], ARGV[1], ARGV[3]) end
return total
"""

# Same KEYS. ARGV: user. Returns the user's sockets left, or -1 when there was nothing to undo.
_REMOVE = """
local mine = redis.call('HINCRBY', KEYS[4], ARGV[1], -1)
if mine <= 0 then redis.call('HDEL', KEYS[4], ARGV[1]) end
if mine < 0 then return -1 end
local total = redis.call('HINCRBY', KEYS[1], ARGV[1], -1)
if total <= 0 then
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('HDEL', KEYS[2], ARGV[1])
  return 0
end
return total
"""

# KEYS: online, activities. ARGV: user, activity.
_SET_ACTIVITY = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return 1
"""

# Takes processes off the counts. KEYS: online, activities, processes. ARGV: process key
# prefix, then either "stale" and the TTL in seconds, or "only" and one process id.
# Returns the users who went offline.
_DROP = """
local victims
if ARGV[2] == 'stale' then
  local now = redis.call('TIME')
  now = tonumber(now[1]) + tonumber(now[2]) / 1000000
  victims = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now - tonumber(ARGV[3]))
else
  victims = {ARGV[3]}
end
local gone = {}
for _, process in ipairs(victims) do
  local key = ARGV[1] .. process
  local held = redis.call('HGETALL', key)
  for i = 1, #held, 2 do
    local total = redis.call('HINCRBY', KEYS[1], held[i], -tonumber(held[i + 1]))
    if total <= 0 then
      redis.call('HDEL', KEYS[1], held[i])
      redis.call('HDEL', KEYS[2], held[i])
      table.insert(gone, held[i])
    end
  end
  redis.call('DEL', key)
  redis.call('ZREM', KEYS[3], process)
end
return gone
"""

# KEYS: online, activities, processes, this process's hash. ARGV: process, "force" or "",
# then triples of user, sockets held here and the activity to restore. When this process is
# not registered (its first beat, after a sweep, after Redis lost its data) or when forced
# (a change here may not have reached Redis), its sockets are written again: what its hash
# counted is taken off, what it holds now is added. Returns {users who came online, users
# who went offline}.
_BEAT = """
local back, gone = {}, {}
if ARGV[2] == 'force' or not redis.call('ZSCORE', KEYS[3], ARGV[1]) then
  local dropped = {}
  local old = redis.call('HGETALL', KEYS[4])
  for i = 1, #old, 2 do
    if redis.call('HINCRBY', KEYS[1], old[i], -tonumber(old[i + 1])) <= 0 then
      redis.call('HDEL', KEYS[1], old[i])
      dropped[old[i]] = true
    end
  end
  redis.call('DEL', KEYS[4])
  for i = 3, #ARGV, 3 do
    local user, held = ARGV[i], tonumber(ARGV[i + 1])
    redis.call('HSET', KEYS[4], user, held)
    if redis.call('HINCRBY', KEYS[1], user, held) == held then
      if dropped[user] then
        dropped[user] = nil
      else
        redis.call('HSETNX', KEYS[2], user, ARGV[i + 2])
        table.insert(back, user)
      end
    end
  end
  for user in pairs(dropped) do
    redis.call('HDEL', KEYS[2], user)
    table.insert(gone, user)
  end
end
local now = redis.call('TIME')
redis.call('ZADD', KEYS[3], tonumber(now[1]) + tonumber(now[2]) / 1000000, ARGV[1])
return {back, gone}
"""


# Publishes the `presence` event for some users, read in the same atomic step as it is sent:
# Redis runs scripts one at a time and delivers what they publish in order, so across every
# process the last frame about a user carries that user's latest state. KEYS: online,
# activities. ARGV: channel, the pub/sub message before the payload and after it, the idle
# activity, then user ids. The payload is written here: cjson would turn an empty list into {}.
_PUBLISH_STATE = """
local online, offline = {}, {}
for i = 5, #ARGV do
  local user = ARGV[i]
  if redis.call('HEXISTS', KEYS[1], user) == 1 then
    local activity = redis.call('HGET', KEYS[2], user) or ARGV[4]
    table.insert(online, '[' .. user .. ',' .. cjson.encode(activity) .. ']')
  else
    table.insert(offline, user)
  end
end
local payload = '{"online":[' .. table.concat(online, ',') .. '],"offline":[' ..
  table.concat(offline, ',') .. ']}'
return redis.call('PUBLISH', ARGV[1], ARGV[2] .. payload .. ARGV[3])
"""

_PAYLOAD_MARK = "@payload@"


def emit_message(
    event: str, *, namespace: str, host_id: str, room: str | list[str] | None = None
) -> tuple[str, str]:
    """The pub/sub message of python-socketio's Redis manager that emits `event` to `room`
    (everyone when None), cut where the payload goes. `host_id` names no real process, so
    every process delivers it, the sender's included."""
    message = {
        "method": "emit",
        "event": event,
        "data": [_PAYLOAD_MARK],
        "binary": False,
        "namespace": namespace,
        "room": room,
        "skip_sid": None,
        "callback": None,
        "host_id": host_id,
    }
    head, tail = json.dumps(message).split(json.dumps(_PAYLOAD_MARK))
    return head, tail


def presence_message(*, namespace: str, host_id: str) -> tuple[str, str]:
    """`emit_message` of the `presence` event to everyone."""
    return emit_message("presence", namespace=namespace, host_id=host_id)


# The whole picture for new sockets, read and published in one atomic step, so that it takes
# its place among the `presence` frames (_PUBLISH_STATE) in Redis's one order: no frame read
# before it reaches them after it. KEYS: online, activities. ARGV: channel, the messages of
# `users_online` and of `activities` (each cut in two around the payload), the idle activity.
_PUBLISH_SNAPSHOT = """
local users = redis.call('HKEYS', KEYS[1])
for i = 1, #users do users[i] = tonumber(users[i]) end
table.sort(users)
local pairs_ = {}
for i = 1, #users do
  local activity = redis.call('HGET', KEYS[2], users[i]) or ARGV[6]
  pairs_[i] = '[' .. users[i] .. ',' .. cjson.encode(activity) .. ']'
end
redis.call('PUBLISH', ARGV[1], ARGV[2] .. '[' .. table.concat(users, ',') .. ']' .. ARGV[3])
return redis.call('PUBLISH', ARGV[1], ARGV[4] .. '[' .. table.concat(pairs_, ',') .. ']' .. ARGV[5])
"""


def _publish_state_arguments(
    prefix: str, channel: str, message: tuple[str, str], user_ids: list[int]
) -> list[object]:
    keys = [_online_key(prefix), _activities_key(prefix)]
    return [_PUBLISH_STATE, len(keys), *keys, channel, *message, IDLE, *user_ids]


def publish_shared_state(
    client: redis.Redis, *, prefix: str, channel: str, message: tuple[str, str], user_ids: list[int]
) -> None:
    """`RedisPresence.publish_state` for synchronous code in any process (a gunicorn worker)."""
    client.eval(*_publish_state_arguments(prefix, channel, message, user_ids))


# Connections of one process's asyncio Redis client. A connect storm asks Redis for a lot at
# once (200 handshakes in flight): beyond these, a call waits for a free connection, at most
# REDIS_POOL_WAIT_SECONDS, where redis-py's plain pool fails at once (MaxConnectionsError),
# refusing sockets and leaving the presence of closed ones behind.
REDIS_CONNECTIONS = 32
REDIS_POOL_WAIT_SECONDS = 5.0


def shared_redis(
    url: str, *, timeout: float | None, decode_responses: bool = False
) -> aioredis.Redis:
    """An asyncio Redis client whose calls wait for one of REDIS_CONNECTIONS connections."""
    pool = aioredis.BlockingConnectionPool.from_url(
        url,
        max_connections=REDIS_CONNECTIONS,
        timeout=REDIS_POOL_WAIT_SECONDS,
        decode_responses=decode_responses,
        socket_connect_timeout=timeout,
        socket_timeout=timeout,
        retry=reconnect_once(for_asyncio=True),
    )
    return aioredis.Redis.from_pool(pool)


def _online_key(prefix: str) -> str:
    return f"{prefix}:online"


def _activities_key(prefix: str) -> str:
    return f"{prefix}:activities"


def set_shared_activity(client: redis.Redis, *, prefix: str, user_id: int, activity: str) -> bool:
    """`RedisPresence.set_activity` for synchronous code in any process, one that holds no
    socket too (a gunicorn worker): stored, and True, when the user is online anywhere."""
    keys = [_online_key(prefix), _activities_key(prefix)]
    return bool(client.eval(_SET_ACTIVITY, len(keys), *keys, user_id, activity))


def redis_db_number(url: str) -> str:
    """The database number in a Redis URL ("0" when absent)."""
    return urlparse(url).path.strip("/") or "0"


class RedisPresence:
    """Shared by all processes on one Redis; see the module docstring for the layout.

    Redis may lose everything (a restart without persistence) or miss a change (a call that
    failed half-way): this process keeps what it holds (sockets per user, and the activities
    of those users) and writes it again on its next beat, forcibly after any failed call.
    """

    def __init__(
        self,
        url: str,
        *,
        prefix: str,
        process_id: str,
        ttl_seconds: int,
        timeout: float | None = None,
    ) -> None:
        self._url = url
        self._timeout = timeout
        self._redis: aioredis.Redis | None = None
        self.process_id = process_id
        self.ttl_seconds = ttl_seconds
        self._prefix = prefix
        self._online = _online_key(prefix)
        self._activities = _activities_key(prefix)
        self._processes = f"{prefix}:processes"
        self._process_prefix = f"{prefix}:process:"
        self._mine = self._process_prefix + process_id
        # This process's own sockets per user and their last activities, counted as a process
        # alone counts them, to put back after a wrongful sweep or a lost Redis.
        self._here = MemoryPresence()
        # Users put back (or gone) while adding a socket, announced with the next heartbeat.
        self._back: list[int] = []
        self._gone: list[int] = []
        # A call failed: Redis may not hold what this process holds; rewrite at the next beat.
        self._dirty = False

    @property
    def redis(self) -> aioredis.Redis:
        # Made on first use, so that the client belongs to the event loop that uses it.
        if self._redis is None:
            self._redis = shared_redis(self._url, timeout=self._timeout, decode_responses=True)
        return self._redis

    def _keys(self) -> list[str]:
        return [self._online, self._activities, self._processes, self._mine]

    async def _eval(self, script: str, keys: list[str], *args: object) -> Any:
        try:
            return await self.redis.eval(script, len(keys), *keys, *args)
        except RedisError:
            self._dirty = True
            raise

    async def add(self, user_id: int) -> bool:
        total = int(await self._add(user_id))
        if total == -1:  # first socket of this process, or it was taken for dead
            back, gone = await self._beat()
            self._back += back
            self._gone += gone
            total = int(await self._add(user_id))
        await self._here.add(user_id)
        return total == 1

    async def _add(self, user_id: int) -> int:
        return await self._eval(_ADD, self._keys(), user_id, self.process_id, IDLE)

    async def _beat(self, *, force: bool = False) -> tuple[list[int], list[int]]:
        held = [value for triple in self._here.held() for value in triple]
        self._dirty = False
        back, gone = await self._eval(
            _BEAT, self._keys(), self.process_id, "force" if force else "", *held
        )
        return [int(user_id) for user_id in back], [int(user_id) for user_id in gone]

    async def remove(self, user_id: int) -> bool:
        if not self._here.holds(user_id):
            return False
        await self._here.remove(user_id)
        left = await self._eval(_REMOVE, self._keys(), user_id)
        return int(left) == 0

    async def online(self) -> list[int]:
        return sorted(int(user_id) for user_id in await self.redis.hkeys(self._online))

    async def set_activity(self, user_id: int, activity: str) -> bool:
        await self._here.set_activity(user_id, activity)
        stored = await self._eval(
            _SET_ACTIVITY, [self._online, self._activities], user_id, activity
        )
        return bool(stored)

    async def activities(self) -> list[list[int | str]]:
        stored = await self.redis.hgetall(self._activities)
        return sorted([int(user_id), activity] for user_id, activity in stored.items())

    async def state_of(self, user_ids: list[int]) -> PresenceState:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hmget(self._online, user_ids)
            pipe.hmget(self._activities, user_ids)
            counts, activities = await pipe.execute()
        online = [
            [user_id, activity or IDLE]
            for user_id, count, activity in zip(user_ids, counts, activities, strict=True)
            if count is not None
        ]
        offline = [
            user_id for user_id, count in zip(user_ids, counts, strict=True) if count is None
        ]
        return {"online": online, "offline": offline}

    async def publish_state(
        self, user_ids: list[int], *, channel: str, message: tuple[str, str]
    ) -> None:
        """Publish the `presence` event for these users on the Socket.IO channel, read and sent
        in one atomic step (see `_PUBLISH_STATE`)."""
        script, *arguments = _publish_state_arguments(self._prefix, channel, message, user_ids)
        await self.redis.eval(script, *arguments)

    async def publish_snapshot(
        self, *, channel: str, users_online: tuple[str, str], activities: tuple[str, str]
    ) -> None:
        """Publish `users_online` and `activities` as they are now, to the rooms the two
        messages name (new sockets), in one atomic step (see `_PUBLISH_SNAPSHOT`)."""
        keys = [self._online, self._activities]
        await self.redis.eval(
            _PUBLISH_SNAPSHOT, len(keys), *keys, channel, *users_online, *activities, IDLE
        )

    async def _drop(self, mode: str, argument: str | int) -> list[int]:
        gone = await self._eval(
            _DROP,
            [self._online, self._activities, self._processes],
            self._process_prefix,
            mode,
            argument,
        )
        return sorted(int(user_id) for user_id in gone)

    async def heartbeat(self, *, rewrite: bool = False) -> tuple[list[int], list[int]]:
        """Beat; with `rewrite` (or after a failed call) write this process's sockets again."""
        back, gone = await self._beat(force=rewrite or self._dirty)
        back, self._back = self._back + back, []
        gone, self._gone = self._gone + gone, []
        gone += await self._drop("stale", self.ttl_seconds)
        # A user both gone and back (dropped, then put back by another beat) changed nothing.
        return sorted(set(gone) - set(back)), sorted(set(back) - set(gone))

    async def stop(self) -> list[int]:
        await self._here.stop()
        gone = await self._drop("only", self.process_id)
        await self.redis.aclose()
        self._redis = None
        return gone
